"""Prices as data: the cost of calls from a price table frame or from a pricer the caller passes.

``analysis`` depends on the record only, never on the price catalog. An analysis that reprices
calls (on another model, with a prompt cache, on the batch tier) builds a modified copy of the
calls and prices it with a **pricer**: a callable that takes a frame of calls and returns one
cost in USD per row (a Series, or a frame with a ``total`` column, as
``pricing.cost_breakdown`` returns). The book passes
``lambda df: pricing.cost_breakdown(df)["total"]``: every token kind, tiers, cliffs and the price
at each call's timestamp, the same function that priced the record.

A **price table** works too (``showcase_lib.pricing.price_table()`` builds one; any frame with
the columns works, e.g. a negotiated price sheet): one row per (provider, model) with
``provider, model, input_usd_per_mtok, output_usd_per_mtok`` and, where the calls need them,
``cache_read_usd_per_mtok``, ``cache_write_5m_usd_per_mtok``, ``cache_write_1h_usd_per_mtok``
and ``batch_multiplier`` (a call whose tokens or tier need a missing column raises, naming it:
a cache read is never silently billed as input). Optional: ``long_context_threshold_tokens`` /
``long_context_input_usd_per_mtok`` / ``long_context_output_usd_per_mtok`` (the whole call at
the higher rates above the threshold; cache prices scale with the input price there, as in
genai-prices' gpt-5.5) and ``retired`` (bool: not offered as a candidate). A table is the price
of one instant: for prices that change inside the period, pass a pricer.

Example:
    >>> import pandas as pd
    >>> prices = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4"],
    ...                        "input_usd_per_mtok": [30.0], "output_usd_per_mtok": [60.0]})
    >>> calls = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4"],
    ...                       "input_tokens": [1_000_000], "output_tokens": [0]})
    >>> as_pricer(prices, who="demo")(calls).tolist()
    [30.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

import numpy as np
import pandas as pd

#: A pricer: calls -> cost in USD per row (a Series, or a frame with a ``total`` column).
Pricer: TypeAlias = Callable[[pd.DataFrame], "pd.Series | pd.DataFrame"]
#: What an analysis accepts as prices: a price table frame or a pricer.
Prices: TypeAlias = "pd.DataFrame | Pricer"

#: Columns a price table must have.
PRICE_COLUMNS: Final[tuple[str, ...]] = (
    "provider",
    "model",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
)
#: Columns of the record a pricer reads (the rest of a call does not change its price).
PRICED_COLUMNS: Final[tuple[str, ...]] = (
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "service_tier",
    "timestamp",
)
#: Tokens per price unit: prices are quoted in USD per million tokens.
_TOKENS_PER_UNIT: Final[float] = 1e6


def check_prices(prices: pd.DataFrame, *, who: str) -> None:
    """Raise ``ValueError`` naming the first missing column of a price table.

    Example:
        >>> check_prices(pd.DataFrame({"provider": []}), who="demo")
        Traceback (most recent call last):
        ...
        ValueError: demo: prices lacks column 'model' (a price table has provider, model, input_usd_per_mtok, output_usd_per_mtok; showcase_lib.pricing.price_table() builds one)
    """
    for c in PRICE_COLUMNS:
        if c not in prices.columns:
            raise ValueError(
                f"{who}: prices lacks column {c!r} (a price table has {', '.join(PRICE_COLUMNS)}; "
                "showcase_lib.pricing.price_table() builds one)"
            )


def _rows(prices: pd.DataFrame, provider: pd.Series, model: pd.Series) -> np.ndarray:
    """Row position in ``prices`` of each (provider, model); names the first unknown pair.

    Each distinct pair is looked up once (a fleet has a few dozen), then spread to the calls.
    """
    p_code, p_names = pd.factorize(provider)  # a categorical column factorizes by its codes
    m_code, m_names = pd.factorize(model)
    pair, first = np.unique(p_code * max(len(m_names), 1) + m_code, return_inverse=True)
    keys = pd.MultiIndex.from_arrays(
        [prices["provider"].astype(str).to_numpy(), prices["model"].astype(str).to_numpy()]
    )
    wanted = pd.MultiIndex.from_arrays(
        [
            np.asarray(p_names, dtype=object)[pair // max(len(m_names), 1)].astype(str),
            np.asarray(m_names, dtype=object)[pair % max(len(m_names), 1)].astype(str),
        ]
    )
    pos = keys.get_indexer(wanted)
    if len(pos) and (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise LookupError(
            f"no price for provider={wanted[i][0]!r}, model={wanted[i][1]!r} in the price table "
            f"({len(prices)} rows); add a row for it"
        )
    return pos[first.reshape(-1)] if len(pos) else np.zeros(0, dtype=np.int64)


def _column(prices: pd.DataFrame, name: str, rows: np.ndarray, default: np.ndarray) -> np.ndarray:
    if name not in prices.columns:
        return default
    values = prices[name].to_numpy(dtype=float)[rows]
    return np.where(np.isnan(values), default, values)


def _tokens(calls: pd.DataFrame, name: str) -> np.ndarray:
    if name not in calls:
        return np.zeros(len(calls))
    return calls[name].to_numpy(dtype=float)


def _needed(prices: pd.DataFrame, name: str, rows: np.ndarray, used: np.ndarray) -> np.ndarray:
    """A rate column the calls need (``used``): raises naming it when absent or NaN there."""
    values = (
        prices[name].to_numpy(dtype=float)[rows]
        if name in prices.columns
        else np.full(len(rows), np.nan)
    )
    bad = used & np.isnan(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"the price table has no {name!r} for provider="
            f"{prices['provider'].iloc[rows[i]]!r}, model={prices['model'].iloc[rows[i]]!r}, "
            f"needed by {int(bad.sum())} call(s); add the column or pass a pricer"
        )
    return np.nan_to_num(values)


def _writes(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(all cache writes, their 1-hour share) per call, as ``pricing.cost_breakdown`` reads
    them: ``cache_write_tokens`` (or 5m + 1h) and ``cache_write_1h_tokens`` (or total - 5m)."""
    w1h = _tokens(calls, "cache_write_1h_tokens")
    if "cache_write_tokens" in calls:
        write = _tokens(calls, "cache_write_tokens")
    else:
        write = _tokens(calls, "cache_write_5m_tokens") + w1h
    if "cache_write_1h_tokens" not in calls and "cache_write_5m_tokens" in calls:
        w1h = write - _tokens(calls, "cache_write_5m_tokens")
    return write, w1h


