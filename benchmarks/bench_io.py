"""Loader speed: ``load_calls`` and ``iter_calls`` on a 1M-row CSV and Parquet file.

Generates the file once with ``simulate`` + ``save_calls`` into a temporary directory, then
times each reader ``--repeat`` times (wall clock best and median, CPU best). Prints figures; asserts
nothing about time.

Usage:
    python benchmarks/bench_io.py                  # 1M rows, 3 rounds
    python benchmarks/bench_io.py --rows 2e5 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from showcase_lib.io import iter_calls, load_calls, save_calls
from showcase_lib.simulation import simulate


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


if __name__ == "__main__":
    main()
