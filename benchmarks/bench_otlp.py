"""Records per second into the emulator: one POST per record vs OTLP/HTTP batches of spans.

The issue's "10K+ events/second", measured honestly. The emulator runs in its own process
(``Emulator(process=True)``); this process is the client. Every mode delivers the same
``--records`` calls (the same tokens and tags) and must leave each stored exactly once:

- ``tracker``: the book's ``Tracker`` (aiohttp, one JSON record per POST, keep-alive);
- ``otel-sdk``: OpenTelemetry's own pipeline, what a team with GenAI tracing runs: a span per
  call with its ``gen_ai.*`` attributes (opentelemetry-sdk 1.45.2), a ``BatchSpanProcessor``
  of ``--batch`` spans, the standard ``OTLPSpanExporter`` (protobuf over HTTP);
- ``otlp-protobuf`` / ``otlp-json``: the same spans encoded beforehand (not timed), posted
  ``--batch`` at a time over one keep-alive connection: what the server alone sustains.

Each run first sends one record through its path (not timed: the server's first OTLP export
imports pandas). Figures per mode: records/s (first send to last record stored), client
and server CPU per record (psutil ``cpu_times``, user + system, of this process and of the
server process over the run), min / median over ``--rounds`` runs, and the load average (the
machine is shared: the CPU per record is the figure that travels, records/s depends on the
load). On 2 cores the client and the server compete for them.

Usage:
    .venv/bin/python benchmarks/bench_otlp.py --records 20000 --rounds 3
    .venv/bin/python benchmarks/bench_otlp.py --records 5000 --rounds 1 --modes otlp-protobuf
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import httpx
import pandas as pd
import psutil
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from showcase_lib.emulator import Emulator
from showcase_lib.metering import Delivery, Settings, Tracker

MODES = ("tracker", "otel-sdk", "otlp-protobuf", "otlp-json")
PROVIDERS = ("openai", "anthropic")
MODELS = {"openai": "gpt-5.4-mini", "anthropic": "claude-haiku-4-5"}


def calls(n: int) -> list[dict]:
    """``n`` calls with every token kind and a few tags (deterministic)."""
    out = []
    for i in range(n):
        provider = PROVIDERS[i % 2]
        out.append(
            {
                "call_id": f"call-{i:08d}",
                "provider": provider,
                "model": MODELS[provider],
                "input_tokens": 4000 + i % 97,
                "output_tokens": 600 + i % 31,
                "cache_read_tokens": 3072,
                "cache_write_tokens": 256,
                "reasoning_tokens": 240,
                "latency_ms": 400 + i % 200,
                "customer_id": f"cust_{i % 50:03d}",
                "feature_id": "support_chat",
                "session_id": f"conv-{i % 500}",
            }
        )
    return out


def _attributes(c: dict) -> dict:
    """The call as ``gen_ai.*`` span attributes (semantic conventions 0.66b2 names), with the
    customer as ``revenium.subscriber.id`` (the emulator's reading of non-GenAI tags)."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": c["provider"],
        "gen_ai.request.model": c["model"],
        "gen_ai.response.id": c["call_id"],
        "gen_ai.usage.input_tokens": c["input_tokens"],
        "gen_ai.usage.output_tokens": c["output_tokens"],
        "gen_ai.usage.cache_read.input_tokens": c["cache_read_tokens"],
        "gen_ai.usage.cache_creation.input_tokens": c["cache_write_tokens"],
        "gen_ai.usage.reasoning.output_tokens": c["reasoning_tokens"],
        "gen_ai.agent.name": c["feature_id"],
        "gen_ai.conversation.id": c["session_id"],
        "revenium.subscriber.id": c["customer_id"],
    }


def make_spans(tp: TracerProvider, batch: list[dict], t0_ns: int) -> None:
    """One ended span per call, timed like the call (start, latency)."""
    tracer = tp.get_tracer("bench_otlp")
    for i, c in enumerate(batch):
        start = t0_ns + i * 1_000_000
        span = tracer.start_span(f"chat {c['model']}", attributes=_attributes(c), start_time=start)
        span.end(end_time=start + c["latency_ms"] * 1_000_000)


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans):  # type: ignore[no-untyped-def]
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def encoded_batches(records: list[dict], size: int, content_type: str) -> list[bytes]:
    """The spans of ``records`` as ready OTLP/HTTP bodies of ``size`` spans (not timed)."""
    sink = _Collect()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(sink))
    make_spans(tp, records, time.time_ns())
    out = []
    for i in range(0, len(sink.spans), size):
        msg = encode_spans(sink.spans[i : i + size])
        if content_type == "application/x-protobuf":
            out.append(msg.SerializeToString())
            continue
        obj = json_format.MessageToDict(msg)
        for rs in obj["resourceSpans"]:  # OTLP JSON writes ids as hex, not base64
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    for f in ("traceId", "spanId", "parentSpanId"):
                        if f in s:
                            s[f] = bytes.fromhex(_b64_hex(s[f])).hex()
        out.append(json.dumps(obj).encode())
    return out


def _b64_hex(text: str) -> str:
    import base64

    return base64.b64decode(text).hex()


def run_tracker(emu: Emulator, records: list[dict], _: int) -> None:
    t = Tracker(Settings(emu.api_key, emu.url.rstrip("/")), delivery=Delivery(concurrency=32))
    for r in records:
        t.track_record(r)
    t.close(600)  # a shared machine may need minutes: nothing may be dropped at close