def _tier_multiplier(calls: pd.DataFrame, prices: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    if "service_tier" not in calls:
        return np.ones(len(calls))
    codes, names = pd.factorize(calls["service_tier"], use_na_sentinel=False)
    slugs = [str(t).strip().lower() for t in names]
    for t in slugs:
        if t not in ("standard", "batch", "nan", "none", ""):
            raise ValueError(
                f"service_tier={t!r}: a price table prices the standard and batch tiers only; "
                "pass a pricer (pricing.cost_breakdown) for the others"
            )
    batch = np.asarray([t == "batch" for t in slugs], dtype=bool)[codes] if slugs else codes > 0
    return np.where(batch, _needed(prices, "batch_multiplier", rows, batch), 1.0)


def table_cost(calls: pd.DataFrame, prices: pd.DataFrame) -> pd.Series:
    """Cost in USD of every call at the prices of a price table, every token kind included.

    Inclusive rule: input_tokens includes the cache reads and writes, output_tokens the
    reasoning tokens (billed at the output price).

    Example:
        >>> prices = pd.DataFrame({"provider": ["a"], "model": ["m"], "input_usd_per_mtok": [1.0],
        ...     "output_usd_per_mtok": [5.0], "cache_read_usd_per_mtok": [0.1],
        ...     "batch_multiplier": [0.5]})
        >>> calls = pd.DataFrame({"provider": "a", "model": "m", "input_tokens": [10_000] * 2,
        ...     "cache_read_tokens": [8_000, 0], "output_tokens": 1_000,
        ...     "service_tier": ["standard", "batch"]})
        >>> [round(x, 6) for x in table_cost(calls, prices)]   # 2000*1+8000*0.1+1000*5; half
        [0.0078, 0.0075]
        >>> table_cost(calls, prices.drop(columns="cache_read_usd_per_mtok"))
        Traceback (most recent call last):
        ...
        ValueError: the price table has no 'cache_read_usd_per_mtok' for provider='a', model='m', needed by 1 call(s); add the column or pass a pricer
    """
    n = len(calls)
    rows = _rows(prices, calls["provider"], calls["model"])
    tin, tout = _tokens(calls, "input_tokens"), _tokens(calls, "output_tokens")
    read = _tokens(calls, "cache_read_tokens")
    write, w1h = _writes(calls)
    rate_in = prices["input_usd_per_mtok"].to_numpy(dtype=float)[rows]
    rate_out = prices["output_usd_per_mtok"].to_numpy(dtype=float)[rows]
    rate_read = _needed(prices, "cache_read_usd_per_mtok", rows, read > 0)
    rate_5m = _needed(prices, "cache_write_5m_usd_per_mtok", rows, write - w1h > 0)
    rate_1h = _needed(prices, "cache_write_1h_usd_per_mtok", rows, w1h > 0)
    threshold = _column(prices, "long_context_threshold_tokens", rows, np.full(n, np.inf))
    if np.isfinite(threshold).any():
        long = tin > threshold
        long_in = _column(prices, "long_context_input_usd_per_mtok", rows, rate_in)
        scale = np.where(long & (rate_in > 0), long_in / np.where(rate_in > 0, rate_in, 1.0), 1.0)
        rate_read, rate_5m, rate_1h = rate_read * scale, rate_5m * scale, rate_1h * scale
        rate_in = np.where(long, long_in, rate_in)
        rate_out = np.where(
            long, _column(prices, "long_context_output_usd_per_mtok", rows, rate_out), rate_out
        )
    usd = (tin - read - write) * rate_in + read * rate_read
    usd = usd + (write - w1h) * rate_5m + w1h * rate_1h + tout * rate_out
    usd = usd / _TOKENS_PER_UNIT * _tier_multiplier(calls, prices, rows)
    return pd.Series(usd, index=calls.index, name="cost_usd", dtype="float64")


def as_pricer(prices: Prices, *, who: str) -> Callable[[pd.DataFrame], pd.Series]:
    """A function calls -> cost in USD per row (a Series on the calls' index) from a price
    table frame or a pricer; raises ``TypeError`` naming anything else.

    A pricer that returns a frame contributes its ``total`` column; one that returns the wrong
    number of rows raises ``ValueError``.

    Example:
        >>> double = as_pricer(lambda df: df["input_tokens"] * 2.0, who="demo")
        >>> double(pd.DataFrame({"input_tokens": [1, 2]})).tolist()
        [2.0, 4.0]
        >>> as_pricer(3.0, who="demo")
        Traceback (most recent call last):
        ...
        TypeError: demo: prices=3.0 is neither a price table frame nor a pricer (calls -> cost per call)
    """
    if isinstance(prices, pd.DataFrame):
        check_prices(prices, who=who)
        table = prices
        return lambda calls: table_cost(calls, table)
    if not callable(prices):
        raise TypeError(
            f"{who}: prices={prices!r} is neither a price table frame nor a pricer "
            "(calls -> cost per call)"
        )
    fn = prices

    def priced(calls: pd.DataFrame) -> pd.Series:
        out = fn(calls)
        if isinstance(out, pd.DataFrame):
            out = out["total"]
        values = np.asarray(out, dtype=float)
        if values.shape != (len(calls),):
            raise ValueError(
                f"{who}: the pricer returned {values.shape} values for {len(calls)} calls"
            )
        return pd.Series(values, index=calls.index, name="cost_usd", dtype="float64")

    return priced


def priced_view(calls: pd.DataFrame) -> pd.DataFrame:
    """The columns of the calls a pricer reads (a copy to modify: other model, cache, tier).

    Example:
        >>> list(priced_view(pd.DataFrame({"model": ["m"], "customer_id": ["c"],
        ...     "input_tokens": [1]})).columns)
        ['model', 'input_tokens']
    """
    return calls[[c for c in PRICED_COLUMNS if c in calls.columns]].copy()


def on_model(
    calls: pd.DataFrame, provider: str | np.ndarray, model: str | np.ndarray
) -> pd.DataFrame:
    """A copy of the priced columns with every call (or each call) on ``provider``/``model``:
    the same tokens of every kind, another model.

    Example:
        >>> on_model(pd.DataFrame({"provider": ["a"], "model": ["m"], "input_tokens": [5]}),
        ...          "b", "n").values.tolist()
        [['b', 'n', 5]]
    """
    out = priced_view(calls)
    out["provider"] = _as_column(provider, len(out))
    out["model"] = _as_column(model, len(out))
    return out


def _as_column(value: str | np.ndarray, n: int) -> pd.Categorical:
    """One value for every row, or one per row, as a categorical column."""
    if np.ndim(value) == 0:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[str(value)])
    return pd.Categorical(np.asarray(value, dtype=object))


def offered_models(prices: pd.DataFrame, providers: Sequence[str]) -> list[tuple[str, str]]:
    """(provider, model) pairs of ``providers`` in table order, retired rows left out.

    Example:
        >>> t = pd.DataFrame({"provider": ["a", "a", "b"], "model": ["m", "old", "n"],
        ...                   "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 1.0,
        ...                   "retired": [False, True, False]})
        >>> offered_models(t, ["a"])
        [('a', 'm')]
    """
    keep = prices["provider"].astype(str).isin(list(providers)).to_numpy()
    if "retired" in prices.columns:
        keep &= ~prices["retired"].fillna(False).astype(bool).to_numpy()
    sub = prices.loc[keep]
    return list(zip(sub["provider"].astype(str), sub["model"].astype(str), strict=True))
