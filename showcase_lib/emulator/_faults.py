"""Fault injection for the emulator: what can go wrong, how often, decided by a seeded RNG.

Every metered request draws one uniform number; the rates split [0, 1) into bins
(drop, hang, error, rate_limit, lost_response), so the rates must add up to at most 1.
Outages (a toggle or time windows relative to server start) win over everything else, and an
added latency applies to every request before any other fault.

A fault never stores a record and reports failure: drop, hang, error, rate_limit and outage
answer (or not) *before* the body is read. The one deliberate exception is
``lost_response``: the record is stored (with its idempotency key) and then the connection
is closed without an answer, the "stored but response lost" case that idempotency keys
exist for; a retry with the same key gets the first answer and nothing is stored twice.

Example:
    >>> cfg = FaultConfig(error_rate=0.5, seed=1)
    >>> inj = FaultInjector(cfg)
    >>> kinds = [inj.decide(elapsed_s=0.0) for _ in range(1000)]
    >>> 400 < sum(f is not None and f.kind == "error" for f in kinds) < 600
    True
"""

from __future__ import annotations

import random
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FaultKind = Literal["outage", "drop", "hang", "error", "rate_limit", "lost_response"]
FAULT_KINDS: tuple[str, ...] = (
    "outage",
    "drop",
    "hang",
    "error",
    "rate_limit",
    "lost_response",
    "latency",
)


class Outage(BaseModel):
    """A window, in seconds after server start, during which every request gets ``status``.

    Example:
        >>> Outage(start_s=5, end_s=10).covers(7.5)
        True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_s: float = Field(ge=0)
    end_s: float = Field(gt=0)
    status: int = Field(503, ge=500, le=599)

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s={self.end_s} must be after start_s={self.start_s}")
        return self

    def covers(self, elapsed_s: float) -> bool:
        return self.start_s <= elapsed_s < self.end_s


class FaultConfig(BaseModel):
    """What the emulator should break, and how often (rates are per request, 0..1).

    Fields: ``error_rate`` (answer one of ``error_codes``), ``rate_limit_rate`` (429 with
    ``Retry-After: retry_after_s``), ``latency_ms`` (+ uniform ``latency_jitter_ms``) added to
    every request, ``hang_rate`` (hold the request ``hang_s`` then close without answering),
    ``drop_rate`` (close the socket at once), ``lost_response_rate`` (store, then close),
    ``outage`` (toggle: every request gets 503), ``outages`` (time windows), ``seed``.

    Example:
        >>> FaultConfig(rate_limit_rate=0.1, retry_after_s=2).rate_limit_rate
        0.1
        >>> try:
        ...     FaultConfig(error_rate=0.8, drop_rate=0.5)
        ... except ValueError as exc:
        ...     "the fault rates add up to 1.3" in str(exc)
        True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(0.0, ge=0, le=1)
    error_codes: tuple[int, ...] = (500, 503)
    rate_limit_rate: float = Field(0.0, ge=0, le=1)
    retry_after_s: float = Field(1.0, ge=0, le=3600)
    latency_ms: float = Field(0.0, ge=0, le=600_000)
    latency_jitter_ms: float = Field(0.0, ge=0, le=600_000)
    hang_rate: float = Field(0.0, ge=0, le=1)
    hang_s: float = Field(30.0, gt=0, le=3600)
    drop_rate: float = Field(0.0, ge=0, le=1)
    lost_response_rate: float = Field(0.0, ge=0, le=1)
    outage: bool = False
    outages: tuple[Outage, ...] = ()
    seed: int = 0

    @field_validator("error_codes")
    @classmethod
    def _server_errors(cls, codes: tuple[int, ...]) -> tuple[int, ...]:
        if not codes:
            raise ValueError("error_codes=() must name at least one status")
        bad = [c for c in codes if not 500 <= c <= 599]
        if bad:
            raise ValueError(f"error_codes={bad!r} must be 5xx statuses")
        return codes

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultConfig:
        total = self.total_rate
        if total > 1 + 1e-9:
            raise ValueError(f"the fault rates add up to {total:g}; they must add up to at most 1")
        return self

    @property
    def total_rate(self) -> float:
        return (
            self.drop_rate
            + self.hang_rate
            + self.error_rate
            + self.rate_limit_rate
            + self.lost_response_rate
        )

    @classmethod
    def coerce(cls, value: FaultConfig | dict[str, Any] | None) -> FaultConfig:
        """Accept a FaultConfig, a dict of its fields, or None (no faults).

        Example:
            >>> FaultConfig.coerce({"drop_rate": 0.2}).drop_rate
            0.2
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        return cls.model_validate(value)


class Fault(NamedTuple):
    """One decision: the kind of fault and the status to answer (0 when nothing is answered)."""

    kind: str
    status: int = 0


class FaultInjector:
    """Decide, request by request, which fault (if any) to inject. Deterministic per seed.

    Example:
        >>> inj = FaultInjector(FaultConfig(outages=[Outage(start_s=0, end_s=1)]))
        >>> inj.decide(elapsed_s=0.5), inj.decide(elapsed_s=2.0)
        (Fault(kind='outage', status=503), None)
    """

    def __init__(self, config: FaultConfig):
        self.config = config
        self._rng = random.Random(config.seed)

    def delay_s(self) -> float:
        """Added latency for this request, in seconds (0 when none is configured)."""
        cfg = self.config
        if cfg.latency_ms <= 0 and cfg.latency_jitter_ms <= 0:
            return 0.0
        jitter = self._rng.uniform(0, cfg.latency_jitter_ms) if cfg.latency_jitter_ms else 0.0
        return (cfg.latency_ms + jitter) / 1000.0

    def decide(self, elapsed_s: float) -> Fault | None:
        """The fault for one request ``elapsed_s`` seconds after server start, or None."""
        cfg = self.config
        if cfg.outage:
            return Fault("outage", 503)
        for window in cfg.outages:
            if window.covers(elapsed_s):
                return Fault("outage", window.status)
        if cfg.total_rate <= 0:
            return None
        u = self._rng.random()
        edge = cfg.drop_rate
        if u < edge:
            return Fault("drop")
        edge += cfg.hang_rate
        if u < edge:
            return Fault("hang")
        edge += cfg.error_rate
        if u < edge:
            return Fault("error", self._rng.choice(cfg.error_codes))
        edge += cfg.rate_limit_rate
        if u < edge:
            return Fault("rate_limit", 429)
        edge += cfg.lost_response_rate
        if u < edge:
            return Fault("lost_response")
        return None
