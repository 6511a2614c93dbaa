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

Every transition is kept in :attr:`CircuitBreaker.transitions` (time, from, to, reason; the
last :data:`MAX_TRANSITIONS` only, so a flapping service cannot grow memory without bound)
and passed to the optional ``on_transition`` callback; :attr:`CircuitBreaker.transition_count`
counts them all. The state is a :class:`BreakerState` (a ``str`` enum: it compares equal to
``"open"``), and the counters are read-only properties. The clock is injectable, so tests move
time by hand instead of sleeping. The probe interval matches the official SDK (5 s).
Not thread-safe by design: the tracker uses it from its event-loop thread only.

Example:
    >>> clock = FakeClock()
    >>> b = CircuitBreaker(BreakerPolicy(failure_threshold=2, reset_timeout_s=5), clock=clock)
    >>> b.record_failure(); b.record_failure(); b.state.value
    'open'
    >>> b.allow()
    False
    >>> clock.advance(5); b.allow(), b.state == "half_open"
    (True, True)
    >>> b.record_success(); b.state.value
    'closed'
    >>> [(t.from_state.value, t.to_state.value) for t in b.transitions]
    [('closed', 'open'), ('open', 'half_open'), ('half_open', 'closed')]
"""

from __future__ import annotations

import collections
import contextlib
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Transitions kept in :attr:`CircuitBreaker.transitions`. A chaos run of the book makes a few
#: dozen; 1,000 covers an hour of a service flapping every 5 s probe interval (720 transitions)
#: at about 100 bytes each (~100 KB), while a breaker left running for months stays bounded.
#: Older transitions are dropped (``transition_count`` still counts them).
MAX_TRANSITIONS = 1_000


class BreakerState(enum.StrEnum):
    """The three states; a ``str`` enum, so ``state == "open"`` holds and it prints as ``open``.

    Example:
        >>> BreakerState.OPEN == "open", str(BreakerState.HALF_OPEN)
        (True, 'half_open')
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


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
        """Move the clock forward by ``seconds``."""
        self.now += float(seconds)


