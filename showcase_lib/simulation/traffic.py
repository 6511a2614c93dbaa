"""Traffic shape and per-call draws: rhythms, model choice, tokens, latency, status.

All functions work on whole arrays (numpy), never per call. Conditional categorical draws use
Walker's alias method (O(1) per draw: one integer, one uniform, two gathers), so choosing a
model for 10M calls given their task and tier costs a few array passes.

Example:
    >>> import numpy as np
    >>> prob, alias = alias_table(np.array([[0.2, 0.8], [1.0, 0.0]]))
    >>> x = draw(np.random.default_rng(0), prob, alias, np.zeros(10_000, dtype=np.int64))
    >>> bool(0.75 < x.mean() < 0.85)
    True
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np

from showcase_lib import pricing
from showcase_lib.schema import STOP_REASONS

from .customers import REGIONS, TASK_TYPES

__all__ = [
    "MODEL_PROFILES",
    "TASK_PROFILES",
    "TIMEOUT_MS",
    "alias_table",
    "draw",
    "hour_tables",
    "model_tables",
]

#: Client-side timeout: a call still running after this is recorded as status "timeout".
TIMEOUT_MS: Final[int] = 60_000


class ModelProfile(NamedTuple):
    """How the simulation uses one catalog model (popularity within its class, speed, limits)."""

    cls: str | None  # "premium", "cheap", or None (priced but not used by the traffic)
    popularity: float
    ttft_ms: float
    tokens_per_s: float
    context_tokens: int
    error_rate: float


#: One profile per pricing.CATALOG entry, same order.
MODEL_PROFILES: Final[dict[tuple[str, str], ModelProfile]] = {
    ("openai", "gpt-4"): ModelProfile("premium", 0.22, 800, 22, 8_192, 0.012),
    ("openai", "gpt-4-turbo"): ModelProfile("premium", 0.04, 700, 35, 128_000, 0.012),
    ("openai", "gpt-4o"): ModelProfile("premium", 0.25, 450, 85, 128_000, 0.012),
    ("openai", "gpt-4o-mini"): ModelProfile("cheap", 0.28, 350, 110, 128_000, 0.010),
    ("openai", "gpt-3.5-turbo"): ModelProfile("cheap", 0.08, 300, 95, 16_385, 0.010),
    ("anthropic", "claude-sonnet-4"): ModelProfile("premium", 0.15, 650, 65, 200_000, 0.015),
    ("anthropic", "claude-3-5-sonnet"): ModelProfile("premium", 0.08, 600, 70, 200_000, 0.015),
    ("anthropic", "claude-3-5-haiku"): ModelProfile("cheap", 0.10, 400, 120, 200_000, 0.012),
    ("anthropic", "claude-3-haiku"): ModelProfile("cheap", 0.10, 300, 150, 200_000, 0.012),
    ("anthropic", "claude-instant-1.2"): ModelProfile(None, 0.0, 350, 110, 100_000, 0.012),
    ("google", "gemini-1.5-pro"): ModelProfile("premium", 0.07, 700, 60, 1_000_000, 0.010),
    ("google", "gemini-1.5-flash"): ModelProfile("cheap", 0.10, 250, 180, 1_000_000, 0.010),
    ("google", "gemini-2.0-flash"): ModelProfile("cheap", 0.06, 250, 200, 1_000_000, 0.010),
    ("mistral", "mistral-large"): ModelProfile("premium", 0.04, 550, 45, 128_000, 0.020),
    ("mistral", "mistral-small"): ModelProfile("cheap", 0.05, 300, 120, 32_000, 0.020),
    ("cohere", "command-r"): ModelProfile("cheap", 0.05, 350, 90, 128_000, 0.015),
    ("cohere", "command-r-plus"): ModelProfile("premium", 0.03, 500, 55, 128_000, 0.015),
    ("aws-bedrock", "anthropic.claude-3-haiku"): ModelProfile(
        "cheap", 0.06, 400, 130, 200_000, 0.008
    ),
    ("aws-bedrock", "anthropic.claude-3-5-sonnet"): ModelProfile(
        "premium", 0.06, 700, 60, 200_000, 0.008
    ),
    ("aws-bedrock", "amazon.nova-lite"): ModelProfile("cheap", 0.03, 300, 160, 300_000, 0.008),
    ("aws-bedrock", "meta.llama3-1-70b-instruct"): ModelProfile(
        "cheap", 0.03, 450, 60, 128_000, 0.008
    ),
    ("azure-openai", "gpt-4o"): ModelProfile("premium", 0.06, 500, 75, 128_000, 0.010),
    ("azure-openai", "gpt-4o-mini"): ModelProfile("cheap", 0.06, 380, 100, 128_000, 0.010),
}


class TaskProfile(NamedTuple):
    """Token shape of one task type (lognormal medians and sigmas) and how calls chain."""

    input_median: float
    input_sigma: float
    output_median: float
    output_sigma: float
    max_output: int
    premium_share: float  # share of requests sent to a premium model (pro tier)
    extra_calls_mean: float  # Poisson mean of extra calls in the same trace
    context_growth: int  # input tokens added per extra call (history, tool results)


TASK_PROFILES: Final[dict[str, TaskProfile]] = {
    "chat": TaskProfile(600, 0.8, 250, 0.7, 1_024, 0.35, 0.15, 400),
    "summarization": TaskProfile(3_000, 0.7, 300, 0.5, 1_024, 0.30, 0.03, 0),
    "code_generation": TaskProfile(1_500, 0.8, 600, 0.7, 4_096, 0.70, 0.10, 300),
    "classification": TaskProfile(400, 0.6, 8, 0.4, 16, 0.25, 0.0, 0),
    "extraction": TaskProfile(1_800, 0.7, 150, 0.6, 1_024, 0.30, 0.03, 0),
    "translation": TaskProfile(700, 0.7, 750, 0.7, 2_048, 0.30, 0.03, 0),
    "rag_qa": TaskProfile(3_500, 0.5, 350, 0.6, 1_024, 0.50, 0.6, 200),
    "agent_step": TaskProfile(2_500, 0.6, 200, 0.8, 2_048, 0.80, 3.0, 900),
}
assert tuple(TASK_PROFILES) == TASK_TYPES

#: Premium share multiplier per tier (starter, pro, enterprise).
_TIER_PREMIUM: Final[tuple[float, ...]] = (0.6, 1.0, 1.3)

#: Relative call intensity per local hour (0-23), weekday and weekend.
_LOCAL_WEEKDAY: Final[np.ndarray] = np.array(
    [
        *(0.12, 0.08, 0.06, 0.05, 0.06, 0.1, 0.2, 0.4, 0.7, 0.95, 1.0, 1.0),
        *(0.85, 0.95, 1.0, 1.0, 0.95, 0.8, 0.6, 0.5, 0.45, 0.4, 0.3, 0.2),
    ]
)
_LOCAL_WEEKEND: Final[np.ndarray] = 0.5 * _LOCAL_WEEKDAY + 0.5 * _LOCAL_WEEKDAY.mean()

STOP = {s: i for i, s in enumerate(STOP_REASONS)}


def alias_table(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias tables for each row of ``probs`` (G x K, rows need not sum to 1).

    Builds in Python over G*K cells (small tables only); sampling with ``draw`` is vectorised.
    """
    probs = np.atleast_2d(np.asarray(probs, dtype=float))
    g, k = probs.shape
    prob = np.ones((g, k))
    alias = np.tile(np.arange(k), (g, 1))
    for row in range(g):
        total = probs[row].sum()
        if total <= 0:
            raise ValueError(f"alias_table: row {row} has no positive weight")
        scaled = probs[row] * k / total
        small = [i for i in range(k) if scaled[i] < 1.0]
        large = [i for i in range(k) if scaled[i] >= 1.0]
        while small and large:
            s, lg = small.pop(), large.pop()
            prob[row, s] = scaled[s]
            alias[row, s] = lg
            scaled[lg] -= 1.0 - scaled[s]
            (small if scaled[lg] < 1.0 else large).append(lg)
        for i in small + large:
            prob[row, i] = 1.0
    return prob, alias


