"""How many metering requests per second the emulator sustains (one POST per record).

The server runs in a subprocess (``Emulator(process=True)``); this process is the client: an
aiohttp session with ``--concurrency`` keep-alive connections, each POST carrying one
Revenium completion body (built with ``frame_to_wire``) and its own ``Idempotency-Key``.
Prints throughput, latency percentiles, the server's CPU time and peak memory, the machine,
and checks that every record was stored exactly once.

The figure to compare across versions of the server is its CPU time per request (psutil
``cpu_times`` of the server process over the run, user + system), not the throughput, which
depends on how much of the 2 cores the client takes. ``--rounds 3`` repeats the run with a
fresh server and prints the per-round figures and their median. Before/after a change, run
the same command against the old tree (``git worktree add /tmp/emu-old <commit>``, then
``cd /tmp/emu-old && PYTHONPATH=/tmp/emu-old python /path/to/bench_emulator.py``: the server
process starts with ``-m`` from the working directory, so it must be the old tree).

Usage:
    .venv/bin/python benchmarks/bench_emulator.py --records 20000 --concurrency 32
    .venv/bin/python benchmarks/bench_emulator.py --records 20000 --concurrency 64 --rounds 3
    .venv/bin/python benchmarks/bench_emulator.py --records 100000 --mode thread
    .venv/bin/python benchmarks/bench_emulator.py --records 20000 --clients 2 --wire-rows 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
import uuid
from concurrent.futures import ProcessPoolExecutor

import aiohttp
import numpy as np
import pandas as pd
import psutil

from showcase_lib.emulator import Emulator
from showcase_lib.schema import ALL_COLUMNS, DTYPES
from showcase_lib.wire import frame_to_wire, wire_to_frame


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic record frame (the benchmark must not depend on the simulator)."""
    r = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(r.integers(0, 30 * 86_400_000, n)), unit="ms"
    )
    data = {
        "timestamp": ts,
        "call_id": [f"call_{i:09d}" for i in range(n)],
        "provider": r.choice(["openai", "anthropic", "google"], n),
        "model": r.choice(["gpt-4o", "claude-3-5-haiku", "gemini-1.5-flash"], n),
        "input_tokens": r.integers(0, 5000, n),
        "output_tokens": r.integers(0, 2000, n),
        "cost_usd": r.random(n) / 100,
        "latency_ms": r.integers(50, 9000, n),
        "customer_id": r.choice([f"cust_{i:04d}" for i in range(100)], n),
        "subscription_tier": r.choice(["starter", "pro", "enterprise"], n),
        "organization_id": r.choice([f"org_{i:03d}" for i in range(40)], n),
        "product_id": r.choice(["assist", "search"], n),
        "feature_id": r.choice(["chat", "summarise", "code_review"], n),
        "task_type": r.choice(["qa", "summarize"], n),
        "environment": "production",
        "request_id": [f"req_{i}" for i in range(n)],
        "trace_id": [f"tr_{i // 3}" for i in range(n)],
        "user_agent": "bench/1.0",
        "session_id": [f"s_{i // 10}" for i in range(n)],
        "status": "success",
        "stop_reason": "END",
        "region": "us-east-1",
    }
    if "cache_read_tokens" in ALL_COLUMNS:  # the 2026 token kinds (older revisions lack them)
        tin, tout = data["input_tokens"], data["output_tokens"]
        data["cache_read_tokens"] = tin * r.choice([0, 8], n) // 10  # 80% hits on half the calls
        data["cache_write_tokens"] = (tin - data["cache_read_tokens"]) * r.choice([0, 1], n) // 4
        data["cache_write_1h_tokens"] = data["cache_write_tokens"] * r.choice([0, 1], n)
        data["reasoning_tokens"] = tout * r.choice([0, 0, 7], n) // 10  # a third reason
        data["service_tier"] = r.choice(["standard"] * 7 + ["batch", "flex", "priority"], n)
    return pd.DataFrame(data).astype(DTYPES)[list(ALL_COLUMNS)]


async def run_client(
    url: str,
    api_key: str,
    payloads: list[bytes],
    concurrency: int,
) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    it = iter(payloads)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for payload in it:
                headers = {
                    "x-api-key": api_key,
                    "Idempotency-Key": str(uuid.uuid4()),
                    "Content-Type": "application/json",
                }
                t0 = time.perf_counter()
                async with session.post(url, data=payload, headers=headers) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - t0)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return elapsed, latencies, statuses


