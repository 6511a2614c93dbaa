"""Simulation throughput (calls/s) and peak memory at 1M and 10M calls.

Each size runs in a fresh Python subprocess so its peak resident memory (``ru_maxrss``) belongs
to that size alone. The figure includes the interpreter and imported libraries (baseline shown).

Usage:
    python benchmarks/bench_simulation.py                 # 1M and 10M calls
    python benchmarks/bench_simulation.py --sizes 1e6     # only 1M
    python benchmarks/bench_simulation.py --sizes 2e5 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

_CHILD = r"""
import gc, json, resource, sys, time
import numpy as np, pandas as pd
from showcase_lib.simulation import simulate
target, days, customers, scenario, repeat = (
    float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
)
simulate(scenario, days=2, customers=5, seed=0)  # warm caches (price table, imports)
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, cpu, n, frame_bytes = [], [], 0, 0
for i in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    sim = simulate(scenario, days=days, customers=customers, seed=i, calls_per_day=target / days)
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    n = len(sim.calls)
    frame_bytes = int(sim.calls.memory_usage(deep=True).sum())
    del sim
    gc.collect()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"calls": n, "seconds": min(times), "cpu_seconds": min(cpu), "peak_kib": peak, "baseline_kib": baseline,
                  "frame_bytes": frame_bytes}))
"""


def machine_info() -> dict[str, str]:
    """Cores, Python, numpy, pandas, pyarrow versions and the platform."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    return {
        "cpu_cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def run_size(target: float, days: int, customers: int, scenario: str, repeat: int) -> dict:
    """Run one size in a fresh subprocess and return its measurements."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(target),
            str(days),
            str(customers),
            scenario,
            str(repeat),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7], help="target calls")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--scenario", default="steady_growth")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (best time kept)")
    args = parser.parse_args(argv)

    print("Simulation benchmark")
    for key, value in machine_info().items():
        print(f"  {key:<10} {value}")
    print(f"  scenario   {args.scenario}, {args.days} days, {args.customers} customers")
    print()
    header = f"{'target':>12} {'calls':>12} {'seconds':>9} {'calls/s':>12} {'calls/cpu-s':>12} "
    header += f"{'peak MB':>9} "
    header += f"{'base MB':>8} {'frame MB':>9} {'B/call':>7}"
    print(header)
    for target in args.sizes:
        r = run_size(target, args.days, args.customers, args.scenario, args.repeat)
        rate = r["calls"] / r["seconds"]
        print(
            f"{int(target):>12,} {r['calls']:>12,} {r['seconds']:>9.2f} {rate:>12,.0f} "
            f"{r['calls'] / r['cpu_seconds']:>12,.0f} "
            f"{r['peak_kib'] / 1024:>9,.0f} {r['baseline_kib'] / 1024:>8,.0f} "
            f"{r['frame_bytes'] / 2**20:>9,.0f} {r['frame_bytes'] / r['calls']:>7.0f}",
            flush=True,
        )
    print(
        "\nTargets: >= 1,000,000 calls/s; 10M calls in < 2,048 MB peak (ru_maxrss, whole process)."
    )


if __name__ == "__main__":
    main()