def draw(
    rng: np.random.Generator, prob: np.ndarray, alias: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """One categorical draw per element of ``groups`` (row index into the alias tables).

    Returns the smallest integer dtype that holds the categories (int8 for < 127).
    """
    n = len(groups)
    k = prob.shape[1]
    small = np.int8 if k < 127 else np.int16 if k < 32_767 else np.int32
    j = rng.integers(0, k, n, dtype=np.int32)
    flat = np.asarray(groups, dtype=np.int32) * np.int32(k) + j
    keep = rng.random(n, dtype=np.float32) < prob.astype(np.float32).ravel()[flat]
    alias_flat = alias.astype(small).ravel()
    return np.where(keep, j.astype(small), alias_flat[flat])


def hour_tables() -> tuple[np.ndarray, np.ndarray]:
    """Alias tables of the UTC hour of a request; group = region * 2 + is_weekend."""
    rows = []
    for _, offset, _ in REGIONS:
        for local in (_LOCAL_WEEKDAY, _LOCAL_WEEKEND):
            # UTC hour h is local hour h + offset
            rows.append(np.roll(local, -offset))
    return alias_table(np.array(rows))


def catalog_entries() -> tuple[tuple[str, str], ...]:
    """(provider, model) of every catalog entry, in pricing.CATALOG order."""
    return tuple((p, m) for p, m, _ in pricing.CATALOG)


def model_tables() -> tuple[np.ndarray, np.ndarray]:
    """Alias tables of the catalog entry used by a request; group = task * 3 + tier."""
    entries = catalog_entries()
    prof = [MODEL_PROFILES[e] for e in entries]
    pop = np.array([p.popularity for p in prof])
    premium = np.array([p.cls == "premium" for p in prof])
    cheap = np.array([p.cls == "cheap" for p in prof])
    w_premium = np.where(premium, pop, 0.0) / pop[premium].sum()
    w_cheap = np.where(cheap, pop, 0.0) / pop[cheap].sum()
    rows = []
    for task in TASK_TYPES:
        for mult in _TIER_PREMIUM:
            share = min(0.95, TASK_PROFILES[task].premium_share * mult)
            rows.append(share * w_premium + (1 - share) * w_cheap)
    return alias_table(np.array(rows))


def task_arrays() -> dict[str, np.ndarray]:
    """Per-task parameters as arrays indexed by task code."""
    tp = [TASK_PROFILES[t] for t in TASK_TYPES]
    return {
        "mu_in": np.log([t.input_median for t in tp]).astype(np.float32),
        "sd_in": np.array([t.input_sigma for t in tp], dtype=np.float32),
        "mu_out": np.log([t.output_median for t in tp]).astype(np.float32),
        "sd_out": np.array([t.output_sigma for t in tp], dtype=np.float32),
        "max_out": np.array([t.max_output for t in tp], dtype=np.int64),
        "extra": np.array([t.extra_calls_mean for t in tp]),
        "growth": np.array([t.context_growth for t in tp], dtype=np.float32),
    }


def model_arrays() -> dict[str, np.ndarray]:
    """Per-catalog-entry parameters as arrays indexed by entry code."""
    prof = [MODEL_PROFILES[e] for e in catalog_entries()]
    return {
        "ttft": np.array([p.ttft_ms for p in prof], dtype=np.float32),
        "tps": np.array([p.tokens_per_s for p in prof], dtype=np.float32),
        "ctx": np.array([p.context_tokens for p in prof], dtype=np.int64),
        "err": np.array([p.error_rate for p in prof], dtype=np.float32),
    }


def tokens(
    rng: np.random.Generator, task: np.ndarray, step: np.ndarray, entry: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input and output tokens per call (lognormal by task; context grows along a trace).

    Returns (input_tokens, output_tokens, hit_token_limit); temporaries are float32.
    """
    ta = task_arrays()
    ma = model_arrays()
    n = len(task)
    x = rng.standard_normal(n, dtype=np.float32)
    x *= ta["sd_out"][task]
    x += ta["mu_out"][task]
    np.exp(x, out=x)
    max_out = ta["max_out"][task]
    out = np.rint(x).astype(np.int64)
    np.maximum(out, 1, out=out)
    limit = out >= max_out
    np.minimum(out, max_out, out=out)
    del max_out
    rng.standard_normal(n, dtype=np.float32, out=x)
    x *= ta["sd_in"][task]
    x += ta["mu_in"][task]
    np.exp(x, out=x)
    growth = step.astype(np.float32)
    growth *= ta["growth"][task].astype(np.float32)
    x += growth
    del growth
    inp = np.rint(x).astype(np.int64)
    del x
    np.maximum(inp, 1, out=inp)
    room = ma["ctx"][entry]
    room -= out
    np.minimum(inp, room, out=inp)
    return inp, out, limit


def latency_and_status(
    rng: np.random.Generator,
    entry: np.ndarray,
    input_tokens: np.ndarray,
    output_tokens: np.ndarray,
    hit_limit: np.ndarray,
    error_scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latency (ms), status code (index into STATUSES), stop_reason code.

    Updates ``output_tokens`` in place: errors return no output tokens; calls slower than
    ``TIMEOUT_MS`` become timeouts keeping the output produced until then; a small share of
    calls hang until the timeout.
    """
    ma = model_arrays()
    n = len(entry)
    f32 = np.float32
    ttft = ma["ttft"][entry]
    ms_per_token = (f32(1000.0) / ma["tps"])[entry]
    noise = rng.lognormal(0.0, 0.3, n).astype(f32)
    lat = ttft * noise
    lat += input_tokens.astype(f32) * f32(0.02)
    np.sqrt(noise, out=noise)
    noise *= ms_per_token
    noise *= output_tokens.astype(f32)
    lat += noise
    del noise
    u = rng.random(n, dtype=f32)
    err_p = ma["err"][entry] * f32(error_scale)
    is_err = u < err_p
    err_p += f32(0.002)
    hang = ~is_err & (u < err_p)
    del err_p
    lat[hang] = f32(TIMEOUT_MS + 1)
    del hang
    is_timeout = ~is_err & (lat > TIMEOUT_MS)
    # output produced before the client gave up (at least one token)
    if is_timeout.any():
        idx = np.flatnonzero(is_timeout)
        produced = np.maximum(1, ((TIMEOUT_MS - ttft[idx]) / ms_per_token[idx]).astype(np.int64))
        output_tokens[idx] = np.minimum(output_tokens[idx], produced)
    output_tokens[is_err] = 0
    np.minimum(lat, f32(TIMEOUT_MS), out=lat)
    idx = np.flatnonzero(is_err)
    lat[idx] = ttft[idx] * f32(0.5) * rng.lognormal(0.0, 0.6, len(idx)).astype(f32)
    del ttft, ms_per_token
    np.rint(lat, out=lat)
    np.maximum(lat, f32(1), out=lat)
    latency = lat.astype(np.int64)
    del lat

    status = np.zeros(n, dtype=np.int8)
    status[is_timeout] = 2
    status[is_err] = 1
    v = rng.random(n, dtype=f32)
    stop = np.where(v < f32(0.04), np.int8(STOP["END_SEQUENCE"]), np.int8(STOP["END"]))
    stop[hit_limit] = STOP["TOKEN_LIMIT"]
    stop[is_timeout] = STOP["TIMEOUT"]
    cancelled = v < f32(0.1)
    stop[is_err & cancelled] = STOP["CANCELLED"]
    stop[is_err & ~cancelled] = STOP["ERROR"]
    return latency, status, stop