def _client_process(
    url: str,
    api_key: str,
    payloads: list[bytes],
    concurrency: int,
) -> tuple[float, list[float], dict[int, int]]:
    return asyncio.run(run_client(url, api_key, payloads, concurrency))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=20_000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--mode", choices=["process", "thread"], default="process")
    p.add_argument(
        "--wire-rows",
        type=int,
        default=0,
        help="also time frame_to_wire / wire_to_frame on this many rows",
    )
    p.add_argument(
        "--clients", type=int, default=1, help="client processes (>1 to find the server's ceiling)"
    )
    p.add_argument("--rounds", type=int, default=1, help="repeat with a fresh server")
    args = p.parse_args()

    if args.wire_rows:
        big = make_frame(args.wire_rows)
        t0 = time.perf_counter()
        bodies = list(frame_to_wire(big))
        t1 = time.perf_counter()
        wire_to_frame(bodies, validate=False)
        t2 = time.perf_counter()
        print(
            f"frame_to_wire: {args.wire_rows:,} rows in {t1 - t0:.2f} s "
            f"({args.wire_rows / (t1 - t0):,.0f} rows/s); wire_to_frame: {t2 - t1:.2f} s "
            f"({args.wire_rows / (t2 - t1):,.0f} rows/s)"
        )
        del big, bodies

    t0 = time.perf_counter()
    payloads = [json.dumps(b).encode() for b in frame_to_wire(make_frame(args.records))]
    prep = time.perf_counter() - t0

    per_request_us = []
    for round_no in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"--- round {round_no} of {args.rounds}")
        per_request_us.append(_round(args, payloads, prep))
    if args.rounds > 1:
        figures = ", ".join(f"{x:.0f}" for x in per_request_us)
        print(
            f"server CPU per request over {args.rounds} rounds: {figures} us "
            f"(median {np.median(per_request_us):.0f} us)"
        )


def _round(args: argparse.Namespace, payloads: list[bytes], prep: float) -> float:
    """One run against a fresh server; prints its figures and returns server CPU us/request."""
    with Emulator(process=args.mode == "process") as emu:
        server_proc = psutil.Process(emu.pid)
        cpu0 = server_proc.cpu_times()
        if args.clients == 1:
            elapsed, lat, statuses = asyncio.run(
                run_client(emu.completions_url, emu.api_key, payloads, args.concurrency)
            )
        else:
            shares = [payloads[i :: args.clients] for i in range(args.clients)]
            start = time.perf_counter()
            with ProcessPoolExecutor(args.clients) as pool:
                parts = list(
                    pool.map(
                        _client_process,
                        [emu.completions_url] * args.clients,
                        [emu.api_key] * args.clients,
                        shares,
                        [args.concurrency] * args.clients,
                    )
                )
            elapsed = time.perf_counter() - start
            lat = [x for part in parts for x in part[1]]
            statuses = {}
            for part in parts:
                for code, n in part[2].items():
                    statuses[code] = statuses.get(code, 0) + n
        cpu1 = server_proc.cpu_times()
        stats = emu.stats()
        stored = emu.wait_for(args.records, timeout=10)
        peak_rss = getattr(server_proc.memory_info(), "rss", 0)
        unique = emu.records()["call_id"].nunique() if args.records <= 200_000 else None

    lat_ms = np.array(lat) * 1000
    server_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(
        f"machine: {platform.processor() or platform.machine()}, {psutil.cpu_count()} CPUs, "
        f"load avg {os.getloadavg()[0]:.1f}, python {platform.python_version()}"
    )
    print(
        f"mode={args.mode} records={args.records:,} clients={args.clients} x "
        f"concurrency={args.concurrency} "
        f"(payload prep {prep:.2f} s, {args.records / prep:,.0f} bodies/s)"
    )
    print(f"throughput: {args.records / elapsed:,.0f} requests/s ({elapsed:.2f} s)")
    print(
        f"latency ms: p50 {np.percentile(lat_ms, 50):.2f}  p95 {np.percentile(lat_ms, 95):.2f}  "
        f"p99 {np.percentile(lat_ms, 99):.2f}  max {lat_ms.max():.1f}"
    )
    user_s = cpu1.user - cpu0.user
    print(
        f"server CPU: {server_cpu:.2f} s (user {user_s:.2f} s; {server_cpu / elapsed:.0%} of one core), "
        f"{server_cpu / args.records * 1e6:.0f} us/request; RSS {peak_rss / 2**20:.0f} MiB"
    )
    print(
        f"statuses: {statuses}; stored {stored:,} in {stats['batches']:,} batches "
        f"(avg {stats['stored'] / max(stats['batches'], 1):.1f}/commit); unique call_ids {unique}"
    )
    assert statuses == {201: args.records}, statuses
    assert stored == args.records, (stored, args.records)
    return server_cpu / args.records * 1e6


if __name__ == "__main__":
    main()
