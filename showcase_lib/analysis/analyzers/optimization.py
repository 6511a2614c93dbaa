"""FinOps "optimize": model right-sizing, prompt caching and prompt trimming, each with a $ figure.

* **Right-sizing**: for every (task type, model) pair, the cheapest catalog model whose SIMULATED
  quality (:mod:`.quality`) on that task's complexity is within ``max_quality_drop`` points of
  the current model; the saving is the same tokens repriced with ``showcase_lib.pricing``.
* **Caching**: inside a session, later calls re-send the context of the first one; the first
  call's prompt length (capped at each call's own) is taken as the cacheable prefix, billed at
  ``1 - cache_discount`` of the input price.
* **Prompt trimming**: prompts longer than the ``long_quantile`` of their task type are trimmed to
  the ``target_quantile``.

The combined figure applies the three in that order on each call (so they never double count).

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
    ...     "provider": ["openai"] * 2, "model": ["gpt-4"] * 2, "task_type": ["classification"] * 2,
    ...     "input_tokens": [1000, 1000], "output_tokens": [100, 100], "cost_usd": [0.036, 0.036],
    ...     "session_id": ["s1", "s2"]})
    >>> r = analyze_optimization(calls, candidates=[("openai", "gpt-4o-mini")])
    >>> r.right_sizing.loc[0, "candidate_model"]
    'gpt-4o-mini'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from showcase_lib import pricing

from .base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    comparison_frame,
    monthly_factor,
    require_columns,
    require_rows,
)
from .quality import SIMULATED_LABEL, quality_score, task_complexity

#: Providers whose models are offered as right-sizing candidates by default (direct APIs).
DEFAULT_CANDIDATE_PROVIDERS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "google",
    "mistral",
    "cohere",
)


def candidate_models(
    providers: Sequence[str] = DEFAULT_CANDIDATE_PROVIDERS, include_retired: bool = False
) -> list[tuple[str, str]]:
    """(provider, model) pairs from the price catalog that right-sizing may propose.

    Retired models (priced from ``pricing.RETIRED_PRICES``) are left out unless asked for.

    Example:
        >>> ("openai", "gpt-4o-mini") in candidate_models()
        True
        >>> ("anthropic", "claude-instant-1.2") in candidate_models()
        False
    """
    out = []
    for provider, model, _ref in pricing.CATALOG:
        if provider not in providers:
            continue
        if not include_retired and (provider, model) in pricing.RETIRED_PRICES:
            continue
        out.append((provider, model))
    return out


def reprice(
    calls: pd.DataFrame,
    provider: str | pd.Series | np.ndarray,
    model: str | pd.Series | np.ndarray,
    *,
    input_tokens: pd.Series | np.ndarray | None = None,
    output_tokens: pd.Series | np.ndarray | None = None,
) -> pd.Series:
    """Cost of ``calls``' tokens (or the token counts given) at another provider/model's prices.

    Example:
        >>> df = pd.DataFrame({"input_tokens": [1_000_000], "output_tokens": [0]})
        >>> reprice(df, "openai", "gpt-4").tolist()
        [30.0]
    """
    n = len(calls)
    frame = pd.DataFrame(
        {
            "provider": np.full(n, provider, dtype=object)
            if isinstance(provider, str)
            else np.asarray(provider, dtype=object),
            "model": np.full(n, model, dtype=object)
            if isinstance(model, str)
            else np.asarray(model, dtype=object),
            "input_tokens": np.asarray(
                calls["input_tokens"] if input_tokens is None else input_tokens, dtype=float
            ),
            "output_tokens": np.asarray(
                calls["output_tokens"] if output_tokens is None else output_tokens, dtype=float
            ),
        },
        index=calls.index,
    )
    return pricing.cost_usd(frame)


def right_sizing(
    calls: pd.DataFrame,
    *,
    candidates: Sequence[tuple[str, str]] | None = None,
    max_quality_drop: float = 3.0,
    complexity_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Cheapest acceptable model per (task_type, provider, model), with saving and quality risk.

    One row per current (task_type, provider, model): calls, tokens, ``current_cost_usd``
    (tokens repriced at the current model), ``candidate_*`` (the cheapest candidate within
    ``max_quality_drop`` simulated points, or the current model when none is cheaper),
    ``saving_usd`` and ``quality_drop`` (simulated points lost). Largest saving first.

    Example:
        >>> df = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4"],
        ...     "task_type": ["code_generation"], "input_tokens": [1000], "output_tokens": [500]})
        >>> right_sizing(df, candidates=[("openai", "gpt-4o-mini")])["saving_usd"].tolist()
        [0.0]
    """
    cands = candidate_models() if candidates is None else [tuple(c) for c in candidates]
    g = (
        calls.groupby(["task_type", "provider", "model"], observed=True)
        .agg(
            calls=("input_tokens", "size"),
            input_tokens=("input_tokens", "sum"),
            output_tokens=("output_tokens", "sum"),
        )
        .reset_index()
    )
    g = g[g["calls"] > 0].reset_index(drop=True)
    prices = {
        pair: pricing.price(*pair)
        for pair in {*cands, *zip(g["provider"].astype(str), g["model"].astype(str), strict=True)}
    }

    def cost(pair: tuple[str, str], tin: float, tout: float) -> float:
        p = prices[pair]
        return (tin * p.input_usd_per_mtok + tout * p.output_usd_per_mtok) / 1e6

    rows = []
    for r in g.itertuples(index=False):  # one row per (task, model): a few dozen at most
        current = (str(r.provider), str(r.model))
        cx = task_complexity(str(r.task_type), complexity_map)
        q_now = quality_score(current[1], cx)
        now = cost(current, r.input_tokens, r.output_tokens)
        best, best_cost, best_q = current, now, q_now
        for cand in cands:
            q = quality_score(cand[1], cx)
            c = cost(cand, r.input_tokens, r.output_tokens)
            if q >= q_now - max_quality_drop and c < best_cost - 1e-12:
                best, best_cost, best_q = cand, c, q
        rows.append(
            (
                str(r.task_type),
                cx,
                current[0],
                current[1],
                int(r.calls),
                now,
                best[0],
                best[1],
                best_cost,
                now - best_cost,
                (now - best_cost) / now if now else 0.0,
                q_now,
                best_q,
                q_now - best_q,
            )
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "task_type",
            "complexity",
            "provider",
            "model",
            "calls",
            "current_cost_usd",
            "candidate_provider",
            "candidate_model",
            "candidate_cost_usd",
            "saving_usd",
            "saving_pct",
            "quality_current",
            "quality_candidate",
            "quality_drop",
        ],
    )
    return out.sort_values("saving_usd", ascending=False).reset_index(drop=True)


