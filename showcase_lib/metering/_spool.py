"""Where undeliverable records wait: a durable SQLite spool, or a bounded memory buffer.

A spooled record is an :class:`Envelope`: the idempotency key minted once for the record, its
transaction id and the exact JSON body. Replays send the same key and the same bytes, so the
service stores each record once however many times it is sent.

* :class:`Spool` (SQLite in WAL mode) survives a crash of the process: a committed
  ``put_many`` is in the operating system's hands, so ``kill -9`` loses nothing that was
  spooled. ``fsync=True`` (``synchronous=FULL``) also survives a power cut, at a cost per commit.
  Leases are kept in memory only, so a new process sees every row as pending again.
  Records rejected for good (HTTP 400/401/409 mismatch) move to a ``dead`` table instead of
  vanishing: inspect them with :meth:`Spool.dead_letters` and re-drive them after a fix.
* :class:`MemorySpool` is the official SDK's behaviour (a bounded in-memory buffer; the oldest
  record is evicted, and counted, when full). A crash loses it.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "spool.db")
    >>> sp = Spool(path)
    >>> sp.put_many([Envelope("k1", "t1", b'{"a":1}')])
    1
    >>> batch = sp.lease(10); [e.key for e in batch]
    ['k1']
    >>> sp.ack(batch); len(sp)
    0
    >>> sp.close()
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class Envelope:
    """One record ready to send: idempotency key, transaction id, JSON body bytes.

    ``seq`` is the spool row id while the record is spooled (None otherwise); ``attempts``
    counts HTTP attempts so far; ``tag`` is free for the caller (the backfill's row offset).

    Example:
        >>> env = Envelope("idem-key-1", "txn-1", b'{"model":"gpt-4o-mini"}')
        >>> env.seq is None, env.attempts
        (True, 0)
    """

    key: str
    txn_id: str
    body: bytes
    attempts: int = 0
    seq: int | None = None
    created: float = field(default_factory=time.time)
    tag: object = None


class MemorySpool:
    """A bounded in-memory buffer with the :class:`Spool` interface (lost on a crash).

    Example:
        >>> m = MemorySpool(max_records=2)
        >>> m.put_many([Envelope(str(i), str(i), b"{}") for i in range(3)])
        3
        >>> len(m), m.evicted
        (2, 1)
    """

    durable = False

    # 20,000 records: the official SDK's buffer; a few minutes of traffic at 100 calls/s, and
    # about 10 MB of half-kilobyte bodies
    def __init__(self, max_records: int = 20_000) -> None:
        self.max_records = int(max_records)
        self._rows: collections.OrderedDict[int, Envelope] = collections.OrderedDict()
        self._leased: set[int] = set()
        self._seq = 0
        self._dead: list[tuple[Envelope, str]] = []
        self.evicted = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def put_many(self, envelopes: Iterable[Envelope]) -> int:
        n = 0
        with self._lock:
            for env in envelopes:
                self._seq += 1
                env.seq = self._seq
                self._rows[self._seq] = env
                n += 1
                while len(self._rows) > self.max_records:
                    # the oldest record not in flight: a leased one may be delivered in a
                    # moment, and must not be counted both evicted and delivered
                    old = next((q for q in self._rows if q not in self._leased), None)
                    if old is None:
                        break
                    del self._rows[old]
                    self.evicted += 1
        return n

    def lease(self, limit: int) -> list[Envelope]:
        out = []
        with self._lock:
            for seq, env in self._rows.items():
                if seq not in self._leased:
                    self._leased.add(seq)
                    out.append(env)
                    if len(out) >= limit:
                        break
        return out

    def ack(self, envelopes: Sequence[Envelope]) -> None:
        with self._lock:
            for env in envelopes:
                if env.seq is not None:
                    self._rows.pop(env.seq, None)
                    self._leased.discard(env.seq)

    def release(self, envelopes: Sequence[Envelope]) -> None:
        with self._lock:
            for env in envelopes:
                self._leased.discard(env.seq)  # type: ignore[arg-type]

    def bury(self, envelopes: Sequence[Envelope], reason: str) -> None:
        self.ack([e for e in envelopes if e.seq is not None])
        with self._lock:
            self._dead.extend((e, reason) for e in envelopes)

    def dead_count(self) -> int:
        return len(self._dead)

    def dead_letters(self) -> list[dict]:
        return [{"key": e.key, "transaction_id": e.txn_id, "reason": r} for e, r in self._dead]

    @property
    def leased(self) -> int:
        return len(self._leased)

    def clear(self) -> int:
        """Forget every record (the tracker's close, when they cannot be delivered); count.

        Example:
            >>> m = MemorySpool(); m.put_many([Envelope("k", "t", b"{}")]); m.clear(), len(m)
            1
            (1, 0)
        """
        with self._lock:
            n = len(self._rows)
            self._rows.clear()
            self._leased.clear()
        return n

    def close(self) -> None:
        pass


class Spool:
    """A durable on-disk spool (SQLite, WAL journal) shared safely between threads.

    Args:
        path: the database file (created with its folder if missing).
        fsync: ``True`` for ``synchronous=FULL`` (survives power loss); the default
            ``NORMAL`` in WAL mode survives any crash of the process.

    Example:
        >>> import tempfile, os
        >>> sp = Spool(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> sp.put_many([Envelope("k", "t", b"{}"), Envelope("k", "t", b"{}")])
        1
        >>> len(sp); sp.close()
        1
    """

    durable = True

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " key TEXT NOT NULL UNIQUE, txn_id TEXT NOT NULL, body BLOB NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dead (key TEXT PRIMARY KEY, txn_id TEXT NOT NULL,"
            " body BLOB NOT NULL, reason TEXT NOT NULL, buried REAL NOT NULL)"
        )
        self._leased: set[int] = set()
        self._cursor = 0
        self._count = self._db.execute("SELECT COUNT(*) FROM spool").fetchone()[0]
        self._dead = self._db.execute("SELECT COUNT(*) FROM dead").fetchone()[0]
        self.evicted = 0  # a durable spool never evicts

    def __len__(self) -> int:
        return self._count

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` on any error (call with the lock held).

        Without the rollback a failed write would leave the transaction open and every later
        ``BEGIN`` would fail with "cannot start a transaction within a transaction".
        """
        db = self._db
        db.execute("BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def __repr__(self) -> str:
        return f"Spool({str(self.path)!r}, backlog={self._count}, leased={len(self._leased)})"

    def put_many(self, envelopes: Iterable[Envelope]) -> int:
        """Store envelopes in one transaction; a key already spooled is ignored. Returns new rows."""
        rows = [(e.key, e.txn_id, e.body, e.attempts, e.created) for e in envelopes]
        if not rows:
            return 0
        with self._lock:
            before = self._db.total_changes
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO spool (key, txn_id, body, attempts, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
            added = self._db.total_changes - before
            self._count += added
        return added

    def lease(self, limit: int) -> list[Envelope]:
        """Take up to ``limit`` pending records (oldest first) and mark them in flight."""
        with self._lock:
            out = self._lease_locked(limit)
            if len(out) < limit and self._cursor and self._count > len(self._leased):
                self._cursor = 0  # wrap around: pick up records released earlier
                out += self._lease_locked(limit - len(out))
        return out

    def _lease_locked(self, limit: int) -> list[Envelope]:
        out: list[Envelope] = []
        cursor = self._cursor
        while len(out) < limit:
            rows = self._db.execute(
                "SELECT seq, key, txn_id, body, attempts, created FROM spool WHERE seq > ?"
                " ORDER BY seq LIMIT ?",
                (cursor, limit * 2),
            ).fetchall()
            if not rows:
                break
            for seq, key, txn, body, attempts, created in rows:
                cursor = seq
                if seq in self._leased:
                    continue
                self._leased.add(seq)
                out.append(Envelope(key, txn, body, attempts, seq, created))
                if len(out) >= limit:
                    break
        self._cursor = cursor
        return out

    def ack(self, envelopes: Sequence[Envelope]) -> None:
        """Delete delivered records (one transaction)."""
        seqs = [(e.seq,) for e in envelopes if e.seq is not None]
        if not seqs:
            return
        with self._lock:
            before = self._db.total_changes
            with self._transaction() as db:
                db.executemany("DELETE FROM spool WHERE seq = ?", seqs)
            self._count -= self._db.total_changes - before
            for (s,) in seqs:
                self._leased.discard(s)

    def release(self, envelopes: Sequence[Envelope]) -> None:
        """Give leased records back (delivery failed again); they will be leased later."""
        with self._lock:
            for e in envelopes:
                if e.seq is not None:
                    self._leased.discard(e.seq)
                    self._cursor = min(self._cursor, e.seq - 1)

    def bury(self, envelopes: Sequence[Envelope], reason: str) -> None:
        """Move records rejected for good to the ``dead`` table (kept, never lost)."""
        if not envelopes:
            return
        seqs = [(e.seq,) for e in envelopes if e.seq is not None]
        with self._lock:
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO dead (key, txn_id, body, reason, buried)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(e.key, e.txn_id, e.body, reason, time.time()) for e in envelopes],
                )
                before = db.total_changes
                db.executemany("DELETE FROM spool WHERE seq = ?", seqs)
                deleted = db.total_changes - before
            self._count -= deleted
            self._dead = self._db.execute("SELECT COUNT(*) FROM dead").fetchone()[0]
            for (s,) in seqs:
                self._leased.discard(s)

    def dead_count(self) -> int:
        """Records in the dead-letter table."""
        return self._dead

    def dead_letters(self) -> list[dict]:
        """Records rejected for good, with the reason (bodies omitted)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, txn_id, reason FROM dead ORDER BY buried"
            ).fetchall()
        return [{"key": k, "transaction_id": t, "reason": r} for k, t, r in rows]

    def redrive_dead(self) -> int:
        """Move dead letters back to the spool (after fixing the key or the data)."""
        with self._lock:
            with self._transaction() as db:
                cur = db.execute(
                    "INSERT OR IGNORE INTO spool (key, txn_id, body, attempts, created)"
                    " SELECT key, txn_id, body, 0, buried FROM dead"
                )
                n = cur.rowcount
                db.execute("DELETE FROM dead")
            self._count += max(n, 0)
            self._dead = 0
        return max(n, 0)

    @property
    def leased(self) -> int:
        return len(self._leased)

    def close(self) -> None:
        """Close the database (a WAL checkpoint folds the journal back into the file)."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()
