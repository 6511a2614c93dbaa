"""Time and peak memory of the eight analyzers at 0.3M, 1M and 10M calls.

Each size runs in a fresh Python subprocess (so its peak resident memory belongs to that size
alone): it simulates the calls (``steady_growth``, 30 days, 1,000 customers, timed apart), runs
the eight analyzers once on a small frame to pay imports and first-call costs, then ``--runs``
times ``run_all`` in ``ANALYZERS`` order, timing each analyzer. Before each run the analyzers'
remembered codings of the frame's columns (session ids, category tables) are dropped, so every
run is timed as a reader's first ``run_all`` on that frame. Peak RSS is sampled every 10 ms
by a thread (psutil) while each analyzer runs, so it includes the calls frame, the interpreter
and the libraries; the load average is printed with every figure (the machine may be shared),
and so is the CPU time of the process (``CPU s``, the least of the runs): on a busy machine the
wall time includes waiting for a core, the CPU time mostly does not.
The child runs with one BLAS thread (``--blas-threads``): the only BLAS work is the small
forecast fit of ``understanding``, which OpenBLAS's thread pool slows by an order of magnitude
on a busy 2-core machine (spinning threads), and nothing here gains from more.

The earlier public showcase's analyzers (github.com/m1small/revenium-finops-showcase, standard
library) are not part of this repository. Give ``--earlier-src`` the ``src`` folder of a
checkout: the benchmark writes the ~300K-call data set in that project's CSV layout, times its
eight analyzers on it in the same run (``earlier_showcase.py``) and prints both side by side
with the ratio. Without it, the comparison is skipped with a message.

Usage:
    python benchmarks/bench_analyzers.py                        # 0.3M, 1M, 10M calls
    python benchmarks/bench_analyzers.py --sizes 1e6 --runs 3
    python benchmarks/bench_analyzers.py --sizes 3e5 --earlier-src /tmp/earlier/src
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import gc, json, os, sys, threading, time
from pathlib import Path
import psutil
from showcase_lib.analysis.analyzers import ANALYZERS
from showcase_lib.analysis.analyzers._keys import forget
from showcase_lib.pricing import price_table
from showcase_lib.simulation import simulate

rows, runs, seed, csv = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
proc = psutil.Process()


class Peak(threading.Thread):
    # the highest RSS seen since the last reset, sampled every 10 ms
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = proc.memory_info().rss

    def reset(self):
        self.peak = proc.memory_info().rss

    def run(self):
        while True:
            self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.01)


def run_all(calls, customers, prices, peak):
    inputs = {"calls": calls, "customers": customers, "prices": prices}
    out = {}
    for name, (needs, fn) in ANALYZERS.items():
        peak.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        fn(*(inputs[k] for k in needs))
        out[name] = (time.perf_counter() - t0, peak.peak, time.process_time() - c0)
    return out


prices = price_table()
small = simulate("steady_growth", days=30, customers=50, seed=seed, calls_per_day=300)
peak = Peak()
peak.start()
run_all(small.calls, small.customers, prices, peak)  # imports and first calls, not timed
del small
t0 = time.perf_counter()
sim = simulate("steady_growth", days=30, customers=1_000, seed=seed, calls_per_day=rows / 30)
sim_s = time.perf_counter() - t0
if csv:
    from earlier_showcase import write_csv

    write_csv(sim.calls, sim.customers, Path(csv))
gc.collect()
report = {
    "rows": len(sim.calls),
    "simulate_s": sim_s,
    "frame_mib": sim.calls.memory_usage(deep=True).sum() / 2**20,
    "rss_before_mib": proc.memory_info().rss / 2**20,
    "runs": [],
}
for _ in range(runs):
    forget()  # every run codes its columns afresh, as a reader's first run_all does
    res = run_all(sim.calls, sim.customers, prices, peak)
    report["runs"].append(
        {
            "analyzers": {n: [s, b / 2**20, c] for n, (s, b, c) in res.items()},
            "load": os.getloadavg()[0],
        }
    )
    gc.collect()
print(json.dumps(report))
"""


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def _child(rows: float, runs: int, seed: int, csv: str, blas_threads: int) -> dict:
    here = str(Path(__file__).resolve().parent)  # earlier_showcase.write_csv
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), here, *sys.path])}
    if blas_threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(blas_threads)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(rows), str(runs), str(seed), csv],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_size(report: dict) -> float:
    """Print one size's table; return its median total seconds."""
    rows = report["rows"]
    runs = report["runs"]
    names = list(runs[0]["analyzers"])
    print(
        f"\n== {rows:,} calls: simulated in {report['simulate_s']:.1f} s, frame "
        f"{report['frame_mib']:,.0f} MiB, RSS before the analyzers {report['rss_before_mib']:,.0f} MiB"
    )
    print(f"  {'analyzer':<15}{'min s':>9}{'median s':>10}{'CPU s':>8}{'peak RSS MiB':>14}")
    for name in names:
        secs = [r["analyzers"][name][0] for r in runs]
        cpu = min(r["analyzers"][name][2] for r in runs)
        peak = max(r["analyzers"][name][1] for r in runs)
        print(
            f"  {name:<15}{min(secs):>9.2f}{statistics.median(secs):>10.2f}{cpu:>8.2f}"
            f"{peak:>14,.0f}"
        )
    totals = [sum(v[0] for v in r["analyzers"].values()) for r in runs]
    cpu = min(sum(v[2] for v in r["analyzers"].values()) for r in runs)
    peak = max(v[1] for r in runs for v in r["analyzers"].values())
    med = statistics.median(totals)
    loads = ", ".join(f"{r['load']:.2f}" for r in runs)
    print(
        f"  {'all eight':<15}{min(totals):>9.2f}{med:>10.2f}{cpu:>8.2f}{peak:>14,.0f}"
        f"   ({rows / med:,.0f} calls/s at the median; {len(runs)} run(s); "
        f"load average per run {loads})"
    )
    return med


