"""Part D scenario computations (notebooks 11-13): model comparison, viral spike, pricing.

Each function takes simulated (or metered) records and returns an
:class:`~showcase_lib.analysis.analyzers.base.AnalysisResult` subclass, so the same report cards
render it. Every figure is computed from the inputs; the showcase plan's headline claims are
only used as *targets* the notebooks compare against.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
    ...     "provider": ["openai"] * 2, "model": ["gpt-4"] * 2,
    ...     "task_type": ["classification", "code_generation"],
    ...     "input_tokens": [1000, 1000], "output_tokens": [200, 200], "cost_usd": [0.042] * 2})
    >>> r = model_comparison(calls, n_ab=200)
    >>> round(r.per_call_reduction, 2)       # claude-instant-1.2 vs gpt-4 on these tokens
    0.97
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from showcase_lib.analysis.analyzers.base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    comparison_frame,
    monthly_factor,
    require_columns,
    require_rows,
    signed_usd,
)
from showcase_lib.analysis.analyzers.optimization import reprice
from showcase_lib.analysis.analyzers.pricing_models import (
    PricingResult,
    analyze_pricing,
    average_customer_estimate,
    current_fees,
    pricing_sensitivity,
)
from showcase_lib.analysis.analyzers.quality import (
    CALL_SCORE_SD,
    SIMULATED_LABEL,
    quality_score,
    sample_scores,
    task_complexity,
)
from showcase_lib.analysis.analyzers.realtime import bucket_spend, detect_stream, token_bucket

__all__ = [
    "ABTest",
    "ModelComparisonResult",
    "PricingStrategyResult",
    "ViralSpikeResult",
    "ab_test_quality",
    "format_duration",
    "model_comparison",
    "pricing_strategy",
    "spike_sensitivity",
    "viral_spike_response",
]

#: Cheaper models tried against the baseline in notebook 11 (provider, model).
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


def ab_test_quality(
    control: str,
    treatment: str,
    *,
    complexity: str = "simple",
    n_per_arm: int = 400,
    max_drop: float = 3.0,
    level: float = 0.95,
    seed: int = 0,
    sd: float = CALL_SCORE_SD,
    scores: tuple[np.ndarray, np.ndarray] | None = None,
) -> ABTest:
    """Run a (simulated) A/B test of per-call quality scores and a Welch confidence interval.

    Scores are drawn around the SIMULATED table means (:mod:`.analyzers.quality`) unless real
    ``scores`` = (control, treatment) are given. The interval and p-value come from
    ``statsmodels`` (``CompareMeans``, unequal variances).

    Example:
        >>> t = ab_test_quality("gpt-4", "gpt-4o-mini", n_per_arm=2000, max_drop=5.0)
        >>> t.passed, -5 < t.diff < 1
        (True, True)
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    if scores is None:
        rng = np.random.default_rng(seed)
        a = sample_scores(quality_score(control, complexity), n_per_arm, rng=rng, sd=sd)
        b = sample_scores(quality_score(treatment, complexity), n_per_arm, rng=rng, sd=sd)
    else:
        a, b = (np.asarray(s, dtype=float) for s in scores)
    cm = CompareMeans(DescrStatsW(b), DescrStatsW(a))
    lo, hi = cm.tconfint_diff(alpha=1 - level, usevar="unequal")
    _, p, _ = cm.ttest_ind(usevar="unequal")
    return ABTest(
        control,
        treatment,
        complexity,
        int(min(len(a), len(b))),
        float(a.mean()),
        float(b.mean()),
        float(b.mean() - a.mean()),
        float(lo),
        float(hi),
        float(p),
        float(max_drop),
        float(level),
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


def _simple_mask(calls: pd.DataFrame, complexity_map: Mapping[str, str] | None) -> np.ndarray:
    cx = calls["task_type"].astype(str).map(lambda t: task_complexity(t, complexity_map))
    return (cx == "simple").to_numpy()


def model_comparison(
    calls: pd.DataFrame,
    *,
    baseline: tuple[str, str] = ("openai", "gpt-4"),
    candidate: tuple[str, str] = ("anthropic", "claude-instant-1.2"),
    candidates: Sequence[tuple[str, str]] = DEFAULT_CANDIDATES,
    max_quality_drop: float = 5.0,
    n_ab: int = 400,
    seed: int = 0,
    level: float = 0.95,
    shares: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    complexity_map: Mapping[str, str] | None = None,
) -> ModelComparisonResult:
    """ "The baseline model for every task" vs "simple tasks on a cheaper model".

    Every call's tokens are repriced on ``baseline`` (the "before": one model for everything)
    and, for simple tasks, on ``candidate`` (the "after"). Each of ``candidates`` is A/B tested
    on simple tasks against one shared baseline arm (:func:`ab_test_quality`, an A/B/n test
    with simulated scores) and priced the same way. The sensitivity table
    keeps the per-call costs of this fleet and varies the share of simple calls.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01"] * 2, utc=True),
        ...     "provider": ["openai"] * 2, "model": ["gpt-4o"] * 2,
        ...     "task_type": ["classification", "chat"], "input_tokens": [1000, 1000],
        ...     "output_tokens": [100, 100], "cost_usd": [0.0035] * 2})
        >>> r = model_comparison(calls, n_ab=100)
        >>> r.simple_share
        0.5
    """
    who = "model_comparison"
    require_columns(calls, ["timestamp", "task_type", "input_tokens", "output_tokens"], who=who)
    require_rows(calls, who=who)
    factor = monthly_factor(calls)
    simple = _simple_mask(calls, complexity_map)
    before = reprice(calls, *baseline).to_numpy()
    cand_names = list(dict.fromkeys([tuple(candidate), *map(tuple, candidates)]))

    # one shared control arm (the baseline), one treatment arm per candidate: an A/B/n test
    control = sample_scores(
        quality_score(baseline[1], "simple"), n_ab, rng=np.random.default_rng([seed, 0])
    )
    rows, ab_rows = [], []
    for i, (prov, model) in enumerate(cand_names):
        on_cand = reprice(calls, prov, model).to_numpy()
        after = np.where(simple, on_cand, before)
        simple_before = float(before[simple].sum())
        per_call = 1.0 - float(on_cand[simple].sum()) / simple_before if simple_before else 0.0
        treatment = sample_scores(
            quality_score(model, "simple"), n_ab, rng=np.random.default_rng([seed, i + 1])
        )
        test = ab_test_quality(
            baseline[1],
            model,
            complexity="simple",
            n_per_arm=n_ab,
            max_drop=max_quality_drop,
            level=level,
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
    on_chosen = reprice(calls, *candidate).to_numpy()
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
        for s in shares:
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
    comparison = comparison_frame(
        [
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
                f"A/B {float(chosen_ab['diff']):+.1f} pts "
                f"(CI low {float(chosen_ab['ci_low']):+.1f})",
                "text",
            ),
        ]
    )
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
                "test = ab_test_quality('gpt-4', 'claude-instant-1.2', max_drop=3.0)\ntest.passed",
            ),
            Step(
                "Route by task",
                "Send simple tasks to the model that passed.",
                "model = 'claude-instant-1.2' if complexity(task) == 'simple' else 'gpt-4'",
            ),
        ),
    )
    return ModelComparisonResult(
        name="model_comparison",
        title="Model comparison: right-size simple tasks",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"tasks": tasks, "candidates": cands, "ab_tests": ab, "sensitivity": sensitivity},
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
        tasks=tasks,
        ab_tests=ab,
        candidates=cands,
        sensitivity=sensitivity,
    )


