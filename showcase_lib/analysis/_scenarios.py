"""Part D scenario computations (notebooks 11-13): model comparison, viral spike, pricing.

Each function takes records (simulated or metered) and parameters a reader can know, and
returns an :class:`~showcase_lib.analysis.analyzers.AnalysisResult` subclass, so the same report
cards render it. Every figure is computed from the inputs; the showcase plan's headline claims
are only used as *targets* the notebooks compare against. Prices come in as a price table frame
(``showcase_lib.pricing.price_table()``); ground truth of a simulation never enters here (see
:mod:`~showcase_lib.analysis.evaluation`).

Example:
    >>> import pandas as pd
    >>> prices = pd.DataFrame({"provider": ["openai", "anthropic"],
    ...     "model": ["gpt-4", "claude-instant-1.2"], "input_usd_per_mtok": [30.0, 0.8],
    ...     "output_usd_per_mtok": [60.0, 2.4]})
    >>> calls = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
    ...     "provider": ["openai"] * 2, "model": ["gpt-4"] * 2,
    ...     "task_type": ["classification", "code_generation"],
    ...     "input_tokens": [1000, 1000], "output_tokens": [200, 200], "cost_usd": [0.042] * 2})
    >>> cfg = ModelComparisonConfig(candidates=(), n_ab=200)
    >>> r = model_comparison(calls, prices, config=cfg)
    >>> round(r.per_call_reduction, 2)       # claude-instant-1.2 vs gpt-4 on these tokens
    0.97
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import pandas as pd

from showcase_lib.analysis._prices import Prices, as_pricer, on_model, priced_view
from showcase_lib.analysis._timeseries import bucket, period_keys
from showcase_lib.analysis.analyzers._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    monthly_factor,
    require_columns,
    require_rows,
    signed_usd,
)
from showcase_lib.analysis.analyzers._pricing_models import (
    PricingResult,
    analyze_pricing,
    average_customer_estimate,
    current_fees,
    pricing_sensitivity,
)
from showcase_lib.analysis.analyzers._quality import (
    CALL_SCORE_SD,
    SIMULATED_LABEL,
    quality_score,
    quality_table,
    sample_scores,
    task_complexity,
)
from showcase_lib.analysis.analyzers._realtime import (
    StreamConfig,
    detect_stream,
    token_bucket,
)

__all__ = [
    "ABTestConfig",
    "LeverConfig",
    "ModelComparisonConfig",
    "SpikeResponseConfig",
    "ab_test_quality",
    "cost_levers",
    "model_comparison",
    "pricing_strategy",
    "viral_spike_response",
]

#: Cheaper models tried against the baseline in notebook 11 (provider, model): the plan's
#: choice first, then the cheapest current model of each large direct provider.
DEFAULT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("anthropic", "claude-instant-1.2"),
    ("anthropic", "claude-3-haiku"),
    ("openai", "gpt-4o-mini"),
    ("google", "gemini-1.5-flash"),
    ("openai", "gpt-3.5-turbo"),
)


# =========================================================================== notebook 11
@dataclass(frozen=True)
class ABTest:
    """A quality A/B test of ``treatment`` against ``control`` with a non-inferiority guardrail.

    ``diff`` = treatment mean - control mean (points); the test passes when the lower bound of
    its confidence interval is above ``-max_drop``: the data rule out a drop larger than the
    guardrail.
    """

    control: str
    treatment: str
    complexity: str
    n_per_arm: int
    control_mean: float
    treatment_mean: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    max_drop: float
    level: float

    @property
    def passed(self) -> bool:
        """True when the whole confidence interval is above ``-max_drop``."""
        return self.ci_low > -self.max_drop


@dataclass(frozen=True, slots=True)
class ABTestConfig:
    """Settings of a quality A/B test (:func:`ab_test_quality`).

    Example:
        >>> ABTestConfig(n_per_arm=2000).level
        0.95
    """

    #: Task complexity the arms are scored on (the simple tasks are the ones to move).
    complexity: str = "simple"
    #: Calls per arm: 400 gives a 95% interval about +/-1.1 points wide at an 8-point spread.
    n_per_arm: int = 400
    #: Non-inferiority guardrail: the data must rule out a drop larger than this (points).
    max_drop: float = 3.0
    #: Confidence level of the interval.
    level: float = 0.95
    #: Seed of the simulated scores.
    seed: int = 0
    #: Spread of one call's simulated score (points).
    sd: float = CALL_SCORE_SD


def ab_test_quality(
    control: str,
    treatment: str,
    config: ABTestConfig | None = None,
    *,
    scores: tuple[np.ndarray, np.ndarray] | None = None,
) -> ABTest:
    """Run a (simulated) A/B test of per-call quality scores and a Welch confidence interval.

    Scores are drawn around the SIMULATED table means (see ``quality_table``) unless real
    ``scores`` = (control, treatment) are given. The interval and p-value come from
    ``statsmodels`` (``CompareMeans``, unequal variances).

    Example:
        >>> t = ab_test_quality("gpt-4", "gpt-4o-mini", ABTestConfig(n_per_arm=2000, max_drop=5.0))
        >>> t.passed, -5 < t.diff < 1
        (True, True)
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    cfg = config or ABTestConfig()
    complexity, n_per_arm, sd = cfg.complexity, cfg.n_per_arm, cfg.sd
    if scores is None:
        rng = np.random.default_rng(cfg.seed)
        a = sample_scores(quality_score(control, complexity), n_per_arm, rng=rng, sd=sd)
        b = sample_scores(quality_score(treatment, complexity), n_per_arm, rng=rng, sd=sd)
    else:
        a, b = (np.asarray(s, dtype=float) for s in scores)
    cm = CompareMeans(DescrStatsW(b), DescrStatsW(a))
    lo, hi = cm.tconfint_diff(alpha=1 - cfg.level, usevar="unequal")
    _, p, _ = cm.ttest_ind(usevar="unequal")
    return ABTest(
        control=control,
        treatment=treatment,
        complexity=complexity,
        n_per_arm=int(min(len(a), len(b))),
        control_mean=float(a.mean()),
        treatment_mean=float(b.mean()),
        diff=float(b.mean() - a.mean()),
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=float(p),
        max_drop=float(cfg.max_drop),
        level=float(cfg.level),
    )


@dataclass
class ModelComparisonResult(AnalysisResult):
    """Before/after cost of moving simple tasks off the baseline model, A/B tests, sensitivity."""

    per_call_reduction: float = 0.0
    simple_share: float = 0.0
    monthly_before_usd: float = 0.0
    monthly_after_usd: float = 0.0
    monthly_saving_usd: float = 0.0
    fleet_saving_pct: float = 0.0
    saving_per_simple_call_usd: float = 0.0
    monthly_calls: float = 0.0
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)
    ab_tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    quality: pd.DataFrame = field(default_factory=pd.DataFrame)


def _complexities(calls: pd.DataFrame, complexity_map: Mapping[str, str] | None) -> np.ndarray:
    """Complexity of each call's task type, resolved once per distinct task type."""
    codes, uniques = pd.factorize(calls["task_type"].astype(str), use_na_sentinel=False)
    return np.asarray([task_complexity(t, complexity_map) for t in uniques], dtype=object)[codes]


def _simple_mask(calls: pd.DataFrame, complexity_map: Mapping[str, str] | None) -> np.ndarray:
    return _complexities(calls, complexity_map) == "simple"


