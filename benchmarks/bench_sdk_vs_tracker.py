"""Revenium's SDK middleware against the book's Tracker, on the same calls into the same emulator.

Each side runs in a process of its own (the SDK patches the ``openai`` client classes at import,
for good) against one emulator in its own process, and makes the same calls: the official
``openai`` client on ``showcase_lib.stand_in`` (latency 0), one chat completion per record. Each
child first makes ``--floor-calls`` bare calls, before any metering is switched on: what the
client and the stand-in cost alone, the floor its metered figures are read against. The sides
differ only in who meters the call:

- ``sdk``: ``revenium-python-sdk`` 0.12.0 (``import revenium_middleware.openai``), its background
  delivery (a pool of worker threads, one record per POST), then ``flush_metering()``;
- ``tracker``: ``showcase_lib.metering.Tracker``, ``track()`` with the call's
  ``response.usage`` (through ``showcase_lib.usage.to_record_tokens``), then ``flush()``.

Two more sides meter without any client call, the way a team meters a provider the SDK does not
patch, a self-hosted model or a backfill (the same usage, a new transaction id per record):

- ``sdk-records``: the SDK's own metering client, ``revenium_middleware.get_client()
  .ai.create_completion(...)``, one synchronous POST per record;
- ``tracker-records``: ``Tracker.track()`` alone, then ``flush()``.

Per run: records/s (from the first timed call until every record is delivered, flush included),
client CPU per record (the whole process's CPU over that window, worker threads included; less
the floor's CPU per call, what metering itself costs), the caller's time per call (median wall,
and the 10th percentile of the calling thread's CPU: the work metering puts on the call's path,
which the load of other processes does not inflate the way it does the wall clock), and that
every record was stored exactly once (the emulator's counters, asserted).

``--outage N`` also measures the other question, in the first run of ``sdk`` and ``tracker``:
once its records are delivered, the parent puts the service down (every request answered 503)
and the child makes N more calls and exits the way an application does (the SDK through its
``atexit`` drain, the tracker through ``close()`` with the same 5-second budget and a durable
spool); then the service comes back and, for the tracker, the next run of the application
replays the spool. Counted: of the N records made, how many the emulator stored in the end.

Usage (``--records 20000 --runs 3`` are the defaults; the figures are min / median over runs):
    .venv/bin/python benchmarks/bench_sdk_vs_tracker.py
    .venv/bin/python benchmarks/bench_sdk_vs_tracker.py --records 1000 --runs 1 --outage 300

Notebook 01 runs ``run_side`` below, small. Uses only public names.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Side = Literal["sdk", "tracker", "sdk-records", "tracker-records"]
SIDES: tuple[Side, ...] = ("sdk", "tracker", "sdk-records", "tracker-records")
#: the sides that make an official-client call per record (each child's bare calls, made
#: before metering is on, are their floor)
WITH_CLIENT: tuple[Side, ...] = ("sdk", "tracker")
MSG = [{"role": "user", "content": "What did this call cost?"}]
MODEL = "gpt-5.4-mini"
# The SDK's exit drain gives itself REVENIUM_SHUTDOWN_TIMEOUT_SECONDS, 5 s by default
# (revenium_middleware/_core/metering.py, DEFAULT_SHUTDOWN_TIMEOUT_SECONDS); the tracker's
# close() gets the same budget, so neither side wins the outage by waiting longer.
EXIT_BUDGET_S = 5.0
# A child that has not answered in this long is stuck, not slow: 20,000 SDK records at the
# slowest rate measured here (about 200 records/s) take 100 s.
CHILD_TIMEOUT_S = 600.0
# The stand-in's seed: both sides get the same usage bodies, call for call.
SEED = 11


@dataclass(frozen=True, slots=True)
class Run:
    """One side's run, passed to its child process as JSON.

    Example:
        >>> Run("sdk", 10, "http://127.0.0.1:9/", "rev_x").outage_records
        0
    """

    side: Side
    records: int
    url: str  # the emulator's root URL
    key: str
    floor_calls: int = 0  # bare client calls first, before any metering is on
    outage_records: int = 0  # then, told the service is down, this many more calls and exit
    spool: str | None = None  # the tracker's durable spool


# --------------------------------------------------------------------- the child process
def _sdk_on(run: Run) -> Any:
    """Point Revenium's SDK at the emulator (two environment variables) and switch it on."""
    os.environ["REVENIUM_METERING_API_KEY"] = run.key
    os.environ["REVENIUM_METERING_BASE_URL"] = run.url.rstrip("/")  # the SDK adds /meter/
    os.environ.pop("REVENIUM_TEAM_ID", None)  # budget enforcement off
    import revenium_middleware
    import revenium_middleware.openai  # patches the openai client classes

    if not revenium_middleware.initialize_metering():
        raise RuntimeError("revenium_middleware.initialize_metering() returned False")
    return revenium_middleware


