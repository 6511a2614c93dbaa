"""Statistical aggregations over AI-call records: by dimension, percentiles, top-N,
concentration (Pareto, Lorenz, Gini), token efficiency, distributions, and the showcase
plan's CSV export ``dimension,value,count,avg_cost,total_cost``.

Percentiles use linear interpolation (pandas' default, DuckDB's ``quantile_cont``), so the
SQL versions in :mod:`showcase_lib.analysis.sql` give the same numbers.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"model": ["a", "a", "b"], "cost_usd": [1.0, 3.0, 10.0],
    ...                       "latency_ms": [100, 300, 50]})
    >>> cost_by(calls, "model")["total_cost"].tolist()
    [10.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

__all__ = [
    "KINDS",
    "PLAN_CSV_COLUMNS",
    "by_dimension",
    "concentration",
    "cost_by",
    "distribution",
    "gini",
    "kind_sums",
    "lorenz_curve",
    "percentiles",
    "plan_csv",
    "tier_mix",
    "token_efficiency",
    "top_n",
]

#: Columns of the showcase plan's CSV export, in its order.
PLAN_CSV_COLUMNS: tuple[str, ...] = ("dimension", "value", "count", "avg_cost", "total_cost")

#: Median, the tail a user notices (p95) and the worst one in a hundred (p99): the three an
#: SLA or a price list is written against.
DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


#: The token kinds a call is billed for, in the order of ``pricing.cost_breakdown``'s columns.
#: Inclusive rule: ``input_tokens`` holds the cache reads and writes ("input" is the uncached
#: rest), ``output_tokens`` holds the reasoning tokens ("output" is the visible rest).
KINDS: tuple[str, ...] = ("input", "cache_read", "cache_write", "output", "reasoning")
#: The call's cost by kind, as the caller joins it:
#: ``calls.join(pricing.cost_breakdown(calls).add_prefix("cost_"))`` (or ``at=`` fixed prices).
KIND_COSTS: tuple[str, ...] = tuple(f"cost_{k}" for k in KINDS)
#: Token columns of the record summed per group by the ``kinds`` views.
KIND_TOKENS: tuple[str, ...] = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def _dims(by: str | Sequence[str]) -> list[str]:
    dims = [by] if isinstance(by, str) else list(by)
    if not dims:
        raise ValueError("by=[] names no dimension; give a column such as 'model'")
    return dims


def _require(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame (have {list(df.columns)})")


def _qname(q: float) -> str:
    return f"p{q * 100:g}".replace(".", "_")


def cost_by(df: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Calls, total and mean cost, and share of total cost per value of one or two dimensions,
    largest total first.

    Example:
        >>> calls = pd.DataFrame({"model": ["a", "a", "b"], "cost_usd": [1.0, 3.0, 4.0]})
        >>> cost_by(calls, "model").loc["a", ["calls", "avg_cost", "share"]].tolist()
        [2.0, 2.0, 0.5]
    """
    dims = _dims(by)
    _require(df, [*dims, "cost_usd"])
    g = df.groupby(dims, observed=True, sort=False)["cost_usd"]
    out = g.agg(calls="size", total_cost="sum", avg_cost="mean")
    total = out["total_cost"].sum()
    out["share"] = out["total_cost"] / total if total else np.nan
    return out.sort_values(["total_cost", "calls"], ascending=False, kind="mergesort")


def percentiles(
    df: pd.DataFrame,
    column: str = "latency_ms",
    *,
    by: str | Sequence[str] | None = None,
    q: Sequence[float] = DEFAULT_QUANTILES,
) -> pd.DataFrame | pd.Series:
    """Percentiles (linear interpolation) of ``column``, overall (a Series) or per group.

    Example:
        >>> calls = pd.DataFrame({"latency_ms": list(range(1, 101))})
        >>> percentiles(calls).round(2).tolist()
        [50.5, 95.05, 99.01]
    """
    _require(df, [column] + ([] if by is None else _dims(by)))
    qs = list(q)
    if by is None:
        s = df[column].astype(float).quantile(qs)
        s.index = [_qname(x) for x in qs]
        return s.rename(column)
    dims = _dims(by)
    fast = _categorical_quantiles(df, dims[0], column, qs) if len(dims) == 1 else None
    out = (
        fast if fast is not None else df.groupby(dims, observed=True)[column].quantile(qs).unstack()
    )
    out.columns = [_qname(x) for x in qs]
    return out