# =========================================================================== notebook 12
def format_duration(delta: pd.Timedelta | None) -> str:
    """A short, readable duration: "30 min", "2.8 h", "3.2 days" ("n/a" for None).

    Example:
        >>> format_duration(pd.Timedelta(minutes=30)), format_duration(pd.Timedelta(hours=50))
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
SPIKE_DETECTOR: dict[str, float] = {
    "window_buckets": 6 * 24 * 3,  # three days of baseline
    "recent_buckets": 6,  # the last hour
    "min_history": 6 * 24,  # one day before the first alert
    "factor": 4.0,
    "z": 5.0,
    "min_usd": 5.0,
    "rearm_buckets": 12,  # two quiet hours re-arm a customer
}


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
    incidents: pd.DataFrame | None = None,
    *,
    customer: str | None = None,
    onset: pd.Timestamp | None = None,
    freq: str = "10min",
    detector: Mapping[str, float] | None = None,
    limit_multiple: float = 2.0,
    burst_hours: float = 2.0,
    reaction_minutes: float = 0.0,
    invoice_lag_days: float = 3.0,
    watch_all: bool = True,
) -> ViralSpikeResult:
    """Detect a customer's spike on the metered stream, rate-limit it, measure prevented spend.

    * **Without Revenium**: the spike runs until the month's invoice arrives
      (``invoice_lag_days`` after the end of the data); all of it is paid.
    * **With Revenium**: a :class:`StreamingSpikeDetector` over ``freq`` buckets of every
      customer alerts; ``reaction_minutes`` later a token bucket limits the customer to
      ``limit_multiple`` x its pre-spike spend rate (bursts up to ``burst_hours`` of that rate).

    The customer and onset come from the simulation's ``incidents`` (kind ``viral_spike``)
    unless given. ``prevented_usd`` = actual - served spend after the limit starts;
    ``prevented_monthly_usd`` scales it to 30 days of spike. ``watch_all=False`` runs the
    detector on the spiking customer only (faster; no false-alert count).

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=24 * 6, freq="h", tz="UTC")
        >>> spend = np.where(idx >= pd.Timestamp("2026-01-05", tz="UTC"), 10.0, 1.0)
        >>> calls = pd.DataFrame({"timestamp": idx, "customer_id": "c", "cost_usd": spend})
        >>> r = viral_spike_response(calls, customer="c", onset=pd.Timestamp("2026-01-05", tz="UTC"),
        ...                          freq="1h", detector={"window_buckets": 48, "recent_buckets": 1,
        ...                          "min_history": 24, "z": 3.0, "min_usd": 1.0})
        >>> r.detection_delay, round(r.prevented_usd)   # 47 h x $10 - (4 + 46 x $2) served
        (Timedelta('0 days 01:00:00'), 374)
    """
    who = "viral_spike_response"
    require_columns(calls, ["timestamp", "customer_id", "cost_usd"], who=who)
    require_rows(calls, who=who)
    if customer is None or onset is None:
        if incidents is None or not (incidents["kind"] == "viral_spike").any():
            raise ValueError(
                f"{who}: give customer= and onset=, or incidents with a 'viral_spike' row"
            )
        inc = incidents[incidents["kind"] == "viral_spike"].iloc[0]
        customer = str(inc["customer_id"]) if customer is None else customer
        onset = pd.Timestamp(inc["start"]) if onset is None else onset
    onset = pd.Timestamp(onset)
    settings = {**SPIKE_DETECTOR, **(detector or {})}
    wide = bucket_spend(calls, freq, "customer_id")
    if customer not in wide.columns:
        raise ValueError(f"{who}: customer_id={customer!r} has no calls")
    if not watch_all:
        wide = wide[[customer]]
    alerts = detect_stream(wide, **settings)
    mine = alerts[(alerts["key"] == customer) & (alerts["bucket"] >= onset)]
    others = alerts[alerts["key"] != customer]
    step = pd.Timedelta(freq)
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
            f"The streaming detector alerted {format_duration(delay)} after onset "
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
    comparison = comparison_frame(
        [
            (
                "Spike noticed",
                "invoice, " + f"{(invoice_at - onset) / pd.Timedelta(days=1):,.1f} days"
                " after onset",
                f"{format_duration(delay)} after onset" if delay is not None else "not detected",
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
    )
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
                "wide = bucket_spend(calls, freq='10min', by='customer_id')",
            ),
            Step(
                "Detect",
                "Recent hour vs the trailing three days, three-part rule.",
                "alerts = detect_stream(wide, window_buckets=432, recent_buckets=6,\n"
                "                       factor=4, z=5, min_usd=5)",
            ),
            Step(
                "Contain",
                "Token bucket at 2x the customer's baseline rate.",
                "served = token_bucket(demand, rate=2 * baseline, capacity=...,\n"
                "                      start=alert_index)",
            ),
        ),
    )
    return ViralSpikeResult(
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
            **settings,
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


def spike_sensitivity(
    factors: Sequence[float],
    customers: Sequence[str],
    *,
    days: int = 30,
    n_customers: int = 100,
    seed: int = 0,
    **response_kwargs,
) -> pd.DataFrame:
    """Re-simulate ``viral_spike`` for each spike factor x spiking customer; prevented spend.

    Example:
        >>> t = spike_sensitivity([5.0], ["cust_0001"], days=10, n_customers=10)
        >>> list(t.columns)[:3]
        ['spike_factor', 'customer_id', 'baseline_daily_usd']
    """
    from showcase_lib.simulation import simulate

    rows = []
    for f in factors:
        for c in customers:
            sim = simulate(
                "viral_spike",
                days=days,
                customers=n_customers,
                seed=seed,
                spike_factor=float(f),
                spike_customer=c,
            )
            kwargs = {"watch_all": False, **response_kwargs}
            r = viral_spike_response(sim.calls, sim.incidents, **kwargs)
            rows.append(
                {
                    "spike_factor": float(f),
                    "customer_id": c,
                    "baseline_daily_usd": r.baseline_daily_usd,
                    "detected": r.alert_at is not None,
                    "delay_minutes": r.detection_delay / pd.Timedelta(minutes=1)
                    if r.detection_delay is not None
                    else np.nan,
                    "spike_spend_usd": r.spike_spend_usd,
                    "prevented_usd": r.prevented_usd,
                    "prevented_monthly_usd": r.prevented_monthly_usd,
                }
            )
    return pd.DataFrame(rows)


# =========================================================================== notebook 13
@dataclass
class PricingStrategyResult(AnalysisResult):
    """The pricing simulation plus its sensitivity to the price level."""

    pricing: PricingResult | None = None
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    averages_vs_actual: pd.DataFrame = field(default_factory=pd.DataFrame)
    target_lift: float = 0.51
    markup_for_target: float = float("nan")


def _crossing(x: np.ndarray, y: np.ndarray, target: float) -> float:
    """First x where the piecewise-linear y(x) reaches ``target`` (NaN if never)."""
    for i in range(1, len(x)):
        if (y[i - 1] - target) * (y[i] - target) <= 0 and y[i] != y[i - 1]:
            return float(x[i - 1] + (target - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))
    return float("nan")


def pricing_strategy(
    calls: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    markup: float = 3.0,
    markups: Sequence[float] = (1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0),
    target_lift: float = 0.51,
    focus: str = "tiered (graduated)",
) -> PricingStrategyResult:
    """Pricing models on the history (:func:`analyze_pricing`) and the price-level sensitivity.

    ``markup_for_target`` is the price level at which ``focus`` raises the monthly margin by
    ``target_lift`` over the baseline (linear interpolation on the sensitivity grid).
    ``averages_vs_actual`` compares each model's margin with the estimate a team gets from
    per-tier averages only (:func:`average_customer_estimate`).

    Example:
        >>> from showcase_lib.simulation import simulate
        >>> sim = simulate("steady_growth", days=30, customers=20, seed=0)
        >>> r = pricing_strategy(sim.calls, sim.customers, markups=(2.0, 4.0))
        >>> sorted(r.sensitivity["markup"].unique().tolist())
        [2.0, 4.0]
    """
    base = analyze_pricing(calls, customers, markup=markup)
    sens = pricing_sensitivity(base.usage, current_fees(customers), markups, baseline=base.baseline)
    f = sens[sens["model"] == focus].sort_values("markup")
    cross = _crossing(
        f["markup"].to_numpy(dtype=float), f["margin_change_pct"].to_numpy(), target_lift
    )
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
    return PricingStrategyResult(
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
        sensitivity=sens,
        averages_vs_actual=avs,
        target_lift=target_lift,
        markup_for_target=cross,
    )
