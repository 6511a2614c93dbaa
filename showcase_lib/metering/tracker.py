"""The fire-and-forget tracker: ``track()`` returns at once, a background worker delivers.

``track()`` is the only thing on the AI call's path: it mints the transaction id, packs a
tuple, appends it to a bounded ``deque`` (thread-safe under the GIL) and returns the id; it
never blocks on the network and never raises. The tracker owns a background thread that runs
an asyncio event loop, so it works the same from a script, a Flask/Django request thread, a
thread pool or inside a running event loop (a notebook, FastAPI).

The worker (in that thread):

1. wakes when ``batch_size`` records are queued or every ``flush_interval_s``;
2. maps each record to the wire body (``showcase_lib.metering.wire``), merging the metadata
   context captured at track time and the enrichment hooks, and mints the idempotency key once;
3. hands bodies to ``concurrency`` sender coroutines that POST one record each over
   keep-alive connections (the API has no batch endpoint), with tenacity retries that honour
   ``Retry-After`` and a :class:`CircuitBreaker`;
4. parks what cannot be delivered (breaker open, retries exhausted, shutdown) in the spool
   (durable SQLite :class:`Spool`, or the SDK-like :class:`MemorySpool`) and replays it, with
   the same idempotency key and bytes, when the service is back.

Counters (:class:`TrackerStats`): tracked, delivered, retried, failed, spooled, replayed,
dropped, plus requests, connections, flushes and live gauges. Nothing is lost silently: every
record ends up delivered, failed permanently (dead-lettered in the spool, with its reason),
in the spool's backlog, or counted as dropped.

Example:
    >>> from showcase_lib.metering import Settings, Tracker
    >>> t = Tracker(Settings("hak_demo", "http://127.0.0.1:9"), start=False)
    >>> t.stats.tracked
    0
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import itertools
import json
import logging
import random
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from showcase_lib.metering.breaker import CLOSED, OPEN, CircuitBreaker
from showcase_lib.metering.context import _current_ref, apply_enrichers, enrichers
from showcase_lib.metering.ratelimit import TokenBucket
from showcase_lib.metering.retry import PermanentError, RetryableError, RetryPolicy
from showcase_lib.metering.settings import Settings
from showcase_lib.metering.spool import Envelope, MemorySpool, Spool
from showcase_lib.metering.transport import Transport, make_transport
from showcase_lib.wire import record_to_wire

log = logging.getLogger("showcase_lib.metering")

OVERFLOW_POLICIES = ("auto", "spool", "drop_oldest", "drop_newest")
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def _JSON(obj: Any) -> bytes:
    """Compact UTF-8 JSON bytes of a wire body."""
    return _ENCODE(obj).encode("utf-8")


_uuid4 = uuid.uuid4
_getrandbits = random.getrandbits


def new_transaction_id() -> str:
    """A random 128-bit transaction id as 32 hex characters (the hot path's id).

    ``random.getrandbits`` avoids the ``os.urandom`` system call and the ``UUID`` object of
    ``uuid4()``, which cost several microseconds on a cold CPU after the thread slept; the
    ``random`` module reseeds itself in a forked child, so pre-forked workers do not collide.
    Idempotency keys, minted later in the worker, are proper ``uuid4`` values.

    Example:
        >>> len(new_transaction_id()), new_transaction_id() != new_transaction_id()
        (32, True)
    """
    return f"{_getrandbits(128):032x}"


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
    breaker_state: str = CLOSED

    @property
    def pending(self) -> int:
        return self.queue_depth + self.in_flight + self.spool_backlog

    def as_dict(self) -> dict[str, Any]:
        """All fields plus ``pending``."""
        return {**asdict(self), "pending": self.pending}


def _peek(counter: itertools.count) -> int:
    """Current value of an ``itertools.count`` without advancing it (thread-safe counting)."""
    return counter.__reduce__()[1][0]


class Tracker:
    """Asynchronous, fire-and-forget metering with retries, a circuit breaker and a spool.

    Args:
        settings: where to send and with which key (:class:`Settings`).
        transport: ``"aiohttp"`` (default, measured faster) or ``"httpx"``.
        concurrency: sender coroutines = keep-alive connections at most.
        batch_size: queued records that wake the worker early (flush by size).
        flush_interval_s: the worker wakes at least this often (flush by interval).
        max_queue: bound of the in-memory queue; beyond it ``overflow`` applies.
        overflow: ``"spool"`` (write the record to the spool from the caller's thread: slower
            for that record, nothing lost), ``"drop_oldest"``, ``"drop_newest"`` (counted in
            ``dropped``), or ``"auto"`` (spool if durable, else drop_oldest).
        spool: a :class:`Spool`, a path (a durable SQLite spool there), a :class:`MemorySpool`,
            or ``None`` (a MemorySpool of 20,000 records, like the official SDK).
        retry: :class:`RetryPolicy` (default: ``settings.max_retries`` retries, 0.5 s -> 8 s).
        breaker: :class:`CircuitBreaker` (default: opens after 1 s without success and >= 5
            failures; probes every 5 s).
        rate_limit: requests per second at most (token bucket with a burst of 50 ms worth of
            requests), ``None`` for no limit.
        enrichers: hooks ``fn(record) -> dict`` run in the worker (plus the global ones).
        on_settled: ``fn(envelope, outcome)`` called in the worker thread when a record is
            delivered, durably spooled or failed ("delivered" / "spooled" / "failed").
        sample_interval_s: period of the timeline samples (state, backlog) for charts.
        event_loop: the worker thread's loop: ``"auto"`` (uvloop when installed, else
            asyncio), ``"uvloop"`` or ``"asyncio"``. The caller's own loop is never touched.
        start: start the background thread now (else call :meth:`start`).

    Example:
        >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False, batch_size=10)
        >>> t.batch_size
        10
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: str = "aiohttp",
        concurrency: int = 64,
        batch_size: int = 256,
        flush_interval_s: float = 0.05,
        max_queue: int = 100_000,
        overflow: str = "auto",
        spool: Spool | MemorySpool | str | Path | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        rate_limit: float | None = None,
        enrichers: tuple = (),
        on_settled: Callable[[Envelope, str], None] | None = None,
        sample_interval_s: float = 0.1,
        event_loop: str = "auto",
        start: bool = True,
    ) -> None:
        if event_loop not in ("auto", "uvloop", "asyncio"):
            raise ValueError(f"event_loop={event_loop!r} is not one of auto, uvloop, asyncio")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow={overflow!r} is not one of {', '.join(OVERFLOW_POLICIES)}")
        for name, value in (
            ("concurrency", concurrency),
            ("batch_size", batch_size),
            ("max_queue", max_queue),
        ):
            if int(value) < 1:
                raise ValueError(f"{name}={value!r} must be >= 1")
        if flush_interval_s <= 0:
            raise ValueError(f"flush_interval_s={flush_interval_s!r} must be > 0")
        self.settings = settings
        self.transport_name = transport
        self.event_loop = event_loop
        self.concurrency = int(concurrency)
        self.batch_size = int(batch_size)
        self.flush_interval_s = float(flush_interval_s)
        self.max_queue = int(max_queue)
        if spool is None:
            spool = MemorySpool()
        elif isinstance(spool, str | Path):
            spool = Spool(spool)
        self.spool: Spool | MemorySpool = spool
        if overflow == "auto":
            overflow = "spool" if spool.durable else "drop_oldest"
        self.overflow = overflow
        self.retry = retry or RetryPolicy(max_retries=settings.max_retries)
        self.breaker = breaker or CircuitBreaker()
        # a burst of 50 ms worth of requests: a quota is rarely meant as "double in second one"
        self.bucket = TokenBucket(rate_limit, max(1.0, rate_limit * 0.05)) if rate_limit else None
        self._hooks = tuple(enrichers)
        self._on_settled = on_settled
        self.sample_interval_s = float(sample_interval_s)
        self._max_retrying = 16 * self.concurrency  # records waiting for a retry, at most

        # hot-path state (touched from any thread)
        self._q: collections.deque = collections.deque()
        self._tracked = itertools.count()
        self._wake_pending = False
        self._closed = False
        self._spool_open = True

        # worker state (touched only from the loop thread, read elsewhere)
        self._delivered = self._retried = self._failed = self._spooled = 0
        self._replayed = self._dropped = self._overflowed = self._invalid = 0
        self._flushes = 0
        self._busy = 0
        self._retry_tasks: set[asyncio.Task] = set()
        self._to_spool: list[Envelope] = []
        self._acks: list[Envelope] = []
        self._waiters: list[tuple[Future, bool]] = []
        self._last_success: float | None = None
        self._last_error: str | None = None
        self._samples: collections.deque = collections.deque(maxlen=200_000)
        self._t0 = time.monotonic()
        self._overflow_lock = threading.Lock()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None
        self._stop_requested = False
        self._ready_ev = threading.Event()
        self._start_error: BaseException | None = None
        if start:
            self.start()

    # ------------------------------------------------------------------ lifecycle
    def __repr__(self) -> str:
        s = self.stats
        return (
            f"Tracker(url={self.settings.completions_url!r}, tracked={s.tracked}, "
            f"delivered={s.delivered}, pending={s.pending}, breaker={s.breaker_state!r})"
        )

    def start(self) -> Tracker:
        """Start the background thread and its event loop (idempotent)."""
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

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        if self.event_loop in ("auto", "uvloop"):
            try:
                import uvloop

                return uvloop.new_event_loop()
            except ImportError:
                if self.event_loop == "uvloop":
                    raise
        return asyncio.new_event_loop()

    def _thread_main(self) -> None:
        try:
            loop = self._new_loop()
        except BaseException as exc:
            self._start_error = exc
            self._ready_ev.set()
            return
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # pragma: no cover - reported through start()/close()
            self._start_error = exc
            self._ready_ev.set()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    async def __aenter__(self) -> Tracker:
        return self.start()

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ hot path
    def track(
        self,
        provider: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        latency_ms: int = 0,
        *,
        cost_usd: float | None = None,
        call_id: str | None = None,
        timestamp: Any = None,
        idempotency_key: str | None = None,
        **tags: Any,
    ) -> str:
        """Record one AI call; return its transaction id at once. Never blocks, never raises.

        ``timestamp`` is when the call started (default: now minus ``latency_ms``); ``tags``
        are metadata fields (``customer_id=...``) merged over the current
        :func:`metadata_context`. The wire mapping happens later, in the worker.

        Example:
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> len(t.track("openai", "gpt-4o-mini", 120, 30, 850, customer_id="cust_1"))
            32
        """
        try:
            txn = call_id or new_transaction_id()
            item = (
                txn,
                time.time_ns(),
                (provider, model, input_tokens, output_tokens, latency_ms, cost_usd, timestamp),
                tags,
                _current_ref(),
                idempotency_key,
            )
            self._enqueue(item)
            return txn
        except Exception:  # pragma: no cover - never raise into the AI call
            return call_id or ""

    def track_record(self, record: Mapping[str, Any], *, idempotency_key: str | None = None) -> str:
        """Record one call given as a record mapping (the schema's columns); return its id.

        ``call_id`` is the transaction id (minted if missing). Never blocks, never raises.

        Example:
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> t.track_record({"call_id": "c-1", "provider": "openai", "model": "m",
            ...                 "input_tokens": 1, "output_tokens": 1, "latency_ms": 5})
            'c-1'
        """
        try:
            txn = record.get("call_id") or new_transaction_id()
            # a shallow copy: the caller may reuse or mutate its dict after the call
            self._enqueue(
                (txn, time.time_ns(), dict(record), None, _current_ref(), idempotency_key)
            )
            return txn
        except Exception:  # pragma: no cover
            return ""

    def submit(self, env: Envelope) -> str:
        """Queue an already-prepared :class:`Envelope` (key and body fixed by the caller).

        Used by :func:`showcase_lib.metering.backfill`, which derives idempotency keys from
        ``call_id`` so a resumed run cannot double count. Never blocks, never raises.
        """
        with contextlib.suppress(Exception):  # pragma: no cover
            self._enqueue(env)
        return env.txn_id

    def _enqueue(self, item: tuple | Envelope) -> None:
        q = self._q
        next(self._tracked)
        if self._closed:
            self._late(item)
            return
        if len(q) >= self.max_queue:
            self._on_overflow(item)
        else:
            q.append(item)
        if len(q) >= self.batch_size and not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            with contextlib.suppress(RuntimeError):  # loop closed
                self._loop.call_soon_threadsafe(self._wake_soon)

    def _on_overflow(self, item: tuple | Envelope) -> None:
        with self._overflow_lock:
            self._overflowed += 1
        if self.overflow == "drop_newest":
            self._count_drop()
        elif self.overflow == "drop_oldest":
            with contextlib.suppress(IndexError):
                self._q.popleft()
                self._count_drop()
            self._q.append(item)
        else:  # spool, from the caller's thread: slower for this record, nothing lost
            env = self._prepare(item)
            if env is not None:
                added = self.spool.put_many([env])
                with self._overflow_lock:
                    self._spooled += added
                if self._on_settled is not None:
                    self._on_settled(env, "spooled")

    def _count_drop(self, n: int = 1) -> None:
        with self._overflow_lock:
            self._dropped += n

    def _late(self, item: tuple | Envelope) -> None:
        """track() after close(): spool durably if possible, else count as dropped."""
        if self.spool.durable and self._spool_open:
            env = self._prepare(item)
            if env is not None:
                added = self.spool.put_many([env])
                with self._overflow_lock:
                    self._spooled += added
                return
        self._count_drop()
        txn = item.txn_id if isinstance(item, Envelope) else item[0]
        log.warning("track() called after close(): record %s dropped", txn)

    # ------------------------------------------------------------------ worker: preparation
    def _prepare(self, item: tuple | Envelope) -> Envelope | None:
        """Record tuple -> Envelope (wire body as JSON bytes, idempotency key minted once)."""
        if type(item) is Envelope:
            return item
        txn, t_ns, payload, tags, ctx, key = item
        rec: dict[str, Any] = dict(ctx) if ctx else {}
        if type(payload) is tuple:
            provider, model, tin, tout, lat, cost, ts = payload
            if tags:
                rec.update(tags)
            rec["call_id"] = txn
            rec["provider"] = provider
            rec["model"] = model
            rec["input_tokens"] = tin
            rec["output_tokens"] = tout
            rec["latency_ms"] = lat
            if cost is not None:
                rec["cost_usd"] = cost
            if ts is None:
                ts = pd.Timestamp(
                    (t_ns - int(lat or 0) * 1_000_000) // 1_000_000 * 1_000_000, tz="UTC"
                )
            rec["timestamp"] = ts
        else:
            rec.update(payload)
            rec["call_id"] = txn
            if rec.get("timestamp") is None:
                rec["timestamp"] = pd.Timestamp(t_ns // 1_000_000 * 1_000_000, tz="UTC")
        hooks = self._hooks + enrichers()
        if hooks:
            apply_enrichers(rec, hooks)
        try:
            body = record_to_wire(rec)
        except (ValueError, TypeError) as exc:
            self._reject(txn, key, rec, exc)
            return None
        return Envelope(key or str(_uuid4()), txn, _JSON(body))

    def _reject(self, txn: str, key: str | None, rec: dict, exc: Exception) -> None:
        """A record that cannot be mapped to the wire: counted failed, kept as a dead letter."""
        with self._overflow_lock:
            self._invalid += 1
            self._failed += 1
        self._last_error = f"invalid record: {exc}"
        log.warning("record %s rejected before sending: %s", txn, exc)
        env = Envelope(key or str(_uuid4()), str(txn), _JSON(rec))
        with contextlib.suppress(Exception):  # pragma: no cover
            self.spool.bury([env], f"invalid record: {exc}")
        if self._on_settled is not None:
            self._on_settled(env, "failed")

    # ------------------------------------------------------------------ worker: main loop
    async def _main(self) -> None:
        self._spool_open = True
        self._wake = asyncio.Event()
        self._ready: asyncio.Queue = asyncio.Queue(maxsize=self.concurrency * 2)
        try:
            self._transport = make_transport(
                self.transport_name, self.settings, concurrency=self.concurrency
            )
            await self._transport.start()
        except BaseException as exc:
            self._start_error = exc
            self._ready_ev.set()
            return
        senders = [asyncio.create_task(self._sender()) for _ in range(self.concurrency)]
        sampler = asyncio.create_task(self._sampler())
        self._ready_ev.set()
        try:
            await self._dispatch()
        finally:
            retries = list(self._retry_tasks)
            for task in [*senders, *retries]:
                task.cancel()
            sampler.cancel()
            await asyncio.gather(*senders, *retries, sampler, return_exceptions=True)
            # whatever is still queued is parked (durable spool) or counted as dropped
            while True:
                try:
                    env = self._ready.get_nowait()
                except asyncio.QueueEmpty:
                    break
                self._park(env)
            while self._q:
                env = self._prepare(self._q.popleft())
                if env is not None:
                    self._park(env)
            self._commit()
            if not self.spool.durable:
                lost = len(self.spool)
                if lost:
                    self._count_drop(lost)
                    log.warning("%d records left in the memory spool at close are lost", lost)
            self._sample()
            await self._transport.close()

    def _wake_soon(self) -> None:
        self._wake.set()

    async def _dispatch(self) -> None:
        q, ready, spool, breaker = self._q, self._ready, self.spool, self.breaker
        interval = self.flush_interval_s
        while True:
            replaying = breaker.state == CLOSED and len(spool) > spool.leased
            if not q and not self._stop_requested and not replaying:
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
            if self._stop_requested:
                return
            self._wake.clear()
            self._wake_pending = False
            moved = 0
            while q:
                try:
                    item = q.popleft()
                except IndexError:
                    break
                env = self._prepare(item)
                if env is None:
                    continue
                if ready.full():
                    self._commit()
                    await ready.put(env)
                else:
                    ready.put_nowait(env)
                moved += 1
            if moved:
                self._flushes += 1
            # replay the spool when the service takes traffic (one probe while open/half-open)
            if len(spool) > spool.leased and breaker.would_allow():
                if breaker.state == CLOSED:
                    for env in spool.lease(self.batch_size):
                        if ready.full():
                            self._commit()
                            await ready.put(env)
                        else:
                            ready.put_nowait(env)
                elif self._busy == 0 and ready.empty():
                    for env in spool.lease(1):
                        ready.put_nowait(env)
            self._commit()
            self._resolve_waiters()

    def _settled(self, with_spool: bool) -> bool:
        fresh = (
            not self._q
            and self._ready.empty()
            and self._busy == 0
            and not self._retry_tasks
            and not self._to_spool
            and not self._acks
        )
        if not fresh:
            return False
        return not (with_spool and len(self.spool) > 0)

    def _resolve_waiters(self) -> None:
        if not self._waiters:
            return
        keep = []
        for fut, with_spool in self._waiters:
            if fut.done():  # the caller gave up (timeout)
                continue
            if self._settled(with_spool):
                fut.set_result(True)
            else:
                keep.append((fut, with_spool))
        self._waiters = keep

    # ------------------------------------------------------------------ worker: delivery
    async def _sender(self) -> None:
        ready = self._ready
        while True:
            env = await ready.get()
            self._busy += 1
            try:
                await self._deliver(env)
            except asyncio.CancelledError:
                self._park(env)
                self._busy -= 1
                raise
            except Exception as exc:  # pragma: no cover - defensive: never lose the record
                self._last_error = f"internal error: {type(exc).__name__}"
                self._park(env)
            self._busy -= 1

    async def _send(self, env: Envelope) -> None:
        if self.bucket is not None:
            await self.bucket.acquire_async()
        await self._transport.send(env)  # type: ignore[union-attr]

    async def _deliver(self, env: Envelope) -> None:
        breaker = self.breaker
        if not breaker.allow():
            self._park(env)
            return
        try:
            await self._send(env)
        except RetryableError as exc:
            breaker.record_failure(exc.reason)
            self._last_error = str(exc)
            if len(self._retry_tasks) < self._max_retrying:
                # wait for the retry in its own task: a backoff sleep must not hold one of
                # the `concurrency` sender slots (the connection pool still bounds requests)
                task = asyncio.get_running_loop().create_task(self._retry(env, exc, own=True))
                self._retry_tasks.add(task)
                task.add_done_callback(self._retry_tasks.discard)
            else:
                await self._retry(env, exc)
            return
        except PermanentError as exc:
            breaker.record_success()
            self._fail(env, exc)
            return
        except asyncio.CancelledError:
            if breaker.state != CLOSED:
                breaker.release_probe()
            raise
        breaker.record_success()
        self._done(env)

    async def _retry(self, env: Envelope, first: RetryableError, own: bool = False) -> None:
        """Retry one record (tenacity). ``own``: running as its own task, so on cancellation
        (shutdown) it parks the record itself; inline, the sender does."""
        breaker = self.breaker
        pending = [first]

        def _count(_state) -> None:
            self._retried += 1

        retrying = self.retry.async_retrying(
            stop_extra=lambda _state: breaker.state == OPEN, before_sleep=_count
        )
        try:
            await self._retry_loop(env, retrying, pending, breaker)
        except asyncio.CancelledError:
            if own:
                self._park(env)  # shutdown: keep the record
            raise

    async def _retry_loop(self, env: Envelope, retrying, pending: list, breaker) -> None:
        try:
            async for attempt in retrying:
                with attempt:
                    if pending:
                        raise pending.pop()
                    if not breaker.allow():
                        raise _BreakerOpen
                    try:
                        await self._send(env)
                    except RetryableError as exc:
                        breaker.record_failure(exc.reason)
                        self._last_error = str(exc)
                        raise
        except (RetryableError, _BreakerOpen):
            self._park(env)
            return
        except PermanentError as exc:
            breaker.record_success()
            self._fail(env, exc)
            return
        breaker.record_success()
        self._done(env)

    def _done(self, env: Envelope) -> None:
        self._delivered += 1
        self._last_success = time.time()
        if env.seq is not None:
            self._replayed += 1
            self._acks.append(env)
            if len(self._acks) >= 256:
                self._commit()
        elif self._on_settled is not None:
            self._on_settled(env, "delivered")

    def _fail(self, env: Envelope, exc: PermanentError) -> None:
        self._failed += 1
        self._last_error = str(exc)
        log.warning("record %s rejected by the service: %s", env.txn_id, exc)
        self.spool.bury([env], str(exc))
        if self._on_settled is not None:
            self._on_settled(env, "failed")

    def _park(self, env: Envelope) -> None:
        """Keep a record for later: back to the spool (if it came from there) or into it."""
        if env.seq is not None:
            self.spool.release([env])
            return
        self._to_spool.append(env)
        if len(self._to_spool) >= 256:
            self._commit()

    def _commit(self) -> None:
        """Write pending spool inserts and acknowledgements (one transaction each)."""
        if self._to_spool:
            batch, self._to_spool = self._to_spool, []
            added = self.spool.put_many(batch)
            with self._overflow_lock:
                self._spooled += added
            if self._on_settled is not None:
                for env in batch:
                    self._on_settled(env, "spooled")
        if self._acks:
            batch, self._acks = self._acks, []
            self.spool.ack(batch)
            if self._on_settled is not None:
                for env in batch:
                    self._on_settled(env, "delivered")

    # ------------------------------------------------------------------ observability
    def _sample(self) -> None:
        t = self._transport
        self._samples.append(
            (
                time.monotonic() - self._t0,
                self.breaker.state,
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
            await asyncio.sleep(self.sample_interval_s)

    def timeline(self) -> pd.DataFrame:
        """Samples over time for charts: t_s, state, queue, in_flight, spool_backlog, counters.

        Example:
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
        to and reason."""
        rows = [asdict(t) for t in self.breaker.transitions]
        df = pd.DataFrame(rows, columns=["at", "from_state", "to_state", "reason"])
        real = self.breaker.clock is time.monotonic
        df.insert(1, "t_s", df["at"] - self._t0 if real else float("nan"))
        return df

    @property
    def stats(self) -> TrackerStats:
        """Counters and gauges now (safe to read from any thread)."""
        t = self._transport
        ready = getattr(self, "_ready", None)
        return TrackerStats(
            tracked=_peek(self._tracked),
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
            breaker_state=self.breaker.state,
        )

    def health(self, *, probe: bool = True, timeout: float = 5.0) -> dict[str, Any]:
        """Health check: the service probe, breaker state, last success, backlog.

        ``status`` is ``"ok"`` (breaker closed, service reachable), ``"degraded"`` (backlog
        or breaker half-open) or ``"down"`` (breaker open or service unreachable).

        Example:
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

    # ------------------------------------------------------------------ flush / close
    def _request_flush(self, with_spool: bool) -> Future:
        fut: Future = Future()
        loop = self._loop
        if loop is None or self._thread is None or not self._thread.is_alive():
            fut.set_result(not self._q and len(self.spool) == 0)
            return fut

        def _add() -> None:
            self._waiters.append((fut, with_spool))
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

    def close(self, timeout: float = 30.0, *, drain_spool: bool | None = None) -> TrackerStats:
        """Deliver what can be delivered within ``timeout``, spool the rest, stop the thread.

        ``drain_spool`` (default: unless the spool is durable and the breaker is open) also
        waits for the spool's backlog to be replayed. With a durable spool and the service
        down, close returns quickly: the backlog is on disk for the next run. Safe to call
        twice. Returns the final :class:`TrackerStats`.
        """
        if self._closed:
            return self.stats
        deadline = time.monotonic() + timeout
        if self._thread is not None and self._thread.is_alive():
            self.flush(timeout, spool=False)  # every fresh record delivered or spooled
            if drain_spool is None:
                drain_spool = not (self.spool.durable and self.breaker.state == OPEN)
            if drain_spool:
                self.flush(max(0.0, deadline - time.monotonic()), spool=True)
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


class _BreakerOpen(Exception):
    """Internal: the breaker refused a retry attempt (the record is parked)."""
