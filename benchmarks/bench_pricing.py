"""Price many synthetic calls with ``pricing.cost_breakdown``: every token kind, tiers, cliffs,
dated prices. Target (issue 10): 10M calls in under 5 s on this 2-core machine.

The frame mixes cliff models (gpt-5.5 above 272k input, gemini-2.5-pro above 200k), a model with
a dated price (gpt-5.6-luna, $1.00/$6.00 -> $0.20/$1.20 per MTok on 2026-07-30), Anthropic with
both cache-write TTLs, and a historic model; timestamps span 2026-06-01 .. 2026-11-30 (across the
price change and the package's batch/flex variants of 2026-10-14); tiers are mostly standard with
batch, flex and priority shares; about 1% of calls are long-context. Columns are categorical, as
in the record. Prints the best of ``--repeat`` runs (the frame build is not timed).

Usage:
    .venv/bin/python benchmarks/bench_pricing.py --rows 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from showcase_lib.pricing import cost_breakdown

#: (provider, model) of the synthetic fleet, drawn uniformly.
FLEET: tuple[tuple[str, str], ...] = (
    ("openai", "gpt-5.5"),
    ("openai", "gpt-5.6-luna"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-5"),
    ("anthropic", "claude-haiku-4-5"),
    ("anthropic", "claude-instant-1.2"),
    ("google", "gemini-3.5-flash"),
    ("google", "gemini-2.5-pro"),
)
TIERS = ("standard", "batch", "flex", "priority")
#: Tier shares: mostly interactive, a fifth batch (backfills, evaluations), a little flex/priority.
TIER_SHARES = (0.75, 0.2, 0.03, 0.02)


def make_calls(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic calls with every token kind (inclusive rule) and a timestamp range."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(FLEET), n)
    providers = np.array([p for p, _ in FLEET])
    models = np.array([m for _, m in FLEET])
    long = rng.random(n) < 0.01  # a few long-context calls, over every cliff
    inp = np.where(long, rng.integers(200_001, 400_000, n), rng.integers(50, 20_000, n))
    read = (inp * rng.random(n) * 0.8).astype(np.int64)
    write = ((inp - read) * rng.random(n) * 0.2).astype(np.int64)
    w1h = (write * (rng.random(n) < 0.3)).astype(np.int64)
    out = rng.integers(10, 4_000, n)
    reasoning = (out * rng.random(n) * 0.7).astype(np.int64)
    start = pd.Timestamp("2026-06-01", tz="UTC").value
    span = pd.Timedelta(days=182).value
    ts = pd.to_datetime(start + rng.integers(0, span, n), utc=True)
    tier = rng.choice(len(TIERS), n, p=TIER_SHARES)
    return pd.DataFrame(
        {
            "timestamp": ts,
            "provider": pd.Categorical(providers[pick]),
            "model": pd.Categorical.from_codes(pick, categories=list(models)),
            "input_tokens": inp,
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "cache_write_1h_tokens": w1h,
            "output_tokens": out,
            "reasoning_tokens": reasoning,
            "service_tier": pd.Categorical.from_codes(tier, categories=list(TIERS)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    calls = make_calls(args.rows)
    cost_breakdown(calls.head(1_000))  # resolve the prices once (cached), as a warm process has
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        bill = cost_breakdown(calls)
        best = min(best, time.perf_counter() - t0)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"cost_breakdown: {args.rows:,} calls in {best:.2f} s ({args.rows / best:,.0f} calls/s)")
    print(
        f"total ${bill['total'].sum():,.2f}; machine: {machine}, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
