"""Backfill: stream a large CSV or Parquet of historical calls to the metering API.

Constant memory (chunks from ``showcase_lib.io.iter_calls``; at most ``max_outstanding``
records in flight), bounded concurrency, a client-side token bucket to stay under an API quota,
a tqdm progress bar, and resumable after an interruption:

* idempotency keys are derived from ``call_id`` (:func:`idempotency_key_for`, a UUID v5), so
  a record sent again after a resume carries the same key and is stored once;
* a :class:`Checkpoint` file holds the last *committed* row offset: every row before it is
  delivered, rejected for good (dead-lettered) or safe in the durable spool. It is written
  atomically (temporary file + ``os.replace``) every ``commit_every`` rows.

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

import argparse
import gzip
import json
import os
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from showcase_lib.metering.breaker import CircuitBreaker
from showcase_lib.metering.retry import RetryPolicy
from showcase_lib.metering.settings import Settings
from showcase_lib.metering.spool import Envelope, MemorySpool, Spool
from showcase_lib.metering.tracker import _JSON, Tracker
from showcase_lib.wire import frame_to_wire

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
    """What a backfill run did (this run only) and how fast, with its peak memory."""

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
    peak_rss_mb: float
    baseline_rss_mb: float
    compression: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per metric (for display in a notebook)."""
        d = {k: v for k, v in self.as_dict().items() if k != "compression"}
        d.update({f"compression.{k}": v for k, v in self.compression.items()})
        return pd.DataFrame({"metric": list(d), "value": [str(v) for v in d.values()]})


class _PeakRSS:
    """Sample this process's resident memory in a thread; ``peak_mb`` after ``stop``."""

    def __init__(self, interval_s: float = 0.05) -> None:
        import psutil

        self._proc = psutil.Process()
        self.baseline_mb = self._proc.memory_info().rss / 2**20
        self.peak_mb = self.baseline_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)


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


