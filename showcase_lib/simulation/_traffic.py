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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from showcase_lib.schema import STOP_REASONS

from ._customers import REGIONS, TASK_TYPES

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

#: The class of a model in the traffic (``None``: priced, never drawn): premium / cheap in the
#: 2024 fleet, frontier / mid / small / reasoning in the 2026 fleet.
ModelUse = Literal["premium", "cheap", "frontier", "mid", "small", "reasoning"] | None

#: How a model's prompt cache is billed: ``"none"`` (no cache), ``"implicit"`` (the provider
#: caches automatically and bills reads only: OpenAI, Gemini), ``"explicit"`` (the caller marks
#: breakpoints and pays for writes: Anthropic).
CacheKind = Literal["none", "implicit", "explicit"]


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """How the simulation uses one catalog model: its class, popularity within it, speed, limits.

    ``use`` is the model's class (see ``ModelUse``; ``None``: priced by ``pricing`` but not drawn
    by the traffic, kept so the draws, which index these profiles, stay the same). The last
    three fields matter for the 2026 fleet only (the 2024 fleet keeps their defaults).
    """

    use: ModelUse
    popularity: float  # relative weight among the models of its class
    ttft_ms: float  # time to first token
    tokens_per_s: float  # output speed
    context_tokens: int  # context window: input + output are capped to it
    error_rate: float  # share of calls that fail (5xx) before any retry
    cache: CacheKind = "none"  # how its prompt cache is billed
    ttl_1h: bool = False  # offers 1-hour cache writes (Anthropic) besides 5-minute ones
    reasoning: float = 0.0  # reasoning tokens per visible output token, x the task's ratio


