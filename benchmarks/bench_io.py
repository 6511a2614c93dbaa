"""Loader speed: ``load_calls``, ``iter_calls`` and ``load_usage``; the metered data set.

Generates the file once with ``simulate`` + ``save_calls`` into a temporary directory, then
times each reader ``--repeat`` times (wall clock best and median, CPU best). ``load_usage`` reads
the same calls as a reader's log (five columns, priced on load). ``--metered N`` builds
``datasets.metered`` for about N calls in a temporary cache (cold: simulate, meter through the
tracker into an emulator process, read the store back; then a cache hit) and projects the cold
time of the notebooks' data sets from the measured rate. Prints figures; asserts nothing about
time.

Usage:
    python benchmarks/bench_io.py                  # 1M rows, 3 rounds
    python benchmarks/bench_io.py --rows 2e5 --repeat 5
    python benchmarks/bench_io.py --rows 1e5 --repeat 1 --metered 20000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from showcase_lib.datasets import metered
from showcase_lib.io import iter_calls, load_calls, load_usage, save_calls
from showcase_lib.simulation import simulate

#: The data sets notebooks 05-13 simulate (scenario, days, customers, seed): the main one each.
NOTEBOOK_SETS = {
    "05": ("steady_growth", 62, 120, 7),
    "06": ("steady_growth", 30, 200, 11),
    "07 (each of 3)": ("viral_spike", 30, 100, 0),
    "08": ("steady_growth", 30, 200, 0),
    "09, 11": ("steady_growth", 30, 100, 0),
    "10": ("steady_growth", 30, 80, 0),
    "12": ("viral_spike", 30, 100, 0),
    "13": ("steady_growth", 90, 100, 0),
}


def _time(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each round (CPU time is steadier on a shared machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def _drain(path: Path, chunk_rows: int) -> int:
    return sum(len(c) for c in iter_calls(path, chunk_rows=chunk_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--metered", type=float, default=0, help="calls of a metered data set")
    args = parser.parse_args()
    rows = int(args.rows)
    calls = simulate(days=30, customers=200, seed=1, calls_per_day=rows / 30).calls.head(rows)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".csv", ".parquet"):
            path = Path(tmp) / f"calls{suffix}"
            save_calls(calls, path)
            size_mb = path.stat().st_size / 1e6
            for label, fn in (
                ("load_calls", lambda p=path: load_calls(p)),
                (f"iter_calls({args.chunk_rows})", lambda p=path: _drain(p, args.chunk_rows)),
            ):
                wall, cpu = _time(fn, args.repeat)
                print(
                    f"{suffix:9} {len(calls):>9,} rows {size_mb:7.1f} MB  {label:18} "
                    f"wall best {min(wall):6.3f} s median {statistics.median(wall):6.3f} s  "
                    f"cpu best {min(cpu):6.3f} s"
                )
        log = Path(tmp) / "usage.csv"
        shape = ["timestamp", "provider", "model", "input_tokens", "output_tokens"]
        calls[shape].to_csv(log, index=False)
        wall, cpu = _time(lambda: load_usage(log), args.repeat)
        print(
            f"{'.csv':9} {len(calls):>9,} rows {log.stat().st_size / 1e6:7.1f} MB  "
            f"{'load_usage (priced)':18} wall best {min(wall):6.3f} s "
            f"median {statistics.median(wall):6.3f} s  cpu best {min(cpu):6.3f} s"
        )
    if args.metered:
        _bench_metered(int(args.metered))


def _bench_metered(n: int) -> None:
    """One cold build and one cache hit of a data set of about ``n`` calls; projections."""
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SHOWCASE_DATASETS_DIR"] = cache
        t0 = time.perf_counter()
        sim = metered("steady_growth", days=7, customers=50, seed=1, calls_per_day=n / 7)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        metered("steady_growth", days=7, customers=50, seed=1, calls_per_day=n / 7)
        hit = time.perf_counter() - t0
    run = sim.params["metered"]
    rows = len(sim.calls)
    rate = rows / run["meter_s"]
    read_rate = rows / run["read_s"]
    print(
        f"metered {rows:,} calls: cold {cold:.1f} s (metering {run['meter_s']:.1f} s = "
        f"{rate:,.0f} calls/s at {run['concurrency']} connections, {run['requests']:,} "
        f"requests; reading the store back {run['read_s']:.1f} s), cache hit {hit:.2f} s"
    )
    for name, (scenario, days, customers, seed) in NOTEBOOK_SETS.items():
        size = len(simulate(scenario, days=days, customers=customers, seed=seed).calls)
        print(
            f"  notebook {name:14} {size:>9,} calls: cold ~{size / rate + size / read_rate:6.0f} s"
            " projected"
        )


if __name__ == "__main__":
    main()
