"""Model price catalog and vectorised cost of AI calls.

``cost_breakdown`` is the full bill of each call by token kind: cache reads and writes, reasoning,
service tiers, long-context cliffs and the price at each call's timestamp (or at one instant,
``at=``); ``cost_usd`` is its total. ``price`` and ``price_table`` give list prices per model as
of ``PRICE_AS_OF``.

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
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from showcase_lib._lazy import OnFirstUse
from showcase_lib.schema import SERVICE_TIER_MULTIPLIERS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    # imported on first use: the emulator's server loads this module without pandas/numpy
    np = OnFirstUse("numpy", "np", globals())
    pd = OnFirstUse("pandas", "pd", globals())

__all__ = [
    "CATALOG",
    "PROVIDERS",
    "ModelPrice",
    "UnknownModelError",
    "cost_breakdown",
    "cost_usd",
    "price",
    "price_changes",
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

#: List prices (``price``, ``price_table``, and calls without a timestamp) are resolved as of this
#: instant (``genai-prices`` keeps dated price histories), so the catalog does not drift with the
#: wall clock. 2026-11-01: after every dated change of the catalog's 2026 models in genai-prices
#: 0.2.3 (gpt-5.6-luna's cut of 2026-07-30, the batch variants of 2026-10-14).
PRICE_AS_OF: Final[datetime] = datetime(2026, 11, 1, tzinfo=timezone.utc)


class _Entry(NamedTuple):
    """One catalog row: provider slug, model as written in the record, and the reference
    ``genai-prices`` resolves (None for a retired model priced from ``RETIRED_PRICES``)."""

    provider: str
    model: str
    ref: str | None


#: The models the simulation uses, one keyword row each (see ``_Entry``): the 2024 fleet the
#: book started with (gpt-4 and claude-instant-1.2 are the seed's historic pair) and the 2026
#: fleet of genai-prices 0.2.3 (a frontier, a mid and a small model per major provider, a
#: reasoning model, a cloud-hosted Claude).
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
    # the 2026 fleet: frontier, mid, small per provider; o3 is the reasoning model
    _Entry(provider="openai", model="gpt-5.5", ref="gpt-5.5"),
    _Entry(provider="openai", model="gpt-5.6-luna", ref="gpt-5.6-luna"),
    _Entry(provider="openai", model="gpt-5.4-nano", ref="gpt-5.4-nano"),
    _Entry(provider="openai", model="o3", ref="o3"),
    _Entry(provider="anthropic", model="claude-opus-5", ref="claude-opus-5"),
    _Entry(provider="anthropic", model="claude-sonnet-5", ref="claude-sonnet-5"),
    _Entry(provider="anthropic", model="claude-haiku-4-5", ref="claude-haiku-4-5"),
    _Entry(provider="google", model="gemini-3.1-pro-preview", ref="gemini-3.1-pro-preview"),
    _Entry(provider="google", model="gemini-3.5-flash", ref="gemini-3.5-flash"),
    _Entry(provider="google", model="gemini-3.5-flash-lite", ref="gemini-3.5-flash-lite"),
    _Entry(
        provider="aws-bedrock",
        model="anthropic.claude-sonnet-5",
        ref="anthropic.claude-sonnet-5-v1:0",
    ),
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
    "cache_read_usd_per_mtok",
    "cache_write_5m_usd_per_mtok",
    "cache_write_1h_usd_per_mtok",
    "batch_multiplier",
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
    prices = _catalog_index()
    for provider, model, _ in CATALOG:
        p = prices[(provider, model)]
        retired = (provider, model) in RETIRED_PRICES
        rows.append((provider, model, *_price_row(p), retired, *_cache_and_batch(provider, model)))
    return pd.DataFrame(rows, columns=list(_TABLE_COLUMNS))


def _cache_and_batch(provider: str, model: str) -> tuple[float, float, float, float]:
    """Cache read, 5-minute and 1-hour cache write USD per MTok (below any cliff) and the batch
    tier's price over the standard one, as of ``PRICE_AS_OF``. A model without a cache price
    bills those tokens at its input price (as genai-prices does)."""
    std = _rates(provider, model, PRICE_AS_OF, "standard")
    batch = _rates(provider, model, PRICE_AS_OF, "batch")
    _, read, w5m, w1h, _, _ = (round(r * 1e6, 9) for r in std.per_token[0])
    ratio = batch.per_token[0][0] * batch.multiplier / std.per_token[0][0]
    return read, w5m, w1h, round(ratio, 9)


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
    """One row per catalog model: provider, model, input/output USD per Mtok, source, as of
    ``PRICE_AS_OF``.

    Built once from ``genai-prices`` (cached); a fresh copy is returned on each call. The
    ``long_context_*`` columns are NaN unless the model bills long prompts at a higher rate;
    ``retired`` marks the models priced from the cited retired-model table. Then the prompt
    cache, per MTok below any cliff: ``cache_read_usd_per_mtok``, ``cache_write_5m_usd_per_mtok``
    and ``cache_write_1h_usd_per_mtok`` (the input price where the model has no such price), and
    ``batch_multiplier``, the batch tier's input price over the standard one (the package's
    batch variant, else the documented 0.5). This is the price table the analyses take as data
    (``analyze_optimization(calls, price_table())``).

    Example:
        >>> t = price_table()
        >>> t.loc[t.model == "gpt-4", ["input_usd_per_mtok", "output_usd_per_mtok"]].values.tolist()
        [[30.0, 60.0]]
        >>> cache = ["cache_read_usd_per_mtok", "cache_write_5m_usd_per_mtok",
        ...          "cache_write_1h_usd_per_mtok", "batch_multiplier"]
        >>> t.loc[t.model == "claude-sonnet-5", cache].values.tolist()
        [[0.2, 2.5, 4.0, 0.5]]
    """
    return _price_table_cached().copy()


@functools.lru_cache(maxsize=1)
def _catalog_index() -> dict[tuple[str, str], ModelPrice]:
    """Every catalog model's price, resolved once (no pandas: the emulator's server uses it)."""
    out: dict[tuple[str, str], ModelPrice] = {}
    for provider, model, ref in CATALOG:
        p = _resolve(provider, model, ref)
        if p is None:  # a catalog entry the package lost: fail loudly, never guess
            raise UnknownModelError(
                f"genai-prices {_genai_prices_version()} has no price for "
                f"provider={provider!r}, model={model!r} (reference {ref!r})"
            )
        out[(provider, model)] = p
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


# ---------------------------------------------------------------------------------------------
# The full bill: every token kind, service tiers, long-context cliffs, the price at the call's
# timestamp. Token rule (inclusive, as OpenTelemetry GenAI and genai-prices' ``Usage``):
# ``input_tokens`` includes ``cache_read_tokens`` and ``cache_write_tokens``; ``output_tokens``
# includes ``reasoning_tokens``; ``cache_write_tokens`` is the 5-minute plus the 1-hour writes.
# ---------------------------------------------------------------------------------------------

_ServiceTier = Literal["standard", "batch", "flex", "priority"]

#: The service tiers a record may carry, in code order (a missing column is all "standard").
_SERVICE_TIERS: Final[tuple[_ServiceTier, ...]] = ("standard", "batch", "flex", "priority")

#: The genai-prices ``price_context`` that selects each tier's price variant (its models carry
#: ``price_variants`` keyed ``{"processing": "batch"}`` and ``{"service_tier": "flex"|"priority"}``,
#: e.g. gpt-5.5 batch $2.50/$15 vs $5/$30 per MTok, dated from 2026-10-14 in 0.2.3).
_TIER_CONTEXT: Final[dict[str, dict[str, str] | None]] = {
    "standard": None,
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}

#: Multiplier on every token kind when genai-prices has no variant for the model at that date:
#: the record's one cited table (``schema.SERVICE_TIER_MULTIPLIERS``), shared with the wire's
#: ``costMultiplier`` and the emulator's pricing.
_TIER_FALLBACK: Final[dict[str, float]] = SERVICE_TIER_MULTIPLIERS

#: Rate kinds, in table order: uncached input, cache read, 5-minute write, 1-hour write, visible
#: output, reasoning output.
_KINDS: Final[tuple[str, ...]] = (
    "input",
    "cache_read",
    "write_5m",
    "write_1h",
    "output",
    "reasoning",
)

#: genai-prices price keys that may carry a long-context tier ("cliff": crossing the threshold
#: reprices every token of the call, ``TieredPrices`` in the package).
_TIERED_KEYS: Final[tuple[str, ...]] = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_1h_mtok",
    "output_mtok",
)

#: Output probes use a million tokens so the Decimal difference is exact and well scaled.
_PROBE_OUT: Final[int] = 1_000_000

#: The result columns of ``cost_breakdown``, in order.
_BREAKDOWN_COLUMNS: Final[tuple[str, ...]] = (
    "input",
    "cache_read",
    "cache_write",
    "output",
    "reasoning",
    "total",
)


class _Rates(NamedTuple):
    """USD per token of each kind (``_KINDS``) per cliff band, and the tier multiplier left to
    apply (1.0 when genai-prices priced the tier itself). Band b holds calls whose input_tokens
    exceed ``thresholds[b - 1]``."""

    thresholds: tuple[int, ...]
    per_token: tuple[tuple[float, ...], ...]
    multiplier: float


class _Probe(NamedTuple):
    """One resolved (model, instant, tier): where to send ``calc_price`` probes."""

    ref: str
    provider_id: str
    when: datetime
    context: dict[str, str] | None


def _probe(p: _Probe, **usage: int) -> Decimal:
    """Total price of one synthetic usage through the public ``calc_price``."""
    from genai_prices import Usage, calc_price

    return calc_price(
        Usage(**usage),
        p.ref,
        provider_id=p.provider_id,
        genai_request_timestamp=p.when,
        price_context=p.context,
    ).total_price


def _band_rates(p: _Probe, n_in: int) -> tuple[float, ...]:
    """Per-token rates of the six kinds for a call with ``n_in`` input tokens (one cliff band).

    Each kind is the price of ``n_in`` tokens of that kind over ``n_in`` (input side) or of a
    million extra output tokens (output side), so the package's own decomposition decides.
    """
    base = _probe(p, input_tokens=n_in)
    read = _probe(p, input_tokens=n_in, cache_read_tokens=n_in)
    w5m = _probe(p, input_tokens=n_in, cache_write_tokens=n_in)
    w1h = _probe(p, input_tokens=n_in, cache_write_tokens=n_in, cache_write_1h_tokens=n_in)
    out = _probe(p, input_tokens=n_in, output_tokens=_PROBE_OUT) - base
    reason = (
        _probe(p, input_tokens=n_in, output_tokens=_PROBE_OUT, output_reasoning_tokens=_PROBE_OUT)
        - base
    )
    return (
        float(base / n_in),
        float(read / n_in),
        float(w5m / n_in),
        float(w1h / n_in),
        float(out / _PROBE_OUT),
        float(reason / _PROBE_OUT),
    )


def _genai_target(provider: str, model: str) -> tuple[str, str]:
    """(genai-prices provider id, model reference) of a record's (provider, model)."""
    refs = {(e.provider, e.model): e.ref for e in CATALOG}
    return _GENAI_PROVIDER.get(provider, provider), refs.get((provider, model)) or model


