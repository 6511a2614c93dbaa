"""The emulator's OTLP/HTTP traces route, ``POST /meter/v2/otlp/v1/traces``, against a real
emulator on loopback: protobuf (what ``OTLPSpanExporter`` sends) and OTLP JSON, gzip, the key,
GenAI spans stored as completions through the completions path, other spans skipped and
counted, a bad span rejected alone (named with its attribute in ``partial_success``), an
exporter's retry stored once, faults applied to the whole export; and the span <-> record
mapping of ``showcase_lib._otel`` both ways."""

from __future__ import annotations

import gzip
import json

import httpx
import pandas as pd
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from showcase_lib import _otel
from showcase_lib._otel import (
    JSON,
    PROTOBUF,
    SpanError,
    attributes,
    encode_json_request,
    export_request,
    record_to_span,
    span_to_body,
    span_to_record,
)
from showcase_lib.emulator import Emulator
from showcase_lib.schema import COLUMNS
from showcase_lib.wire import record_to_wire

T0 = pd.Timestamp("2026-11-15T12:00:00Z")


def rec(i: int = 0, **over):
    r = {
        "timestamp": T0 + pd.Timedelta(seconds=i),
        "call_id": f"chatcmpl-{i}",
        "provider": "openai",
        "model": "gpt-5.4-mini",
        "input_tokens": 4000 + i,
        "output_tokens": 600,
        "cache_read_tokens": 3072,
        "cache_write_tokens": 256,
        "reasoning_tokens": 240,
        "latency_ms": 420,
        "customer_id": f"cust_{i % 3}",
        "organization_id": "acme",
        "product_id": "assistant",
        "feature_id": "support_chat",
        "task_type": "chat",
        "environment": "production",
        "subscription_tier": "pro",
        "session_id": f"conv-{i}",
        "cost_usd": 0.0125,
    }
    r.update(over)
    return r


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture
def client(emu):
    emu.reset()
    emu.set_faults(None)
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": emu.api_key}, timeout=10) as c:
        yield c


def post(client, body: bytes, content_type: str = PROTOBUF, **headers):
    return client.post(
        "v2/otlp/v1/traces", content=body, headers={"Content-Type": content_type, **headers}
    )


def partial(resp) -> tuple[int, str]:
    msg = ExportTraceServiceResponse()
    if resp.headers["content-type"] == JSON:
        p = resp.json().get("partialSuccess", {})
        return int(p.get("rejectedSpans", 0)), p.get("errorMessage", "")
    msg.ParseFromString(resp.content)
    return msg.partial_success.rejected_spans, msg.partial_success.error_message


# ------------------------------------------------------------------ mapping
def test_a_record_survives_the_span_both_ways_with_every_token_kind():
    r = rec(7, cache_write_1h_tokens=64, region="us-east-1", service_tier="flex")
    back = span_to_record(record_to_span(r))
    assert {k: back[k] for k in r} == r


def test_the_mapping_uses_the_record_tables_genai_names():
    attrs = attributes(record_to_span(rec()).attributes)
    for col in COLUMNS:
        if col.otel and col.name in rec() and col.name != "model":
            assert col.otel in attrs, col.name
    # the current conventions' names (semantic conventions 0.66b2)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 3072
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 256
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 240
    assert attrs["gen_ai.response.id"] == "chatcmpl-0"
    # columns without a GenAI attribute travel as revenium.<wire field>
    assert attrs["revenium.subscriber.id"] == "cust_0"
    assert attrs["revenium.organizationName"] == "acme"


def test_the_span_body_is_the_wire_body_of_its_record():
    r = rec(3)
    body = span_to_body(record_to_span(r))
    expected = record_to_wire(span_to_record(record_to_span(r)))
    assert {k: v for k, v in body.items() if k != "operationType"} == expected
    assert body["operationType"] == "CHAT"
    # Revenium's OpenAI inputTokenCount leaves the cache writes out (wire rule)
    assert body["inputTokenCount"] == r["input_tokens"] - r["cache_write_tokens"]


def _span(**attrs) -> Span:
    s = Span(name="chat x", span_id=b"\x01" * 8, trace_id=b"\x02" * 16)
    s.start_time_unix_nano, s.end_time_unix_nano = (
        1_763_200_000_000_000_000,
        1_763_200_000_5 * 10**8,
    )
    for k, v in attrs.items():
        kv = s.attributes.add(key=k)
        if isinstance(v, bool):
            kv.value.bool_value = v
        elif isinstance(v, int):
            kv.value.int_value = v
        elif isinstance(v, list):
            for x in v:
                kv.value.array_value.values.add().string_value = x
        else:
            kv.value.string_value = v
    return s


GENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-5.4-mini",
    "gen_ai.usage.input_tokens": 10,
    "gen_ai.usage.output_tokens": 2,
}