def _timed(call: Any, n: int) -> dict[str, float]:
    """Make ``n`` calls. Per call (median): the caller's wall time and the caller's own CPU
    (its thread's, so what runs on the call's path, free of what other processes do to the
    wall clock); over the ``n`` calls: the process's wall and CPU time."""
    walls, cpus, w0, c0 = [], [], time.perf_counter(), time.process_time()
    for _ in range(n):
        t, tc = time.perf_counter_ns(), time.thread_time_ns()
        call()
        cpus.append(time.thread_time_ns() - tc)
        walls.append(time.perf_counter_ns() - t)
    return {
        "call_us_p50": statistics.median(walls) / 1000 if walls else 0.0,
        "call_cpu_us_p50": statistics.median(cpus) / 1000 if cpus else 0.0,
        # the 10th percentile: what other processes add to a thread's CPU time (cache misses,
        # a shared core) only ever adds, so a low percentile is the call's own cost
        "call_cpu_us_p10": statistics.quantiles(cpus, n=10)[0] / 1000 if len(cpus) > 1 else 0.0,
        "calls_s": time.perf_counter() - w0,
        "cpu_s": time.process_time() - c0,
    }


def meter_calls(run: Run) -> None:
    """The child: bare calls (the floor), then ``run.records`` calls metered by ``run.side``
    until every record is delivered (one JSON line on stdout), then, when the parent has put
    the service down and answered on stdin, ``run.outage_records`` more calls and the exit an
    application makes (a second JSON line)."""
    import openai

    from showcase_lib.metering import Settings, Tracker
    from showcase_lib.stand_in import StandIn
    from showcase_lib.usage import to_record_tokens

    client = openai.OpenAI(api_key="sk-stand-in", http_client=StandIn(seed=SEED).http_client())
    # one call's usage for the records-only sides, read before any metering is switched on
    usage = to_record_tokens(client.chat.completions.create(model=MODEL, messages=MSG))
    floor = _timed(
        lambda: client.chat.completions.create(model=MODEL, messages=MSG), run.floor_calls
    )
    sdk = _sdk_on(run) if run.side.startswith("sdk") else None
    tracker = None
    if run.side.startswith("tracker"):
        tracker = Tracker(Settings(run.key, run.url + "meter/"), spool=run.spool)
    ids = iter(range(run.records + run.outage_records))

    def call() -> None:
        t0 = time.perf_counter()
        r = client.chat.completions.create(model=MODEL, messages=MSG)
        if tracker is not None:  # the book's tracker: the call's usage, tracked
            ms = round((time.perf_counter() - t0) * 1000)
            tracker.track("openai", r.model, latency_ms=ms, call_id=r.id, **to_record_tokens(r))

    def track_only() -> None:
        tracker.track("openai", MODEL, latency_ms=900, call_id=f"rec-{next(ids)}", **usage)

    def sdk_post() -> None:  # the SDK's metering client, called synchronously
        sdk.get_client().ai.create_completion(**_sdk_body(f"rec-{next(ids)}", usage))

    call = {"sdk-records": sdk_post, "tracker-records": track_only}.get(run.side, call)
    call()  # warm-up (lazy imports, first connection); its record is one of the run's
    w0, c0 = time.perf_counter(), time.process_time()
    out = _timed(call, run.records - 1)
    left = sdk.flush_metering(CHILD_TIMEOUT_S) if sdk is not None else 0
    if tracker is not None:
        tracker.flush(CHILD_TIMEOUT_S)
    out.update(
        side=run.side,
        records=run.records,
        timed=run.records - 1,
        wall_s=time.perf_counter() - w0,
        cpu_s=time.process_time() - c0,
        left=left,
        floor={**floor, "calls": run.floor_calls},
    )
    print(json.dumps(out), flush=True)
    if not run.outage_records:
        if tracker is not None:
            tracker.close()
        return
    sys.stdin.readline()  # the parent has put the service down
    _timed(call, run.outage_records)
    down = {"side": run.side, "made": run.outage_records}
    if tracker is not None:  # an application's exit: deliver what it can, spool the rest
        st = tracker.close(EXIT_BUDGET_S)
        down.update(spooled_at_exit=st.pending, dropped=st.dropped)
    print(json.dumps(down), flush=True)
    # the SDK's exit drain runs now, from atexit (REVENIUM_SHUTDOWN_TIMEOUT_SECONDS)