def _unknown(provider: str, model: str) -> UnknownModelError:
    return UnknownModelError(
        f"no price for provider={provider!r}, model={model!r}: not in genai-prices "
        f"{_genai_prices_version()} nor in the retired-model table "
        f"(known providers: {', '.join(PROVIDERS)})"
    )


@functools.lru_cache(maxsize=256)
def _boundaries(provider: str, model: str) -> tuple[datetime, ...]:
    """UTC instants where the model's price (or a tier variant) changes, from the public
    ``PriceCalculation.model`` of ``calc_price`` (its ``prices`` and ``price_variants``).

    Example:
        >>> [d.date().isoformat() for d in _boundaries("openai", "gpt-5.6-luna")][:1]
        ['2026-07-30']
    """
    if (provider, model) in RETIRED_PRICES:
        return ()
    from genai_prices import Usage, calc_price

    genai_provider, ref = _genai_target(provider, model)
    try:
        info = calc_price(
            Usage(input_tokens=1, output_tokens=1), ref, provider_id=genai_provider
        ).model
    except LookupError:
        raise _unknown(provider, model) from None
    constraints = [c.constraint for c in info.prices] if isinstance(info.prices, list) else []
    constraints += [v.constraint for v in info.price_variants or ()]
    out = set()
    for c in constraints:
        if c is None:
            continue
        start = getattr(c, "start_date", None)
        if start is None:  # e.g. a daily off-peak window: would need per-hour resolution
            raise ValueError(
                f"model={model!r} of provider={provider!r} has a time-of-day price, which "
                "cost_breakdown does not support"
            )
        out.add(datetime(start.year, start.month, start.day, tzinfo=timezone.utc))
    return tuple(sorted(out))


