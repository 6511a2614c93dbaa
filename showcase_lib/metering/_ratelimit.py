"""A token bucket: stay under an API quota without stalling in bursts.

The bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; each request
takes one. A full bucket lets a short burst through at once, then the long-run rate never
exceeds ``rate``. The clock is injectable for tests.

Example:
    >>> from showcase_lib.metering import FakeClock
    >>> clock = FakeClock()
    >>> b = TokenBucket(rate=10, burst=2, clock=clock)
    >>> b.try_acquire(), b.try_acquire(), b.try_acquire()
    (True, True, False)
    >>> round(b.delay(), 3)   # seconds until the next token
    0.1
    >>> clock.advance(0.1); b.try_acquire()
    True
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Refill ``rate`` tokens/s up to ``burst``; ``acquire`` waits, ``try_acquire`` does not.

    Thread-safe (a lock around the arithmetic); ``acquire_async`` sleeps on the event loop.

    Example:
        >>> TokenBucket(rate=100).burst
        100.0
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate={rate!r} must be > 0 (requests per second)")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        if self.burst < 1:
            raise ValueError(f"burst={burst!r} must be >= 1")
        self.clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()
        self.waited_s = 0.0  # total time callers spent waiting (how much the limit bit)

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_acquire(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if available now."""
        with self._lock:
            self._refill()
            if self._tokens >= n:
                self._tokens -= n
                return True
            return False

    def delay(self, n: float = 1.0) -> float:
        """Seconds until ``n`` tokens will be available (0 if now)."""
        with self._lock:
            self._refill()
            return max(0.0, (n - self._tokens) / self.rate)

    def _reserve(self, n: float) -> float:
        """Take ``n`` tokens now, going into debt; return how long to wait for the debt."""
        with self._lock:
            self._refill()
            self._tokens -= n
            wait = max(0.0, -self._tokens / self.rate)
            self.waited_s += wait
            return wait

    def acquire(self, n: float = 1.0) -> float:
        """Block the calling thread until ``n`` tokens are granted; return the wait."""
        wait = self._reserve(n)
        if wait > 0:
            time.sleep(wait)
        return wait

    async def acquire_async(self, n: float = 1.0) -> float:
        """Await (without blocking the loop) until ``n`` tokens are granted; return the wait."""
        wait = self._reserve(n)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
