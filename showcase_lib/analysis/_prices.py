"""Prices as data: reprice tokens from a price table frame the caller passes in.

``analysis`` depends on the record only, never on the price catalog: an analysis that needs
prices takes a table with one row per (provider, model) and the columns ``provider, model,
input_usd_per_mtok, output_usd_per_mtok`` (``showcase_lib.pricing.price_table()`` builds one;
any frame with these columns works, e.g. a negotiated price sheet). Optional columns:
``long_context_threshold_tokens`` / ``long_context_input_usd_per_mtok`` /
``long_context_output_usd_per_mtok`` (the whole call billed at the higher rate once the prompt
exceeds the threshold) and ``retired`` (bool: not offered as a candidate).

Example:
    >>> import pandas as pd
    >>> prices = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4"],
    ...                        "input_usd_per_mtok": [30.0], "output_usd_per_mtok": [60.0]})
    >>> reprice(pd.DataFrame({"input_tokens": [1_000_000], "output_tokens": [0]}), prices,
    ...         "openai", "gpt-4").tolist()
    [30.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

#: Columns a price table must have.
PRICE_COLUMNS: Final[tuple[str, ...]] = (
    "provider",
    "model",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
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


def _rows(prices: pd.DataFrame, provider: np.ndarray, model: np.ndarray) -> np.ndarray:
    """Row position in ``prices`` of each (provider, model); names the first unknown pair."""
    keys = pd.MultiIndex.from_arrays(
        [prices["provider"].astype(str).to_numpy(), prices["model"].astype(str).to_numpy()]
    )
    pos = keys.get_indexer(pd.MultiIndex.from_arrays([provider, model]))
    if len(pos) and (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise LookupError(
            f"no price for provider={provider[i]!r}, model={model[i]!r} in the price table "
            f"({len(prices)} rows); add a row for it"
        )
    return pos


def _column(prices: pd.DataFrame, name: str, rows: np.ndarray, default: np.ndarray) -> np.ndarray:
    if name not in prices.columns:
        return default
    values = prices[name].to_numpy(dtype=float)[rows]
    return np.where(np.isnan(values), default, values)


def reprice(
    calls: pd.DataFrame,
    prices: pd.DataFrame,
    provider: str | np.ndarray,
    model: str | np.ndarray,
    *,
    input_tokens: np.ndarray | None = None,
) -> pd.Series:
    """Cost in USD of ``calls``' tokens (or ``input_tokens`` instead of theirs) at the prices of
    ``provider``/``model`` (one pair for all calls, or one per call) in ``prices``.

    Example:
        >>> prices = pd.DataFrame({"provider": ["a"], "model": ["m"], "input_usd_per_mtok": [2.0],
        ...                        "output_usd_per_mtok": [8.0]})
        >>> calls = pd.DataFrame({"input_tokens": [500_000], "output_tokens": [250_000]})
        >>> reprice(calls, prices, "a", "m").tolist(), reprice(calls, prices, "a", "m",
        ...     input_tokens=np.array([0.0])).tolist()
        ([3.0], [2.0])
    """
    n = len(calls)
    prov = np.asarray(np.broadcast_to(np.asarray(provider, dtype=object), (n,)), dtype=object)
    mod = np.asarray(np.broadcast_to(np.asarray(model, dtype=object), (n,)), dtype=object)
    rows = _rows(prices, prov.astype(str), mod.astype(str))
    tin = np.asarray(calls["input_tokens"] if input_tokens is None else input_tokens, dtype=float)
    tout = np.asarray(calls["output_tokens"], dtype=float)
    rate_in = prices["input_usd_per_mtok"].to_numpy(dtype=float)[rows]
    rate_out = prices["output_usd_per_mtok"].to_numpy(dtype=float)[rows]
    threshold = _column(prices, "long_context_threshold_tokens", rows, np.full(n, np.inf))
    if np.isfinite(threshold).any():
        long = tin > threshold
        rate_in = np.where(
            long, _column(prices, "long_context_input_usd_per_mtok", rows, rate_in), rate_in
        )
        rate_out = np.where(
            long, _column(prices, "long_context_output_usd_per_mtok", rows, rate_out), rate_out
        )
    cost = (tin * rate_in + tout * rate_out) / _TOKENS_PER_UNIT
    return pd.Series(cost, index=calls.index, name="cost_usd", dtype="float64")


def base_rates(prices: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """(provider, model) -> (input, output) USD per million tokens, the table's base rates.

    Example:
        >>> base_rates(pd.DataFrame({"provider": ["a"], "model": ["m"], "input_usd_per_mtok": [1.0],
        ...                          "output_usd_per_mtok": [4.0]}))
        {('a', 'm'): (1.0, 4.0)}
    """
    return {
        (str(r.provider), str(r.model)): (
            float(r.input_usd_per_mtok),
            float(r.output_usd_per_mtok),
        )
        for r in prices[list(PRICE_COLUMNS)].itertuples(index=False)
    }


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
