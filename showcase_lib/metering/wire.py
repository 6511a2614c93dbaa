"""Record <-> Revenium wire mapping: one function each way, plus the validator the emulator uses.

The record is ``showcase_lib.schema`` (snake_case, one row per AI call); the wire form is the
camelCase JSON body of ``POST /meter/v2/ai/completions`` (see the metering API reference).
``MAPPING`` lists every correspondence for the book's table. A record survives
``record -> wire -> record`` exactly, column for column (missing values included).

Choices worth knowing:

- ``feature_id`` travels as ``agent`` (the attribution dimension Revenium breaks cost down by
  for "which part of the product made this call").
- ``request_id``, ``session_id``, ``user_agent`` and ``status`` have no Revenium field; they
  travel as the extension keys ``requestId``, ``sessionId``, ``userAgent`` and ``status``
  (a server must tolerate unknown keys). ``status`` is always sent (``null`` when unknown);
  a body without it (e.g. from the official SDK) gets a status implied by ``stopReason``.
- ``stopReason`` is required on the wire. When the record has no ``stop_reason`` it is implied
  by ``status`` (success -> END, error -> ERROR, timeout -> TIMEOUT, unknown -> END) and the
  body carries ``stopReasonDerived: true`` so the way back restores the empty value.
- Times are UTC ISO 8601 with ``Z``; fractional seconds appear only when the timestamp has
  them (the official SDK sends whole seconds), so nanosecond timestamps round-trip exactly.
- Providers: lower-case slugs become the names the official SDK sends (``openai`` -> ``OpenAI``,
  ``aws-bedrock`` -> ``AWS``, ``azure-openai`` -> ``Azure``); unknown slugs pass unchanged.

Example:
    >>> import pandas as pd
    >>> rec = {"timestamp": pd.Timestamp("2026-01-01T09:00:00Z"), "call_id": "c1",
    ...        "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 100,
    ...        "output_tokens": 20, "cost_usd": 0.0004, "latency_ms": 1500}
    >>> body = record_to_wire(rec)
    >>> body["provider"], body["responseTime"], body["totalTokenCount"]
    ('OpenAI', '2026-01-01T09:00:01.500Z', 120)
    >>> wire_to_record(body)["latency_ms"]
    1500
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import numpy as np
import pandas as pd

from showcase_lib.schema import ALL_COLUMNS, DTYPES, STOP_REASONS

__all__ = [
    "MAPPING",
    "OPERATION_TYPES",
    "PROVIDER_NAMES",
    "REQUIRED_WIRE_FIELDS",
    "FieldError",
    "WireError",
    "format_time",
    "format_times",
    "frame_to_wire",
    "mapping_table",
    "provider_from_wire",
    "provider_to_wire",
    "record_to_wire",
    "validate_wire",
    "wire_to_frame",
    "wire_to_record",
]

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

#: Record provider slug -> the provider name Revenium's official middleware sends.
PROVIDER_NAMES: Final[dict[str, str]] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "mistral": "Mistral",
    "cohere": "Cohere",
    "aws-bedrock": "AWS",
    "azure-openai": "Azure",
}

#: Wire provider names (lower-cased) -> record slug; includes the spellings other clients use.
_PROVIDER_ALIASES: Final[dict[str, str]] = {
    **{name.lower(): slug for slug, name in PROVIDER_NAMES.items()},
    **{slug: slug for slug in PROVIDER_NAMES},
    "amazon bedrock": "aws-bedrock",
    "aws bedrock": "aws-bedrock",
    "amazonbedrock": "aws-bedrock",
    "bedrock": "aws-bedrock",
    "azure openai": "azure-openai",
    "mistral ai": "mistral",
    "mistralai": "mistral",
    "gemini": "google",
}

OPERATION_TYPES: Final[tuple[str, ...]] = (
    "CHAT",
    "GENERATE",
    "EMBED",
    "CLASSIFY",
    "SUMMARIZE",
    "TRANSLATE",
    "TOOL_CALL",
    "RERANK",
    "SEARCH",
    "MODERATION",
    "VISION",
    "TRANSFORM",
    "GUARDRAIL",
    "AUDIO",
    "VIDEO",
    "IMAGE",
    "OTHER",
)

REQUIRED_WIRE_FIELDS: Final[tuple[str, ...]] = (
    "transactionId",
    "provider",
    "model",
    "inputTokenCount",
    "outputTokenCount",
    "totalTokenCount",
    "requestTime",
    "responseTime",
    "completionStartTime",
    "requestDuration",
    "stopReason",
    "costType",
    "isStreamed",
)

_STOP_FROM_STATUS: Final[dict[str, str]] = {
    "success": "END",
    "error": "ERROR",
    "timeout": "TIMEOUT",
}
_STATUS_FROM_STOP: Final[dict[str, str]] = {"ERROR": "error", "TIMEOUT": "timeout"}

#: Text tags Revenium limits to 255 characters (the official SDK enforces it before sending).
TAG_MAX_LEN: Final[int] = 255
_TAG_FIELDS: Final[tuple[str, ...]] = (
    "organizationName",
    "organizationId",
    "productName",
    "productId",
    "subscriptionId",
    "subscriptionTier",
    "taskType",
    "agent",
    "traceId",
    "traceName",
    "parentTransactionId",
    "environment",
    "region",
    "transactionName",
)
#: Our extension keys (record columns Revenium has no field for); free text, no length rule.
_EXTENSION_TEXT: Final[tuple[str, ...]] = ("requestId", "sessionId", "userAgent", "status")
_OPTIONAL_COUNTS: Final[tuple[str, ...]] = (
    "cacheReadTokenCount",
    "cacheCreationTokenCount",
    "reasoningTokenCount",
    "timeToFirstToken",
    "retryNumber",
    "mediationLatency",
)
_OPTIONAL_COSTS: Final[tuple[str, ...]] = (
    "inputTokenCost",
    "outputTokenCost",
    "totalCost",
    "cacheReadTokenCost",
    "cacheCreationTokenCost",
)
_INT64_MAX: Final[int] = 2**63 - 1

#: (record field, wire field, note): the table the book shows.
MAPPING: Final[list[tuple[str, str, str]]] = [
    ("call_id", "transactionId", "the call's own id; anchors deduplication"),
    ("timestamp", "requestTime", "UTC ISO 8601 with Z; fractional seconds only when present"),
    (
        "timestamp + latency_ms",
        "responseTime",
        "derived; read back from requestTime + requestDuration",
    ),
    (
        "timestamp + latency_ms",
        "completionStartTime",
        "same as responseTime (calls are not streamed)",
    ),
    ("latency_ms", "requestDuration", "milliseconds"),
    (
        "provider",
        "provider",
        "slug -> SDK name: openai->OpenAI, anthropic->Anthropic, google->Google, "
        "mistral->Mistral, cohere->Cohere, aws-bedrock->AWS, azure-openai->Azure; others unchanged",
    ),
    ("model", "model", "unchanged"),
    ("input_tokens", "inputTokenCount", "integer >= 0"),
    ("output_tokens", "outputTokenCount", "integer >= 0"),
    ("input_tokens + output_tokens", "totalTokenCount", "derived; not read back"),
    (
        "cost_usd",
        "totalCost",
        "cost override in USD; omitted when unknown (NaN) so Revenium prices it",
    ),
    ("customer_id", "subscriber.id", "the paying customer"),
    ("subscription_tier", "subscriptionTier", "starter / pro / enterprise"),
    (
        "organization_id",
        "organizationName",
        "replaces the deprecated organizationId (read as fallback)",
    ),
    ("product_id", "productName", "replaces the deprecated productId (read as fallback)"),
    ("feature_id", "agent", "the product feature that made the call"),
    ("task_type", "taskType", "unchanged"),
    ("environment", "environment", "unchanged"),
    ("region", "region", "unchanged"),
    ("trace_id", "traceId", "unchanged"),
    (
        "stop_reason",
        "stopReason",
        "required; implied by status when empty (then stopReasonDerived=true)",
    ),
    (
        "status",
        "status",
        "extension key, always sent (null when unknown); implied by stopReason if absent",
    ),
    ("request_id", "requestId", "extension key (no Revenium field)"),
    ("session_id", "sessionId", "extension key (no Revenium field)"),
    ("user_agent", "userAgent", "extension key (no Revenium field)"),
    ("(none)", "costType", "always 'AI'"),
    ("(none)", "isStreamed", "always false: the record has no streaming flag"),
]

# wire field -> record field, to name the record's field in errors raised by record_to_wire
_WIRE_TO_RECORD_FIELD: Final[dict[str, str]] = {
    "transactionId": "call_id",
    "requestTime": "timestamp",
    "responseTime": "timestamp",
    "completionStartTime": "timestamp",
    "requestDuration": "latency_ms",
    "provider": "provider",
    "model": "model",
    "inputTokenCount": "input_tokens",
    "outputTokenCount": "output_tokens",
    "totalTokenCount": "input_tokens",
    "totalCost": "cost_usd",
    "subscriber": "customer_id",
    "subscriber.id": "customer_id",
    "subscriptionTier": "subscription_tier",
    "organizationName": "organization_id",
    "productName": "product_id",
    "agent": "feature_id",
    "taskType": "task_type",
    "environment": "environment",
    "region": "region",
    "traceId": "trace_id",
    "stopReason": "stop_reason",
    "status": "status",
    "requestId": "request_id",
    "sessionId": "session_id",
    "userAgent": "user_agent",
}

# record text column -> wire key, for the simple one-to-one optional text fields
_TEXT_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("subscription_tier", "subscriptionTier"),
    ("organization_id", "organizationName"),
    ("product_id", "productName"),
    ("feature_id", "agent"),
    ("task_type", "taskType"),
    ("environment", "environment"),
    ("region", "region"),
    ("trace_id", "traceId"),
    ("request_id", "requestId"),
    ("session_id", "sessionId"),
    ("user_agent", "userAgent"),
)
_TAG_RECORD_COLUMNS: Final[tuple[str, ...]] = (
    *(col for col, key in _TEXT_FIELDS if key in _TAG_FIELDS),
    "customer_id",
)


def mapping_table() -> pd.DataFrame:
    """Return ``MAPPING`` as a DataFrame (record field, wire field, note) for display.

    Example:
        >>> mapping_table().iloc[0].tolist()[:2]
        ['call_id', 'transactionId']
    """
    return pd.DataFrame(MAPPING, columns=["record field", "wire field", "note"])


def provider_to_wire(slug: str) -> str:
    """Map a record provider slug to the wire name (unknown slugs pass unchanged).

    Example:
        >>> provider_to_wire("aws-bedrock"), provider_to_wire("perplexity")
        ('AWS', 'perplexity')
    """
    return PROVIDER_NAMES.get(slug, slug)


def provider_from_wire(name: str) -> str:
    """Map a wire provider name (any case, common aliases) back to the record slug.

    Example:
        >>> provider_from_wire("OPENAI"), provider_from_wire("Amazon Bedrock")
        ('openai', 'aws-bedrock')
    """
    return _PROVIDER_ALIASES.get(name.lower(), name)


# --------------------------------------------------------------------------------------------
# Validation of a wire body (used by wire_to_record and by the emulator)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One bad field of a wire body: which field, why, and (a short repr of) the value.

    Example:
        >>> FieldError("inputTokenCount", "must be an integer >= 0", "'x'").message
        "inputTokenCount='x' must be an integer >= 0"
    """

    field: str
    reason: str
    value: str | None = None  # short repr; None when the field is missing

    @property
    def message(self) -> str:
        if self.value is None:
            return f"{self.field} {self.reason}"
        return f"{self.field}={self.value} {self.reason}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "field": self.field,
            "reason": self.reason,
            "value": self.value,
            "message": self.message,
        }


