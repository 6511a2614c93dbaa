"""What moved a cost: calls, a token kind, or the price (usage vs price attribution).

A change of cost between a baseline and a current window is split into dollar contributions
that add up to it exactly:

* ``price``: the change of (actual cost - cost at fixed prices), i.e. what repricing one
  period at the other's prices removes. The fixed prices are the caller's: the ``cost_<kind>``
  columns come from ``pricing.cost_breakdown(calls, at=...)`` (at one instant) or from
  ``pricing.cost_breakdown(calls)`` (each call's own prices: then ``price`` is 0);
* ``calls``: more (or fewer) calls at the baseline cost per call (at fixed prices);
* per call, at fixed prices: ``input`` (more input tokens per call at the baseline cache mix),
  ``cache_read`` / ``cache_write`` (the cache mix of the input moved: a hit rate that drops
  makes reads uncached input; the larger of the two share changes names it), ``output`` (the
  visible output) and ``reasoning``.

The driver is the largest contribution in the direction of the change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from showcase_lib.analysis._aggregations import KIND_COSTS, KIND_TOKENS, has_kind_costs
from showcase_lib.analysis._timeseries import _to_utc

#: Contributions, in the order they are reported.
DRIVERS: tuple[str, ...] = (
    "calls",
    "input",
    "cache_read",
    "cache_write",
    "output",
    "reasoning",
    "price",
)
#: Sums one window needs (per group): calls, actual cost, tokens, fixed-price cost by kind.
_SUMS: tuple[str, ...] = ("calls", "cost_usd", *KIND_TOKENS, *KIND_COSTS)


def require_kind_costs(df: pd.DataFrame) -> None:
    """Raise a ValueError naming the ``cost_<kind>`` columns the frame lacks."""
    missing = [c for c in KIND_COSTS if c not in df.columns]
    if missing:
        raise ValueError(
            f"columns {missing} are missing: join the cost by kind first, "
            "calls.join(pricing.cost_breakdown(calls, at=...).add_prefix('cost_'))"
        )


def window_sums(df: pd.DataFrame, mask: np.ndarray, by: str | None) -> pd.DataFrame:
    """The :data:`_SUMS` of the calls in ``mask``, per value of ``by`` (or one row "total")."""
    sub = df.loc[mask]
    cols = [c for c in _SUMS if c != "calls"]
    frame = pd.DataFrame({c: sub[c].to_numpy(dtype=float) for c in cols})
    frame.insert(0, "calls", 1.0)
    key = sub[by].astype(str).to_numpy() if by else np.full(len(sub), "total", dtype=object)
    return frame.groupby(key, sort=True).sum()


def decompose(base: pd.DataFrame, cur: pd.DataFrame, scale: float | np.ndarray = 1.0):
    """Dollar contributions of :data:`DRIVERS` to ``cur.cost_usd - scale * base.cost_usd``.

    ``base`` and ``cur`` hold the :data:`_SUMS` per row (aligned); the baseline is scaled by
    ``scale`` (the current window's length over the baseline's) to be comparable. Returns a
    frame with one column per driver plus ``previous``, ``current``, ``change`` and ``usage``
    (``change - price``); the contributions add up to ``change``.
    """
    b = base.astype(float).mul(scale, axis=0)
    c = cur.astype(float)
    n_b, n_c = b["calls"].to_numpy(), c["calls"].to_numpy()
    fb = b[list(KIND_COSTS)].to_numpy()  # fixed-price cost by kind, per window
    fc = c[list(KIND_COSTS)].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        per_b = np.where(n_b[:, None] > 0, fb / n_b[:, None], 0.0)  # per call
        per_c = np.where(n_c[:, None] > 0, fc / n_c[:, None], 0.0)
    has_b = n_b > 0
    calls = np.where(has_b, (n_c - n_b) * per_b.sum(axis=1), fc.sum(axis=1) - fb.sum(axis=1))
    unit = np.where(has_b[:, None], n_c[:, None] * (per_c - per_b), 0.0)  # by kind
    tok_b, tok_c = _input_mix(b), _input_mix(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_b = np.where(n_b > 0, tok_b.sum(axis=1) / n_b, 0.0)  # input tokens per call
        t_c = np.where(n_c > 0, tok_c.sum(axis=1) / n_c, 0.0)
        s_b = tok_b / tok_b.sum(axis=1, keepdims=True)  # uncached / read / write shares
        s_c = tok_c / tok_c.sum(axis=1, keepdims=True)
        volume = np.where(t_b > 0, n_c * (t_c / t_b - 1) * per_b[:, :3].sum(axis=1), 0.0)
    input_side = unit[:, :3].sum(axis=1)
    volume = np.where(has_b & (t_b > 0), volume, input_side)
    mix = input_side - volume
    moved = np.nan_to_num(np.abs(s_c - s_b))
    reads = moved[:, 1] >= moved[:, 2]
    actual_b, actual_c = b["cost_usd"].to_numpy(), c["cost_usd"].to_numpy()
    price = (actual_c - fc.sum(axis=1)) - (actual_b - fb.sum(axis=1))
    out = pd.DataFrame(
        {
            "previous": actual_b,
            "current": actual_c,
            "change": actual_c - actual_b,
            "calls": calls,
            "input": volume,
            "cache_read": np.where(reads, mix, 0.0),
            "cache_write": np.where(reads, 0.0, mix),
            "output": unit[:, 3],
            "reasoning": unit[:, 4],
            "price": price,
        },
        index=cur.index,
    )
    out["usage"] = out["change"] - out["price"]
    out["driver"] = top_driver(out)
    return out


def _input_mix(sums: pd.DataFrame) -> np.ndarray:
    """Uncached input, cache-read and cache-write tokens per row (inclusive rule undone)."""
    read = sums["cache_read_tokens"].to_numpy()
    write = sums["cache_write_tokens"].to_numpy()
    return np.column_stack([sums["input_tokens"].to_numpy() - read - write, read, write])


def top_driver(contributions: pd.DataFrame) -> np.ndarray:
    """Per row, the driver with the largest contribution in the direction of ``change``."""
    vals = contributions[list(DRIVERS)].to_numpy(dtype=float)
    sign = np.where(contributions["change"].to_numpy(dtype=float) < 0, -1.0, 1.0)
    return np.asarray(DRIVERS, dtype=object)[np.argmax(vals * sign[:, None], axis=1)]


def drivers(
    calls: pd.DataFrame,
    current: tuple,
    previous: tuple,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Split the change of cost from window ``previous`` to window ``current`` (each
    ``[start, end)``) into what moved it, per value of ``by`` (or for all calls).

    The calls carry ``cost_usd`` (each call at its own price) and the cost by token kind at
    prices the caller fixes, ``cost_input ... cost_reasoning`` (join
    ``pricing.cost_breakdown(calls, at=...).add_prefix("cost_")``). A window of another length
    than ``current`` is scaled to it (a week against two weeks compares per day).

    Returns one row per entity: ``previous, current, change`` (USD), the contributions
    ``calls, input, cache_read, cache_write, output, reasoning, price`` (they add up to
    ``change``), ``usage`` (``change - price``) and ``driver`` (the largest contribution in the
    direction of the change): a price change at flat usage is ``price``, a hit rate that drops
    is ``cache_read``.

    Example:
        >>> t = pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)
        >>> calls = pd.DataFrame({"timestamp": t, "cost_usd": [1.0, 2.0],
        ...     "input_tokens": 1000, "cache_read_tokens": 0, "cache_write_tokens": 0,
        ...     "output_tokens": 100, "reasoning_tokens": 0, "cost_input": [1.0, 1.0],
        ...     "cost_cache_read": 0.0, "cost_cache_write": 0.0, "cost_output": 0.0,
        ...     "cost_reasoning": 0.0})        # same usage, at fixed prices $1 a call
        >>> d = drivers(calls, ("2026-01-02", "2026-01-03"), ("2026-01-01", "2026-01-02"))
        >>> row = d.loc["total"]
        >>> float(row["change"]), float(row["price"]), float(row["usage"]), row["driver"]
        (1.0, 1.0, 0.0, 'price')
    """
    require_kind_costs(calls)
    windows = [(_to_utc(w[0]), _to_utc(w[1])) for w in (current, previous)]
    for name, (s, e) in zip(("current", "previous"), windows, strict=True):
        if e <= s:
            raise ValueError(f"{name}=({s}, {e}) is empty: end must be after start")
    ts = calls["timestamp"]
    sums = [window_sums(calls, ((ts >= s) & (ts < e)).to_numpy(), by) for s, e in windows]
    index = sums[0].index.union(sums[1].index)
    cur, base = (x.reindex(index, fill_value=0.0) for x in sums)
    scale = (windows[0][1] - windows[0][0]) / (windows[1][1] - windows[1][0])
    out = decompose(base, cur, scale)
    out.index.name = by or "entity"
    return out[["previous", "current", "change", *DRIVERS, "usage", "driver"]]


