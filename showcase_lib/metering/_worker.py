"""The tracker's worker: a thread with its own event loop that prepares and delivers records.

1. :meth:`_Worker._dispatch` wakes when ``batch_size`` records are queued or every
   ``flush_interval_s``, and maps each record to the wire body (``showcase_lib.wire``),
   merging the metadata context captured at track time and the enrichment hooks; the
   idempotency key is minted once, here.
2. ``concurrency`` sender coroutines POST one record each over keep-alive connections (the
   API has no batch endpoint), with tenacity retries that honour ``Retry-After`` and a
   circuit breaker.
3. What cannot be delivered (breaker open, retries exhausted, shutdown) is parked in the spool
   and replayed, with the same idempotency key and bytes, when the service is back.

A background worker never dies with an uncaught exception: it records, counts, and goes on.
Whatever goes wrong with one record (a value the wire mapping rejects, a lone surrogate the
UTF-8 encoder refuses, an enrichment hook that raises or returns something other than a
mapping, an unexpected error while sending) dead-letters that record in the spool with the
reason, counts it (``invalid`` before sending, ``failed`` after) with a reason in
``TrackerStats.reasons``, and the worker takes the next record.

Accounting: a record is in exactly one place at any moment: the caller's queue (or the
overflow spill), held by the worker (prepared, queued for a sender, in flight, waiting for a
retry), about to be spooled, in the spool's backlog, or settled (delivered, failed, dropped,
invalid). ``TrackerStats.pending`` counts the unsettled places, so
``tracked + inherited == delivered + failed + dropped + invalid + pending`` at every moment
(``stats`` is read on the worker's loop, between two of its steps).

Example:
    >>> from showcase_lib.metering import Settings, Tracker
    >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
    >>> t._prepare(("c-1", 0, ("openai", "m", 1, 1, 5), {}, {}, "key-1")).key
    'key-1'
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any

import pandas as pd

from showcase_lib.metering._breaker import CLOSED, OPEN
from showcase_lib.metering._context import apply_enrichers, enrichers
from showcase_lib.metering._retry import PermanentError, RetryableError
from showcase_lib.metering._spool import Envelope
from showcase_lib.metering._transport import make_transport
from showcase_lib.wire import encode_body, record_to_wire

log = logging.getLogger("showcase_lib.metering")

_uuid4 = uuid.uuid4
#: Spool inserts and acknowledgements are written in transactions of up to 256 records (and at
#: every wake-up): a commit per record would make the spool the bottleneck during an outage,
#: while a larger batch leaves more parked records only in memory should the process crash.
_COMMIT_EVERY = 256


class _BreakerOpen(Exception):
    """Internal: the breaker refused a retry attempt (the record is parked)."""


class _Worker:
    """Mixin of :class:`Tracker`: everything that runs in the worker thread."""

    # ------------------------------------------------------------------ worker: thread
    def _new_loop(self) -> asyncio.AbstractEventLoop:
        if self.delivery.event_loop in ("auto", "uvloop"):
            try:
                import uvloop

                return uvloop.new_event_loop()
            except ImportError:
                if self.delivery.event_loop == "uvloop":
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

    # ------------------------------------------------------------------ worker: preparation
    def _prepare(self, item: tuple | Envelope) -> Envelope | None:
        """Record tuple -> Envelope (wire body as JSON bytes, idempotency key minted once).

        Never raises: a record that cannot be prepared is dead-lettered (``None`` returned).
        """
        if type(item) is Envelope:
            return item
        txn, key = item[0], item[5]
        rec: dict[str, Any] | None = None
        stage = "record"
        try:
            rec, extra = self._record(item)
            hooks = self._hooks + enrichers()
            if hooks:
                stage = "enricher"
                apply_enrichers(rec, hooks)
            stage = "wire mapping"
            body = record_to_wire(rec)
            if extra:
                body.update(extra)
            stage = "encoding"
            data = encode_body(body)
        except Exception as exc:  # one bad record must never stop the worker
            self._reject(txn, key, rec, (stage, exc))
            return None
        return Envelope(key or str(_uuid4()), txn, data)

    @staticmethod
    def _record(item: tuple) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The record dict of a queued tuple (context, tags, call fields) and its extras."""
        txn, t_ns, payload, tags, ctx, _key = item
        rec: dict[str, Any] = dict(ctx) if ctx else {}
        extra = None
        if type(payload) is tuple:
            provider, model, tin, tout, lat = payload
            if tags:
                rec.update(tags)
                extra = rec.pop("__extra__", None)
            rec["call_id"] = txn
            rec["provider"] = provider
            rec["model"] = model
            rec["input_tokens"] = tin
            rec["output_tokens"] = tout
            rec["latency_ms"] = lat
            if rec.get("timestamp") is None:
                rec["timestamp"] = pd.Timestamp(
                    (t_ns - int(lat or 0) * 1_000_000) // 1_000_000 * 1_000_000, tz="UTC"
                )
        else:
            rec.update(payload)
            rec["call_id"] = txn
            if rec.get("timestamp") is None:
                rec["timestamp"] = pd.Timestamp(t_ns // 1_000_000 * 1_000_000, tz="UTC")
        return rec, extra

    def _reject(
        self, txn: Any, key: str | None, rec: dict | None, why: tuple[str, Exception]
    ) -> None:
        """A record that cannot be prepared: counted ``invalid``, kept as a dead letter."""
        stage, exc = why
        reason = _text(f"invalid record ({stage}): {type(exc).__name__}: {exc}")
        with self._counts_lock:
            self._invalid += 1
            self._reasons[f"invalid: {stage} ({type(exc).__name__})"] += 1
        self._last_error = reason
        log.warning("record %s dead-lettered before sending: %s", _text(repr(txn)), reason)
        # the dead letter keeps what can be kept: ASCII JSON escapes lone surrogates
        body = json.dumps(rec, default=repr, ensure_ascii=True).encode("ascii")
        env = Envelope(key or str(_uuid4()), _text(str(txn)), body)
        try:
            self.spool.bury([env], reason)
        except Exception as bury_exc:  # the count stays: the record is reported, not hidden
            log.error("dead letter for record %s not written: %s", env.txn_id, bury_exc)
        self._notify(env, "failed")

    def _notify(self, env: Envelope, outcome: str) -> None:
        """Tell the settled hook (the backfill's checkpoint); its errors never stop the worker."""
        if self._on_settled is None:
            return
        try:
            self._on_settled(env, outcome)
        except Exception as exc:  # pragma: no cover - a bug in the hook, logged
            log.error("on_settled hook failed for %s: %s", env.txn_id, exc)

    # ------------------------------------------------------------------ worker: main loop
    async def _main(self) -> None:
        self._spool_open = True
        self._wake = asyncio.Event()
        self._ready: asyncio.Queue = asyncio.Queue(maxsize=self.delivery.concurrency * 2)
        try:
            self._transport = make_transport(
                self.delivery.transport, self.settings, concurrency=self.delivery.concurrency
            )
            await self._transport.start()
        except BaseException as exc:
            self._start_error = exc
            self._ready_ev.set()
            return
        senders = [asyncio.create_task(self._sender()) for _ in range(self.delivery.concurrency)]
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
            for source in (self._spill, self._q):
                while source:
                    env = self._prepare(source.popleft())
                    if env is not None:
                        self._hold(env)
                        self._park(env)
            self._commit()
            if not self.spool.durable:
                lost = self.spool.clear()
                if lost:
                    self._count_drop("memory spool not delivered at close", lost)
                    log.warning(
                        "%d records left in the memory spool at close are lost (counted in "
                        "dropped); use a durable Spool to keep them for the next run",
                        lost,
                    )
            self._sample()
            await self._transport.close()

    def _wake_soon(self) -> None:
        self._wake.set()

    async def _dispatch(self) -> None:
        q, spool, breaker = self._q, self.spool, self.breaker
        interval = self.delivery.flush_interval_s
        while True:
            replaying = breaker.state == CLOSED and len(spool) > spool.leased
            if not q and not self._spill and not self._stop_requested and not replaying:
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
            if self._stop_requested:
                return
            self._wake.clear()
            self._wake_pending = False
            try:
                await self._step()
            except Exception as exc:  # pragma: no cover - a bug or a broken spool: logged
                self._last_error = f"internal error: {type(exc).__name__}: {exc}"
                log.exception("tracker worker step failed; the worker goes on")
                await asyncio.sleep(interval)

    async def _step(self) -> None:
        """One wake-up: spill to the spool, queue to the senders, spool replay, commit."""
        q, spill, spool, breaker = self._q, self._spill, self.spool, self.breaker
        while spill:  # overflowing records (policy "spool"): straight to the spool
            env = self._prepare(spill.popleft())
            if env is not None:
                self._hold(env)
                self._park(env)
        moved = 0
        while q:
            try:
                item = q.popleft()
            except IndexError:
                break
            env = self._prepare(item)
            if env is None:
                continue
            self._hold(env)
            await self._to_sender(env)
            moved += 1
        if moved:
            self._flushes += 1
        # replay the spool when the service takes traffic (one probe while open/half-open)
        if len(spool) > spool.leased and breaker.would_allow():
            if breaker.state == CLOSED:
                for env in spool.lease(self.delivery.batch_size):
                    await self._to_sender(env)
            elif self._busy == 0 and self._ready.empty():
                for env in spool.lease(1):
                    self._ready.put_nowait(env)
        self._commit()
        self._resolve_waiters()

    async def _to_sender(self, env: Envelope) -> None:
        if self._ready.full():
            self._commit()
            await self._ready.put(env)
        else:
            self._ready.put_nowait(env)

    def _settled(self, with_spool: bool) -> bool:
        fresh = (
            not self._q
            and not self._spill
            and self._held == 0
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
        for fut, with_spool, while_up in self._waiters:
            if fut.done():  # the caller gave up (timeout)
                continue
            if self._settled(with_spool):
                fut.set_result(True)
            elif while_up and self.breaker.state == OPEN and self._settled(False):
                fut.set_result(False)  # close(): the service is down, stop waiting for it
            else:
                keep.append((fut, with_spool, while_up))
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
            except Exception as exc:  # an unexpected error while sending: dead-letter it
                self._fail(env, exc, kind="internal error while sending")
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

    def _hold(self, env: Envelope) -> None:
        """A fresh envelope is now the worker's (until delivered, failed or parked)."""
        if env.seq is None:
            self._held += 1

    def _done(self, env: Envelope) -> None:
        self._delivered += 1
        self._last_success = time.time()
        if env.seq is not None:
            self._replayed += 1
            self._acks.append(env)
            if len(self._acks) >= _COMMIT_EVERY:
                self._commit()
        else:
            self._held -= 1
            self._notify(env, "delivered")

    def _fail(self, env: Envelope, exc: Exception, kind: str = "rejected by the service") -> None:
        reason = _text(str(exc) if isinstance(exc, PermanentError) else f"{kind}: {exc!r}")
        with self._counts_lock:
            self._failed += 1
            status = getattr(exc, "status", None)
            self._reasons[f"failed: {kind}" + (f" ({status})" if status else "")] += 1
        if env.seq is None:
            self._held -= 1
        self._last_error = reason
        log.warning("record %s dead-lettered (%s): %s", env.txn_id, kind, reason)
        try:
            self.spool.bury([env], reason)
        except Exception as bury_exc:  # the count stays: the record is reported, not hidden
            log.error("dead letter for record %s not written: %s", env.txn_id, bury_exc)
        self._notify(env, "failed")

    def _park(self, env: Envelope) -> None:
        """Keep a record for later: back to the spool (if it came from there) or into it."""
        if env.seq is not None:
            self.spool.release([env])
            return
        self._held -= 1
        self._to_spool.append(env)
        if len(self._to_spool) >= _COMMIT_EVERY:
            self._commit()

    def _commit(self) -> None:
        """Write pending spool inserts and acknowledgements (one transaction each).

        Records the spool does not keep are counted as dropped, with the reason: a memory
        spool evicting its oldest record, a key already spooled, a spool that fails to write.
        """
        if self._to_spool:
            batch, self._to_spool = self._to_spool, []
            evicted = self.spool.evicted
            try:
                added = self.spool.put_many(batch)
            except Exception as exc:
                added = 0
                log.error("spool write failed, %d records dropped: %s", len(batch), exc)
                self._count_drop(f"spool write failed ({type(exc).__name__})", len(batch))
            else:
                evicted = self.spool.evicted - evicted
                if evicted:
                    self._count_drop("memory spool full: oldest evicted", evicted)
                if self.spool.durable and added < len(batch):
                    self._count_drop("idempotency key already spooled", len(batch) - added)
            with self._counts_lock:
                self._spooled += max(added, 0)
            for env in batch:
                self._notify(env, "spooled")
        if self._acks:
            batch, self._acks = self._acks, []
            self.spool.ack(batch)
            for env in batch:
                self._notify(env, "delivered")


def _text(text: str) -> str:
    """``text`` safe for SQLite and logs: lone surrogates become ``\\udXXX`` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