def cacheable_input_tokens(calls: pd.DataFrame) -> np.ndarray:
    """Per call, input tokens a prompt cache could serve: the session's first prompt length
    (capped at the call's own) for every call after the first in its session; 0 otherwise.

    Example:
        >>> df = pd.DataFrame({"session_id": ["s", "s", "t"], "input_tokens": [500, 800, 300],
        ...     "timestamp": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:01",
        ...                                  "2026-01-01 00:02"], utc=True)})
        >>> cacheable_input_tokens(df).tolist()
        [0.0, 500.0, 0.0]
    """
    if "session_id" not in calls:
        return np.zeros(len(calls))
    session = calls["session_id"]
    order = (
        np.argsort(calls["timestamp"].to_numpy(), kind="stable")
        if "timestamp" in calls
        else np.arange(len(calls))
    )
    frame = pd.DataFrame(
        {"s": session.to_numpy()[order], "tin": calls["input_tokens"].to_numpy(dtype=float)[order]}
    )
    grp = frame.groupby("s", sort=False, dropna=True)
    first = grp["tin"].transform("first").to_numpy()
    later = (grp.cumcount() > 0).to_numpy() & frame["s"].notna().to_numpy()
    sorted_cache = np.where(later, np.minimum(first, frame["tin"].to_numpy()), 0.0)
    out = np.empty(len(calls))
    out[order] = np.nan_to_num(sorted_cache)
    return out


def trimmable_input_tokens(
    calls: pd.DataFrame, *, long_quantile: float = 0.9, target_quantile: float = 0.5
) -> np.ndarray:
    """Per call, input tokens removed by trimming prompts longer than the task type's
    ``long_quantile`` down to its ``target_quantile``.

    Example:
        >>> df = pd.DataFrame({"task_type": ["chat"] * 5, "input_tokens": [100, 100, 100, 100, 900]})
        >>> trimmable_input_tokens(df, long_quantile=0.75, target_quantile=0.5).tolist()
        [0.0, 0.0, 0.0, 0.0, 800.0]
    """
    tin = calls["input_tokens"].astype(float)
    grp = tin.groupby(calls["task_type"].astype(str).to_numpy())
    long = grp.transform(lambda s: s.quantile(long_quantile)).to_numpy()
    target = grp.transform(lambda s: s.quantile(target_quantile)).to_numpy()
    x = tin.to_numpy()
    return np.where(x > long, x - target, 0.0)