class WireError(ValueError):
    """A wire body that breaks the completion schema; ``.errors`` lists every bad field.

    Example:
        >>> try:
        ...     wire_to_record({"model": "m"})
        ... except WireError as e:
        ...     "transactionId is required" in str(e)
        True
    """

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


_TIME_RE: Final = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
_TIME_REASON: Final = "must be an ISO 8601 time with a zone, such as 2025-03-02T15:04:05Z"


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(v: Any) -> bool:
    return type(v) is int and 0 <= v <= _INT64_MAX


def _is_number(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v) and abs(v) <= 1e300


def _time_ok(v: Any) -> bool:
    if type(v) is not str:
        return False
    m = _TIME_RE.match(v)
    if m is None:
        return False
    try:  # calendar check (month 13, Feb 30 ...); fromisoformat wants <= 6 fraction digits
        datetime.fromisoformat(m.group(1) + ("Z" if m.group(3) == "Z" else m.group(3)))
    except ValueError:
        return False
    return True


def validate_wire(body: Any) -> list[FieldError]:
    """Check a completion body; return every bad field (empty list when valid).

    Required fields must be present with the right type; known optional fields are checked
    when present and not null; unknown keys are accepted. A valid body in the usual shape is
    accepted by a quick check; anything else gets the detailed check that names every field.

    Example:
        >>> [e.field for e in validate_wire({"transactionId": "t"})][:3]
        ['provider', 'model', 'inputTokenCount']
    """
    if _valid_dict(body):  # the common case, decided in a few microseconds
        return []
    return _field_errors(body)


