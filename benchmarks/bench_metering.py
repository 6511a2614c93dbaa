"""Benchmarks of the metering trackers (figures printed, not asserted).

Sections (all against the emulator in a separate process on loopback):

1. ``overhead``  - track() cost per call (p50/p99/p99.9), in a tight burst and paced like an
   application, against a synchronous POST per call (what metering adds without a tracker).
2. ``throughput`` - delivered records per second end to end, aiohttp vs httpx transports,
   requests made vs records sent, connections opened.
3. ``backfill`` - a Parquet file of N historical calls (default 1,000,000) streamed in a fresh
   process: throughput and peak resident memory.
4. ``overflow`` - track() p99/max while the queue is full and the service is down, for each
   overflow policy, and how long ``close()`` waits with the memory spool and the service down.

The chaos runs (>= 50,000 records through faults, restarts and SIGKILLs) are in
``benchmarks/bench_chaos.py``.

Usage::

    .venv/bin/python benchmarks/bench_metering.py              # full sizes (minutes)
    .venv/bin/python benchmarks/bench_metering.py --quick      # small sizes (seconds)
    .venv/bin/python benchmarks/bench_metering.py --only overhead throughput
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from showcase_lib.emulator import Emulator
from showcase_lib.metering import (
    BackfillOptions,
    Delivery,
    Overflow,
    RetryPolicy,
    Settings,
    Tracker,
    backfill,
)
from showcase_lib.wire import encode_body, record_to_wire

HERE = Path(__file__).resolve()

#: Full sizes (``--quick`` uses the small ones); notebooks 01 and 04 quote them from here.
OVERHEAD_CALLS = 100_000  # track() calls timed: enough samples for a stable p99.9
OVERHEAD_SYNC_CALLS = 3_000  # blocking POSTs timed: each costs a round trip, a few seconds in all
THROUGHPUT_RECORDS = 50_000  # delivered end to end: long enough that start-up is noise
BACKFILL_ROWS = 1_000_000  # a history larger than a chunk many times over: memory stays flat
OVERFLOW_CALLS = 50_000  # track() calls into a full queue with the service down


class PeakRSS:
    """Sample this process's resident memory in a thread; ``peak_mb`` after ``stop``.

    The library does not measure itself: the benchmark samples the process around the call.
    """

    def __init__(self, interval_s: float = 0.05) -> None:
        self._proc = psutil.Process()
        self.baseline_mb = self._proc.memory_info().rss / 2**20
        self.peak_mb = self.baseline_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)


def machine_info() -> dict:
    freq = psutil.cpu_freq()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "logical_cpus": psutil.cpu_count(),
        "cpu_mhz": round(freq.current) if freq else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def pct(values_ns, qs=(50, 99, 99.9)) -> dict:
    a = np.asarray(values_ns, dtype="float64") / 1000.0
    return {f"p{q:g}_us": round(float(np.percentile(a, q)), 2) for q in qs} | {
        "mean_us": round(float(a.mean()), 2)
    }


def show(title: str, data: dict) -> None:
    print(f"\n== {title}")
    for k, v in data.items():
        print(f"  {k:<28} {v}")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- 1. overhead
def bench_overhead(n_track: int, n_sync: int) -> dict:
    with Emulator(process=True) as emu:
        settings = Settings(emu.api_key, emu.base_url)
        tracker = Tracker(settings)
        tags = {"customer_id": "cust_0001", "feature_id": "chat", "organization_id": "org_001"}
        for _ in range(2000):  # warm up
            tracker.track("openai", "gpt-4o-mini", 100, 20, 800, **tags)
        tracker.flush(60)
        perf = time.perf_counter_ns
        burst = np.empty(n_track, dtype="int64")
        for i in range(n_track):
            t0 = perf()
            tracker.track("openai", "gpt-4o-mini", 100 + i % 50, 20, 800, **tags)
            burst[i] = perf() - t0
        tracker.flush(120)
        # paced like an application: the AI call is I/O (here a 0.5 ms sleep, which releases
        # the GIL like a socket wait), then track(); the worker delivers meanwhile
        n_paced = min(n_track, 10_000)
        paced = np.empty(n_paced, dtype="int64")
        for i in range(n_paced):
            time.sleep(0.0005)
            t0 = perf()
            tracker.track("openai", "gpt-4o-mini", 100 + i % 50, 20, 800, **tags)
            paced[i] = perf() - t0
        stats = tracker.close()
        # without a tracker: one blocking POST per AI call
        rec = {
            "timestamp": "2026-01-01T00:00:00Z",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 100,
            "output_tokens": 20,
            "latency_ms": 800,
            **tags,
        }
        sync = np.empty(n_sync, dtype="int64")
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        with httpx.Client(timeout=timeout) as client:  # keep-alive, no retries
            for i in range(n_sync):
                t0 = perf()
                body = encode_body(record_to_wire({**rec, "call_id": f"sync-{i}"}))
                resp = client.post(
                    settings.completions_url, content=body, headers=settings.headers(f"sync-{i}")
                )
                resp.raise_for_status()
                sync[i] = perf() - t0
        stored = emu.stats()["stored"]
    out = {
        "track_burst_calls": n_track,
        **{f"track_burst_{k}": v for k, v in pct(burst).items()},
        "track_paced_calls": n_paced,
        **{f"track_paced_{k}": v for k, v in pct(paced).items()},
        "sync_post_calls": n_sync,
        **{f"sync_post_{k}": v for k, v in pct(sync).items()},
        "delivered": stats.delivered,
        "tracked": stats.tracked,
        "emulator_stored": stored,
    }
    out["speedup_p50"] = round(out["sync_post_p50_us"] / out["track_burst_p50_us"], 1)
    return out


# ----------------------------------------------------------------------------- 2. throughput
def bench_throughput(
    n: int, transport: str, concurrency: int = 64, event_loop: str = "auto"
) -> dict:
    with Emulator(process=True) as emu:
        tracker = Tracker(
            Settings(emu.api_key, emu.base_url),
            delivery=Delivery(
                transport=transport,  # type: ignore[arg-type]
                concurrency=concurrency,
                event_loop=event_loop,  # type: ignore[arg-type]
            ),
        )
        loop_name = type(tracker._loop).__module__.split(".")[0]
        t0 = time.perf_counter()
        for i in range(n):
            tracker.track(
                "openai",
                "gpt-4o-mini",
                100 + i % 50,
                20,
                800,
                customer_id=f"cust_{i % 97:04d}",
                feature_id="chat",
                organization_id="org_001",
                environment="production",
            )
        t_tracked = time.perf_counter() - t0
        ok = tracker.flush(600)
        elapsed = time.perf_counter() - t0
        stats = tracker.close()
        es = emu.stats()
    return {
        "transport": transport,
        "event_loop": loop_name,
        "concurrency": concurrency,
        "records": n,
        "flushed": ok,
        "track_loop_s": round(t_tracked, 3),
        "elapsed_s": round(elapsed, 2),
        "delivered_per_s": round(stats.delivered / elapsed),
        "delivered": stats.delivered,
        "requests": stats.requests,
        "connections_opened": stats.connections,
        "worker_wakeups": stats.flushes,
        "emulator_stored": es["stored"],
        "emulator_duplicates": es["duplicates"],
    }


# ----------------------------------------------------------------------------- 3. backfill
def make_data(path: str, rows: int, seed: int = 0) -> None:
    """Write ``rows`` simulated calls to a Parquet file (run in its own process)."""
    import pandas as pd

    from showcase_lib.io import save_calls
    from showcase_lib.simulation import simulate

    customers = max(10, int(rows / 2000) + 10)
    calls = simulate("steady_growth", days=30, customers=customers, seed=seed).calls
    while len(calls) < rows:
        seed += 1
        more = simulate("steady_growth", days=30, customers=customers, seed=seed).calls
        more["call_id"] = more["call_id"].astype(str) + f"_{seed}"
        calls = pd.concat([calls, more], ignore_index=True)
    calls = calls.head(rows).copy()
    assert calls["call_id"].is_unique
    save_calls(calls, path)


def run_backfill(path: str, base_url: str, checkpoint: str | None, rate: float | None) -> dict:
    """Backfill in this (fresh) process; key from REVENIUM_METERING_API_KEY."""
    settings = Settings.from_env(base_url=base_url)
    mem = PeakRSS()
    try:
        r = backfill(
            path,
            settings,
            checkpoint=checkpoint,
            options=BackfillOptions(progress=False),
            delivery=Delivery(concurrency=64, rate_limit=rate),
        )
    finally:
        mem.stop()
    return {**r.as_dict(), "peak_rss_mb": mem.peak_mb, "baseline_rss_mb": mem.baseline_mb}


def _child(args: list[str], env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE), *args], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_backfill(rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calls.parquet")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(HERE), "--make-data", path, str(rows)], check=True)
        gen_s = time.perf_counter() - t0
        with Emulator(process=True, db_path=os.path.join(tmp, "emu.sqlite")) as emu:
            env = dict(os.environ, REVENIUM_METERING_API_KEY=emu.api_key)
            r = _child(["--run-backfill", path, emu.base_url], env)
            stored = emu.stats()["in_store"]
        c = r["compression"]
        return {
            "rows": rows,
            "file_mb": round(os.path.getsize(path) / 2**20, 1),
            "generate_s": round(gen_s, 1),
            "elapsed_s": round(r["elapsed_s"], 1),
            "records_per_s": round(r["records_per_s"]),
            "delivered": r["delivered"],
            "emulator_stored": stored,
            "peak_rss_mb": round(r["peak_rss_mb"], 1),
            "baseline_rss_mb": round(r["baseline_rss_mb"], 1),
            "gzip_per_request_ratio": round(c["per_request_ratio"], 2),
            "gzip_batch_ratio": round(c["batch_ratio"], 2),
        }


# ----------------------------------------------------------------------------- 4. overflow
def bench_overflow(n: int) -> dict:
    """track() cost while the queue is full and the service is down, per overflow policy.

    The queue is kept full (a small ``max_queue``, the emulator in an outage), so every call
    takes the overflow path: ``spool`` with a durable spool (the worker writes the spill to
    SQLite while the caller goes on), ``drop_oldest`` and ``drop_newest``. Then ``close()``
    with the memory spool while the service is still down (how long it waits).
    """
    out: dict = {}
    perf = time.perf_counter_ns
    with tempfile.TemporaryDirectory() as tmp, Emulator(process=True) as emu:
        emu.set_faults(outage=True)
        settings = Settings(emu.api_key, emu.base_url, timeout_s=1.0, connect_timeout_s=1.0)
        fast = Delivery(retry=RetryPolicy(max_retries=1, initial_s=0.01, max_s=0.02))
        for policy in ("spool", "drop_oldest", "drop_newest"):
            spool = os.path.join(tmp, f"{policy}.db")
            tracker = Tracker(
                settings, delivery=fast, spool=spool, overflow=Overflow(policy, max_queue=500)
            )
            lat = np.empty(n, dtype="int64")
            for i in range(n):
                t0 = perf()
                tracker.track("openai", "gpt-4o-mini", 100, 20, 800, customer_id="cust_0001")
                lat[i] = perf() - t0
            stats = tracker.close(timeout=30)
            a = lat / 1000.0
            out[f"{policy}_p99_us"] = round(float(np.percentile(a, 99)), 1)
            out[f"{policy}_p99.9_us"] = round(float(np.percentile(a, 99.9)), 1)
            out[f"{policy}_max_us"] = round(float(a.max()), 1)
            out[f"{policy}_calls_over_1ms"] = int((a > 1000).sum())
            out[f"{policy}_overflowed"] = stats.overflowed
            out[f"{policy}_dropped"] = stats.dropped
        tracker = Tracker(settings, delivery=fast)
        for _ in range(200):
            tracker.track("openai", "gpt-4o-mini", 100, 20, 800)
        t0 = time.perf_counter()
        stats = tracker.close(timeout=30)
        out["memory_spool_close_s"] = round(time.perf_counter() - t0, 2)
        out["memory_spool_close_dropped"] = stats.dropped
        out["memory_spool_close_pending"] = stats.pending
    return out


# ----------------------------------------------------------------------------- main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=["overhead", "throughput", "backfill", "overflow"],
    )
    p.add_argument("--backfill-rows", type=int, default=None)
    p.add_argument("--make-data", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--run-backfill", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.make_data:
        make_data(a.make_data[0], int(a.make_data[1]), *(int(x) for x in a.make_data[2:]))
        return
    if a.run_backfill:
        print(json.dumps(run_backfill(*a.run_backfill, None, None)))
        return
    only = set(a.only or ["overhead", "throughput", "backfill", "overflow"])
    q = a.quick
    show("machine (shared machines give noisy figures; re-run on a quiet one)", machine_info())
    if "overhead" in only:
        show(
            "track() overhead vs a synchronous POST per call",
            bench_overhead(5_000 if q else OVERHEAD_CALLS, 300 if q else OVERHEAD_SYNC_CALLS),
        )
    if "throughput" in only:
        n = 5_000 if q else THROUGHPUT_RECORDS
        show(
            "end-to-end throughput, aiohttp + uvloop (default)",
            bench_throughput(n, "aiohttp", event_loop="auto"),
        )
        show(
            "end-to-end throughput, aiohttp + asyncio loop",
            bench_throughput(n, "aiohttp", event_loop="asyncio"),
        )
        show(
            "end-to-end throughput, httpx + asyncio loop",
            bench_throughput(1_000 if q else 5_000, "httpx", event_loop="asyncio"),
        )
    if "backfill" in only:
        show("backfill", bench_backfill(a.backfill_rows or (20_000 if q else BACKFILL_ROWS)))
    if "overflow" in only:
        show(
            "overflow: track() with a full queue and the service down; close() with it down",
            bench_overflow(5_000 if q else OVERFLOW_CALLS),
        )


if __name__ == "__main__":
    main()