@dataclass(frozen=True, slots=True)
class ModelComparisonConfig:
    """Settings of :func:`model_comparison`.

    Example:
        >>> ModelComparisonConfig(max_quality_drop=3.0).baseline
        ('openai', 'gpt-4')
    """

    #: The "before": one model for every task (the showcase plan's starting point).
    baseline: tuple[str, str] = ("openai", "gpt-4")
    #: The model simple tasks move to (the showcase plan's choice).
    candidate: tuple[str, str] = ("anthropic", "claude-instant-1.2")
    #: Other cheaper models A/B tested against the baseline.
    candidates: tuple[tuple[str, str], ...] = DEFAULT_CANDIDATES
    #: Largest quality drop (simulated points) accepted on simple tasks.
    max_quality_drop: float = 5.0
    #: Calls per A/B arm (see ``ABTestConfig.n_per_arm``).
    n_ab: int = 400
    #: Seed of the simulated A/B scores.
    seed: int = 0
    #: Confidence level of the A/B intervals.
    level: float = 0.95
    #: Shares of simple calls the sensitivity table tries (10% to 90%, every 10 points).
    shares: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    #: task_type -> complexity overrides of the built-in table.
    complexity_map: Mapping[str, str] | None = None


def model_comparison(
    calls: pd.DataFrame,
    prices: Prices,
    *,
    config: ModelComparisonConfig | None = None,
) -> ModelComparisonResult:
    """ "The baseline model for every task" vs "simple tasks on a cheaper model".

    Every call, with its tokens of every kind (cache reads and writes, reasoning) and its
    service tier, is priced on ``baseline`` (the "before": one model for everything) and, for
    simple tasks, on ``candidate`` (the "after"), with ``prices``: a price table frame or a
    pricer (calls -> cost per call; the book passes
    ``lambda df: pricing.cost_breakdown(df)["total"]``, prices at each call's timestamp). Each of ``candidates`` is A/B tested
    on simple tasks against one shared baseline arm (an A/B/n test
    with simulated scores) and priced the same way. The sensitivity table
    keeps the per-call costs of this fleet and varies the share of simple calls.

    Returns a ``ModelComparisonResult`` (an analyzer result: ``headline``, ``comparison``,
    ``story``, ``tables``, ``parameters``) with ``per_call_reduction, simple_share,
    monthly_before_usd, monthly_after_usd, monthly_saving_usd, fleet_saving_pct,
    saving_per_simple_call_usd, monthly_calls`` and the tables ``tasks`` (per task type),
    ``candidates``, ``ab_tests`` (``candidate_model, n_per_arm, diff, ci_low, ci_high, p_value,
    passed``), ``sensitivity`` and ``quality`` (the simulated quality table of the models).

    Example:
        >>> prices = pd.DataFrame({"provider": ["openai", "openai"], "model": ["gpt-4", "gpt-4o-mini"],
        ...     "input_usd_per_mtok": [30.0, 0.15], "output_usd_per_mtok": [60.0, 0.6]})
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01"] * 2, utc=True),
        ...     "provider": ["openai"] * 2, "model": ["gpt-4o"] * 2,
        ...     "task_type": ["classification", "chat"], "input_tokens": [1000, 1000],
        ...     "output_tokens": [100, 100], "cost_usd": [0.0035] * 2})
        >>> cfg = ModelComparisonConfig(candidate=("openai", "gpt-4o-mini"), candidates=(), n_ab=100)
        >>> model_comparison(calls, prices, config=cfg).simple_share
        0.5
    """
    who = "model_comparison"
    require_columns(calls, ["timestamp", "task_type", "input_tokens", "output_tokens"], who=who)
    require_rows(calls, who=who)
    price = as_pricer(prices, who=who)
    view = priced_view(calls)
    cfg = config or ModelComparisonConfig()
    baseline, candidate, complexity_map = cfg.baseline, cfg.candidate, cfg.complexity_map
    max_quality_drop, n_ab, seed, level = cfg.max_quality_drop, cfg.n_ab, cfg.seed, cfg.level
    factor = monthly_factor(calls)
    simple = _simple_mask(calls, complexity_map)
    before = price(on_model(view, *baseline)).to_numpy()
    cand_names = list(dict.fromkeys([tuple(candidate), *map(tuple, cfg.candidates)]))

    # one shared control arm (the baseline), one treatment arm per candidate: an A/B/n test
    control = sample_scores(
        quality_score(baseline[1], "simple"), n_ab, rng=np.random.default_rng([seed, 0])
    )
    rows, ab_rows = [], []
    for i, (prov, model) in enumerate(cand_names):
        on_cand = price(on_model(view, prov, model)).to_numpy()
        after = np.where(simple, on_cand, before)
        simple_before = float(before[simple].sum())
        per_call = 1.0 - float(on_cand[simple].sum()) / simple_before if simple_before else 0.0
        treatment = sample_scores(
            quality_score(model, "simple"), n_ab, rng=np.random.default_rng([seed, i + 1])
        )
        test = ab_test_quality(
            baseline[1],
            model,
            ABTestConfig(
                complexity="simple", n_per_arm=n_ab, max_drop=max_quality_drop, level=level
            ),
            scores=(control, treatment),
        )
        rows.append(
            {
                "candidate_provider": prov,
                "candidate_model": model,
                "per_call_reduction": per_call,
                "monthly_before_usd": float(before.sum()) * factor,
                "monthly_after_usd": float(after.sum()) * factor,
                "monthly_saving_usd": float((before - after).sum()) * factor,
                "fleet_saving_pct": float((before - after).sum() / before.sum()),
                "quality_drop": test.control_mean - test.treatment_mean,
                "ab_passed": test.passed,
            }
        )
        ab_rows.append(
            {
                "candidate_model": model,
                "n_per_arm": test.n_per_arm,
                "baseline_mean": test.control_mean,
                "candidate_mean": test.treatment_mean,
                "diff": test.diff,
                "ci_low": test.ci_low,
                "ci_high": test.ci_high,
                "p_value": test.p_value,
                "guardrail": -max_quality_drop,
                "passed": test.passed,
            }
        )
    cands = pd.DataFrame(rows)
    ab = pd.DataFrame(ab_rows)
    chosen = cands.iloc[0]

    # per task type, before and after (chosen candidate)
    on_chosen = price(on_model(view, *candidate)).to_numpy()
    after = np.where(simple, on_chosen, before)
    tasks = pd.DataFrame(
        {
            "task_type": calls["task_type"].astype(str).to_numpy(),
            "simple": simple,
            "before": before,
            "after": after,
        }
    )
    tasks = tasks.groupby("task_type").agg(
        simple=("simple", "first"),
        calls=("before", "size"),
        before_usd=("before", "sum"),
        after_usd=("after", "sum"),
    )
    tasks["complexity"] = [task_complexity(t, complexity_map) for t in tasks.index]
    tasks["monthly_before_usd"] = tasks["before_usd"] * factor
    tasks["monthly_after_usd"] = tasks["after_usd"] * factor
    tasks = tasks.sort_values("monthly_before_usd", ascending=False).reset_index()

    # sensitivity: same per-call costs, different share of simple calls
    n = len(calls)
    n_simple = int(simple.sum())
    c_simple = float(before[simple].mean()) if n_simple else 0.0
    c_other = float(before[~simple].mean()) if n_simple < n else 0.0
    sens = []
    for r in cands.itertuples(index=False):
        for s in cfg.shares:
            fleet = s * c_simple + (1 - s) * c_other
            saved = s * c_simple * r.per_call_reduction
            sens.append(
                {
                    "candidate_model": r.candidate_model,
                    "simple_share": float(s),
                    "fleet_saving_pct": saved / fleet if fleet else 0.0,
                    "monthly_saving_usd": saved * n * factor,
                    "ab_passed": r.ab_passed,
                }
            )
    sensitivity = pd.DataFrame(sens)

    share = n_simple / n
    monthly_calls = n * factor
    saving_per_simple = c_simple * float(chosen["per_call_reduction"])
    chosen_ab = ab.iloc[0]
    headline = [
        Metric("Monthly cost, all on " + baseline[1], float(chosen["monthly_before_usd"]), "usd"),
        Metric(
            "Monthly cost, simple tasks on " + candidate[1],
            float(chosen["monthly_after_usd"]),
            "usd",
        ),
        Metric("Monthly saving", float(chosen["monthly_saving_usd"]), "usd"),
        Metric("Fleet cost reduction", float(chosen["fleet_saving_pct"]), "pct"),
        Metric("Per-call reduction on simple tasks", float(chosen["per_call_reduction"]), "pct"),
        Metric("Share of calls that are simple", share, "pct"),
        Metric("A/B quality difference", float(chosen_ab["diff"]), "points", SIMULATED_LABEL),
    ]
    findings = [
        f"Simple tasks are {share:.1%} of calls and {float(before[simple].sum() / before.sum()):.1%}"
        f" of {baseline[1]} cost; moving them to {candidate[1]} cuts their cost by "
        f"{float(chosen['per_call_reduction']):.1%} per call.",
        f"Fleet-wide that is {float(chosen['fleet_saving_pct']):.1%}: "
        f"${float(chosen['monthly_saving_usd']):,.2f}/month on {monthly_calls:,.0f} calls/month.",
        f"A/B test ({int(chosen_ab['n_per_arm'])} calls per arm, {SIMULATED_LABEL}): "
        f"difference {float(chosen_ab['diff']):+.2f} points, "
        f"{level:.0%} CI "
        f"[{float(chosen_ab['ci_low']):+.2f}, {float(chosen_ab['ci_high']):+.2f}]; guardrail "
        f"-{max_quality_drop:g} points: {'passed' if chosen_ab['passed'] else 'failed'}.",
    ]
    best = cands[cands["ab_passed"]].sort_values("monthly_saving_usd", ascending=False)
    if len(best):
        b = best.iloc[0]
        findings.append(
            f"Best candidate that passes the guardrail: {b['candidate_model']} "
            f"(${b['monthly_saving_usd']:,.2f}/month, "
            f"{b['fleet_saving_pct']:.1%} of fleet cost)."
        )
    comparison = [
        ("Model for simple tasks", baseline[1], candidate[1], "text"),
        (
            "Monthly AI cost",
            float(chosen["monthly_before_usd"]),
            float(chosen["monthly_after_usd"]),
            "usd",
        ),
        ("Cost per simple call", c_simple, c_simple - saving_per_simple, "usd"),
        (
            "Quality evidence",
            "none",
            f"A/B {float(chosen_ab['diff']):+.1f} pts (CI low {float(chosen_ab['ci_low']):+.1f})",
            "text",
        ),
    ]
    value = ReveniumValue(
        metadata=("task_type", "model", "provider", "input_tokens", "output_tokens", "feature_id"),
        enables="cost per task type on the current model and on any candidate, from the tokens "
        "each call used, plus a per-variant view for the A/B test",
        without="see one provider total, guess which calls are simple, and switch models "
        "without knowing the saving or measuring the quality",
    )
    story = Story(
        problem=f"Every task runs on {baseline[1]}: ${float(chosen['monthly_before_usd']):,.0f}"
        f"/month, although {share:.0%} of calls are simple tasks "
        "(classification, extraction, translation, summarization).",
        solution=f"Tag calls with task_type, A/B test {candidate[1]} and other cheaper models on "
        "the simple tasks with a quality guardrail, and reprice the traffic to size "
        "the saving before switching.",
        steps=(
            Step(
                "Tag the task",
                "Send task_type (and the A/B variant) with each call.",
                "tracker.track(..., task_type='classification', trace_id=variant)",
            ),
            Step(
                "A/B test the cheaper model",
                "Non-inferiority: CI lower bound above the guardrail.",
                "cfg = ModelComparisonConfig(max_quality_drop=3.0)\n"
                "model_comparison(calls, prices, config=cfg).ab_tests['passed']",
            ),
            Step(
                "Route by task",
                "Send simple tasks to the model that passed.",
                "model = 'claude-instant-1.2' if complexity(task) == 'simple' else 'gpt-4'",
            ),
        ),
    )
    return build_result(
        ModelComparisonResult,
        name="model_comparison",
        title="Model comparison: right-size simple tasks",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={
            "tasks": tasks,
            "candidates": cands,
            "ab_tests": ab,
            "sensitivity": sensitivity,
            "quality": quality_table([baseline[1], *(m for _, m in cand_names)]),
        },
        revenium_value=value,
        story=story,
        parameters={
            "baseline": "/".join(baseline),
            "candidate": "/".join(candidate),
            "max_quality_drop": max_quality_drop,
            "n_ab": n_ab,
            "seed": seed,
            "quality": SIMULATED_LABEL,
        },
        per_call_reduction=float(chosen["per_call_reduction"]),
        simple_share=share,
        monthly_before_usd=float(chosen["monthly_before_usd"]),
        monthly_after_usd=float(chosen["monthly_after_usd"]),
        monthly_saving_usd=float(chosen["monthly_saving_usd"]),
        fleet_saving_pct=float(chosen["fleet_saving_pct"]),
        saving_per_simple_call_usd=saving_per_simple,
        monthly_calls=monthly_calls,
    )