# kinds of the known optional fields, for the quick check
_TAG, _EXT, _COUNT, _COST, _BOOL, _SUB, _OTHER = range(7)
_OPTIONAL_KINDS: Final[dict[str, int]] = {
    **dict.fromkeys(_TAG_FIELDS, _TAG),
    **dict.fromkeys(_EXTENSION_TEXT, _EXT),
    **dict.fromkeys(_OPTIONAL_COUNTS, _COUNT),
    **dict.fromkeys(_OPTIONAL_COSTS, _COST),
    **dict.fromkeys(("billingSkipped", "stopReasonDerived"), _BOOL),
    "subscriber": _SUB,
    # checked only by _field_errors: a body carrying them takes the detailed path
    **dict.fromkeys(
        ("errorCode", "temperature", "responseQualityScore", "operationType", "pricingTier"), _OTHER
    ),
}
_STOP_SET: Final[frozenset[str]] = frozenset(STOP_REASONS)


def _valid_dict(body: Any) -> bool:
    """True only when ``_field_errors(body)`` would find nothing (a dict body in the usual
    shape); False means "not sure": the detailed check decides and names the fields."""
    if type(body) is not dict:
        return False
    get = body.get
    for name in ("transactionId", "provider", "model"):
        v = get(name)
        if type(v) is not str or not v.strip():
            return False
    for name in ("inputTokenCount", "outputTokenCount", "totalTokenCount", "requestDuration"):
        v = get(name)
        if type(v) is not int or not 0 <= v <= _INT64_MAX:
            return False
    resp = get("responseTime")
    cst = get("completionStartTime")
    # completionStartTime usually repeats responseTime: parse that string once
    same = type(cst) is str and cst == resp
    if not (_time_ok(get("requestTime")) and _time_ok(resp) and (same or _time_ok(cst))):
        return False
    stop, cost_type = get("stopReason"), get("costType")
    if not (
        type(stop) is str
        and stop in _STOP_SET
        and type(cost_type) is str
        and cost_type == "AI"
        and type(get("isStreamed")) is bool
    ):
        return False
    kinds = _OPTIONAL_KINDS
    for key, v in body.items():
        kind = kinds.get(key)
        if kind is None or v is None:
            continue
        if kind == _TAG:
            if type(v) is not str or len(v) > TAG_MAX_LEN:
                return False
        elif kind == _EXT:
            if type(v) is not str:
                return False
        elif kind == _COUNT:
            if not _is_int(v):
                return False
        elif kind == _COST:
            if not (_is_number(v) and v >= 0):
                return False
        elif kind == _BOOL:
            if type(v) is not bool:
                return False
        elif kind == _SUB:
            if type(v) is not dict:
                return False
            for k2, v2 in v.items():
                if v2 is None:
                    continue
                if k2 in ("id", "email"):
                    if type(v2) is not str or len(v2) > TAG_MAX_LEN:
                        return False
                elif k2 == "credential":
                    return False
        else:
            return False
    return True


