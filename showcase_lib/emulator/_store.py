"""The emulator's durable store: SQLite in WAL mode, group commits, idempotency keys on disk,
and dedup by ``transactionId``.

One writer connection (used from a single thread) takes *batches* of pending records and
commits each batch in one transaction: the idempotency check (one ``SELECT ... IN``) and the
inserts (``executemany``) cost one round trip per batch instead of one per record, which is
what keeps throughput high. Readers open their own connections (WAL lets them read while the
writer writes), from another thread or another process.

Dedup: a completion whose ``transactionId`` is already stored is the same call, whatever its
``Idempotency-Key`` (another key, or none): it is not stored again and gets the first
answer (outcome ``duplicate_transaction``). That is what makes a call metered twice (by the
SDK and by OpenTelemetry, or by a client that retries without a key) count once, when both
carry the call's id. Only completions: the other endpoints' ids are not documented as the
call's identity. The ``transactions`` table maps ``(kind, transactionId)`` to the first
record; a store written before it existed is indexed on open.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "emu.sqlite")
    >>> store = Store(path)
    >>> item = Pending("completion", "key-1", "h1", '{"transactionId":"t1"}', "t1",
    ...                '{"id":"r1"}', "r1", 0.0)
    >>> other = item._replace(key="key-2", transaction_id="t2")
    >>> [o.outcome for o in store.write_batch([item, other])]
    ['stored', 'stored']
    >>> store.write_batch([item])[0].outcome
    'duplicate'
    >>> store.write_batch([item._replace(key="key-3")])[0].outcome  # same transactionId
    'duplicate_transaction'
    >>> read_bodies(path)[0]["transactionId"], store.count()
    ('t1', 2)
    >>> store.close()
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

IDEMPOTENCY_WINDOW_S: float = 24 * 3600.0
_CHUNK = 500  # parameters per SELECT ... IN (...)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    transaction_id TEXT,
    idem_key TEXT,
    response_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    kind TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (kind, transaction_id)
) WITHOUT ROWID;
"""
#: Kinds deduplicated by transactionId (see the module docstring).
DEDUP_KINDS: frozenset[str] = frozenset({"completion"})


class Pending(NamedTuple):
    """A record waiting to be written (built by the server from a validated request)."""

    kind: str  # "completion", "audio", ... (the endpoint)
    key: str | None  # Idempotency-Key, or None
    body_hash: str  # hash of the body bytes, to spot "same key, different body"
    body: str  # JSON text of the body, as received
    transaction_id: str | None
    response: str  # JSON text of the 201 answer, kept for repeats of the key
    response_id: str  # the answer's "id"
    now: float  # epoch seconds


class Outcome(NamedTuple):
    """What happened to one pending record: ``stored``, ``duplicate`` (a repeat of its key, with
    the first answer), ``duplicate_transaction`` (its transactionId is already stored, with
    the first answer) or ``mismatch`` (its key was used with another body)."""

    outcome: str
    response: str | None = None


