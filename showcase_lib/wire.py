"""Record <-> Revenium wire body, written once: every mapper and the validator come from one table.

The record is ``showcase_lib.schema`` (snake_case, one row per AI call); its table
``schema.COLUMNS`` gives each column's wire field, kind of value and limits. The wire form is
the camelCase JSON body of ``POST /meter/v2/ai/completions``. From that table (plus the few
body fields no record column carries, ``_BODY_ONLY`` below) this module derives:

- ``CompletionBody``: the pydantic (v2) schema of a completion body: camelCase keys, strict
  types, unknown keys allowed (the emulator counts them); ``validate_wire`` turns its errors
  into ``FieldError`` items naming the field and the value;
- one scalar mapper each way (``record_to_wire`` / ``wire_to_record``) and one vectorised
  mapper each way (``frame_to_wire`` / ``wire_to_frame``); a record survives
  ``record -> wire -> record`` exactly, column for column (missing values included);
- ``MAPPING`` / ``mapping_table()``: the book's table of the correspondence.

Choices worth knowing:

- ``feature_id`` travels as ``agent`` (Revenium's attribution dimension for "which part of the
  product made this call"); ``customer_id`` as ``subscriber.id``.
- ``request_id``, ``session_id``, ``user_agent`` and ``status`` have no Revenium field; they
  travel as extension keys (a server must tolerate unknown keys). ``status`` is always sent
  (``null`` when unknown); a body without it (e.g. from the official SDK) gets a status implied
  by ``stopReason``.
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

import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, NamedTuple

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter
from pydantic import ValidationError as _ValidationError
from typing_extensions import NotRequired, Required, TypedDict

from showcase_lib._lazy import OnFirstUse
from showcase_lib.schema import (
    ALL_COLUMNS,
    COLUMNS,
    DTYPES,
    SERVICE_TIER_MULTIPLIERS,
    SERVICE_TIERS,
    Column,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    # imported on first use: the emulator's server loads this module without pandas/numpy
    np = OnFirstUse("numpy", "np", globals())
    pd = OnFirstUse("pandas", "pd", globals())


def _loaded(module: str) -> Any:
    """The module if something already imported it, else None (then no value can be of it)."""
    return sys.modules.get(module)


__all__ = [
    "MAPPING",
    "CompletionBody",
    "FieldError",
    "WireError",
    "encode_body",
    "format_time",
    "frame_to_wire",
    "mapping_table",
    "record_to_wire",
    "unknown_keys",
    "validate_wire",
    "wire_to_frame",
    "wire_to_record",
]

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

#: Record provider slug -> the provider name Revenium's official middleware sends.
_PROVIDER_NAMES: Final[dict[str, str]] = {
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
    **{name.lower(): slug for slug, name in _PROVIDER_NAMES.items()},
    **{slug: slug for slug in _PROVIDER_NAMES},
    "amazon bedrock": "aws-bedrock",
    "aws bedrock": "aws-bedrock",
    "amazonbedrock": "aws-bedrock",
    "bedrock": "aws-bedrock",
    "azure openai": "azure-openai",
    "mistral ai": "mistral",
    "mistralai": "mistral",
    "gemini": "google",
    "groq": "groq",
    "xai": "xai",
}
#: Record provider slugs whose ``inputTokenCount`` keeps the cache reads (gross of reads):
#: Revenium's backend subtracts ``cacheReadTokenCount`` from ``inputTokenCount`` itself for
#: models of the providers OPENAI, GROQ, XAI, AZURE and GEMINI. For every other provider
#: (Anthropic first) ``inputTokenCount`` excludes the cache reads and the cache writes, and for
#: all providers it excludes the cache writes (the SDK takes OpenAI's writes out of its prompt
#: count). Source: revenium-python-sdk 0.12.0, ``revenium_middleware/_core/cache_tokens.py``
#: (``billable_input_tokens``'s docstring, ``without_openai_cache_writes``), and the OpenAI and
#: Anthropic middlewares that call them (``openai/middleware.py`` ``_billable_prompt_tokens``;
#: ``anthropic/middleware.py`` forwards Anthropic's cache-exclusive ``usage.input_tokens``).
_READS_IN_INPUT_COUNT: Final[frozenset[str]] = frozenset(
    {"openai", "azure-openai", "google", "groq", "xai"}
)
_OPERATION_TYPES: Final[tuple[str, ...]] = (
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
_STOP_FROM_STATUS: Final[dict[str, str]] = {
    "success": "END",
    "error": "ERROR",
    "timeout": "TIMEOUT",
}
_STATUS_FROM_STOP: Final[dict[str, str]] = {"ERROR": "error", "TIMEOUT": "timeout"}
_INT64_MAX: Final[int] = 2**63 - 1
#: Largest cost accepted: finite and far from float overflow once summed.
_MONEY_MAX: Final[float] = 1e300
#: Revenium's responseQualityScore is a NUMERIC(5,2): |x| must round below 1000.
_SCORE_LIMIT: Final[float] = 999.995
_TAG_MAX: Final[int] = 255  # Revenium's text-tag columns (the official SDK enforces it too)

# --------------------------------------------------------------------------------------------
# The table: record columns (schema.COLUMNS) plus the body fields no column carries
# --------------------------------------------------------------------------------------------

_WireKind = Literal[
    "time", "text", "tag", "free", "count", "money", "enum", "bool", "int", "number", "score"
]


class _Field(NamedTuple):
    """One field of the completion body (from a record column or body-only)."""

    wire: str
    kind: _WireKind
    required: bool = False
    max_length: int | None = None
    values: tuple[str, ...] = ()
    column: str | None = None  # the record column it carries, if any
    note: str = ""


def _from_column(col: Column) -> _Field:
    if col.name == "service_tier":  # the provider's own word on the wire ("default", ...)
        return _Field(col.wire, "tag", max_length=_TAG_MAX, column=col.name, note=col.wire_note)
    # the wire requires a stopReason; a record without one gets one implied by its status
    required = col.required == "always" or col.wire == "stopReason"
    values = col.values if col.kind == "enum" else ()
    return _Field(col.wire, col.kind, required, col.max_length, values, col.name, col.wire_note)


#: Body fields derived from the token kinds and the service tier (shown in the mapping table).
_DERIVED: Final[tuple[_Field, ...]] = (
    _Field(
        "cacheCreation5mTokenCount",
        "count",
        note="derived: cache_write_tokens - cache_write_1h_tokens, omitted when 0; read as the "
        "5-minute share when cacheCreationTokenCount is absent",
    ),
    _Field(
        "pricingTier",
        "enum",
        values=("STANDARD", "BATCH"),
        note="derived from service_tier: BATCH for batch, STANDARD for flex and priority, "
        "omitted for standard; read when actualServiceTier is absent",
    ),
    _Field(
        "costMultiplier",
        "money",
        note="derived from service_tier: SERVICE_TIER_MULTIPLIERS of flex (0.5) and priority "
        "(2.0); not read back",
    ),
)

#: Body fields that no record column carries: derived, constant, or optional Revenium fields
#: that are checked when present and not mapped.
_BODY_ONLY: Final[tuple[_Field, ...]] = (
    _Field("responseTime", "time", True, note="derived: timestamp + latency_ms; not read back"),
    _Field("completionStartTime", "time", True, note="same as responseTime (not streamed)"),
    _Field(
        "totalTokenCount",
        "count",
        True,
        note="derived: input_tokens + output_tokens (the record's inclusive counts); not read back",
    ),
    _Field("costType", "enum", True, values=("AI",), note="always 'AI'"),
    _Field("isStreamed", "bool", True, note="always false: the record has no streaming flag"),
    _Field("stopReasonDerived", "bool", note="true when stopReason was implied by status"),
    _Field("organizationId", "tag", max_length=_TAG_MAX, note="deprecated; read as a fallback"),
    _Field("productId", "tag", max_length=_TAG_MAX, note="deprecated; read as a fallback"),
    *(
        _Field(name, "tag", max_length=_TAG_MAX)
        for name in (
            "subscriptionId",
            "traceName",
            "parentTransactionId",
            "transactionName",
        )
    ),
    *(
        _Field(name, "count")
        for name in (
            "timeToFirstToken",
            "retryNumber",
            "mediationLatency",
        )
    ),
    *(
        _Field(name, "money")
        for name in (
            "inputTokenCost",
            "outputTokenCost",
            "cacheReadTokenCost",
            "cacheCreationTokenCost",
        )
    ),
    _Field("errorCode", "int"),
    _Field("temperature", "number"),
    _Field("responseQualityScore", "score"),
    _Field("operationType", "enum", values=_OPERATION_TYPES),
    *_DERIVED,
    _Field("requestedServiceTier", "tag", max_length=_TAG_MAX),
    _Field("billingSkipped", "bool"),
    _Field("subscriber.email", "tag", max_length=_TAG_MAX),
)
_FIELDS: Final[tuple[_Field, ...]] = (*(_from_column(c) for c in COLUMNS), *_BODY_ONLY)
_FIELD: Final[dict[str, _Field]] = {f.wire: f for f in _FIELDS}

#: (record field, wire field, note): the table the book shows, derived from the table above:
#: every record column, then the body fields every body carries without a column of its own,
#: then the fields derived from the token kinds and the service tier.
MAPPING: Final[list[tuple[str, str, str]]] = [
    *((f.column, f.wire, f.note) for f in _FIELDS if f.column is not None),
    *(
        ("(derived)" if f.kind in ("time", "count") else "(none)", f.wire, f.note)
        for f in _BODY_ONLY
        if f.required
    ),
    *(("(derived)", f.wire, f.note) for f in _DERIVED),
]
_OTEL: Final[dict[str, str]] = {c.name: c.otel for c in COLUMNS}


def mapping_table() -> pd.DataFrame:
    """Return ``MAPPING`` as a DataFrame for display: record field, wire field, the
    OpenTelemetry GenAI attribute of the same value (``schema.Column.otel``; empty where the
    conventions have none) and the note.

    Example:
        >>> mapping_table().iloc[1].tolist()[:2]
        ['call_id', 'transactionId']
        >>> t = mapping_table().set_index("record field")
        >>> t.loc["cache_read_tokens", ["wire field", "OpenTelemetry"]].tolist()
        ['cacheReadTokenCount', 'gen_ai.usage.cache_read.input_tokens']
    """
    rows = [(rec, w, _OTEL.get(rec, ""), note) for rec, w, note in MAPPING]
    return pd.DataFrame(rows, columns=["record field", "wire field", "OpenTelemetry", "note"])


# --------------------------------------------------------------------------------------------
# The completion body as a pydantic schema, generated from the table
# --------------------------------------------------------------------------------------------

# An ISO 8601 time with a zone, calendar-checked (months, days per month, leap years) by the
# pattern itself so that pydantic checks it in Rust: no per-field Python callback.
_YEAR = r"(?:\d{3}[1-9]|\d{2}[1-9]0|\d[1-9]00|[1-9]000)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
    r"|02-(?:0[1-9]|1\d|2[0-8]))"
)
_LEAP_DAY = r"(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29"
_TIME_PATTERN: Final[str] = (
    rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{{1,9}})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_TIME_REASON: Final = "must be an ISO 8601 time with a zone, such as 2025-03-02T15:04:05Z"
_STRICT = ConfigDict(extra="allow", strict=True)


def _annotation(f: _Field) -> Any:
    """The strict pydantic type of one field."""
    kind = f.kind
    if kind == "time":
        return Annotated[StrictStr, Field(pattern=_TIME_PATTERN)]
    if kind == "text":
        return Annotated[StrictStr, Field(pattern=r"^\s*\S")]
    if kind == "tag":
        return Annotated[StrictStr, Field(max_length=f.max_length)]
    if kind == "free":
        return StrictStr
    if kind == "count":
        return Annotated[StrictInt, Field(ge=0, le=_INT64_MAX)]
    if kind == "int":
        return Annotated[StrictInt, Field(ge=-_INT64_MAX, le=_INT64_MAX)]
    if kind == "enum":
        return Literal[f.values]  # type: ignore[valid-type]
    if kind == "bool":
        return StrictBool
    limits = {
        "money": {"ge": 0, "le": _MONEY_MAX},
        "number": {"ge": -_MONEY_MAX, "le": _MONEY_MAX},
        "score": {"gt": -_SCORE_LIMIT, "lt": _SCORE_LIMIT},
    }[kind]
    return Annotated[float, Field(strict=True, allow_inf_nan=False, **limits)]


def _typed_dict(name: str, fields: Iterable[_Field], doc: str, **nested: Any) -> Any:
    """A strict TypedDict (extra keys allowed) of ``fields``, plus optional ``nested`` keys."""
    items: dict[str, Any] = {k: NotRequired[v | None] for k, v in nested.items()}
    for f in fields:
        key = f.wire.rsplit(".", 1)[-1]
        ann = _annotation(f)
        items[key] = Required[ann] if f.required else NotRequired[ann | None]
    td = TypedDict(name, items)  # type: ignore[operator]
    td.__pydantic_config__ = _STRICT  # type: ignore[attr-defined]
    td.__doc__ = doc
    return td


class _Credential(TypedDict, total=False):
    __pydantic_config__ = _STRICT  # type: ignore[misc]
    name: StrictStr | None
    value: StrictStr | None


_Subscriber = _typed_dict(
    "Subscriber",
    [f for f in _FIELDS if f.wire.startswith("subscriber.")],
    "The paying party: ``id`` (the record's customer_id), ``email``, ``credential``.",
    credential=_Credential,
)

CompletionBody = _typed_dict(
    "CompletionBody",
    [f for f in _FIELDS if "." not in f.wire],
    """The completion body of ``POST /meter/v2/ai/completions``, as a pydantic-validated dict.

    Generated from ``schema.COLUMNS`` and the body-only fields: camelCase keys, strict types
    (no coercion: ``"4"`` is not a count, ``true`` is not an integer), unknown keys allowed.
    A TypedDict rather than a BaseModel: a body is validated and handed on as the dict it is
    (4 us instead of 10 us per body, measured; the emulator checks every request).

    Example:
        >>> from pydantic import TypeAdapter
        >>> sorted(CompletionBody.__required_keys__)[:3]
        ['completionStartTime', 'costType', 'inputTokenCount']
        >>> TypeAdapter(CompletionBody).json_schema()["properties"]["agent"]["anyOf"][0]
        {'maxLength': 255, 'type': 'string'}
    """,
    subscriber=_Subscriber,
)
_VALIDATE: Final[Callable[[Any], Any]] = TypeAdapter(CompletionBody).validator.validate_python
#: Every key the body schema knows (anything else is an unknown key: allowed, and reported).
_KNOWN_KEYS: Final[frozenset[str]] = (
    CompletionBody.__required_keys__ | CompletionBody.__optional_keys__
)


# --------------------------------------------------------------------------------------------
# Errors
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
        """``field=value reason`` (or ``field reason`` when the value is missing)."""
        if self.value is None:
            return f"{self.field} {self.reason}"
        return f"{self.field}={self.value} {self.reason}"

    def as_dict(self) -> dict[str, str | None]:
        """The error as JSON-ready data (the emulator's 400 answer lists these)."""
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


def _short(value: Any, limit: int = 60) -> str:
    numpy = _loaded("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(f: _Field, value: Any = None) -> str:
    """Why a value of field ``f`` is refused (the same words on every path)."""
    kind = f.kind
    if kind == "tag":
        if type(value) is str and f.max_length is not None:
            return f"must be at most {f.max_length} characters (got {len(value)})"
        return "must be a string"
    if kind == "enum":
        return (
            f"must be '{f.values[0]}'"
            if len(f.values) == 1
            else "must be one of " + ", ".join(f.values)
        )
    return {
        "time": _TIME_REASON,
        "text": "must be a non-empty string",
        "free": "must be a string or null",
        "count": "must be an integer >= 0",
        "money": "must be a number >= 0",
        "bool": "must be true or false",
        "int": "must be an integer",
        "number": "must be a number",
        "score": f"must be a number with |x| < {_SCORE_LIMIT}",
    }[kind]


def _field_error(err: Mapping[str, Any]) -> FieldError:
    """One pydantic error as a FieldError that names the wire field and the value."""
    loc = tuple(str(p) for p in err["loc"])
    value = err.get("input")
    if not loc:
        return FieldError("(body)", "must be a JSON object", _short(type(value).__name__))
    if loc[:2] == ("subscriber", "credential"):  # never echo a credential back
        return FieldError("subscriber.credential", "must be an object {name?, value?} of strings")
    name = ".".join(loc[:2])
    if name == "subscriber":
        return FieldError(name, 'must be an object such as {"id": "cust_1"}', _short(value))
    field = _FIELD[name]
    if err["type"] == "missing" or (value is None and field.required):
        return FieldError(name, "is required")
    return FieldError(name, _reason(field, value), _short(value))


def validate_wire(body: Any) -> list[FieldError]:
    """Check a completion body against ``CompletionBody``; return every bad field (or ``[]``).

    Required fields must be present with the right type; known optional fields are checked
    when present and not null; unknown keys are accepted (``unknown_keys`` lists them).

    Example:
        >>> [e.field for e in validate_wire({"transactionId": "t"})][:3]
        ['requestTime', 'provider', 'model']
        >>> [e.message for e in validate_wire({"transactionId": 7}) if e.field == "transactionId"]
        ['transactionId=7 must be a non-empty string']
    """
    try:
        _VALIDATE(body)
    except _ValidationError as exc:
        errors = [_field_error(e) for e in exc.errors(include_url=False)]
        return list(dict.fromkeys(errors))
    return []


def unknown_keys(body: Mapping[str, Any]) -> list[str]:
    """Keys of a body that the completion schema does not know (allowed, but worth a report).

    Example:
        >>> unknown_keys({"transactionId": "t", "myTag": 1})
        ['myTag']
    """
    return [k for k in body if k not in _KNOWN_KEYS]


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------


def _format_times(ns: np.ndarray | Iterable[int]) -> np.ndarray:
    """Format UTC epoch nanoseconds as ISO 8601 ``Z`` strings, with only the fraction needed.

    Vectorised (numpy), so a million timestamps take a fraction of a second.

    Example:
        >>> _format_times([0, 1_500_000_000, 1_000_001_000]).tolist()
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
    """``YYYY-MM-DDTHH:MM:SS`` of whole UTC epoch seconds (cached: a stream of records mostly
    shares a few recent seconds; 4096 entries cover an hour of one-second timestamps)."""
    return (_EPOCH + timedelta(seconds=sec)).isoformat()


def format_time(ns: int) -> str:
    """One UTC epoch nanosecond value as ISO 8601 ``Z``, with only the fraction needed.

    The single-record path: integer arithmetic and a cached date-time prefix, no numpy.
    ``ns`` must be within the int64 nanosecond range (years 1677-2262).

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
# One record -> one body
# --------------------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    if v is None:
        return True
    pandas, numpy = _loaded("pandas"), _loaded("numpy")
    if pandas is not None and (v is pandas.NA or v is pandas.NaT):
        return True
    if type(v) is float or (numpy is not None and isinstance(v, numpy.floating)):
        return math.isnan(v)
    return False


def _plain(v: Any) -> Any:
    """numpy scalars -> Python scalars; integral floats -> int (frames with NaN upcast ints)."""
    if isinstance(v, np.generic):
        v = v.item()
    if type(v) is float and v.is_integer():
        return int(v)
    return v


#: The record columns a call cannot be metered without (a body needs them).
_REQUIRED_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.required == "always")


class _Bad(Exception):
    """A record value refused by a converter (the mapper names the record column)."""

    def __init__(self, reason: str):
        self.reason = reason


def _convert(f: _Field, v: Any) -> Any:
    """The general conversion of one record value to its wire value (None: omitted).

    The mappers try a plain-type fast check inline first and call this for anything else
    (numpy scalars, NaN/NA, strings as numbers, bad values)."""
    if _missing(v):
        if f.column in _REQUIRED_COLUMNS:
            raise _Bad("is required")
        return None
    v = _plain(v)
    kind = f.kind
    if kind in ("text", "tag", "free", "enum"):
        if isinstance(v, str):
            v = str(v)  # np.str_ and other str subclasses travel as plain str
            if (
                (kind == "text" and v.strip())
                or (kind == "tag" and (f.max_length is None or len(v) <= f.max_length))
                or kind == "free"
                or (kind == "enum" and v in f.values)
            ):
                return v
        raise _Bad(_reason(f, v))
    if kind == "count":
        if type(v) is int and 0 <= v <= _INT64_MAX:
            return v
        raise _Bad(_reason(f))
    if kind == "money":
        if type(v) in (int, float):
            try:
                x = float(v)
            except OverflowError:
                raise _Bad(_reason(f)) from None
            if 0.0 <= x <= _MONEY_MAX:
                return x
        raise _Bad(_reason(f))
    raise _Bad(_reason(f))  # pragma: no cover - the record carries no other kind


def _col(name: str) -> _Field:
    return next(f for f in _FIELDS if f.column == name)


_TS, _TXN, _PROVIDER, _MODEL = _col("timestamp"), _col("call_id"), _col("provider"), _col("model")
_TIN, _TOUT, _LAT = _col("input_tokens"), _col("output_tokens"), _col("latency_ms")
_COST, _STATUS, _STOP = _col("cost_usd"), _col("status"), _col("stop_reason")
_TIER = _col("service_tier")
#: The token kinds beyond input and output: (record column, its field), in this order
#: (cache reads, cache writes, their 1-hour share, reasoning). A zero is not sent: a body
#: without the field means 0, so the common call's body does not grow.
_COUNTS: Final[tuple[tuple[str, _Field], ...]] = tuple(
    (name, _col(name))
    for name in (
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
    )
)
_W5M: Final[str] = _DERIVED[0].wire
_COUNT_COLUMNS: Final[tuple[str, ...]] = tuple(col for col, _ in _COUNTS)
#: What a record's service_tier may be without adding anything to the body.
_STANDARD: Final[frozenset[str | None]] = frozenset({None, "standard"})
#: What a non-standard service tier adds to a body (the standard tier adds nothing): the tier
#: itself, Revenium's pricingTier (it knows STANDARD and BATCH only) and, for the tiers
#: pricingTier cannot say, the cost multiplier of ``schema.SERVICE_TIER_MULTIPLIERS``.
_TIER_FIELDS: Final[dict[str, dict[str, Any]]] = {
    tier: {
        _TIER.wire: tier,
        "pricingTier": "BATCH" if tier == "batch" else "STANDARD",
        **(
            {"costMultiplier": SERVICE_TIER_MULTIPLIERS[tier]}
            if tier in ("flex", "priority")
            else {}
        ),
    }
    for tier in SERVICE_TIERS
    if tier != "standard"
}
_TIER_REASON: Final[str] = "must be one of " + ", ".join(SERVICE_TIERS)
#: actualServiceTier as providers write it (lower-cased) -> the record's tier. OpenAI answers
#: ``service_tier`` "default" (or echoes "auto") for the standard tier.
_TIER_FROM_WIRE: Final[dict[str, str]] = {
    **{t: t for t in SERVICE_TIERS},
    "default": "standard",
    "auto": "standard",
}
#: The optional text columns, mapped one to one:
#: (record column, its field, top-level wire key, nested key or None, length limit).
_TEXT: Final[tuple[tuple[str, _Field, str, str | None, int], ...]] = tuple(
    (
        f.column,
        f,
        *(f.wire.split(".", 1) if "." in f.wire else (f.wire, None)),
        f.max_length or _INT64_MAX,
    )
    for f in _FIELDS
    if f.column is not None and f.kind in ("tag", "free") and f not in (_STATUS, _TIER)
)
_STOP_SET: Final[frozenset[str]] = frozenset(_STOP.values)
#: The keys every body starts with, in order (the vectorised mapper fills them column-wise;
#: the scalar mapper writes the same keys, and a test compares both mappers' bodies).
_BODY_HEAD: Final[tuple[str, ...]] = (
    _TXN.wire,
    _PROVIDER.wire,
    _MODEL.wire,
    _TIN.wire,
    _TOUT.wire,
    "totalTokenCount",
    _TS.wire,
    "responseTime",
    "completionStartTime",
    _LAT.wire,
    "costType",
    "isStreamed",
    _STOP.wire,
    _STATUS.wire,
)


def record_to_wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """Map one record (a mapping with the schema's columns) to a Revenium completion body.

    Required: timestamp, call_id, provider, model, input_tokens, output_tokens, latency_ms;
    every other column may be missing, None or NaN. A naive timestamp is taken as UTC. Plain
    values (``pd.Timestamp``, ``int``, ``str``, ``float``: what the tracker builds) pass a
    fast inline check; anything else (numpy scalars, NaN, strings as times) is converted.

    Raises:
        ValueError: naming every bad record field and its value, e.g. ``input_tokens=-3 must
            be an integer >= 0``.

    Example:
        >>> body = record_to_wire({"timestamp": "2026-01-01T00:00:00Z", "call_id": "c1",
        ...     "provider": "anthropic", "model": "claude-3-5-haiku", "input_tokens": 10,
        ...     "output_tokens": 5, "latency_ms": 800, "customer_id": "cust_1"})
        >>> body["subscriber"], body["stopReason"], body["stopReasonDerived"]
        ({'id': 'cust_1'}, 'END', True)
    """
    get = record.get
    errors: list[str] = []

    def slow(f: _Field, v: Any) -> Any:
        try:
            return _convert(f, v)
        except _Bad as bad:
            errors.append(f"{f.column}={_short(v)} {bad.reason}")
            return None

    txn, provider, model = get("call_id"), get("provider"), get("model")
    tin, tout, lat = get("input_tokens"), get("output_tokens"), get("latency_ms")
    if not (type(txn) is str and txn.strip()):
        txn = slow(_TXN, txn)
    if not (type(provider) is str and provider.strip()):
        provider = slow(_PROVIDER, provider)
    if not (type(model) is str and model.strip()):
        model = slow(_MODEL, model)
    if not (type(tin) is int and 0 <= tin <= _INT64_MAX):
        tin = slow(_TIN, tin)
    if not (type(tout) is int and 0 <= tout <= _INT64_MAX):
        tout = slow(_TOUT, tout)
    if not (type(lat) is int and 0 <= lat <= _INT64_MAX):
        lat = slow(_LAT, lat)
    ts = get("timestamp")
    try:  # the tracker's case: a pd.Timestamp within the nanosecond range (naive = UTC)
        start = ts.value if type(ts) is pd.Timestamp else _start_ns(ts, errors)
    except OverflowError:
        start = _start_ns(ts, errors)
    req_s = resp_s = None
    if start is not None:
        end = start + (lat if type(lat) is int else 0) * 1_000_000
        if end > _NS_MAX:
            errors.append(
                f"latency_ms={_short(lat)} puts the response time past the "
                f"last representable time ({pd.Timestamp.max})"
            )
        else:
            req_s, resp_s = format_time(start), format_time(end)
    total = tin + tout if type(tin) is int and type(tout) is int else 0
    if total > _INT64_MAX:
        errors.append(f"input_tokens={_short(tin)} must be an integer >= 0")
    status, stop = get("status"), get("stop_reason")
    if status is not None and type(status) is not str:
        status = slow(_STATUS, status)
    if stop is not None and not (type(stop) is str and stop in _STOP_SET):
        stop = slow(_STOP, stop)
    body: dict[str, Any] = {
        "transactionId": txn,
        "provider": _PROVIDER_NAMES.get(provider, provider) if provider is not None else None,
        "model": model,
        "inputTokenCount": tin,
        "outputTokenCount": tout,
        "totalTokenCount": total,
        "requestTime": req_s,
        "responseTime": resp_s,
        "completionStartTime": resp_s,
        "requestDuration": lat,
        "costType": "AI",
        "isStreamed": False,
    }
    if stop is None:
        body["stopReason"] = _STOP_FROM_STATUS.get(status, "END")  # type: ignore[arg-type]
        body["stopReasonDerived"] = True
    else:
        body["stopReason"] = stop
    body["status"] = status
    cost = get("cost_usd")
    if cost is not None:
        if type(cost) is float and cost == cost and 0.0 <= cost <= _MONEY_MAX:
            body["totalCost"] = cost + 0.0  # -0.0 -> 0.0, like the vectorised path
        else:
            cost = slow(_COST, cost)
            if cost is not None:
                body["totalCost"] = cost + 0.0
    for col, f, key, sub, limit in _TEXT:
        v = get(col)
        if v is None:
            continue
        if not (type(v) is str and len(v) <= limit):
            v = slow(f, v)
            if v is None:
                continue
        body[key] = v if sub is None else {sub: v}
    counts = [get(col) for col in _COUNT_COLUMNS]
    if not (counts[0] is counts[1] is counts[2] is counts[3] is None):  # any given at all
        for i, v in enumerate(counts):
            if v is None:
                counts[i] = 0
            elif not (type(v) is int and 0 <= v <= _INT64_MAX):
                v = slow(_COUNTS[i][1], v)  # numpy ints, NaN/NA (missing: 0), bad values
                counts[i] = 0 if v is None else v
        if counts != [0, 0, 0, 0]:
            _tokens_to_body(body, counts, (tin, tout), provider, errors)
    tier = get("service_tier")
    if (tier is not None and type(tier) is not str) or tier not in _STANDARD:
        extra = _TIER_FIELDS.get(tier) if type(tier) is str else None
        if extra is not None:
            body.update(extra)
        else:
            _tier_to_body(body, tier, errors)
    if errors:
        raise ValueError("; ".join(dict.fromkeys(errors)))
    return body


def _tokens_to_body(
    body: dict[str, Any],
    counts: list[int],
    totals: tuple[Any, Any],
    provider: str | None,
    errors: list[str],
) -> None:
    """Check the inclusive rule, write Revenium's input count (the record's less the cache
    writes, and less the cache reads unless the provider is one of ``_READS_IN_INPUT_COUNT``)
    and add the non-zero token kinds (and the 5-minute share)."""
    read, write, w1h, reasoning = counts
    tin, tout = totals
    if type(tin) is int:
        if read + write > tin:
            errors.append(_over_input(read, write, tin))
        else:
            body["inputTokenCount"] = (
                tin - write - (0 if provider in _READS_IN_INPUT_COUNT else read)
            )
    if type(tout) is int and reasoning > tout:
        errors.append(_over_output(reasoning, tout))
    if w1h > write:
        errors.append(_over_writes(w1h, write))
    for (_, f), v in zip(_COUNTS, counts, strict=True):
        if v:
            body[f.wire] = v
    if write > w1h:
        body[_W5M] = write - w1h


def _over_input(read: Any, write: Any, tin: Any, at: str = "") -> str:
    return (
        f"cache_read_tokens={read} + cache_write_tokens={write}{at} exceed input_tokens={tin} "
        "(inclusive rule: input_tokens counts the cache reads and writes)"
    )


def _over_output(reasoning: Any, tout: Any, at: str = "") -> str:
    return (
        f"reasoning_tokens={reasoning}{at} exceeds output_tokens={tout} (inclusive rule: "
        "output_tokens counts the reasoning tokens)"
    )


def _over_writes(w1h: Any, write: Any, at: str = "") -> str:
    return (
        f"cache_write_1h_tokens={w1h}{at} exceeds cache_write_tokens={write} (the 1-hour "
        "writes are a share of all cache writes)"
    )


def _tier_to_body(body: dict[str, Any], tier: Any, errors: list[str]) -> None:
    """Add a non-standard tier's fields; a missing tier is standard, anything else an error."""
    if _missing(tier):
        return
    extra = _TIER_FIELDS.get(str(tier)) if isinstance(tier, str) else None
    if extra is None:
        if tier != "standard":
            errors.append(f"service_tier={_short(tier)} {_TIER_REASON}")
        return
    body.update(extra)


def _start_ns(ts: Any, errors: list[str]) -> int | None:
    """The record's timestamp as UTC epoch ns (naive = UTC), or None after noting an error."""
    if type(ts) is not pd.Timestamp or ts.unit != "ns":
        if _missing(ts):
            errors.append(f"timestamp={ts!r} is required")
            return None
        try:
            ts = _to_timestamp(ts)
        except (ValueError, TypeError, OverflowError):
            errors.append(f"timestamp={_short(ts)} is not a valid time")
            return None
    try:
        return ts.value  # OverflowError outside the nanosecond range (years 1677-2262)
    except OverflowError:
        errors.append(f"timestamp={_short(ts)} is not a valid time")
        return None


# --------------------------------------------------------------------------------------------
# One body -> one record
# --------------------------------------------------------------------------------------------

#: Where each record column is read from, in ALL_COLUMNS order: its top-level wire key ...
_KEYS: Final[tuple[str, ...]] = tuple(c.wire.split(".", 1)[0] for c in COLUMNS)
#: ... the nested key for a dotted wire field (customer_id <- subscriber.id) ...
_NESTED: Final[tuple[tuple[int, str], ...]] = tuple(
    (i, c.wire.split(".", 1)[1]) for i, c in enumerate(COLUMNS) if "." in c.wire
)
#: ... and the deprecated keys read when the wire field is absent (organizationId, productId).
_FALLBACKS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = tuple(
    (i, c.read_also) for i, c in enumerate(COLUMNS) if c.read_also
)
_I_PROVIDER, _I_COST, _I_STATUS, _I_STOP, _I_TIER = (
    ALL_COLUMNS.index(name)
    for name in ("provider", "cost_usd", "status", "stop_reason", "service_tier")
)
_I_READ, _I_WRITE, _I_W1H, _I_REASONING = (ALL_COLUMNS.index(name) for name, _ in _COUNTS)
_I_TIN: Final[int] = ALL_COLUMNS.index("input_tokens")


def _record_values(body: Mapping[str, Any]) -> list[Any]:
    """Record values in ALL_COLUMNS order (timestamp left as the wire string). Body is valid."""
    get = body.get
    values = list(map(get, _KEYS))
    for i, sub in _NESTED:
        outer = values[i]
        values[i] = outer.get(sub) if isinstance(outer, Mapping) else None
    for i, alternatives in _FALLBACKS:
        if values[i] is None:
            for alt in alternatives:
                if (v := get(alt)) is not None:
                    values[i] = v
                    break
    provider = values[_I_PROVIDER]
    values[_I_PROVIDER] = _PROVIDER_ALIASES.get(provider.lower(), provider)
    cost = values[_I_COST]
    if cost is None:
        cin, cout = get("inputTokenCost"), get("outputTokenCost")
        cost = cin + cout if cin is not None and cout is not None else None
    values[_I_COST] = None if cost is None else float(cost)
    if "status" not in body:
        values[_I_STATUS] = _STATUS_FROM_STOP.get(values[_I_STOP], "success")
    if get("stopReasonDerived") is True:
        values[_I_STOP] = None
    _tokens_and_tier(values, get)
    return values


def _tokens_and_tier(values: list[Any], get: Callable[[str], Any]) -> None:
    """Fill the token kinds and the tier of a record read from a body (absent: 0, standard).

    Cache writes: cacheCreationTokenCount, else the 5-minute plus the 1-hour count; the
    1-hour share: cacheCreation1hTokenCount, else the total minus the 5-minute count. Input:
    inputTokenCount plus the cache writes, plus the cache reads unless the provider is one of
    ``_READS_IN_INPUT_COUNT`` (the inverse of ``record_to_wire``). Tier: actualServiceTier
    (OpenAI's "default" is standard), else pricingTier.
    """
    if values[_I_READ] is None:
        values[_I_READ] = 0
    if values[_I_REASONING] is None:
        values[_I_REASONING] = 0
    write, w1h = values[_I_WRITE], values[_I_W1H]
    if write is None or w1h is None:
        w5m = get(_W5M)
        if write is None:
            write = (w5m or 0) + (w1h or 0)
        if w1h is None:
            w1h = max(write - w5m, 0) if w5m is not None else 0
        values[_I_WRITE], values[_I_W1H] = write, w1h
    read = values[_I_READ]
    if read or write:  # Revenium's input count -> the record's inclusive one
        tin = values[_I_TIN]
        if type(tin) is int:
            reads_in = values[_I_PROVIDER] in _READS_IN_INPUT_COUNT
            values[_I_TIN] = tin + write + (0 if reads_in else read)
    tier = values[_I_TIER]
    tier = _TIER_FROM_WIRE.get(tier.lower()) if tier is not None else None
    if tier is None:
        tier = "batch" if get("pricingTier") == "BATCH" else "standard"
    values[_I_TIER] = tier


def _input_overflow(body: Mapping[str, Any]) -> FieldError:
    """The error of a body whose input count plus the cache counts it excludes overflows."""
    return FieldError(
        "inputTokenCount",
        f"plus the cache tokens it excludes must be at most {_INT64_MAX}",
        _short(body.get("inputTokenCount")),
    )


def wire_to_record(
    body: Mapping[str, Any], *, validate: bool = True, raw_time: bool = False
) -> dict[str, Any]:
    """Map one completion body back to a record dict (ALL_COLUMNS order; missing -> None).

    ``timestamp`` is a UTC ``pd.Timestamp`` (from ``requestTime``), or with ``raw_time=True``
    the wire's ISO 8601 text as sent (no pandas needed: the emulator's pricing reads bodies
    so); ``latency_ms`` comes from ``requestDuration``; bodies from other clients (no
    extension keys) get ``status`` implied by ``stopReason``; absent token kinds are 0 and an
    absent tier is standard.

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
    values = _record_values(body)
    if validate and values[_I_TIN] > _INT64_MAX:
        raise WireError([_input_overflow(body)])
    if not raw_time:
        values[0] = _to_timestamp(values[0])
    return dict(zip(ALL_COLUMNS, values, strict=True))


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def _bad(col: str, series: pd.Series, mask: np.ndarray | pd.Series, reason: str) -> ValueError:
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    more = f" ({len(idx)} rows)" if len(idx) > 1 else ""
    first = idx[0]
    return ValueError(
        f"{col}={_short(series.iloc[first])} at row {_short(series.index[first])} {reason}{more}"
    )


def _text_list(s: pd.Series) -> list[Any]:
    """A column as a list of Python str / None (fast for categoricals)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = np.asarray(s.cat.categories, dtype=object)
        lookup = np.append(cats, np.array([None], dtype=object))
        return lookup[s.cat.codes.to_numpy()].tolist()  # code -1 -> last element, None
    return s.to_numpy(dtype=object, na_value=None).tolist()


def _per_value(s: pd.Series, check: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """A boolean check of a text column (run on the categories only when categorical)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = pd.Series(s.cat.categories.astype(str), dtype="string")
        per_cat = check(cats).fillna(False).to_numpy(bool)
        return np.append(per_cat, False)[s.cat.codes.to_numpy()]
    return check(s.astype("string")).fillna(False).to_numpy(bool)


def _count_array(df: pd.DataFrame, f: _Field) -> np.ndarray:
    col = f.column
    s = df[col]
    if s.isna().any():
        if f.required:
            raise _bad(col, s, s.isna(), "is required")
        s = s.astype(object).where(s.notna(), 0)  # an optional count: missing means 0
    reason = _reason(f)
    try:
        arr = pd.to_numeric(s).to_numpy()
    except (ValueError, TypeError):
        raise _bad(col, s, pd.to_numeric(s, errors="coerce").isna(), reason) from None
    if arr.dtype.kind == "f":
        frac = arr != np.floor(arr)
        if frac.any():
            raise _bad(col, s, frac, reason)
    elif arr.dtype.kind not in "iu":
        raise _bad(col, s, np.ones(len(s), bool), reason)
    if (arr < 0).any():
        raise _bad(col, s, arr < 0, reason)
    return arr.astype("int64")


def _check_text(df: pd.DataFrame, f: _Field) -> None:
    """The frame-wide check of one text column, by its kind (same rules as the body schema)."""
    col = f.column
    s = df[col]
    if f.kind == "text":
        if s.isna().any():
            raise _bad(col, s, s.isna(), "is required")
        bad = _per_value(s, lambda t: t.str.strip().eq(""))
    elif f.kind == "tag" and f.max_length is not None:
        bad = _per_value(s, lambda t: t.str.len() > f.max_length)
    elif f.kind == "enum":
        bad = (s.notna() & ~s.astype(object).isin(f.values)).to_numpy(bool)
    else:
        return
    if bad.any():
        first = s[bad].iloc[0]
        raise _bad(col, s, bad, _reason(f, first))


def _check_frame(df: pd.DataFrame) -> None:
    missing = [c for c in _REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"columns={missing!r} are required in the frame")
    for f in _FIELDS:
        if f.column in df.columns and f.kind in ("text", "tag", "enum") and f is not _TIER:
            _check_text(df, f)
    if _TIER.column in df.columns:
        s = df[_TIER.column]
        bad = (s.notna() & ~s.astype(object).isin(SERVICE_TIERS)).to_numpy(bool)
        if bad.any():
            raise _bad(_TIER.column, s, bad, _TIER_REASON)


def _bodies_of_chunk(df: pd.DataFrame) -> list[dict[str, Any]]:
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
    tin, tout, lat = (_count_array(df, f) for f in (_TIN, _TOUT, _LAT))
    tokens, wire_tin = _token_columns(df, tin, tout)
    req_s = _format_times(start).tolist()
    resp_s = _format_times(start + lat * 1_000_000).tolist()

    def opt(f: _Field) -> list[Any] | None:
        return _text_list(df[f.column]) if f.column in df.columns else None  # type: ignore[index]

    status = opt(_STATUS) or [None] * n
    stop_in = opt(_STOP) or [None] * n
    stop = [
        s if s is not None else _STOP_FROM_STATUS.get(st, "END")
        for s, st in zip(stop_in, status, strict=True)
    ]
    keys = list(_BODY_HEAD)
    full: list[list[Any]] = [
        _text_list(df["call_id"]),
        _text_list(df["provider"].map(lambda p: _PROVIDER_NAMES.get(p, p))),
        _text_list(df["model"]),
        wire_tin.tolist(),
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
    # keys that only some rows carry: (key, values, the rows that carry one)
    sparse: list[tuple[str, list[Any], list[int]]] = []

    def add(key: str, values: list[Any] | None, rows: list[int] | None = None) -> None:
        if values is None:
            return
        if rows is None:  # a membership test runs in C; the positions only when needed
            rows = [i for i, v in enumerate(values) if v is not None] if None in values else None
        if rows is not None and len(rows) < n:
            sparse.append((key, values, rows))
        else:
            keys.append(key)
            full.append(values)

    if None in stop_in:
        add("stopReasonDerived", [True if s is None else None for s in stop_in])
    if "cost_usd" in df.columns:
        cost = pd.to_numeric(df["cost_usd"]).to_numpy(dtype="float64") + 0.0
        bad = (cost < 0) | np.isinf(cost) | (cost > _MONEY_MAX)
        if bad.any():
            raise _bad("cost_usd", df["cost_usd"], bad, _reason(_COST))
        add("totalCost", [None if c != c else c for c in cost.tolist()])
    for _, f, key, sub, _ in _TEXT:
        values = opt(f)
        if values is not None and sub is not None:
            values = [None if v is None else {sub: v} for v in values]
        add(key, values)
    for key, values, rows in tokens:
        add(key, values, rows)
    if _TIER.column in df.columns:
        tiers = _text_list(df[_TIER.column])
        tiered = [i for i, t in enumerate(tiers) if t is not None and t != "standard"]
        if tiered:
            for key in ("actualServiceTier", "pricingTier", "costMultiplier"):
                values = [None if t is None else _TIER_FIELDS.get(t, {}).get(key) for t in tiers]
                add(key, values, tiered if key != "costMultiplier" else None)

    out = [dict(zip(keys, vals, strict=True)) for vals in zip(*full, strict=True)]
    for key, values, rows in sparse:  # only the rows that carry the key: O(values sent)
        for i in rows:
            out[i][key] = values[i]
    return out


def _reads_in_input_count(providers: pd.Series) -> np.ndarray:
    """Per row: whether the provider's inputTokenCount keeps the cache reads (on the
    categories only when categorical)."""
    if isinstance(providers.dtype, pd.CategoricalDtype):
        per_cat = np.asarray(providers.cat.categories.isin(_READS_IN_INPUT_COUNT), dtype=bool)
        return np.append(per_cat, False)[providers.cat.codes.to_numpy()]
    return providers.isin(_READS_IN_INPUT_COUNT).to_numpy(bool)


def _token_columns(
    df: pd.DataFrame, tin: np.ndarray, tout: np.ndarray
) -> tuple[list[tuple[str, list[Any], list[int]]], np.ndarray]:
    """(wire key, values, the rows where it is not 0) of each token kind beyond input and
    output that is non-zero somewhere in the chunk, the 5-minute writes included, and
    Revenium's inputTokenCount per row (``_READS_IN_INPUT_COUNT``); the inclusive rule checked
    first."""
    arrays = {
        col: _count_array(df, f) if col in df.columns else np.zeros(len(df), dtype="int64")
        for col, f in _COUNTS
    }
    read, write, w1h, reasoning = arrays.values()

    def at(i: int) -> str:
        return f" at row {_short(df.index[i])}"

    for bad, message in (
        (read + write > tin, lambda i: _over_input(read[i], write[i], tin[i], at(i))),
        (reasoning > tout, lambda i: _over_output(reasoning[i], tout[i], at(i))),
        (w1h > write, lambda i: _over_writes(w1h[i], write[i], at(i))),
    ):
        if bad.any():
            more = int(bad.sum())
            first = message(int(np.flatnonzero(bad)[0]))
            raise ValueError(first + (f" ({more} rows)" if more > 1 else ""))
    out = []
    w5m = write - w1h
    for key, arr in zip(
        (*(f.wire for _, f in _COUNTS), _W5M), (read, write, w1h, reasoning, w5m), strict=True
    ):
        if arr.any():
            out.append((key, arr.tolist(), np.flatnonzero(arr).tolist()))
    wire_tin = tin
    if write.any():
        wire_tin = wire_tin - write
    if read.any():
        wire_tin = wire_tin - np.where(_reads_in_input_count(df["provider"]), 0, read)
    return out, wire_tin


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
        yield from _bodies_of_chunk(df.iloc[start : start + chunk_rows])


def wire_to_frame(bodies: Iterable[Mapping[str, Any]], *, validate: bool = True) -> pd.DataFrame:
    """Build a record frame (ALL_COLUMNS, schema dtypes) from completion bodies.

    Raises:
        WireError: for the first invalid body (its position is in the message).

    Example:
        >>> wire_to_frame([]).shape
        (0, 27)
    """
    rows = []
    for i, body in enumerate(bodies):
        if validate:
            errors = validate_wire(body)
            if errors:
                raise WireError([FieldError(f"[{i}].{e.field}", e.reason, e.value) for e in errors])
        values = _record_values(body)
        if validate and values[_I_TIN] > _INT64_MAX:
            e = _input_overflow(body)
            raise WireError([FieldError(f"[{i}].{e.field}", e.reason, e.value)])
        rows.append(values)
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
        elif frame[name].dtype != DTYPES[name]:
            frame[name] = frame[name].astype(DTYPES[name])
    return frame


# --------------------------------------------------------------------------------------------
# Bytes
# --------------------------------------------------------------------------------------------

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def encode_body(body: Any) -> bytes:
    """Compact UTF-8 JSON bytes of a wire body (what the tracker and backfill send).

    Example:
        >>> encode_body({"model": "gpt-4o-mini", "inputTokenCount": 10})
        b'{"model":"gpt-4o-mini","inputTokenCount":10}'
    """
    return _ENCODE(body).encode("utf-8")