@functools.lru_cache(maxsize=4096)
def _rates(provider: str, model: str, when: datetime, tier: str) -> _Rates:
    """Resolve one (provider, model, instant, tier) through ``calc_price`` (cached)."""
    if (provider, model) in RETIRED_PRICES:  # no caching nor reasoning then: input/output rates
        pin, pout, _ = RETIRED_PRICES[(provider, model)]
        rates = (pin / 1e6, pin / 1e6, pin / 1e6, pin / 1e6, pout / 1e6, pout / 1e6)
        return _Rates(thresholds=(), per_token=(rates,), multiplier=_TIER_FALLBACK[tier])
    from genai_prices import Usage, calc_price

    genai_provider, ref = _genai_target(provider, model)
    context = _TIER_CONTEXT[tier]
    try:
        std = calc_price(
            Usage(input_tokens=1), ref, provider_id=genai_provider, genai_request_timestamp=when
        )
        resolved = std
        if context is not None:
            resolved = calc_price(
                Usage(input_tokens=1),
                ref,
                provider_id=genai_provider,
                genai_request_timestamp=when,
                price_context=context,
            )
    except LookupError:
        raise _unknown(provider, model) from None
    native = context is not None and resolved.model_price != std.model_price
    starts = set()
    for key in _TIERED_KEYS:
        for t in getattr(getattr(resolved.model_price, key, None), "tiers", None) or ():
            starts.add(int(t.start))
    thresholds = tuple(sorted(starts))
    probe = _Probe(ref, genai_provider, when, context if native else None)
    bands = tuple(_band_rates(probe, n) for n in (1, *(s + 1 for s in thresholds)))
    return _Rates(thresholds, bands, 1.0 if native else _TIER_FALLBACK[tier])


