"""The tracker's option groups: small frozen values, like httpx's ``Limits`` and ``Timeout``.

``Tracker(settings, delivery=Delivery(...), overflow=Overflow(...), spool=...)``: each group
is checked when it is built (a typo in a policy fails at the call, not three modules later)
and can be shared between trackers and changed with :func:`dataclasses.replace`.

Example:
    >>> Delivery(concurrency=8).batch_size, Overflow().policy
    (256, 'auto')
    >>> Overflow(policy="drop-oldest")
    Traceback (most recent call last):
    ...
    ValueError: policy='drop-oldest' is not one of auto, spool, drop_oldest, drop_newest
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from showcase_lib.metering._breaker import BreakerPolicy, CircuitBreaker
from showcase_lib.metering._retry import RetryPolicy

TransportName = Literal["aiohttp", "httpx"]
EventLoopName = Literal["auto", "uvloop", "asyncio"]
OverflowPolicy = Literal["auto", "spool", "drop_oldest", "drop_newest"]


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _check_min(name: str, value: float, minimum: float, *, strict: bool = False) -> None:
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name}={value!r} must be {'>' if strict else '>='} {minimum:g}")


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the worker delivers: HTTP client, connections, wake-ups, rate, retries, breaker.

    Attributes:
        transport: ``"aiohttp"`` (measured faster in ``benchmarks/bench_metering.py``) or
            ``"httpx"``.
        event_loop: the worker thread's loop: ``"auto"`` (uvloop when installed, else
            asyncio), ``"uvloop"`` or ``"asyncio"``. The caller's own loop is never touched.
        concurrency: sender coroutines, i.e. keep-alive connections at most.
        batch_size: queued records that wake the worker early (flush by size).
        flush_interval_s: the worker wakes at least this often (flush by interval).
        rate_limit: requests per second at most (a token bucket), ``None`` for no limit.
        retry: a :class:`RetryPolicy`; ``None`` takes ``settings.max_retries`` retries.
        breaker: a :class:`BreakerPolicy` (each tracker builds its own breaker from it), or
            a ready :class:`CircuitBreaker` (your clock or ``on_transition``; it is used as
            is, so do not share that ``Delivery`` between trackers).
        sample_interval_s: period of the timeline samples (state, backlog) for charts.

    Example:
        >>> Delivery(transport="curl")
        Traceback (most recent call last):
        ...
        ValueError: transport='curl' is not one of aiohttp, httpx
        >>> Delivery(concurrency=0)
        Traceback (most recent call last):
        ...
        ValueError: concurrency=0 must be >= 1
    """

    transport: TransportName = "aiohttp"
    event_loop: EventLoopName = "auto"
    # 64 requests in flight carry ~1,300 records/s at a 50 ms round trip (the API takes one
    # record per POST); more connections add load on the service, not much throughput
    concurrency: int = 64
    # wake early at 256 queued records: at 5,000 calls/s that is every ~50 ms, the flush
    # interval; smaller wakes the worker (and takes the GIL from the caller) more often
    batch_size: int = 256
    # a record waits at most 50 ms for the worker; shorter costs wake-ups on an idle app,
    # longer only delays delivery (nothing waits on it)
    flush_interval_s: float = 0.05
    rate_limit: float | None = None
    retry: RetryPolicy | None = None
    breaker: BreakerPolicy | CircuitBreaker = field(default_factory=BreakerPolicy)
    # 10 samples per second draw a smooth minute-long chart; the tracker keeps the last
    # 200,000 samples (5.5 hours at this rate, about 20 MB)
    sample_interval_s: float = 0.1

    def __post_init__(self) -> None:
        _check_choice("transport", self.transport, get_args(TransportName))
        _check_choice("event_loop", self.event_loop, get_args(EventLoopName))
        _check_min("concurrency", self.concurrency, 1)
        _check_min("batch_size", self.batch_size, 1)
        _check_min("flush_interval_s", self.flush_interval_s, 0, strict=True)
        _check_min("sample_interval_s", self.sample_interval_s, 0, strict=True)
        if self.rate_limit is not None:
            _check_min("rate_limit", self.rate_limit, 0, strict=True)
        if self.retry is not None and not isinstance(self.retry, RetryPolicy):
            raise TypeError(f"retry={self.retry!r} must be a RetryPolicy or None")
        if not isinstance(self.breaker, BreakerPolicy | CircuitBreaker):
            raise TypeError(f"breaker={self.breaker!r} must be a BreakerPolicy or CircuitBreaker")


@dataclass(frozen=True, slots=True)
class Overflow:
    """What ``track()`` does when the in-memory queue is full.

    No policy blocks the caller: beyond the queue, ``track()`` costs a lock and a ``deque``
    operation, never disk or network I/O (measured in ``benchmarks/bench_metering.py``).
    Every overflowing record is counted (``overflowed``; ``dropped`` with a reason when it
    is dropped) and logged, at most one warning per 10 s with the count since the last one.

    Attributes:
        policy: ``"spool"`` (hand the record to a spill area that the worker writes to the
            spool before anything else: nothing lost while the spill has room),
            ``"drop_oldest"``, ``"drop_newest"`` (counted in ``dropped``), or ``"auto"``
            (spool if the spool is durable, else drop_oldest).
        max_queue: bound of the in-memory queue.
        max_spill: bound of the spill (policy ``"spool"``); beyond it records are dropped.

    Example:
        >>> Overflow(policy="drop_newest", max_queue=10).max_queue
        10
    """

    policy: OverflowPolicy = "auto"
    # 100,000 queued records hold ~100 s of traffic at 1,000 calls/s while the worker catches
    # up; each is a tuple of the call's fields and tags (a few hundred bytes): tens of MB
    max_queue: int = 100_000
    # the spill drains at the spool's batched write speed (tens of thousands of records a
    # second), so 100,000 more records (tens of MB) absorb a burst far beyond the queue;
    # a bigger spill only moves the loss further out in memory, it cannot replace the disk
    max_spill: int = 100_000

    def __post_init__(self) -> None:
        _check_choice("policy", self.policy, get_args(OverflowPolicy))
        _check_min("max_queue", self.max_queue, 1)
        _check_min("max_spill", self.max_spill, 0)
