"""FinOps "understand usage and cost": allocation by any dimension, unit costs, trend, forecast.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
    ...     "customer_id": ["a", "b"], "model": ["gpt-4", "gpt-4"],
    ...     "input_tokens": [1000, 3000], "output_tokens": [0, 0], "cost_usd": [1.0, 3.0]})
    >>> r = analyze_understanding(calls, dimensions=("customer_id",))
    >>> r.allocation["customer_id"]["cost_usd"].tolist()
    [3.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from showcase_lib.analysis import _timeseries as ts

from ._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    comparison_frame,
    monthly_factor,
    require_columns,
    require_rows,
    safe_div,
)
from ._keys import first_seen, id_codes, missing_codes

#: Dimensions cost is allocated along: who owns it (organisation, product, feature), who
#: caused it (customer) and what it ran on (model, provider).
DEFAULT_DIMENSIONS: tuple[str, ...] = (
    "organization_id",
    "product_id",
    "feature_id",
    "customer_id",
    "model",
    "provider",
)

UNTAGGED = "(untagged)"


@dataclass
class UnderstandingResult(AnalysisResult):
    """Allocation tables per dimension, unit costs, the daily trend and a forecast."""

    allocation: dict[str, pd.DataFrame] = field(default_factory=dict)
    unit_costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)


def allocate(calls: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Cost, calls, tokens and share of total cost per value of ``dimension``, largest first.

    Missing values are kept as ``(untagged)`` so the table always sums to the total.

    Example:
        >>> df = pd.DataFrame({"product_id": ["p", None], "cost_usd": [3.0, 1.0],
        ...                    "input_tokens": [1, 1], "output_tokens": [1, 1]})
        >>> allocate(df, "product_id")["share"].tolist()
        [0.75, 0.25]
    """
    require_columns(calls, [dimension, "cost_usd"], who="allocate")
    return _allocate(calls, dimension, _tokens(calls))


def _tokens(calls: pd.DataFrame) -> np.ndarray:
    return calls["input_tokens"].to_numpy() + calls["output_tokens"].to_numpy()


def _allocate(calls: pd.DataFrame, dimension: str, tokens: np.ndarray) -> pd.DataFrame:
    """:func:`allocate` with the tokens per call given (computed once for every dimension)."""
    codes, labels = missing_codes(calls[dimension], UNTAGGED)
    n = len(labels)
    order = first_seen(codes, n)  # what groupby(sort=False) on the text lists
    out = pd.DataFrame(
        {
            "cost_usd": np.bincount(codes, weights=calls["cost_usd"].to_numpy(), minlength=n),
            "calls": np.bincount(codes, minlength=n),
            # integer sums below 2**53 are exact in float64
            "tokens": np.bincount(codes, weights=tokens, minlength=n).astype(tokens.dtype),
        }
    ).iloc[order]
    out.index = pd.Index(labels[order], dtype=object, name=dimension)
    total = float(out["cost_usd"].sum())
    out["share"] = out["cost_usd"] / total if total else 0.0
    out["cost_per_call"] = out["cost_usd"] / out["calls"]
    out["cost_per_1k_tokens"] = safe_div(out["cost_usd"] * 1000.0, out["tokens"].astype(float))
    return out.sort_values("cost_usd", ascending=False).reset_index()


def cost_forecast(daily: pd.Series, horizon_days: int = 30, *, level: float = 0.9) -> pd.DataFrame:
    """Forecast a daily cost series with Part B's ETS model (``timeseries.forecast``).

    Returns ``forecast, lower, upper`` per future day, floored at zero. With fewer than 7 days
    of history the forecast is the flat mean (an ETS fit needs more points).

    Example:
        >>> s = pd.Series([2.0, 2.0], index=pd.date_range("2026-01-01", periods=2, tz="UTC"))
        >>> cost_forecast(s, 3)["forecast"].tolist()
        [2.0, 2.0, 2.0]
    """
    idx = pd.date_range(
        pd.DatetimeIndex(daily.index)[-1] + pd.Timedelta(days=1),
        periods=horizon_days,
        freq="D",
        name="period",
    )
    if len(daily) < 7:
        flat = np.full(horizon_days, float(daily.mean()) if len(daily) else 0.0)
        return pd.DataFrame({"forecast": flat, "lower": flat, "upper": flat}, index=idx)
    fc = ts.forecast(daily, horizon_days, seasonal_periods=7, level=level)
    out = fc.rename(columns={"mean": "forecast"}).clip(lower=0.0)
    return out[["forecast", "lower", "upper"]]


def _unit_costs(calls: pd.DataFrame, factor: float) -> pd.DataFrame:
    total = float(calls["cost_usd"].sum())
    tokens = float(calls["input_tokens"].sum() + calls["output_tokens"].sum())
    rows = [
        ("cost per call", total / len(calls), "usd"),
        ("cost per 1K tokens", total * 1000.0 / tokens if tokens else float("nan"), "usd"),
    ]
    if "customer_id" in calls:
        n_customers = calls["customer_id"].nunique()
        rows.append(
            (
                "cost per customer per month",
                total * factor / n_customers if n_customers else float("nan"),
                "usd",
            )
        )
    if "session_id" in calls:
        sessions = calls["session_id"]
        n_sessions = (
            id_codes(sessions)[1]  # shared with the optimization analyzer's session coding
            if isinstance(sessions.array, pd.arrays.ArrowStringArray)
            else sessions.nunique()
        )
        rows.append(("cost per session", total / n_sessions if n_sessions else float("nan"), "usd"))
    return pd.DataFrame(rows, columns=["unit", "value", "unit_of_value"])


