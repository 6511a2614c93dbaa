"""Retry with exponential backoff and jitter that honours ``Retry-After``.

Two layers, as the book teaches them:

* :meth:`RetryPolicy.delays` is the idea in a few lines (what the official SDK does by hand:
  ``min(initial_s * 2**n, max_s)`` times a random factor in ``[0.75, 1.0]``).
* :class:`RetryPolicy` is what production code uses: tenacity's ``wait_exponential_jitter``
  wrapped by a wait that obeys a server's ``Retry-After`` /
  ``retry-after-ms`` when it is between 0 and 60 s.

What is retried (:meth:`RetryPolicy.classify`): connection errors, timeouts, 408, 409
``idempotency_key_in_progress``, 429 and every 5xx; never 400, 401, 403, 404, 422 or a 409
``idempotency_key_mismatch``. A ``x-should-retry: true|false`` header overrides.

Example:
    >>> import random
    >>> [round(d, 2) for d in RetryPolicy().delays(4, rng=random.Random(0))]
    [0.48, 0.94, 1.71, 3.26]
    >>> RetryPolicy.classify(201, {}, b"") is None
    True
    >>> RetryPolicy.classify(429, {"Retry-After": "2"}, b"").retry_after
    2.0
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

#: A ``Retry-After`` longer than this is ignored (the exponential wait applies instead): the
#: official SDK's limit. A server asking for minutes is better served by the breaker and the
#: spool than by a sender coroutine asleep for that long.
MAX_RETRY_AFTER_S = 60.0

#: The jitter's own generator: retries never draw from (or depend on) the global ``random``
#: module, so a user's ``random.seed()`` cannot make clients retry in lock-step.
_JITTER_RNG = random.Random()
if hasattr(os, "register_at_fork"):  # a forked worker must not repeat its parent's jitter
    os.register_at_fork(after_in_child=_JITTER_RNG.seed)


class DeliveryError(Exception):
    """A record could not be delivered. Messages never contain the API key or headers."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(f"{reason}" + (f" (HTTP {status})" if status is not None else ""))
        self.reason = reason
        self.status = status


class RetryableError(DeliveryError):
    """Worth another attempt: connection error, timeout, 408, 409 in progress, 429, 5xx."""

    def __init__(
        self, reason: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason, status)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Never retried: the record itself (400, 422, 409 mismatch) or the credentials (401, 403)."""


def parse_retry_after(
    headers: Mapping[str, str], *, now: float | None = None, limit: float = MAX_RETRY_AFTER_S
) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date).

    Returns ``None`` when absent, unparsable, negative or above ``limit`` (60 s, like the SDK).

    Example:
        >>> parse_retry_after({"retry-after-ms": "250"})
        0.25
        >>> parse_retry_after({"Retry-After": "120"}) is None
        True
    """
    lower = {k.lower(): v for k, v in headers.items()}
    value: float | None = None
    if "retry-after-ms" in lower:
        try:
            value = float(lower["retry-after-ms"]) / 1000.0
        except ValueError:
            value = None
    if value is None and "retry-after" in lower:
        raw = lower["retry-after"].strip()
        try:
            value = float(raw)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw else None
            if parsed is not None:
                value = parsed.timestamp() - (time.time() if now is None else now)
    if value is None or value < 0 or value > limit:
        return None
    return value


def classify(status: int, headers: Mapping[str, str], body: bytes) -> DeliveryError | None:
    """Map an HTTP answer to ``None`` (delivered) or the error to raise.

    Example:
        >>> type(classify(409, {}, b'{"error":"idempotency_key_mismatch"}')).__name__
        'PermanentError'
        >>> type(classify(409, {}, b'{"error":"idempotency_key_in_progress"}')).__name__
        'RetryableError'
        >>> type(classify(503, {}, b"")).__name__
        'RetryableError'
    """
    if 200 <= status < 300:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    should = lower.get("x-should-retry", "").strip().lower()
    retry_after = parse_retry_after(lower)
    text = body[:300].decode("utf-8", "replace") if body else ""
    reason = _reason(status, text)
    if should == "true":
        return RetryableError(reason, status, retry_after)
    if should == "false":
        return PermanentError(reason, status)
    if status == 409:
        if "mismatch" in text:
            return PermanentError(reason, status)
        return RetryableError(reason, status, retry_after)
    if status in (408, 429) or status >= 500:
        return RetryableError(reason, status, retry_after)
    return PermanentError(reason, status)


def _reason(status: int, text: str) -> str:
    names = {
        400: "bad request",
        401: "unauthorized (check the API key)",
        403: "forbidden",
        404: "not found (check the base URL)",
        408: "request timeout",
        409: "conflict",
        422: "unprocessable record",
        429: "rate limited",
    }
    base = names.get(status, "server error" if status >= 500 else "unexpected status")
    for marker in ("idempotency_key_in_progress", "idempotency_key_mismatch"):
        if marker in text:
            return f"{base}: {marker}"
    return base


class _ExponentialJitter(wait_exponential_jitter):
    """tenacity's ``wait_exponential_jitter`` drawing its jitter from a given ``random.Random``.

    tenacity draws from the global ``random`` module; a generator of our own keeps
    :meth:`RetryPolicy.preview` reproducible without re-seeding anybody else's.
    """

    def __init__(self, *, initial: float, max_s: float, jitter: float, rng: random.Random) -> None:
        super().__init__(initial=initial, max=max_s, jitter=jitter)
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        jitter = self.rng.uniform(0, self.jitter)
        try:
            result = self.initial * self.exp_base ** (retry_state.attempt_number - 1) + jitter
        except OverflowError:
            result = self.max
        return max(0, min(result, self.max))