def _showcase(src: Path, csv: Path, ours: dict) -> None:
    """Time the earlier showcase's eight analyzers on the same calls; print both, and ratios."""
    runner = Path(__file__).resolve().parent / "earlier_showcase.py"
    out = subprocess.run(
        [sys.executable, str(runner), str(src), str(csv)],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    runs = ours["runs"]
    print(
        f"\n== earlier public showcase (standard library) on the same {theirs['rows']:,} calls "
        f"(its loader read the CSV once in {theirs['load_s']:.1f} s, not counted), {_load()}"
    )
    print(f"  {'analyzer':<15}{'earlier s':>10}{'here s':>8}{'ratio':>8}")
    total_theirs = total_ours = 0.0
    for name, secs in theirs["analyzers"].items():
        mine = statistics.median(r["analyzers"][name][0] for r in runs)
        total_theirs, total_ours = total_theirs + secs, total_ours + mine
        print(f"  {name:<15}{secs:>10.2f}{mine:>8.2f}{secs / mine:>7.1f}x")
    print(
        f"  {'all eight':<15}{total_theirs:>10.2f}{total_ours:>8.2f}"
        f"{total_theirs / total_ours:>7.1f}x   (here: median of {len(runs)} run(s); earlier: "
        f"one run, {theirs['rows'] / total_theirs:,.0f} calls/s, CPU {theirs['cpu_s']:.1f} s)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3e5,1e6,1e7", help="comma-separated call counts")
    parser.add_argument("--runs", type=int, default=3, help="run_all repetitions per size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--earlier-src",
        default=os.environ.get("EARLIER_SHOWCASE_SRC", ""),
        help="the src folder of a checkout of github.com/m1small/revenium-finops-showcase: its "
        "eight analyzers are timed on the ~300K calls (default $EARLIER_SHOWCASE_SRC; skipped "
        "when empty)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads in the child (default 1; 0 leaves the environment as it is)",
    )
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    blas = args.blas_threads or os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"Analyzer benchmark ({os.cpu_count()} logical cores, BLAS threads: {blas}), {_load()}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_analyzers_"))
    try:
        earlier = Path(args.earlier_src) if args.earlier_src else None
        if earlier is not None and not (earlier / "analyzers" / "common.py").is_file():
            sys.exit(f"--earlier-src={str(earlier)!r} has no analyzers/common.py")
        for rows in sizes:
            csv = tmp / "calls.csv" if earlier is not None and rows <= 3.5e5 else None
            report = _child(rows, args.runs, args.seed, str(csv or ""), args.blas_threads)
            _print_size(report)
            print(f"  {_load()}")
            if csv is not None:
                _showcase(earlier, csv, report)
        if earlier is None:
            print(
                "\nearlier public showcase: skipped (its code is not part of this repository; "
                "clone github.com/m1small/revenium-finops-showcase and pass --earlier-src "
                "<clone>/src to time its eight analyzers on the ~300K calls)"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