# --------------------------------------------------------------------------- notebook 11: levers
Route = tuple[tuple[str, str], tuple[str, str]]

#: The seed's historic switch (the showcase plan: "96% cheaper per token").
HISTORIC_ROUTE: Final[Route] = (("openai", "gpt-4"), ("anthropic", "claude-instant-1.2"))
#: Model switches of the lever comparison: the historic pair, then each 2026 provider's frontier
#: and mid models to its small one (the small model of the same provider keeps the prompt format,
#: the client and the data-processing agreement unchanged). Not gpt-5.6-luna: since its price
#: cut of 2026-07-30 ($0.20 / $1.20 per MTok in genai-prices 0.2.3) it costs no more than
#: gpt-5.4-nano ($0.20 / $1.25), so the move would save nothing.
DEFAULT_ROUTES: Final[tuple[Route, ...]] = (
    HISTORIC_ROUTE,
    (("openai", "gpt-5.5"), ("openai", "gpt-5.4-nano")),
    (("anthropic", "claude-opus-5"), ("anthropic", "claude-haiku-4-5")),
    (("anthropic", "claude-sonnet-5"), ("anthropic", "claude-haiku-4-5")),
    (("google", "gemini-3.1-pro-preview"), ("google", "gemini-3.5-flash-lite")),
    (("google", "gemini-3.5-flash"), ("google", "gemini-3.5-flash-lite")),
)
#: Task types whose answer nobody waits for: document summaries, extraction and triage can run
#: within the 24 hours of a batch API (OpenAI Batch API, Anthropic Message Batches, Gemini Batch).
BATCH_TASK_TYPES: Final[tuple[str, ...]] = ("summarization", "extraction", "classification")
#: Tokens of each kind in a per-token probe: far below every long-context threshold (the
#: smallest in the catalog is 128k), large enough that a price per MTok is exact in USD.
_PROBE_TOKENS: Final[int] = 1_000

LeverName = Literal["switch model", "prompt caching", "batch tier", "all three"]
#: The levers in the order of the result tables (the last applies the three in sequence).
LEVERS: Final[tuple[LeverName, ...]] = ("switch model", "prompt caching", "batch tier", "all three")


