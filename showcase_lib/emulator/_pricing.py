"""The emulator prices like the service: a completion without a cost is priced from its tokens.

Revenium prices a completion that carries no ``totalCost`` itself, from its model, its token
counts and its tier. The emulator does the same with the pinned price package ``genai-prices``
(pure Python and pydantic: no pandas, no numpy): one ``genai_prices.calc_price`` per record,
with the record's ``requestTime`` as ``genai_request_timestamp`` (the price in force then)
and, for the batch, flex and priority tiers, the package's ``price_context`` (its own tier
prices, e.g. gpt-5.5's batch variant); where the package has no price for the tier, its
standard price times the body's ``costMultiplier``, else the cited
``schema.SERVICE_TIER_MULTIPLIERS``. Long-context "cliffs" are the package's tiered prices:
above the threshold every token of the call is priced at the higher rate.

Deliberately a second, independent implementation of the bill (per record, in the package's
``Decimal`` arithmetic), not a call into ``showcase_lib.pricing.cost_breakdown`` (vectorised,
float): the emulator stands for the service, which prices without the client's library, so
``tests/test_cost_emulator.py`` holding both to the golden dollars checks two pricers, not one.

Token rule: the body is read with ``showcase_lib.wire.wire_to_record``, the same rule as the
service's: ``inputTokenCount`` excludes the cache writes and, except for OpenAI, Azure, Google
(Gemini), Groq and xAI, whose counts keep the reads (the service subtracts
``cacheReadTokenCount`` itself), the cache reads too (revenium-python-sdk 0.12.0,
``_core/cache_tokens.py``); ``outputTokenCount`` counts the reasoning tokens. A body whose parts
exceed their whole (an OpenAI-style count smaller than its own cache reads) is stored, like
the service stores it, but left unpriced with a note that names the counts.

One read-out entry per completion (``price_body``): ``transaction_id``, ``source``, the cost by
kind (``input``, ``cache_read``, ``cache_write``, ``output``, ``reasoning``) and ``total`` in
USD, ``tier``, ``multiplier``, ``model`` / ``provider`` (as the package resolved them),
``priced_at`` and a ``note``. ``source`` is one of ``PRICE_SOURCES``:

- ``"caller"``: the body carried ``totalCost`` (or ``inputTokenCost`` + ``outputTokenCost``):
  the caller's cost is kept, as the service keeps a cost override; the parts are the
  caller's per-kind costs where it sent them (else None);
- ``"genai-prices"``: the package's price at the call's timestamp (its tier price included);
- ``"genai-prices x tier multiplier"``: the package's standard price times the multiplier;
- ``"retired-model table"``: a retired model the package no longer lists (e.g. the seed's
  ``claude-instant-1.2``), priced from ``showcase_lib.pricing.price`` (its cited table: cache
  tokens at the input price, reasoning at the output price) times the tier multiplier;
- ``"unpriced"``: no price (a model the package does not know, or counts that break the
  inclusive rule); ``note`` says why.

Model names: a record's model is looked up through ``showcase_lib.pricing.CATALOG`` first (the
record's name -> the package's reference, e.g. ``mistral-small`` -> ``mistral-small-latest``
and the short AWS Bedrock ids), so the emulator prices every model the simulator emits, as
``showcase_lib.pricing.cost_breakdown`` does; importing ``showcase_lib.pricing`` loads neither
pandas nor numpy.

Example:
    >>> body = {"transactionId": "t1", "provider": "Anthropic", "model": "claude-haiku-4-5",
    ...         "inputTokenCount": 2_000, "cacheReadTokenCount": 8_000,
    ...         "outputTokenCount": 1_000, "requestTime": "2026-11-15T12:00:00Z"}
    >>> cost = price_body(body)  # $1 input, $0.10 cache read, $5 output per MTok
    >>> cost["source"], [round(cost[k], 6) for k in ("input", "cache_read", "output", "total")]
    ('genai-prices', [0.002, 0.0008, 0.005, 0.0078])
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Final

from showcase_lib.pricing import CATALOG, price
from showcase_lib.schema import SERVICE_TIER_MULTIPLIERS
from showcase_lib.wire import wire_to_record

#: The values of a read-out entry's ``source`` (see the module docstring).
PRICE_SOURCES: Final[tuple[str, ...]] = (
    "caller",
    "genai-prices",
    "genai-prices x tier multiplier",
    "retired-model table",
    "unpriced",
)
#: (record provider slug, record model) -> the model reference genai-prices knows, or None for
#: a retired model priced from ``showcase_lib.pricing``'s cited table (``pricing.CATALOG``).
_REFS: Final[dict[tuple[str, str], str | None]] = {(e.provider, e.model): e.ref for e in CATALOG}
#: The read-out's keys, in order.
COST_FIELDS: Final[tuple[str, ...]] = (
    "transaction_id",
    "source",
    "input",
    "cache_read",
    "cache_write",
    "output",
    "reasoning",
    "total",
    "tier",
    "multiplier",
    "model",
    "provider",
    "priced_at",
    "note",
)
#: Record provider slug -> the provider id inside genai-prices (the others are the same word);
#: the same correspondence as ``showcase_lib.pricing``.
_GENAI_PROVIDER: Final[dict[str, str]] = {"aws-bedrock": "aws", "azure-openai": "azure"}
#: The genai-prices ``price_context`` that selects a tier's own price variant (its models carry
#: ``price_variants`` keyed ``{"processing": "batch"}`` and ``{"service_tier": ...}``), as in
#: ``showcase_lib.pricing``; a test holds both to the same figures.
_TIER_CONTEXT: Final[dict[str, dict[str, str] | None]] = {
    "standard": None,
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
#: Price keys that may carry a long-context tier (a "cliff" on the call's input tokens).
_TIERED_KEYS: Final[tuple[str, ...]] = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_1h_mtok",
    "output_mtok",
)
#: Output probes use a million tokens, so the Decimal differences are exact and well scaled.
_PROBE_OUT: Final[int] = 1_000_000
#: Per-kind rates cached per resolved price (its repr) and cliff band: a read-out of a few
#: thousand calls resolves a few dozen prices; 4096 entries bound the memory.
_RATES_CACHE_SIZE: Final[int] = 4096


@functools.lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import version

    return version("genai-prices")


def _entry(rec: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(COST_FIELDS)
    out |= {
        "transaction_id": rec["call_id"],
        "tier": rec["service_tier"],
        "model": rec["model"],
        "provider": rec["provider"],
        "priced_at": rec["timestamp"],
    }
    out |= fields
    return out


def _caller(body: Mapping[str, Any], rec: Mapping[str, Any]) -> dict[str, Any]:
    """The cost the caller sent, kept (with its per-kind parts where it sent them)."""
    named = "totalCost" if body.get("totalCost") is not None else "inputTokenCost + outputTokenCost"
    return _entry(
        rec,
        source="caller",
        total=float(rec["cost_usd"]),
        input=body.get("inputTokenCost"),
        cache_read=body.get("cacheReadTokenCost"),
        cache_write=body.get("cacheCreationTokenCost"),
        output=body.get("outputTokenCost"),
        note=f"the caller's cost ({named}) is kept, as the service keeps a cost override",
    )


def _inclusive_problem(body: Mapping[str, Any], rec: Mapping[str, Any]) -> str | None:
    tin, read, write = rec["input_tokens"], rec["cache_read_tokens"], rec["cache_write_tokens"]
    if read + write > tin:  # only where the wire count keeps the reads (OpenAI-style)
        return (
            f"cacheReadTokenCount={read} exceeds inputTokenCount={body.get('inputTokenCount')}: "
            f"for provider {rec['provider']!r} the input count includes the cache reads (the "
            "service subtracts them itself), so it cannot be smaller than them"
        )
    if rec["reasoning_tokens"] > rec["output_tokens"]:
        return (
            f"reasoningTokenCount={rec['reasoning_tokens']} exceeds "
            f"outputTokenCount={rec['output_tokens']}: the output count must include them"
        )
    if rec["cache_write_1h_tokens"] > write:
        return (
            f"cacheCreation1hTokenCount={rec['cache_write_1h_tokens']} exceeds "
            f"cacheCreationTokenCount={write}"
        )
    return None


@functools.lru_cache(maxsize=1024)
def _has_variant(provider: str, model: str, day: date, tier: str) -> bool:
    """Whether genai-prices has a price of its own for ``tier`` on that UTC day."""
    from genai_prices import Usage, calc_price

    when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    usage = Usage(input_tokens=1)
    std = calc_price(usage, model, provider_id=provider, genai_request_timestamp=when)
    own = calc_price(
        usage,
        model,
        provider_id=provider,
        genai_request_timestamp=when,
        price_context=_TIER_CONTEXT[tier],
    )
    return own.model_price != std.model_price


_rates_cache: dict[tuple[str, int], tuple[Decimal, ...]] = {}


def _rates(model_price: Any, n_in: int) -> tuple[Decimal, ...]:
    """USD per token of each kind (input, cache read, 5-minute write, 1-hour write, output,
    reasoning) for a call with ``n_in`` input tokens, from the package's own decomposition."""
    key = (repr(model_price), n_in)
    cached = _rates_cache.get(key)
    if cached is not None:
        return cached
    from genai_prices import Usage

    def total(**usage: int) -> Decimal:
        return model_price.calc_price(Usage(**usage))["total_price"]

    base = total(input_tokens=n_in)
    out = total(input_tokens=n_in, output_tokens=_PROBE_OUT) - base
    reasoning = (
        total(input_tokens=n_in, output_tokens=_PROBE_OUT, output_reasoning_tokens=_PROBE_OUT)
        - base
    )
    rates = (
        base / n_in,
        total(input_tokens=n_in, cache_read_tokens=n_in) / n_in,
        total(input_tokens=n_in, cache_write_tokens=n_in) / n_in,
        total(input_tokens=n_in, cache_write_tokens=n_in, cache_write_1h_tokens=n_in) / n_in,
        out / _PROBE_OUT,
        reasoning / _PROBE_OUT,
    )
    if len(_rates_cache) >= _RATES_CACHE_SIZE:
        _rates_cache.clear()
    _rates_cache[key] = rates
    return rates