def anomaly_drivers(
    calls: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    by: str | None,
    step: pd.Timedelta,
    window: int,
) -> pd.DataFrame:
    """:func:`decompose` for each anomaly (``anomaly_id, entity, start, end``) against the
    ``window`` periods before it (from the first call on), per period of length ``step``."""
    cols = ["anomaly_id", *DRIVERS, "change", "driver"]
    if anomalies.empty or not has_kind_costs(calls):
        return pd.DataFrame(columns=cols)
    ts = calls["timestamp"]
    # the first period with data: its bucket below a day (as the detector counts), else its day
    data_start = ts.min().floor(step if step < pd.Timedelta(days=1) else "D")
    ent = calls[by].astype(str).to_numpy() if by else None
    rows = []
    for a in anomalies.itertuples(index=False):  # one pass per anomaly (few)
        b_start = max(a.start - window * step, data_start)
        sel = np.ones(len(calls), dtype=bool) if ent is None else ent == str(a.entity)
        base = window_sums(calls, sel & ((ts >= b_start) & (ts < a.start)).to_numpy(), None)
        cur = window_sums(calls, sel & ((ts >= a.start) & (ts < a.end)).to_numpy(), None)
        base, cur = (x.reindex(["total"], fill_value=0.0) for x in (base, cur))
        scale = max(1.0, (a.end - a.start) / step) / max(1.0, (a.start - b_start) / step)
        d = decompose(base, cur, scale)
        d.insert(0, "anomaly_id", a.anomaly_id)
        rows.append(d)
    return pd.concat(rows, ignore_index=True)[cols]


def driver_rows(contrib: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame:
    """The contributions as root-cause rows ``anomaly_id, dimension="driver", value, actual,
    expected, contribution`` (actual and expected are not defined for a driver: NaN)."""
    if "driver" not in dims or contrib.empty:
        return pd.DataFrame()
    long = contrib.melt(
        id_vars=["anomaly_id"],
        value_vars=list(DRIVERS),
        var_name="value",
        value_name="contribution",
    )
    long.insert(1, "dimension", "driver")
    long["actual"] = np.nan
    long["expected"] = np.nan
    return long[["anomaly_id", "dimension", "value", "actual", "expected", "contribution"]]
