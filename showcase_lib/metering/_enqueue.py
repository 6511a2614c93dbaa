"""The caller's side of the tracker: ``track()`` packs a tuple, appends it, and returns.

Nothing here touches the network, maps to the wire or encodes JSON: that is the worker's job
(:mod:`._worker`). ``track()`` never blocks on the network and never raises into the AI call.
Transaction ids come from a generator of this module's own (:func:`new_transaction_id`).

Example:
    >>> len(new_transaction_id())
    32
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from typing import TYPE_CHECKING, Any

from showcase_lib.metering._context import _current_ref
from showcase_lib.metering._spool import Envelope

if TYPE_CHECKING:
    from collections.abc import Mapping

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
        """Record one AI call; return its transaction id at once. Never blocks, never raises.

        ``fields`` are any other record columns: metadata tags (``customer_id=...``, merged
        over the current :func:`metadata_context`), ``cost_usd``, ``call_id`` (the
        transaction id, minted if missing) and ``timestamp`` (when the call started;
        default: now minus ``latency_ms``), plus ``idempotency_key`` (default: minted in the
        worker). The wire mapping happens later, in the worker.

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> len(t.track("openai", "gpt-4o-mini", 120, 30, 850, customer_id="cust_1"))
            32
            >>> t.track("openai", "gpt-4o-mini", 120, 30, 850, call_id="c-7", cost_usd=0.001)
            'c-7'
        """
        call_id = None
        try:
            call_id = fields.pop("call_id", None)
            key = fields.pop("idempotency_key", None)
            txn = call_id or new_transaction_id()
            item = (
                txn,
                time.time_ns(),
                (provider, model, input_tokens, output_tokens, latency_ms),
                fields,
                _current_ref(),
                key,
            )
            self._enqueue(item)
            return txn
        except Exception:  # pragma: no cover - never raise into the AI call
            return call_id or ""

    def track_record(self, record: Mapping[str, Any], *, idempotency_key: str | None = None) -> str:
        """Record one call given as a record mapping (the schema's columns); return its id.

        ``call_id`` is the transaction id (minted if missing). Never blocks, never raises.

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
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

        Example:
            >>> from showcase_lib.metering import Settings, Tracker
            >>> t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
            >>> from showcase_lib.metering import Envelope
            >>> t.submit(Envelope("key-1", "txn-1", b'{"model":"m"}'))
            'txn-1'
        """
        with contextlib.suppress(Exception):  # pragma: no cover
            self._enqueue(env)
        return env.txn_id

    def _enqueue(self, item: tuple | Envelope) -> None:
        q = self._q
        with self._tracked_lock:  # a plain int: readable from any thread, on any Python
            self._tracked += 1
        if self._closed:
            self._late(item)
            return
        if len(q) >= self.overflow.max_queue:
            self._on_overflow(item)
        else:
            q.append(item)
        if len(q) >= self.delivery.batch_size and not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            with contextlib.suppress(RuntimeError):  # loop closed
                self._loop.call_soon_threadsafe(self._wake_soon)

    def _on_overflow(self, item: tuple | Envelope) -> None:
        with self._counts_lock:
            self._overflowed += 1
        policy = self._overflow_policy
        if policy == "drop_newest":
            self._count_drop()
        elif policy == "drop_oldest":
            with contextlib.suppress(IndexError):
                self._q.popleft()
                self._count_drop()
            self._q.append(item)
        else:  # spool, from the caller's thread: slower for this record, nothing lost
            env = self._prepare(item)
            if env is not None:
                added = self.spool.put_many([env])
                with self._counts_lock:
                    self._spooled += added
                if self._on_settled is not None:
                    self._on_settled(env, "spooled")

    def _count_drop(self, n: int = 1) -> None:
        with self._counts_lock:
            self._dropped += n

    def _late(self, item: tuple | Envelope) -> None:
        """track() after close(): spool durably if possible, else count as dropped."""
        if self.spool.durable and self._spool_open:
            env = self._prepare(item)
            if env is not None:
                added = self.spool.put_many([env])
                with self._counts_lock:
                    self._spooled += added
                return
        self._count_drop()
        txn = item.txn_id if isinstance(item, Envelope) else item[0]
        log.warning("track() called after close(): record %s dropped", txn)
