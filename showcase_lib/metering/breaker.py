"""A circuit breaker with closed, open and half-open states, observable and testable.

* **closed**: requests flow. The circuit opens when the service looks down: nothing has
  succeeded for ``quiet_s`` seconds and at least ``min_failures`` attempts failed since the
  last success, or (if set) after ``failure_threshold`` consecutive failures.
* **open**: nothing is sent (records go to the spool) until ``reset_timeout_s`` has passed.
* **half-open**: one probe request is let through; success closes the circuit (and clears the
  window), failure re-opens it for another ``reset_timeout_s``.

Why "no success for a while" rather than the official SDK's "3 consecutive failures": with 64
requests in flight, failures come back faster than successes (an error is answered before the
store commits), so under a 30% transient error rate runs of 20 failures in a row, and windows
where most outcomes are failures, are common even though the service is up. Successes still
arrive every few milliseconds, though, so "no success for a second" does not flap on transient
errors and opens about a second into a real outage, at any traffic level.

Every transition is appended to :attr:`CircuitBreaker.transitions` (time, from, to, reason)
and passed to the optional ``on_transition`` callback. The clock is injectable, so tests move
time by hand instead of sleeping. The probe interval matches the official SDK (5 s).
Not thread-safe by design: the tracker uses it from its event-loop thread only.

Example:
    >>> clock = FakeClock()
    >>> b = CircuitBreaker(failure_threshold=2, reset_timeout_s=5, clock=clock)
    >>> b.record_failure(); b.record_failure(); b.state
    'open'
    >>> b.allow()
    False
    >>> clock.advance(5); b.allow(), b.state
    (True, 'half_open')
    >>> b.record_success(); b.state
    'closed'
    >>> [(t.from_state, t.to_state) for t in b.transitions]
    [('closed', 'open'), ('open', 'half_open'), ('half_open', 'closed')]
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATES = (CLOSED, OPEN, HALF_OPEN)


class FakeClock:
    """A hand-driven clock for tests and notebooks: call it for the time, ``advance`` to move.

    Example:
        >>> c = FakeClock(10.0); c.advance(2.5); c()
        12.5
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += float(seconds)


@dataclass(frozen=True)
class Transition:
    """One state change: ``at`` is the breaker clock's time (seconds)."""

    at: float
    from_state: str
    to_state: str
    reason: str


class CircuitBreaker:
    """Closed / open / half-open breaker with an event log and an injectable clock.

    Args:
        failure_threshold: consecutive retryable failures that open the circuit at once
            (``None``: only the "no success for ``quiet_s``" rule applies).
        reset_timeout_s: time spent open before a probe is allowed.
        min_failures: failures since the last success needed before opening.
        quiet_s: time without any success needed before opening (measured from the first
            failure after the last success).
        clock: callable returning seconds (default ``time.monotonic``).
        on_transition: called with each :class:`Transition`.

    Example:
        >>> b = CircuitBreaker()
        >>> b.state, b.allow()
        ('closed', True)
        >>> clock = FakeClock()
        >>> b = CircuitBreaker(clock=clock)
        >>> for _ in range(5): b.record_failure()
        >>> b.state                      # failures, but not yet a second without success
        'closed'
        >>> clock.advance(1.0); b.record_failure(); b.state
        'open'
    """

    def __init__(
        self,
        failure_threshold: int | None = None,
        reset_timeout_s: float = 5.0,
        *,
        min_failures: int = 5,
        quiet_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        if failure_threshold is not None and failure_threshold < 1:
            raise ValueError(f"failure_threshold={failure_threshold!r} must be >= 1")
        if reset_timeout_s < 0:
            raise ValueError(f"reset_timeout_s={reset_timeout_s!r} must be >= 0")
        if min_failures < 1:
            raise ValueError(f"min_failures={min_failures!r} must be >= 1")
        if quiet_s < 0:
            raise ValueError(f"quiet_s={quiet_s!r} must be >= 0")
        self.failure_threshold = None if failure_threshold is None else int(failure_threshold)
        self.reset_timeout_s = float(reset_timeout_s)
        self.min_failures = int(min_failures)
        self.quiet_s = float(quiet_s)
        self.clock = clock
        self.on_transition = on_transition
        self.state = CLOSED
        self.consecutive_failures = 0  # failures since the last success
        self.last_success_at: float | None = None
        self.first_failure_at: float | None = None  # first failure since the last success
        self.opened_at: float | None = None
        self.probe_in_flight = False
        self.transitions: list[Transition] = []

    def _move(self, to_state: str, reason: str) -> None:
        t = Transition(self.clock(), self.state, to_state, reason)
        self.state = to_state
        self.transitions.append(t)
        if self.on_transition is not None:
            with contextlib.suppress(Exception):  # an observer must never break delivery
                self.on_transition(t)

    def allow(self) -> bool:
        """May a request be sent now? In half-open state only one probe at a time."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if self.clock() - (self.opened_at or 0.0) >= self.reset_timeout_s:
                self._move(HALF_OPEN, f"{self.reset_timeout_s:g}s elapsed, probing")
                self.probe_in_flight = True
                return True
            return False
        if not self.probe_in_flight:  # half-open, previous probe ended without verdict
            self.probe_in_flight = True
            return True
        return False

    def would_allow(self) -> bool:
        """Like :meth:`allow` but without changing state (for schedulers and health checks)."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            return self.clock() - (self.opened_at or 0.0) >= self.reset_timeout_s
        return not self.probe_in_flight

    def record_success(self) -> None:
        """The service answered (2xx, or a 4xx about the record itself)."""
        self.consecutive_failures = 0
        self.first_failure_at = None
        self.last_success_at = self.clock()
        if self.state == HALF_OPEN:
            self.probe_in_flight = False
            self._move(CLOSED, "probe succeeded")
        # while open, a late answer to a request sent before opening changes nothing:
        # the probe decides

    def record_failure(self, reason: str = "retryable failure") -> None:
        """A retryable failure (connection error, timeout, 408/409/429/5xx)."""
        now = self.clock()
        self.consecutive_failures += 1
        if self.first_failure_at is None:
            self.first_failure_at = now
        if self.state == HALF_OPEN:
            self.probe_in_flight = False
            self.opened_at = now
            self._move(OPEN, f"probe failed: {reason}")
            return
        if self.state != CLOSED:
            return
        n = self.consecutive_failures
        quiet = now - self.first_failure_at
        if self.failure_threshold is not None and n >= self.failure_threshold:
            why = f"{n} consecutive failures, last: {reason}"
        elif n >= self.min_failures and quiet >= self.quiet_s:
            why = f"no success for {quiet:.1f}s, {n} failures, last: {reason}"
        else:
            return
        self.opened_at = now
        self._move(OPEN, why)

    def release_probe(self) -> None:
        """A probe ended without a verdict (e.g. cancelled): let another one through."""
        self.probe_in_flight = False

    def snapshot(self) -> dict:
        """State for health checks.

        Example:
            >>> CircuitBreaker().snapshot()["state"]
            'closed'
        """
        return {
            "state": self.state,
            "consecutive_failures": self.consecutive_failures,
            "last_success_at": self.last_success_at,
            "opened_at": self.opened_at,
            "transitions": len(self.transitions),
        }