def _band_input(model_price: Any, tin: int) -> int:
    """An input count in the same cliff band as ``tin`` (1, or just above a threshold)."""
    starts = {
        int(t.start)
        for key in _TIERED_KEYS
        for t in getattr(getattr(model_price, key, None), "tiers", None) or ()
    }
    below = [s for s in starts if tin > s]
    return max(below) + 1 if below else 1


def _multiplier(body: Mapping[str, Any], tier: str) -> float:
    """The body's costMultiplier, else the cited multiplier of its tier."""
    sent = body.get("costMultiplier")
    return float(sent) if sent is not None else SERVICE_TIER_MULTIPLIERS[tier]


def _retired(body: Mapping[str, Any], rec: Mapping[str, Any]) -> dict[str, Any]:
    """A retired model, from ``showcase_lib.pricing.price`` (input and output rates only: the
    cache tokens at the input rate, the reasoning tokens at the output rate, as
    ``cost_breakdown`` prices them), times the tier multiplier."""
    p = price(rec["provider"], rec["model"])
    tin, tout, reasoning = rec["input_tokens"], rec["output_tokens"], rec["reasoning_tokens"]
    pin, pout = p.input_usd_per_mtok, p.output_usd_per_mtok
    threshold = p.long_context_threshold_tokens
    if threshold is not None and tin > threshold:  # the whole call at the higher rate
        pin = p.long_context_input_usd_per_mtok or pin
        pout = p.long_context_output_usd_per_mtok or pout
    read, write = rec["cache_read_tokens"], rec["cache_write_tokens"]
    multiplier = _multiplier(body, rec["service_tier"])
    parts = {
        "input": (tin - read - write) * pin / 1e6,
        "cache_read": read * pin / 1e6,
        "cache_write": write * pin / 1e6,
        "output": (tout - reasoning) * pout / 1e6,
        "reasoning": reasoning * pout / 1e6,
    }
    return _entry(
        rec,
        source="retired-model table",
        total=sum(parts.values()) * multiplier,
        **{k: v * multiplier for k, v in parts.items()},
        multiplier=multiplier,
        note=f"{p.source}; x {multiplier:g} ({rec['service_tier']})",
    )


