"""The eight analyzers: five FinOps, three usage-based revenue. Each returns data, never prints.

Every analyzer is a function ``analyze_<name>(calls, ...)`` returning an
:class:`~.base.AnalysisResult` subclass (tables, headline metrics, a before/after comparison,
the "Revenium value" and a story for the report cards). ``run_all`` runs the eight on one
simulation.

Example:
    >>> from showcase_lib.analysis.analyzers import ANALYZERS
    >>> list(ANALYZERS)
    ['understanding', 'performance', 'realtime', 'optimization', 'alignment', 'profitability', 'pricing', 'features']
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .alignment import AlignmentResult, analyze_alignment, chargeback
from .base import AnalysisResult, Metric, ReveniumValue, Step, Story, comparison_frame
from .features import FeaturesResult, analyze_features, attribute_revenue
from .optimization import OptimizationResult, analyze_optimization, reprice, right_sizing
from .performance import PerformanceResult, analyze_performance
from .pricing_models import (
    CostPlus,
    FlatSubscription,
    Hybrid,
    PricingResult,
    Tiered,
    UsageBased,
    analyze_pricing,
    average_customer_estimate,
    default_models,
    pricing_sensitivity,
)
from .profitability import ProfitabilityResult, analyze_profitability
from .quality import QUALITY_TABLE, SIMULATED_LABEL, quality_score, task_complexity
from .realtime import (
    RealtimeResult,
    StreamingSpikeDetector,
    analyze_realtime,
    budget_cap,
    budget_status,
    token_bucket,
)
from .understanding import UnderstandingResult, analyze_understanding

#: name -> (kind, function). FinOps analyzers take calls; revenue analyzers also customers.
ANALYZERS: dict[str, tuple[str, Callable[..., AnalysisResult]]] = {
    "understanding": ("finops", analyze_understanding),
    "performance": ("finops", analyze_performance),
    "realtime": ("finops", analyze_realtime),
    "optimization": ("finops", analyze_optimization),
    "alignment": ("finops", analyze_alignment),
    "profitability": ("revenue", analyze_profitability),
    "pricing": ("revenue", analyze_pricing),
    "features": ("revenue", analyze_features),
}


def run_all(calls: pd.DataFrame, customers: pd.DataFrame) -> dict[str, AnalysisResult]:
    """Run the eight analyzers with their defaults; results by name, in ``ANALYZERS`` order.

    The real-time analyzer uses its default budgets (1.5x each customer's first-week run-rate);
    pass ``budgets=`` to :func:`analyze_realtime` directly for your own.

    Example:
        >>> from showcase_lib.simulation import simulate
        >>> sim = simulate("steady_growth", days=14, customers=8, seed=1)
        >>> sorted(run_all(sim.calls, sim.customers)) == sorted(ANALYZERS)
        True
    """
    out: dict[str, AnalysisResult] = {}
    for name, (kind, fn) in ANALYZERS.items():
        if kind == "revenue":
            out[name] = fn(calls, customers)
        else:
            out[name] = fn(calls)
    return out


__all__ = [
    "ANALYZERS",
    "QUALITY_TABLE",
    "SIMULATED_LABEL",
    "AlignmentResult",
    "AnalysisResult",
    "CostPlus",
    "FeaturesResult",
    "FlatSubscription",
    "Hybrid",
    "Metric",
    "OptimizationResult",
    "PerformanceResult",
    "PricingResult",
    "ProfitabilityResult",
    "RealtimeResult",
    "ReveniumValue",
    "Step",
    "Story",
    "StreamingSpikeDetector",
    "Tiered",
    "UnderstandingResult",
    "UsageBased",
    "analyze_alignment",
    "analyze_features",
    "analyze_optimization",
    "analyze_performance",
    "analyze_pricing",
    "analyze_profitability",
    "analyze_realtime",
    "analyze_understanding",
    "attribute_revenue",
    "average_customer_estimate",
    "budget_cap",
    "budget_status",
    "chargeback",
    "comparison_frame",
    "default_models",
    "pricing_sensitivity",
    "quality_score",
    "reprice",
    "right_sizing",
    "run_all",
    "task_complexity",
    "token_bucket",
]
