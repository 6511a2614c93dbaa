"""Past one machine's memory: the Part B SQL twins and the analyzers' heavy group-bys on DuckDB
over a day-partitioned Parquet data set (hive layout), 100M calls by default, in bounded memory.

The data set is generated one day at a time (``simulate`` for that day, its cost by token kind
from ``pricing.cost_breakdown``, one Parquet file under ``day=YYYY-MM-DD/``), so generation holds
one day in memory whatever the total. DuckDB then reads the directory with hive partitioning
under a memory limit (``--memory-limit``, spilling to a temporary directory beside the data):
each query's time is printed with the process's peak resident memory while it ran (psutil,
sampled every 10 ms; DuckDB runs in this process) and the load average. Everything is written
under a temporary directory (``--dir`` to choose its parent) and removed at the end.

The same SQL text runs on a warehouse after ``sqlglot.transpile`` (``--show-dialect bigquery``
prints each query in that dialect; tests/test_transpile.py checks the round trip).

Usage:
    python benchmarks/bench_warehouse.py                      # 100M calls over 30 days
    python benchmarks/bench_warehouse.py --rows 1e7 --days 10 # a quicker look
    python benchmarks/bench_warehouse.py --rows 1e6 --days 3 --show-dialect snowflake
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from showcase_lib.analysis import sql
from showcase_lib.pricing import cost_breakdown
from showcase_lib.simulation import simulate

START = pd.Timestamp("2026-07-13", tz="UTC")  # the simulation's default first day


class Peak(threading.Thread):
    """Highest RSS of this process since the last reset (sampled every 10 ms)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss

    def reset(self) -> None:
        self.peak = self.proc.memory_info().rss

    def run(self) -> None:
        while True:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def generate(root: Path, rows: float, days: int, peak: Peak) -> tuple[int, float]:
    """Write ``days`` partitions of ``rows / days`` calls each; return (rows, seconds)."""
    t0, total = time.perf_counter(), 0
    for d in range(days):
        day = START + pd.Timedelta(days=d)
        calls = simulate(
            "steady_growth",
            days=1,
            customers=1_000,
            seed=d,
            start=day.strftime("%Y-%m-%d"),
            calls_per_day=rows / days,
        ).calls
        kinds = cost_breakdown(calls).drop(columns="total").add_prefix("cost_")
        frame = pd.concat([calls, kinds], axis=1)
        part = root / f"day={day:%Y-%m-%d}"
        part.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), part / "calls.parquet")
        total += len(frame)
        del calls, kinds, frame
        if d % 5 == 0 or d == days - 1:
            print(
                f"  day {d + 1}/{days}: {total:,} calls written, RSS now "
                f"{peak.proc.memory_info().rss / 2**20:,.0f} MiB, peak {peak.peak / 2**20:,.0f} MiB, "
                f"{load()}",
                flush=True,
            )
    return total, time.perf_counter() - t0


#: The analyzers' heavy group-bys, as SQL over the same view: what each pass over the calls
#: computes before the small per-group arithmetic (allocation, chargeback, right-sizing cells,
#: billing usage, per-model efficiency).
ANALYZER_SQL: dict[str, str] = {
    "understanding: allocation by customer": """
SELECT coalesce(nullif(trim(customer_id::VARCHAR), ''), '(untagged)') AS customer_id,
       sum(cost_usd) AS cost_usd, count(*) AS calls, sum(input_tokens + output_tokens) AS tokens
FROM calls GROUP BY ALL ORDER BY cost_usd DESC""",
    "alignment: showback by feature": """
SELECT feature_id, sum(cost_usd) AS showback_usd, count(*) AS calls
FROM calls WHERE environment = 'production' AND feature_id IS NOT NULL
GROUP BY ALL ORDER BY showback_usd DESC""",
    "optimization: right-sizing cells": """
SELECT task_type, provider, model, service_tier, count(*) AS calls,
       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
       sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens
FROM calls GROUP BY ALL""",
    # 30-day billing cycles from the first day, in microseconds (no time-zone arithmetic)
    "pricing: billing usage per customer and cycle": """
SELECT customer_id,
       (epoch_us(timestamp) - epoch_us(TIMESTAMPTZ '2026-07-13 00:00:00+00')) // 2592000000000 AS cycle,
       sum(input_tokens + output_tokens) / 1000.0 AS ktok, count(*) AS calls,
       sum(cost_usd) AS cost_usd
FROM calls WHERE environment = 'production' GROUP BY ALL""",
    "performance: latency p50/p95 per model": """
SELECT model, count(*) AS calls, quantile_cont(latency_ms, [0.5, 0.95]) AS p50_p95_ms,
       avg((status = 'success')::DOUBLE) AS success_rate
FROM calls GROUP BY ALL""",
}