def _connect(path: str | os.PathLike[str], *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(
            os.fspath(path), timeout=30, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of the process (the WAL is written
        # before the commit returns); only an OS crash or power loss can lose the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class Store:
    """Writer side of the store. Use from one thread at a time (the server's writer thread)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        self._conn = _connect(self.path)
        self._conn.executescript(_SCHEMA)
        row = self._conn.execute("SELECT value FROM meta WHERE name='secret'").fetchone()
        if row is None:
            secret = secrets.token_bytes(32)
            self._conn.execute("INSERT INTO meta VALUES ('secret', ?)", (secret,))
        else:
            secret = bytes(row[0])
        #: Per-store signing secret for the ``signature`` of answers (never the API key).
        self.secret: bytes = secret
        self._count = self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        if self._count and not self._conn.execute("SELECT 1 FROM transactions LIMIT 1").fetchone():
            self._index_transactions()
        self._last_seq = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[
            0
        ]

    def _index_transactions(self) -> None:
        """Fill ``transactions`` from the events of a store written before it existed."""
        kinds = sorted(DEDUP_KINDS)
        rows = self._conn.execute(
            "SELECT kind, transaction_id, MIN(seq), response_id FROM events "
            f"WHERE transaction_id IS NOT NULL AND kind IN ({','.join('?' * len(kinds))}) "
            "GROUP BY kind, transaction_id",
            kinds,
        ).fetchall()
        answers = [
            (kind, tid, seq, json.dumps({"id": rid, "label": f"{kind} {tid}"[:255]}))
            for kind, tid, seq, rid in rows
        ]
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.executemany("INSERT OR IGNORE INTO transactions VALUES (?, ?, ?, ?)", answers)
        self._conn.execute("COMMIT")

    def count(self) -> int:
        """Rows in the events table (all kinds, all runs)."""
        return self._count

    def write_batch(self, items: Sequence[Pending]) -> list[Outcome]:
        """Store a batch in one transaction; answer each item in order.

        A key seen within 24 h with the same body is a ``duplicate`` (answered with the first
        response, stored once); with a different body it is a ``mismatch``. Bodies are
        compared by hash first and, when the hashes differ, as parsed JSON (so a replay that
        only reorders keys or spacing is still a duplicate). Keys older than the window count
        as new. Then a completion whose transactionId is stored (or earlier in the batch) is
        a ``duplicate_transaction``: not stored, answered with the first response, and its
        key (if any) remembered with that answer. Two items of one batch never share a key
        (the server answers the second with 409 ``idempotency_key_in_progress``).
        """
        conn = self._conn
        keys = [it.key for it in items if it.key is not None]
        tids = [
            (it.kind, it.transaction_id)
            for it in items
            if it.transaction_id is not None and it.kind in DEDUP_KINDS
        ]
        known: dict[str, tuple[str, str, float, int]] = {}
        stored_tids: dict[tuple[str, str], tuple[int, str]] = {}
        conn.execute("BEGIN IMMEDIATE")
        try:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, h, resp, created, seq in conn.execute(
                    "SELECT key, body_hash, response, created_at, seq FROM idempotency "
                    f"WHERE key IN ({marks})",
                    chunk,
                ):
                    known[key] = (h, resp, created, seq)
            for kind in {k for k, _ in tids}:
                ids = [t for k, t in tids if k == kind]
                for i in range(0, len(ids), _CHUNK):
                    chunk = ids[i : i + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    for tid, seq, resp in conn.execute(
                        "SELECT transaction_id, seq, response FROM transactions "
                        f"WHERE kind = ? AND transaction_id IN ({marks})",
                        [kind, *chunk],
                    ):
                        stored_tids[(kind, tid)] = (seq, resp)
            outcomes: list[Outcome] = []
            events: list[tuple[Any, ...]] = []
            idem: list[tuple[Any, ...]] = []
            new_tids: list[tuple[Any, ...]] = []
            seq = self._last_seq
            for it in items:
                seen = known.get(it.key) if it.key is not None else None
                if seen is not None and it.now - seen[2] < IDEMPOTENCY_WINDOW_S:
                    if seen[0] == it.body_hash or self._same_body(seen[3], it.body):
                        outcomes.append(Outcome("duplicate", seen[1]))
                    else:
                        outcomes.append(Outcome("mismatch"))
                    continue
                tid_key = (it.kind, it.transaction_id)
                first = stored_tids.get(tid_key) if it.transaction_id is not None else None
                if first is not None:
                    if it.key is not None:
                        idem.append((it.key, it.body_hash, first[1], it.now, first[0]))
                    outcomes.append(Outcome("duplicate_transaction", first[1]))
                    continue
                seq += 1
                events.append(
                    (seq, it.kind, it.transaction_id, it.key, it.response_id, it.now, it.body)
                )
                if it.key is not None:
                    idem.append((it.key, it.body_hash, it.response, it.now, seq))
                if it.transaction_id is not None and it.kind in DEDUP_KINDS:
                    stored_tids[tid_key] = (seq, it.response)
                    new_tids.append((it.kind, it.transaction_id, seq, it.response))
                outcomes.append(Outcome("stored", it.response))
            if events:
                conn.executemany(
                    "INSERT INTO events (seq, kind, transaction_id, idem_key, response_id, "
                    "received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    events,
                )
            if idem:
                conn.executemany("INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?)", idem)
            if new_tids:
                conn.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?)", new_tids)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._last_seq = seq
        self._count += len(events)
        return outcomes

    def _same_body(self, seq: int, body: str) -> bool:
        row = self._conn.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
        if row is None:  # cleared since
            return False
        try:
            return json.loads(row[0]) == json.loads(body)
        except ValueError:
            return False

    def clear(self) -> None:
        """Delete every stored event and idempotency key (the signing secret stays)."""
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute("DELETE FROM events")
        self._conn.execute("DELETE FROM idempotency")
        self._conn.execute("DELETE FROM transactions")
        self._conn.execute("COMMIT")
        self._count = 0

    def bodies_json(
        self, *, kind: str | None = "completion", limit: int | None = None, offset: int = 0
    ) -> str:
        """A JSON array of stored bodies (text, not parsed), in arrival order."""
        rows = _select_bodies(self._conn, kind, limit, offset)
        return "[" + ",".join(r[0] for r in rows) + "]"

    def close(self) -> None:
        self._conn.close()


def _select_bodies(
    conn: sqlite3.Connection, kind: str | None, limit: int | None, offset: int
) -> list[tuple[str]]:
    where = "WHERE kind = ?" if kind is not None else ""
    params: list[Any] = [kind] if kind is not None else []
    params += [-1 if limit is None else int(limit), int(offset)]
    return conn.execute(
        f"SELECT body FROM events {where} ORDER BY seq LIMIT ? OFFSET ?",
        params,
    ).fetchall()


def read_bodies(
    path: str | os.PathLike[str],
    *,
    kind: str | None = "completion",
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Read stored bodies (wire form) from a store file, with a read-only connection.

    Safe while a server (in this or another process) is writing.
    """
    if not os.path.exists(path):
        return []
    conn = _connect(path, readonly=True)
    try:
        rows = _select_bodies(conn, kind, limit, offset)
    finally:
        conn.close()
    loads = json.loads
    return [loads(r[0]) for r in rows]


def count_events(path: str | os.PathLike[str], *, kind: str | None = "completion") -> int:
    """How many events of ``kind`` (None: all) a store file holds; 0 if it does not exist."""
    if not os.path.exists(path):
        return 0
    conn = _connect(path, readonly=True)
    try:
        if kind is None:
            return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,)).fetchone()[0]
    finally:
        conn.close()
