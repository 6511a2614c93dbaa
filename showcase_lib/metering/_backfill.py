"""Backfill: stream a large CSV or Parquet of historical calls to the metering API.

Constant memory (chunks from ``showcase_lib.io.iter_calls``; at most ``max_outstanding``
records in flight), bounded concurrency (a :class:`Delivery`, shared with the live tracker), a client-side token bucket to stay under an API quota,
a tqdm progress bar, and resumable after an interruption:

* idempotency keys are derived from ``call_id`` (:func:`idempotency_key_for`, a UUID v5), so
  a record sent again after a resume carries the same key and is stored once;
* a :class:`Checkpoint` file holds the last *committed* row offset: every row before it is
  delivered, rejected for good (dead-lettered) or safe in the durable spool. It is written
  atomically (temporary file + ``os.replace``) every ``commit_every`` rows.

The run's own options (chunk size, backpressure, checkpoint granularity, progress bar) are a
frozen :class:`BackfillOptions`; how records are sent is a :class:`Delivery`.

Compression: the official API takes plain JSON (no request compression, one record per POST),
so the backfill sends plain JSON; :func:`compression_stats` measures what gzip *would* save per
request and for a hypothetical batched body.

Run it in another process (then ``kill -9`` it and resume)::

    REVENIUM_METERING_API_KEY=... python -m showcase_lib.metering backfill calls.parquet \\
        --base-url http://127.0.0.1:8787 --checkpoint run.ckpt.json

Example:
    >>> idempotency_key_for("call-000001") == idempotency_key_for("call-000001")
    True
    >>> compression_stats([b'{"model":"gpt-4o-mini","provider":"OpenAI"}'] * 100)["batch_ratio"] > 10
    True
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from showcase_lib.metering._config import Delivery, Overflow
from showcase_lib.metering._settings import Settings
from showcase_lib.metering._spool import Envelope, MemorySpool, Spool
from showcase_lib.metering._tracker import Tracker
from showcase_lib.wire import encode_body, frame_to_wire

#: Namespace of the derived idempotency keys (fixed forever: changing it breaks resumes).
KEY_NAMESPACE = uuid.UUID("6f1c2d8e-4a57-5b0e-9d3c-7e2a1b4c9f10")


def idempotency_key_for(call_id: str) -> str:
    """The idempotency key of a historical call: ``uuid5(KEY_NAMESPACE, call_id)``.

    Deterministic, so a resumed or repeated backfill sends the same key for the same call.

    Example:
        >>> idempotency_key_for("c1")
        'c115294c-7326-5c27-bcda-4b520a828fd9'
    """
    return str(uuid.uuid5(KEY_NAMESPACE, str(call_id)))


def compression_stats(
    bodies: Iterable[bytes], *, level: int = 6, batch_size: int = 1000
) -> dict[str, float]:
    """What gzip would save: per request (one body per POST) and per batch of bodies.

    Returns ``records``, ``raw_bytes``, ``gzip_bytes`` (each body compressed alone),
    ``per_request_ratio`` (raw / gzip), and ``batch_gzip_bytes`` / ``batch_ratio`` for bodies
    joined into JSON arrays of ``batch_size`` (what a batch endpoint with compression could
    save; the official API has neither).

    Example:
        >>> s = compression_stats([b'{"a": 1}'])
        >>> s["records"], s["raw_bytes"]
        (1, 8)
    """
    raw = gz = batch_gz = n = 0
    batch: list[bytes] = []
    for body in bodies:
        n += 1
        raw += len(body)
        gz += len(gzip.compress(body, compresslevel=level, mtime=0))
        batch.append(body)
        if len(batch) >= batch_size:
            batch_gz += len(gzip.compress(b"[" + b",".join(batch) + b"]", level, mtime=0))
            batch = []
    if batch:
        batch_gz += len(gzip.compress(b"[" + b",".join(batch) + b"]", level, mtime=0))
    return {
        "records": n,
        "raw_bytes": raw,
        "gzip_bytes": gz,
        "per_request_ratio": raw / gz if gz else float("nan"),
        "batch_gzip_bytes": batch_gz,
        "batch_ratio": raw / batch_gz if batch_gz else float("nan"),
    }


@dataclass
class Checkpoint:
    """A small JSON file: the source file, its size, and the last committed row offset.

    Written atomically (``os.replace``), so a crash leaves the previous checkpoint intact.

    Example:
        >>> import tempfile
        >>> c = Checkpoint(Path(tempfile.mkdtemp()) / "c.json")
        >>> c.load() is None
        True
        >>> c.save("/data/calls.parquet", 10, rows_committed=5); c.load()["rows_committed"]
        5
    """

    path: Path
    fsync: bool = False

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text())

    def save(
        self, source: str, size_bytes: int, *, rows_committed: int, done: bool = False
    ) -> None:
        data = {
            "source": source,
            "size_bytes": size_bytes,
            "rows_committed": rows_committed,
            "done": done,
            "updated": time.time(),
        }
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "w") as fh:
            json.dump(data, fh)
            if self.fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class BackfillReport:
    """What a backfill run did (this run only) and how fast.

    Memory is not measured here (that is a benchmark's job: ``benchmarks/bench_metering.py``
    samples the process around the call).

    Example:
        >>> r = BackfillReport(source="calls.parquet", rows_total=2, resumed_from=0,
        ...     rows_read=2, submitted=2, delivered=2, replayed=0, failed=0, spooled=0,
        ...     retried=0, requests=2, connections=1, rows_committed=2, spool_backlog=0,
        ...     completed=True, interrupted=False, elapsed_s=0.5, records_per_s=4.0,
        ...     rate_limit=None, concurrency=32)
        >>> r.to_frame().set_index("metric").loc["delivered", "value"]
        '2'
    """

    source: str
    rows_total: int | None
    resumed_from: int
    rows_read: int
    submitted: int
    delivered: int
    replayed: int
    failed: int
    spooled: int
    retried: int
    requests: int
    connections: int | None
    rows_committed: int
    spool_backlog: int
    completed: bool
    interrupted: bool
    elapsed_s: float
    records_per_s: float
    rate_limit: float | None
    concurrency: int
    compression: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Every field as a plain dict (JSON-ready)."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per metric (for display in a notebook)."""
        d = {k: v for k, v in self.as_dict().items() if k != "compression"}
        d.update({f"compression.{k}": v for k, v in self.compression.items()})
        return pd.DataFrame({"metric": list(d), "value": [str(v) for v in d.values()]})


