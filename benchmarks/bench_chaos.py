"""Chaos benchmark of metering: records through faults, restarts and SIGKILLs (figures printed).

Three runs, each against the emulator in a separate process on loopback, under the same fault
mix (20% 5xx, 10% 429 with Retry-After, 1% dropped connections, 2% lost responses, 0.2%
hangs past the client timeout):

1. ``tracker`` - the fire-and-forget Tracker in-process (durable spool), an emulator restart
   halfway: tracked / delivered / stored / lost / duplicated.
2. ``tracker-kill`` - a Tracker in a child process (durable spool) under the faults, then an
   outage from 30% of the records (the breaker opens, records go to the spool), SIGKILLed
   mid-run; the emulator restarted at the kill (faults, no outage), and a fresh Tracker on the same spool file replaying the
   backlog. Records the child had durably accepted (delivered or spooled, checked with
   ``flush(spool=False)`` before the kill) must all be stored once; records still in its
   memory queue at the kill are lost by design, and counted separately.
3. ``backfill-kill`` - a backfill process SIGKILLed at ~60% and resumed from its checkpoint,
   an emulator restart at ~30%.

Usage::

    .venv/bin/python benchmarks/bench_chaos.py                 # 50,000 records each (minutes)
    .venv/bin/python benchmarks/bench_chaos.py --records 5000  # a smoke run
    .venv/bin/python benchmarks/bench_chaos.py --only tracker tracker-kill
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from showcase_lib.emulator import Emulator
from showcase_lib.metering import BreakerPolicy, Delivery, RetryPolicy, Settings, Tracker

HERE = Path(__file__).resolve()
BENCH_METERING = HERE.parent / "bench_metering.py"  # its --make-data writes the Parquet file
#: The kill comes this long after the child reported its durable point: long enough for it to
#: track (and partly deliver) thousands more records, so the kill lands mid-flight.
KILL_DELAY_S = 0.5


def show(title: str, data: dict) -> None:
    print(f"\n== {title}")
    for k, v in data.items():
        print(f"  {k:<40} {v}")
    sys.stdout.flush()


CHAOS_FAULTS = {
    "error_rate": 0.20,
    "rate_limit_rate": 0.10,
    "retry_after_s": 0.05,
    "drop_rate": 0.01,
    "lost_response_rate": 0.02,
    "hang_rate": 0.002,
    "hang_s": 1.0,
    "seed": 42,
}
CHAOS_RETRY = RetryPolicy(max_retries=8, initial_s=0.02, max_s=0.5, jitter_s=0.02)


def bench_tracker(n: int) -> dict:
    """Fire-and-forget tracker in-process, faults + an emulator restart mid-run."""
    with tempfile.TemporaryDirectory() as tmp, Emulator(process=True, faults=CHAOS_FAULTS) as emu:
        settings = Settings(emu.api_key, emu.base_url, timeout_s=0.5, connect_timeout_s=0.5)
        tracker = Tracker(
            settings,
            delivery=Delivery(
                retry=CHAOS_RETRY, breaker=BreakerPolicy(reset_timeout_s=0.5), concurrency=64
            ),
            spool=os.path.join(tmp, "spool.db"),
        )
        t0 = time.perf_counter()
        ids = set()
        for i in range(n):
            ids.add(
                tracker.track(
                    "openai",
                    "gpt-4o-mini",
                    100 + i % 50,
                    20,
                    800,
                    customer_id=f"cust_{i % 97:04d}",
                    feature_id="chat",
                )
            )
            if i == n // 2:
                emu.restart()
            if i % 5000 == 0:
                time.sleep(0.05)
        ok = tracker.flush(900)
        stats = tracker.close()
        elapsed = time.perf_counter() - t0
        df = emu.records()
        stored, distinct = len(df), df["call_id"].nunique()
        lost = len(ids - set(df["call_id"]))
        es = emu.stats()
    return {
        "records": n,
        "flushed": ok,
        "elapsed_s": round(elapsed, 1),
        "tracked": stats.tracked,
        "delivered": stats.delivered,
        "retried": stats.retried,
        "spooled": stats.spooled,
        "replayed": stats.replayed,
        "failed": stats.failed,
        "dropped": stats.dropped,
        "invalid": stats.invalid,
        "pending_at_close": stats.pending,
        "invariant_holds": stats.check_invariant(),
        "requests": stats.requests,
        "breaker_transitions": tracker.breaker.transition_count,
        "emulator_stored": stored,
        "lost": lost,
        "stored_twice": stored - distinct,
        "emulator_duplicate_requests_deduped": es["duplicates"],
        "faults_injected_after_restart": es["faults"],
    }


def _spool_backlog(path: str) -> int:
    if not os.path.exists(path):
        return 0
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM spool").fetchone()[0]
    finally:
        con.close()


def _lines(path: str) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0


def _child(spool: str, ids_path: str, marker: str, n: int, base_url: str) -> None:
    """The tracked process: track n records, mark the durable point at 60%, go on until killed."""
    settings = Settings(
        os.environ["REVENIUM_METERING_API_KEY"], base_url, timeout_s=0.5, connect_timeout_s=0.5
    )
    delivery = Delivery(retry=CHAOS_RETRY, breaker=BreakerPolicy(reset_timeout_s=0.5))
    tracker = Tracker(settings, delivery=delivery, spool=spool)
    durable_at = int(0.6 * n)
    with open(ids_path, "w", buffering=1) as ids:  # line-buffered: each id is written at once
        for i in range(n):
            ids.write(tracker.track("openai", "gpt-4o-mini", 100, 20, 800, call_id=f"k-{i}") + "\n")
            if i + 1 == durable_at:
                tracker.flush(600, spool=False)  # every record so far delivered or on disk
                s = tracker.stats
                Path(marker).write_text(
                    json.dumps({"durable_upto": durable_at, "delivered": s.delivered})
                )
            if i % 2000 == 0:
                time.sleep(0.02)  # paced a little, like an application
    time.sleep(3600)  # wait for the SIGKILL


def bench_tracker_kill(n: int) -> dict:
    """A tracker process SIGKILLed mid-run; a fresh tracker replays its durable spool."""
    with tempfile.TemporaryDirectory() as tmp:
        spool, ids_path, marker = (os.path.join(tmp, f) for f in ("s.db", "ids.txt", "m.json"))
        with Emulator(process=True, faults=CHAOS_FAULTS) as emu:
            env = dict(os.environ, REVENIUM_METERING_API_KEY=emu.api_key)
            cmd = [sys.executable, str(HERE), "--child", spool, ids_path, marker, str(n)]
            t0 = time.perf_counter()
            proc = subprocess.Popen([*cmd, emu.base_url], env=env)
            outage_at = None
            try:
                while not os.path.exists(marker) and proc.poll() is None:
                    time.sleep(0.05)
                    if outage_at is None and _lines(ids_path) >= 0.3 * n:
                        # the service goes down: the breaker opens and the child spools
                        outage_at = _lines(ids_path)
                        emu.set_faults({**CHAOS_FAULTS, "outage": True})
                time.sleep(KILL_DELAY_S)
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            durable = json.loads(Path(marker).read_text())
            tracked = [line for line in Path(ids_path).read_text().splitlines() if line]
            backlog = _spool_backlog(spool)
            stored_at_kill = emu.stats()["in_store"]
            emu.restart()  # back up, with the fault mix but no outage
            emu.set_faults(CHAOS_FAULTS)
            settings = Settings(emu.api_key, emu.base_url, timeout_s=0.5, connect_timeout_s=0.5)
            delivery = Delivery(retry=CHAOS_RETRY, breaker=BreakerPolicy(reset_timeout_s=0.5))
            replay = Tracker(settings, delivery=delivery, spool=spool)
            replay.flush(900)
            stats = replay.close(timeout=60)
            elapsed = time.perf_counter() - t0
            got = list(emu.records()["call_id"])
    stored = set(got)
    before = set(tracked[: durable["durable_upto"]])
    after = set(tracked[durable["durable_upto"] :])
    return {
        "records_tracked_by_killed_process": len(tracked),
        "outage_from_record": outage_at,
        "durably_accepted_before_kill": len(before),
        "delivered_by_killed_process_at_mark": durable["delivered"],
        "stored_at_kill": stored_at_kill,
        "spool_backlog_at_kill": backlog,
        "replayed_by_next_tracker": stats.replayed,
        "replay_inherited": stats.inherited,
        "replay_invariant_holds": stats.check_invariant(),
        "emulator_stored": len(got),
        "lost_of_durably_accepted": len(before - stored),
        "lost_in_memory_at_sigkill (tracked after the mark)": len(after - stored),
        "duplicated": len(got) - len(stored),
        "elapsed_s": round(elapsed, 1),
    }


def bench_backfill_kill(n: int) -> dict:
    """Backfill process under faults: emulator restart at ~30%, SIGKILL at ~60%, resume."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chaos.parquet")
        ckpt = os.path.join(tmp, "chaos.ckpt.json")
        subprocess.run(
            [sys.executable, str(BENCH_METERING), "--make-data", path, str(n), "7"], check=True
        )
        import pandas as pd

        want = set(pd.read_parquet(path, columns=["call_id"])["call_id"])
        with Emulator(
            process=True, faults=CHAOS_FAULTS, db_path=os.path.join(tmp, "emu.sqlite")
        ) as emu:
            env = dict(os.environ, REVENIUM_METERING_API_KEY=emu.api_key)
            cmd = [
                sys.executable,
                "-m",
                "showcase_lib.metering",
                "backfill",
                path,
                "--base-url",
                emu.base_url,
                "--checkpoint",
                ckpt,
                "--concurrency",
                "64",
                "--max-retries",
                "8",
                "--close-timeout",
                "600",
            ]
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            restarted = killed_at = None
            while proc.poll() is None:
                time.sleep(0.05)
                try:
                    done = json.loads(Path(ckpt).read_text())["rows_committed"]
                except (OSError, ValueError):
                    continue
                if restarted is None and done >= 0.3 * n:
                    emu.restart()
                    restarted = done
                if done >= 0.6 * n:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_at = done
                    break
            proc.wait()
            spool_backlog = 0
            spool_db = ckpt + ".spool.db"
            if os.path.exists(spool_db):
                import sqlite3

                con = sqlite3.connect(spool_db)
                spool_backlog = con.execute("SELECT COUNT(*) FROM spool").fetchone()[0]
                con.close()
            stored_at_kill = emu.stats()["in_store"]
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - t0
            df = emu.records()
            es = emu.stats()
        got = list(df["call_id"])
        return {
            "records": n,
            "elapsed_s": round(elapsed, 1),
            "restart_at_committed": restarted,
            "sigkill_at_committed": killed_at,
            "stored_at_kill": stored_at_kill,
            "spool_backlog_at_kill": spool_backlog,
            "emulator_stored": len(got),
            "lost": len(want - set(got)),
            "stored_twice": len(got) - len(set(got)),
            "unexpected": len(set(got) - want),
            "duplicate_requests_deduped_after_restart": es["duplicates"],
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=["tracker", "tracker-kill", "backfill-kill"],
    )
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        spool, ids_path, marker, n, base_url = a.child
        _child(spool, ids_path, marker, int(n), base_url)
        return
    only = set(a.only or ["tracker", "tracker-kill", "backfill-kill"])
    n = a.records
    if "tracker" in only:
        show("chaos: fire-and-forget tracker, emulator restart", bench_tracker(n))
    if "tracker-kill" in only:
        show(
            "chaos: tracker SIGKILLed (durable spool), replayed by the next", bench_tracker_kill(n)
        )
    if "backfill-kill" in only:
        show("chaos: backfill SIGKILLed and resumed, emulator restart", bench_backfill_kill(n))


if __name__ == "__main__":
    main()