def _check_part(whole: Any, part: Any, names: tuple[str, str], index: Any) -> None:
    """Raise ValueError naming the first row where ``part`` exceeds ``whole``."""
    bad = np.flatnonzero(np.broadcast_to(np.asarray(part) > np.asarray(whole), (len(index),)))
    if len(bad):
        i = int(bad[0])
        w = whole if np.isscalar(whole) else whole[i]
        p = part if np.isscalar(part) else part[i]
        raise ValueError(
            f"row {index[i]!r}: {names[1]}={p:g} exceeds {names[0]}={w:g} (inclusive rule: "
            f"{names[0]} includes {names[1]})"
        )


def _tier_codes(calls: pd.DataFrame | Mapping[str, Any], n: int) -> np.ndarray:
    """Service tier of each row as an index into ``_SERVICE_TIERS`` (missing: standard)."""
    if "service_tier" not in calls:
        return np.zeros(n, dtype=np.int64)
    cat = _as_categorical(calls["service_tier"])
    lut = np.empty(len(cat.categories) + 1, dtype=np.int64)
    lut[-1] = 0  # a missing value (code -1) is the standard tier
    for i, name in enumerate(cat.categories):
        slug = str(name).strip().lower()
        if slug not in _SERVICE_TIERS:
            raise ValueError(f"service_tier={name!r} is not one of {_SERVICE_TIERS}")
        lut[i] = _SERVICE_TIERS.index(slug)
    return lut[np.asarray(cat.codes)]


