"""Alerts a team sets by hand (a threshold, a budget) and per-call cost outliers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from showcase_lib.analysis._timeseries import canonical_freq, period_keys

from ._budget_days import alerts_table, crossing_calls, daily_totals, day_cells
from ._config import (
    BUDGET_BASELINE_DAYS,
    BUDGET_FLOOR_USD,
    BUDGET_HEADROOM,
    MAD_CONSTANT,
    MEANAD_CONSTANT,
    TOTAL,
)
from ._matrix import as_frame, long_rows


def threshold_alerts(
    x: pd.Series | pd.DataFrame,
    threshold: float | Mapping[str, float] | pd.Series,
) -> pd.DataFrame:
    """Periods where spend exceeds a fixed threshold (one number, or one per entity).

    Example:
        >>> m = pd.DataFrame({"a": [5.0, 50.0], "b": [20.0, 1.0]},
        ...                  index=pd.date_range("2026-01-01", periods=2, tz="UTC"))
        >>> threshold_alerts(m, {"a": 10.0, "b": 10.0})[["entity", "actual"]].values.tolist()
        [['b', 20.0], ['a', 50.0]]
    """
    frame, _ = as_frame(x)
    if isinstance(threshold, Mapping | pd.Series):
        thr = pd.Series(threshold, dtype=float).reindex(frame.columns.astype(str))
        missing = thr[thr.isna()].index.tolist()
        if missing:
            raise ValueError(f"threshold has no value for entities {missing[:5]}")
        t = np.broadcast_to(thr.to_numpy(), frame.shape)
    else:
        t = np.full(frame.shape, float(threshold))
    values = frame.to_numpy(dtype=float)
    return long_rows(values > t, frame, actual=values, threshold=t, excess=values - t)


def run_rate_budgets(df: pd.DataFrame, by: str | None = "customer_id") -> pd.Series:
    """The book's monthly budget per entity: ``BUDGET_HEADROOM`` x the spend of the first
    ``BUDGET_BASELINE_DAYS`` days scaled to 30 days, at least ``BUDGET_FLOOR_USD``.

    Entities are listed in the order they first appear; ``by=None`` gives one budget for the
    total (index ``"total"``).

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=14, tz="UTC"),
        ...                       "customer_id": ["a"] * 14, "cost_usd": [7.0] * 14})
        >>> run_rate_budgets(calls).tolist()   # 1.5 x $7/day x 30 days
        [315.0]
    """
    need = ["timestamp", "cost_usd"] + ([by] if by else [])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame")
    first = df["timestamp"].min()
    early = (df["timestamp"] < first + pd.Timedelta(days=BUDGET_BASELINE_DAYS)).to_numpy()
    keys = df[by].astype(str) if by else pd.Series(TOTAL, index=df.index)
    order = pd.unique(keys.to_numpy())
    base = df["cost_usd"][early].groupby(keys[early].to_numpy()).sum()
    monthly = base.reindex(order, fill_value=0.0) * 30.0 / BUDGET_BASELINE_DAYS
    return (BUDGET_HEADROOM * monthly).clip(lower=BUDGET_FLOOR_USD).rename("budget_usd")


def budget_alerts(
    df: pd.DataFrame,
    budgets: float | Mapping[str, float] | pd.Series,
    *,
    by: str | None = "customer_id",
    levels: Sequence[float] = (0.5, 0.8, 1.0),
    freq: str = "month",
) -> pd.DataFrame:
    """When each entity's period-to-date spend first crossed each share of its budget
    (AWS Budgets style: 50%, 80%, 100%). ``budgets`` is one amount for all or one per entity.

    Returns one row per crossing: ``entity, period, level, budget, crossed_at`` (timestamp of
    the call that crossed; ties broken by ``call_id`` when present) and ``spend_at_crossing``.
    Daily totals find the crossing day first, so only that day's calls are sorted.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=4, freq="D", tz="UTC"),
        ...                       "customer_id": ["a"] * 4, "cost_usd": [3.0, 3.0, 3.0, 3.0]})
        >>> t = budget_alerts(calls, 10.0)
        >>> t[["level", "spend_at_crossing"]].values.tolist()
        [[0.5, 6.0], [0.8, 9.0], [1.0, 12.0]]
    """
    f = canonical_freq(freq)
    cols = ["timestamp", "cost_usd"] + ([by] if by else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame")
    if isinstance(budgets, Mapping | pd.Series):
        b = pd.Series(budgets, dtype=float)
        b.index = b.index.astype(str)
        if (b <= 0).any():
            raise ValueError(f"budgets for {b[b <= 0].index.tolist()[:5]} must be positive")
    else:
        if float(budgets) <= 0:
            raise ValueError(f"budgets={budgets} must be positive")
        b = None
    # integer codes throughout (10M strings would dominate the time)
    if by:
        col = df[by] if isinstance(df[by].dtype, pd.CategoricalDtype) else df[by].astype("category")
        codes = col.cat.codes.to_numpy(dtype=np.int64)
        names = np.asarray(col.cat.categories.astype(str), dtype=object)
    else:
        codes, names = np.zeros(len(df), dtype=np.int64), np.array([TOTAL], dtype=object)
    cost = df["cost_usd"].to_numpy(dtype=float)
    cells = day_cells(df, codes, names, f)  # integer (entity, day) cells, when they can say
    if cells is not None:
        daily = daily_totals(cells, cost, len(names), f)
    else:
        day = period_keys(df["timestamp"], "day").astype("datetime64[D]").astype(np.int64)
        period = period_keys(df["timestamp"], f).astype(np.int64)
        daily = pd.DataFrame({"code": codes, "period": period, "day": day, "cost": cost})
        daily = daily.groupby(["code", "period", "day"], sort=True)["cost"].sum().reset_index()
    # step 1: daily totals find the day of each crossing (small), ...
    daily["cum_day"] = daily.groupby(["code", "period"], sort=False)["cost"].cumsum()
    entity_names = pd.Series(names[daily["code"].to_numpy()], index=daily.index)
    daily["budget"] = entity_names.map(b) if b is not None else float(budgets)
    daily = daily[daily["budget"].notna()]
    crossings = []
    for level in levels:
        hit = daily[daily["cum_day"] >= level * daily["budget"]]
        first = hit.groupby(["code", "period"], sort=True).head(1)
        crossings.append(first.assign(level=float(level), before=first["cum_day"] - first["cost"]))
    cols_out = ["entity", "period", "level", "budget", "crossed_at", "spend_at_crossing"]
    cross = pd.concat(crossings, ignore_index=True) if crossings else pd.DataFrame()
    if cross.empty:
        return pd.DataFrame(columns=cols_out)
    # ... step 2: a running total over those days' calls only finds the call
    if cells is not None:
        call_id = df["call_id"].to_numpy() if "call_id" in df.columns else None
        return crossing_calls(cells, cost, cross, names, call_id)
    key = codes * 10_000_000 + day  # day numbers stay below 10^7 until the year 29,000
    wanted = np.unique(cross["code"].to_numpy() * 10_000_000 + cross["day"].to_numpy())
    mask = np.isin(key, wanted)
    calls = pd.DataFrame(
        {
            "code": codes[mask],
            "day": day[mask],
            "timestamp": df["timestamp"].to_numpy(dtype="datetime64[ns]")[mask],
            "cost": cost[mask],
        }
    )
    order = ["code", "day", "timestamp"]
    if "call_id" in df.columns:  # the same tie-break as the SQL version
        calls["call_id"] = df["call_id"].to_numpy()[mask]
        order.append("call_id")
    calls = calls.sort_values(order, kind="mergesort")
    calls["within"] = calls.groupby(["code", "day"], sort=False)["cost"].cumsum()
    merged = calls.merge(
        cross[["code", "day", "period", "level", "budget", "before"]], on=["code", "day"]
    )
    merged["cum"] = merged["before"] + merged["within"]
    hit = merged[merged["cum"] >= merged["level"] * merged["budget"]]
    first = hit.groupby(["code", "period", "level"], sort=True).head(1)
    out = alerts_table(names, first, pd.DatetimeIndex(first["timestamp"]))
    return out.sort_values(["entity", "period", "level"], kind="mergesort", ignore_index=True)


def cost_outliers(
    df: pd.DataFrame,
    by: str | Sequence[str] = ("model", "task_type"),
    *,
    threshold: float = 3.5,
    log: bool = True,
    min_group: int = 20,
) -> pd.DataFrame:
    """Single calls that cost far more than calls of their kind (same ``by`` values).

    Scores each call with the modified z-score of ``log(cost)`` within its group (costs are
    log-normal-ish; a 10x call is an outlier whatever the model's price) and returns the calls
    above ``threshold``, highest score first, with ``group_median_cost``, ``score`` and
    ``cost_ratio`` (cost / group median). Groups smaller than ``min_group`` are skipped.

    Example:
        >>> calls = pd.DataFrame({"model": ["m"] * 30, "task_type": ["chat"] * 30,
        ...                       "cost_usd": [0.01 * (1 + (i % 3) / 10) for i in range(29)] + [0.5]})
        >>> cost_outliers(calls)["cost_usd"].tolist()
        [0.5]
    """
    dims = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*dims, "cost_usd"] if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame")
    cost = df["cost_usd"].to_numpy(dtype=float)
    with np.errstate(divide="ignore"):
        v = pd.Series(np.log(np.where(cost > 0, cost, np.nan)) if log else cost, index=df.index)
    g = v.groupby([df[d] for d in dims], observed=True)
    med = g.transform("median")
    dev = (v - med).abs()
    dg = dev.groupby([df[d] for d in dims], observed=True)
    mad = dg.transform("median")
    meanad = dg.transform("mean")
    size = g.transform("size")
    scale = np.where(mad > 0, mad / MAD_CONSTANT, MEANAD_CONSTANT * meanad)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, (v - med) / scale, np.nan)
    mask = (score > threshold) & (size >= min_group)
    out = df.loc[mask].copy()
    gm = np.exp(med[mask]) if log else med[mask]
    out["group_median_cost"] = gm.to_numpy()
    out["score"] = score[mask.to_numpy()]
    out["cost_ratio"] = out["cost_usd"] / out["group_median_cost"]
    return out.sort_values("score", ascending=False, kind="mergesort")