@dataclass(frozen=True, slots=True)
class LeverConfig:
    """Settings of :func:`cost_levers`: which calls each lever may change, and how.

    Example:
        >>> LeverConfig().routes[0]
        (('openai', 'gpt-4'), ('anthropic', 'claude-instant-1.2'))
    """

    #: Model switches ((provider, model) -> (provider, model)), applied to eligible calls.
    routes: tuple[Route, ...] = DEFAULT_ROUTES
    #: Task complexities a switch applies to (simple tasks lose least quality on a small model).
    switch_complexities: tuple[str, ...] = ("simple",)
    #: task_type -> complexity overrides of the built-in table (see ``task_complexity``).
    complexity_map: Mapping[str, str] | None = None
    #: Share of the prompt taken as the reusable prefix (system prompt, tools, documents) in a
    #: feature that never reads from the cache; None: such features are left alone (a feature
    #: that caches reuses its measured prefix, the median cache read of its hits).
    prefix_share: float | None = None
    #: A prefix below this many tokens is not cached: 1,024 is the minimum cacheable prompt of
    #: OpenAI's automatic caching and of Anthropic's cache breakpoints (Sonnet and Opus).
    min_prefix_tokens: int = 1_024
    #: Cache lifetime: a call within this many minutes of the previous call of its feature and
    #: model reads the prefix, any other writes it (Anthropic's default 5-minute TTL, refreshed
    #: on each hit; OpenAI keeps a prefix 5-10 minutes idle).
    cache_ttl_minutes: float = 5.0
    #: Task types moved to the batch tier (calls on another tier than standard stay).
    batch_task_types: tuple[str, ...] = BATCH_TASK_TYPES
    #: Dimension of the per-group table (``by_feature``).
    by: str = "feature_id"


@dataclass
class LeverResult(AnalysisResult):
    """Three cost levers on the same calls: monthly saving per lever and per feature."""

    monthly_cost_usd: float = 0.0
    cache_share_now: float = 0.0
    cache_share_after: float = 0.0
    levers: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_feature: pd.DataFrame = field(default_factory=pd.DataFrame)
    switches: pd.DataFrame = field(default_factory=pd.DataFrame)

    def saving(self, lever: LeverName) -> float:
        """Monthly saving in USD of one lever (``"switch model"``, ``"prompt caching"``,
        ``"batch tier"`` or ``"all three"``).

        Example:
            >>> LeverResult(name="x", title="x", levers=pd.DataFrame({"lever": ["batch tier"],
            ...     "monthly_saving_usd": [2.0]})).saving("batch tier")
            2.0
        """
        row = self.levers.set_index("lever")["monthly_saving_usd"]
        if lever not in row.index:
            raise ValueError(f"lever={lever!r} is not one of {list(row.index)}")
        return float(row[lever])


def _ints(view: pd.DataFrame, name: str) -> np.ndarray:
    return view[name].to_numpy(dtype=float) if name in view else np.zeros(len(view))