def test_the_older_and_newer_attribute_names_are_read():
    old = span_to_record(_span(**GENAI, **{"gen_ai.response.model": "gpt-5.4-mini-2026"}))
    assert (old["provider"], old["model"]) == ("openai", "gpt-5.4-mini-2026")
    # util-genai 1.3b0 writes cache writes as cache_write; the conventions say cache_creation
    new = span_to_record(_span(**GENAI, **{"gen_ai.usage.cache_write.input_tokens": 4}))
    assert new["cache_write_tokens"] == 4
    bedrock = {**GENAI, "gen_ai.system": "aws.bedrock"}
    assert span_to_record(_span(**bedrock))["provider"] == "aws-bedrock"
    # no response id: the span id is the transaction id
    assert span_to_record(_span(**GENAI))["call_id"] == "01" * 8
    assert span_to_record(_span(**GENAI, **{"gen_ai.request.stream": True}))["latency_ms"] == 500
    assert span_to_body(_span(**GENAI, **{"gen_ai.request.stream": True}))["isStreamed"] is True


def test_finish_reasons_and_a_failed_span_give_the_stop_reason():
    length = _span(**GENAI, **{"gen_ai.response.finish_reasons": ["length"]})
    assert span_to_record(length)["stop_reason"] == "TOKEN_LIMIT"
    failed = _span(**{k: v for k, v in GENAI.items() if "usage" not in k})
    failed.status.code = failed.status.STATUS_CODE_ERROR
    got = span_to_record(failed)
    assert (got["status"], got["stop_reason"], got["input_tokens"]) == ("error", "ERROR", 0)


@pytest.mark.parametrize(
    ("attrs", "named"),
    [
        ({**GENAI, "gen_ai.usage.input_tokens": -1}, "gen_ai.usage.input_tokens=-1"),
        ({**GENAI, "gen_ai.usage.output_tokens": "2"}, "gen_ai.usage.output_tokens='2'"),
        ({k: v for k, v in GENAI.items() if k != "gen_ai.usage.output_tokens"}, "output_tokens"),
        ({k: v for k, v in GENAI.items() if k != "gen_ai.system"}, "gen_ai.provider.name"),
        ({k: v for k, v in GENAI.items() if k != "gen_ai.request.model"}, "gen_ai.request.model"),
        ({**GENAI, "openai.response.service_tier": "turbo"}, "service_tier='turbo'"),
        ({**GENAI, "gen_ai.usage.cache_read.input_tokens": 11}, "cache_read_tokens=11"),
    ],
)
def test_a_bad_span_names_itself_and_the_attribute(attrs, named):
    with pytest.raises(SpanError) as exc:
        span_to_body(_span(**attrs))
    assert "span 'chat x' (span_id=0101010101010101)" in str(exc.value)
    assert named in str(exc.value)


def test_only_model_calls_are_metered():
    for op in ("invoke_agent", "execute_tool", "create_agent", "invoke_workflow"):
        assert span_to_record(_span(**{**GENAI, "gen_ai.operation.name": op})) is None
    assert span_to_record(_span(**{"http.request.method": "GET"})) is None
    assert span_to_record(_span(**{**GENAI, "gen_ai.operation.name": "embeddings"})) is not None


# ------------------------------------------------------------------ the route
def test_a_protobuf_export_is_stored_as_completions(client, emu):
    records = [rec(i) for i in range(5)]
    r = post(client, export_request([record_to_span(x) for x in records]))
    assert r.status_code == 200
    assert r.headers["content-type"] == PROTOBUF
    assert partial(r) == (0, "")
    got = emu.records().set_index("call_id")
    assert sorted(got.index) == [f"chatcmpl-{i}" for i in range(5)]
    for x in records:
        row = got.loc[x["call_id"]]
        for col in (
            "provider",
            "model",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
            "customer_id",
            "latency_ms",
        ):
            assert row[col] == x[col], col
        assert row["timestamp"] == x["timestamp"]
    stats = emu.stats()
    assert stats["otlp"] == {"exports": 1, "spans": 5, "metered": 5, "ignored": 0, "rejected": 0}
    assert (stats["stored"], stats["unknown_keys"]) == (5, {})


def test_otlp_json_and_gzip_are_read_too(client, emu):
    pb = export_request([record_to_span(rec(i)) for i in range(3)])
    r = post(client, encode_json_request(pb), JSON)
    assert (r.status_code, r.headers["content-type"], partial(r)) == (200, JSON, (0, ""))
    r = post(
        client,
        gzip.compress(export_request([record_to_span(rec(9))])),
        **{"Content-Encoding": "gzip"},
    )
    assert r.status_code == 200
    assert sorted(emu.records()["call_id"]) == [
        "chatcmpl-0",
        "chatcmpl-1",
        "chatcmpl-2",
        "chatcmpl-9",
    ]