def _field_errors(body: Any) -> list[FieldError]:
    """The detailed check behind :func:`validate_wire`: every bad field, in a fixed order."""
    if not isinstance(body, Mapping):
        return [FieldError("(body)", "must be a JSON object", _short(type(body).__name__))]
    errors: list[FieldError] = []
    add = errors.append
    get = body.get

    def required(name: str, ok: bool, reason: str) -> None:
        if name not in body or body[name] is None:
            add(FieldError(name, "is required"))
        elif not ok:
            add(FieldError(name, reason, _short(body[name])))

    for name in ("transactionId", "provider", "model"):
        v = get(name)
        required(name, type(v) is str and v.strip() != "", "must be a non-empty string")
    for name in ("inputTokenCount", "outputTokenCount", "totalTokenCount", "requestDuration"):
        required(name, _is_int(get(name)), "must be an integer >= 0")
    for name in ("requestTime", "responseTime", "completionStartTime"):
        required(name, _time_ok(get(name)), _TIME_REASON)
    required(
        "stopReason", get("stopReason") in STOP_REASONS, "must be one of " + ", ".join(STOP_REASONS)
    )
    required("costType", get("costType") == "AI", "must be 'AI'")
    required("isStreamed", type(get("isStreamed")) is bool, "must be true or false")

    # Optional fields: only checked when present and not null.
    for name in _TAG_FIELDS:
        v = get(name)
        if v is None:
            continue
        if type(v) is not str:
            add(FieldError(name, "must be a string", _short(v)))
        elif len(v) > TAG_MAX_LEN:
            add(
                FieldError(
                    name, f"must be at most {TAG_MAX_LEN} characters (got {len(v)})", _short(v)
                )
            )
    for name in _EXTENSION_TEXT:
        v = get(name)
        if v is not None and type(v) is not str:
            add(FieldError(name, "must be a string or null", _short(v)))
    for name in _OPTIONAL_COUNTS:
        v = get(name)
        if v is not None and not _is_int(v):
            add(FieldError(name, "must be an integer >= 0", _short(v)))
    for name in _OPTIONAL_COSTS:
        v = get(name)
        if v is not None and not (_is_number(v) and v >= 0):
            add(FieldError(name, "must be a number >= 0", _short(v)))
    v = get("errorCode")
    if v is not None and not (type(v) is int and abs(v) <= _INT64_MAX):
        add(FieldError("errorCode", "must be an integer", _short(v)))
    v = get("temperature")
    if v is not None and not _is_number(v):
        add(FieldError("temperature", "must be a number", _short(v)))
    v = get("responseQualityScore")
    if v is not None and not (_is_number(v) and abs(v) < 999.995):
        add(FieldError("responseQualityScore", "must be a number with |x| < 999.995", _short(v)))
    v = get("operationType")
    if v is not None and v not in OPERATION_TYPES:
        add(FieldError("operationType", "must be one of " + ", ".join(OPERATION_TYPES), _short(v)))
    v = get("pricingTier")
    if v is not None and v not in ("STANDARD", "BATCH"):
        add(FieldError("pricingTier", "must be STANDARD or BATCH", _short(v)))
    for name in ("billingSkipped", "stopReasonDerived"):
        v = get(name)
        if v is not None and type(v) is not bool:
            add(FieldError(name, "must be true or false", _short(v)))
    sub = get("subscriber")
    if sub is not None:
        if not isinstance(sub, Mapping):
            add(FieldError("subscriber", 'must be an object such as {"id": "cust_1"}', _short(sub)))
        else:
            for name in ("id", "email"):
                v = sub.get(name)
                if v is None:
                    continue
                if type(v) is not str:
                    add(FieldError(f"subscriber.{name}", "must be a string", _short(v)))
                elif len(v) > TAG_MAX_LEN:
                    add(
                        FieldError(
                            f"subscriber.{name}",
                            f"must be at most {TAG_MAX_LEN} characters (got {len(v)})",
                            _short(v),
                        )
                    )
            cred = sub.get("credential")
            if cred is not None and not (
                isinstance(cred, Mapping)
                and all(cred.get(k) is None or type(cred.get(k)) is str for k in ("name", "value"))
            ):
                # never echo a credential value back
                add(
                    FieldError(
                        "subscriber.credential", "must be an object {name?, value?} of strings"
                    )
                )
    return errors


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------


def format_times(ns: np.ndarray | Iterable[int]) -> np.ndarray:
    """Format UTC epoch nanoseconds as ISO 8601 ``Z`` strings, with only the fraction needed.

    Vectorised (numpy), so a million timestamps take a fraction of a second.

    Example:
        >>> format_times([0, 1_500_000_000, 1_000_001_000]).tolist()
        ['1970-01-01T00:00:00Z', '1970-01-01T00:00:01.500Z', '1970-01-01T00:00:01.000001Z']
    """
    ns = np.asarray(ns, dtype="int64")
    dt = ns.view("datetime64[ns]")
    frac = ns % 1_000_000_000
    out = np.empty(len(ns), dtype=object)
    whole = frac == 0
    ms = ~whole & (frac % 1_000_000 == 0)
    us = ~whole & ~ms & (frac % 1_000 == 0)
    nano = ~whole & ~ms & ~us
    for unit, mask in (("s", whole), ("ms", ms), ("us", us), ("ns", nano)):
        if mask.all():
            return np.datetime_as_string(dt, unit=unit, timezone="UTC").astype(object)
        if mask.any():
            out[mask] = np.datetime_as_string(dt[mask], unit=unit, timezone="UTC")
    return out


