"""The fire-and-forget tracker: ``track()`` returns at once, a background worker delivers.

``track()`` is the only thing on the AI call's path: it checks the field names, mints the
transaction id, packs a tuple, appends it to a bounded ``deque`` and returns the id; it never
blocks on the network or the disk (whatever the overflow policy), and raises only for an
unknown field name (a ``TypeError`` naming the closest field). The tracker owns a background thread that runs
an asyncio event loop, so it works the same from a script, a Flask/Django request thread, a
thread pool or inside a running event loop (a notebook, FastAPI).

The class is assembled from three concerns, one module each:

* :mod:`._enqueue`: the caller's side (``track``, ``track_record``, ``submit``, overflow);
* :mod:`._worker`: the worker thread (preparation, dispatch, senders, retries, spool);
* :mod:`._stats`: what it reports (:class:`TrackerStats`, ``timeline``, ``health``).

This module holds construction, start, flush and close. Options travel in frozen groups
(:class:`Delivery`, :class:`Overflow`), so a typo fails when the group is built.

Counters (:class:`TrackerStats`): tracked, delivered, retried, failed, spooled, replayed,
dropped, invalid, plus requests, connections, flushes and live gauges. Nothing is lost
silently: every record is delivered, failed (dead-lettered, with its reason), invalid
(could not be prepared: dead-lettered, with its reason), dropped (counted, with its reason,
and logged) or pending, and ``tracked + inherited == delivered + failed + dropped + invalid +
pending`` holds in every snapshot (:meth:`TrackerStats.check_invariant`).

Example:
    >>> from showcase_lib.metering import Delivery, Settings, Tracker
    >>> t = Tracker(Settings("hak_demo", "http://127.0.0.1:9"), start=False)
    >>> t.stats.tracked, t.delivery.concurrency
    (0, 64)
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from showcase_lib.metering._breaker import CircuitBreaker
from showcase_lib.metering._config import Delivery, Overflow
from showcase_lib.metering._context import Enricher
from showcase_lib.metering._enqueue import _Enqueue
from showcase_lib.metering._ratelimit import TokenBucket
from showcase_lib.metering._retry import RetryPolicy
from showcase_lib.metering._settings import Settings
from showcase_lib.metering._spool import Envelope, MemorySpool, Spool
from showcase_lib.metering._stats import MAX_SAMPLES, TrackerStats, _Observability
from showcase_lib.metering._transport import Transport
from showcase_lib.metering._worker import _Worker

#: Records waiting for a retry in a task of their own, per connection: 16 x 64 = 1,024 at the
#: default concurrency. A backoff sleep must not hold a sender slot, but beyond this bound a
#: retry waits inline in its sender, which slows intake instead of growing memory.
_RETRYING_PER_CONNECTION = 16

#: The token bucket's burst: 50 ms worth of requests. A quota is rarely meant as "double the
#: rate in the first second", and 50 ms absorbs the worker's wake-up jitter.
_BURST_S = 0.05


class Tracker(_Enqueue, _Worker, _Observability):
    """Asynchronous, fire-and-forget metering with retries, a circuit breaker and a spool.

    Args:
        settings: where to send and with which key (:class:`Settings`).
        delivery: a :class:`Delivery` (transport, concurrency, batching, rate limit, retry
            policy, breaker policy, sampling); default ``Delivery()``.
        spool: a :class:`Spool`, a path (a durable SQLite spool there), a :class:`MemorySpool`,
            or ``None`` (a MemorySpool of 20,000 records, like the official SDK).
        overflow: an :class:`Overflow` (queue bound and what happens beyond it).
        start: start the background thread now (else call :meth:`start`, or use ``with``).

    Per-tracker enrichment hooks are added with :meth:`add_enrichers` (global ones with
    :func:`add_enricher`).

    Example:
        >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), delivery=Delivery(batch_size=10),
        ...             overflow=Overflow(policy="drop_newest"), start=False)
        >>> t.delivery.batch_size, t.overflow.policy
        (10, 'drop_newest')
    """

    def __init__(
        self,
        settings: Settings,
        *,
        delivery: Delivery | None = None,
        spool: Spool | MemorySpool | str | Path | None = None,
        overflow: Overflow | None = None,
        start: bool = True,
    ) -> None:
        delivery = delivery if delivery is not None else Delivery()
        overflow = overflow if overflow is not None else Overflow()
        if not isinstance(delivery, Delivery):
            raise TypeError(f"delivery={delivery!r} must be a Delivery")
        if not isinstance(overflow, Overflow):
            raise TypeError(f"overflow={overflow!r} must be an Overflow")
        self.settings = settings
        self.delivery = delivery
        self.overflow = overflow
        if spool is None:
            spool = MemorySpool()
        elif isinstance(spool, str | Path):
            spool = Spool(spool)
        self.spool: Spool | MemorySpool = spool
        # the policy in force ("auto" resolved once the spool is known)
        policy = overflow.policy
        if policy == "auto":
            policy = "spool" if spool.durable else "drop_oldest"
        self._overflow_policy = policy
        self.retry = delivery.retry or RetryPolicy(max_retries=settings.max_retries)
        b = delivery.breaker
        self.breaker = b if isinstance(b, CircuitBreaker) else CircuitBreaker(b)
        rate = delivery.rate_limit
        self.bucket = TokenBucket(rate, max(1.0, rate * _BURST_S)) if rate else None
        self._hooks: tuple[Enricher, ...] = ()
        self._on_settled: Callable[[Envelope, str], None] | None = None
        self._max_retrying = _RETRYING_PER_CONNECTION * delivery.concurrency

        # hot-path state (touched from any thread)
        self._q: collections.deque = collections.deque()
        # overflow with policy "spool": records the worker writes to the spool first (the
        # caller's thread never touches SQLite); bounded by max_queue too
        self._spill: collections.deque = collections.deque()
        self._overflow_logged_at = -float("inf")
        self._overflow_unlogged = 0
        self._tracked = 0
        self._tracked_lock = threading.Lock()
        self._wake_pending = False
        self._closed = False
        self._spool_open = True

        # worker state (written by the loop thread, or under _counts_lock; read anywhere)
        self._delivered = self._retried = self._failed = self._spooled = 0
        self._replayed = self._dropped = self._overflowed = self._invalid = 0
        self._flushes = 0
        self._held = 0  # fresh envelopes the worker holds (prepared, queued, in flight)
        self._reasons: collections.Counter[str] = collections.Counter()
        # records found in a durable spool at start (a previous run's backlog): they settle
        # here like tracked ones, so the invariant adds them to ``tracked``
        self._inherited = len(spool)
        self._busy = 0
        self._retry_tasks: set[asyncio.Task] = set()
        self._to_spool: list[Envelope] = []
        self._acks: list[Envelope] = []
        self._waiters: list[tuple[Future, bool, bool]] = []
        self._last_success: float | None = None
        self._last_error: str | None = None
        self._samples: collections.deque = collections.deque(maxlen=MAX_SAMPLES)
        self._t0 = time.monotonic()
        self._counts_lock = threading.Lock()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None
        self._stop_requested = False
        self._ready_ev = threading.Event()
        self._start_error: BaseException | None = None
        if start:
            self.start()

    def add_enrichers(self, *hooks: Enricher) -> Tracker:
        """Add hooks ``fn(record) -> dict`` run in the worker for this tracker; return it.

        They run before the global hooks of :func:`add_enricher`, fill missing tags only
        (an explicit tag always wins), and apply to every record prepared from now on.

        Example:
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> t.add_enrichers(lambda rec: {"environment": "production"}) is t
            True
        """
        self._hooks = (*self._hooks, *hooks)
        return self

    # ------------------------------------------------------------------ lifecycle
    def __repr__(self) -> str:
        s = self.stats
        return (
            f"Tracker(url={self.settings.completions_url!r}, tracked={s.tracked}, "
            f"delivered={s.delivered}, pending={s.pending}, breaker={s.breaker_state!r})"
        )

    def start(self) -> Tracker:
        """Start the background thread and its event loop (idempotent).

        Example:
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> t.start() is t
            True
            >>> t.close(timeout=1).tracked
            0
        """
        if self._thread is not None:
            return self
        self._thread = threading.Thread(
            target=self._thread_main, name="revenium-tracker", daemon=True
        )
        self._thread.start()
        self._ready_ev.wait(30)
        if self._start_error is not None:
            raise RuntimeError(f"tracker failed to start: {self._start_error}") from None
        ref = weakref.ref(self)
        self._atexit = lambda: (t := ref()) is not None and t.close(timeout=5.0)
        atexit.register(self._atexit)
        return self

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    async def __aenter__(self) -> Tracker:
        return self.start()

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ flush / close
    def _request_flush(self, with_spool: bool, while_up: bool = False) -> Future:
        fut: Future = Future()
        loop = self._loop
        if loop is None or self._thread is None or not self._thread.is_alive():
            fut.set_result(not self._q and not self._spill and len(self.spool) == 0)
            return fut

        def _add() -> None:
            self._waiters.append((fut, with_spool, while_up))
            self._wake.set()

        loop.call_soon_threadsafe(_add)
        return fut

    def flush(self, timeout: float = 30.0, *, spool: bool = True) -> bool:
        """Wait until everything tracked so far is delivered, failed or durably spooled.

        With ``spool=True`` also wait for the spool's backlog to be replayed (while the
        service is down this waits up to ``timeout``). Returns True when nothing is pending.
        Never raises on timeout (returns False).

        Example:
            >>> Tracker(Settings("k", "http://127.0.0.1:9"), start=False).flush(0.1)
            True
        """
        fut = self._request_flush(spool)
        try:
            return bool(fut.result(timeout))
        except FutureTimeout:
            return False

    async def aflush(self, timeout: float = 30.0, *, spool: bool = True) -> bool:
        """:meth:`flush` for async code (does not block the caller's event loop)."""
        fut = self._request_flush(spool)
        try:
            return bool(await asyncio.wait_for(asyncio.wrap_future(fut), timeout))
        except (TimeoutError, asyncio.TimeoutError):
            return False

    def close(self, timeout: float = 30.0, *, drain_spool: bool = True) -> TrackerStats:
        """Deliver what can be delivered within ``timeout``, spool the rest, stop the thread.

        Bounded: close returns after at most ``timeout`` seconds plus up to 1 s for the
        worker to stop (a hung request is cancelled, its record kept). Steps: wait until every
        fresh record is delivered, failed or spooled; then, with ``drain_spool`` (default),
        wait for the spool's backlog to be replayed, but only while the service is up: as
        soon as the breaker is open, close stops waiting. What was not delivered is reported
        in the returned :class:`TrackerStats`: with a durable spool it stays on disk
        (``pending``, replayed by the next tracker on that file); with a memory spool it is
        counted in ``dropped`` (reason ``"memory spool not delivered at close"`` in
        ``reasons``) and logged. ``undelivered`` sums both. Safe to call twice.

        Example:
            >>> Tracker(Settings("k", "http://127.0.0.1:9"), start=False).close().tracked
            0
        """
        if self._closed:
            return self.stats
        deadline = time.monotonic() + timeout
        if self._thread is not None and self._thread.is_alive():
            self.flush(timeout, spool=False)  # every fresh record delivered or spooled
            if drain_spool:
                fut = self._request_flush(True, while_up=True)
                with contextlib.suppress(FutureTimeout):
                    fut.result(max(0.0, deadline - time.monotonic()))
            with self._tracked_lock:
                self._closed = True

            def _stop() -> None:
                self._stop_requested = True
                self._wake.set()

            if self._loop is not None:
                with contextlib.suppress(RuntimeError):  # pragma: no cover
                    self._loop.call_soon_threadsafe(_stop)
            self._thread.join(max(1.0, deadline - time.monotonic()))
        self._closed = True
        stats = self.stats
        self._spool_open = False
        with contextlib.suppress(Exception):  # pragma: no cover
            self.spool.close()
        if getattr(self, "_atexit", None) is not None:
            atexit.unregister(self._atexit)
        return stats

    async def aclose(self, timeout: float = 30.0) -> TrackerStats:
        """:meth:`close` for async code (runs in a worker thread, the loop keeps running)."""
        return await asyncio.to_thread(self.close, timeout)
