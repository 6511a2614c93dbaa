"""The caller's side of the tracker: ``track()`` packs a tuple, appends it, and returns.

Nothing here touches the network, the spool, maps to the wire or encodes JSON: that is the
worker's job (:mod:`._worker`). ``track()`` never blocks on I/O: whatever the overflow policy,
the caller's cost is a lock, a few checks and a ``deque`` append (bounded, no disk, no
network). It raises only for a programming error seen at the call (an unknown tag, a record
that is not a mapping), so a typo fails in development instead of vanishing in production.
Transaction ids come from a generator of this module's own (:func:`new_transaction_id`).

Example:
    >>> len(new_transaction_id())
    32
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import random
import time
from collections.abc import Mapping
from typing import Any

from showcase_lib.metering._context import _current_ref
from showcase_lib.metering._spool import Envelope
from showcase_lib.schema import ALL_COLUMNS
from showcase_lib.wire import unknown_keys

log = logging.getLogger("showcase_lib.metering")

#: The transaction ids' own generator, seeded from ``os.urandom`` (``random.Random()`` with
#: no seed) and re-seeded in a forked child, so ids depend neither on the global ``random``
#: state (a user's ``random.seed(1)`` must not make ids repeat across runs) nor on a parent
#: process (pre-forked web workers must not mint the same ids).
_ID_RNG = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ID_RNG.seed)
_getrandbits = _ID_RNG.getrandbits


def new_transaction_id() -> str:
    """A random 128-bit transaction id as 32 hex characters (the hot path's id).

    Drawn from a ``random.Random`` of this module's own, seeded from ``os.urandom``:
    ``getrandbits`` avoids the system call and the ``UUID`` object of ``uuid4()``, which cost
    several microseconds on a cold CPU after the thread slept. Idempotency keys, minted later
    in the worker, are proper ``uuid4`` values.

    Example:
        >>> import random
        >>> random.seed(1); a = new_transaction_id()
        >>> random.seed(1); b = new_transaction_id()
        >>> len(a), a != b
        (32, True)
    """
    return f"{_getrandbits(128):032x}"


#: What ``track(**fields)`` accepts besides the positional fields: every record column, plus
#: the idempotency key. Anything else is a typo or a tag without a column: it must fail at the
#: call, not vanish from the body (``extra=`` carries deliberate extension keys).
_TRACK_FIELDS = (
    frozenset(ALL_COLUMNS) - {"provider", "model", "input_tokens", "output_tokens", "latency_ms"}
) | {"idempotency_key"}
_RECORD_FIELDS = frozenset(ALL_COLUMNS)
#: One overflow warning per 10 s at most, with the count since the last one: a full queue at
#: 5,000 calls/s would otherwise write 5,000 log lines a second and slow the caller further.
_OVERFLOW_LOG_EVERY_S = 10.0


def _unknown_fields(names: set[str], known: frozenset[str]) -> TypeError:
    """A ``TypeError`` naming each unknown field and the closest known one."""
    parts = []
    for name in sorted(names):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"{name!r}{hint}")
    return TypeError(
        f"unknown record field(s) {', '.join(parts)}; known fields are the record columns "
        "(showcase_lib.schema.ALL_COLUMNS); pass extension keys as extra={...}"
    )


def _check_extra(extra: Any) -> dict[str, Any]:
    if not isinstance(extra, Mapping):
        raise TypeError(f"extra={extra!r} must be a mapping of extension keys to values")
    # a key the body schema knows would shadow (or fight with) a record field
    bad = [k for k in extra if not isinstance(k, str) or not k or not unknown_keys({k: None})]
    if bad:
        raise ValueError(
            f"extra keys {bad!r} must be non-empty strings that are not wire fields "
            "(set record fields as keywords instead)"
        )
    return dict(extra)


class _Enqueue:
    """Mixin of :class:`Tracker`: the hot path (any thread)."""

    # ------------------------------------------------------------------ hot path
    def track(
        self,
        provider: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        latency_ms: int = 0,
        **fields: Any,
    ) -> str:
        """Record one AI call; return its transaction id at once. Never blocks on I/O.

        ``fields`` are other record columns (``showcase_lib.schema.ALL_COLUMNS``): metadata
        tags (``customer_id=...``, merged over the current :func:`metadata_context`),
        ``cost_usd`` (leave it out and the service prices the call), the token kinds beyond
        input and output (``cache_read_tokens``, ``cache_write_tokens`` and its
        ``cache_write_1h_tokens`` share, ``reasoning_tokens``: parts of ``input_tokens`` and
        ``output_tokens``, the inclusive rule of ``showcase_lib.schema``), ``service_tier``
        (standard, batch, flex or priority), ``call_id`` (the transaction id, minted if
        missing) and ``timestamp`` (when the call started; default: now minus
        ``latency_ms``), plus ``idempotency_key``
        (default: minted in the worker) and ``extra`` (a mapping of extension keys sent as
        they are in the body). The wire mapping happens later, in the worker; a value it
        rejects is dead-lettered and counted in ``invalid``, never raised here.

        Raises:
            TypeError: an unknown field (a typo, or a tag with no column), naming it and the
                closest known field. This is the only error ``track`` raises.

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> len(t.track("openai", "gpt-4o-mini", 120, 30, 850, customer_id="cust_1"))
            32
            >>> t.track("openai", "gpt-4o-mini", 120, 30, 850, call_id="c-7", cost_usd=0.001)
            'c-7'
            >>> t.track("anthropic", "claude-haiku-4-5", 10_000, 1_000, 900, call_id="c-8",
            ...         cache_read_tokens=8_000, reasoning_tokens=200, service_tier="batch")
            'c-8'
            >>> t.track("openai", "gpt-4o-mini", 1, 1, custmer_id="c9")
            Traceback (most recent call last):
            ...
            TypeError: unknown record field(s) 'custmer_id' (did you mean 'customer_id'?); ...
        """
        extra = fields.pop("extra", None)
        if not _TRACK_FIELDS.issuperset(fields):
            raise _unknown_fields(set(fields) - _TRACK_FIELDS, _TRACK_FIELDS)
        if extra is not None:
            fields["__extra__"] = _check_extra(extra)
        call_id = fields.pop("call_id", None)
        key = fields.pop("idempotency_key", None)
        txn = call_id or new_transaction_id()
        self._enqueue(
            (
                txn,
                time.time_ns(),
                (provider, model, input_tokens, output_tokens, latency_ms),
                fields,
                _current_ref(),
                key,
            )
        )
        return txn

    def track_record(self, record: Mapping[str, Any], *, idempotency_key: str | None = None) -> str:
        """Record one call given as a record mapping (the schema's columns); return its id.

        ``call_id`` is the transaction id (minted if missing). Never blocks on I/O.

        Raises:
            TypeError: ``record`` is not a mapping, or has a key that is no record column.

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> t.track_record({"call_id": "c-1", "provider": "openai", "model": "m",
            ...                 "input_tokens": 1, "output_tokens": 1, "latency_ms": 5})
            'c-1'
            >>> t.track_record(None)
            Traceback (most recent call last):
            ...
            TypeError: track_record(record=None) needs a mapping of record columns
        """
        if not isinstance(record, Mapping):
            raise TypeError(
                f"track_record(record={record!r:.60}) needs a mapping of record columns"
            )
        if not _RECORD_FIELDS.issuperset(record):
            raise _unknown_fields(set(record) - _RECORD_FIELDS, _RECORD_FIELDS)
        txn = record.get("call_id") or new_transaction_id()
        # a shallow copy: the caller may reuse or mutate its dict after the call
        self._enqueue((txn, time.time_ns(), dict(record), None, _current_ref(), idempotency_key))
        return txn

    def submit(self, env: Envelope) -> str:
        """Queue an already-prepared envelope (key and body fixed by the caller).

        Used by :func:`showcase_lib.metering.backfill`, which derives idempotency keys from
        ``call_id`` so a resumed run cannot double count. Never blocks on I/O.

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> from showcase_lib.metering._spool import Envelope
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> t.submit(Envelope("key-1", "txn-1", b'{"model":"m"}'))
            'txn-1'
        """
        if not isinstance(env, Envelope):
            raise TypeError(f"submit(env={env!r:.60}) needs an Envelope")
        self._enqueue(env)
        return env.txn_id

    def _enqueue(self, item: tuple | Envelope) -> None:
        q = self._q
        # one lock for the count and the append: a stats snapshot (which takes it too) never
        # sees a record counted as tracked but not yet queued
        with self._tracked_lock:
            self._tracked += 1
            closed = self._closed
            if closed:
                pass
            elif len(q) >= self.overflow.max_queue:
                self._on_overflow(item)
            else:
                q.append(item)
        if closed:
            self._late(item)
            return
        if len(q) >= self.delivery.batch_size and not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            with contextlib.suppress(RuntimeError):  # loop closed
                self._loop.call_soon_threadsafe(self._wake_soon)

    def _on_overflow(self, item: tuple | Envelope) -> None:
        """Queue full (called with ``_tracked_lock`` held): never any I/O on this thread."""
        self._overflowed += 1
        policy = self._overflow_policy
        if policy == "drop_newest":
            self._count_drop(f"overflow: queue full ({policy})")
        elif policy == "drop_oldest":
            with contextlib.suppress(IndexError):
                self._q.popleft()
                self._count_drop(f"overflow: queue full ({policy})")
            self._q.append(item)
        elif len(self._spill) < self.overflow.max_spill:
            # spool: hand the record to the worker, which writes it to the spool before it
            # takes anything else; the caller never waits for SQLite
            self._spill.append(item)
        else:
            self._count_drop("overflow: queue and spill full (spool)")
        self._log_overflow()

    def _log_overflow(self) -> None:
        self._overflow_unlogged += 1
        now = time.monotonic()
        if now - self._overflow_logged_at >= _OVERFLOW_LOG_EVERY_S:
            log.warning(
                "tracker queue full (max_queue=%d, policy=%s): %d records overflowed since "
                "the last warning, %d in all",
                self.overflow.max_queue,
                self._overflow_policy,
                self._overflow_unlogged,
                self._overflowed,
            )
            self._overflow_logged_at = now
            self._overflow_unlogged = 0

    def _count_drop(self, reason: str, n: int = 1) -> None:
        with self._counts_lock:
            self._dropped += n
            self._reasons[reason] += n

    def _late(self, item: tuple | Envelope) -> None:
        """track() after close(): spool durably while the spool is open, else count as dropped.

        The one path where the caller's thread writes to the spool: the worker is gone.
        """
        if self.spool.durable and self._spool_open:
            env = self._prepare(item)
            if env is None:
                return
            with contextlib.suppress(Exception):
                if self.spool.put_many([env]):
                    with self._counts_lock:
                        self._spooled += 1
                    return
        self._count_drop("tracked after close")
        txn = item.txn_id if isinstance(item, Envelope) else item[0]
        log.warning("track() called after close(): record %r dropped", txn)
