"""OpenTelemetry GenAI spans <-> the record: one mapping for the emulator and the tracker.

The emulator's ``POST /meter/v2/otlp/v1/traces`` reads a span into a record (and the record
into a completion body through ``showcase_lib.wire``); the tracker's OTLP transport writes a
record as a span. Both directions are driven by the record's table (``Column.otel``, the
attribute of the OpenTelemetry GenAI conventions that carries the column, as named in
opentelemetry-semantic-conventions 0.66b2 ``gen_ai_attributes``), plus:

- the call's id (``call_id``, Revenium's ``transactionId``) is ``gen_ai.response.id``, the
  provider's response id (``chatcmpl-...``, ``msg_...``): the value Revenium's SDK 0.12.0 sends
  as ``transactionId`` too (``revenium_middleware/openai/middleware.py:350``,
  ``transaction_id = getattr(response, 'id', ...)``), so the same call metered both ways
  carries one id and is stored once. A span without a response id (a failed call) uses its
  span id (16 hex digits);
- provider from ``gen_ai.provider.name``, else the older ``gen_ai.system`` (the official
  OpenAI instrumentation 2.4b0 still sends ``gen_ai.system`` unless
  ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``), values of the conventions
  mapped to the record's slugs (``aws.bedrock`` -> ``aws-bedrock``, ``gcp.gemini`` -> ``google``);
- model: ``gen_ai.response.model`` (what the provider billed), else ``gen_ai.request.model``;
- cache writes: ``gen_ai.usage.cache_creation.input_tokens`` (the conventions' name), or
  ``gen_ai.usage.cache_write.input_tokens`` (what opentelemetry-util-genai 1.3b0 writes);
- time: the span's start is ``timestamp``, its duration ``latency_ms``;
- status: a span with status ERROR is an ``error`` record (stop reason ``ERROR``), else the
  first of ``gen_ai.response.finish_reasons`` gives the stop reason;
- columns without a GenAI attribute (customer, organization, product, tier, cost, ...) travel
  as ``revenium.<wire field>`` attributes (``revenium.subscriber.id``): this book's
  convention, which the emulator reads; what the real service reads beyond ``gen_ai.*`` is
  not documented.

Only model calls are metered (``gen_ai.operation.name`` in ``METERED_OPERATIONS``); agent,
tool and workflow spans wrap model calls and would count them twice, so they are skipped like
spans of any other library. A span that cannot be read raises ``SpanError`` naming the span
and the attribute; callers go on with the next span.

Example:
    >>> import pandas as pd
    >>> rec = {"timestamp": pd.Timestamp("2026-01-01T00:00:00Z"), "call_id": "chatcmpl-1",
    ...        "provider": "openai", "model": "gpt-5.4-mini", "input_tokens": 900,
    ...        "output_tokens": 40, "cache_read_tokens": 512, "reasoning_tokens": 8,
    ...        "latency_ms": 350, "customer_id": "cust_1"}
    >>> span = record_to_span(rec)
    >>> back = span_to_record(span)
    >>> {k: back[k] for k in rec} == rec
    True
    >>> span_to_body(span)["transactionId"], span_to_body(span)["operationType"]
    ('chatcmpl-1', 'CHAT')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from showcase_lib.schema import COLUMNS, SERVICE_TIERS, STOP_REASONS
from showcase_lib.wire import record_to_wire

ContentType = Literal["application/x-protobuf", "application/json"]
PROTOBUF: Final[ContentType] = "application/x-protobuf"
JSON: Final[ContentType] = "application/json"

#: Operations that are one model call each (semantic conventions 0.66b2
#: ``GenAiOperationNameValues``), and Revenium's ``operationType`` for each.
METERED_OPERATIONS: Final[dict[str, str]] = {
    "chat": "CHAT",
    "text_completion": "GENERATE",
    "generate_content": "GENERATE",
    "embeddings": "EMBED",
}
OPERATION: Final = "gen_ai.operation.name"
RESPONSE_ID: Final = "gen_ai.response.id"
RESPONSE_MODEL: Final = "gen_ai.response.model"
REQUEST_MODEL: Final = "gen_ai.request.model"
PROVIDER: Final = "gen_ai.provider.name"
SYSTEM: Final = "gen_ai.system"  # the older name of the provider attribute
FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
STREAM: Final = "gen_ai.request.stream"
CACHE_WRITE_ALIAS: Final = "gen_ai.usage.cache_write.input_tokens"  # util-genai 1.3b0
SERVICE_TIER_ALIAS: Final = "gen_ai.openai.response.service_tier"  # deprecated, still sent
_PREFIX: Final = "revenium."

#: Provider values of the conventions -> the record's slugs (others kept as they are).
_PROVIDERS_IN: Final[dict[str, str]] = {
    "aws.bedrock": "aws-bedrock",
    "azure.ai.openai": "azure-openai",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "x_ai": "xai",
}
_PROVIDERS_OUT: Final[dict[str, str]] = {
    "aws-bedrock": "aws.bedrock",
    "azure-openai": "azure.ai.openai",
    "google": "gcp.gen_ai",
    "mistral": "mistral_ai",
    "xai": "x_ai",
}
#: finish reason (OpenAI / Anthropic / conventions) -> Revenium's stopReason
_FINISH: Final[dict[str, str]] = {
    "stop": "END",
    "end_turn": "END",
    "tool_calls": "END",
    "tool_use": "END",
    "stop_sequence": "END_SEQUENCE",
    "length": "TOKEN_LIMIT",
    "max_tokens": "TOKEN_LIMIT",
    "content_filter": "ERROR",
    "error": "ERROR",
}
#: OpenAI's service_tier values that mean the standard price
_STANDARD_TIERS: Final[frozenset[str]] = frozenset({"default", "auto", "standard"})

_COUNT = frozenset(c.name for c in COLUMNS if c.kind == "count") - {"latency_ms"}
#: Columns written from the span itself (ids, times, status), not from one attribute.
_FROM_SPAN: Final = frozenset(
    {"timestamp", "call_id", "latency_ms", "provider", "model", "status", "stop_reason"}
)
#: record column -> span attribute (GenAI name where one exists, else revenium.<wire field>)
ATTRIBUTES: Final[dict[str, str]] = {
    c.name: c.otel or _PREFIX + c.wire for c in COLUMNS if c.name not in _FROM_SPAN
}
_ATTRIBUTE_ITEMS: Final = tuple(ATTRIBUTES.items())
_STATUS_ATTR: Final = _PREFIX + "status"
_STOP_ATTR: Final = _PREFIX + "stopReason"
_COLUMN_OF: Final[dict[str, str]] = {a: c for c, a in ATTRIBUTES.items()}
_COLUMN_OF[CACHE_WRITE_ALIAS] = "cache_write_tokens"
_COLUMN_OF[SERVICE_TIER_ALIAS] = "service_tier"
#: the token counts a GenAI span must carry unless the call failed
_REQUIRED_COUNTS: Final = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
#: 64 MiB after decompression: 512 spans take ~0.3 MB; a gzip bomb stops here.
MAX_INFLATED_BYTES: Final = 64 * 1024 * 1024


class SpanError(ValueError):
    """A GenAI span that cannot become a record; the message names the span and attribute."""


def _value(v: AnyValue) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [_value(x) for x in v.array_value.values]
    if which is None or which == "kvlist_value":
        return None
    return getattr(v, which)


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    """Span (or resource) attributes as a plain dict (arrays as lists).

    Example:
        >>> attributes(record_to_span({"timestamp": "2026-01-01T00:00:00Z", "call_id": "c",
        ...     "provider": "openai", "model": "m", "input_tokens": 1, "output_tokens": 2,
        ...     "latency_ms": 3}).attributes)["gen_ai.usage.output_tokens"]
        2
    """
    out: dict[str, Any] = {}
    for kv in kvs:
        v = kv.value
        which = v.WhichOneof("value")
        if which == "string_value":  # most attributes: no second call
            out[kv.key] = v.string_value
        elif which == "int_value":
            out[kv.key] = v.int_value
        else:
            out[kv.key] = _value(v)
    return out


def _label(span: Span) -> str:
    return f"span {span.name[:80]!r} (span_id={span.span_id.hex() or '-'})"


def is_metered(attrs: Mapping[str, Any]) -> bool:
    """Whether a span with these attributes is one model call (a completion record).

    Example:
        >>> is_metered({"gen_ai.operation.name": "chat"}), is_metered({"http.method": "GET"})
        (True, False)
    """
    return attrs.get(OPERATION) in METERED_OPERATIONS


def _count(span: Span, attrs: Mapping[str, Any], key: str) -> int:
    v = attrs[key]
    if type(v) is not int or v < 0:
        raise SpanError(f"{_label(span)}: {key}={v!r} must be an integer >= 0")
    return v


def _text(span: Span, key: str, v: Any) -> str:
    if type(v) is not str or not v.strip():
        raise SpanError(f"{_label(span)}: {key}={v!r} must be a non-empty string")
    return v


def span_to_record(span: Span) -> dict[str, Any] | None:
    """The record of one GenAI span (inclusive token counts), or None if it is no model call.

    Raises:
        SpanError: naming the span and the attribute (missing model or token count, a count
            that is not an integer >= 0, an unknown service tier).

    Example:
        >>> rec = span_to_record(record_to_span({"timestamp": "2026-01-01T00:00:00Z",
        ...     "call_id": "msg_1", "provider": "anthropic", "model": "claude-haiku-4-5",
        ...     "input_tokens": 10, "output_tokens": 2, "latency_ms": 900}))
        >>> rec["call_id"], rec["provider"], rec["latency_ms"], rec["stop_reason"]
        ('msg_1', 'anthropic', 900, 'END')
    """
    return _record(span, attributes(span.attributes))


def _record(span: Span, attrs: dict[str, Any]) -> dict[str, Any] | None:
    if not is_metered(attrs):
        return None
    failed = span.status.code == Status.STATUS_CODE_ERROR
    provider = attrs.get(PROVIDER, attrs.get(SYSTEM))
    if provider is None:
        raise SpanError(f"{_label(span)}: {PROVIDER} (or {SYSTEM}) is missing")
    provider = _text(span, PROVIDER, provider)
    model_key = RESPONSE_MODEL if attrs.get(RESPONSE_MODEL) else REQUEST_MODEL
    if model_key not in attrs:
        raise SpanError(f"{_label(span)}: {RESPONSE_MODEL} and {REQUEST_MODEL} are missing")
    call_id = attrs.get(RESPONSE_ID) or span.span_id.hex()
    if not call_id:
        raise SpanError(f"{_label(span)}: {RESPONSE_ID} is missing and the span has no span id")
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if not start or end < start:
        raise SpanError(
            f"{_label(span)}: start_time_unix_nano={start} / end_time_unix_nano={end} "
            "must be a start > 0 and an end at or after it"
        )
    import pandas as pd  # first OTLP export only: the emulator does not load pandas at start

    record: dict[str, Any] = {
        "timestamp": pd.Timestamp(start, unit="ns", tz="UTC"),
        "call_id": _text(span, RESPONSE_ID, call_id),
        "provider": _PROVIDERS_IN.get(provider, provider),
        "model": _text(span, model_key, attrs[model_key]),
        "latency_ms": round((end - start) / 1_000_000),
        "trace_id": span.trace_id.hex() or None,
    }
    for key in _REQUIRED_COUNTS:
        if key not in attrs and not failed:
            raise SpanError(f"{_label(span)}: {key} is missing (a call that did not fail)")
    for key, v in attrs.items():
        col = _COLUMN_OF.get(key)
        if col is None or v is None:
            continue
        if col in _COUNT:
            record[col] = _count(span, attrs, key)
        elif col == "service_tier":
            record[col] = _tier(span, key, v)
        elif col == "cost_usd":
            if type(v) not in (int, float):
                raise SpanError(f"{_label(span)}: {key}={v!r} must be a number")
            record[col] = float(v)
        else:
            record[col] = v
    record.setdefault("input_tokens", 0)
    record.setdefault("output_tokens", 0)
    record["status"], record["stop_reason"] = _outcome(span, attrs, failed)
    return record


def _tier(span: Span, key: str, v: Any) -> str:
    if v in _STANDARD_TIERS:
        return "standard"
    if v not in SERVICE_TIERS:
        raise SpanError(
            f"{_label(span)}: {key}={v!r} must be one of default, " + ", ".join(SERVICE_TIERS)
        )
    return v


def _outcome(span: Span, attrs: Mapping[str, Any], failed: bool) -> tuple[str | None, str]:
    status = attrs.get(_STATUS_ATTR)
    stop = attrs.get(_STOP_ATTR)
    if stop is not None:
        if stop not in STOP_REASONS:
            raise SpanError(f"{_label(span)}: {_STOP_ATTR}={stop!r} is not a Revenium stopReason")
        return status, stop
    if failed:
        return status or "error", "ERROR"
    reasons = attrs.get(FINISH_REASONS) or []
    first = reasons[0] if isinstance(reasons, list) and reasons else None
    return status or "success", _FINISH.get(first, "END") if isinstance(first, str) else "END"


def span_to_body(span: Span) -> dict[str, Any] | None:
    """The Revenium completion body of one GenAI span (None if it is no model call).

    The record goes through ``showcase_lib.wire.record_to_wire`` (the one record -> wire
    mapping), then ``operationType`` and, when the span says, ``isStreamed`` are added.

    Raises:
        SpanError: as ``span_to_record``, or when the record breaks a wire rule.

    Example:
        >>> body = span_to_body(record_to_span({"timestamp": "2026-01-01T00:00:00Z",
        ...     "call_id": "c1", "provider": "openai", "model": "gpt-5.4-mini",
        ...     "input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 60,
        ...     "latency_ms": 1}))
        >>> body["provider"], body["inputTokenCount"], body["cacheReadTokenCount"]
        ('OpenAI', 100, 60)
    """
    attrs = attributes(span.attributes)
    record = _record(span, attrs)
    if record is None:
        return None
    try:
        body = record_to_wire(record)
    except ValueError as exc:
        raise SpanError(f"{_label(span)}: {exc}") from None
    body["operationType"] = METERED_OPERATIONS[attrs[OPERATION]]
    if type(attrs.get(STREAM)) is bool:
        body["isStreamed"] = attrs[STREAM]
    return body


# ------------------------------------------------------------------ record -> span
def _ns(ts: Any) -> int:
    import pandas as pd

    t = pd.Timestamp(ts)
    return (t.tz_localize("UTC") if t.tzinfo is None else t).value


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, pd.NA (raises: ambiguous) and NaT are missing
    except TypeError:
        return True


def _id(text: str, size: int) -> bytes:
    """A stable id from the call's id: an exporter's retry resends the same span id."""
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def record_to_span(record: Mapping[str, Any], *, operation: str = "chat") -> Span:
    """One record as an OTLP GenAI span (the tracker's OTLP transport sends these).

    Span and trace ids are derived from ``call_id`` (a 32-hex ``trace_id`` column is used as
    the trace id), so an exporter's retry of the same record sends the same span.

    Example:
        >>> span = record_to_span({"timestamp": "2026-01-01T00:00:00Z", "call_id": "c1",
        ...     "provider": "aws-bedrock", "model": "m", "input_tokens": 1,
        ...     "output_tokens": 1, "latency_ms": 2})
        >>> span.name, attributes(span.attributes)["gen_ai.provider.name"], len(span.span_id)
        ('chat m', 'aws.bedrock', 8)
    """
    get = record.get
    call_id, provider, model = str(get("call_id")), str(get("provider")), str(get("model"))
    start = _ns(get("timestamp"))
    latency = get("latency_ms")
    end = start + int(0 if _missing(latency) else latency) * 1_000_000
    span = Span(
        name=f"{operation} {model}",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
    )
    add = span.attributes.add
    for key, text in (
        (OPERATION, operation),
        (PROVIDER, _PROVIDERS_OUT.get(provider, provider)),
        (REQUEST_MODEL, model),
        (RESPONSE_ID, call_id),
    ):
        add(key=key).value.string_value = text
    for col, key in _ATTRIBUTE_ITEMS:
        v = get(col)
        if v is None:
            continue
        t = type(v)
        if t is str:
            if col != "service_tier" or v != "standard":
                add(key=key).value.string_value = v
        elif t is int:
            add(key=key).value.int_value = v
        elif _missing(v):
            continue
        elif col in _COUNT:
            add(key=key).value.int_value = int(v)
        elif t is bool:
            add(key=key).value.bool_value = v
        elif isinstance(v, float | int):  # numpy numbers from a DataFrame row
            add(key=key).value.double_value = float(v)
        else:
            add(key=key).value.string_value = str(v)
    status, stop = get("status"), get("stop_reason")
    if type(status) is str:
        add(key=_STATUS_ATTR).value.string_value = status
    if type(stop) is str:
        add(key=_STOP_ATTR).value.string_value = stop
    trace = get("trace_id")
    trace_id = (
        bytes.fromhex(trace)
        if type(trace) is str and len(trace) == 32 and _is_hex(trace)
        else _id(call_id, 16)
    )
    failed = status in ("error", "timeout") or stop == "ERROR"
    span.trace_id = trace_id
    span.span_id = _id(call_id, 8)
    if failed:
        span.status.code = Status.STATUS_CODE_ERROR
    return span


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def export_request(spans: Iterable[Span], *, service: str = "showcase-tracker") -> bytes:
    """Serialized ``ExportTraceServiceRequest`` (protobuf) holding ``spans``.

    Example:
        >>> span = record_to_span({"timestamp": "2026-01-01T00:00:00Z", "call_id": "c",
        ...     "provider": "openai", "model": "m", "input_tokens": 1, "output_tokens": 2,
        ...     "latency_ms": 3})
        >>> [s.name for s in iter_spans(decode_request(export_request([span]), PROTOBUF))]
        ['chat m']
    """
    request = ExportTraceServiceRequest()
    rs: ResourceSpans = request.resource_spans.add()
    rs.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value=service))
    )
    scope = rs.scope_spans.add()
    scope.scope.name = "showcase_lib.metering"
    scope.spans.extend(spans)
    return request.SerializeToString()


# ------------------------------------------------------------------ OTLP/HTTP bodies
def inflate(body: bytes, encoding: str) -> bytes:
    """The body without its ``Content-Encoding`` (gzip, deflate or none), capped in size.

    Raises:
        ValueError: an unknown encoding, a corrupt stream, or more than ``MAX_INFLATED_BYTES``.

    Example:
        >>> import gzip
        >>> inflate(gzip.compress(b"abc"), "gzip"), inflate(b"abc", "identity")
        (b'abc', b'abc')
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ValueError(f"Content-Encoding {encoding[:40]!r} is not gzip, deflate or identity")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(body, MAX_INFLATED_BYTES + 1)
    except zlib.error as exc:
        raise ValueError(f"the {encoding} body is corrupt: {exc}") from None
    if len(out) > MAX_INFLATED_BYTES:
        raise ValueError(f"the body inflates to more than {MAX_INFLATED_BYTES} bytes")
    return out


_ID_FIELDS: Final = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_base64(obj: Any) -> None:
    """OTLP JSON writes ids as hex (OTLP spec, "JSON Protobuf Encoding"); protobuf's JSON
    reader wants base64 for bytes: convert in place."""
    for rs in obj.get("resourceSpans") or ():
        for ss in rs.get("scopeSpans") or ():
            for span in ss.get("spans") or ():
                items = [span, *(span.get("links") or ())]
                for item in items:
                    for field in _ID_FIELDS:
                        v = item.get(field)
                        if isinstance(v, str) and v:
                            try:
                                item[field] = base64.b64encode(bytes.fromhex(v)).decode()
                            except ValueError:
                                raise ValueError(
                                    f"{field}={v[:40]!r} must be hex (OTLP JSON)"
                                ) from None


def decode_request(body: bytes, content_type: ContentType) -> ExportTraceServiceRequest:
    """An OTLP/HTTP traces body (protobuf or OTLP JSON) as an ``ExportTraceServiceRequest``.

    Raises:
        ValueError: the body is not a valid request in that encoding (message says where).

    Example:
        >>> req = decode_request(b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x",'
        ...     b' "spanId": "00000000000000ff"}]}]}]}', JSON)
        >>> [s.span_id.hex() for s in iter_spans(req)]
        ['00000000000000ff']
    """
    request = ExportTraceServiceRequest()
    if content_type == PROTOBUF:
        try:
            request.ParseFromString(body)
        except Exception as exc:  # protobuf's DecodeError
            raise ValueError(f"the body is not an OTLP ExportTraceServiceRequest: {exc}") from None
        return request
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(obj, dict):
        raise ValueError("the body must be a JSON object (ExportTraceServiceRequest)")
    try:
        _hex_ids_to_base64(obj)
        json_format.ParseDict(obj, request, ignore_unknown_fields=True)
    except (json_format.ParseError, AttributeError, TypeError, binascii.Error) as exc:
        raise ValueError(f"the body is not an OTLP JSON traces request: {exc}") from None
    return request


def iter_spans(request: ExportTraceServiceRequest) -> Iterator[Span]:
    """Every span of a request, in order.

    Example:
        >>> list(iter_spans(ExportTraceServiceRequest()))
        []
    """
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            yield from ss.spans


def encode_response(rejected: int, message: str, content_type: ContentType) -> bytes:
    """The ``ExportTraceServiceResponse`` (``partial_success`` set when spans were rejected).

    Example:
        >>> encode_response(2, "span 'x': bad", JSON)
        b'{"partialSuccess": {"rejectedSpans": "2", "errorMessage": "span \\'x\\': bad"}}'
        >>> encode_response(0, "", PROTOBUF)
        b''
    """
    response = ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    if content_type == PROTOBUF:
        return response.SerializeToString()
    return json.dumps(json_format.MessageToDict(response)).encode()


def encode_json_request(body: bytes) -> bytes:
    """A protobuf traces request re-encoded as OTLP JSON (ids as hex), e.g. for a benchmark.

    Example:
        >>> span = record_to_span({"timestamp": "2026-01-01T00:00:00Z", "call_id": "c",
        ...     "provider": "openai", "model": "m", "input_tokens": 1, "output_tokens": 2,
        ...     "latency_ms": 3})
        >>> js = encode_json_request(export_request([span]))
        >>> [s.span_id == span.span_id for s in iter_spans(decode_request(js, JSON))]
        [True]
    """
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    obj = json_format.MessageToDict(request)
    for rs in obj.get("resourceSpans", ()):
        for ss in rs.get("scopeSpans", ()):
            for span in ss.get("spans", ()):
                for field in _ID_FIELDS:
                    if field in span:
                        span[field] = base64.b64decode(span[field]).hex()
    return json.dumps(obj).encode()
