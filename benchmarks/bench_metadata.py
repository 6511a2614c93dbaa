"""Benchmark of showcase_lib.metadata: validation latency and throughput, audit, group-by cost.

The measuring helpers live here (they used to ship in the library as ``metadata.perf``).

Prints figures (no assertions). Target from the issue: validate 100,000 records in under 2 s.

Usage:
    .venv/bin/python benchmarks/bench_metadata.py            # 100,000 records
    .venv/bin/python benchmarks/bench_metadata.py --rows 20000 --repeats 1   # quick check
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psutil

from showcase_lib.metadata import Validator, audit, make_corpus, validate_many
from showcase_lib.simulation import simulate

GOOD = {
    "customer_id": "cust_0001",
    "organization_id": "org_001",
    "product_id": "product_a",
    "feature_id": "chat",
    "environment": "production",
    "subscription_tier": "pro",
    "task_type": "chat",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
}


def groupby_cost(
    *,
    n_rows: int = 200_000,
    cardinalities: Sequence[int] = (10, 100, 1_000, 10_000, 100_000),
    repeats: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Time ``cost by tag`` (sum, count) on ``n_rows`` calls for each tag cardinality.

    The tag arrives as text (``string[pyarrow]``), as it does from a wire or a CSV. Columns:
    cardinality, seconds (best of ``repeats``), result_rows, result_kib (memory of the report),
    rows_per_second.

    """
    rng = np.random.default_rng(seed)
    cost = rng.gamma(2.0, 0.01, n_rows)
    rows = []
    for k in cardinalities:
        codes = rng.integers(0, k, n_rows)
        if k <= n_rows:
            codes[:k] = np.arange(k)  # every value appears at least once
        labels = pd.Series(np.char.add("value_", codes.astype(str)), dtype="string[pyarrow]")
        frame = pd.DataFrame({"tag": labels, "cost_usd": cost})
        best = float("inf")
        result = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = frame.groupby("tag", observed=True)["cost_usd"].agg(["sum", "count"])
            best = min(best, time.perf_counter() - t0)
        assert result is not None
        rows.append(
            {
                "cardinality": k,
                "seconds": best,
                "result_rows": len(result),
                "result_kib": result.memory_usage(deep=True).sum() / 1024,
                "rows_per_second": n_rows / best,
            }
        )
    return pd.DataFrame(rows)


def validate_latency(
    metadata: Mapping[str, Any], *, n: int = 5_000, validator: Validator | None = None
) -> dict[str, float]:
    """Per-call latency of single-record validation in microseconds (p50, p99, mean)."""
    v = validator or Validator()
    times = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter_ns()
        v.validate(metadata)
        times[i] = time.perf_counter_ns() - t0
    us = times / 1e3
    return {
        "p50_us": float(np.median(us)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "calls": n,
    }


def validate_many_throughput(
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    repeats: int = 3,
    validator: Validator | None = None,
) -> dict[str, float]:
    """Best-of-``repeats`` wall time and records per second of :func:`validate_many`."""
    frame = (
        records if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(list(records))
    )
    best = float("inf")
    invalid = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rep = validate_many(frame, validator=validator)
        best = min(best, time.perf_counter() - t0)
        invalid = rep.n_invalid
    return {
        "records": len(frame),
        "seconds": best,
        "records_per_second": len(frame) / best,
        "invalid": invalid,
    }


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.platform()} | Python {platform.python_version()} | pandas "
        f"{pd.__version__} | {os.cpu_count()} CPU | {mem:.1f} GiB RAM | "
        f"load {os.getloadavg()[0]:.2f}"
    )


def peak_mib(fn) -> tuple[object, float]:
    tracemalloc.start()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n = args.rows
    print(f"machine: {machine()}")

    lat = validate_latency(GOOD, n=20_000)
    print(
        f"validate(one dict): p50 {lat['p50_us']:.1f} us, p99 {lat['p99_us']:.1f} us "
        f"({lat['calls']:,} calls)"
    )

    t0 = time.perf_counter()
    sim = simulate("steady_growth", days=30, customers=200, seed=0).calls
    calls = sim.iloc[:n].reset_index(drop=True) if len(sim) >= n else sim
    print(f"simulated calls: {len(calls):,} rows in {time.perf_counter() - t0:.2f} s")
    r = validate_many_throughput(calls, repeats=args.repeats)
    print(
        f"validate_many(simulated calls, categorical): {r['records']:,} records in "
        f"{r['seconds']:.3f} s = {r['records_per_second']:,.0f} records/s "
        f"(invalid: {r['invalid']})"
    )

    t0 = time.perf_counter()
    corpus = make_corpus(n, seed=0)
    frame = corpus.frame()
    print(f"corpus: {n:,} records (50% with a mistake) built in {time.perf_counter() - t0:.2f} s")
    r = validate_many_throughput(frame, repeats=args.repeats)
    print(
        f"validate_many(corpus, object columns): {r['records']:,} records in "
        f"{r['seconds']:.3f} s = {r['records_per_second']:,.0f} records/s "
        f"(invalid: {r['invalid']:,})"
    )
    t0 = time.perf_counter()
    validate_many(corpus.records)
    print(
        f"validate_many(list of {n:,} dicts, incl. DataFrame build): "
        f"{time.perf_counter() - t0:.3f} s"
    )
    _rep, peak = peak_mib(lambda: validate_many(frame))
    print(f"validate_many(corpus frame) peak Python allocations: {peak:.0f} MiB (tracemalloc)")
    if n >= 100_000:
        target = "met" if r["seconds"] < 2.0 else "NOT met"
        print(f"target (100,000 records in under 2 s): {target}")
    else:
        print("target (100,000 records in under 2 s): run with --rows 100000 to check")

    s = corpus.score()
    print(
        f"corpus score: catch {s.catch_rate:.1%}, located {s.located_rate:.1%}, "
        f"false alarms {s.false_alarm_rate:.2%} ({s.n_mistakes:,} mistakes, "
        f"{s.n_valid:,} valid)"
    )

    t0 = time.perf_counter()
    a = audit(calls)
    print(
        f"audit(simulated calls): {len(calls):,} rows in {time.perf_counter() - t0:.2f} s, "
        f"{len(a.findings)} findings"
    )

    g = groupby_cost(n_rows=n, repeats=args.repeats)
    print("group-by cost as a tag's cardinality grows (sum+count of cost by tag):")
    for row in g.itertuples(index=False):
        print(
            f"  {row.cardinality:>9,} values: {row.seconds * 1e3:8.1f} ms, "
            f"report {row.result_rows:>9,} rows / {row.result_kib:9.1f} KiB"
        )


if __name__ == "__main__":
    main()
