"""The 2026 fleet and what a 2026 call carries: prompt-cache reads and writes, reasoning tokens,
the batch tier and a few long-context calls.

The fleet is priced by ``genai-prices`` 0.2.3 (through ``pricing``): a frontier, a mid and a
small model for OpenAI, Anthropic and Google, a reasoning model (o3) and a cloud-hosted Claude.
Each feature reuses a prompt prefix (system prompt, tools, schema) that the provider caches;
each task type reasons in proportion to its visible output on the reasoning-capable models; some
features run part of their work on the batch tier. All draws are whole-array (numpy).

Inclusive token rule (as the record): ``input_tokens`` includes the cache reads and writes,
``output_tokens`` includes the reasoning tokens.

Example:
    >>> sorted({p.use for p in FLEET_2026.values()})
    ['frontier', 'mid', 'reasoning', 'small']
    >>> FEATURE_PROFILES["chat_widget"].hit_rate
    0.85
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from ._customers import FEATURES, TASK_TYPES
from ._traffic import MODEL_PROFILES, ModelProfile, Profiles, alias_table, model_arrays, task_arrays

__all__ = [
    "CACHE_MIN_TOKENS",
    "FEATURE_PROFILES",
    "FLEETS",
    "FLEET_2026",
    "TASK_TAXONOMY",
    "FleetName",
    "fleet_model_tables",
    "fleet_profiles",
]

#: The fleets a simulation can draw from: the 2026 fleet (default) or the 2024 one the book
#: started with (gpt-4, gpt-4o, claude-3-5-*, gemini-1.5; no cache, reasoning nor batch).
FleetName = Literal["2026", "2024"]
FLEETS: Final[tuple[str, ...]] = ("2026", "2024")

#: Shortest prompt a provider caches: OpenAI caches prompts of 1,024 tokens or more
#: (platform.openai.com/docs/guides/prompt-caching), Anthropic's minimum cacheable prompt is
#: 1,024 tokens on Sonnet/Opus (docs.anthropic.com/en/docs/build-with-claude/prompt-caching),
#: Gemini implicit caching starts at 1,024 tokens on Flash (ai.google.dev/gemini-api/docs/caching).
CACHE_MIN_TOKENS: Final[int] = 1_024

#: The 2026 fleet by (provider, model); ``pricing`` prices it by these names. Order = draw order
#: (appending keeps earlier seeds' data). Speeds and limits are typical published figures
#: (context windows from genai-prices' ``context_window`` where it has one). ``reasoning`` is
#: the model's reasoning multiplier: 1 for effort-controlled reasoning (gpt-5 family, Gemini 3
#: thinking), 0.5 for Claude's optional extended thinking, 2 for o3 (always reasons, at length).
FLEET_2026: Final[dict[tuple[str, str], ModelProfile]] = {
    ("openai", "gpt-5.5"): ModelProfile(
        use="frontier",
        popularity=0.40,
        ttft_ms=900,
        tokens_per_s=100,
        context_tokens=1_000_000,
        error_rate=0.010,
        cache="implicit",
        reasoning=1.0,
    ),
    ("openai", "gpt-5.6-luna"): ModelProfile(
        use="mid",
        popularity=0.35,
        ttft_ms=500,
        tokens_per_s=120,
        context_tokens=1_050_000,
        error_rate=0.010,
        cache="implicit",
        reasoning=1.0,
    ),
    ("openai", "gpt-5.4-nano"): ModelProfile(
        use="small",
        popularity=0.35,
        ttft_ms=300,
        tokens_per_s=180,
        context_tokens=400_000,
        error_rate=0.008,
        cache="implicit",
        reasoning=0.5,
    ),
    ("openai", "o3"): ModelProfile(
        use="reasoning",
        popularity=1.0,
        ttft_ms=1_500,
        tokens_per_s=150,
        context_tokens=200_000,
        error_rate=0.012,
        cache="implicit",
        reasoning=2.0,
    ),
    ("anthropic", "claude-opus-5"): ModelProfile(
        use="frontier",
        popularity=0.35,
        ttft_ms=1_200,
        tokens_per_s=70,
        context_tokens=1_000_000,
        error_rate=0.015,
        cache="explicit",
        ttl_1h=True,
        reasoning=0.5,
    ),
    ("anthropic", "claude-sonnet-5"): ModelProfile(
        use="mid",
        popularity=0.30,
        ttft_ms=700,
        tokens_per_s=80,
        context_tokens=1_000_000,
        error_rate=0.015,
        cache="explicit",
        ttl_1h=True,
        reasoning=0.5,
    ),
    ("anthropic", "claude-haiku-4-5"): ModelProfile(
        use="small",
        popularity=0.35,
        ttft_ms=400,
        tokens_per_s=150,
        context_tokens=200_000,
        error_rate=0.012,
        cache="explicit",
        ttl_1h=True,
    ),
    ("google", "gemini-3.1-pro-preview"): ModelProfile(
        use="frontier",
        popularity=0.25,
        ttft_ms=1_000,
        tokens_per_s=80,
        context_tokens=1_048_576,
        error_rate=0.010,
        cache="implicit",
        reasoning=1.0,
    ),
    ("google", "gemini-3.5-flash"): ModelProfile(
        use="mid",
        popularity=0.25,
        ttft_ms=350,
        tokens_per_s=200,
        context_tokens=1_000_000,
        error_rate=0.010,
        cache="implicit",
        reasoning=1.0,
    ),
    ("google", "gemini-3.5-flash-lite"): ModelProfile(
        use="small",
        popularity=0.30,
        ttft_ms=250,
        tokens_per_s=250,
        context_tokens=1_000_000,
        error_rate=0.010,
        cache="implicit",
    ),
    ("aws-bedrock", "anthropic.claude-sonnet-5"): ModelProfile(
        use="mid",
        popularity=0.10,
        ttft_ms=800,
        tokens_per_s=75,
        context_tokens=1_000_000,
        error_rate=0.008,
        cache="explicit",
        ttl_1h=True,
        reasoning=0.5,
    ),
}

_CLASSES: Final[tuple[str, ...]] = ("frontier", "mid", "small", "reasoning")


@dataclass(frozen=True, slots=True)
class FeatureProfile:
    """What a feature reuses and where it runs.

    ``prefix_tokens``: the prompt prefix every call of the feature starts with (system prompt,
    tool definitions, schema), added to the input and cacheable; ``hit_rate``: share of calls
    whose prefix is read from the cache (the rest write it, on an explicit cache);
    ``ttl_1h_share``: share of those writes with a 1-hour TTL where the provider offers it;
    ``batch_share``: share of the feature's requests sent to the batch tier.
    """

    prefix_tokens: int
    hit_rate: float
    ttl_1h_share: float
    batch_share: float


#: One profile per feature (``FEATURES``). Chat-like and agent features reuse long system
#: prompts and tool lists (high hit rates, 1-hour writes for sessions that pause); retrieval
#: varies its context (lower); summaries, extractions and reviews run backfills and evaluations
#: on the batch tier.
FEATURE_PROFILES: Final[dict[str, FeatureProfile]] = {
    "chat_widget": FeatureProfile(8_000, 0.85, 0.30, 0.00),  # policies + KB in the prompt
    "ticket_triage": FeatureProfile(1_200, 0.90, 0.00, 0.20),
    "kb_answer": FeatureProfile(1_500, 0.60, 0.10, 0.00),
    "reply_translate": FeatureProfile(1_100, 0.50, 0.00, 0.00),
    "doc_summary": FeatureProfile(1_100, 0.50, 0.00, 0.40),
    "contract_extract": FeatureProfile(2_500, 0.80, 0.00, 0.30),
    "doc_translate": FeatureProfile(1_100, 0.50, 0.00, 0.25),
    "doc_chat": FeatureProfile(4_000, 0.80, 0.50, 0.00),
    "code_complete": FeatureProfile(2_000, 0.70, 0.00, 0.00),
    "code_review": FeatureProfile(3_000, 0.60, 0.00, 0.20),
    "pr_agent": FeatureProfile(6_000, 0.90, 0.50, 0.00),
    "repo_qa": FeatureProfile(2_000, 0.60, 0.10, 0.00),
    "report_summary": FeatureProfile(1_200, 0.50, 0.00, 0.50),
    "sql_agent": FeatureProfile(5_000, 0.90, 0.40, 0.00),
    "data_extract": FeatureProfile(1_800, 0.75, 0.00, 0.35),
    "insight_chat": FeatureProfile(2_500, 0.80, 0.30, 0.00),
}
assert set(FEATURE_PROFILES) == {f for f, _, _ in FEATURES}


@dataclass(frozen=True, slots=True)
class TaskTaxonomy:
    """Per task type: reasoning tokens per visible output token (at the default effort), share
    of calls carrying a long document, and the weight of each model class (frontier, mid,
    small, reasoning) in the pro tier."""

    reasoning_ratio: float
    long_context_share: float
    classes: tuple[float, float, float, float]


TASK_TAXONOMY: Final[dict[str, TaskTaxonomy]] = {
    "chat": TaskTaxonomy(0.3, 0.0, (0.15, 0.45, 0.40, 0.00)),
    "summarization": TaskTaxonomy(0.3, 0.004, (0.10, 0.50, 0.40, 0.00)),
    "code_generation": TaskTaxonomy(2.0, 0.0, (0.45, 0.30, 0.05, 0.20)),
    "classification": TaskTaxonomy(0.0, 0.0, (0.02, 0.18, 0.80, 0.00)),
    "extraction": TaskTaxonomy(0.5, 0.002, (0.10, 0.50, 0.40, 0.00)),
    "translation": TaskTaxonomy(0.2, 0.0, (0.10, 0.50, 0.40, 0.00)),
    "rag_qa": TaskTaxonomy(1.0, 0.002, (0.25, 0.50, 0.20, 0.05)),
    "agent_step": TaskTaxonomy(1.5, 0.0, (0.45, 0.30, 0.05, 0.20)),
}
assert tuple(TASK_TAXONOMY) == TASK_TYPES

#: Weight multiplier of the frontier and reasoning classes per tier (starter, pro, enterprise).
_TIER_FRONTIER: Final[tuple[float, ...]] = (0.6, 1.0, 1.3)
#: A long document: input tokens drawn uniformly in this range (then capped to the context),
#: so some cross the 200k (gemini-3.1-pro) and 272k (gpt-5.5, gpt-5.6-luna) cliffs.
LONG_CONTEXT_TOKENS: Final[tuple[int, int]] = (150_000, 700_000)
#: Reasoning tokens of one call never exceed this (a typical reasoning budget cap).
_REASONING_CAP: Final[int] = 32_000


def fleet_profiles(fleet: str) -> Profiles:
    """The model profiles of a fleet ("2026" or "2024").

    Example:
        >>> len(fleet_profiles("2026")), ("openai", "gpt-4") in fleet_profiles("2024")
        (11, True)
    """
    if fleet == "2026":
        return FLEET_2026
    if fleet == "2024":
        return MODEL_PROFILES
    raise ValueError(f"fleet={fleet!r} is not one of {', '.join(FLEETS)}")


def fleet_model_tables() -> tuple[np.ndarray, np.ndarray]:
    """Alias tables of the 2026 entry used by a request; group = task * 3 + tier.

    Example:
        >>> prob, alias = fleet_model_tables()
        >>> prob.shape
        (24, 11)
    """
    prof = list(FLEET_2026.values())
    pop = np.array([p.popularity for p in prof])
    rows = []
    for task in TASK_TYPES:
        for mult in _TIER_FRONTIER:
            w = np.array(TASK_TAXONOMY[task].classes) * np.array([mult, 1.0, 1.0, mult])
            row = np.zeros(len(prof))
            for c, name in enumerate(_CLASSES):
                members = np.array([p.use == name for p in prof])
                if w[c] > 0 and members.any():
                    row += w[c] * np.where(members, pop, 0.0) / pop[members].sum()
            rows.append(row)
    return alias_table(np.array(rows))


def feature_arrays() -> dict[str, np.ndarray]:
    """Per-feature parameters as arrays indexed by feature code (``FEATURES`` order)."""
    prof = [FEATURE_PROFILES[f] for f, _, _ in FEATURES]
    return {
        "prefix": np.array([p.prefix_tokens for p in prof], dtype=np.int64),
        "hit": np.array([p.hit_rate for p in prof], dtype=np.float32),
        "ttl_1h": np.array([p.ttl_1h_share for p in prof], dtype=np.float32),
        "batch": np.array([p.batch_share for p in prof], dtype=np.float32),
    }


def task_taxonomy_arrays() -> dict[str, np.ndarray]:
    """Per-task reasoning ratio and long-context share, indexed by task code."""
    tt = [TASK_TAXONOMY[t] for t in TASK_TYPES]
    return {
        "ratio": np.array([t.reasoning_ratio for t in tt], dtype=np.float32),
        "long": np.array([t.long_context_share for t in tt], dtype=np.float32),
    }


@dataclass(frozen=True, slots=True)
class CallKeys:
    """Per-call codes the taxonomy is drawn from (time-sorted call order)."""

    task: np.ndarray
    feature: np.ndarray
    entry: np.ndarray
    step: np.ndarray


def widen_inputs(rng: np.random.Generator, keys: CallKeys, inp: np.ndarray) -> None:
    """Add the feature's prompt prefix to ``inp`` and give a few calls a long document (both in
    place; the caller caps input + output to the context with :func:`cap_to_context`)."""
    fa, ta = feature_arrays(), task_taxonomy_arrays()
    inp += fa["prefix"][keys.feature]
    u = rng.random(len(inp), dtype=np.float32)
    long = np.flatnonzero(u < ta["long"][keys.task])
    if len(long):
        lo, hi = LONG_CONTEXT_TOKENS
        inp[long] = rng.integers(lo, hi, len(long))


def reasoning_tokens(rng: np.random.Generator, keys: CallKeys, visible: np.ndarray) -> np.ndarray:
    """Reasoning tokens per call: visible output x the task's ratio x the model's multiplier,
    with lognormal noise (sigma 0.5), capped at a reasoning budget; int64."""
    ta = task_taxonomy_arrays()
    ma = _model_arrays()
    x = rng.standard_normal(len(visible), dtype=np.float32)
    x *= np.float32(0.5)
    np.exp(x, out=x)
    x *= ta["ratio"][keys.task]
    x *= ma["reasoning"][keys.entry]
    x *= visible.astype(np.float32)
    np.minimum(x, np.float32(_REASONING_CAP), out=x)
    return np.rint(x).astype(np.int64)


def cap_to_context(entry: np.ndarray, inp: np.ndarray, out: np.ndarray) -> None:
    """Cap input tokens (in place) so that input + output fit the model's context window."""
    room = _model_arrays()["ctx"][entry] - out
    np.minimum(inp, np.maximum(room, 1), out=inp)


