"""Pivot calls into (periods x entities) matrices, once; shape helpers shared by the scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from showcase_lib.analysis._timeseries import bucket, period_keys

from ._cells import Cells, cells
from ._config import TOTAL


def cost_matrix(
    df: pd.DataFrame,
    by: str | None = "customer_id",
    freq: str = "day",
    *,
    metric: str = "cost_usd",
) -> pd.DataFrame:
    """Pivot calls into a (periods x entities) matrix of summed ``metric``, zero-filled.

    Rows are every period of the UTC calendar from the first call's period to the last one's
    (``freq``: a period word or any fixed pandas offset alias, ``"10min"`` to ``"MS"``);
    columns are the values of ``by`` (or a single ``"total"`` column when ``by`` is None).
    ``metric="calls"`` counts calls.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-03"], utc=True),
        ...                       "customer_id": ["a", "b"], "cost_usd": [1.0, 2.0]})
        >>> cost_matrix(calls).values.tolist()
        [[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]
        >>> cost_matrix(calls, freq="12h").shape   # five 12-hour buckets, two customers
        (5, 2)
    """
    need = ["timestamp"] + ([metric] if metric != "calls" else []) + ([by] if by else [])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame (have {list(df.columns)})")
    c = cells(df, by, freq)
    if c is not None:
        return _cells_matrix(df, c, metric)
    return _groupby_matrix(df, by, freq, metric=metric)


def _cells_matrix(df: pd.DataFrame, c: Cells, metric: str) -> pd.DataFrame:
    """:func:`cost_matrix` from the calls' cells (integer arithmetic, no hashing)."""
    if metric == "calls":
        return c.frame(c.counts())
    return c.frame(c.sums(df[metric].to_numpy(dtype=float)))


def matrices(df: pd.DataFrame, by: str | None, freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cost_matrix(df, by, freq)`` and the aligned call counts (:func:`calls_matrix`), from
    one pass over the calls.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
        ...                       "customer_id": ["a", "a"], "cost_usd": [1.0, 2.0]})
        >>> [m.values.tolist() for m in matrices(calls, "customer_id", "day")]
        [[[3.0]], [[2.0]]]
    """
    c = cells(df, by, freq) if {"timestamp", "cost_usd", by or "timestamp"} <= set(df) else None
    if c is None:
        costs = cost_matrix(df, by, freq)
        return costs, calls_matrix(df, costs, by, freq)
    return _cells_matrix(df, c, "cost_usd"), _cells_matrix(df, c, "calls")


def _groupby_matrix(
    df: pd.DataFrame, by: str | None, freq: str, *, metric: str = "cost_usd"
) -> pd.DataFrame:
    """:func:`cost_matrix` by a pandas group-by on (period start, entity): any frame."""
    b = bucket(freq)
    keys = period_keys(df["timestamp"], b)
    values = np.ones(len(df)) if metric == "calls" else df[metric].to_numpy(dtype=float)
    entity = df[by].to_numpy() if by else np.full(len(df), TOTAL, dtype=object)
    if by and isinstance(df[by].dtype, pd.CategoricalDtype):
        entity = df[by].values
    s = pd.Series(values).groupby([keys, entity], observed=True, sort=True).sum()
    mat = s.unstack(fill_value=0.0) if len(s) else pd.DataFrame(dtype=float)
    mat.index = pd.DatetimeIndex(mat.index).tz_localize("UTC")
    if len(mat):
        mat = mat.reindex(b.calendar(mat.index[0], mat.index[-1]), fill_value=0.0)
    mat.index.name = "period"
    mat.columns = pd.Index([str(c) for c in mat.columns], name=by or "entity")
    return mat.astype(float)


def as_frame(x: pd.Series | pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """A Series as a one-column frame, and whether it was one."""
    if isinstance(x, pd.Series):
        return x.to_frame(x.name if x.name is not None else TOTAL), True
    return x, False


def back(frame: pd.DataFrame, was_series: bool):
    """Undo :func:`as_frame`."""
    return frame.iloc[:, 0] if was_series else frame


def long_rows(mask: np.ndarray, frame: pd.DataFrame, **cols: np.ndarray) -> pd.DataFrame:
    """Rows ``period, entity, <cols>`` of the cells of ``frame`` where ``mask`` is true."""
    ti, ci = np.nonzero(mask)
    out = pd.DataFrame({"period": frame.index[ti], "entity": frame.columns[ci].astype(str)})
    for name, arr in cols.items():
        out[name] = arr[ti, ci]
    return out.sort_values(["period", "entity"], kind="mergesort").reset_index(drop=True)


def calls_matrix(df: pd.DataFrame, costs: pd.DataFrame, by: str | None, freq: str) -> pd.DataFrame:
    """The call-count matrix aligned with the cost matrix ``costs`` (same periods, entities)."""
    return cost_matrix(df, by, freq, metric="calls").reindex(
        index=costs.index, columns=costs.columns, fill_value=0.0
    )


#: The metrics :func:`metric_matrix` pivots.
METRICS: tuple[str, ...] = ("cost_usd", "calls", "cost_per_call", "calls_per_request")


def requests_matrix(
    df: pd.DataFrame, like: pd.DataFrame, by: str | None, freq: str
) -> pd.DataFrame:
    """Distinct ``request_id`` values per (period, entity), aligned with ``like``."""
    if "request_id" not in df.columns:
        raise ValueError(f"column 'request_id' is missing from the frame (have {list(df.columns)})")
    keys = period_keys(df["timestamp"], bucket(freq))
    entity = df[by].astype(str).to_numpy() if by else np.full(len(df), TOTAL, dtype=object)
    request = pd.factorize(df["request_id"])[0]  # integer codes: fast to deduplicate
    pairs = pd.DataFrame({"period": keys, "entity": entity, "request": request}).drop_duplicates()
    n = pairs.groupby(["period", "entity"], observed=True).size().unstack(fill_value=0)
    n.index = pd.DatetimeIndex(n.index).tz_localize("UTC")
    n.columns = pd.Index([str(c) for c in n.columns])
    return n.reindex(index=like.index, columns=like.columns, fill_value=0).astype(float)


def metric_matrix(df: pd.DataFrame, by: str | None, freq: str, metric: str) -> pd.DataFrame:
    """The (periods x entities) matrix of ``metric`` (one of :data:`METRICS`): spend, calls,
    spend / calls or calls / distinct requests (for the two ratios a period without calls
    keeps the previous value, 0 before the first call)."""
    if metric in ("cost_usd", "calls"):
        return cost_matrix(df, by, freq, metric=metric)
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is not one of {', '.join(METRICS)}")
    costs = cost_matrix(df, by, freq)
    counts = calls_matrix(df, costs, by, freq)
    if metric == "cost_per_call":
        return ratio_matrix(costs, counts)
    return ratio_matrix(counts, requests_matrix(df, counts, by, freq))


def ratio_matrix(top: pd.DataFrame, bottom: pd.DataFrame) -> pd.DataFrame:
    """``top / bottom`` cell by cell; a cell whose ``bottom`` is 0 keeps the previous period's
    value (no calls, no evidence), 0 before the first one."""
    return (top / bottom.where(bottom > 0)).ffill().fillna(0.0)
