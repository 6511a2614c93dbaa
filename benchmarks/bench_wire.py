"""The wire's hot paths, per operation: what the tracker, backfill and the emulator pay.

- ``record -> body``: one typed record (what the tracker's worker maps, one at a time), plain
  and with the 2026 token kinds and a batch tier;
- ``frame -> bodies``: a record frame of ``--rows`` rows (the backfill path), per row;
- ``body check``: one completion body validated (the emulator's per-request check), from a
  dict and from the raw JSON bytes the server receives;
- ``bodies -> frame``: the way back (``Emulator.records()``), per row.

Prints the best of ``--repeat`` runs per operation (best, not mean: the least disturbed run on
a shared 2-core machine). Uses only public names, so it runs unchanged on older revisions:
``PYTHONPATH=/path/to/old/checkout python benchmarks/bench_wire.py``.

Usage:
    .venv/bin/python benchmarks/bench_wire.py --rows 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

import pandas as pd
from bench_emulator import make_frame  # the same synthetic frame (benchmarks/ is on sys.path)

from showcase_lib import wire


def tracker_record() -> dict:
    """A record as the tracker's worker builds it: plain Python values."""
    return {
        "timestamp": pd.Timestamp("2026-03-02T15:04:05.250Z"),
        "call_id": "call_000000001",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 1200,
        "output_tokens": 300,
        "cost_usd": 0.00042,
        "latency_ms": 850,
        "customer_id": "cust_0001",
        "subscription_tier": "pro",
        "organization_id": "org_001",
        "product_id": "assist",
        "feature_id": "chat",
        "task_type": "qa",
        "environment": "production",
        "request_id": "req_1",
        "trace_id": "tr_1",
        "user_agent": "app/1.0",
        "session_id": "s_1",
        "status": "success",
        "stop_reason": None,
        "region": None,
    }


#: A 2026 call's extra columns: cache reads and writes, reasoning, a batch tier (an older
#: revision's mapper ignores the keys it does not know, so the script runs there too).
CALL_2026 = {
    "cache_read_tokens": 900,
    "cache_write_tokens": 200,
    "cache_write_1h_tokens": 50,
    "reasoning_tokens": 200,
    "service_tier": "batch",
}


def best_per_op(fn: Callable[[], object], ops: int, repeat: int) -> float:
    """Best wall time per operation over ``repeat`` runs of ``fn`` (which does ``ops`` ops)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / ops


def measure(rows: int, repeat: int) -> dict[str, float]:
    """Seconds per operation for each hot path."""
    rec = tracker_record()
    loops = 20_000
    record_to_wire = wire.record_to_wire
    validate_wire = wire.validate_wire

    def one_record() -> None:
        for _ in range(loops):
            record_to_wire(rec)

    rec_2026 = {**rec, **CALL_2026}

    def one_record_2026() -> None:
        for _ in range(loops):
            record_to_wire(rec_2026)

    body = record_to_wire(rec)
    raw = wire.encode_body(body)
    plain = json.loads(raw)

    def check_dict() -> None:
        for _ in range(loops):
            validate_wire(plain)

    def check_bytes() -> None:
        loads = json.loads
        for _ in range(loops):
            validate_wire(loads(raw))

    frame = make_frame(rows)
    bodies = list(wire.frame_to_wire(frame))
    assert validate_wire(bodies[0]) == []
    out = {
        "record -> body (tracker, 1 record)": best_per_op(one_record, loops, repeat),
        "record -> body (tracker, cached + reasoning + batch)": best_per_op(
            one_record_2026, loops, repeat
        ),
        f"frame -> bodies (backfill, {rows:,} rows), per row": best_per_op(
            lambda: list(wire.frame_to_wire(frame)), rows, repeat
        ),
        "body check, dict (emulator)": best_per_op(check_dict, loops, repeat),
        "body check, JSON bytes -> checked (emulator)": best_per_op(check_bytes, loops, repeat),
        f"bodies -> frame ({rows:,} rows, unchecked), per row": best_per_op(
            lambda: wire.wire_to_frame(bodies, validate=False), rows, repeat
        ),
    }
    parse = getattr(wire, "parse_body", None)  # the emulator's bytes -> body check, if present
    if parse is not None:

        def check_parse() -> None:
            for _ in range(loops):
                parse(raw)

        out["body check, parse_body(bytes) (emulator)"] = best_per_op(check_parse, loops, repeat)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, pandas {pd.__version__}, {platform.machine()}")
    print(f"wire module: {wire.__file__}")
    for name, sec in measure(args.rows, args.repeat).items():
        print(f"{name:<58} {sec * 1e6:9.2f} us")


if __name__ == "__main__":
    main()
