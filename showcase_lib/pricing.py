"""Model price catalog and vectorised cost of AI calls.

Prices come from the maintained, offline price package ``genai-prices`` (pinned in
``requirements.txt``). Its per-call API is slow, so the catalog is resolved **once** into a small
table (cached) and a whole DataFrame is priced with array arithmetic. Only retired models the
package no longer lists get a hand-written, cited row (see ``RETIRED_PRICES``).

Example:
    >>> from showcase_lib.pricing import price, cost_usd
    >>> price("openai", "gpt-4o-mini").input_usd_per_mtok
    0.15
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4"],
    ...                       "input_tokens": [1_000], "output_tokens": [500]})
    >>> round(float(cost_usd(calls).iloc[0]), 4)  # 1000 * 30/1e6 + 500 * 60/1e6
    0.06
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "CATALOG",
    "PROVIDERS",
    "ModelPrice",
    "UnknownModelError",
    "cost_usd",
    "price",
    "price_table",
]

#: Provider slugs used in the record (lower case).
PROVIDERS: Final[tuple[str, ...]] = (
    "openai",
    "anthropic",
    "google",
    "mistral",
    "cohere",
    "aws-bedrock",
    "azure-openai",
)

#: Our provider slug -> the provider id inside ``genai-prices``.
_GENAI_PROVIDER: Final[dict[str, str]] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "mistral": "mistral",
    "cohere": "cohere",
    "aws-bedrock": "aws",
    "azure-openai": "azure",
}

#: Spellings accepted on input and mapped to the slugs above.
_PROVIDER_ALIASES: Final[dict[str, str]] = {
    "aws": "aws-bedrock",
    "bedrock": "aws-bedrock",
    "amazon-bedrock": "aws-bedrock",
    "azure": "azure-openai",
    "gemini": "google",
    "google-ai": "google",
    "vertex": "google",
    "mistralai": "mistral",
}

#: Prices are resolved as of this instant (``genai-prices`` keeps dated price histories), so the
#: catalog does not drift with the wall clock.
PRICE_AS_OF: Final[datetime] = datetime(2026, 1, 1, tzinfo=timezone.utc)


class _Entry(NamedTuple):
    """One catalog row: provider slug, model as written in the record, and the reference
    ``genai-prices`` resolves (None for a retired model priced from ``RETIRED_PRICES``)."""

    provider: str
    model: str
    ref: str | None


#: The models the simulation uses, one keyword row each (see ``_Entry``).
CATALOG: Final[tuple[_Entry, ...]] = (
    _Entry(provider="openai", model="gpt-4", ref="gpt-4"),
    _Entry(provider="openai", model="gpt-4-turbo", ref="gpt-4-turbo"),
    _Entry(provider="openai", model="gpt-4o", ref="gpt-4o"),
    _Entry(provider="openai", model="gpt-4o-mini", ref="gpt-4o-mini"),
    _Entry(provider="openai", model="gpt-3.5-turbo", ref="gpt-3.5-turbo"),
    _Entry(provider="anthropic", model="claude-sonnet-4", ref="claude-sonnet-4"),
    _Entry(provider="anthropic", model="claude-3-5-sonnet", ref="claude-3-5-sonnet"),
    _Entry(provider="anthropic", model="claude-3-5-haiku", ref="claude-3-5-haiku"),
    _Entry(provider="anthropic", model="claude-3-haiku", ref="claude-3-haiku"),
    _Entry(provider="anthropic", model="claude-instant-1.2", ref=None),
    _Entry(provider="google", model="gemini-1.5-pro", ref="gemini-1.5-pro"),
    _Entry(provider="google", model="gemini-1.5-flash", ref="gemini-1.5-flash"),
    _Entry(provider="google", model="gemini-2.0-flash", ref="gemini-2.0-flash"),
    _Entry(provider="mistral", model="mistral-large", ref="mistral-large"),
    _Entry(provider="mistral", model="mistral-small", ref="mistral-small-latest"),
    _Entry(provider="cohere", model="command-r", ref="command-r"),
    _Entry(provider="cohere", model="command-r-plus", ref="command-r-plus"),
    _Entry(
        provider="aws-bedrock",
        model="anthropic.claude-3-haiku",
        ref="anthropic.claude-3-haiku-20240307-v1:0",
    ),
    _Entry(
        provider="aws-bedrock",
        model="anthropic.claude-3-5-sonnet",
        ref="anthropic.claude-3-5-sonnet-20240620-v1:0",
    ),
    _Entry(provider="aws-bedrock", model="amazon.nova-lite", ref="amazon.nova-lite-v1:0"),
    _Entry(
        provider="aws-bedrock",
        model="meta.llama3-1-70b-instruct",
        ref="meta.llama3-1-70b-instruct-v1:0",
    ),
    _Entry(provider="azure-openai", model="gpt-4o", ref="gpt-4o"),
    _Entry(provider="azure-openai", model="gpt-4o-mini", ref="gpt-4o-mini"),
)

#: Retired models ``genai-prices`` no longer lists: (provider, model) -> (input, output USD per
#: million tokens, citation). Keep this table tiny and cited.
RETIRED_PRICES: Final[dict[tuple[str, str], tuple[float, float, str]]] = {
    ("anthropic", "claude-instant-1.2"): (
        0.80,
        2.40,
        "retired-model table: Anthropic API pricing for Claude Instant 1.2, $0.80/$2.40 per MTok "
        "(anthropic.com/pricing, archived 2024); retired 2024-11-06 per "
        "docs.anthropic.com/en/docs/resources/model-deprecations",
    ),
}

#: Rows priced per numpy pass: a million rows keep each temporary array at 8 MB, so pricing
#: 10M rows never holds more than a few tens of MB of scratch.
_CHUNK: Final[int] = 1 << 20

_TABLE_COLUMNS: Final[tuple[str, ...]] = (
    "provider",
    "model",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "source",
    "long_context_threshold_tokens",
    "long_context_input_usd_per_mtok",
    "long_context_output_usd_per_mtok",
    "retired",
)


class UnknownModelError(LookupError):
    """No price is known for a (provider, model) pair; the message names both."""


@dataclass(frozen=True)
class ModelPrice:
    """Price of one model in USD per million tokens, and where it came from.

    ``long_context_*`` are set for models whose whole call is billed at a higher rate once the
    prompt exceeds ``long_context_threshold_tokens`` (e.g. Gemini 1.5 above 128k tokens).

    Example:
        >>> p = ModelPrice(input_usd_per_mtok=30.0, output_usd_per_mtok=60.0, source="a table")
        >>> p.call_cost(1_000_000, 0)
        30.0
    """

    input_usd_per_mtok: float
    output_usd_per_mtok: float
    source: str
    long_context_threshold_tokens: int | None = None
    long_context_input_usd_per_mtok: float | None = None
    long_context_output_usd_per_mtok: float | None = None

    def call_cost(self, input_tokens: int, output_tokens: int) -> float:
        """Cost in USD of one call with these token counts."""
        pin, pout = self.input_usd_per_mtok, self.output_usd_per_mtok
        if (
            self.long_context_threshold_tokens is not None
            and input_tokens > self.long_context_threshold_tokens
        ):
            pin = self.long_context_input_usd_per_mtok or pin
            pout = self.long_context_output_usd_per_mtok or pout
        return (input_tokens * pin + output_tokens * pout) / 1e6


def _genai_prices_version() -> str:
    """Installed version of ``genai-prices`` (e.g. ``"0.2.3"``)."""
    import genai_prices

    return str(genai_prices.__version__)


def _normalize_provider(provider: str) -> str:
    """Map a provider spelling to the record's slug (``"OpenAI"`` -> ``"openai"``).

    Example:
        >>> _normalize_provider("Bedrock")
        'aws-bedrock'
    """
    slug = str(provider).strip().lower().replace("_", "-").replace(" ", "-")
    return _PROVIDER_ALIASES.get(slug, slug)


def _as_float(value: Any) -> tuple[float | None, int | None, float | None]:
    """(base price, tier threshold, tier price) of a genai-prices price value."""
    if value is None:
        return None, None, None
    tiers = getattr(value, "tiers", None)
    if tiers is not None:  # TieredPrices: one long-context tier is all our models use
        first = tiers[0] if tiers else None
        return (
            float(value.base),
            int(first.start) if first else None,
            float(first.price) if first else None,
        )
    return float(value), None, None


#: Prices are quoted per million tokens. One token of each kind is priced through the public
#: ``calc_price`` (below every long-context tier, so the base rate applies) and the Decimal
#: result scaled by a million, which is exact.
_MTOK: Final[Decimal] = Decimal(1_000_000)


@functools.lru_cache(maxsize=1024)
def _lookup_genai(provider: str, model_ref: str) -> ModelPrice | None:
    """Resolve one model with the public ``genai_prices.calc_price`` (slow: cached per pair).

    The base rates are the price of one input (output) token times a million; a long-context tier, if
    the model has one, is read from the calculation's ``model_price`` (a public result field).
    """
    from genai_prices import Usage, calc_price

    genai_provider = _GENAI_PROVIDER.get(provider, provider)
    try:
        calc = calc_price(
            Usage(input_tokens=1, output_tokens=1),
            model_ref,
            provider_id=genai_provider,
            genai_request_timestamp=PRICE_AS_OF,
        )
    except LookupError:
        return None
    rates = calc.model_price
    _, threshold, pin_long = _as_float(rates.input_mtok)
    _, threshold_out, pout_long = _as_float(rates.output_mtok)
    if rates.input_mtok is None or rates.output_mtok is None:
        return None
    return ModelPrice(
        input_usd_per_mtok=float(calc.input_price * _MTOK),
        output_usd_per_mtok=float(calc.output_price * _MTOK),
        source=f"genai-prices {_genai_prices_version()} ({genai_provider}/{calc.model.id}, "
        f"as of {PRICE_AS_OF.date().isoformat()})",
        long_context_threshold_tokens=threshold if threshold is not None else threshold_out,
        long_context_input_usd_per_mtok=pin_long,
        long_context_output_usd_per_mtok=pout_long,
    )


def _resolve(provider: str, model: str, model_ref: str | None = None) -> ModelPrice | None:
    if (provider, model) in RETIRED_PRICES:
        pin, pout, source = RETIRED_PRICES[(provider, model)]
        return ModelPrice(input_usd_per_mtok=pin, output_usd_per_mtok=pout, source=source)
    return _lookup_genai(provider, model_ref or model)


@functools.lru_cache(maxsize=1)
def _price_table_cached() -> pd.DataFrame:
    rows = []
    for provider, model, ref in CATALOG:
        p = _resolve(provider, model, ref)
        if p is None:  # a catalog entry the package lost: fail loudly, never guess
            raise UnknownModelError(
                f"genai-prices {_genai_prices_version()} has no price for "
                f"provider={provider!r}, model={model!r} (reference {ref!r})"
            )
        rows.append((provider, model, *_price_row(p), (provider, model) in RETIRED_PRICES))
    return pd.DataFrame(rows, columns=list(_TABLE_COLUMNS))


def _price_row(p: ModelPrice) -> tuple[Any, ...]:
    return (
        p.input_usd_per_mtok,
        p.output_usd_per_mtok,
        p.source,
        p.long_context_threshold_tokens if p.long_context_threshold_tokens is not None else np.nan,
        p.long_context_input_usd_per_mtok
        if p.long_context_input_usd_per_mtok is not None
        else np.nan,
        p.long_context_output_usd_per_mtok
        if p.long_context_output_usd_per_mtok is not None
        else np.nan,
    )


def price_table() -> pd.DataFrame:
    """One row per catalog model: provider, model, input/output USD per Mtok, source.

    Built once from ``genai-prices`` (cached); a fresh copy is returned on each call. The
    ``long_context_*`` columns are NaN unless the model bills long prompts at a higher rate;
    ``retired`` marks the models priced from the cited retired-model table. This is the price
    table the analyses take as data (``analyze_optimization(calls, price_table())``).

    Example:
        >>> t = price_table()
        >>> t.loc[t.model == "gpt-4", ["input_usd_per_mtok", "output_usd_per_mtok"]].values.tolist()
        [[30.0, 60.0]]
    """
    return _price_table_cached().copy()


@functools.lru_cache(maxsize=1)
def _catalog_index() -> dict[tuple[str, str], ModelPrice]:
    out: dict[tuple[str, str], ModelPrice] = {}
    for row in _price_table_cached().itertuples(index=False):
        out[(row.provider, row.model)] = ModelPrice(
            input_usd_per_mtok=float(row.input_usd_per_mtok),
            output_usd_per_mtok=float(row.output_usd_per_mtok),
            source=str(row.source),
            long_context_threshold_tokens=None
            if pd.isna(row.long_context_threshold_tokens)
            else int(row.long_context_threshold_tokens),
            long_context_input_usd_per_mtok=None
            if pd.isna(row.long_context_input_usd_per_mtok)
            else float(row.long_context_input_usd_per_mtok),
            long_context_output_usd_per_mtok=None
            if pd.isna(row.long_context_output_usd_per_mtok)
            else float(row.long_context_output_usd_per_mtok),
        )
    return out


def price(provider: str, model: str) -> ModelPrice:
    """Price of one model. Catalog models first, then any model ``genai-prices`` knows.

    Raises ``UnknownModelError`` naming the provider and model when no price is known.

    Example:
        >>> price("anthropic", "claude-3-haiku").output_usd_per_mtok
        1.25
    """
    slug = _normalize_provider(provider)
    key = (slug, str(model))
    hit = _catalog_index().get(key)
    if hit is not None:
        return hit
    found = _resolve(slug, str(model)) if slug in _GENAI_PROVIDER else None
    if found is None:
        raise UnknownModelError(
            f"no price for provider={provider!r}, model={model!r}: not in genai-prices "
            f"{_genai_prices_version()} nor in the retired-model table "
            f"(known providers: {', '.join(PROVIDERS)})"
        )
    return found


def _as_categorical(values: Any) -> pd.Categorical:
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return values.array  # type: ignore[return-value]
    if isinstance(values, pd.Categorical):
        return values
    return pd.Categorical(np.asarray(values, dtype=object))


def cost_usd(calls: pd.DataFrame | Mapping[str, Any]) -> pd.Series:
    """Vectorised cost in USD of every call (columns provider, model, input_tokens, output_tokens).

    Each distinct (provider, model) pair is priced once; the rows are then priced with array
    arithmetic through the pair's integer code, so 10M rows cost a few numpy passes.
    Raises ``UnknownModelError`` naming the first unpriced provider and model.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"provider": ["openai", "anthropic"],
        ...                    "model": ["gpt-4o-mini", "claude-3-haiku"],
        ...                    "input_tokens": [1_000_000, 0], "output_tokens": [0, 1_000_000]})
        >>> cost_usd(df).round(2).tolist()
        [0.15, 1.25]
    """
    missing = [c for c in ("provider", "model", "input_tokens", "output_tokens") if c not in calls]
    if missing:
        raise KeyError(f"cost_usd needs columns {missing}")
    index = calls.index if isinstance(calls, pd.DataFrame) else None
    prov = _as_categorical(calls["provider"])
    mod = _as_categorical(calls["model"])
    pc = np.asarray(prov.codes)
    mc = np.asarray(mod.codes)
    n_models = max(len(mod.categories), 1)
    if len(pc) and (pc.min() < 0 or mc.min() < 0):
        bad = int(np.flatnonzero((pc < 0) | (mc < 0))[0])
        raise UnknownModelError(f"row {bad + 1}: provider or model is missing, cannot price it")
    n_pairs = max(len(prov.categories), 1) * n_models
    pair = pc.astype(np.int32 if n_pairs < 2**31 else np.int64)
    pair *= n_models
    pair += mc
    present = np.flatnonzero(np.bincount(pair, minlength=n_pairs)) if len(pair) else []

    pin = np.zeros(n_pairs)
    pout = np.zeros(n_pairs)
    thr = np.full(n_pairs, np.inf)
    pin_long = np.zeros(n_pairs)
    pout_long = np.zeros(n_pairs)
    for code in present:
        p = price(str(prov.categories[code // n_models]), str(mod.categories[code % n_models]))
        pin[code], pout[code] = p.input_usd_per_mtok, p.output_usd_per_mtok
        if p.long_context_threshold_tokens is not None:
            thr[code] = p.long_context_threshold_tokens
            pin_long[code] = p.long_context_input_usd_per_mtok or p.input_usd_per_mtok
            pout_long[code] = p.long_context_output_usd_per_mtok or p.output_usd_per_mtok

    tin_all = np.asarray(calls["input_tokens"])
    tout_all = np.asarray(calls["output_tokens"])
    has_tiers = bool(np.isfinite(thr[present]).any()) if len(present) else False
    cost = np.empty(len(pair), dtype=np.float64)
    for lo in range(0, len(pair), _CHUNK):  # chunks bound the temporaries at any size
        hi = min(len(pair), lo + _CHUNK)
        pr = pair[lo:hi]
        tin = tin_all[lo:hi].astype(np.float64)
        tout = tout_all[lo:hi].astype(np.float64)
        rate_in, rate_out = pin[pr], pout[pr]
        if has_tiers:
            long = tin > thr[pr]
            rate_in = np.where(long, pin_long[pr], rate_in)
            rate_out = np.where(long, pout_long[pr], rate_out)
        cost[lo:hi] = (tin * rate_in + tout * rate_out) / 1e6
    return pd.Series(cost, index=index, name="cost_usd", dtype="float64", copy=False)