_EPOCH: Final = datetime(1970, 1, 1)
_NS_MIN: Final[int] = -(2**63) + 1  # int64 min is NaT
_NS_MAX: Final[int] = 2**63 - 1


@lru_cache(maxsize=4096)
def _second_text(sec: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of whole UTC epoch seconds (cached: a stream of records
    mostly shares a few recent seconds)."""
    return (_EPOCH + timedelta(seconds=sec)).isoformat()


def format_time(ns: int) -> str:
    """One UTC epoch nanosecond value as ISO 8601 ``Z``, exactly like :func:`format_times`.

    The single-record path: integer arithmetic and a cached date-time prefix, no numpy (well
    under a microsecond per value; a 2-element ``format_times`` costs ~10 us in numpy call
    overhead). ``ns`` must be within the int64 nanosecond range (years 1677-2262).

    Example:
        >>> format_time(0), format_time(1_500_000_000), format_time(-1)
        ('1970-01-01T00:00:00Z', '1970-01-01T00:00:01.500Z', '1969-12-31T23:59:59.999999999Z')
    """
    if not _NS_MIN <= ns <= _NS_MAX:
        raise OverflowError(f"ns={ns!r} is outside the int64 nanosecond range")
    sec, frac = divmod(ns, 1_000_000_000)
    head = _second_text(sec)
    if not frac:
        return head + "Z"
    if not frac % 1_000_000:
        return f"{head}.{frac // 1_000_000:03d}Z"
    if not frac % 1_000:
        return f"{head}.{frac // 1_000:06d}Z"
    return f"{head}.{frac:09d}Z"


def _to_timestamp(value: Any) -> pd.Timestamp:
    """A UTC pd.Timestamp from a Timestamp/datetime/str/np.datetime64 (naive means UTC)."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ValueError
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# --------------------------------------------------------------------------------------------
# One record <-> one body
# --------------------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and math.isnan(v)


def _plain(v: Any) -> Any:
    """numpy scalars -> Python scalars; integral floats -> int (frames with NaN upcast ints)."""
    if isinstance(v, np.generic):
        v = v.item()
    if type(v) is float and v.is_integer():
        return int(v)
    return v


def record_to_wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """Map one record (a mapping with the schema's columns) to a Revenium completion body.

    Required: timestamp, call_id, provider, model, input_tokens, output_tokens, latency_ms;
    every other column may be missing, None or NaN. A naive timestamp is taken as UTC.

    A record of plain values (``pd.Timestamp``, ``int``, ``str``/``None``, ``float``: what the
    tracker builds) takes a fast path of a few microseconds; any other record (numpy scalars,
    NaN/NA, times as strings, a bad value) is converted and validated by the general path.
    Both give the same body (tests compare them).

    Raises:
        ValueError: naming the record field and its value, e.g. ``input_tokens=-3 must be
            an integer >= 0``.

    Example:
        >>> body = record_to_wire({"timestamp": "2026-01-01T00:00:00Z", "call_id": "c1",
        ...     "provider": "anthropic", "model": "claude-3-5-haiku", "input_tokens": 10,
        ...     "output_tokens": 5, "latency_ms": 800, "customer_id": "cust_1"})
        >>> body["subscriber"], body["stopReason"], body["stopReasonDerived"]
        ({'id': 'cust_1'}, 'END', True)
    """
    body = _typical_to_wire(record)
    return body if body is not None else _record_to_wire_checked(record)


#: (record column, wire key, max length) of the optional text fields, for the fast path
_TEXT_LIMITS: Final[tuple[tuple[str, str, int], ...]] = tuple(
    (col, key, TAG_MAX_LEN if key in _TAG_FIELDS else _INT64_MAX) for col, key in _TEXT_FIELDS
)


def _typical_to_wire(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The body of a *typical* record, or None to take the general path.

    Typical: a ``pd.Timestamp``, plain ``int`` counts, ``str`` or ``None`` text, a ``float``,
    ``int`` or ``None`` cost, and every value valid. Each condition below is one that
    :func:`validate_wire` checks on the body, so a body returned here is exactly the one
    ``_record_to_wire_checked`` builds and validates (a test compares both paths); anything
    else (numpy scalars, NaN/NA, strings as times, a bad value) returns None, and the general
    path converts, validates and names the bad field.
    """
    get = record.get
    ts = get("timestamp")
    txn, provider, model = get("call_id"), get("provider"), get("model")
    tin, tout, lat = get("input_tokens"), get("output_tokens"), get("latency_ms")
    if not (
        type(ts) is pd.Timestamp
        and type(txn) is str
        and type(provider) is str
        and type(model) is str
        and type(tin) is int
        and type(tout) is int
        and type(lat) is int
    ):
        return None
    provider = PROVIDER_NAMES.get(provider, provider)
    total = tin + tout
    if not (
        tin >= 0
        and tout >= 0
        and total <= _INT64_MAX
        and 0 <= lat <= _INT64_MAX
        and txn.strip()
        and provider.strip()
        and model.strip()
    ):
        return None
    try:
        start = ts.value  # UTC epoch ns (naive = UTC); OverflowError out of the ns range
    except OverflowError:
        return None
    end = start + lat * 1_000_000
    if end > _NS_MAX:
        return None
    status, stop = get("status"), get("stop_reason")
    if status is not None and type(status) is not str:
        return None
    resp_s = format_time(end)
    body: dict[str, Any] = {
        "transactionId": txn,
        "provider": provider,
        "model": model,
        "inputTokenCount": tin,
        "outputTokenCount": tout,
        "totalTokenCount": total,
        "requestTime": format_time(start),
        "responseTime": resp_s,
        "completionStartTime": resp_s,
        "requestDuration": lat,
        "costType": "AI",
        "isStreamed": False,
    }
    if stop is None:
        body["stopReason"] = _STOP_FROM_STATUS.get(status, "END")  # type: ignore[arg-type]
        body["stopReasonDerived"] = True
    elif type(stop) is str and stop in _STOP_SET:
        body["stopReason"] = stop
    else:
        return None
    body["status"] = status
    cost = get("cost_usd")
    if cost is not None:
        if type(cost) is float:
            if cost == cost:  # NaN means unknown: omitted
                if not 0.0 <= cost <= 1e300:
                    return None
                # as _plain + float(): integral floats go through int (-0.0 -> 0.0)
                body["totalCost"] = float(int(cost)) if cost.is_integer() else cost
        elif type(cost) is int and 0 <= cost <= 10**15:
            body["totalCost"] = float(cost)
        else:
            return None
    customer = get("customer_id")
    if customer is not None:
        if type(customer) is not str or len(customer) > TAG_MAX_LEN:
            return None
        body["subscriber"] = {"id": customer}
    for col, key, limit in _TEXT_LIMITS:
        v = get(col)
        if v is not None:
            if type(v) is not str or len(v) > limit:
                return None
            body[key] = v
    return body


def _record_to_wire_checked(record: Mapping[str, Any]) -> dict[str, Any]:
    """The general path of :func:`record_to_wire`: converts any value type, validates the
    body with :func:`validate_wire` and names the record's bad fields."""
    get = record.get
    raw_ts = get("timestamp")
    if _missing(raw_ts):
        raise ValueError(f"timestamp={raw_ts!r} is required")
    try:
        ts = _to_timestamp(raw_ts)
        start_ns = ts.value
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"timestamp={raw_ts!r} is not a valid time") from None
    latency = _plain(get("latency_ms"))
    end_ns = start_ns + latency * 1_000_000 if _is_int(latency) else start_ns
    if end_ns > _NS_MAX:
        raise ValueError(
            f"latency_ms={_short(latency)} puts the response time past the "
            f"last representable time ({pd.Timestamp.max})"
        )
    req_s, resp_s = format_time(start_ns), format_time(end_ns)
    tin, tout = _plain(get("input_tokens")), _plain(get("output_tokens"))
    provider = get("provider")
    body: dict[str, Any] = {
        "transactionId": None if _missing(get("call_id")) else get("call_id"),
        "provider": provider_to_wire(provider) if isinstance(provider, str) else provider,
        "model": None if _missing(get("model")) else get("model"),
        "inputTokenCount": tin,
        "outputTokenCount": tout,
        "totalTokenCount": tin + tout if _is_int(tin) and _is_int(tout) else 0,
        "requestTime": req_s,
        "responseTime": resp_s,
        "completionStartTime": resp_s,
        "requestDuration": latency,
        "costType": "AI",
        "isStreamed": False,
    }
    status = None if _missing(get("status")) else get("status")
    stop = None if _missing(get("stop_reason")) else get("stop_reason")
    if stop is None:
        body["stopReason"] = _STOP_FROM_STATUS.get(status, "END")
        body["stopReasonDerived"] = True
    else:
        body["stopReason"] = stop
    body["status"] = status
    cost = _plain(get("cost_usd"))
    if not _missing(cost):
        body["totalCost"] = float(cost) if type(cost) is int else cost
    customer = get("customer_id")
    if not _missing(customer):
        body["subscriber"] = {"id": customer}
    for col, key in _TEXT_FIELDS:
        v = get(col)
        if not _missing(v):
            body[key] = v
    errors = validate_wire(body)
    if errors:
        parts = []
        for e in errors:
            col = _WIRE_TO_RECORD_FIELD.get(e.field, e.field)
            val = record.get(col, None)
            reason = e.reason if e.reason != _TIME_REASON else "is not a valid time"
            parts.append(f"{col}={_short(val)} {reason}")
        raise ValueError("; ".join(dict.fromkeys(parts)))
    return body


def _first(body: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = body.get(k)
        if v is not None:
            return v
    return None


def _record_values(body: Mapping[str, Any]) -> tuple[Any, ...]:
    """Record values in ALL_COLUMNS order (timestamp left as the wire string). Body is valid."""
    sub = body.get("subscriber")
    customer = sub.get("id") if isinstance(sub, Mapping) else None
    stop = body["stopReason"]
    status = body["status"] if "status" in body else _STATUS_FROM_STOP.get(stop, "success")
    cost = body.get("totalCost")
    if cost is None:
        cin, cout = body.get("inputTokenCost"), body.get("outputTokenCost")
        cost = cin + cout if cin is not None and cout is not None else None
    return (
        body["requestTime"],
        body["transactionId"],
        provider_from_wire(body["provider"]),
        body["model"],
        body["inputTokenCount"],
        body["outputTokenCount"],
        None if cost is None else float(cost),
        body["requestDuration"],
        customer,
        body.get("subscriptionTier"),
        _first(body, "organizationName", "organizationId"),
        _first(body, "productName", "productId"),
        body.get("agent"),
        body.get("taskType"),
        body.get("environment"),
        body.get("requestId"),
        body.get("traceId"),
        body.get("userAgent"),
        body.get("sessionId"),
        status,
        None if body.get("stopReasonDerived") is True else stop,
        body.get("region"),
    )


def wire_to_record(body: Mapping[str, Any], *, validate: bool = True) -> dict[str, Any]:
    """Map one completion body back to a record dict (ALL_COLUMNS order; missing -> None).

    ``timestamp`` is a UTC ``pd.Timestamp`` (from ``requestTime``); ``latency_ms`` comes from
    ``requestDuration``; bodies from other clients (no extension keys) get ``status`` implied
    by ``stopReason``.

    Raises:
        WireError: (a ValueError) naming every bad field and its value.

    Example:
        >>> rec = wire_to_record({"transactionId": "t1", "provider": "OPENAI", "model": "gpt-4o",
        ...     "inputTokenCount": 3, "outputTokenCount": 4, "totalTokenCount": 7,
        ...     "requestTime": "2026-01-01T00:00:00Z", "responseTime": "2026-01-01T00:00:01Z",
        ...     "completionStartTime": "2026-01-01T00:00:01Z", "requestDuration": 1000,
        ...     "stopReason": "END", "costType": "AI", "isStreamed": False})
        >>> rec["provider"], rec["status"], rec["cost_usd"]
        ('openai', 'success', None)
    """
    if validate:
        errors = validate_wire(body)
        if errors:
            raise WireError(errors)
    values = list(_record_values(body))
    values[0] = _to_timestamp(values[0])
    return dict(zip(ALL_COLUMNS, values, strict=True))


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------

_FRAME_REQUIRED: Final[tuple[str, ...]] = (
    "timestamp",
    "call_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "latency_ms",
)


def _bad(col: str, series: pd.Series, mask: np.ndarray | pd.Series, reason: str) -> ValueError:
    mask = np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(mask)
    first = idx[0]
    n = len(idx)
    more = f" ({n} rows)" if n > 1 else ""
    return ValueError(
        f"{col}={_short(series.iloc[first])} at row {_short(series.index[first])} {reason}{more}"
    )


def _text_list(s: pd.Series) -> list[Any]:
    """A column as a list of Python str / None (fast for categoricals)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = np.asarray(s.cat.categories, dtype=object)
        codes = s.cat.codes.to_numpy()
        lookup = np.append(cats, np.array([None], dtype=object))
        return lookup[codes].tolist()  # code -1 -> last element, None
    arr = s.to_numpy(dtype=object, na_value=None)
    return arr.tolist()


def _int_array(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if s.isna().any():
        raise _bad(col, s, s.isna(), "is required")
    try:
        num = pd.to_numeric(s)
    except (ValueError, TypeError):
        bad = pd.to_numeric(s, errors="coerce").isna()
        raise _bad(col, s, bad, "must be an integer >= 0") from None
    arr = num.to_numpy()
    if arr.dtype.kind == "f":
        frac = arr != np.floor(arr)
        if frac.any():
            raise _bad(col, s, frac, "must be an integer >= 0")
    elif arr.dtype.kind not in "iu":
        raise _bad(col, s, np.ones(len(s), bool), "must be an integer >= 0")
    if (arr < 0).any():
        raise _bad(col, s, arr < 0, "must be an integer >= 0")
    return arr.astype("int64")


def _map_text(s: pd.Series, check: Any) -> pd.Series:
    """Apply a boolean check to a text column (on the categories only when categorical)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = pd.Series(s.cat.categories.astype(str), dtype="string")
        per_cat = check(cats).fillna(False).to_numpy(bool)
        codes = s.cat.codes.to_numpy()
        return pd.Series(np.append(per_cat, False)[codes], index=s.index)
    return check(s.astype("string")).fillna(False)


def _check_frame(df: pd.DataFrame) -> None:
    missing = [c for c in _FRAME_REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"columns={missing!r} are required in the frame")
    for col in ("call_id", "provider", "model"):
        s = df[col]
        if s.isna().any():
            raise _bad(col, s, s.isna(), "is required")
        empty = _map_text(s, lambda t: t.str.strip().eq("")).to_numpy(bool)
        if empty.any():
            raise _bad(col, s, empty, "must be a non-empty string")
    for col in _TAG_RECORD_COLUMNS:
        if col in df.columns:
            s = df[col]
            too_long = _map_text(s, lambda t: t.str.len() > TAG_MAX_LEN).to_numpy(bool)
            if too_long.any():
                raise _bad(col, s, too_long, f"must be at most {TAG_MAX_LEN} characters")
    if "stop_reason" in df.columns:
        s = df["stop_reason"]
        bad = (s.notna() & ~s.astype(object).isin(STOP_REASONS)).to_numpy(bool)
        if bad.any():
            raise _bad("stop_reason", s, bad, "must be one of " + ", ".join(STOP_REASONS))


def _chunk_to_wire(df: pd.DataFrame) -> list[dict[str, Any]]:
    n = len(df)
    ts = df["timestamp"]
    fmt = None if pd.api.types.is_datetime64_any_dtype(ts) else "ISO8601"
    try:
        ts = pd.to_datetime(ts, utc=True, format=fmt)
    except (ValueError, TypeError):
        bad = pd.to_datetime(ts, utc=True, format=fmt, errors="coerce").isna()
        raise _bad("timestamp", df["timestamp"], bad, "is not a valid time") from None
    if ts.isna().any():
        raise _bad("timestamp", df["timestamp"], ts.isna(), "is required")
    start = ts.dt.as_unit("ns").array.asi8
    tin = _int_array(df, "input_tokens")
    tout = _int_array(df, "output_tokens")
    lat = _int_array(df, "latency_ms")
    req_s = format_times(start).tolist()
    resp_s = format_times(start + lat * 1_000_000).tolist()

    provider = df["provider"].map(provider_to_wire)

    def opt(col: str) -> list[Any] | None:
        return _text_list(df[col]) if col in df.columns else None

    status = opt("status") or [None] * n
    stop_in = opt("stop_reason") or [None] * n
    derived = [s is None for s in stop_in]
    stop = [
        s if s is not None else _STOP_FROM_STATUS.get(st, "END")
        for s, st in zip(stop_in, status, strict=True)
    ]

    full_keys = [
        "transactionId",
        "provider",
        "model",
        "inputTokenCount",
        "outputTokenCount",
        "totalTokenCount",
        "requestTime",
        "responseTime",
        "completionStartTime",
        "requestDuration",
        "costType",
        "isStreamed",
        "stopReason",
        "status",
    ]
    full_cols: list[Any] = [
        _text_list(df["call_id"]),
        _text_list(provider),
        _text_list(df["model"]),
        tin.tolist(),
        tout.tolist(),
        (tin + tout).tolist(),
        req_s,
        resp_s,
        resp_s,
        lat.tolist(),
        ["AI"] * n,
        [False] * n,
        stop,
        status,
    ]
    sparse: list[tuple[str, list[Any]]] = []

    def add(key: str, values: list[Any] | None) -> None:
        if values is None:
            return
        if None in values:
            sparse.append((key, values))
        else:
            full_keys.append(key)
            full_cols.append(values)

    if any(derived):
        sparse.append(("stopReasonDerived", [True if d else None for d in derived]))
    if "cost_usd" in df.columns:
        cost = pd.to_numeric(df["cost_usd"]).to_numpy(dtype="float64")
        if (cost < 0).any() or np.isinf(cost).any():
            bad = (cost < 0) | np.isinf(cost)
            raise _bad("cost_usd", df["cost_usd"], bad, "must be a number >= 0")
        cost_list = cost.tolist()
        add("totalCost", [None if c != c else c for c in cost_list])
    if "customer_id" in df.columns:
        add("subscriber", [None if c is None else {"id": c} for c in _text_list(df["customer_id"])])
    for col, key in _TEXT_FIELDS:
        add(key, opt(col))

    keys = tuple(full_keys)
    out: list[dict[str, Any]] = []
    append = out.append
    if not sparse:
        for vals in zip(*full_cols, strict=True):
            append(dict(zip(keys, vals, strict=True)))
        return out
    for i, vals in enumerate(zip(*full_cols, strict=True)):
        d = dict(zip(keys, vals, strict=True))
        for key, values in sparse:
            v = values[i]
            if v is not None:
                d[key] = v
        append(d)
    return out


def frame_to_wire(df: pd.DataFrame, *, chunk_rows: int = 100_000) -> Iterator[dict[str, Any]]:
    """Yield one completion body per row of a record frame (same bodies as ``record_to_wire``).

    The frame is checked first (vectorised): a bad value raises ``ValueError`` naming the
    column, the first bad row's index label and its value. Formatting is vectorised per chunk
    of ``chunk_rows`` rows, so memory stays bounded for large frames.

    Example:
        >>> from showcase_lib.schema import empty_calls
        >>> list(frame_to_wire(empty_calls()))
        []
    """
    _check_frame(df)
    for start in range(0, len(df), chunk_rows):
        yield from _chunk_to_wire(df.iloc[start : start + chunk_rows])


def wire_to_frame(bodies: Iterable[Mapping[str, Any]], *, validate: bool = True) -> pd.DataFrame:
    """Build a record frame (ALL_COLUMNS, schema dtypes) from completion bodies.

    Raises:
        WireError: for the first invalid body (its position is in the message).

    Example:
        >>> wire_to_frame([]).shape
        (0, 22)
    """
    rows = []
    for i, body in enumerate(bodies):
        if validate:
            errors = validate_wire(body)
            if errors:
                raise WireError([FieldError(f"[{i}].{e.field}", e.reason, e.value) for e in errors])
        rows.append(_record_values(body))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(ALL_COLUMNS)
    data: dict[str, Any] = {}
    for name, values in zip(ALL_COLUMNS, columns, strict=True):
        dtype = DTYPES[name]
        if name == "timestamp":
            data[name] = pd.to_datetime(list(values), utc=True, format="ISO8601").as_unit("ns")
        elif dtype == "float64":
            data[name] = pd.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            data[name] = pd.array(list(values), dtype=dtype if dtype != "category" else object)
    frame = pd.DataFrame(data)
    for name in ALL_COLUMNS:
        if DTYPES[name] == "category":
            frame[name] = frame[name].astype("category")
        else:
            frame[name] = frame[name].astype(DTYPES[name])
    return frame