class _WaitRetryAfter(wait_base):
    """A tenacity wait: the server's ``Retry-After`` when it gave one, else ``fallback``."""

    def __init__(self, fallback: wait_base, cap: float = MAX_RETRY_AFTER_S) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        ra = getattr(exc, "retry_after", None)
        if ra is not None and 0 <= ra <= self.cap:
            return float(ra)
        return float(self.fallback(retry_state))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times and how long to wait (defaults beat the official SDK's 2 retries).

    Attributes:
        max_retries: retries after the first attempt.
        initial_s, max_s, jitter_s: tenacity ``wait_exponential_jitter`` parameters.
        retry_after_cap_s: a ``Retry-After`` above this is ignored (exponential wait instead).

    Example:
        >>> RetryPolicy(max_retries=2, initial_s=0.01).attempts
        3
    """

    # 4 retries (5 attempts) ride out ~8 s of trouble (0.5 + 1 + 2 + 4 s of waits plus
    # jitter), about a server restart; the official SDK retries twice.
    max_retries: int = 4
    # the first wait: long enough for a 429's quota window to move, short for a blip
    initial_s: float = 0.5
    # waits stop doubling at 8 s: beyond that the breaker and the spool take over
    max_s: float = 8.0
    # up to 0.5 s of random spread, so many clients do not retry in the same instant
    jitter_s: float = 0.5
    retry_after_cap_s: float = MAX_RETRY_AFTER_S

    def __post_init__(self) -> None:
        if int(self.max_retries) != self.max_retries or self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r} must be an integer >= 0")
        for name in ("initial_s", "max_s", "jitter_s", "retry_after_cap_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be >= 0")

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def delays(
        self, retries: int | None = None, *, rng: random.Random | None = None
    ) -> list[float]:
        """The wait before each retry, by hand: ``min(initial_s * 2**n, max_s) * U(0.75, 1)``.

        The hand-written version of the idea (the official SDK's formula), for the book;
        the tracker uses tenacity (:meth:`wait`, :meth:`preview`). Jitter spreads the
        retries of many clients so they do not hit a recovering service in lock-step.

        Example:
            >>> RetryPolicy().delays(0)
            []
            >>> all(0.375 <= d <= 0.5 for d in RetryPolicy(initial_s=0.5).delays(1))
            True
        """
        rng = rng or random.Random()
        n_retries = self.max_retries if retries is None else retries
        return [
            min(self.initial_s * 2**n, self.max_s) * rng.uniform(0.75, 1.0)
            for n in range(n_retries)
        ]

    @staticmethod
    def classify(status: int, headers: Mapping[str, str], body: bytes) -> DeliveryError | None:
        """What an HTTP answer means: ``None`` (delivered), retryable or permanent error.

        Example:
            >>> type(RetryPolicy.classify(503, {}, b"")).__name__
            'RetryableError'
        """
        return classify(status, headers, body)

    def wait(self, rng: random.Random | None = None) -> wait_base:
        """The tenacity wait strategy: Retry-After first, exponential + jitter otherwise.

        ``rng`` is the jitter's generator (default: one private to this module, never the
        global ``random``).

        Example:
            >>> w = RetryPolicy(jitter_s=0).wait()
            >>> type(w).__name__
            '_WaitRetryAfter'
        """
        fallback = _ExponentialJitter(
            initial=self.initial_s, max_s=self.max_s, jitter=self.jitter_s, rng=rng or _JITTER_RNG
        )
        return _WaitRetryAfter(fallback, cap=self.retry_after_cap_s)

    def preview(
        self,
        retries: int | None = None,
        *,
        retry_after: float | None = None,
        seed: int | None = None,
    ) -> list[float]:
        """The waits tenacity would apply before each retry (for tables and charts).

        ``retry_after`` simulates a server that answers every attempt with that
        ``Retry-After``; ``seed`` fixes the jitter, drawn from a ``random.Random(seed)`` of its
        own (the global ``random`` state is neither read nor changed).

        Example:
            >>> RetryPolicy(jitter_s=0).preview(4)
            [0.5, 1.0, 2.0, 4.0]
            >>> RetryPolicy().preview(2, retry_after=3.0)
            [3.0, 3.0]
        """
        wait = self.wait(random.Random(seed))
        out = []
        exc = RetryableError("preview", 503, retry_after)
        for n in range(1, (self.max_retries if retries is None else retries) + 1):
            state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
            state.attempt_number = n
            state.set_exception((type(exc), exc, None))
            out.append(round(float(wait(state)), 4))
        return out

    def async_retrying(
        self, *, attempts: int | None = None, stop_extra=None, before_sleep=None, sleep=None
    ) -> AsyncRetrying:
        """A tenacity ``AsyncRetrying`` that retries :class:`RetryableError` only.

        ``stop_extra`` (a tenacity stop) is OR-ed with the attempt limit, e.g. to stop when
        the circuit breaker opens; ``sleep`` can be replaced in tests.

        Example:
            >>> r = RetryPolicy(max_retries=1).async_retrying()
            >>> type(r).__name__
            'AsyncRetrying'
        """
        stop = stop_after_attempt(attempts or self.attempts)
        if stop_extra is not None:
            stop = stop | stop_extra
        kwargs = {}
        if sleep is not None:
            kwargs["sleep"] = sleep
        return AsyncRetrying(
            stop=stop,
            wait=self.wait(),
            retry=retry_if_exception_type(RetryableError),
            before_sleep=before_sleep,
            reraise=True,
            **kwargs,
        )
