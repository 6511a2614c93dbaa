"""The eight analyzers: five FinOps, three usage-based revenue. Each returns data, never prints.

:func:`analyze` runs one analyzer by name, :func:`run_all` the eight on one data set. The
analyzers take records and parameters only: prices come in as a price table frame
(``showcase_lib.pricing.price_table()`` or your own) or as a pricer (calls -> cost per call, e.g.
``lambda df: pricing.cost_breakdown(df)["total"]``), customers as a frame of fees and tiers.
Each returns an analyzer result: ``name, title, headline`` (metrics with ``label, value,
unit``; ``metric(label)`` finds one), ``comparison`` (without vs with Revenium), ``findings``,
``tables`` (each also an attribute), ``revenium_value``, ``story`` and ``parameters``; the
tables of each analyzer are listed on :func:`analyze`.

Example:
    >>> from showcase_lib.analysis.analyzers import ANALYZERS
    >>> list(ANALYZERS)
    ['understanding', 'performance', 'realtime', 'optimization', 'alignment', 'profitability', 'pricing', 'features']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd

from ._alignment import analyze_alignment
from ._base import AnalysisResult
from ._features import analyze_features
from ._optimization import OptimizationConfig, analyze_optimization
from ._performance import analyze_performance
from ._pricing_models import FlatSubscription, Tiered, analyze_pricing
from ._profitability import analyze_profitability
from ._realtime import RealtimeConfig, analyze_realtime
from ._understanding import analyze_understanding

#: The analyzers' names, in the order :func:`run_all` runs them.
AnalyzerName = Literal[
    "understanding",
    "performance",
    "realtime",
    "optimization",
    "alignment",
    "profitability",
    "pricing",
    "features",
]

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


def analyze(
    name: AnalyzerName,
    calls: pd.DataFrame,
    *,
    customers: pd.DataFrame | None = None,
    prices: pd.DataFrame | None = None,
    **options: Any,
) -> AnalysisResult:
    """Run one analyzer on the calls; ``options`` are that analyzer's own settings.

    ===============  ===========  ==========================================================
    name             needs        options -> main tables
    ===============  ===========  ==========================================================
    understanding    --           ``dimensions, horizon_days`` -> ``daily, allocation[dim]``
    performance      --           ``sla_ms, sla_by`` -> ``efficiency``
    realtime         --           ``budgets, config=RealtimeConfig(...)`` (``customers``
                                  optional) -> ``budgets, anomalies``
    optimization     prices       ``config=OptimizationConfig(...)`` -> ``opportunities,
                                  right_sizing``
    alignment        --           ``dimensions, rule`` -> ``chargebacks[dim]``
    profitability    customers    ``bands, segment`` -> ``by_customer, by_band``
    pricing          customers    ``models`` (e.g. ``Tiered``, ``FlatSubscription``),
                                  ``baseline, markup`` -> ``summary, by_segment, customers``
    features         customers    ``rule`` ("calls" or "cost") -> ``by_feature``
    ===============  ===========  ==========================================================

    Example:
        >>> import pandas as pd
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        ...     "provider": "openai", "model": "gpt-4o", "customer_id": ["a", "b"],
        ...     "cost_usd": [1.0, 3.0], "input_tokens": 100, "output_tokens": 10})
        >>> u = analyze("understanding", calls, dimensions=("customer_id",))
        >>> u.allocation["customer_id"]["customer_id"].tolist()
        ['b', 'a']
        >>> analyze("pricing", calls)
        Traceback (most recent call last):
        ...
        ValueError: analyze('pricing') needs customers=<frame of fees and tiers>
    """
    if name not in ANALYZERS:
        raise ValueError(f"name={name!r} is not one of {list(ANALYZERS)}")
    needs, fn = ANALYZERS[name]
    inputs = {"calls": calls, "customers": customers, "prices": prices}
    hints = {"customers": "<frame of fees and tiers>", "prices": "<price table frame>"}
    for k in needs:
        if inputs[k] is None:
            raise ValueError(f"analyze({name!r}) needs {k}={hints[k]}")
    if customers is not None and "customers" not in needs:
        options.setdefault("customers", customers)  # optional input (realtime: fees)
        if "customers" not in inspect.signature(fn).parameters:
            del options["customers"]
    return fn(*(inputs[k] for k in needs), **options)


def run_all(
    calls: pd.DataFrame, customers: pd.DataFrame, prices: pd.DataFrame
) -> dict[str, AnalysisResult]:
    """Run the eight analyzers with their defaults; results by name, in ``ANALYZERS`` order.

    The real-time analyzer uses its default budgets (1.5x each customer's first-week run-rate);
    pass ``budgets=`` to ``analyze("realtime", ...)`` for your own.

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
    "FlatSubscription",
    "OptimizationConfig",
    "RealtimeConfig",
    "Tiered",
    "analyze",
    "run_all",
]