def _timestamps_ns(calls: pd.DataFrame | Mapping[str, Any], n: int) -> np.ndarray:
    """Call instants in UTC nanoseconds; without a timestamp column, ``PRICE_AS_OF``."""
    if "timestamp" not in calls:
        return np.full(n, pd.Timestamp(PRICE_AS_OF).value, dtype=np.int64)
    raw = calls["timestamp"]
    if isinstance(raw, np.ndarray) and np.issubdtype(raw.dtype, np.datetime64):
        return raw.astype("datetime64[ns]").view(np.int64)  # naive instants are UTC
    if not isinstance(raw, pd.Series):
        raw = pd.Series(raw)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        ts = raw
    elif pd.api.types.is_datetime64_dtype(raw.dtype):  # naive instants are UTC
        ts = pd.to_datetime(raw, utc=True)
    else:  # strings (ISO 8601 as on the wire, offsets allowed) or datetime objects
        ts = pd.to_datetime(raw, utc=True, format="ISO8601")
    ts = ts.dt.tz_convert("UTC").dt.as_unit("ns") if ts.dt.tz is not None else ts
    return ts.to_numpy(dtype="datetime64[ns]").view(np.int64)


class _Plan(NamedTuple):
    """What the chunked pricing pass needs: per-row rate key, per-key rates and thresholds."""

    key: np.ndarray  # per row: index into ``mult`` / ``thr`` (int32)
    table: np.ndarray  # (n_keys * max_bands, 6) USD per token of each kind
    thr: np.ndarray  # (n_keys, max_bands - 1) cliff thresholds (inf when unused)
    mult: np.ndarray  # (n_keys,) tier multiplier (already folded into ``table``)
    max_bands: int