def analyze_understanding(
    calls: pd.DataFrame, *, dimensions: Sequence[str] = DEFAULT_DIMENSIONS, horizon_days: int = 30
) -> UnderstandingResult:
    """Allocate cost by each dimension, compute unit costs, the daily trend and a forecast.

    Dimensions absent from ``calls`` are skipped. The trend is Part B's OLS line
    (``timeseries.trend(...).attrs["fit"]``) and the forecast its exponential smoothing
    (:func:`cost_forecast`).

    Example:
        >>> calls = pd.DataFrame({
        ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        ...     "customer_id": ["a", "a"], "input_tokens": [500, 500], "output_tokens": [0, 0],
        ...     "cost_usd": [1.0, 1.0]})
        >>> analyze_understanding(calls).metric("Cost per 1K tokens").value
        2.0
    """
    who = "analyze_understanding"
    require_columns(calls, ["timestamp", "cost_usd", "input_tokens", "output_tokens"], who=who)
    require_rows(calls, who=who)
    factor = monthly_factor(calls)
    dims = [d for d in dimensions if d in calls.columns]
    tokens = _tokens(calls)
    allocation = {d: _allocate(calls, d, tokens) for d in dims}
    units = _unit_costs(calls, factor)
    daily = ts.daily(calls)
    forecast = cost_forecast(daily["cost_usd"], horizon_days)
    growth = ts.linear_trend(daily["cost_usd"]).pct_per_day if len(daily) >= 3 else float("nan")

    total = float(calls["cost_usd"].sum())
    tagged_share = {
        d: float(1.0 - t.loc[t[d] == UNTAGGED, "share"].sum()) for d, t in allocation.items()
    }
    top_dim = "customer_id" if "customer_id" in allocation else (dims[0] if dims else None)
    top_row = allocation[top_dim].iloc[0] if top_dim else None
    next_month = float(forecast["forecast"].sum())
    unit = units.set_index("unit")["value"]
    n_providers = calls["provider"].nunique() if "provider" in calls else 1

    headline = [
        Metric("Total AI cost", total, "usd", "over the analysed period"),
        Metric("Monthly run-rate", total * factor, "usd", "period total scaled to 30 days"),
        Metric("Cost per call", float(unit["cost per call"]), "usd"),
        Metric("Cost per 1K tokens", float(unit["cost per 1K tokens"]), "usd"),
        Metric(
            f"Forecast next {horizon_days} days",
            next_month,
            "usd",
            "exponential smoothing (Part B)",
        ),
        Metric("Trend per day", growth, "pct", "OLS slope / mean daily cost"),
    ]
    if "cost per customer per month" in unit:
        headline.append(
            Metric("Cost per customer per month", float(unit["cost per customer per month"]), "usd")
        )
    findings = []
    if top_row is not None:
        findings.append(
            f"The largest {top_dim} ({top_row[top_dim]}) accounts for "
            f"{top_row['share']:.1%} of AI cost."
        )
    for d, t in allocation.items():
        findings.append(f"{d}: {len(t)} values, {tagged_share[d]:.1%} of cost tagged.")
    findings.append(
        f"Forecast for the next {horizon_days} days: "
        f"${next_month:,.2f} (period run-rate ${total * factor:,.2f}/month)."
    )

    comparison = comparison_frame(
        [
            (
                "Invoice lines to explain the bill",
                n_providers,
                sum(len(t) for t in allocation.values()),
                "count",
            ),
            (
                "Share of cost allocated to a customer",
                0.0,
                tagged_share.get("customer_id", float("nan")),
                "pct",
            ),
            (
                "Cost per customer per month",
                "unknown",
                float(unit.get("cost per customer per month", float("nan"))),
                "usd",
            ),
            ("Next month's cost", "last invoice", next_month, "usd"),
        ]
    )
    value = ReveniumValue(
        metadata=(
            "customer_id",
            "organization_id",
            "product_id",
            "feature_id",
            "model",
            "provider",
            "input_tokens",
            "output_tokens",
            "timestamp",
        ),
        enables="cost per customer, product, feature and model, unit costs and a daily trend "
        "from one metered stream",
        without="split each provider's monthly invoice by hand, join application logs to "
        "guess who made which call, and see the trend only when the next invoice lands",
    )
    story = Story(
        problem=f"AI spend is ${total * factor:,.0f}/month across {n_providers} provider(s), but "
        "each invoice is one line: nobody can say which customer, product or feature "
        "drives it, nor what a call or a customer costs.",
        solution="Tag every call with customer, organization, product and feature; Revenium "
        "prices it on arrival, so cost can be grouped by any dimension, divided into "
        "unit costs and trended daily.",
        steps=(
            Step(
                "Tag each call",
                "Send the attribution fields with every metered call.",
                "tracker.track(provider='openai', model='gpt-4o', input_tokens=812,\n"
                "              output_tokens=240, customer_id='cust_0042',\n"
                "              organization_id='org_007', product_id='assistant',\n"
                "              feature_id='chat')",
            ),
            Step(
                "Allocate and trend",
                "Run the analyzer on the metered records.",
                "from showcase_lib.analysis.analyzers import analyze\n"
                "result = analyze('understanding', calls)\n"
                "result.allocation['customer_id'].head()",
            ),
            Step(
                "Watch the forecast",
                "Compare the forecast with the budget every day.",
                "result.forecast['forecast'].sum()",
            ),
        ),
    )
    return build_result(
        UnderstandingResult,
        name="understanding",
        title="Understand AI usage and cost",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={
            "unit_costs": units,
            "daily": daily.reset_index(),
            **{f"by_{d}": t for d, t in allocation.items()},
        },
        revenium_value=value,
        story=story,
        parameters={"dimensions": tuple(dims), "horizon_days": horizon_days},
        allocation=allocation,
        daily=daily,
        forecast=forecast,
    )
