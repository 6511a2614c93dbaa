"""The durable spool survives ``kill -9`` of the tracker process; the next run replays it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from showcase_lib.emulator import Emulator
from showcase_lib.metering import Settings, Tracker

CHILD = textwrap.dedent("""
    import os, sys, time
    from showcase_lib.metering import BreakerPolicy, Delivery, RetryPolicy, Settings, Tracker
    n = int(sys.argv[2])
    settings = Settings.from_env(timeout_s=1.0)
    delivery = Delivery(concurrency=8, breaker=BreakerPolicy(3, 0.2),
                        retry=RetryPolicy(max_retries=2, initial_s=0.01, max_s=0.05, jitter_s=0.01))
    t = Tracker(settings, spool=sys.argv[1], delivery=delivery)
    for i in range(n):
        t.track("openai", "gpt-4o-mini", 100 + i, 20, 500, call_id=f"kill-{i:05d}",
                customer_id="cust_0001", feature_id="chat")
    t.flush(60, spool=False)   # every record is delivered or committed to the spool
    s = t.stats
    print("READY", s.delivered, s.spooled, s.replayed, s.spool_backlog, flush=True)
    time.sleep(600)            # killed here, before any graceful close
""")


def _run_child_and_kill(tmp_path, emu: Emulator, n: int) -> tuple[int, int, int, int]:
    """Run the child, kill it once it says READY; return its delivered, spooled, replayed
    and spool backlog counts at that moment."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(
        os.environ, REVENIUM_METERING_API_KEY=emu.api_key, REVENIUM_METERING_BASE_URL=emu.base_url
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "spool.db"), str(n)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY"), proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    _, delivered, spooled, replayed, backlog = line.split()
    return int(delivered), int(spooled), int(replayed), int(backlog)


def test_spool_replayed_exactly_once_after_sigkill_during_an_outage(tmp_path):
    n = 500
    with Emulator() as emu:
        emu.set_faults(outage=True)
        delivered, spooled, _, _ = _run_child_and_kill(tmp_path, emu, n)
        assert (delivered, spooled) == (0, n)
        assert len(emu.records()) == 0
        emu.set_faults(None)
        t = Tracker(Settings(emu.api_key, emu.base_url), spool=tmp_path / "spool.db")
        stats = t.close()
        assert stats.replayed == n and stats.spool_backlog == 0
        df = emu.records()
        assert len(df) == df["call_id"].nunique() == n
        assert set(df["call_id"]) == {f"kill-{i:05d}" for i in range(n)}


@pytest.mark.slow
def test_partial_delivery_then_sigkill_stores_each_record_once(tmp_path):
    """Some records delivered, some spooled, some stored but answered with a dropped
    connection (so the child spooled them): the replay's idempotency keys dedupe them."""
    n = 800
    with Emulator() as emu:
        emu.set_faults(error_rate=0.3, lost_response_rate=0.2, seed=11)
        delivered, spooled, replayed, backlog = _run_child_and_kill(tmp_path, emu, n)
        # the child may already have replayed some spooled records before it was killed
        # (the breaker closes between errors): those count in both delivered and spooled
        assert delivered - replayed + spooled == n and spooled > 0
        emu.set_faults(None)
        stats = Tracker(Settings(emu.api_key, emu.base_url), spool=tmp_path / "spool.db").close()
        assert stats.replayed <= backlog  # replays after READY may have been acknowledged
        df = emu.records()
        assert len(df) == df["call_id"].nunique() == n
        assert emu.stats()["duplicates"] >= 0