#: Integer values below 2**40 (a 35-year latency in ms, a trillion tokens) leave 23 bits for
#: the group in one 63-bit sort key.
_VALUE_BITS = 40
#: Up to this many groups are sorted one slice at a time (a Python loop over groups).
_SEGMENT_SORTS = 20_000


def sorted_by_group(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """``values`` sorted by (group code, value): one sort of a packed integer key for
    non-negative integers, else a value sort then a stable sort of the (small) codes.

    Example:
        >>> sorted_by_group(np.array([1, 0, 1, 0]), np.array([5, 7, 2, 3]), 2).tolist()
        [3, 7, 2, 5]
    """
    if values.dtype.kind in "iu" and len(values) and n_groups < 1 << (63 - _VALUE_BITS):
        lo, hi = (int(values.min()), int(values.max()))
        if lo >= 0 and hi < 1 << _VALUE_BITS:
            key = codes.astype(np.int64) << _VALUE_BITS
            key |= values
            key.sort()
            key &= (1 << _VALUE_BITS) - 1
            return key
    small = codes.astype(np.int16) if n_groups < 1 << 15 else codes
    if n_groups > _SEGMENT_SORTS:
        by_value = np.argsort(values)
        return values[by_value[np.argsort(small[by_value], kind="stable")]]
    grouped = values[np.argsort(small, kind="stable")]  # a radix sort of 16-bit codes
    ends = np.cumsum(np.bincount(codes, minlength=n_groups))
    for lo, hi in zip(ends - np.diff(ends, prepend=0), ends, strict=True):
        grouped[lo:hi].sort()  # each group's slice in place
    return grouped


def group_quantiles(
    codes: np.ndarray, values: np.ndarray, n_groups: int, qs: Sequence[float]
) -> np.ndarray:
    """Linear-interpolation quantiles of ``values`` per group code (0..n_groups-1, every
    group non-empty, no missing values): an array (groups x quantiles), as pandas' group-by
    ``quantile`` computes them (``v[i] + (v[i + 1] - v[i]) * frac`` at ``q * (n - 1)``).

    Example:
        >>> group_quantiles(np.array([0, 0, 0, 1]), np.array([1.0, 2.0, 4.0, 9.0]), 2, [0.5, 0.75])
        array([[2., 3.],
               [9., 9.]])
    """
    counts = np.bincount(codes, minlength=n_groups)
    hist = _histogram_quantiles(codes, values, counts, qs)
    if hist is not None:
        return hist
    ordered = sorted_by_group(codes, values, n_groups).astype(float, copy=False)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.empty((n_groups, len(qs)))
    for j, q in enumerate(qs):
        idx = q * (counts - 1)
        lo = np.floor(idx).astype(np.int64)
        frac = idx - lo
        below = ordered[starts + lo]
        above = ordered[starts + np.minimum(lo + 1, counts - 1)]
        out[:, j] = np.where(frac == 0, below, below + (above - below) * frac)
    return out


#: Integer values are counted per (group, value) instead of sorted while the table has at
#: most this many cells (latencies in ms up to a minute for a dozen models: under a million).
_HISTOGRAM_CELLS = 1 << 22
#: Rows counted at a time (the packed keys of one slice stay in the CPU cache).
_HISTOGRAM_SLICE = 1 << 18


def _histogram_quantiles(
    codes: np.ndarray, values: np.ndarray, counts: np.ndarray, qs: Sequence[float]
) -> np.ndarray | None:
    """:func:`group_quantiles` of small non-negative integers by counting, not sorting: the
    same order statistics, so the same floats. None when the values do not qualify.

    Example:
        >>> _histogram_quantiles(np.array([0, 0, 1]), np.array([3, 1, 7]), np.array([2, 1]), [0.5])
        array([[2.],
               [7.]])
    """
    if values.dtype.kind not in "iu" or not len(values):
        return None
    top = int(values.max())
    width = top + 1
    if int(values.min()) < 0 or len(counts) * width > _HISTOGRAM_CELLS:
        return None
    table = np.zeros(len(counts) * width, dtype=np.int64)
    for lo in range(0, len(values), _HISTOGRAM_SLICE):
        part = slice(lo, lo + _HISTOGRAM_SLICE)
        key = np.multiply(codes[part], width, dtype=np.int64)
        key += values[part]
        table += np.bincount(key, minlength=len(table))
    cum = np.cumsum(table.reshape(len(counts), width), axis=1)
    out = np.empty((len(counts), len(qs)))
    for j, q in enumerate(qs):
        idx = q * (counts - 1)
        lo = np.floor(idx).astype(np.int64)
        frac = idx - lo
        hi = np.minimum(lo + 1, counts - 1)
        # the k-th smallest value of a group: the first value whose running count passes k
        below = (cum <= lo[:, None]).sum(axis=1).astype(float)
        above = (cum <= hi[:, None]).sum(axis=1).astype(float)
        out[:, j] = np.where(frac == 0, below, below + (above - below) * frac)
    return out


def _categorical_quantiles(
    df: pd.DataFrame, dim: str, column: str, qs: list[float]
) -> pd.DataFrame | None:
    """The group-by quantiles of ``column`` per value of a categorical ``dim`` by one sort
    (pandas sorts the pairs lexically, several times slower); None when not applicable."""
    keys = df[dim]
    x = df[column]
    if not isinstance(keys.dtype, pd.CategoricalDtype) or x.dtype.kind not in "iuf" or not len(df):
        return None
    codes = keys.cat.codes.to_numpy()
    values = x.to_numpy()
    if (codes < 0).any() or (values.dtype.kind == "f" and np.isnan(values).any()):
        return None  # missing keys or values: pandas' rules
    n = len(keys.cat.categories)
    counts = np.bincount(codes, minlength=n)
    used = np.flatnonzero(counts)
    remap = np.cumsum(counts > 0) - 1
    dense = remap[codes] if len(used) < n else codes
    table = group_quantiles(dense, values, len(used), qs)
    index = pd.CategoricalIndex(keys.cat.categories[used], dtype=keys.dtype, name=dim)
    return pd.DataFrame(table, index=index, columns=pd.Index(qs, dtype=float))


def has_kind_costs(df: pd.DataFrame) -> bool:
    """Whether the frame carries the per-kind cost columns ``cost_input ... cost_reasoning``.

    Example:
        >>> has_kind_costs(pd.DataFrame({"cost_usd": [1.0]}))
        False
    """
    return all(c in df.columns for c in KIND_COSTS)


def kind_rates(out: pd.DataFrame) -> pd.DataFrame:
    """Add ``cache_hit_rate`` (cache reads / input tokens) and ``reasoning_share`` (reasoning /
    output tokens) to a frame of token sums; NaN where the denominator is 0.

    Example:
        >>> t = kind_rates(pd.DataFrame({"input_tokens": [100, 0], "cache_read_tokens": [80, 0],
        ...                              "output_tokens": [10, 5], "reasoning_tokens": [4, 0]}))
        >>> t["cache_hit_rate"].tolist(), t["reasoning_share"].tolist()
        ([0.8, nan], [0.4, 0.0])
    """
    inp = out["input_tokens"].astype(float)
    outp = out["output_tokens"].astype(float)
    out["cache_hit_rate"] = out["cache_read_tokens"] / inp.where(inp > 0)
    out["reasoning_share"] = out["reasoning_tokens"] / outp.where(outp > 0)
    return out


def kind_sums(df: pd.DataFrame, keys: Sequence[str] | dict[str, np.ndarray]) -> pd.DataFrame:
    """Calls, cost, the five token columns and (when present) the five ``cost_<kind>`` columns
    summed per group of ``keys`` (column names, or a mapping name -> per-row array).

    Example:
        >>> calls = pd.DataFrame({"model": ["a", "a"], "cost_usd": [1.0, 2.0],
        ...     "input_tokens": [10, 20], "cache_read_tokens": [5, 0], "cache_write_tokens": 0,
        ...     "output_tokens": [3, 3], "reasoning_tokens": [1, 2]})
        >>> t = kind_sums(calls, ["model"])
        >>> int(t.loc["a", "calls"]), int(t.loc["a", "cache_read_tokens"])
        (2, 5)
    """
    _require(df, ["cost_usd", *KIND_TOKENS])
    costs = list(KIND_COSTS) if has_kind_costs(df) else []
    frame = pd.DataFrame(
        {c: df[c].to_numpy(dtype=np.int64) for c in KIND_TOKENS}
        | {c: df[c].to_numpy(dtype=float) for c in ["cost_usd", *costs]}
    )
    if isinstance(keys, dict):
        names = list(keys)
        for k, v in keys.items():
            frame[k] = v
    else:
        names = list(keys)
        _require(df, names)
        for k in names:
            frame[k] = (
                df[k].values if isinstance(df[k].dtype, pd.CategoricalDtype) else df[k].to_numpy()
            )
    g = frame.groupby(names, observed=True, sort=True)
    out = g.agg(calls=("cost_usd", "size"), total_cost=("cost_usd", "sum"))
    sums = g[[*KIND_TOKENS, *costs]].sum()
    return out.join(sums)


def _kinds_view(df: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    out = kind_rates(kind_sums(df, dims))
    total = out["total_cost"].sum()
    out["share"] = out["total_cost"] / total if total else np.nan
    return out.sort_values(["total_cost", "calls"], ascending=False, kind="mergesort")


def tier_mix(df: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Calls and cost per service tier (standard / batch / flex / priority), with each tier's
    ``call_share`` and ``cost_share`` of its group (of ``by``, or of all calls).

    Example:
        >>> calls = pd.DataFrame({"feature_id": ["f"] * 4, "cost_usd": [1.0, 1.0, 1.0, 1.0],
        ...                       "service_tier": ["standard", "standard", "standard", "batch"]})
        >>> tier_mix(calls, "feature_id")["call_share"].tolist()
        [0.25, 0.75]
    """
    dims = [] if by is None else _dims(by)
    _require(df, [*dims, "service_tier", "cost_usd"])
    g = df.groupby([*dims, "service_tier"], observed=True, sort=True)["cost_usd"]
    out = g.agg(calls="size", total_cost="sum")
    if dims:
        grp = out.groupby(level=list(range(len(dims))), observed=True)
        calls_tot, cost_tot = grp["calls"].transform("sum"), grp["total_cost"].transform("sum")
    else:
        calls_tot, cost_tot = out["calls"].sum(), out["total_cost"].sum()
    out["call_share"] = out["calls"] / calls_tot
    out["cost_share"] = out["total_cost"] / cost_tot
    return out


#: What :func:`by_dimension` reports per group.
View = Literal["summary", "cost", "tokens", "kinds", "tiers"]


def by_dimension(
    df: pd.DataFrame,
    by: str | Sequence[str],
    *,
    view: View = "summary",
    q: Sequence[float] = DEFAULT_QUANTILES,
) -> pd.DataFrame:
    """Statistics per value of one dimension (or a pair).

    ``view``:

    * ``"cost"``: ``calls, total_cost, avg_cost, share`` (of the total cost), largest total
      first;
    * ``"summary"`` (default): the cost columns plus the ``q`` percentiles (p50/p95/p99) of
      cost and latency, ``cost_p50 ... latency_p99``;
    * ``"tokens"``: token efficiency: ``calls, input_tokens, output_tokens, total_cost,
      cost_per_1k_tokens`` (input + output), ``output_input_ratio, tokens_per_call,
      cost_per_call``; ratios are of sums (a weighted mean); cheapest per token first;
    * ``"kinds"``: the token taxonomy: ``calls, total_cost``, the token sums
      ``input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens``,
      the cost by kind ``cost_input ... cost_reasoning`` when the frame carries them (join
      ``pricing.cost_breakdown(calls).add_prefix("cost_")``), ``cache_hit_rate`` (cache reads /
      input tokens), ``reasoning_share`` (reasoning / output tokens) and ``share`` of the total
      cost; largest total first;
    * ``"tiers"``: the tier mix, one row per (group, ``service_tier``): ``calls, total_cost,
      call_share, cost_share`` (shares of the group).

    Example:
        >>> calls = pd.DataFrame({"tier": ["pro"] * 4, "cost_usd": [1.0, 2.0, 3.0, 4.0],
        ...                       "latency_ms": [10, 20, 30, 40], "input_tokens": 1000,
        ...                       "output_tokens": 250})
        >>> row = by_dimension(calls, "tier").loc["pro"]
        >>> row[["total_cost", "cost_p50", "latency_p95"]].tolist()
        [10.0, 2.5, 38.5]
        >>> by_dimension(calls, "tier", view="cost").loc["pro", ["calls", "share"]].tolist()
        [4.0, 1.0]
        >>> float(by_dimension(calls, "tier", view="tokens").loc["pro", "cost_per_1k_tokens"])
        2.0
        >>> calls["cache_read_tokens"], calls["cache_write_tokens"] = 500, 0
        >>> calls["reasoning_tokens"], calls["service_tier"] = 50, ["standard"] * 3 + ["batch"]
        >>> by_dimension(calls, "tier", view="kinds").loc["pro", ["cache_hit_rate", "reasoning_share"]].tolist()
        [0.5, 0.2]
        >>> by_dimension(calls, "tier", view="tiers")["call_share"].tolist()
        [0.25, 0.75]
    """
    if view == "kinds":
        return _kinds_view(df, _dims(by))
    if view == "tiers":
        return tier_mix(df, by)
    if view == "cost":
        return cost_by(df, by)
    if view == "tokens":
        return token_efficiency(df, by)
    if view != "summary":
        raise ValueError(f"view={view!r} is not one of {list(get_args(View))}")
    dims = _dims(by)
    _require(df, [*dims, "cost_usd", "latency_ms"])
    out = cost_by(df, dims)
    for col, prefix in (("cost_usd", "cost"), ("latency_ms", "latency")):
        p = percentiles(df, col, by=dims, q=q)
        out = out.join(p.add_prefix(f"{prefix}_"))
    return out


def top_n(
    df: pd.DataFrame, by: str = "customer_id", n: int = 10, *, metric: str = "cost_usd"
) -> pd.DataFrame:
    """The ``n`` largest values of ``by`` by total ``metric``, with rank, share and cumulative share.

    Example:
        >>> calls = pd.DataFrame({"customer_id": ["x", "y", "y", "z"], "cost_usd": [1.0, 2.0, 2.0, 5.0]})
        >>> top_n(calls, n=2)[["rank", "total", "share"]].values.tolist()
        [[1.0, 5.0, 0.5], [2.0, 4.0, 0.4]]
    """
    if n < 1:
        raise ValueError(f"n={n} must be at least 1")
    _require(df, [by, metric])
    g = df.groupby(by, observed=True)[metric]
    out = g.agg(calls="size", total="sum")
    grand = out["total"].sum()
    out = out.sort_values(["total", "calls"], ascending=False, kind="mergesort").head(n)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=float))
    out["share"] = out["total"] / grand if grand else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    return out


def gini(values: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Gini coefficient of non-negative amounts: 0 when all equal, -> 1 when one holds all.

    Uses ``G = 2 * sum(i * x_(i)) / (n * sum(x)) - (n + 1) / n`` on ascending values.

    Example:
        >>> gini([1, 1, 1, 1]), gini([0, 0, 0, 4])
        (0.0, 0.75)
    """
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) and x[0] < 0:
        raise ValueError(f"values contain a negative amount ({x[0]}); Gini needs amounts >= 0")
    if len(x) == 0 or x.sum() == 0:
        return float("nan")
    n = len(x)
    i = np.arange(1, n + 1)
    return float(2 * np.sum(i * x) / (n * x.sum()) - (n + 1) / n)


def lorenz_curve(values: Sequence[float] | np.ndarray | pd.Series) -> pd.DataFrame:
    """Points of the Lorenz curve: cumulative share of entities (smallest first) vs
    cumulative share of the amount, starting at (0, 0).

    Example:
        >>> lorenz_curve([1, 3]).values.tolist()
        [[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]]
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    total = x.sum()
    pop = np.concatenate([[0.0], np.arange(1, n + 1) / n])
    amt = np.concatenate([[0.0], np.cumsum(x) / total]) if total else np.full(n + 1, np.nan)
    return pd.DataFrame({"entity_share": pop, "cost_share": amt})


def concentration(
    df: pd.DataFrame,
    by: str = "customer_id",
    *,
    metric: str = "cost_usd",
    top: Sequence[float] = (0.1, 0.2),
) -> pd.Series:
    """How concentrated spend is across the values of ``by``.

    Returns ``entities``, ``gini``, ``top_10pct_share`` (share of the total from the
    ``ceil(10% * n)`` largest entities; one entry per value of ``top``) and
    ``entities_for_80pct`` (how few entities make 80% of the total: the Pareto check).

    Example:
        >>> calls = pd.DataFrame({"customer_id": list("abcdefghij"), "cost_usd": [91.0] + [1.0] * 9})
        >>> c = concentration(calls)
        >>> c[["top_10pct_share", "entities_for_80pct"]].tolist()
        [0.91, 1.0]
    """
    _require(df, [by, metric])
    totals = df.groupby(by, observed=True)[metric].sum().sort_values(ascending=False)
    x = totals.to_numpy(dtype=float)
    n = len(x)
    grand = x.sum()
    out: dict[str, float] = {"entities": float(n), "total": float(grand), "gini": gini(x)}
    for share in top:
        k = int(np.ceil(share * n - 1e-9))
        out[f"top_{share * 100:g}pct_share"] = float(x[:k].sum() / grand) if grand else np.nan
    cum = np.cumsum(x) / grand if grand else np.array([])
    out["entities_for_80pct"] = float(np.searchsorted(cum, 0.8 - 1e-12) + 1) if grand else np.nan
    return pd.Series(out, name=by)


def token_efficiency(df: pd.DataFrame, by: str | Sequence[str] = ("model",)) -> pd.DataFrame:
    """Token efficiency per group: cost per 1K tokens (input + output), output/input token
    ratio, tokens and cost per call; cheapest per token first.

    Ratios are of sums (a weighted mean), not means of per-call ratios.

    Example:
        >>> calls = pd.DataFrame({"model": ["m", "m"], "input_tokens": [1000, 3000],
        ...                       "output_tokens": [500, 500], "cost_usd": [0.01, 0.035]})
        >>> token_efficiency(calls, "model").loc["m", ["cost_per_1k_tokens", "output_input_ratio"]].round(6).tolist()
        [0.009, 0.25]
    """
    dims = _dims(by)
    _require(df, [*dims, "input_tokens", "output_tokens", "cost_usd"])
    g = df.groupby(dims, observed=True)
    out = g.agg(
        calls=("cost_usd", "size"),
        input_tokens=("input_tokens", "sum"),
        output_tokens=("output_tokens", "sum"),
        total_cost=("cost_usd", "sum"),
    )
    tokens = out["input_tokens"] + out["output_tokens"]
    out["cost_per_1k_tokens"] = out["total_cost"] / tokens.where(tokens > 0) * 1000
    out["output_input_ratio"] = out["output_tokens"] / out["input_tokens"].where(
        out["input_tokens"] > 0
    )
    out["tokens_per_call"] = tokens / out["calls"]
    out["cost_per_call"] = out["total_cost"] / out["calls"]
    return out.sort_values("cost_per_1k_tokens", kind="mergesort")


def distribution(
    df: pd.DataFrame,
    column: str = "cost_usd",
    *,
    bins: int | Sequence[float] = 20,
    log: bool = True,
) -> pd.DataFrame:
    """Histogram table of ``column``: ``left, right, count, share, cumulative_share``.

    With ``log=True`` and an integer ``bins`` the edges are spaced evenly on a log scale
    (costs span several orders of magnitude); zeros fall in the first bin.

    Example:
        >>> calls = pd.DataFrame({"cost_usd": [0.001, 0.01, 0.1, 1.0]})
        >>> distribution(calls, bins=3)["count"].tolist()
        [1, 1, 2]
    """
    _require(df, [column])
    x = df[column].to_numpy(dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        raise ValueError(f"column {column!r} has no values to bin")
    if isinstance(bins, int):
        lo, hi = float(x.min()), float(x.max())
        positive = x[x > 0]
        if log and len(positive) and hi > 0:
            edges = np.geomspace(positive.min(), hi, bins + 1)
            edges[0] = min(lo, edges[0])
        else:
            edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    else:
        edges = np.asarray(bins, dtype=float)
    counts, edges = np.histogram(x, bins=edges)
    out = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts})
    out["share"] = out["count"] / counts.sum()
    out["cumulative_share"] = out["share"].cumsum()
    return out


def plan_csv(
    df: pd.DataFrame,
    dimension: str | Sequence[str],
    value: str | None = None,
) -> pd.DataFrame:
    """Aggregate into the showcase plan's CSV shape ``dimension,value,count,avg_cost,total_cost``.

    Two readings of the plan's header are supported:

    * ``value`` given (the plan's own example ``customer_0001,pro,150,...``): rows are pairs,
      ``dimension`` holds the value of the first column (a customer) and ``value`` the value of
      the second (its tier).
    * ``value=None``: a long table, ``dimension`` holds the column name and ``value`` its value;
      ``dimension`` may list several columns, which are stacked.

    Rows are ordered by ``dimension`` then total cost, largest first. Write it with
    ``frame.round(6).to_csv(path, index=False)``.

    Example:
        >>> calls = pd.DataFrame({"customer_id": ["c1", "c1", "c2"], "subscription_tier": ["pro"] * 3,
        ...                       "model": ["a", "b", "a"], "cost_usd": [1.0, 2.0, 4.0]})
        >>> plan_csv(calls, "customer_id", "subscription_tier").values.tolist()
        [['c2', 'pro', 1, 4.0, 4.0], ['c1', 'pro', 2, 1.5, 3.0]]
        >>> plan_csv(calls, "model")["value"].tolist()
        ['a', 'b']
    """
    if value is not None:
        if not isinstance(dimension, str):
            raise ValueError(
                f"dimension={dimension!r} must be one column when value={value!r} is given"
            )
        t = cost_by(df, [dimension, value]).reset_index()
        out = pd.DataFrame(
            {
                "dimension": t[dimension].astype(str),
                "value": t[value].astype(str),
                "count": t["calls"].astype(np.int64),
                "avg_cost": t["avg_cost"],
                "total_cost": t["total_cost"],
            }
        )
        return out.reset_index(drop=True)
    parts = []
    for dim in _dims(dimension):
        t = cost_by(df, dim).reset_index()
        parts.append(
            pd.DataFrame(
                {
                    "dimension": dim,
                    "value": t[dim].astype(str),
                    "count": t["calls"].astype(np.int64),
                    "avg_cost": t["avg_cost"],
                    "total_cost": t["total_cost"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