def backfill(
    path: str | Path,
    settings: Settings,
    *,
    checkpoint: str | Path | None = None,
    chunk_rows: int = 10_000,
    concurrency: int = 32,
    rate_limit: float | None = None,
    max_outstanding: int = 8_192,
    commit_every: int = 2_000,
    spool: Spool | MemorySpool | str | Path | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    measure_compression: bool = True,
    compression_sample: int = 5_000,
    retry: RetryPolicy | None = None,
    breaker: CircuitBreaker | None = None,
    transport: str = "aiohttp",
    close_timeout_s: float = 60.0,
) -> BackfillReport:
    """Send every call of a CSV/Parquet file, resumably, at a bounded rate and concurrency.

    Args:
        path: a CSV or Parquet file in the record schema.
        settings: where to send (:class:`Settings`).
        checkpoint: a checkpoint file; when it exists the run resumes after its committed
            offset. ``None``: no resume. A durable spool ``<checkpoint>.spool.db`` is used by
            default when a checkpoint is given.
        chunk_rows: rows read per chunk (memory is bounded by this and ``max_outstanding``).
        concurrency: parallel requests (keep-alive connections).
        rate_limit: requests per second at most (token bucket), e.g. to respect a quota.
        max_outstanding: records submitted but not yet settled, at most (backpressure).
        commit_every: checkpoint granularity in rows.
        spool: override the spool (see :class:`Tracker`).
        progress: show a tqdm progress bar (``tqdm.auto``: works in notebooks and terminals).
        stop_after: stop reading after this many rows of this run (simulates an interruption;
            what was submitted is still delivered or spooled, and the checkpoint says where
            to resume).
        measure_compression: gzip the first ``compression_sample`` bodies to report the ratio.

    Returns:
        A :class:`BackfillReport` (this run's counters, throughput, peak memory, compression).

    Example:
        >>> backfill("missing.csv", Settings("k", "http://127.0.0.1:9"))
        Traceback (most recent call last):
        ...
        FileNotFoundError: path='missing.csv' does not exist
    """
    with warnings.catch_warnings():  # without ipywidgets tqdm.auto warns, then prints text
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path={str(path)!r} does not exist")
    for name, value in (
        ("chunk_rows", chunk_rows),
        ("concurrency", concurrency),
        ("max_outstanding", max_outstanding),
        ("commit_every", commit_every),
    ):
        if int(value) < 1:
            raise ValueError(f"{name}={value!r} must be >= 1")
    source, size = str(path.resolve()), path.stat().st_size
    ckpt = Checkpoint(Path(checkpoint)) if checkpoint is not None else None
    start_row = 0
    if ckpt is not None:
        state = ckpt.load()
        if state is not None:
            if state.get("source") != source or state.get("size_bytes") != size:
                raise ValueError(
                    f"checkpoint={str(ckpt.path)!r} is for source={state.get('source')!r} "
                    f"({state.get('size_bytes')} bytes), not {source!r} ({size} bytes)"
                )
            start_row = int(state.get("rows_committed", 0))
        if spool is None:
            spool = Spool(str(ckpt.path) + ".spool.db")
    durable = bool(getattr(spool, "durable", False)) if spool is not None else False

    rows_total = _count_rows(path)
    commits = _Commits(start_row, commit_every, durable)
    slots = threading.BoundedSemaphore(max_outstanding)

    def on_settled(env: Envelope, outcome: str) -> None:
        if commits.settled(env, outcome):
            slots.release()

    mem = _PeakRSS()
    t0 = time.perf_counter()
    tracker = Tracker(
        settings,
        transport=transport,
        concurrency=concurrency,
        batch_size=max(64, concurrency * 2),
        max_queue=max_outstanding * 2,
        overflow="spool" if durable else "drop_newest",
        spool=spool,
        retry=retry,
        breaker=breaker,
        rate_limit=rate_limit,
        on_settled=on_settled,
    )
    bar = tqdm(
        total=rows_total,
        initial=start_row,
        unit="rec",
        desc="backfill",
        disable=not progress,
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
                env = Envelope(idempotency_key_for(txn), txn, _JSON(body), tag=offset)
                if measure_compression and len(sample) < compression_sample:
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
        mem.stop()
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
        rate_limit=rate_limit,
        concurrency=concurrency,
        peak_rss_mb=mem.peak_mb,
        baseline_rss_mb=mem.baseline_mb,
        compression=compression_stats(sample) if sample else {},
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m showcase_lib.metering backfill PATH --base-url URL ...``.

    The API key is read from ``REVENIUM_METERING_API_KEY`` only (never a command-line
    argument: process lists show arguments).
    """
    p = argparse.ArgumentParser(
        prog="python -m showcase_lib.metering backfill",
        description="Backfill historical AI calls to Revenium.",
    )
    p.add_argument("path")
    p.add_argument("--base-url", default=None, help="default: REVENIUM_METERING_BASE_URL")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rate-limit", type=float, default=None)
    p.add_argument("--chunk-rows", type=int, default=10_000)
    p.add_argument("--commit-every", type=int, default=2_000)
    p.add_argument("--max-retries", type=int, default=None)
    p.add_argument(
        "--close-timeout",
        type=float,
        default=120.0,
        help="seconds to finish delivering (and replaying the spool) at the end",
    )
    p.add_argument("--progress", action="store_true")
    a = p.parse_args(argv)
    overrides: dict[str, Any] = {}
    if a.base_url:
        overrides["base_url"] = a.base_url
    if a.max_retries is not None:
        overrides["max_retries"] = a.max_retries
    settings = Settings.from_env(**overrides)
    report = backfill(
        a.path,
        settings,
        checkpoint=a.checkpoint,
        concurrency=a.concurrency,
        rate_limit=a.rate_limit,
        chunk_rows=a.chunk_rows,
        commit_every=a.commit_every,
        progress=a.progress,
        measure_compression=False,
        close_timeout_s=a.close_timeout,
    )
    json.dump({k: v for k, v in report.as_dict().items() if k != "compression"}, sys.stdout)
    sys.stdout.write("\n")
    return 0 if report.completed else 1