#: The models the traffic draws from, by (provider, model) name; ``pricing`` prices them by the
#: same names (a test checks every one is priced). The order here is the order of the draws:
#: appending a model keeps earlier seeds' data, reordering changes it.
MODEL_PROFILES: Final[dict[tuple[str, str], ModelProfile]] = {
    ("openai", "gpt-4"): ModelProfile(
        use="premium",
        popularity=0.22,
        ttft_ms=800,
        tokens_per_s=22,
        context_tokens=8_192,
        error_rate=0.012,
    ),
    ("openai", "gpt-4-turbo"): ModelProfile(
        use="premium",
        popularity=0.04,
        ttft_ms=700,
        tokens_per_s=35,
        context_tokens=128_000,
        error_rate=0.012,
    ),
    ("openai", "gpt-4o"): ModelProfile(
        use="premium",
        popularity=0.25,
        ttft_ms=450,
        tokens_per_s=85,
        context_tokens=128_000,
        error_rate=0.012,
    ),
    ("openai", "gpt-4o-mini"): ModelProfile(
        use="cheap",
        popularity=0.28,
        ttft_ms=350,
        tokens_per_s=110,
        context_tokens=128_000,
        error_rate=0.010,
    ),
    ("openai", "gpt-3.5-turbo"): ModelProfile(
        use="cheap",
        popularity=0.08,
        ttft_ms=300,
        tokens_per_s=95,
        context_tokens=16_385,
        error_rate=0.010,
    ),
    ("anthropic", "claude-sonnet-4"): ModelProfile(
        use="premium",
        popularity=0.15,
        ttft_ms=650,
        tokens_per_s=65,
        context_tokens=200_000,
        error_rate=0.015,
    ),
    ("anthropic", "claude-3-5-sonnet"): ModelProfile(
        use="premium",
        popularity=0.08,
        ttft_ms=600,
        tokens_per_s=70,
        context_tokens=200_000,
        error_rate=0.015,
    ),
    ("anthropic", "claude-3-5-haiku"): ModelProfile(
        use="cheap",
        popularity=0.10,
        ttft_ms=400,
        tokens_per_s=120,
        context_tokens=200_000,
        error_rate=0.012,
    ),
    ("anthropic", "claude-3-haiku"): ModelProfile(
        use="cheap",
        popularity=0.10,
        ttft_ms=300,
        tokens_per_s=150,
        context_tokens=200_000,
        error_rate=0.012,
    ),
    ("anthropic", "claude-instant-1.2"): ModelProfile(
        use=None,
        popularity=0.0,
        ttft_ms=350,
        tokens_per_s=110,
        context_tokens=100_000,
        error_rate=0.012,
    ),
    ("google", "gemini-1.5-pro"): ModelProfile(
        use="premium",
        popularity=0.07,
        ttft_ms=700,
        tokens_per_s=60,
        context_tokens=1_000_000,
        error_rate=0.010,
    ),
    ("google", "gemini-1.5-flash"): ModelProfile(
        use="cheap",
        popularity=0.10,
        ttft_ms=250,
        tokens_per_s=180,
        context_tokens=1_000_000,
        error_rate=0.010,
    ),
    ("google", "gemini-2.0-flash"): ModelProfile(
        use="cheap",
        popularity=0.06,
        ttft_ms=250,
        tokens_per_s=200,
        context_tokens=1_000_000,
        error_rate=0.010,
    ),
    ("mistral", "mistral-large"): ModelProfile(
        use="premium",
        popularity=0.04,
        ttft_ms=550,
        tokens_per_s=45,
        context_tokens=128_000,
        error_rate=0.020,
    ),
    ("mistral", "mistral-small"): ModelProfile(
        use="cheap",
        popularity=0.05,
        ttft_ms=300,
        tokens_per_s=120,
        context_tokens=32_000,
        error_rate=0.020,
    ),
    ("cohere", "command-r"): ModelProfile(
        use="cheap",
        popularity=0.05,
        ttft_ms=350,
        tokens_per_s=90,
        context_tokens=128_000,
        error_rate=0.015,
    ),
    ("cohere", "command-r-plus"): ModelProfile(
        use="premium",
        popularity=0.03,
        ttft_ms=500,
        tokens_per_s=55,
        context_tokens=128_000,
        error_rate=0.015,
    ),
    ("aws-bedrock", "anthropic.claude-3-haiku"): ModelProfile(
        use="cheap",
        popularity=0.06,
        ttft_ms=400,
        tokens_per_s=130,
        context_tokens=200_000,
        error_rate=0.008,
    ),
    ("aws-bedrock", "anthropic.claude-3-5-sonnet"): ModelProfile(
        use="premium",
        popularity=0.06,
        ttft_ms=700,
        tokens_per_s=60,
        context_tokens=200_000,
        error_rate=0.008,
    ),
    ("aws-bedrock", "amazon.nova-lite"): ModelProfile(
        use="cheap",
        popularity=0.03,
        ttft_ms=300,
        tokens_per_s=160,
        context_tokens=300_000,
        error_rate=0.008,
    ),
    ("aws-bedrock", "meta.llama3-1-70b-instruct"): ModelProfile(
        use="cheap",
        popularity=0.03,
        ttft_ms=450,
        tokens_per_s=60,
        context_tokens=128_000,
        error_rate=0.008,
    ),
    ("azure-openai", "gpt-4o"): ModelProfile(
        use="premium",
        popularity=0.06,
        ttft_ms=500,
        tokens_per_s=75,
        context_tokens=128_000,
        error_rate=0.010,
    ),
    ("azure-openai", "gpt-4o-mini"): ModelProfile(
        use="cheap",
        popularity=0.06,
        ttft_ms=380,
        tokens_per_s=100,
        context_tokens=128_000,
        error_rate=0.010,
    ),
}


@dataclass(frozen=True, slots=True)
class TaskProfile:
    """Token shape of one task type (lognormal medians and sigmas) and how calls chain."""

    input_median: float  # input tokens, median of the lognormal
    input_sigma: float
    output_median: float  # output tokens, median of the lognormal
    output_sigma: float
    max_output: int  # the max_tokens a client sets: longer answers stop at TOKEN_LIMIT
    premium_share: float  # share of requests sent to a premium model (pro tier)
    extra_calls_mean: float  # Poisson mean of extra calls in the same trace
    context_growth: int  # input tokens added per extra call (history, tool results)