@dataclass
class OptimizationResult(AnalysisResult):
    """Right-sizing table, per-lever savings and the combined plan."""

    right_sizing: pd.DataFrame = field(default_factory=pd.DataFrame)
    opportunities: pd.DataFrame = field(default_factory=pd.DataFrame)


def analyze_optimization(
    calls: pd.DataFrame,
    *,
    candidates: Sequence[tuple[str, str]] | None = None,
    max_quality_drop: float = 3.0,
    cache_discount: float = 0.5,
    long_quantile: float = 0.9,
    target_quantile: float = 0.5,
    complexity_map: Mapping[str, str] | None = None,
) -> OptimizationResult:
    """Right-size models, estimate caching and trimming savings, combine them without overlap.

    All savings are monthly (the period scaled to 30 days) and computed by repricing tokens with
    ``showcase_lib.pricing``. ``cache_discount`` is the share of the input price saved on a cache
    hit (0.5 is OpenAI's published cached-input discount; Anthropic's cache reads save 0.9).

    Example:
        >>> calls = pd.DataFrame({
        ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
        ...     "provider": ["openai"] * 2, "model": ["gpt-4o"] * 2, "task_type": ["chat"] * 2,
        ...     "input_tokens": [1000, 1000], "output_tokens": [0, 0], "cost_usd": [0.0025] * 2,
        ...     "session_id": ["s", "s"]})
        >>> r = analyze_optimization(calls, candidates=[], cache_discount=0.5)
        >>> round(r.opportunities.set_index("lever").loc["prompt caching", "saving_usd"], 6)
        np.float64(0.00125)
    """
    who = "analyze_optimization"
    require_columns(
        calls,
        [
            "timestamp",
            "provider",
            "model",
            "task_type",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ],
        who=who,
    )
    require_rows(calls, who=who)
    if not 0.0 <= cache_discount <= 1.0:
        raise ValueError(f"cache_discount={cache_discount} must be between 0 and 1")
    factor = monthly_factor(calls)
    plan = right_sizing(
        calls,
        candidates=candidates,
        max_quality_drop=max_quality_drop,
        complexity_map=complexity_map,
    )

    # per-call target model from the plan
    key = ["task_type", "provider", "model"]
    target = (
        calls[key]
        .astype(str)
        .merge(
            plan.assign(**{k: plan[k].astype(str) for k in key})[
                [*key, "candidate_provider", "candidate_model"]
            ],
            on=key,
            how="left",
        )
    )
    new_provider = target["candidate_provider"].fillna(target["provider"]).to_numpy()
    new_model = target["candidate_model"].fillna(target["model"]).to_numpy()

    tin = calls["input_tokens"].to_numpy(dtype=float)
    cached = cacheable_input_tokens(calls)
    trimmed = trimmable_input_tokens(
        calls, long_quantile=long_quantile, target_quantile=target_quantile
    )
    current = reprice(
        calls, calls["provider"].astype(str).to_numpy(), calls["model"].astype(str).to_numpy()
    )
    cur_model = (calls["provider"].astype(str).to_numpy(), calls["model"].astype(str).to_numpy())
    # each lever alone, against today's models
    rs_only = reprice(calls, new_provider, new_model)
    cache_only = reprice(calls, *cur_model, input_tokens=tin - cached * cache_discount)
    trim_only = reprice(calls, *cur_model, input_tokens=tin - trimmed)
    # combined: new model, trimmed prompt, cache on what is left
    eff_in = tin - trimmed
    eff_cached = np.minimum(cached, eff_in)
    combined = reprice(
        calls, new_provider, new_model, input_tokens=eff_in - eff_cached * cache_discount
    )

    base = float(current.sum())
    levers = [
        (
            "model right-sizing",
            float(base - rs_only.sum()),
            f"max {plan['quality_drop'].max() if len(plan) else 0:.0f} simulated quality points",
            "route tasks to the cheapest model within the quality guardrail",
        ),
        (
            "prompt caching",
            float(base - cache_only.sum()),
            "none on answers (same prompt, cheaper input)",
            "cache the shared session prefix (system prompt and context)",
        ),
        (
            "prompt trimming",
            float(base - trim_only.sum()),
            "possible loss of context on the longest prompts",
            f"trim prompts above the task's p{long_quantile * 100:.0f} to its "
            f"p{target_quantile * 100:.0f}",
        ),
        (
            "combined (no double counting)",
            float(base - combined.sum()),
            "as above",
            "all three, applied in sequence per call",
        ),
    ]
    opp = pd.DataFrame(levers, columns=["lever", "saving_usd", "risk", "action"])
    opp["monthly_saving_usd"] = opp["saving_usd"] * factor
    opp["share_of_spend"] = opp["saving_usd"] / base if base else 0.0
    plan["monthly_saving_usd"] = plan["saving_usd"] * factor

    monthly_now = base * factor
    comb = opp.iloc[-1]
    top = plan.iloc[0] if len(plan) else None
    headline = [
        Metric("Monthly AI spend (repriced)", monthly_now, "usd"),
        Metric("Monthly saving, combined", float(comb["monthly_saving_usd"]), "usd"),
        Metric("Saving as share of spend", float(comb["share_of_spend"]), "pct"),
        *[
            Metric(f"Monthly saving, {r.lever}", float(r.monthly_saving_usd), "usd")
            for r in opp.iloc[:-1].itertuples()
        ],
    ]
    findings = [
        f"{r.lever}: ${r.monthly_saving_usd:,.2f}/month ({r.share_of_spend:.1%} of "
        f"spend); risk: {r.risk}."
        for r in opp.itertuples()
    ]
    if top is not None and top["saving_usd"] > 0:
        findings.insert(
            0,
            f"Largest single move: {top['task_type']} from {top['model']} to "
            f"{top['candidate_model']} saves ${top['monthly_saving_usd']:,.2f}/month "
            f"for {top['quality_drop']:.0f} points of {SIMULATED_LABEL}.",
        )
    comparison = comparison_frame(
        [
            (
                "Monthly AI spend",
                monthly_now,
                monthly_now - float(comb["monthly_saving_usd"]),
                "usd",
            ),
            ("Known savings levers", 0.0, float((opp.iloc[:-1]["saving_usd"] > 0).sum()), "count"),
            (
                "Tasks on an oversized model",
                "unknown",
                float((plan["saving_usd"] > 0).sum()),
                "count",
            ),
        ]
    )
    value = ReveniumValue(
        metadata=(
            "task_type",
            "model",
            "provider",
            "input_tokens",
            "output_tokens",
            "session_id",
            "feature_id",
        ),
        enables="savings per task type and model, computed from the tokens each call actually "
        "used, and which sessions re-send the same context",
        without="guess from the invoice which workloads could move, run a separate logging "
        "project to learn prompt lengths, and size savings from list prices",
    )
    story = Story(
        problem=f"AI spend runs at ${monthly_now:,.0f}/month and every task uses the model it "
        "started with; nobody knows which tasks pay for quality they do not need.",
        solution="Per-call task type, model, token counts and session let us reprice each "
        "workload on cheaper models within a quality guardrail, and measure how much "
        "context is re-sent (cacheable) or bloated (trimmable).",
        steps=(
            Step(
                "Tag the task",
                "Send task_type and session_id with each call.",
                "tracker.track(..., task_type='classification', session_id=session)",
            ),
            Step(
                "Find the moves",
                "Run the analyzer with your quality guardrail.",
                "result = analyze_optimization(calls, max_quality_drop=3.0)\n"
                "result.right_sizing.head()",
            ),
            Step(
                "A/B test before switching",
                "Confirm the quality on live traffic (notebook 11) and route by task type.",
                "MODEL_BY_TASK = dict(zip(plan.task_type, plan.candidate_model))",
            ),
        ),
    )
    return OptimizationResult(
        name="optimization",
        title="Cost optimization opportunities",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"opportunities": opp, "right_sizing": plan},
        revenium_value=value,
        story=story,
        parameters={
            "max_quality_drop": max_quality_drop,
            "cache_discount": cache_discount,
            "long_quantile": long_quantile,
            "target_quantile": target_quantile,
            "quality": SIMULATED_LABEL,
        },
        right_sizing=plan,
        opportunities=opp,
    )
