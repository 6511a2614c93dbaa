"""FinOps "performance and efficiency": latency percentiles, SLA compliance, model efficiency.

Model efficiency uses the SIMULATED quality table of ``quality_table`` (clearly labelled): cost
per successful task is measured from the records, quality per dollar divides the simulated
quality by that cost.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "model": ["gpt-4", "gpt-4", "gpt-4o-mini"], "task_type": ["chat"] * 3,
    ...     "latency_ms": [100, 300, 50], "cost_usd": [0.02, 0.02, 0.001],
    ...     "status": ["success", "error", "success"], "subscription_tier": ["pro"] * 3})
    >>> r = analyze_performance(calls, sla_ms={"pro": 200})
    >>> r.efficiency.set_index("model").loc["gpt-4", "cost_per_success_usd"]
    np.float64(0.04)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from showcase_lib.analysis import _aggregations as agg

from ._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    comparison_frame,
    require_columns,
    require_rows,
)
from ._keys import is_not, str_codes
from ._quality import SIMULATED_LABEL, quality_score, task_complexity

#: Default latency SLA per subscription tier (milliseconds, success required): paying more buys
#: a tighter promise; 15-30 s bounds a long generation without timing out an agent step.
DEFAULT_SLA_MS: dict[str, float] = {"enterprise": 15000.0, "pro": 20000.0, "starter": 30000.0}

#: Latency percentiles reported: median, the tail a user notices, the worst in a hundred.
PERCENTILES: tuple[float, ...] = (0.50, 0.95, 0.99)


@dataclass
class PerformanceResult(AnalysisResult):
    """Latency percentiles, SLA compliance and the efficiency ranking."""

    latency: pd.DataFrame = field(default_factory=pd.DataFrame)
    sla: pd.DataFrame = field(default_factory=pd.DataFrame)
    efficiency: pd.DataFrame = field(default_factory=pd.DataFrame)


def latency_percentiles(
    calls: pd.DataFrame, by: str = "model", percentiles: Sequence[float] = PERCENTILES
) -> pd.DataFrame:
    """Mean and percentiles (Part B's ``aggregations.percentiles``) of ``latency_ms`` per ``by``.

    Example:
        >>> df = pd.DataFrame({"model": ["m"] * 4, "latency_ms": [1, 2, 3, 4]})
        >>> latency_percentiles(df)["p50_ms"].tolist()
        [2.5]
    """
    out = _count_mean(calls, by)
    if out is None:
        out = calls.groupby(by, observed=True)["latency_ms"].agg(calls="size", mean_ms="mean")
    pct = agg.percentiles(calls, "latency_ms", by=by, q=percentiles)
    out = out.join(pct.add_suffix("_ms"))
    sort_col = "p95_ms" if "p95_ms" in out else out.columns[-1]
    return out.sort_values(sort_col, ascending=False).reset_index()


def _count_mean(calls: pd.DataFrame, by: str) -> pd.DataFrame | None:
    """``groupby(by, observed=True)["latency_ms"].agg(calls="size", mean_ms="mean")`` by one
    count and one sum over the categorical codes, for a categorical ``by`` and integer
    latencies without missing keys (sums of integers below 2**53 are exact, so the means are
    pandas' to the last bit); None otherwise."""
    keys, latency = calls[by], calls["latency_ms"]
    if not isinstance(keys.dtype, pd.CategoricalDtype) or latency.dtype.kind not in "iu":
        return None
    raw = np.asarray(keys.array.codes)
    if (raw < 0).any() or (len(raw) and int(latency.max()) * len(raw) >= 2**53):
        return None
    k = len(keys.cat.categories)
    count = np.bincount(raw, minlength=k)
    total = np.bincount(raw, weights=latency.to_numpy(), minlength=k)
    seen = count > 0
    index = pd.CategoricalIndex(keys.cat.categories[seen], dtype=keys.dtype, name=by)
    return pd.DataFrame({"calls": count[seen], "mean_ms": total[seen] / count[seen]}, index=index)


def _success(calls: pd.DataFrame) -> np.ndarray:
    if "status" not in calls:
        return np.ones(len(calls), dtype=bool)
    return ~is_not(calls["status"], "success")


def sla_compliance(
    calls: pd.DataFrame, sla_ms: Mapping[str, float] | float, by: str = "subscription_tier"
) -> pd.DataFrame:
    """Share of calls that succeeded within the SLA, per value of ``by``.

    ``sla_ms`` is one number for all calls or a mapping from the ``by`` value (e.g. tier) to
    its SLA in milliseconds; values missing from the mapping get the largest SLA given.

    Example:
        >>> df = pd.DataFrame({"subscription_tier": ["pro", "pro"], "latency_ms": [100, 900]})
        >>> sla_compliance(df, {"pro": 500})["compliance"].tolist()
        [0.5]
    """
    codes, labels = str_codes(calls[by])
    if isinstance(sla_ms, Mapping):
        fallback = max(sla_ms.values()) if sla_ms else np.inf
        per_label = np.asarray([sla_ms.get(v, fallback) for v in labels], dtype=float)
        limit = per_label[codes]
    else:
        limit = np.full(len(calls), float(sla_ms))
    ok = _success(calls) & (calls["latency_ms"].to_numpy() <= limit)
    n = len(labels)  # every label has calls (str_codes keeps the used ones)
    out = pd.DataFrame(
        {
            "calls": np.bincount(codes, minlength=n),
            "within_sla": np.bincount(codes, weights=ok, minlength=n).astype(np.int64),
            "sla_ms": per_label if isinstance(sla_ms, Mapping) else np.full(n, float(sla_ms)),
        },
        index=pd.Index(labels, dtype=object, name=by),
    )
    out["compliance"] = out["within_sla"] / out["calls"]
    out["breaches"] = out["calls"] - out["within_sla"]
    return out.sort_values("compliance").reset_index()


def model_efficiency(calls: pd.DataFrame) -> pd.DataFrame:
    """Per model: success rate, cost per successful task, simulated quality and quality per dollar.

    ``quality`` is the call-weighted SIMULATED score of the model on the tasks it served
    (``quality_table``); ``quality_per_usd`` = quality / cost per successful task. Ranked by
    quality per dollar (1 = most efficient).

    Example:
        >>> df = pd.DataFrame({"model": ["gpt-4"], "task_type": ["classification"],
        ...                    "cost_usd": [0.05]})
        >>> model_efficiency(df)["quality"].tolist()
        [95.0]
    """
    m_codes, m_labels = str_codes(calls["model"])
    if "task_type" in calls:
        t_codes, t_labels = str_codes(calls["task_type"])
    else:
        t_codes, t_labels = np.zeros(len(calls), dtype=np.int64), np.asarray(["chat"], dtype=object)
    # the simulated quality of each (model, task type) pair, looked up once per pair
    complexity = [task_complexity(t) for t in t_labels]
    if "task_type" not in calls:
        complexity = ["moderate"]
    grid = np.asarray(
        [[quality_score(m, cx) for cx in complexity] for m in m_labels], dtype=float
    ).reshape(len(m_labels), len(t_labels))
    n = len(m_labels)
    count = np.bincount(m_codes, minlength=n)
    # quality per call is its (model, task) table value: sum it by (model, task) pair first
    pair = np.bincount(m_codes * len(t_labels) + t_codes, minlength=n * len(t_labels))
    quality = (pair.reshape(n, len(t_labels)) * grid).sum(axis=1) / count
    out = pd.DataFrame(
        {
            "calls": count,
            "successes": np.bincount(m_codes, weights=_success(calls), minlength=n).astype(
                np.int64
            ),
            "cost_usd": np.bincount(m_codes, weights=calls["cost_usd"].to_numpy(), minlength=n),
            "quality": quality,
        },
        index=pd.Index(m_labels, dtype=object, name="model"),
    )
    out["success_rate"] = out["successes"] / out["calls"]
    out["cost_per_success_usd"] = out["cost_usd"] / out["successes"].where(out["successes"] > 0)
    out["quality_per_usd"] = out["quality"] / out["cost_per_success_usd"]
    out = out.sort_values("quality_per_usd", ascending=False)
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index()


def analyze_performance(
    calls: pd.DataFrame,
    *,
    sla_ms: Mapping[str, float] | float | None = None,
    sla_by: str = "subscription_tier",
) -> PerformanceResult:
    """Latency percentiles per model, SLA compliance per tier, model efficiency ranking.

    Example:
        >>> df = pd.DataFrame({"model": ["m"] * 2, "task_type": ["chat"] * 2,
        ...                    "latency_ms": [10, 20], "cost_usd": [0.1, 0.1],
        ...                    "subscription_tier": ["pro", "pro"]})
        >>> analyze_performance(df, sla_ms=15).metric("SLA compliance").value
        0.5
    """
    who = "analyze_performance"
    require_columns(calls, ["model", "latency_ms", "cost_usd"], who=who)
    require_rows(calls, who=who)
    sla = DEFAULT_SLA_MS if sla_ms is None else sla_ms
    by = sla_by if sla_by in calls.columns else "model"
    latency = latency_percentiles(calls, "model")
    compliance = sla_compliance(calls, sla, by=by)
    efficiency = model_efficiency(calls)

    overall_ok = float(compliance["within_sla"].sum() / compliance["calls"].sum())
    mean_ms = float(calls["latency_ms"].mean())
    p95, p99 = map(float, calls["latency_ms"].quantile([0.95, 0.99]))  # one partition
    best, worst = efficiency.iloc[0], efficiency.iloc[-1]
    ratio = (
        float(best["quality_per_usd"] / worst["quality_per_usd"]) if len(efficiency) > 1 else 1.0
    )
    worst_sla = compliance.iloc[0]

    headline = [
        Metric("Mean latency", mean_ms, "ms"),
        Metric("p95 latency", p95, "ms"),
        Metric("p99 latency", p99, "ms"),
        Metric("SLA compliance", overall_ok, "pct", "success within the tier's SLA"),
        Metric("Most efficient model", str(best["model"]), "text", SIMULATED_LABEL),
        Metric("Quality per $ spread (best/worst)", ratio, "ratio", SIMULATED_LABEL),
    ]
    findings = [
        f"p95 latency is {p95 / mean_ms:.1f}x the mean ({p95:,.0f} ms vs {mean_ms:,.0f} ms): "
        "averages hide the slow tail customers feel.",
        f"Lowest SLA compliance: {by}={worst_sla[by]} at {worst_sla['compliance']:.1%} "
        f"({int(worst_sla['breaches']):,} breaches, SLA {worst_sla['sla_ms']:,.0f} ms).",
        f"{best['model']} delivers {ratio:,.1f}x the quality per dollar of {worst['model']} "
        f"({SIMULATED_LABEL}).",
    ]
    comparison = comparison_frame(
        [
            ("Latency figure available", mean_ms, p95, "ms"),
            ("SLA compliance per tier", "unknown", overall_ok, "pct"),
            (
                "Cost per successful task, worst model",
                "price list only",
                float(worst["cost_per_success_usd"]),
                "usd",
            ),
            (
                "Cost per successful task, best-value model",
                "price list only",
                float(best["cost_per_success_usd"]),
                "usd",
            ),
        ]
    )
    value = ReveniumValue(
        metadata=("model", "latency_ms", "status", "subscription_tier", "task_type", "cost_usd"),
        enables="latency tails and SLA compliance per tier, and cost per successful task per "
        "model, from the same records that carry the cost",
        without="stitch APM latency traces to invoices by timestamp, and compare models on "
        "list prices that ignore failures, retries and task mix",
    )
    story = Story(
        problem=f"Users complain about slowness while dashboards show a {mean_ms:,.0f} ms average; "
        "nobody knows which tier misses its SLA or which model gives the most for "
        "the money.",
        solution="Every metered call carries latency, status, tier and task type next to its "
        "cost, so percentiles, SLA compliance and cost per successful task fall out "
        "of one query per dimension.",
        steps=(
            Step(
                "Meter latency and outcome",
                "Send duration and stop reason with each call.",
                "tracker.track(..., latency_ms=1240, stop_reason='END',\n"
                "              subscription_tier='enterprise', task_type='summarization')",
            ),
            Step(
                "Compute percentiles and SLA",
                "Run the analyzer with your SLA table.",
                "result = analyze('performance', calls, sla_ms={'enterprise': 15000,\n"
                "                                          'pro': 20000, 'starter': 30000})\n"
                "result.sla",
            ),
            Step(
                "Rank models",
                "Replace the simulated quality with your evaluation scores.",
                "result.efficiency[['model', 'cost_per_success_usd', 'quality_per_usd']]",
            ),
        ),
    )
    return build_result(
        PerformanceResult,
        name="performance",
        title="Performance and model efficiency",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"latency": latency, "sla": compliance, "efficiency": efficiency},
        revenium_value=value,
        story=story,
        parameters={"sla_ms": sla, "sla_by": by, "quality": SIMULATED_LABEL},
    )