def _instant_ns(at: datetime | str | pd.Timestamp) -> int:
    """One instant in UTC nanoseconds (naive: UTC; an ISO string may carry an offset)."""
    ts = pd.Timestamp(at)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _plan(calls: pd.DataFrame | Mapping[str, Any], at: Any, index: Any) -> _Plan:
    """Resolve every (provider, model, price period, tier) present once, and give each row the
    integer key of its rates. Raises ``UnknownModelError`` naming an unpriced pair."""
    prov = _as_categorical(calls["provider"])
    mod = _as_categorical(calls["model"])
    pc = np.asarray(prov.codes, dtype=np.int64)
    mc = np.asarray(mod.codes, dtype=np.int64)
    n = len(pc)
    if n and (pc.min() < 0 or mc.min() < 0):
        bad = int(np.flatnonzero((pc < 0) | (mc < 0))[0])
        raise UnknownModelError(f"row {index[bad]!r}: provider or model is missing")
    n_models = max(len(mod.categories), 1)
    pair = pc * n_models + mc
    del pc, mc
    pairs = np.flatnonzero(np.bincount(pair, minlength=1)) if n else np.array([], dtype=np.int64)
    names = {
        int(c): (
            _normalize_provider(prov.categories[c // n_models]),
            str(mod.categories[c % n_models]),
        )
        for c in pairs
    }
    edges = sorted({b for key in names.values() for b in _boundaries(*key)})
    edges_ns = np.array([pd.Timestamp(e).value for e in edges], dtype=np.int64)
    n_periods = len(edges) + 1
    key = pair * n_periods
    del pair
    if at is not None:
        key += int(np.searchsorted(edges_ns, _instant_ns(at), side="right"))
    elif n:
        key += _periods(_timestamps_ns(calls, n), edges_ns)
    key *= len(_SERVICE_TIERS)
    key += _tier_codes(calls, n)
    counts = np.bincount(key) if n else np.zeros(0, dtype=np.int64)
    present = np.flatnonzero(counts)
    del counts
    rates = [_rates_for(int(k), names, edges, n_periods) for k in present]
    # compact keys: row key -> position in ``present`` (a small lookup table)
    lut = np.zeros(int(present[-1]) + 1 if len(present) else 1, dtype=np.int32)
    lut[present] = np.arange(len(present), dtype=np.int32)
    compact = lut[key]
    del key
    max_bands = max((len(r.per_token) for r in rates), default=1)
    thr = np.full((max(len(rates), 1), max(max_bands - 1, 1)), np.inf)
    table = np.zeros((max(len(rates), 1) * max_bands, len(_KINDS)))
    mult = np.ones(max(len(rates), 1))
    for k, r in enumerate(rates):
        thr[k, : len(r.thresholds)] = r.thresholds
        for b, per in enumerate(r.per_token):
            table[k * max_bands + b] = np.asarray(per) * r.multiplier  # the tier folded in
        mult[k] = r.multiplier
    return _Plan(compact, table, thr, mult, max_bands)


def _periods(ts_ns: np.ndarray, edges_ns: np.ndarray) -> np.ndarray | int:
    """Price period of each instant (how many change instants are <= it). Edges before the
    earliest or after the latest instant shift every row alike, so only the edges inside the
    span cost an array pass."""
    lo, hi = int(ts_ns.min()), int(ts_ns.max())
    period: np.ndarray | int = int((edges_ns <= lo).sum())
    for edge in edges_ns[(edges_ns > lo) & (edges_ns <= hi)]:
        period = period + (ts_ns >= edge)
    if isinstance(period, np.ndarray):
        return period.astype(np.int64, copy=False)
    return period


def _raw(calls: pd.DataFrame | Mapping[str, Any], column: str) -> np.ndarray | None:
    """A token column as a numeric numpy array, without copying integer or float columns
    (None when the record has none)."""
    if column not in calls:
        return None
    arr = np.asarray(calls[column])
    return arr if arr.dtype.kind in "iuf" else arr.astype(np.float64)


def _chunk(raw: np.ndarray | None, lo: int, hi: int) -> np.ndarray | int:
    return 0 if raw is None else raw[lo:hi]


def _bill(
    calls: pd.DataFrame | Mapping[str, Any], at: Any, parts: bool
) -> tuple[dict[str, np.ndarray], Any]:
    """The priced columns (the five parts and the total, or the total only) and the index.

    Token counts stay integers until multiplied by their rate (exact below 2**53), and the
    total adds the parts in one fixed order, so both modes give bit-identical totals.
    """
    missing = [c for c in ("provider", "model", "input_tokens", "output_tokens") if c not in calls]
    if missing:
        raise KeyError(f"pricing needs columns {missing}")
    index = calls.index if isinstance(calls, pd.DataFrame) else pd.RangeIndex(len(calls["model"]))
    plan = _plan(calls, at, index)
    n = len(plan.key)
    raw = {
        c: _raw(calls, c)
        for c in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "reasoning_tokens",
        )
    }
    names = ("input", "cache_read", "cache_write", "output", "reasoning", "total")
    out = {k: np.empty(n) for k in (names if parts else ("total",))}
    rates = np.ascontiguousarray(plan.table.T)  # one contiguous row of rates per token kind
    for lo in range(0, n, _CHUNK):  # chunks bound the temporaries at any size
        hi = min(n, lo + _CHUNK)
        rows = index[lo:hi]
        tin = _chunk(raw["input_tokens"], lo, hi)
        tout = _chunk(raw["output_tokens"], lo, hi)
        read = _chunk(raw["cache_read_tokens"], lo, hi)
        w1h = _chunk(raw["cache_write_1h_tokens"], lo, hi)
        if raw["cache_write_tokens"] is not None:
            write = _chunk(raw["cache_write_tokens"], lo, hi)
        else:
            write = _chunk(raw["cache_write_5m_tokens"], lo, hi) + w1h
        if raw["cache_write_1h_tokens"] is None and raw["cache_write_5m_tokens"] is not None:
            w1h = write - _chunk(raw["cache_write_5m_tokens"], lo, hi)
        reasoning = _chunk(raw["reasoning_tokens"], lo, hi)
        _check_part(
            tin, read + write, ("input_tokens", "cache_read_tokens + cache_write_tokens"), rows
        )
        _check_part(write, w1h, ("cache_write_tokens", "cache_write_1h_tokens"), rows)
        _check_part(tout, reasoning, ("output_tokens", "reasoning_tokens"), rows)
        idx = plan.key[lo:hi].astype(np.int64)
        if plan.max_bands > 1:
            band = np.zeros(hi - lo, dtype=np.int64)
            for j in range(plan.max_bands - 1):
                band += tin > plan.thr[plan.key[lo:hi], j]
            idx *= plan.max_bands
            idx += band
            del band
        total = np.zeros(hi - lo)
        terms = (
            ("input", ((tin - read - write, 0),)),
            ("cache_read", ((read, 1),)),
            ("cache_write", ((write - w1h, 2), (w1h, 3))),
            ("output", ((tout - reasoning, 4),)),
            ("reasoning", ((reasoning, 5),)),
        )
        for name, factors in terms:
            usd: np.ndarray | float = 0.0
            for tokens, kind in factors:
                if np.isscalar(tokens) and tokens == 0:
                    continue  # an absent column adds nothing (x + 0.0 == x exactly)
                usd = usd + tokens * rates[kind][idx]
            total += usd
            if parts:
                out[name][lo:hi] = usd
        out["total"][lo:hi] = total
    return out, index


def cost_breakdown(
    calls: pd.DataFrame | Mapping[str, Any], *, at: datetime | str | None = None
) -> pd.DataFrame:
    """Cost in USD of every call by token kind: input, cache_read, cache_write, output, reasoning
    and total (one row per call, same index).

    Needs provider, model, input_tokens, output_tokens. Optional columns, zeros (or the standard
    tier, or ``PRICE_AS_OF``) when absent: cache_read_tokens, cache_write_tokens,
    cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, service_tier
    (standard / batch / flex / priority) and timestamp. Inclusive rule: input_tokens includes
    the cache reads and writes, output_tokens includes the reasoning tokens; "input" is the
    uncached rest, "output" the visible rest. cache_write_tokens is the total of the writes;
    its 1-hour share is cache_write_1h_tokens (or the total minus cache_write_5m_tokens), the
    rest is priced at the 5-minute rate (without cache_write_tokens: 5m + 1h). A call above a
    model's long-context threshold is priced wholly at the higher rates. Prices are those in
    force at the call's timestamp, or, with ``at`` (a datetime or ISO 8601 string; naive means
    UTC), those in force at that one instant for every call ("last month at today's prices").
    Each (provider, model, price period, tier) is resolved once through
    ``genai_prices.calc_price``, then the rows are priced with arrays, a million at a time.
    Raises ``UnknownModelError`` naming an unpriced pair, ``ValueError`` naming a row whose
    parts exceed their whole.

    Example:
        >>> import pandas as pd
        >>> calls = pd.DataFrame({"provider": ["anthropic"], "model": ["claude-haiku-4-5"],
        ...     "input_tokens": [10_000], "cache_read_tokens": [8_000],
        ...     "output_tokens": [1_000], "timestamp": ["2026-11-15T12:00:00Z"]})
        >>> row = cost_breakdown(calls).iloc[0]  # $1 in, $0.10 cache read, $5 out per MTok
        >>> [round(float(row[k]), 6) for k in ("input", "cache_read", "output", "total")]
        [0.002, 0.0008, 0.005, 0.0078]
        >>> luna = pd.DataFrame({"provider": ["openai"], "model": ["gpt-5.6-luna"],
        ...     "input_tokens": [100_000], "output_tokens": [0],
        ...     "timestamp": ["2026-07-01T00:00:00Z"]})  # $1.00 then, $0.20 from 2026-07-30
        >>> [round(float(cost_breakdown(luna, at=t)["total"].iloc[0]), 6) for t in (None, "2026-11")]
        [0.1, 0.02]
    """
    cols, index = _bill(calls, at, parts=True)
    return pd.DataFrame(cols, index=index, copy=False)


def cost_usd(
    calls: pd.DataFrame | Mapping[str, Any], *, at: datetime | str | None = None
) -> pd.Series:
    """Vectorised cost in USD of every call: ``cost_breakdown(calls, at=at)["total"]``, computed
    without the per-kind columns (so cheaper in memory).

    Every token kind, service tier, long-context cliff and the price at each call's timestamp
    (``PRICE_AS_OF`` when the record has no timestamp). Needs provider, model, input_tokens,
    output_tokens; raises ``UnknownModelError`` naming the first unpriced provider and model.

    Example:
        >>> import pandas as pd
        >>> calls = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4"],
        ...                       "input_tokens": [1_000], "output_tokens": [500]})
        >>> round(float(cost_usd(calls).iloc[0]), 4)  # 1000 * 30/1e6 + 500 * 60/1e6
        0.06
        >>> cached = pd.DataFrame({"provider": ["anthropic"], "model": ["claude-haiku-4-5"],
        ...     "input_tokens": [10_000], "cache_read_tokens": [9_000], "output_tokens": [0]})
        >>> round(float(cost_usd(cached).iloc[0]), 6)  # 1,000 * $1 + 9,000 * $0.10 per MTok
        0.0019
    """
    cols, index = _bill(calls, at, parts=False)
    return pd.Series(cols["total"], index=index, name="cost_usd", dtype="float64", copy=False)


def price_changes(provider: str, model: str) -> pd.DataFrame:
    """Dated list-price changes of one model in ``genai-prices``: one row per instant (UTC) from
    which the standard-tier prices differ from the day before, with the new input, cache-read
    and output USD per MTok (below any cliff). Empty for a model whose price never changed.

    Raises ``UnknownModelError`` naming an unpriced pair.

    Example:
        >>> price_changes("openai", "gpt-5.6-luna").values.tolist()  # doctest: +NORMALIZE_WHITESPACE
        [[Timestamp('2026-07-30 00:00:00+0000', tz='UTC'), 1.0, 0.2, 0.1, 0.02, 6.0, 1.2]]
    """
    slug = _normalize_provider(provider)
    rows = []
    for edge in _boundaries(slug, str(model)):
        before = _rates(slug, str(model), edge - timedelta(seconds=1), "standard").per_token[0]
        after = _rates(slug, str(model), edge, "standard").per_token[0]
        if before != after:
            rows.append(
                (
                    pd.Timestamp(edge),
                    *(round(r * 1e6, 9) for k in (0, 1, 4) for r in (before[k], after[k])),
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "start",
            "input_before_usd_per_mtok",
            "input_usd_per_mtok",
            "cache_read_before_usd_per_mtok",
            "cache_read_usd_per_mtok",
            "output_before_usd_per_mtok",
            "output_usd_per_mtok",
        ],
    )


def _rates_for(
    key: int, names: Mapping[int, tuple[str, str]], edges: list[datetime], n_periods: int
) -> _Rates:
    """Rates of one row key (pair, global price period, tier), resolved at the period's start
    (the first period: one second before the first change)."""
    tier = _SERVICE_TIERS[key % len(_SERVICE_TIERS)]
    rest = key // len(_SERVICE_TIERS)
    period, pair = rest % n_periods, rest // n_periods
    if not edges:
        when = PRICE_AS_OF
    elif period == 0:
        when = edges[0] - timedelta(seconds=1)
    else:
        when = edges[period - 1]
    return _rates(*names[pair], when, tier)
