"""What the tracker tells the outside: counters (:class:`TrackerStats`), timeline, health.

Every counter is a plain ``int``: the hot-path counter ``tracked`` is guarded by a lock, the
others are written by the worker thread only (or under the same lock, when the caller's
thread spools an overflowing record). Reading them needs nothing but attribute access, so
``stats``, ``close()`` and ``repr`` work the same on every Python version.

Example:
    >>> TrackerStats(tracked=2, delivered=2).pending
    0
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from showcase_lib.metering._breaker import CLOSED, OPEN

#: Timeline samples kept: 200,000 tuples of 11 numbers (about 20 MB) are 5.5 hours at the
#: default 0.1 s interval; older samples are dropped.
MAX_SAMPLES = 200_000


@dataclass(frozen=True)
class TrackerStats:
    """A snapshot of the counters (monotonic) and gauges (current levels).

    ``pending`` = queued + in flight + spool backlog. In one process with no crash,
    ``tracked == delivered + failed + dropped + pending``.

    Example:
        >>> TrackerStats().pending
        0
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

    @property
    def pending(self) -> int:
        """Records not settled yet: queued, in flight or in the spool's backlog."""
        return self.queue_depth + self.in_flight + self.spool_backlog

    def as_dict(self) -> dict[str, Any]:
        """All fields plus ``pending``.

        Example:
            >>> TrackerStats(tracked=3, queue_depth=3).as_dict()["pending"]
            3
        """
        return {**asdict(self), "pending": self.pending}


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
        """Counters and gauges now (safe to read from any thread).

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> Tracker(Settings("k", "http://127.0.0.1:9"), start=False).stats.pending
            0
        """
        t = self._transport
        ready = getattr(self, "_ready", None)
        return TrackerStats(
            tracked=self._tracked,
            delivered=self._delivered,
            retried=self._retried,
            failed=self._failed,
            spooled=self._spooled,
            replayed=self._replayed,
            dropped=self._dropped,
            overflowed=self._overflowed,
            invalid=self._invalid,
            requests=t.requests if t else 0,
            connections=t.connections if t else 0,
            flushes=self._flushes,
            queue_depth=len(self._q) + (ready.qsize() if ready is not None else 0),
            in_flight=self._busy + len(self._retry_tasks),
            spool_backlog=len(self.spool),
            dead_letters=self.spool.dead_count(),
            breaker_state=self.breaker.state.value,
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