def part_b(con) -> dict[str, str]:
    """The Part B twins with parameters taken from the data (first customers, cost range)."""
    first = con.execute("SELECT min(timestamp), min(cost_usd), max(cost_usd) FROM calls").fetchone()
    day0 = pd.Timestamp(first[0]).floor("D")
    customers = [
        r[0] for r in con.execute("SELECT DISTINCT customer_id FROM calls LIMIT 50").fetchall()
    ]
    fees = {c: 100.0 for c in sorted(map(str, customers))}
    this_week = (day0 + pd.Timedelta(days=21), day0 + pd.Timedelta(days=28))
    before = (day0 + pd.Timedelta(days=7), day0 + pd.Timedelta(days=21))
    lo, hi = max(float(first[1]), 1e-7), float(first[2])
    edges = [float(first[1])] + [lo * (hi / lo) ** (i / 20) for i in range(1, 21)]
    q = sql.query
    return {
        "daily aggregate": q("aggregate", "day"),
        "weekly growth": q("growth_rates", "week"),
        "month-to-date vs last": q("month_to_date"),
        "trend (7-day mean, OLS)": q("trend", 7),
        "by model, p50/p95/p99": q("by_dimension", "model"),
        "by customer, p50/p95/p99": q("by_dimension", "customer_id"),
        "top-10 customers": q("top_n", "customer_id", 10),
        "concentration (Gini)": q("concentration"),
        "token efficiency model x task": q("token_efficiency", ["model", "task_type"]),
        "cost by token kind, by feature": q("cost_by_kind", "feature_id"),
        "daily cost by token kind": q("aggregate", "day", kinds=True),
        "tier mix by feature": q("tier_mix", "feature_id"),
        "drivers per customer (week vs 2)": q("drivers", this_week, before, "customer_id"),
        "cost histogram": q("distribution", "cost_usd", edges),
        "plan CSV (customer, tier)": q("plan_csv", "customer_id", "subscription_tier"),
        "robust z per customer-day": q("robust_zscore"),
        "spike rule per customer-day": q("spikes"),
        "budget alerts (running sums)": q("budget_alerts", fees),
        "per-call cost outliers": q("cost_outliers"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e8, help="calls in total (default 1e8)")
    parser.add_argument("--days", type=int, default=30, help="day partitions (default 30)")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (default 2GB)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument("--dir", default=None, help="parent of the temporary data directory")
    parser.add_argument("--show-dialect", default="", help="print each query in this dialect")
    args = parser.parse_args(argv)

    peak = Peak()
    peak.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench_warehouse_", dir=args.dir))
    try:
        root = tmp / "calls"
        print(
            f"Warehouse benchmark: {args.rows:,.0f} calls over {args.days} days into {root}, {load()}"
        )
        n, gen_s = generate(root, args.rows, args.days, peak)
        size = sum(f.stat().st_size for f in root.rglob("*.parquet"))
        print(
            f"generated {n:,} calls in {gen_s:.0f} s ({n / gen_s:,.0f} calls/s), "
            f"{size / 2**30:.2f} GiB of Parquet, peak RSS while generating "
            f"{peak.peak / 2**20:,.0f} MiB, {load()}"
        )
        con = sql.connect(root)  # a directory: read_parquet('<dir>/**/*.parquet'), hive keys
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
        con.execute(f"SET threads = {int(args.threads)}")
        con.execute(f"SET temp_directory = '{tmp / 'spill'}'")
        rows = con.execute("SELECT count(*), count(DISTINCT day) FROM calls").fetchone()
        print(
            f"DuckDB sees {rows[0]:,} calls in {rows[1]} day partitions "
            f"(memory_limit {args.memory_limit}, {args.threads} threads)"
        )
        work = {
            **{f"[Part B] {k}": v for k, v in part_b(con).items()},
            **{f"[analyzer] {k}": v for k, v in ANALYZER_SQL.items()},
        }
        results = []
        for name, text in work.items():
            if args.show_dialect:
                out = sqlglot.transpile(
                    text.replace("utc_trunc(", "date_trunc("),
                    read="duckdb",
                    write=args.show_dialect,
                )[0]
                print(f"-- {name} in {args.show_dialect}:\n{out}\n")
            peak.reset()
            t0 = time.perf_counter()
            out_rows = len(con.execute(text).df())
            secs = time.perf_counter() - t0
            results.append((name, secs, peak.peak / 2**20, out_rows, os.getloadavg()[0]))
            print(
                f"  {name:<48} {secs:8.2f} s  peak RSS {peak.peak / 2**20:7,.0f} MiB  "
                f"{out_rows:>9,} rows  {load()}",
                flush=True,
            )
        table = pd.DataFrame(
            results, columns=["query", "seconds", "peak_rss_mib", "rows", "load_1m"]
        )
        print(
            f"\nAll {len(table)} queries over {n:,} calls: {table['seconds'].sum():.0f} s in total, "
            f"slowest {table['seconds'].max():.1f} s ({table.loc[table['seconds'].idxmax(), 'query']}), "
            f"highest peak RSS {table['peak_rss_mib'].max():,.0f} MiB "
            f"(memory_limit {args.memory_limit}), {load()}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"removed {tmp}")


if __name__ == "__main__":
    main()
