"""What the tracker tells the outside: counters (:class:`TrackerStats`), timeline, health.

Every counter is a plain ``int``: the hot-path counter ``tracked`` (and the queue it feeds)
is guarded by a lock, the others are written by the worker thread only (or under a second
lock, when the caller's thread drops an overflowing record). ``stats`` is read on the worker's
event loop, between two of its steps, so one snapshot is consistent:
``tracked + inherited == delivered + failed + dropped + invalid + pending`` holds in every
snapshot (:meth:`TrackerStats.check_invariant`), not only after ``close()``.

Example:
    >>> TrackerStats(tracked=2, delivered=2).check_invariant()
    True
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from showcase_lib.metering._breaker import CLOSED, OPEN

#: Timeline samples kept: 200,000 tuples of 11 numbers (about 20 MB) are 5.5 hours at the
#: default 0.1 s interval; older samples are dropped.
MAX_SAMPLES = 200_000
#: ``stats`` waits this long for the worker's loop to take its snapshot; past it (a loop busy
#: in a long spool write) the counters are read directly, possibly mid-step.
_SNAPSHOT_WAIT_S = 2.0


@dataclass(frozen=True)
class TrackerStats:
    """A snapshot of the counters (monotonic) and gauges (current levels).

    Every record tracked is in exactly one of: ``delivered``, ``failed`` (rejected by the
    service, or an unexpected error while sending: dead-lettered), ``dropped`` (overflow, a
    memory spool evicting or closing), ``invalid`` (could not be prepared: dead-lettered) or
    ``pending`` (queued, held by the worker, in flight or in the spool's backlog). So
    ``tracked + inherited == delivered + failed + dropped + invalid + pending``
    (:meth:`check_invariant`), where ``inherited`` counts records found in a durable spool at
    start. ``reasons`` breaks failed, dropped and invalid down by reason. The gauges
    ``queue_depth``, ``in_flight`` and ``spool_backlog`` show where pending records wait.

    Example:
        >>> s = TrackerStats(tracked=3, delivered=1, invalid=1, pending=1,
        ...                  reasons={"invalid: encoding (UnicodeEncodeError)": 1})
        >>> s.check_invariant(), s.undelivered
        (True, 2)
    """

    tracked: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    spooled: int = 0
    replayed: int = 0
    dropped: int = 0
    overflowed: int = 0
    invalid: int = 0
    requests: int = 0
    connections: int | None = 0
    flushes: int = 0
    queue_depth: int = 0
    in_flight: int = 0
    spool_backlog: int = 0
    dead_letters: int = 0
    breaker_state: str = CLOSED.value
    pending: int = 0
    inherited: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def undelivered(self) -> int:
        """Records tracked (or inherited) and not delivered: failed, dropped, invalid, pending.

        Example:
            >>> TrackerStats(tracked=5, delivered=4, pending=1).undelivered
            1
        """
        return self.tracked + self.inherited - self.delivered

    def check_invariant(self) -> bool:
        """``tracked + inherited == delivered + failed + dropped + invalid + pending``.

        Example:
            >>> TrackerStats(tracked=2, delivered=1).check_invariant()
            False
        """
        settled = self.delivered + self.failed + self.dropped + self.invalid
        return self.tracked + self.inherited == settled + self.pending

    def as_dict(self) -> dict[str, Any]:
        """All fields plus ``undelivered``.

        Example:
            >>> TrackerStats(tracked=3, pending=3).as_dict()["undelivered"]
            3
        """
        return {**asdict(self), "undelivered": self.undelivered}


class _Observability:
    """Mixin of :class:`Tracker`: counters, timeline samples, transitions and health."""

    def _sample(self) -> None:
        t = self._transport
        self._samples.append(
            (
                time.monotonic() - self._t0,
                self.breaker.state.value,
                len(self._q) + self._ready.qsize(),
                self._busy + len(self._retry_tasks),
                len(self.spool),
                self._delivered,
                self._spooled,
                self._failed,
                self._dropped,
                self._retried,
                t.requests if t else 0,
            )
        )

    async def _sampler(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.delivery.sample_interval_s)

    def timeline(self) -> pd.DataFrame:
        """Samples over time for charts: t_s, state, queue, in_flight, spool_backlog, counters.

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> Tracker(Settings("k", "http://127.0.0.1:9"), start=False).timeline().shape[0]
            0
        """
        cols = [
            "t_s",
            "state",
            "queue",
            "in_flight",
            "spool_backlog",
            "delivered",
            "spooled",
            "failed",
            "dropped",
            "retried",
            "requests",
        ]
        return pd.DataFrame(list(self._samples), columns=cols)

    def transitions(self) -> pd.DataFrame:
        """The breaker's transitions: time on the breaker clock (``at``), ``t_s`` on the
        timeline's axis (seconds since the tracker started; NaN with a custom clock), from,
        to and reason (the breaker keeps its last ``MAX_TRANSITIONS``).

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> list(Tracker(Settings("k", "http://127.0.0.1:9"), start=False).transitions())
            ['at', 't_s', 'from_state', 'to_state', 'reason']
        """
        rows = [
            {**asdict(t), "from_state": t.from_state.value, "to_state": t.to_state.value}
            for t in self.breaker.transitions
        ]
        df = pd.DataFrame(rows, columns=["at", "from_state", "to_state", "reason"])
        real = self.breaker.clock is time.monotonic
        df.insert(1, "t_s", df["at"] - self._t0 if real else float("nan"))
        return df

    @property
    def stats(self) -> TrackerStats:
        """Counters and gauges now (safe to read from any thread; one consistent snapshot).

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> Tracker(Settings("k", "http://127.0.0.1:9"), start=False).stats.pending
            0
        """
        loop, thread = self._loop, self._thread
        if (
            loop is None
            or thread is None
            or not thread.is_alive()
            or threading.get_ident() == thread.ident
        ):
            return self._snapshot()
        fut: Future = Future()

        def take() -> None:
            if not fut.done():
                fut.set_result(self._snapshot())

        try:
            loop.call_soon_threadsafe(take)
            return fut.result(_SNAPSHOT_WAIT_S)
        except (RuntimeError, FutureTimeout):  # loop closed or busy: read directly
            return self._snapshot()

    def _snapshot(self) -> TrackerStats:
        t = self._transport
        ready = getattr(self, "_ready", None)
        with self._tracked_lock, self._counts_lock:
            tracked, waiting = self._tracked, len(self._q) + len(self._spill)
            dropped, invalid, failed = self._dropped, self._invalid, self._failed
            reasons = dict(self._reasons)
        backlog = len(self.spool)
        return TrackerStats(
            tracked=tracked,
            delivered=self._delivered,
            retried=self._retried,
            failed=failed,
            spooled=self._spooled,
            replayed=self._replayed,
            dropped=dropped,
            overflowed=self._overflowed,
            invalid=invalid,
            requests=t.requests if t else 0,
            connections=t.connections if t else 0,
            flushes=self._flushes,
            queue_depth=waiting + (ready.qsize() if ready is not None else 0),
            in_flight=self._busy + len(self._retry_tasks),
            spool_backlog=backlog,
            dead_letters=self.spool.dead_count(),
            breaker_state=self.breaker.state.value,
            pending=waiting + self._held + len(self._to_spool) + backlog - len(self._acks),
            inherited=self._inherited,
            reasons=reasons,
        )

    def health(self, *, probe: bool = True, timeout: float = 5.0) -> dict[str, Any]:
        """Health check: the service probe, breaker state, last success, backlog.

        ``status`` is ``"ok"`` (breaker closed, service reachable), ``"degraded"`` (backlog
        or breaker half-open) or ``"down"`` (breaker open or service unreachable).

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> h = Tracker(Settings("k", "http://127.0.0.1:9"), start=False).health(probe=False)
            >>> h["breaker"], h["backlog"]
            ('closed', 0)
        """
        s = self.stats
        out: dict[str, Any] = {
            "breaker": s.breaker_state,
            "last_success_age_s": (
                None if self._last_success is None else round(time.time() - self._last_success, 3)
            ),
            "last_error": self._last_error,
            "backlog": s.pending,
            "spool_backlog": s.spool_backlog,
            "delivered": s.delivered,
            "failed": s.failed,
            "dropped": s.dropped,
            "service": None,
        }
        if probe and self._loop is not None and self._transport is not None and not self._closed:
            fut = asyncio.run_coroutine_threadsafe(self._transport.probe(), self._loop)
            try:
                out["service"] = fut.result(timeout)
            except FutureTimeout:
                fut.cancel()
                out["service"] = {
                    "reachable": False,
                    "status": None,
                    "error": "timeout",
                    "latency_ms": timeout * 1000,
                }
        reachable = out["service"]["reachable"] if out["service"] else True
        if s.breaker_state == OPEN or not reachable:
            out["status"] = "down"
        elif s.breaker_state != CLOSED or s.spool_backlog > 0:
            out["status"] = "degraded"
        else:
            out["status"] = "ok"
        return out