@dataclass(frozen=True)
class Transition:
    """One state change: ``at`` is the breaker clock's time (seconds).

    Example:
        >>> t = Transition(1.0, CLOSED, OPEN, "5 failures")
        >>> t.to_state == "open"
        True
    """

    at: float
    from_state: BreakerState
    to_state: BreakerState
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When the circuit opens and how long it stays open (a frozen value, like httpx's Timeout).

    Attributes:
        failure_threshold: consecutive retryable failures that open the circuit at once
            (``None``: only the "no success for ``quiet_s``" rule applies).
        reset_timeout_s: time spent open before a probe is allowed. 5 s is the official SDK's
            probe interval: long enough not to hammer a service that is down, short enough
            that a recovered service gets traffic back within a few seconds.
        min_failures: failures since the last success needed before opening. 5: a handful
            of errors at 64 requests in flight is noise, not an outage.
        quiet_s: time without any success needed before opening. 1 s: under a 30% transient
            error rate successes still arrive every few milliseconds, so a full second
            without one means the service is down (it opens about a second into an outage).

    Example:
        >>> BreakerPolicy(failure_threshold=3).reset_timeout_s
        5.0
        >>> BreakerPolicy(quiet_s=-1)
        Traceback (most recent call last):
        ...
        ValueError: quiet_s=-1 must be >= 0
    """

    failure_threshold: int | None = None
    reset_timeout_s: float = 5.0
    min_failures: int = 5
    quiet_s: float = 1.0

    def __post_init__(self) -> None:
        if self.failure_threshold is not None and self.failure_threshold < 1:
            raise ValueError(f"failure_threshold={self.failure_threshold!r} must be >= 1")
        if self.reset_timeout_s < 0:
            raise ValueError(f"reset_timeout_s={self.reset_timeout_s!r} must be >= 0")
        if self.min_failures < 1:
            raise ValueError(f"min_failures={self.min_failures!r} must be >= 1")
        if self.quiet_s < 0:
            raise ValueError(f"quiet_s={self.quiet_s!r} must be >= 0")


class CircuitBreaker:
    """Closed / open / half-open breaker with a bounded event log and an injectable clock.

    Args:
        policy: a :class:`BreakerPolicy` (default: ``BreakerPolicy()``).
        clock: callable returning seconds (default ``time.monotonic``).
        on_transition: called with each :class:`Transition` (an exception in it is ignored:
            an observer must never break delivery).

    State (``state``) and counters (``consecutive_failures``, ``last_success_at``,
    ``opened_at``, ``transition_count``) are read-only properties; only the ``record_*`` and
    ``allow`` methods change them.

    Example:
        >>> b = CircuitBreaker()
        >>> b.state.value, b.allow()
        ('closed', True)
        >>> clock = FakeClock()
        >>> b = CircuitBreaker(clock=clock)
        >>> for _ in range(5): b.record_failure()
        >>> b.state.value                # failures, but not yet a second without success
        'closed'
        >>> clock.advance(1.0); b.record_failure(); b.state.value
        'open'
    """

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        if policy is not None and not isinstance(policy, BreakerPolicy):
            raise TypeError(f"policy={policy!r} must be a BreakerPolicy")
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self.on_transition = on_transition
        self._state = CLOSED
        self._failures = 0  # failures since the last success
        self._last_success_at: float | None = None
        self._first_failure_at: float | None = None  # first failure since the last success
        self._opened_at: float | None = None
        self._probe_in_flight = False
        self._transitions: collections.deque[Transition] = collections.deque(maxlen=MAX_TRANSITIONS)
        self._transition_count = 0

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(state={self._state.value!r}, failures={self._failures}, "
            f"transitions={self._transition_count})"
        )

    # ------------------------------------------------------------------ read-only state
    @property
    def state(self) -> BreakerState:
        """The current :class:`BreakerState`."""
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Retryable failures since the last success."""
        return self._failures

    @property
    def last_success_at(self) -> float | None:
        """Clock time of the last success (``None`` before the first)."""
        return self._last_success_at

    @property
    def opened_at(self) -> float | None:
        """Clock time the circuit last opened (``None`` if it never did)."""
        return self._opened_at

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """The last :data:`MAX_TRANSITIONS` transitions, oldest first."""
        return tuple(self._transitions)

    @property
    def transition_count(self) -> int:
        """Every transition since the breaker was made (including those no longer kept)."""
        return self._transition_count

    # ------------------------------------------------------------------ decisions
    def _move(self, to_state: BreakerState, reason: str) -> None:
        t = Transition(self.clock(), self._state, to_state, reason)
        self._state = to_state
        self._transitions.append(t)
        self._transition_count += 1
        if self.on_transition is not None:
            with contextlib.suppress(Exception):  # an observer must never break delivery
                self.on_transition(t)

    def _probe_due(self) -> bool:
        return self.clock() - (self._opened_at or 0.0) >= self.policy.reset_timeout_s

    def allow(self) -> bool:
        """May a request be sent now? In half-open state only one probe at a time."""
        if self._state == CLOSED:
            return True
        if self._state == OPEN:
            if self._probe_due():
                self._move(HALF_OPEN, f"{self.policy.reset_timeout_s:g}s elapsed, probing")
                self._probe_in_flight = True
                return True
            return False
        if not self._probe_in_flight:  # half-open, previous probe ended without verdict
            self._probe_in_flight = True
            return True
        return False

    def would_allow(self) -> bool:
        """Like :meth:`allow` but without changing state (for schedulers and health checks)."""
        if self._state == CLOSED:
            return True
        if self._state == OPEN:
            return self._probe_due()
        return not self._probe_in_flight

    def record_success(self) -> None:
        """The service answered (2xx, or a 4xx about the record itself)."""
        self._failures = 0
        self._first_failure_at = None
        self._last_success_at = self.clock()
        if self._state == HALF_OPEN:
            self._probe_in_flight = False
            self._move(CLOSED, "probe succeeded")
        # while open, a late answer to a request sent before opening changes nothing:
        # the probe decides

    def record_failure(self, reason: str = "retryable failure") -> None:
        """A retryable failure (connection error, timeout, 408/409/429/5xx)."""
        now = self.clock()
        self._failures += 1
        if self._first_failure_at is None:
            self._first_failure_at = now
        if self._state == HALF_OPEN:
            self._probe_in_flight = False
            self._opened_at = now
            self._move(OPEN, f"probe failed: {reason}")
            return
        if self._state != CLOSED:
            return
        p, n = self.policy, self._failures
        quiet = now - self._first_failure_at
        if p.failure_threshold is not None and n >= p.failure_threshold:
            why = f"{n} consecutive failures, last: {reason}"
        elif n >= p.min_failures and quiet >= p.quiet_s:
            why = f"no success for {quiet:.1f}s, {n} failures, last: {reason}"
        else:
            return
        self._opened_at = now
        self._move(OPEN, why)

    def release_probe(self) -> None:
        """A probe ended without a verdict (e.g. cancelled): let another one through."""
        self._probe_in_flight = False

    def snapshot(self) -> dict:
        """State for health checks.

        Example:
            >>> CircuitBreaker().snapshot()["state"]
            'closed'
        """
        return {
            "state": self._state.value,
            "consecutive_failures": self._failures,
            "last_success_at": self._last_success_at,
            "opened_at": self._opened_at,
            "transitions": self._transition_count,
        }