def _sdk_body(transaction_id: str, usage: dict[str, int]) -> dict[str, Any]:
    """The keyword arguments of the SDK's ``ai.create_completion`` for one record (its wire
    rule for OpenAI: the prompt without its cache writes, of which the stand-in sends none)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "transaction_id": transaction_id,
        "provider": "OPENAI",
        "model": MODEL,
        "input_token_count": usage["input_tokens"] - usage["cache_write_tokens"],
        "output_token_count": usage["output_tokens"],
        "cache_read_token_count": usage["cache_read_tokens"],
        "reasoning_token_count": usage["reasoning_tokens"],
        "total_token_count": usage["input_tokens"] + usage["output_tokens"],
        "request_time": now,
        "response_time": now,
        "completion_start_time": now,
        "request_duration": 900,
        "stop_reason": "END",
        "cost_type": "AI",
        "is_streamed": False,
    }


# --------------------------------------------------------------------- the parent
def _line(proc: subprocess.Popen, side: str) -> dict[str, Any]:
    line = proc.stdout.readline()
    if not line.startswith("{"):
        proc.kill()
        _, err = proc.communicate()
        raise RuntimeError(f"side={side!r} gave no result ({line!r}): {err[-2000:]}")
    return json.loads(line)


def run_side(emu: Any, run: Run) -> dict[str, Any]:
    """Run one side in a fresh interpreter against ``emu`` (reset first; ``run.url`` and
    ``run.key`` are replaced by the emulator's). Returns the child's figures, the emulator's
    counts and, with ``run.outage_records``, the loss when the service is down while the
    process makes those calls and exits (the tracker's spool replayed by a next run after the
    service is back). The child's log (stderr) is in ``"log"``.

    Example (``emu`` an ``Emulator(process=True)``; not run here)::

        run_side(emu, Run("sdk", 1_000, "", "", floor_calls=300))["records_per_s"]
    """
    from showcase_lib.metering import Settings, Tracker

    emu.reset()
    spool = None
    if run.side.startswith("tracker") and run.outage_records:
        spool = str(Path(tempfile.mkdtemp(prefix="bench-sdk-vs-tracker-")) / "spool.db")
    child = Run(**{**asdict(run), "url": emu.url, "key": emu.api_key, "spool": spool})
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(asdict(child))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    res = _line(proc, run.side)
    emu.wait_for(run.records, timeout=30)
    stats = emu.stats()
    floor = res["floor"]
    res.update(
        stored=stats["stored"],
        duplicates=stats["duplicates"],
        records_per_s=res["timed"] / res["wall_s"],
        cpu_us_per_record=res["cpu_s"] / res["timed"] * 1e6,
        floor_cpu_us_per_call=floor["cpu_s"] / floor["calls"] * 1e6 if floor["calls"] else 0.0,
        floor_call_us_p50=floor["call_us_p50"],
        floor_call_cpu_us_p50=floor["call_cpu_us_p50"],
        floor_call_cpu_us_p10=floor["call_cpu_us_p10"],
    )
    if run.outage_records:
        emu.set_faults(outage=True)
        try:
            t0 = time.perf_counter()
            proc.stdin.write("go\n")
            proc.stdin.flush()
            res["outage"] = _line(proc, run.side)
            proc.wait(CHILD_TIMEOUT_S)
            res["outage"]["exit_s"] = time.perf_counter() - t0
        finally:
            emu.set_faults(None)  # the service is back
        down = res["outage"]
        down["stored_after_exit"] = emu.stats()["stored"] - run.records
        down["replayed_next_run"] = 0
        if spool is not None:  # the application starts again: its tracker replays the spool
            replay = Tracker(Settings(emu.api_key, emu.base_url), spool=spool).close()
            down["replayed_next_run"] = replay.replayed
        down["stored"] = emu.stats()["stored"] - run.records
        down["lost"] = down["made"] - down["stored"]
        res["duplicates"] = emu.stats()["duplicates"]
    _, res["log"] = proc.communicate(timeout=CHILD_TIMEOUT_S)
    if spool is not None:  # the spool's folder is this run's own: nothing left in /tmp
        shutil.rmtree(Path(spool).parent, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"side={run.side!r} exited {proc.returncode}: {res['log'][-2000:]}")
    return res


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    head = "  ".join(f"{c:>18}" for c in cols)
    body = [
        "  ".join(f"{r[c]:>18,.1f}" if isinstance(r[c], float) else f"{r[c]!s:>18}" for c in cols)
        for r in rows
    ]
    return "\n".join([head, *body])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--floor-calls", type=int, default=2_000, help="bare client calls per run")
    ap.add_argument("--outage", type=int, default=0, help="calls made while the service is down")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        meter_calls(Run(**json.loads(args.child)))
        return

    from showcase_lib.emulator import Emulator

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"load average before: {os.getloadavg()}")
    print(f"{args.records:,} records per run, {args.runs} runs, emulator in its own process")
    rows, loss = [], []
    with Emulator(process=True) as emu:
        for side in SIDES:
            floor = args.floor_calls if side in WITH_CLIENT else 0
            rs = []
            for i in range(args.runs):
                outage = args.outage if i == 0 and side in WITH_CLIENT else 0
                r = run_side(emu, Run(side, args.records, "", "", floor, outage))
                assert (r["stored"], r["duplicates"], r["left"]) == (args.records, 0, 0), r
                rs.append(r)
                if outage:
                    loss.append(r["outage"])
            rate = sorted(r["records_per_s"] for r in rs)
            cpu = sorted(r["cpu_us_per_record"] for r in rs)
            floor_cpu = statistics.median(r["floor_cpu_us_per_call"] for r in rs)
            rows.append(
                {
                    "side": side,
                    "records/s min": rate[0],
                    "records/s median": statistics.median(rate),
                    "CPU us/rec min": cpu[0],
                    "CPU us/rec median": statistics.median(cpu),
                    "client-only CPU us": floor_cpu,
                    "metering CPU us/rec": statistics.median(cpu) - floor_cpu,
                    "call us p50": statistics.median(r["call_us_p50"] for r in rs),
                    "bare call us p50": statistics.median(r["floor_call_us_p50"] for r in rs),
                    "caller CPU us p10": statistics.median(r["call_cpu_us_p10"] for r in rs),
                    "bare caller CPU p10": statistics.median(
                        r["floor_call_cpu_us_p10"] for r in rs
                    ),
                }
            )
    print(_table(rows, list(rows[0])))
    print("every run: each record stored exactly once (asserted)")
    if loss:
        print(f"\nservice down while the process makes {args.outage:,} calls and exits:")
        cols = ["side", "made", "stored_after_exit", "replayed_next_run", "stored", "lost"]
        print(_table(loss, [*cols, "exit_s"]))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
