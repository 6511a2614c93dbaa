"""Usage-based revenue: revenue vs AI cost per customer, margin bands, unprofitable customers.

Revenue is each customer's subscription fee (``customers.monthly_fee_usd``) for the analysed
period, pro-rated from the day the customer signed up (``signup_day``, when present). AI cost is
the customer's fully loaded cost: its own calls plus a fair share of shared (non-production)
cost, allocated in proportion to direct cost (:func:`.alignment.chargeback`).

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-30"], utc=True),
    ...     "customer_id": ["a", "b"], "environment": ["production"] * 2, "cost_usd": [10.0, 80.0]})
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "monthly_fee_usd": [49.0, 49.0]})
    >>> r = analyze_profitability(calls, customers)
    >>> r.by_customer[["customer_id", "band"]].values.tolist()   # lowest margin first
    [['b', 'unprofitable'], ['a', 'strong']]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._alignment import _chargeback, _cube, _ledger, _slots
from ._base import (
    DAYS_PER_MONTH,
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    comparison_frame,
    period_days,
    require_columns,
    require_rows,
)

#: Margin bands: (name, lower bound of gross margin %, inclusive). Evaluated top-down.
DEFAULT_BANDS: tuple[tuple[str, float], ...] = (
    ("strong", 0.70),
    ("healthy", 0.40),
    ("thin", 0.0),
    ("unprofitable", -np.inf),
)


def margin_band(
    margin_pct: pd.Series, bands: Sequence[tuple[str, float]] = DEFAULT_BANDS
) -> pd.Series:
    """Name of the band each gross-margin fraction falls in.

    Example:
        >>> margin_band(pd.Series([0.9, 0.5, 0.1, -0.2])).tolist()
        ['strong', 'healthy', 'thin', 'unprofitable']
    """
    ordered = sorted(bands, key=lambda b: b[1], reverse=True)
    x = margin_pct.fillna(-np.inf).to_numpy()
    conds = [x >= lo for _, lo in ordered]
    names = [name for name, _ in ordered]
    return pd.Series(
        np.select(conds, names, default=names[-1]), index=margin_pct.index, name="band"
    )


def period_revenue(customers: pd.DataFrame, days: float) -> pd.Series:
    """Subscription revenue per customer over ``days`` (pro-rated from ``signup_day``).

    Example:
        >>> c = pd.DataFrame({"customer_id": ["a", "b"], "monthly_fee_usd": [30.0, 30.0],
        ...                   "signup_day": [0, 15]})
        >>> period_revenue(c, 30).tolist()
        [30.0, 15.0]
    """
    require_columns(customers, ["customer_id", "monthly_fee_usd"], who="period_revenue")
    active = np.full(len(customers), float(days))
    if "signup_day" in customers:
        active = np.clip(days - customers["signup_day"].to_numpy(dtype=float), 0.0, days)
    rev = customers["monthly_fee_usd"].to_numpy(dtype=float) * active / DAYS_PER_MONTH
    return pd.Series(rev, index=customers["customer_id"].astype(str), name="revenue_usd")


def customer_margins(
    calls: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    bands: Sequence[tuple[str, float]] = DEFAULT_BANDS,
) -> pd.DataFrame:
    """Revenue, fully loaded AI cost, gross margin and band per customer (lowest margin first).

    Customers with no calls keep their revenue at zero cost; customers with calls but no row in
    ``customers`` get revenue 0 and ``fee_on_record=False``.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01"], utc=True),
        ...                       "customer_id": ["a"], "cost_usd": [5.0]})
        >>> c = pd.DataFrame({"customer_id": ["a", "z"], "monthly_fee_usd": [10.0, 10.0]})
        >>> customer_margins(calls, c)["margin_usd"].round(3).tolist()
        [-4.667, 0.333]
    """
    return _margins(calls, customers, bands, period_days(calls))


def _margins(
    calls: pd.DataFrame,
    customers: pd.DataFrame,
    bands: Sequence[tuple[str, float]],
    days: float,
) -> pd.DataFrame:
    """:func:`customer_margins` over a period of ``days`` (measured once by the caller)."""
    require_columns(calls, ["customer_id", "cost_usd"], who="chargeback")
    revenue = period_revenue(customers, days)
    ledger = _ledger(calls)
    cube = _cube(ledger, [_slots(calls["customer_id"])])
    cb = _chargeback(cube, 0, ledger.total, "proportional")
    cb = cb.set_index("customer_id")
    ids = revenue.index.union(cb.index)
    out = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    out["revenue_usd"] = revenue.reindex(ids).fillna(0.0)
    out["direct_cost_usd"] = cb["showback_usd"].reindex(ids).fillna(0.0)
    out["ai_cost_usd"] = cb["chargeback_usd"].reindex(ids).fillna(0.0)
    out["calls"] = cb["calls"].reindex(ids).fillna(0).astype("int64")
    out["margin_usd"] = out["revenue_usd"] - out["ai_cost_usd"]
    out["margin_pct"] = out["margin_usd"] / out["revenue_usd"].where(out["revenue_usd"] > 0)
    out["band"] = margin_band(out["margin_pct"], bands)
    out["fee_on_record"] = out.index.isin(revenue.index)
    extra = [
        c for c in ("subscription_tier", "archetype", "organization_id") if c in customers.columns
    ]
    if extra:
        meta = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index(
            "customer_id"
        )[extra]
        out = out.join(meta)
    return out.sort_values("margin_pct", na_position="first").reset_index()


@dataclass
class ProfitabilityResult(AnalysisResult):
    """Per-customer margins, band and segment summaries."""

    by_customer: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_band: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: pd.DataFrame = field(default_factory=pd.DataFrame)


def _summary(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    out = frame.groupby(key, observed=True).agg(
        customers=("customer_id", "size"),
        revenue_usd=("revenue_usd", "sum"),
        ai_cost_usd=("ai_cost_usd", "sum"),
        margin_usd=("margin_usd", "sum"),
    )
    out["margin_pct"] = out["margin_usd"] / out["revenue_usd"].where(out["revenue_usd"] > 0)
    return out.reset_index()


def analyze_profitability(
    calls: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    bands: Sequence[tuple[str, float]] = DEFAULT_BANDS,
    segment: str = "subscription_tier",
) -> ProfitabilityResult:
    """Per-customer gross margin (subscription revenue - AI cost), bands, losers, by segment.

    All money figures of the tables cover the analysed period; headline figures are monthly.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-30"],
        ...     utc=True), "customer_id": ["a", "b"], "cost_usd": [10.0, 80.0]})
        >>> c = pd.DataFrame({"customer_id": ["a", "b"], "monthly_fee_usd": [49.0, 49.0]})
        >>> analyze_profitability(calls, c).metric("Unprofitable customers").value
        1.0
    """
    who = "analyze_profitability"
    require_columns(calls, ["timestamp", "customer_id", "cost_usd"], who=who)
    require_rows(calls, who=who)
    days = period_days(calls)  # a pass over the timestamps: once
    table = _margins(calls, customers, bands, days)
    factor = DAYS_PER_MONTH / days
    by_band = _summary(table, "band")
    order = {name: i for i, (name, _) in enumerate(sorted(bands, key=lambda b: -b[1]))}
    by_band = by_band.sort_values("band", key=lambda s: s.map(order)).reset_index(drop=True)
    seg = segment if segment in table.columns else "band"
    by_segment = _summary(table, seg)

    revenue = float(table["revenue_usd"].sum())
    cost = float(table["ai_cost_usd"].sum())
    blended = (revenue - cost) / revenue if revenue else float("nan")
    losers = table[table["margin_usd"] < 0]
    loss = float(-losers["margin_usd"].sum())
    worst = table.iloc[0]
    headline = [
        Metric("Monthly revenue", revenue * factor, "usd"),
        Metric("Monthly AI cost", cost * factor, "usd"),
        Metric("Blended gross margin", blended, "pct"),
        Metric("Unprofitable customers", float(len(losers)), "count"),
        Metric("Monthly loss on unprofitable customers", loss * factor, "usd"),
    ]
    findings = [
        f"Blended gross margin is {blended:.1%}, yet {len(losers)} of {len(table)} customers "
        f"cost more in AI than they pay (${loss * factor:,.2f}/month lost on them).",
        f"Lowest margin: {worst['customer_id']} ({worst['margin_pct']:.0%}; revenue "
        f"${worst['revenue_usd'] * factor:,.2f}/month vs AI cost "
        f"${worst['ai_cost_usd'] * factor:,.2f}/month).",
    ]
    for r in by_segment.itertuples(index=False):
        findings.append(
            f"{seg}={getattr(r, seg)}: margin {r.margin_pct:.1%} over {r.customers} customers."
        )
    comparison = comparison_frame(
        [
            ("Margin known", "blended only", "per customer", "text"),
            ("Blended gross margin", blended, blended, "pct"),
            ("Unprofitable customers identified", 0.0, float(len(losers)), "count"),
            ("Monthly loss hidden in the average", loss * factor, 0.0, "usd"),
        ]
    )
    value = ReveniumValue(
        metadata=("customer_id", "subscription_tier", "cost_usd", "environment"),
        enables="AI cost per paying customer next to that customer's revenue, so margin is "
        "known per customer, tier and archetype",
        without="divide total AI cost by the number of customers (everyone looks equally "
        "profitable) or sample logs by hand for a few large accounts",
    )
    story = Story(
        problem=f"The business earns a {blended:.0%} blended gross margin on AI features, but "
        "flat subscriptions hide heavy users whose AI cost exceeds what they pay.",
        solution="With customer_id on every metered call, AI cost is summed per customer and "
        "set against the customer's subscription revenue; margins are banded and the "
        "unprofitable accounts named.",
        steps=(
            Step(
                "Tag the paying customer",
                "Send customer_id (and tier) with every call.",
                "tracker.track(..., customer_id='cust_0042', subscription_tier='pro')",
            ),
            Step(
                "Join revenue",
                "Bring the billing system's fees per customer.",
                "result = analyze('profitability', calls, customers=customers)",
            ),
            Step(
                "Act on the losers",
                "Review pricing or limits for the unprofitable band.",
                "result.by_customer.query(\"band == 'unprofitable'\")",
            ),
        ),
    )
    return build_result(
        ProfitabilityResult,
        name="profitability",
        title="Customer profitability",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"by_customer": table, "by_band": by_band, "by_segment": by_segment},
        revenium_value=value,
        story=story,
        parameters={
            "bands": tuple(bands),
            "segment": seg,
            "revenue": "monthly_fee_usd pro-rated to the period",
            "cost": "direct + proportional share of non-production cost",
        },
    )
