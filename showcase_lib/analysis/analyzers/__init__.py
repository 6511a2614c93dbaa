"""The eight analyzers: five FinOps, three usage-based revenue. Each returns data, never prints.

Every analyzer is a function ``analyze_<name>(calls, ...)`` returning an
:class:`AnalysisResult` subclass (tables, headline metrics, a before/after comparison,
the "Revenium value" and a story for the report cards). ``run_all`` runs the eight on one
data set. The analyzers take records and parameters only: prices come in as a price table frame
(``showcase_lib.pricing.price_table()`` or your own), customers as a frame of fees and tiers.

Example:
    >>> from showcase_lib.analysis.analyzers import ANALYZERS
    >>> list(ANALYZERS)
    ['understanding', 'performance', 'realtime', 'optimization', 'alignment', 'profitability', 'pricing', 'features']
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ._alignment import analyze_alignment
from ._base import AnalysisResult, Metric, ReveniumValue, Step, Story, signed_usd
from ._features import analyze_features
from ._optimization import OptimizationConfig, analyze_optimization
from ._performance import analyze_performance
from ._pricing_models import (
    CostPlus,
    FlatSubscription,
    Hybrid,
    Tiered,
    UsageBased,
    analyze_pricing,
    current_fees,
)
from ._profitability import analyze_profitability
from ._quality import SIMULATED_LABEL, quality_table
from ._realtime import RealtimeConfig, analyze_realtime
from ._understanding import analyze_understanding

#: name -> (inputs, function): the inputs each analyzer takes, in order, from
#: ``calls`` (the records), ``customers`` (fees and tiers) and ``prices`` (a price table).
ANALYZERS: dict[str, tuple[tuple[str, ...], Callable[..., AnalysisResult]]] = {
    "understanding": (("calls",), analyze_understanding),
    "performance": (("calls",), analyze_performance),
    "realtime": (("calls",), analyze_realtime),
    "optimization": (("calls", "prices"), analyze_optimization),
    "alignment": (("calls",), analyze_alignment),
    "profitability": (("calls", "customers"), analyze_profitability),
    "pricing": (("calls", "customers"), analyze_pricing),
    "features": (("calls", "customers"), analyze_features),
}


def run_all(
    calls: pd.DataFrame, customers: pd.DataFrame, prices: pd.DataFrame
) -> dict[str, AnalysisResult]:
    """Run the eight analyzers with their defaults; results by name, in ``ANALYZERS`` order.

    The real-time analyzer uses its default budgets (1.5x each customer's first-week run-rate);
    pass ``budgets=`` to :func:`analyze_realtime` directly for your own.

    Example:
        >>> import pandas as pd
        >>> ts = pd.date_range("2026-01-01", periods=28, freq="D", tz="UTC").repeat(2)
        >>> calls = pd.DataFrame({"timestamp": ts, "call_id": [f"c{i}" for i in range(56)],
        ...     "provider": "openai", "model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100,
        ...     "cost_usd": 0.0035, "latency_ms": 900, "customer_id": ["a", "b"] * 28,
        ...     "subscription_tier": "pro", "organization_id": ["o1", "o2"] * 28,
        ...     "product_id": "p", "feature_id": "f", "task_type": "chat",
        ...     "environment": "production", "session_id": None, "status": "success"})
        >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "organization_id": ["o1", "o2"],
        ...     "subscription_tier": "pro", "monthly_fee_usd": 50.0})
        >>> prices = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4o"],
        ...     "input_usd_per_mtok": [2.5], "output_usd_per_mtok": [10.0]})
        >>> list(run_all(calls, customers, prices)) == list(ANALYZERS)
        True
    """
    inputs = {"calls": calls, "customers": customers, "prices": prices}
    return {name: fn(*(inputs[k] for k in needs)) for name, (needs, fn) in ANALYZERS.items()}


__all__ = [
    "ANALYZERS",
    "SIMULATED_LABEL",
    "AnalysisResult",
    "CostPlus",
    "FlatSubscription",
    "Hybrid",
    "Metric",
    "OptimizationConfig",
    "RealtimeConfig",
    "ReveniumValue",
    "Step",
    "Story",
    "Tiered",
    "UsageBased",
    "analyze_alignment",
    "analyze_features",
    "analyze_optimization",
    "analyze_performance",
    "analyze_pricing",
    "analyze_profitability",
    "analyze_realtime",
    "analyze_understanding",
    "current_fees",
    "quality_table",
    "run_all",
    "signed_usd",
]