def switch_models(calls: pd.DataFrame, config: LeverConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """(priced copy with eligible calls on their route's target model, which calls moved).

    Example:
        >>> calls = pd.DataFrame({"provider": "openai", "model": ["gpt-5.5", "gpt-5.5"],
        ...     "task_type": ["classification", "agent_step"], "input_tokens": 10})
        >>> view, moved = switch_models(calls, LeverConfig())
        >>> view["model"].tolist(), moved.tolist()
        (['gpt-5.4-nano', 'gpt-5.5'], [True, False])
    """
    view = priced_view(calls)
    cx = _complexities(calls, config.complexity_map)
    eligible = np.isin(cx, list(config.switch_complexities))
    prov = view["provider"].astype(str).to_numpy().astype(object)
    model = view["model"].astype(str).to_numpy().astype(object)
    moved = np.zeros(len(view), dtype=bool)
    for (src_p, src_m), (dst_p, dst_m) in config.routes:
        hit = eligible & ~moved & (prov == src_p) & (model == src_m)
        prov[hit], model[hit] = dst_p, dst_m
        moved |= hit
    view["provider"], view["model"] = prov, model
    return view, moved


def _prefixes(calls: pd.DataFrame, view: pd.DataFrame, config: LeverConfig) -> np.ndarray:
    """Per call, the prompt prefix its feature reuses: the median cache read of the feature's
    calls that hit the cache; where a feature never reads from it, ``prefix_share`` of the
    prompt (0 when None: nothing measured, nothing assumed). Capped at the call's prompt."""
    tin, read = _ints(view, "input_tokens"), _ints(view, "cache_read_tokens")
    key = pd.Series(_group_key(calls, config), index=view.index)
    measured = pd.Series(read, index=view.index)[read > 0].groupby(key[read > 0]).median()
    prefix = key.map(measured).to_numpy(dtype=float)
    if config.prefix_share is not None:
        if not 0.0 < config.prefix_share <= 1.0:
            raise ValueError(f"prefix_share={config.prefix_share!r} must be in (0, 1]")
        prefix = np.where(np.isnan(prefix), np.floor(config.prefix_share * tin), prefix)
    return np.minimum(np.nan_to_num(prefix), tin)


def _group_key(calls: pd.DataFrame, config: LeverConfig) -> np.ndarray:
    if config.by in calls:
        return calls[config.by].astype(str).to_numpy()
    return np.full(len(calls), "", dtype=object)


def turn_on_caching(
    calls: pd.DataFrame, config: LeverConfig, *, view: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """(priced copy with the prompt cache used wherever the traffic allows, which calls
    changed).

    Every call that does not read from the cache and has a reusable prefix of at least
    ``min_prefix_tokens`` (see below) changes when the previous call of its feature and model
    came within ``cache_ttl_minutes``: the prefix is then a cache read (and no longer a
    write). In a feature that does not cache at all, the other calls write the prefix (the
    write that creates the cache; billed at the input price where the provider charges no
    write). The prefix is the feature's median cache read on its hits (what it already reuses)
    or, where it never reads, ``prefix_share`` of the prompt. Token totals do not change
    (inclusive rule): only their kind does.

    Example:
        >>> calls = pd.DataFrame({"provider": "anthropic", "model": "claude-haiku-4-5",
        ...     "feature_id": "chat", "input_tokens": 4_000, "output_tokens": 100,
        ...     "timestamp": pd.to_datetime(["2026-11-02 10:00", "2026-11-02 10:03",
        ...                                  "2026-11-02 11:00"], utc=True)})
        >>> v, changed = turn_on_caching(calls, LeverConfig(prefix_share=0.5))
        >>> v["cache_write_tokens"].tolist(), v["cache_read_tokens"].tolist()
        ([2000, 0, 2000], [0, 2000, 0])
    """
    view = priced_view(calls) if view is None else view.copy()
    read, write = _ints(view, "cache_read_tokens"), _ints(view, "cache_write_tokens")
    w1h = _ints(view, "cache_write_1h_tokens")
    prefix = _prefixes(calls, view, config)
    key = _group_key(calls, config)
    candidate = (read == 0) & (prefix >= config.min_prefix_tokens)
    order = pd.DataFrame(
        {
            "key": key,
            "model": view["model"].astype(str).to_numpy(),
            "ts": pd.to_datetime(calls["timestamp"], utc=True).to_numpy(dtype="datetime64[ns]"),
        }
    ).sort_values(["key", "model", "ts"], kind="stable")
    same = order["key"].eq(order["key"].shift()) & order["model"].eq(order["model"].shift())
    warm = np.zeros(len(view), dtype=bool)
    warm[order.index.to_numpy()] = (
        same & (order["ts"].diff() <= pd.Timedelta(minutes=config.cache_ttl_minutes))
    ).to_numpy()
    caching = pd.Series(read + write > 0).groupby(key).transform("any").to_numpy()
    hit = candidate & warm
    creates = candidate & ~warm & ~caching
    view["cache_read_tokens"] = np.where(hit, prefix, read).astype(np.int64)
    view["cache_write_tokens"] = np.where(hit, 0, np.where(creates, prefix, write)).astype(np.int64)
    view["cache_write_1h_tokens"] = np.where(hit | creates, 0, w1h).astype(np.int64)
    return view, hit | creates


def move_to_batch(
    calls: pd.DataFrame, config: LeverConfig, *, view: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """(priced copy with the standard-tier calls of ``batch_task_types`` on the batch tier,
    which calls moved).

    Example:
        >>> calls = pd.DataFrame({"task_type": ["summarization", "chat"], "input_tokens": 1})
        >>> v, moved = move_to_batch(calls, LeverConfig())
        >>> v["service_tier"].tolist(), moved.tolist()
        (['batch', 'standard'], [True, False])
    """
    view = priced_view(calls) if view is None else view.copy()
    tier = (
        view["service_tier"].astype(str).to_numpy()
        if "service_tier" in view
        else np.full(len(view), "standard", dtype=object)
    )
    moved = calls["task_type"].astype(str).isin(list(config.batch_task_types)).to_numpy()
    moved &= tier == "standard"
    view["service_tier"] = np.where(moved, "batch", tier)
    return view, moved


def _per_token(price: Callable[[pd.DataFrame], pd.Series], route: Route, at: pd.Timestamp):
    """USD per token of (input, cache read, output) on both models of a route, at ``at``."""
    n = _PROBE_TOKENS
    rows = []
    for prov, model in route:
        for tin, read, tout in ((n, 0, 0), (n, n, 0), (0, 0, n)):
            rows.append((prov, model, tin, read, tout))
    probe = pd.DataFrame(
        rows, columns=["provider", "model", "input_tokens", "cache_read_tokens", "output_tokens"]
    ).assign(
        cache_write_tokens=0,
        cache_write_1h_tokens=0,
        reasoning_tokens=0,
        service_tier="standard",
        timestamp=at,
    )
    usd = price(probe).to_numpy().reshape(2, 3) / n
    return usd[0], usd[1]


def cost_levers(
    calls: pd.DataFrame,
    prices: Prices,
    *,
    config: LeverConfig | None = None,
) -> LeverResult:
    """Three levers on the same calls, in dollars per month: switch model, prompt caching,
    batch tier (and the three in sequence), with the saving of each per feature.

    Each lever is a modified copy of the calls priced with ``prices`` (a price table frame or a
    pricer, calls -> cost per call; the book passes
    ``lambda df: pricing.cost_breakdown(df)["total"]``) and compared with the same calls priced
    unchanged: **switch model** moves the calls of ``switch_complexities`` along ``routes``
    (every token kind kept); **prompt caching** turns a cache on where calls do not use one
    (:func:`turn_on_caching`); **batch tier** moves the standard-tier calls of
    ``batch_task_types`` to the batch tier. ``switches`` carries each route's per-token
    reduction for input, cache read and output tokens (prices probed at the last call's
    timestamp) and, where calls moved, the reduction on that traffic.

    Returns a ``LeverResult`` with ``monthly_cost_usd``, ``cache_share_now`` and
    ``cache_share_after`` (share of input tokens read from the cache, before and with the
    caching lever) and the tables
    ``levers`` (``lever, calls, monthly_saving_usd, share_of_spend``), ``by_feature`` (one row
    per ``config.by`` value: ``monthly_cost_usd``, the saving of each lever, ``best_lever``)
    and ``switches``; ``saving(lever)`` reads one figure.

    Example:
        >>> prices = pd.DataFrame({"provider": "openai", "model": ["gpt-5.5", "gpt-5.4-nano"],
        ...     "input_usd_per_mtok": [5.0, 0.2], "output_usd_per_mtok": [30.0, 1.25],
        ...     "cache_read_usd_per_mtok": [0.5, 0.02], "cache_write_5m_usd_per_mtok": [5.0, 0.2],
        ...     "batch_multiplier": [0.5, 0.5]})
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-11-02 10:00",
        ...     "2026-11-02 10:01"], utc=True), "provider": "openai", "model": "gpt-5.5",
        ...     "feature_id": ["triage", "chat"], "task_type": ["classification", "chat"],
        ...     "input_tokens": [2_000, 2_000], "output_tokens": 100, "cache_read_tokens": [0, 1_600]})
        >>> cfg = LeverConfig(routes=((("openai", "gpt-5.5"), ("openai", "gpt-5.4-nano")),))
        >>> r = cost_levers(calls, prices, config=cfg)
        >>> r.switches.loc[0, ["input_reduction", "output_reduction"]].astype(float).round(3).tolist()
        [0.96, 0.958]
        >>> r.by_feature.set_index("feature_id")["best_lever"].to_dict()
        {'triage': 'switch model', 'chat': 'none'}
    """
    who = "cost_levers"
    require_columns(
        calls,
        ["timestamp", "provider", "model", "task_type", "input_tokens", "output_tokens"],
        who=who,
    )
    require_rows(calls, who=who)
    cfg = config or LeverConfig()
    price = as_pricer(prices, who=who)
    factor = monthly_factor(calls)
    view = priced_view(calls)
    now = price(view).to_numpy()

    switched, moved = switch_models(calls, cfg)
    cached, changed = turn_on_caching(calls, cfg)
    batched, batch = move_to_batch(calls, cfg)
    every, _ = turn_on_caching(calls, cfg, view=switched)
    every, _ = move_to_batch(calls, cfg, view=every)
    after = {
        "switch model": (price(switched).to_numpy(), moved),
        "prompt caching": (price(cached).to_numpy(), changed),
        "batch tier": (price(batched).to_numpy(), batch),
        "all three": (price(every).to_numpy(), moved | changed | batch),
    }
    total = float(now.sum())
    levers = pd.DataFrame(
        [
            {
                "lever": name,
                "calls": int(mask.sum()),
                "monthly_saving_usd": float((now - cost).sum()) * factor,
                "share_of_spend": float((now - cost).sum()) / total if total else 0.0,
            }
            for name, (cost, mask) in after.items()
        ]
    )
    key = calls[cfg.by].astype(str).to_numpy() if cfg.by in calls else np.full(len(calls), "all")
    per = pd.DataFrame({cfg.by: key, "monthly_cost_usd": now * factor})
    for name, (cost, _) in after.items():
        per[name] = (now - cost) * factor
    by = per.groupby(cfg.by, sort=False).sum()
    by["best_lever"] = by[list(LEVERS[:3])].idxmax(axis=1)
    by.loc[by[list(LEVERS[:3])].max(axis=1) <= 0, "best_lever"] = "none"
    by = by.sort_values("monthly_cost_usd", ascending=False).reset_index()

    at = pd.to_datetime(calls["timestamp"], utc=True).max()
    src_p = view["provider"].astype(str).to_numpy()
    src_m = view["model"].astype(str).to_numpy()
    switch_cost = after["switch model"][0]
    rows = []
    for route in cfg.routes:
        (fp, fm), (tp, tm) = route
        src, dst = _per_token(price, route, at)
        on = moved & (src_p == fp) & (src_m == fm)
        before_usd = float(now[on].sum())
        rows.append(
            {
                "from_provider": fp,
                "from_model": fm,
                "to_provider": tp,
                "to_model": tm,
                "input_reduction": 1 - dst[0] / src[0],
                "cache_read_reduction": 1 - dst[1] / src[1],
                "output_reduction": 1 - dst[2] / src[2],
                "calls": int(on.sum()),
                "traffic_reduction": 1 - float(switch_cost[on].sum()) / before_usd
                if before_usd
                else float("nan"),
                "monthly_saving_usd": (before_usd - float(switch_cost[on].sum())) * factor,
            }
        )
    switches = pd.DataFrame(rows)
    return _lever_result(
        cfg,
        tables={"levers": levers, "by_feature": by, "switches": switches},
        monthly_cost_usd=total * factor,
        cache_share=tuple(
            float(_ints(v, "cache_read_tokens").sum() / max(_ints(v, "input_tokens").sum(), 1))
            for v in (view, cached)
        ),
    )


def _lever_result(
    cfg: LeverConfig,
    *,
    tables: dict[str, pd.DataFrame],
    monthly_cost_usd: float,
    cache_share: tuple[float, float],
) -> LeverResult:
    levers, by = tables["levers"], tables["by_feature"]
    s = levers.set_index("lever")["monthly_saving_usd"]
    best = str(s.loc[list(LEVERS[:3])].idxmax())
    headline = [
        Metric("Monthly AI cost", monthly_cost_usd, "usd", "calls priced unchanged"),
        *(Metric(f"Monthly saving, {name}", float(s[name]), "usd") for name in LEVERS),
        Metric("Lever that saves most", best, "text"),
    ]
    winners = by["best_lever"].value_counts()
    findings = [
        f"{r.lever}: ${r.monthly_saving_usd:,.2f}/month ({r.share_of_spend:.1%} of spend, "
        f"{r.calls:,} calls changed)."
        for r in levers.itertuples()
    ]
    findings.append(
        "Best lever per "
        + cfg.by
        + ": "
        + ", ".join(f"{k} for {v}" for k, v in winners.items())
        + "."
    )
    comparison = [
        ("Monthly AI cost", monthly_cost_usd, monthly_cost_usd - float(s["all three"]), "usd"),
        ("Levers sized", "none (one invoice total)", "3, per " + cfg.by, "text"),
    ]
    value = ReveniumValue(
        metadata=(
            "feature_id",
            "task_type",
            "model",
            "cache_read_tokens",
            "cache_write_tokens",
            "service_tier",
            "timestamp",
        ),
        enables="each lever priced on the calls it would change, per feature, with every token "
        "kind and the price at each call's time",
        without="compare list prices per token and guess which workloads could cache or wait",
    )
    story = Story(
        problem=f"AI spend is ${monthly_cost_usd:,.0f}/month; a smaller model, a prompt cache and "
        "the batch tier each promise savings, and each fits different features.",
        solution="Price a modified copy of the metered calls for each lever and compare, per "
        "feature, with the same calls priced unchanged.",
        steps=(
            Step(
                "Meter every token kind",
                "Send cache reads and writes, reasoning tokens and the service tier.",
                "tracker.track(..., cache_read_tokens=u.cached, service_tier='batch')",
            ),
            Step(
                "Size the levers",
                "One pricer for the record and the counterfactuals.",
                "cost_levers(calls, lambda df: pricing.cost_breakdown(df)['total'])",
            ),
        ),
    )
    return build_result(
        LeverResult,
        name="cost_levers",
        title="Three cost levers: switch model, prompt caching, batch tier",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables=tables,
        revenium_value=value,
        story=story,
        parameters={
            "routes": "; ".join(f"{a[1]} -> {b[1]}" for a, b in cfg.routes),
            "switch_complexities": ", ".join(cfg.switch_complexities),
            "prefix_share": cfg.prefix_share,
            "min_prefix_tokens": cfg.min_prefix_tokens,
            "cache_ttl_minutes": cfg.cache_ttl_minutes,
            "batch_task_types": ", ".join(cfg.batch_task_types),
        },
        monthly_cost_usd=monthly_cost_usd,
        cache_share_now=cache_share[0],
        cache_share_after=cache_share[1],
    )


# =========================================================================== notebook 12
def spend_per_bucket(calls: pd.DataFrame, freq: str, by: str = "customer_id") -> pd.DataFrame:
    """Spend per time bucket (rows: every bucket from the first call to the last, UTC) and per
    value of ``by`` (columns, sorted): the buckets of the time series, so ``"10min"`` here is
    exactly a row of ``timeseries.aggregate(calls, "10min", by=by)``.

    ``freq`` is a fixed-width bucket :func:`~showcase_lib.analysis.timeseries.aggregate`
    accepts (``"1min"``, ``"5min"``, ``"10min"``, ``"h"``, ``"D"``, ``"W"``); an ambiguous alias
    (``"m"``, ``"1m"``, ``"M"``, ``"T"``) raises, and so do calendar months (``"MS"``: a streaming
    detector compares buckets of one length).

    Example:
        >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 00:05",
        ...     "2026-01-01 00:25"], utc=True), "customer_id": ["a", "a"], "cost_usd": [1.0, 2.0]})
        >>> spend_per_bucket(df, "10min")["a"].tolist()
        [1.0, 0.0, 2.0]
        >>> spend_per_bucket(df, "1m")
        Traceback (most recent call last):
        ...
        ValueError: freq='1m' is ambiguous: 'm' reads as minute or month: write 'min' for minutes or 'MS' for calendar months
    """
    require_columns(calls, ["timestamp", "cost_usd", by], who="spend_per_bucket")
    size = bucket(freq)
    if size.width is None:
        raise ValueError(
            f"freq={freq!r}: the streaming detector needs buckets of one length (a month has "
            "28 to 31 days); use e.g. '10min', 'h', 'D' or 'W'"
        )
    keys = period_keys(calls["timestamp"], size.alias)
    cost = pd.Series(calls["cost_usd"].to_numpy(dtype=float))
    wide = cost.groupby([keys, calls[by].astype(str).to_numpy()]).sum().unstack(fill_value=0.0)
    starts = pd.DatetimeIndex(wide.index).tz_localize("UTC")
    wide.index = starts
    wide = wide.reindex(size.calendar(starts.min(), starts.max()), fill_value=0.0)
    wide.index.name, wide.columns.name = "bucket", by
    return wide


def _format_duration(delta: pd.Timedelta | None) -> str:
    """A short, readable duration: "30 min", "2.8 h", "3.2 days" ("n/a" for None).

    Example:
        >>> _format_duration(pd.Timedelta(minutes=30)), _format_duration(pd.Timedelta(hours=50))
        ('30 min', '2.1 days')
    """
    if delta is None or pd.isna(delta):
        return "n/a"
    minutes = delta / pd.Timedelta(minutes=1)
    if minutes < 120:
        return f"{minutes:,.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:,.1f} h"
    return f"{minutes / 1440:,.1f} days"


#: Streaming detector settings for 10-minute buckets (see ``StreamingSpikeDetector``).
SPIKE_DETECTOR: Final[StreamConfig] = StreamConfig(
    window_buckets=6 * 24 * 3,  # three days of baseline: a weekend does not look like a spike
    recent_buckets=6,  # the last hour: long enough to sum over bursty minutes
    min_history=6 * 24,  # one day before the first alert
    factor=4.0,  # 4x the expected hour: a viral jump, not a busy afternoon
    z=5.0,  # five standard deviations: about one false alarm a year per customer on noise
    min_usd=5.0,  # $5 in an hour is worth a human's look
    rearm_buckets=12,  # two quiet hours re-arm a customer
)


@dataclass(frozen=True, slots=True)
class SpikeResponseConfig:
    """Settings of :func:`viral_spike_response`: detection buckets, detector and the limit.

    Example:
        >>> SpikeResponseConfig(limit_multiple=4.0).freq
        '10min'
    """

    #: Bucket length of the metered stream the detector watches.
    freq: str = "10min"
    #: The streaming detector (counts in buckets of ``freq``).
    detector: StreamConfig = SPIKE_DETECTOR
    #: The token bucket lets the customer spend this multiple of its pre-spike rate: 2x leaves
    #: room for honest growth while cutting a 10x spike by four fifths.
    limit_multiple: float = 2.0
    #: ... with bursts of up to this many hours of that rate.
    burst_hours: float = 2.0
    #: Minutes from the alert until the limit is applied (0: automatic).
    reaction_minutes: float = 0.0
    #: Days after the end of the data until the invoice shows the spend (a typical billing lag).
    invoice_lag_days: float = 3.0
    #: Watch every customer (counts false alerts); False: the spiking one only (faster).
    watch_all: bool = True


@dataclass
class ViralSpikeResult(AnalysisResult):
    """Detection, containment and prevented spend for one spiking customer."""

    customer_id: str = ""
    onset: pd.Timestamp | None = None
    alert_at: pd.Timestamp | None = None
    detection_delay: pd.Timedelta | None = None
    invoice_at: pd.Timestamp | None = None
    spike_spend_usd: float = 0.0
    excess_spend_usd: float = 0.0
    prevented_usd: float = 0.0
    prevented_monthly_usd: float = 0.0
    baseline_daily_usd: float = 0.0
    false_alerts: int = 0
    timeline: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)


def viral_spike_response(
    calls: pd.DataFrame,
    *,
    customer: str,
    onset: pd.Timestamp | str,
    config: SpikeResponseConfig | None = None,
) -> ViralSpikeResult:
    """Detect a customer's spike on the metered stream, rate-limit it, measure prevented spend.

    * **Without Revenium**: the spike runs until the month's invoice arrives
      (``invoice_lag_days`` after the end of the data); all of it is paid.
    * **With Revenium**: a streaming detector over ``config.freq`` buckets of every customer
      alerts; ``reaction_minutes`` later a token bucket limits the customer to
      ``limit_multiple`` x its pre-spike spend rate (bursts up to ``burst_hours`` of that rate).

    ``customer`` and ``onset`` are what the reader knows: the customer to watch and when its
    usage changed (the day support heard of the launch, say); the baseline is the week before
    ``onset``. ``prevented_usd`` = actual - served spend after the limit starts;
    ``prevented_monthly_usd`` scales it to 30 days of spike. To score the result against a
    simulation's ground truth use :func:`showcase_lib.analysis.evaluation.spike_truth`.

    Returns a ``ViralSpikeResult`` (an analyzer result) with ``customer_id, onset, alert_at,
    detection_delay, invoice_at, spike_spend_usd, excess_spend_usd, prevented_usd,
    prevented_monthly_usd, baseline_daily_usd, false_alerts`` (other customers that alerted),
    ``timeline`` (spend per bucket without and with the limit) and ``alerts``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=24 * 6, freq="h", tz="UTC")
        >>> spend = np.where(idx >= pd.Timestamp("2026-01-05", tz="UTC"), 10.0, 1.0)
        >>> calls = pd.DataFrame({"timestamp": idx, "customer_id": "c", "cost_usd": spend})
        >>> hourly = StreamConfig(window_buckets=48, recent_buckets=1, min_history=24, factor=4.0,
        ...                       z=3.0, min_usd=1.0)
        >>> r = viral_spike_response(calls, customer="c", onset="2026-01-05 00:00+00:00",
        ...                          config=SpikeResponseConfig(freq="1h", detector=hourly))
        >>> r.detection_delay, round(r.prevented_usd)   # 47 h x $10 - (4 + 46 x $2) served
        (Timedelta('0 days 01:00:00'), 374)
    """
    who = "viral_spike_response"
    require_columns(calls, ["timestamp", "customer_id", "cost_usd"], who=who)
    require_rows(calls, who=who)
    cfg = config or SpikeResponseConfig()
    freq, limit_multiple, burst_hours = cfg.freq, cfg.limit_multiple, cfg.burst_hours
    reaction_minutes, invoice_lag_days = cfg.reaction_minutes, cfg.invoice_lag_days
    onset = pd.Timestamp(onset)
    if onset.tzinfo is None:
        raise ValueError(f"{who}: onset={onset!r} needs a time zone (the record is in UTC)")
    wide = spend_per_bucket(calls, freq, "customer_id")
    if customer not in wide.columns:
        raise ValueError(f"{who}: customer_id={customer!r} has no calls")
    if not cfg.watch_all:
        wide = wide[[customer]]
    alerts = detect_stream(wide, cfg.detector)
    mine = alerts[(alerts["key"] == customer) & (alerts["bucket"] >= onset)]
    others = alerts[alerts["key"] != customer]
    step = wide.index[1] - wide.index[0] if len(wide) > 1 else bucket(freq).width
    demand = wide[customer].to_numpy(dtype=float)
    idx = wide.index
    pre = (idx < onset) & (idx >= onset - pd.Timedelta(days=7))
    base_bucket = float(demand[pre].mean()) if pre.any() else 0.0
    end = idx[-1] + step
    invoice_at = end + pd.Timedelta(days=invoice_lag_days)
    spike = idx >= onset
    spike_spend = float(demand[spike].sum())
    spike_days = max((end - onset) / pd.Timedelta(days=1), 1e-9)
    excess = float(spike_spend - base_bucket * spike.sum())

    if len(mine):
        alert_at = pd.Timestamp(mine["detected_at"].iloc[0])
        limit_at = alert_at + pd.Timedelta(minutes=reaction_minutes)
        start = int(np.searchsorted(idx, limit_at))
        rate = limit_multiple * base_bucket
        capacity = rate * burst_hours * (pd.Timedelta(hours=1) / step)
        served = token_bucket(demand, rate=rate, capacity=capacity, start=start)
        delay = alert_at - onset
    else:
        alert_at, delay, served = None, None, demand.copy()
    prevented = float((demand - served).sum())
    timeline = pd.DataFrame({"actual": demand, "contained": served}, index=idx)
    factor = 30.0 / spike_days

    headline = [
        Metric("Spike customer", customer, "text"),
        Metric(
            "Detection delay",
            delay / pd.Timedelta(minutes=1) if delay is not None else float("nan"),
            "minutes",
            f"{freq} buckets",
        ),
        Metric("Spend during the spike", spike_spend, "usd", "without a limit"),
        Metric("Prevented spend", prevented, "usd", f"limit {limit_multiple:g}x baseline"),
        Metric("Prevented spend per month", prevented * factor, "usd", "scaled to 30 days"),
        Metric("Alerts on other customers", float(others["key"].nunique()), "count"),
    ]
    findings = [
        f"{customer} spent ${base_bucket * (pd.Timedelta(days=1) / step):,.2f}/day before the "
        f"spike and ${spike_spend / spike_days:,.2f}/day after it "
        f"({spike_spend / spike_days / max(base_bucket * (pd.Timedelta(days=1) / step), 1e-12):,.1f}x).",
    ]
    if alert_at is not None:
        findings.append(
            f"The streaming detector alerted {_format_duration(delay)} after onset "
            f"({alert_at:%Y-%m-%d %H:%M} UTC); the invoice would have shown it "
            f"{(invoice_at - onset) / pd.Timedelta(days=1):,.1f} days after onset."
        )
    else:
        findings.append(
            "The detector did not alert: the spike is below its material "
            "threshold (min_usd) or not far enough above the baseline."
        )
    findings.append(
        f"A token bucket at {limit_multiple:g}x the baseline rate blocks "
        f"${prevented:,.2f} (${prevented * factor:,.2f} per 30 days of spike); "
        f"{others['key'].nunique()} other customer(s) raised an alert."
    )
    comparison = [
        (
            "Spike noticed",
            "invoice, " + f"{(invoice_at - onset) / pd.Timedelta(days=1):,.1f} days after onset",
            f"{_format_duration(delay)} after onset" if delay is not None else "not detected",
            "text",
        ),
        ("Spend on the spiking customer", spike_spend, spike_spend - prevented, "usd"),
        ("Spend above the customer's baseline", excess, excess - prevented, "usd"),
        (
            "Per-customer limit",
            "none (one API key)",
            f"token bucket {limit_multiple:g}x baseline",
            "text",
        ),
    ]
    value = ReveniumValue(
        metadata=("customer_id", "timestamp", "cost_usd", "subscription_tier"),
        enables="per-customer spend within minutes of each call, so one customer's spike is "
        "seen and limited while the rest of the fleet runs normally",
        without="find the spike on the provider invoice weeks later, with spend per API key "
        "only, and either pay it or throttle every customer at once",
    )
    story = Story(
        problem=f"{customer}'s usage jumps overnight; billed monthly, the extra AI spend is only "
        "visible on the invoice, after it has been spent.",
        solution="Metered calls carry customer_id, so a streaming detector compares each "
        "customer's last hour with its own baseline, alerts within minutes, and a "
        "per-customer token bucket contains the spend until someone decides.",
        steps=(
            Step(
                "Bucket the metered stream",
                "Spend per customer per 10 minutes.",
                "wide = aggregate(calls, '10min', by='customer_id')['cost_usd'].unstack()",
            ),
            Step(
                "Detect",
                "Recent hour vs the trailing three days, three-part rule.",
                "alerts = detect_stream(wide, StreamConfig(window_buckets=432,\n"
                "                       recent_buckets=6, factor=4, z=5, min_usd=5))",
            ),
            Step(
                "Contain",
                "Token bucket at 2x the customer's baseline rate.",
                "served = token_bucket(demand, rate=2 * baseline, capacity=...,\n"
                "                      start=alert_index)",
            ),
        ),
    )
    return build_result(
        ViralSpikeResult,
        name="viral_spike",
        title="Viral spike: detect and contain",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"alerts": alerts.head(50)},
        revenium_value=value,
        story=story,
        parameters={
            "freq": freq,
            "limit_multiple": limit_multiple,
            "burst_hours": burst_hours,
            "reaction_minutes": reaction_minutes,
            "invoice_lag_days": invoice_lag_days,
            **{k: getattr(cfg.detector, k) for k in StreamConfig.__slots__},
        },
        customer_id=customer,
        onset=onset,
        alert_at=alert_at,
        detection_delay=delay,
        invoice_at=invoice_at,
        spike_spend_usd=spike_spend,
        excess_spend_usd=excess,
        prevented_usd=prevented,
        prevented_monthly_usd=prevented * factor,
        baseline_daily_usd=base_bucket * (pd.Timedelta(days=1) / step),
        false_alerts=int(others["key"].nunique()),
        timeline=timeline,
        alerts=alerts,
    )


# =========================================================================== notebook 13
@dataclass
class PricingStrategyResult(AnalysisResult):
    """The pricing simulation plus its sensitivity to the price level."""

    pricing: PricingResult | None = None
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    averages_vs_actual: pd.DataFrame = field(default_factory=pd.DataFrame)
    target_lift: float = 0.51
    markup_for_target: float = float("nan")


#: Bisection steps between two grid points: 2^-20 of a grid step is far below a list price's
#: rounding (two significant digits), so the result is the price level itself.
_BISECT_STEPS: Final[int] = 20


def _first_reaching(lift: Callable[[float], float], grid: np.ndarray, target: float) -> float:
    """Lowest x where the non-decreasing step function ``lift(x)`` reaches ``target``, by
    bisection inside the first grid interval that brackets it (NaN if the grid never does).

    Example:
        >>> round(_first_reaching(lambda m: round(m, 1) / 10, np.array([1.0, 4.0]), 0.25), 3)
        2.45
    """
    values = [lift(float(x)) for x in grid]
    for i in range(1, len(grid)):
        if values[i - 1] < target <= values[i]:
            lo, hi = float(grid[i - 1]), float(grid[i])
            for _ in range(_BISECT_STEPS):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if lift(mid) >= target else (mid, hi)
            return hi
    return float(grid[0]) if len(grid) and values[0] >= target else float("nan")


#: Price levels (multiples of the blended AI cost per 1K tokens) of the sensitivity grid: from
#: barely above cost (1.5x) to a premium SaaS price (10x).
MARKUPS: Final[tuple[float, ...]] = (1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
#: The pricing model the showcase plan's margin claim is about.
_FOCUS: Final[str] = "tiered (graduated)"


def pricing_strategy(
    calls: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    markup: float = 3.0,
    markups: Sequence[float] = MARKUPS,
    target_lift: float = 0.51,
) -> PricingStrategyResult:
    """Pricing models on the history (``analyze("pricing", ...)``) and the price-level
    sensitivity.

    Returns a ``PricingStrategyResult`` with ``pricing`` (the pricing analyzer's result:
    ``summary``, ``by_segment``, ``customers``, ``tables["parameters"]``, ``baseline``),
    ``sensitivity`` (margin per model and markup), ``averages_vs_actual``, ``target_lift`` and
    ``markup_for_target``.

    ``markup_for_target`` is the lowest price level at which tiered pricing raises the monthly
    margin by at least ``target_lift`` over the baseline (bisection between the grid points
    that bracket it: list prices are rounded to two significant digits, so the margin moves in
    small steps and a linear interpolation of the grid can miss the target by a step).
    ``averages_vs_actual`` compares each model's margin with the estimate a team gets from
    per-tier averages only (:func:`average_customer_estimate`).

    Example:
        >>> ts = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC").repeat(3)
        >>> calls = pd.DataFrame({"timestamp": ts, "customer_id": ["a", "b", "c"] * 30,
        ...     "environment": "production", "input_tokens": [1_000, 20_000, 90_000] * 30,
        ...     "output_tokens": 0, "cost_usd": [0.01, 0.2, 0.9] * 30})
        >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
        ...     "subscription_tier": ["starter", "pro", "pro"], "monthly_fee_usd": [10.0, 50.0, 50.0]})
        >>> r = pricing_strategy(calls, customers, markups=(2.0, 4.0))
        >>> sorted(r.sensitivity["markup"].unique().tolist())
        [2.0, 4.0]
    """
    focus = _FOCUS
    base = analyze_pricing(calls, customers, markup=markup)
    sens = pricing_sensitivity(base.usage, current_fees(customers), markups, baseline=base.baseline)
    fees = current_fees(customers)

    def lift(mk: float) -> float:
        one = pricing_sensitivity(base.usage, fees, [mk], baseline=base.baseline)
        return float(one.loc[one["model"] == focus, "margin_change_pct"].iloc[0])

    cross = _first_reaching(lift, np.sort(np.asarray(markups, dtype=float)), target_lift)
    s = base.summary.set_index("model")
    foc = s.loc[focus] if focus in s.index else None
    factor = (
        float(s["monthly_margin_usd"].iloc[0] / s["margin_usd"].iloc[0])
        if s["margin_usd"].iloc[0]
        else 0.0
    )
    naive = average_customer_estimate(base.usage, base.models).set_index("model")
    avs = pd.DataFrame(
        {
            "monthly_margin_actual_usd": s["monthly_margin_usd"],
            "monthly_margin_from_averages_usd": naive["margin_usd"] * factor,
        }
    )
    avs["error_usd"] = avs["monthly_margin_from_averages_usd"] - avs["monthly_margin_actual_usd"]
    avs["error_pct"] = avs["error_usd"] / avs["monthly_margin_actual_usd"].abs()
    avs = avs.reset_index()
    headline = list(base.headline)
    headline.append(
        Metric(
            f"Price level for +{target_lift:.0%} margin ({focus})",
            cross,
            "ratio",
            "multiple of blended AI cost per 1K tokens",
        )
    )
    findings = list(base.findings)
    if foc is not None:
        findings.insert(
            0,
            f"At {markup:g}x cost, {focus} changes the monthly margin by "
            f"{signed_usd(foc['margin_change_usd_per_month'])}/month "
            f"({foc['margin_change_pct']:+.1%}) vs {base.baseline}.",
        )
    findings.append(
        f"{focus} reaches +{target_lift:.0%} margin at a price level of "
        + (
            f"{cross:.2f}x the blended AI cost per 1K tokens."
            if np.isfinite(cross)
            else "none of the tested levels."
        )
    )
    return build_result(
        PricingStrategyResult,
        name="pricing_strategy",
        title="Pricing strategy: replay pricing models on history",
        headline=headline,
        comparison=base.comparison,
        findings=findings,
        tables={**base.tables, "sensitivity": sens, "averages_vs_actual": avs},
        revenium_value=base.revenium_value,
        story=base.story,
        parameters={**base.parameters, "markups": tuple(markups), "target_lift": target_lift},
        pricing=base,
        target_lift=target_lift,
        markup_for_target=cross,
    )