def run_otel_sdk(emu: Emulator, records: list[dict], batch: int) -> None:
    tp = TracerProvider()
    exporter = OTLPSpanExporter(
        endpoint=emu.base_url + "v2/otlp/v1/traces",
        headers={"x-api-key": emu.api_key},
        timeout=60,  # a batch of 512 took over the default 10 s on a loaded machine
    )
    # the queue holds the whole run: the benchmark measures throughput, not drops
    tp.add_span_processor(
        BatchSpanProcessor(
            exporter,
            max_queue_size=len(records) + batch,
            max_export_batch_size=batch,
            schedule_delay_millis=50,
        )
    )
    make_spans(tp, records, time.time_ns())
    assert tp.force_flush(120_000)
    tp.shutdown()


def _poster(content_type: str) -> Callable[[Emulator, list[dict], int], None]:
    def run(emu: Emulator, records: list[dict], batch: int) -> None:
        bodies = _PREPARED[content_type]
        with httpx.Client(
            headers={"x-api-key": emu.api_key, "Content-Type": content_type}, timeout=60
        ) as client:
            url = emu.base_url + "v2/otlp/v1/traces"
            for body in bodies:
                r = client.post(url, content=body)
                r.raise_for_status()

    return run


_PREPARED: dict[str, list[bytes]] = {}
RUNNERS: dict[str, Callable[[Emulator, list[dict], int], None]] = {
    "tracker": run_tracker,
    "otel-sdk": run_otel_sdk,
    "otlp-protobuf": _poster("application/x-protobuf"),
    "otlp-json": _poster("application/json"),
}


WARM_UP = {**calls(1)[0], "call_id": "warm-up"}


def warm_up(emu: Emulator, mode: str, batch: int) -> None:
    """One record through the mode's path before timing: the server's first OTLP export loads
    pandas (the wire mapping's timestamps), a one-time cost of ~1 s that would otherwise be
    charged to the run."""
    if mode in ("otlp-protobuf", "otlp-json"):
        ctype = "application/x-protobuf" if mode == "otlp-protobuf" else "application/json"
        (body,) = encoded_batches([WARM_UP], 1, ctype)
        headers = {"x-api-key": emu.api_key, "Content-Type": ctype}
        httpx.post(emu.base_url + "v2/otlp/v1/traces", content=body, headers=headers, timeout=60)
    else:
        RUNNERS[mode](emu, [WARM_UP], batch)
    emu.wait_for(1, timeout=60)


def one_round(mode: str, records: list[dict], batch: int) -> dict:
    with Emulator(process=True) as emu:
        if mode in ("otlp-protobuf", "otlp-json"):
            ctype = "application/x-protobuf" if mode == "otlp-protobuf" else "application/json"
            _PREPARED[ctype] = encoded_batches(records, batch, ctype)
        warm_up(emu, mode, batch)
        received = emu.stats()["received"]
        server = psutil.Process(emu.pid)
        me = psutil.Process()
        s0, c0 = server.cpu_times(), me.cpu_times()
        t0 = time.perf_counter()
        RUNNERS[mode](emu, records, batch)
        stored = emu.wait_for(len(records) + 1, timeout=300) - 1
        wall = time.perf_counter() - t0
        s1, c1 = server.cpu_times(), me.cpu_times()
        ids = emu.records()["call_id"]
        stats = emu.stats()
    n = len(records)
    assert stored == n and ids.nunique() == n + 1, (mode, stored, ids.nunique())
    return {
        "records/s": n / wall,
        "client_us": ((c1.user - c0.user) + (c1.system - c0.system)) / n * 1e6,
        "server_us": ((s1.user - s0.user) + (s1.system - s0.system)) / n * 1e6,
        "requests": stats["received"] - received,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=512, help="spans per OTLP export")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = p.parse_args()
    records = calls(args.records)
    load0 = os.getloadavg()
    rows = []
    for mode in args.modes:
        runs = [one_round(mode, records, args.batch) for _ in range(args.rounds)]
        row = {"mode": mode, "requests": runs[0]["requests"]}
        for key in ("records/s", "client_us", "server_us"):
            vals = [r[key] for r in runs]
            row[f"{key} min"] = min(vals)
            row[f"{key} median"] = statistics.median(vals)
            row[f"{key} max"] = max(vals)
        rows.append(row)
        print(pd.DataFrame([row]).round(0).to_string(index=False), flush=True)
    print()
    print(
        f"{args.records:,} records per run, {args.rounds} runs per mode, OTLP batches of "
        f"{args.batch} spans; client/server CPU in microseconds per record"
    )
    print(pd.DataFrame(rows).round(0).to_string(index=False))
    load1 = os.getloadavg()
    print(
        f"machine: {platform.machine()}, {psutil.cpu_count()} CPUs, python "
        f"{platform.python_version()}; load average (1/5/15 min) before "
        f"{load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f}, after "
        f"{load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f}"
    )
    for row in rows:
        best = row["records/s max"]
        verdict = "reaches" if best >= 10_000 else "does not reach"
        ceiling = 1e6 / row["server_us min"]
        print(
            f"{row['mode']}: best {best:,.0f} records/s, {verdict} 10,000/s; the server's CPU "
            f"alone allows {ceiling:,.0f}/s on one core"
        )


if __name__ == "__main__":
    main()