def _resume_point(ckpt: Checkpoint | None, source: str, size: int) -> int:
    """The committed offset of a checkpoint of this very file (0 without one)."""
    if ckpt is None:
        return 0
    state = ckpt.load()
    if state is None:
        return 0
    if state.get("source") != source or state.get("size_bytes") != size:
        raise ValueError(
            f"checkpoint={str(ckpt.path)!r} is for source={state.get('source')!r} "
            f"({state.get('size_bytes')} bytes), not {source!r} ({size} bytes)"
        )
    return int(state.get("rows_committed", 0))


def _count_rows(path: Path) -> int | None:
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if path.suffix.lower() == ".csv":
        n = 0
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                n += block.count(b"\n")
        return max(n - 1, 0)
    return None


def _iter_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    from showcase_lib.io import iter_calls

    yield from iter_calls(path, chunk_rows=chunk_rows)


class _Commits:
    """Low-water mark of settled rows: every row below ``committed`` is settled."""

    def __init__(self, start: int, window: int, durable: bool) -> None:
        self.window = window
        self.durable = durable
        self.committed = start
        self._open: dict[int, list[int]] = {}  # window index -> [submitted, settled]
        self._lock = threading.Lock()
        self.outcomes = {"delivered": 0, "spooled": 0, "failed": 0}

    def submitted(self, offset: int) -> None:
        with self._lock:
            self._open.setdefault(offset // self.window, [0, 0])[0] += 1

    def settled(self, env: Envelope, outcome: str) -> bool:
        """Count an outcome; return True if it settles a row of this run."""
        offset = env.tag
        if not isinstance(offset, int):
            return False  # a replay of a spooled record from an earlier run
        if outcome == "spooled" and not self.durable:
            return False  # not safe yet: wait for the replay's "delivered"
        with self._lock:
            self.outcomes[outcome] += 1
            self._open[offset // self.window][1] += 1
            env.tag = None  # settle once
        return True

    def advance(self, produced_upto: int) -> int:
        """Move ``committed`` over windows whose submitted rows have all settled.

        ``produced_upto`` is the next offset to be submitted (every row below it was).
        """
        with self._lock:
            while True:
                w = self.committed // self.window
                sub, done = self._open.get(w, (0, 0))
                if sub == 0 or done < sub:
                    break
                window_end = (w + 1) * self.window
                if produced_upto >= window_end:
                    self.committed = window_end
                    del self._open[w]
                else:  # the window is still being produced: commit up to where it is
                    self.committed = max(self.committed, produced_upto)
                    break
        return self.committed


@dataclass(frozen=True, slots=True)
class BackfillOptions:
    """How a backfill run reads, bounds and records its progress (a frozen value).

    Attributes:
        chunk_rows: rows read per chunk (memory is bounded by this and ``max_outstanding``).
        max_outstanding: records submitted but not yet settled, at most (backpressure).
        commit_every: checkpoint granularity in rows.
        stop_after: stop reading after this many rows of this run (simulates an interruption;
            what was submitted is still delivered or spooled, and the checkpoint says where
            to resume). ``None``: read to the end.
        progress: show a tqdm progress bar (``tqdm.auto``: works in notebooks and terminals).
        compression_sample: gzip the first this many bodies to report the ratio (0: skip).
        spool: path of the durable spool (default: ``<checkpoint>.spool.db`` with a
            checkpoint, else a memory spool).
        close_timeout_s: seconds to finish delivering (and replaying the spool) at the end.

    Example:
        >>> BackfillOptions(chunk_rows=500, progress=False).commit_every
        2000
        >>> BackfillOptions(chunk_rows=0)
        Traceback (most recent call last):
        ...
        ValueError: chunk_rows=0 must be >= 1
    """

    # 10,000 rows of the record schema are ~5 MB as a DataFrame: large enough that reading
    # and the vectorised mapping to the wire are cheap per row, small enough to ignore
    chunk_rows: int = 10_000
    # 8,192 prepared bodies of ~0.5 KB are ~4 MB; at 64 connections that keeps every sender
    # busy for 128 round trips while the reader prepares the next chunk
    max_outstanding: int = 8_192
    # a kill -9 re-sends at most the rows since the last commit (answered from the service's
    # idempotency store); 2,000 rows are a fraction of a second at full speed
    commit_every: int = 2_000
    stop_after: int | None = None
    progress: bool = True
    # 5,000 bodies give a stable gzip ratio in well under a second
    compression_sample: int = 5_000
    spool: str | Path | None = None
    # generous: at the end the spool's backlog (after an outage) is replayed too
    close_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("chunk_rows", "max_outstanding", "commit_every"):
            value = getattr(self, name)
            if int(value) < 1:
                raise ValueError(f"{name}={value!r} must be >= 1")
        if self.stop_after is not None and self.stop_after < 0:
            raise ValueError(f"stop_after={self.stop_after!r} must be >= 0")
        if self.compression_sample < 0:
            raise ValueError(f"compression_sample={self.compression_sample!r} must be >= 0")


#: A backfill's delivery: 32 connections (half the live tracker's): a history is sent once,
#: and sharing the service's capacity with live traffic matters more than a faster finish.
BACKFILL_DELIVERY = Delivery(concurrency=32)


def backfill(
    path: str | Path,
    settings: Settings,
    *,
    checkpoint: str | Path | None = None,
    options: BackfillOptions | None = None,
    delivery: Delivery | None = None,
) -> BackfillReport:
    """Send every call of a CSV/Parquet file, resumably, at a bounded rate and concurrency.

    Args:
        path: a CSV or Parquet file in the record schema.
        settings: where to send (:class:`Settings`).
        checkpoint: a checkpoint file; when it exists the run resumes after its committed
            offset. ``None``: no resume. A durable spool ``<checkpoint>.spool.db`` is used by
            default when a checkpoint is given.
        options: a :class:`BackfillOptions` (chunks, backpressure, commits, progress bar).
        delivery: a :class:`Delivery` (concurrency, ``rate_limit`` to respect a quota, retry
            and breaker policies, transport); default ``BACKFILL_DELIVERY``.

    Returns:
        A :class:`BackfillReport` (this run's counters, throughput, compression).

    Example:
        >>> backfill("missing.csv", Settings("k", "http://127.0.0.1:9"))
        Traceback (most recent call last):
        ...
        FileNotFoundError: path='missing.csv' does not exist
    """
    opts = options if options is not None else BackfillOptions()
    delivery = delivery if delivery is not None else BACKFILL_DELIVERY
    with warnings.catch_warnings():  # without ipywidgets tqdm.auto warns, then prints text
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path={str(path)!r} does not exist")
    source, size = str(path.resolve()), path.stat().st_size
    ckpt = Checkpoint(Path(checkpoint)) if checkpoint is not None else None
    start_row = _resume_point(ckpt, source, size)
    spool: Spool | MemorySpool
    if opts.spool is not None:
        spool = Spool(opts.spool)
    elif ckpt is not None:
        spool = Spool(str(ckpt.path) + ".spool.db")
    else:
        spool = MemorySpool()
    durable = spool.durable
    chunk_rows, commit_every = opts.chunk_rows, opts.commit_every
    stop_after = opts.stop_after
    close_timeout_s = opts.close_timeout_s

    rows_total = _count_rows(path)
    commits = _Commits(start_row, commit_every, durable)
    slots = threading.BoundedSemaphore(opts.max_outstanding)

    def on_settled(env: Envelope, outcome: str) -> None:
        if commits.settled(env, outcome):
            slots.release()

    t0 = time.perf_counter()
    tracker = Tracker(
        settings,
        delivery=delivery,
        spool=spool,
        # the semaphore bounds what is queued; twice that is never reached, and if it were,
        # a durable spool keeps the record (a memory spool would only hold it longer)
        overflow=Overflow(
            policy="spool" if durable else "drop_newest", max_queue=opts.max_outstanding * 2
        ),
        start=False,
    )
    tracker._on_settled = on_settled  # this package's hook: settled rows advance the checkpoint
    tracker.start()
    bar = tqdm(
        total=rows_total,
        initial=start_row,
        unit="rec",
        desc="backfill",
        disable=not opts.progress,
        mininterval=0.5,
        dynamic_ncols=True,
    )
    sample: list[bytes] = []
    offset = 0  # absolute row offset in the file
    submitted = rows_read = 0
    interrupted = False
    last_commit = start_row
    shown = start_row

    commit_lock = threading.Lock()
    finished = threading.Event()

    def commit(done: bool = False) -> None:
        nonlocal last_commit, shown
        with commit_lock:
            committed = commits.advance(offset)
            if ckpt is not None and (committed != last_commit or done):
                ckpt.save(source, size, rows_committed=committed, done=done)
                last_commit = committed
            settled = start_row + sum(commits.outcomes.values())
            if settled > shown:
                bar.update(settled - shown)
                shown = settled

    def committer() -> None:  # checkpoints and progress while the producer waits
        while not finished.wait(0.2):
            commit()

    threading.Thread(target=committer, name="backfill-commit", daemon=True).start()
    try:
        for chunk in _iter_chunks(path, chunk_rows):
            n = len(chunk)
            if offset + n <= start_row:
                offset += n
                continue
            if offset < start_row:
                chunk = chunk.iloc[start_row - offset :]
                offset = start_row
            if stop_after is not None and rows_read + len(chunk) > stop_after:
                chunk = chunk.iloc[: max(0, stop_after - rows_read)]
                interrupted = True
            for body in frame_to_wire(chunk, chunk_rows=2_000):  # dicts for 2,000 rows at a time
                txn = body["transactionId"]
                env = Envelope(idempotency_key_for(txn), txn, encode_body(body), tag=offset)
                if len(sample) < opts.compression_sample:
                    sample.append(env.body)
                while not slots.acquire(timeout=0.5):
                    commit()
                commits.submitted(offset)
                tracker.submit(env)
                offset += 1
                submitted += 1
                if offset % commit_every == 0:
                    commit()
            rows_read += len(chunk)
            commit()
            if interrupted:
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        tracker.flush(close_timeout_s, spool=True)  # deliver the spool's backlog too
        stats = tracker.close(timeout=close_timeout_s)
        finished.set()
        commit(done=not interrupted and commits.advance(offset) == offset)
        bar.close()
    elapsed = time.perf_counter() - t0
    return BackfillReport(
        source=source,
        rows_total=rows_total,
        resumed_from=start_row,
        rows_read=rows_read,
        submitted=submitted,
        delivered=stats.delivered,
        replayed=stats.replayed,
        failed=stats.failed,
        spooled=stats.spooled,
        retried=stats.retried,
        requests=stats.requests,
        connections=stats.connections,
        rows_committed=commits.committed,
        spool_backlog=stats.spool_backlog,
        completed=(
            not interrupted
            and rows_total is not None
            and commits.committed >= rows_total
            and stats.spool_backlog == 0
        ),
        interrupted=interrupted,
        elapsed_s=elapsed,
        records_per_s=stats.delivered / elapsed if elapsed > 0 else float("nan"),
        rate_limit=delivery.rate_limit,
        concurrency=delivery.concurrency,
        compression=compression_stats(sample) if sample else {},
    )