def test_json_ids_are_hex_as_the_otlp_spec_says(client, emu):
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "chat gpt-5.4-mini",
                                "startTimeUnixNano": "1763208000000000000",
                                "endTimeUnixNano": "1763208000250000000",
                                "attributes": [
                                    {"key": k, "value": {"intValue": str(v)}}
                                    if isinstance(v, int)
                                    else {"key": k, "value": {"stringValue": v}}
                                    for k, v in GENAI.items()
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    r = post(client, json.dumps(body).encode(), JSON)
    assert (r.status_code, partial(r)) == (200, (0, ""))
    (row,) = emu.records().to_dict("records")
    assert (row["call_id"], row["trace_id"], row["latency_ms"]) == (
        "eee19b7ec3c1b174",
        "5b8efff798038103d269b633813fc60c",
        250,
    )


def test_a_bad_span_is_rejected_alone_and_named(client, emu):
    good = [record_to_span(rec(i)) for i in range(3)]
    bad = _span(**{**GENAI, "gen_ai.usage.input_tokens": -5})
    other = _span(**{"http.request.method": "GET"})
    r = post(client, export_request([good[0], bad, other, good[1], good[2]]))
    assert r.status_code == 200
    rejected, message = partial(r)
    assert rejected == 1
    assert "span_id=0101010101010101" in message and "gen_ai.usage.input_tokens=-5" in message
    assert sorted(emu.records()["call_id"]) == ["chatcmpl-0", "chatcmpl-1", "chatcmpl-2"]
    assert emu.stats()["otlp"] == {
        "exports": 1,
        "spans": 5,
        "metered": 3,
        "ignored": 1,
        "rejected": 1,
    }


def test_many_bad_spans_are_counted_and_the_first_ones_named(client):
    bad = []
    for i in range(15):
        s = _span(**{**GENAI, "gen_ai.usage.input_tokens": -1})
        s.span_id = i.to_bytes(8, "big")
        bad.append(s)
    rejected, message = partial(post(client, export_request(bad)))
    assert rejected == 15
    assert message.count("gen_ai.usage.input_tokens=-1") == _otel_max() and "5 more" in message


def _otel_max():
    from showcase_lib.emulator._otlp import MAX_NAMED_ERRORS

    return MAX_NAMED_ERRORS


def test_an_exporters_retry_of_the_same_batch_is_stored_once(client, emu):
    body = export_request([record_to_span(rec(i)) for i in range(4)])
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200  # the exporter did not see the first answer
    stats = emu.stats()
    assert (stats["stored"], stats["duplicates"], stats["otlp"]["metered"]) == (4, 4, 8)
    assert len(emu.records()) == 4


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"x-api-key": "wrong"}, b"", 401),
        ({"Content-Type": "text/plain"}, b"", 415),
        ({}, b"\xff\xff\xff", 400),
        ({"Content-Type": JSON}, b"[1, 2]", 400),
        (
            {"Content-Type": JSON},
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "zz"}]}]}]}',
            400,
        ),
        ({"Content-Encoding": "br"}, b"", 400),
        ({"Content-Encoding": "gzip"}, b"not gzip", 400),
    ],
)
def test_bad_requests_are_refused_with_a_reason(client, emu, headers, body, status):
    hdrs = {"Content-Type": PROTOBUF, **headers}
    r = client.post("v2/otlp/v1/traces", content=body, headers=hdrs)
    assert r.status_code == status
    assert r.json()["message"]
    assert emu.stats()["stored"] == 0


def test_the_route_needs_a_key_and_post(emu):
    assert httpx.post(emu.base_url + "v2/otlp/v1/traces", content=b"").status_code == 401
    r = httpx.get(emu.base_url + "v2/otlp/v1/traces", headers={"x-api-key": emu.api_key})
    assert (r.status_code, r.headers["allow"]) == (405, "POST")


def test_an_injected_outage_fails_the_whole_export_and_nothing_is_stored(client, emu):
    emu.set_faults(error_rate=1.0, error_codes=(503,))
    r = post(client, export_request([record_to_span(rec(i)) for i in range(3)]))
    assert r.status_code == 503
    assert emu.stats()["stored"] == 0
    emu.set_faults(lost_response_rate=1.0)  # stored, then the answer is lost
    with pytest.raises(httpx.TransportError):
        post(client, export_request([record_to_span(rec(i)) for i in range(3)]))
    emu.set_faults(None)
    assert emu.stats()["stored"] == 3


def test_the_standard_exporter_delivers_a_batch(emu):
    """OTLPSpanExporter (opentelemetry-exporter-otlp-proto-http 1.45.2) through a
    BatchSpanProcessor of 512 spans: every span stored once."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    emu.reset()
    tp = TracerProvider()
    exporter = OTLPSpanExporter(
        endpoint=emu.base_url + "v2/otlp/v1/traces",
        headers={"x-api-key": emu.api_key},
        timeout=30,  # the default 10 s is short for a batch on a loaded 2-core CI machine
    )
    tp.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=512))
    tracer = tp.get_tracer("test")
    for i in range(600):
        with tracer.start_as_current_span("chat gpt-5.4-mini") as s:
            s.set_attributes({**GENAI, "gen_ai.response.id": f"chatcmpl-b{i}"})
        with tracer.start_as_current_span("GET /health"):
            pass
    assert tp.force_flush(30_000)
    tp.shutdown()
    assert emu.wait_for(600, timeout=20) == 600
    stats = emu.stats()["otlp"]
    assert (stats["metered"], stats["ignored"], stats["rejected"]) == (600, 600, 0)
    assert stats["exports"] >= 3  # 1,200 spans in batches of at most 512


def test_the_mapping_module_is_private_and_library_wide():
    assert _otel.__name__ == "showcase_lib._otel"