#: One profile per task type, in ``TASK_TYPES`` order (checked below).
TASK_PROFILES: Final[dict[str, TaskProfile]] = {
    "chat": TaskProfile(
        input_median=600,
        input_sigma=0.8,
        output_median=250,
        output_sigma=0.7,
        max_output=1_024,
        premium_share=0.35,
        extra_calls_mean=0.15,
        context_growth=400,
    ),
    "summarization": TaskProfile(
        input_median=3_000,
        input_sigma=0.7,
        output_median=300,
        output_sigma=0.5,
        max_output=1_024,
        premium_share=0.30,
        extra_calls_mean=0.03,
        context_growth=0,
    ),
    "code_generation": TaskProfile(
        input_median=1_500,
        input_sigma=0.8,
        output_median=600,
        output_sigma=0.7,
        max_output=4_096,
        premium_share=0.70,
        extra_calls_mean=0.10,
        context_growth=300,
    ),
    "classification": TaskProfile(
        input_median=400,
        input_sigma=0.6,
        output_median=8,
        output_sigma=0.4,
        max_output=16,
        premium_share=0.25,
        extra_calls_mean=0.0,
        context_growth=0,
    ),
    "extraction": TaskProfile(
        input_median=1_800,
        input_sigma=0.7,
        output_median=150,
        output_sigma=0.6,
        max_output=1_024,
        premium_share=0.30,
        extra_calls_mean=0.03,
        context_growth=0,
    ),
    "translation": TaskProfile(
        input_median=700,
        input_sigma=0.7,
        output_median=750,
        output_sigma=0.7,
        max_output=2_048,
        premium_share=0.30,
        extra_calls_mean=0.03,
        context_growth=0,
    ),
    "rag_qa": TaskProfile(
        input_median=3_500,
        input_sigma=0.5,
        output_median=350,
        output_sigma=0.6,
        max_output=1_024,
        premium_share=0.50,
        extra_calls_mean=0.6,
        context_growth=200,
    ),
    "agent_step": TaskProfile(
        input_median=2_500,
        input_sigma=0.6,
        output_median=200,
        output_sigma=0.8,
        max_output=2_048,
        premium_share=0.80,
        extra_calls_mean=3.0,
        context_growth=900,
    ),
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
#: Weekends keep half of the weekday rhythm: people use apps later and more evenly.
_LOCAL_WEEKEND: Final[np.ndarray] = 0.5 * _LOCAL_WEEKDAY + 0.5 * _LOCAL_WEEKDAY.mean()

#: stop_reason -> its code (index into schema.STOP_REASONS).
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


Profiles = Mapping[tuple[str, str], ModelProfile]


def catalog_entries(profiles: Profiles = MODEL_PROFILES) -> tuple[tuple[str, str], ...]:
    """(provider, model) of every model of a fleet, in its profile table's order.

    The simulation's own table fixes the order (and so the draws); ``pricing`` is only asked
    for prices, by name, so reordering or extending its catalog changes no simulated call.
    """
    return tuple(profiles)


def model_tables() -> tuple[np.ndarray, np.ndarray]:
    """Alias tables of the 2024 fleet entry used by a request; group = task * 3 + tier."""
    entries = catalog_entries()
    prof = [MODEL_PROFILES[e] for e in entries]
    pop = np.array([p.popularity for p in prof])
    premium = np.array([p.use == "premium" for p in prof])
    cheap = np.array([p.use == "cheap" for p in prof])
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


def model_arrays(profiles: Profiles = MODEL_PROFILES) -> dict[str, np.ndarray]:
    """Per-entry parameters of a fleet as arrays indexed by entry code."""
    prof = list(profiles.values())
    return {
        "ttft": np.array([p.ttft_ms for p in prof], dtype=np.float32),
        "tps": np.array([p.tokens_per_s for p in prof], dtype=np.float32),
        "ctx": np.array([p.context_tokens for p in prof], dtype=np.int64),
        "err": np.array([p.error_rate for p in prof], dtype=np.float32),
        "cache": np.array([("none", "implicit", "explicit").index(p.cache) for p in prof]),
        "ttl_1h": np.array([p.ttl_1h for p in prof], dtype=bool),
        "reasoning": np.array([p.reasoning for p in prof], dtype=np.float32),
    }


def tokens(
    rng: np.random.Generator,
    task: np.ndarray,
    step: np.ndarray,
    entry: np.ndarray,
    profiles: Profiles = MODEL_PROFILES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input and output tokens per call (lognormal by task; context grows along a trace).

    Returns (input_tokens, output_tokens, hit_token_limit); temporaries are float32.
    """
    ta = task_arrays()
    ma = model_arrays(profiles)
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
    drawn: tuple[np.ndarray, np.ndarray, np.ndarray],
    error_scale: float = 1.0,
    profiles: Profiles = MODEL_PROFILES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latency (ms), status code (index into STATUSES), stop_reason code.

    ``drawn`` is what :func:`tokens` returned: (input_tokens, output_tokens, hit_limit).
    Updates ``output_tokens`` in place: errors return no output tokens; calls slower than
    ``TIMEOUT_MS`` become timeouts keeping the output produced until then; a small share of
    calls hang until the timeout.
    """
    input_tokens, output_tokens, hit_limit = drawn
    ma = model_arrays(profiles)
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