def _model_arrays() -> dict[str, np.ndarray]:
    return model_arrays(FLEET_2026)


@dataclass(frozen=True, slots=True)
class CacheDraw:
    """Prompt-cache tokens per call (all int64, inclusive in input_tokens)."""

    read: np.ndarray
    write: np.ndarray
    write_1h: np.ndarray


def cache_tokens(keys: CallKeys, inp: np.ndarray, u: np.ndarray, hit_rate: np.ndarray) -> CacheDraw:
    """Cache reads and writes per call from one uniform draw ``u`` and each call's hit rate.

    The cacheable part is the feature's prefix plus, along a trace, the context the earlier
    steps added (the transcript so far), capped to the input; prompts shorter than
    ``CACHE_MIN_TOKENS`` are not cached. A hit (``u < hit_rate``) reads it; a miss on an
    explicit cache writes it, with a 1-hour TTL for the feature's ``ttl_1h_share`` of misses
    on providers that offer it.
    """
    fa = feature_arrays()
    ma = _model_arrays()
    growth = task_arrays()["growth"].astype(np.int64)
    cacheable = fa["prefix"][keys.feature] + keys.step.astype(np.int64) * growth[keys.task]
    np.minimum(cacheable, inp, out=cacheable)
    kind = ma["cache"][keys.entry]
    cacheable[(kind == 0) | (cacheable < CACHE_MIN_TOKENS)] = 0
    hit = u < hit_rate
    read = np.where(hit, cacheable, 0)
    write = np.where(~hit & (kind == 2), cacheable, 0)
    # the miss's position within (hit_rate, 1) is a second, independent uniform
    u1h = (u - hit_rate) / np.maximum(np.float32(1.0) - hit_rate, np.float32(1e-6))
    long_ttl = (u1h < fa["ttl_1h"][keys.feature]) & ma["ttl_1h"][keys.entry]
    write_1h = np.where(long_ttl, write, 0)
    return CacheDraw(read=read, write=write, write_1h=write_1h)