def price_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Price one stored completion body like the service: the read-out entry of the module
    docstring (the caller's cost when the body carries one).

    Example:
        >>> price_body({"transactionId": "t", "provider": "OpenAI", "model": "gpt-5.5",
        ...     "inputTokenCount": 1, "outputTokenCount": 1, "totalCost": 0.5,
        ...     "requestTime": "2026-11-15T12:00:00Z"})["source"]
        'caller'
    """
    rec = wire_to_record(body, validate=False, raw_time=True)
    if rec["cost_usd"] is not None:
        return _caller(body, rec)
    problem = _inclusive_problem(body, rec)
    if problem is not None:
        return _entry(rec, source="unpriced", note=problem)
    key = (rec["provider"], rec["model"])
    ref = _REFS.get(key, rec["model"])
    if ref is None:
        return _retired(body, rec)
    from genai_prices import Usage, calc_price

    tier = rec["service_tier"]
    provider = _GENAI_PROVIDER.get(rec["provider"], rec["provider"])
    when = datetime.fromisoformat(rec["timestamp"]).astimezone(timezone.utc)
    counts = {
        "input_tokens": rec["input_tokens"],
        "cache_read_tokens": rec["cache_read_tokens"],
        "cache_write_tokens": rec["cache_write_tokens"],
        "cache_write_1h_tokens": rec["cache_write_1h_tokens"],
        "output_tokens": rec["output_tokens"],
        "output_reasoning_tokens": rec["reasoning_tokens"],
    }
    try:
        native = tier != "standard" and _has_variant(provider, ref, when.date(), tier)
        result = calc_price(
            Usage(**{k: v for k, v in counts.items() if v}),
            ref,
            provider_id=provider,
            genai_request_timestamp=when,
            price_context=_TIER_CONTEXT[tier] if native else None,
        )
    except LookupError:
        return _entry(
            rec,
            source="unpriced",
            note=f"no price for provider={provider!r}, model={rec['model']!r} in genai-prices "
            f"{_version()}",
        )
    multiplier = 1.0 if native else _multiplier(body, tier)
    tin, read, write = (
        counts["input_tokens"],
        counts["cache_read_tokens"],
        counts["cache_write_tokens"],
    )
    w1h, tout, reasoning = (
        counts["cache_write_1h_tokens"],
        counts["output_tokens"],
        counts["output_reasoning_tokens"],
    )
    r_in, r_read, r_w5m, r_w1h, r_out, r_reason = _rates(
        result.model_price, _band_input(result.model_price, tin)
    )
    parts = {
        "input": (tin - read - write) * r_in,
        "cache_read": read * r_read,
        "cache_write": (write - w1h) * r_w5m + w1h * r_w1h,
        "output": (tout - reasoning) * r_out,
        "reasoning": reasoning * r_reason,
    }
    source = "genai-prices" if multiplier == 1.0 else "genai-prices x tier multiplier"
    if native:
        how = f"the package's {tier} price"
    elif multiplier != 1.0:
        how = f"the standard price x {multiplier:g} ({tier})"
    else:
        how = "the standard price"
    return _entry(
        rec,
        source=source,
        total=float(result.total_price) * multiplier,
        **{k: float(v) * multiplier for k, v in parts.items()},
        multiplier=multiplier,
        model=result.model.id,
        provider=result.provider.id,
        note=f"genai-prices {_version()}: {result.provider.id}/{result.model.id} at "
        f"{when.date().isoformat()}, {how}",
    )


def price_bodies(bodies: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``price_body`` of each body, in order (the admin route's read-out).

    Example:
        >>> price_bodies([])
        []
    """
    return [price_body(b) for b in bodies]
