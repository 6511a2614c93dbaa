"""``POST /meter/v2/otlp/v1/traces``: OpenTelemetry GenAI spans metered as completions.

The service's OTLP ingestion path (``{base}/v2/otlp/v1/traces``, ``x-api-key``; Revenium's
Claude Code / Gemini CLI integrations export to it), as an OpenTelemetry exporter speaks it:
OTLP/HTTP with a protobuf body (``application/x-protobuf``, what ``OTLPSpanExporter`` sends)
or OTLP JSON (``application/json``), optionally gzip- or deflate-compressed.

Each span that is one model call (``gen_ai.operation.name`` chat, text_completion,
generate_content, embeddings) becomes one completion body (``showcase_lib._otel``: the
``gen_ai.*`` attributes -> the record -> ``showcase_lib.wire``), stored through the very path of
``POST /meter/v2/ai/completions``: the same validation, counters, group commit and
idempotency, with the key ``otlp-<trace id>-<span id>`` (an exporter's retry of a batch is
stored once) and ``transactionId`` = ``gen_ai.response.id`` (the id Revenium's SDK sends for
the same call, so a call metered both ways meets itself). Other spans (HTTP, database, agent
and tool spans, which wrap model calls) are skipped and counted. A span that cannot be read
is rejected alone: the others are stored.

Answer (OTLP/HTTP spec): 200 with an ``ExportTraceServiceResponse`` in the request's encoding,
whose ``partial_success`` gives ``rejected_spans`` and an error message naming each rejected
span and attribute; 400 for a body that is no traces request, 401, 405, 413, 415, with the
emulator's JSON error body (the spec's ``google.rpc.Status`` is not sent: exporters act on the
status code alone). Injected faults apply to the whole export, like a service outage would.
``stats()["received"]`` counts export requests; ``stored`` / ``duplicates`` count spans, like
the records they become.
Counters: ``stats()["otlp"]`` (exports, spans, metered, ignored, rejected).

Example:
    >>> import urllib.request
    >>> from showcase_lib._otel import PROTOBUF, export_request, record_to_span
    >>> from showcase_lib.emulator import Emulator
    >>> span = record_to_span({"timestamp": "2026-01-01T00:00:00Z", "call_id": "chatcmpl-9",
    ...     "provider": "openai", "model": "gpt-5.4-mini", "input_tokens": 30,
    ...     "output_tokens": 4, "latency_ms": 120})
    >>> with Emulator() as emu:
    ...     r = urllib.request.urlopen(urllib.request.Request(
    ...         emu.base_url + "v2/otlp/v1/traces", data=export_request([span]),
    ...         headers={"x-api-key": emu.api_key, "Content-Type": PROTOBUF}))
    ...     (r.status, emu.records()["call_id"].tolist(), emu.stats()["otlp"]["metered"])
    (200, ['chatcmpl-9'], 1)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Final

from showcase_lib._otel import (
    JSON,
    PROTOBUF,
    ContentType,
    SpanError,
    decode_request,
    encode_response,
    inflate,
    iter_spans,
    span_to_body,
)
from showcase_lib.emulator._protocol import DROP, Drop, HandlerResult, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from showcase_lib.emulator._server import EmulatorServer

OTLP_TRACES_PATH: Final = "/meter/v2/otlp/v1/traces"
COMPLETIONS_PATH: Final = "/meter/v2/ai/completions"
#: ``stats()["otlp"]`` keys: export requests answered 200, spans in them, spans stored as
#: completions (new or replayed), spans skipped as no model call, spans rejected.
COUNTERS: Final = ("exports", "spans", "metered", "ignored", "rejected")
#: Rejected spans named in the partial-success message; the count covers the rest (a batch of
#: 512 bad spans would otherwise answer ~60 KB of text nobody reads).
MAX_NAMED_ERRORS: Final = 10
_TYPES: Final[dict[str, ContentType]] = {PROTOBUF: PROTOBUF, JSON: JSON}


def otlp_stats(counters: Counter[str]) -> dict[str, int]:
    """The OTLP counters of a server's ``stats()``.

    Example:
        >>> otlp_stats(Counter({"otlp_spans": 3}))["spans"]
        3
    """
    return {name: counters[f"otlp_{name}"] for name in COUNTERS}


def export_traces(server: EmulatorServer, req: HttpRequest) -> HandlerResult:
    """Answer one OTLP/HTTP traces export (see the module docstring)."""
    if req.method != "POST":
        return server._reject(
            405,
            "method_not_allowed",
            f"{req.method} is not allowed on {OTLP_TRACES_PATH}; use POST",
            headers={"Allow": "POST"},
        )
    if not server._authorized(req):
        missing = req.headers.get("x-api-key") is None
        return server._reject(
            401, "unauthorized", "missing x-api-key header" if missing else "invalid API key"
        )
    ctype = req.headers.get("content-type", "").partition(";")[0].strip().lower()
    content_type = _TYPES.get(ctype)
    if content_type is None:
        return server._reject(
            415,
            "unsupported_media_type",
            f"Content-Type {ctype[:60]!r} refused: OTLP/HTTP traces are {PROTOBUF} or {JSON}",
        )
    delay = server._injector.delay_s()
    if delay > 0:
        server._faults["latency"] += 1
        return _after(delay, server, req, content_type)
    return _export(server, req, content_type)


async def _after(
    delay: float, server: EmulatorServer, req: HttpRequest, content_type: ContentType
) -> HttpResponse | Drop:
    await asyncio.sleep(delay)
    result = _export(server, req, content_type)
    if isinstance(result, HttpResponse | Drop):
        return result
    return await result


def _export(server: EmulatorServer, req: HttpRequest, content_type: ContentType) -> HandlerResult:
    fault = server._injector.decide(time.monotonic() - server._started)
    if fault is not None and fault.kind != "lost_response":
        return server._fault(fault)
    try:
        raw = inflate(req.body, req.headers.get("content-encoding", ""))
        request = decode_request(raw, content_type)
    except ValueError as exc:
        return server._reject(400, "invalid_otlp", str(exc)[:2000])
    counters = server._counters
    errors: list[str] = []
    pending: list[tuple[str, Any]] = []
    key = req.headers.get("x-api-key", "")
    for span in iter_spans(request):
        counters["otlp_spans"] += 1
        label = f"span {span.name[:80]!r} (span_id={span.span_id.hex() or '-'})"
        try:
            body = span_to_body(span)
        except SpanError as exc:
            errors.append(str(exc))
            continue
        if body is None:
            counters["otlp_ignored"] += 1
            continue
        one = HttpRequest(
            "POST",
            COMPLETIONS_PATH,
            "",
            {
                "x-api-key": key,
                "content-type": JSON,
                "idempotency-key": f"otlp-{span.trace_id.hex()}-{span.span_id.hex()}",
            },
            json.dumps(body).encode(),
        )
        pending.append((label, server._store_request(one, "completion", None)))
    return _gather(server, pending, errors, (content_type, fault is not None))


async def _gather(
    server: EmulatorServer,
    pending: list[tuple[str, Any]],
    errors: list[str],
    how: tuple[ContentType, bool],
) -> HttpResponse | Drop:
    content_type, lose_answer = how
    for label, result in pending:
        answer = result if isinstance(result, HttpResponse | Drop) else await result
        if isinstance(answer, HttpResponse) and answer.status == 201:
            server._counters["otlp_metered"] += 1
        elif isinstance(answer, HttpResponse):
            try:
                message = json.loads(answer.body)["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {answer.status}"
            errors.append(f"{label}: {message}")
    counters = server._counters
    counters["otlp_rejected"] += len(errors)
    counters["otlp_exports"] += 1
    if lose_answer:  # the lost_response fault: stored, then the answer is lost
        server._faults["lost_response"] += 1
        return DROP
    message = "; ".join(errors[:MAX_NAMED_ERRORS])
    if len(errors) > MAX_NAMED_ERRORS:
        message += f"; and {len(errors) - MAX_NAMED_ERRORS} more rejected spans"
    return HttpResponse(
        200, encode_response(len(errors), message, content_type), content_type=content_type
    )
