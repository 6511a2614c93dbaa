"""Usage-based revenue: cost, revenue and return per feature.

Features do not have prices; customers pay a subscription. **Revenue attribution rule**
(documented, a parameter): each customer's subscription revenue for the period is split across
the features that customer used, in proportion to the customer's production ``calls`` per
feature (``rule="calls"``, default: a request is what the customer experiences), or its
``tokens`` or ``cost`` (``cost`` makes every feature of a customer equally profitable, so it
hides differences), or ``even`` across the features used. Revenue of customers with no calls is
left unattributed. AI cost per feature is fully loaded: production cost plus a proportional
share of non-production cost (:mod:`.alignment`).

Return on a feature = (attributed revenue - AI cost) / AI cost.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-30", "2026-01-30"], utc=True),
    ...     "customer_id": ["a", "a", "a"], "feature_id": ["f", "f", "g"],
    ...     "cost_usd": [1.0, 1.0, 4.0]})
    >>> customers = pd.DataFrame({"customer_id": ["a"], "monthly_fee_usd": [30.0]})
    >>> t = feature_returns(calls, customers)
    >>> t[["feature_id", "revenue_usd"]].values.tolist()     # lowest return first
    [['g', 10.0], ['f', 20.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ._alignment import _chargeback, _Cube, _cube, _Ledger, _ledger, _Slots, _slots
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
from ._profitability import period_revenue

Attribution = Literal["calls", "tokens", "cost", "even"]
#: The attribution rules ``Attribution`` allows, for messages.
ATTRIBUTION_RULES: tuple[str, ...] = ("calls", "tokens", "cost", "even")


def attribute_revenue(
    calls: pd.DataFrame, revenue: pd.Series, *, rule: Attribution = "calls"
) -> pd.Series:
    """Split each customer's ``revenue`` across its features by ``rule``; revenue per feature.

    Example:
        >>> calls = pd.DataFrame({"customer_id": ["a", "a", "b"], "feature_id": ["f", "g", "g"],
        ...                       "cost_usd": [1.0, 1.0, 1.0]})
        >>> attribute_revenue(calls, pd.Series({"a": 10.0, "b": 6.0}), rule="even").to_dict()
        {'f': 5.0, 'g': 11.0}
    """
    if rule not in ATTRIBUTION_RULES:
        raise ValueError(f"rule={rule!r} is not one of {', '.join(ATTRIBUTION_RULES)}")
    return _attribute(_Usage.of(calls, _ledger(calls), rule), revenue, rule)


@dataclass(frozen=True)
class _Usage:
    """Calls per (customer, feature, production or not) slot cell, from one key per call:
    their cost, how many, and the weight the attribution ``rule`` reads (np.bincount sums in
    call order, as the group-by over the production calls did)."""

    cube: _Cube
    weights: np.ndarray

    @classmethod
    def of(cls, calls: pd.DataFrame, ledger: _Ledger, rule: str) -> _Usage:
        """The cell table of ``calls`` (``ledger``: its cost and non-production calls)."""
        slots = [_slots(calls["customer_id"]), _slots(calls["feature_id"])]
        tokens = None
        if rule == "tokens":
            tokens = (calls["input_tokens"] + calls["output_tokens"]).to_numpy(dtype=float)
        cube = _cube(ledger, slots, tokens)
        if rule == "tokens":
            weights = cube.extra[:, :, 0]
        elif rule == "cost":
            weights = cube.cost[:, :, 0]
        else:
            weights = cube.calls[:, :, 0].astype(float)
        return cls(cube, weights)

    @property
    def customers(self) -> _Slots:
        return self.cube.slots[0]

    @property
    def features(self) -> _Slots:
        return self.cube.slots[1]

    @property
    def counts(self) -> np.ndarray:
        """Production calls per (customer slot, feature slot)."""
        return self.cube.calls[:, :, 0]

    def by_label(self, table: np.ndarray, *, known_customers: bool = False) -> tuple:
        """``table`` (per slot pair) summed per (customer label, feature label): (table,
        customer labels, feature labels); ``known_customers`` leaves missing customers out."""
        c_code, c_labels = self.customers.labels()
        f_code, f_labels = self.features.labels()
        keep = ~self.customers.missing if known_customers else np.ones(len(c_code), bool)
        out = np.zeros((len(c_labels), len(f_labels)), dtype=table.dtype)
        np.add.at(out, (c_code[keep][:, None], f_code[None, :]), table[keep])
        return out, c_labels, f_labels


def _attribute(usage: _Usage, revenue: pd.Series, rule: str) -> pd.Series:
    """:func:`attribute_revenue` from the pair table."""
    counts, c_labels, f_labels = usage.by_label(usage.counts)
    weights, _, _ = usage.by_label(usage.weights)
    seen = np.flatnonzero(counts.reshape(-1) > 0)  # pairs in code order = sorted by labels
    sums = weights.reshape(-1)[seen]
    index = pd.MultiIndex.from_arrays(
        [c_labels[seen // len(f_labels)], f_labels[seen % len(f_labels)]],
        names=["customer_id", "feature_id"],
    )
    per = pd.Series(sums, index=index, name="w")
    if rule == "even":
        per = per.gt(0).astype(float)
    share = per / per.groupby(level="customer_id").transform("sum")
    rev = share * share.index.get_level_values("customer_id").map(revenue).fillna(0.0).to_numpy()
    return rev.groupby(level="feature_id").sum().rename("revenue_usd")


#: Calls searched first for the first call of each feature: a day of traffic usually shows
#: every feature, so the rest of the calls is searched only for the features not seen yet.
_HEAD = 65_536


def _first_rows(slots: _Slots, used: np.ndarray) -> np.ndarray:
    """Row of the first call in each slot (``len(calls)``: no call); ``used``: the slots
    with calls (the others are not searched for)."""
    total, n = len(slots.base), len(slots.text)
    first = np.full(n, total, dtype=np.int64)
    head = slots.base[:_HEAD].astype(np.intp) + slots.offset
    uniq, at = np.unique(head, return_index=True)
    first[uniq] = at
    wanted = (first == total) & used
    if wanted.any() and total > len(head):
        by_base = np.roll(wanted, -slots.offset)  # indexed by base (-1: the last entry)
        rows = len(head) + np.flatnonzero(by_base[slots.base[len(head) :]])
        np.minimum.at(first, slots.base[rows].astype(np.intp) + slots.offset, rows)
    return first


def feature_returns(
    calls: pd.DataFrame, customers: pd.DataFrame, *, rule: Attribution = "calls"
) -> pd.DataFrame:
    """Per feature: calls, customers, AI cost (loaded), attributed revenue, margin and return.

    Sorted by return, lowest first (the features to look at).

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01"], utc=True),
        ...     "customer_id": ["a"], "feature_id": ["f"], "cost_usd": [2.0]})
        >>> c = pd.DataFrame({"customer_id": ["a"], "monthly_fee_usd": [30.0]})
        >>> feature_returns(calls, c)["roi"].round(2).tolist()
        [-0.5]
    """
    require_columns(
        calls, ["timestamp", "customer_id", "feature_id", "cost_usd"], who="feature_returns"
    )
    return _feature_returns(calls, customers, rule, period_days(calls))


def _feature_returns(
    calls: pd.DataFrame, customers: pd.DataFrame, rule: Attribution, days: float
) -> pd.DataFrame:
    """:func:`feature_returns` over a period of ``days`` (measured once by the caller)."""
    revenue = period_revenue(customers, days)
    if rule not in ATTRIBUTION_RULES:
        raise ValueError(f"rule={rule!r} is not one of {', '.join(ATTRIBUTION_RULES)}")
    ledger = _ledger(calls)  # cost and non-production calls, shared by every table below
    usage = _Usage.of(calls, ledger, rule)  # one key per call for every table below
    attributed = _attribute(usage, revenue, rule)
    cb = _chargeback(usage.cube, 1, ledger.total, "proportional").set_index("feature_id")
    out = cb[["calls", "showback_usd", "chargeback_usd"]].rename(
        columns={"showback_usd": "direct_cost_usd", "chargeback_usd": "ai_cost_usd"}
    )
    # customers with production calls per feature (missing ids left out, as nunique does)
    pairs, _, f_labels = usage.by_label(usage.counts, known_customers=True)
    users = pd.Series((pairs > 0).sum(axis=0), dtype="int64")
    users.index = pd.Index(f_labels, dtype=object)
    users = users[users > 0]  # features with direct calls only, as the group-by gave
    out["customers"] = users.reindex(out.index).fillna(0).astype("int64")
    out["revenue_usd"] = attributed.reindex(out.index).fillna(0.0)
    out["margin_usd"] = out["revenue_usd"] - out["ai_cost_usd"]
    out["roi"] = out["margin_usd"] / out["ai_cost_usd"].where(out["ai_cost_usd"] > 0)
    out["revenue_per_call"] = out["revenue_usd"] / out["calls"]
    out["cost_per_call"] = out["ai_cost_usd"] / out["calls"]
    if "product_id" in calls:
        total = len(calls)
        f_code, _ = usage.features.labels()
        used = usage.cube.calls.sum(axis=(0, 2)) > 0  # feature slots with calls
        first = np.full(len(f_labels), total, dtype=np.int64)
        np.minimum.at(first, f_code, _first_rows(usage.features, used))  # per feature label
        present = np.flatnonzero(first < total)
        prod = calls["product_id"].iloc[first[present]]
        prod = prod.set_axis(pd.Index(f_labels[present], dtype=object))
        out.insert(0, "product_id", prod.reindex(out.index).astype(str))
    out.index.name = "feature_id"
    return out.sort_values("roi").reset_index()


@dataclass
class FeaturesResult(AnalysisResult):
    """Per-feature returns and the attribution rule used."""

    by_feature: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_product: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule: str = "calls"


def analyze_features(
    calls: pd.DataFrame, customers: pd.DataFrame, *, rule: Attribution = "calls"
) -> FeaturesResult:
    """Cost, attributed revenue and return per feature (and per product).

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-30"],
        ...     utc=True), "customer_id": ["a", "a"], "feature_id": ["f", "g"],
        ...     "cost_usd": [1.0, 20.0]})
        >>> c = pd.DataFrame({"customer_id": ["a"], "monthly_fee_usd": [30.0]})
        >>> analyze_features(calls, c).metric("Features losing money").value
        1.0
    """
    who = "analyze_features"
    require_columns(calls, ["timestamp", "customer_id", "feature_id", "cost_usd"], who=who)
    require_rows(calls, who=who)
    days = period_days(calls)  # a pass over the timestamps: once
    table = _feature_returns(calls, customers, rule, days)
    factor = DAYS_PER_MONTH / days
    by_product = pd.DataFrame()
    if "product_id" in table:
        by_product = table.groupby("product_id")[
            ["calls", "ai_cost_usd", "revenue_usd", "margin_usd"]
        ].sum()
        by_product["roi"] = by_product["margin_usd"] / by_product["ai_cost_usd"]
        by_product = by_product.sort_values("roi").reset_index()
    losing = table[table["margin_usd"] < 0]
    best, worst = table.iloc[-1], table.iloc[0]
    spread = float(best["roi"] / worst["roi"]) if worst["roi"] > 0 else float("nan")
    headline = [
        Metric("Features", float(len(table)), "count"),
        Metric(
            "Features losing money", float(len(losing)), "count", f"revenue attributed by {rule}"
        ),
        Metric("Best return", float(best["roi"]), "ratio", str(best["feature_id"])),
        Metric("Worst return", float(worst["roi"]), "ratio", str(worst["feature_id"])),
        Metric("Monthly AI cost of the worst feature", float(worst["ai_cost_usd"]) * factor, "usd"),
    ]
    findings = [
        f"{best['feature_id']} returns {best['roi']:,.1f}x its AI cost; {worst['feature_id']} "
        f"returns {worst['roi']:,.1f}x (revenue attributed by {rule}).",
        f"{worst['feature_id']} costs ${worst['cost_per_call']:.4f} per call and earns "
        f"${worst['revenue_per_call']:.4f} per call.",
    ]
    if len(losing):
        findings.append(
            f"{len(losing)} feature(s) cost more than the revenue attributed to "
            f"them: {', '.join(losing['feature_id'].astype(str))}."
        )
    if not np.isnan(spread):
        findings.append(f"The best feature's return is {spread:,.1f}x the worst's.")
    comparison = comparison_frame(
        [
            ("AI cost per feature", "one invoice", float(len(table)), "count"),
            ("Features losing money, identified", "unknown", float(len(losing)), "count"),
            (
                "Worst feature's monthly AI cost",
                "unknown",
                float(worst["ai_cost_usd"]) * factor,
                "usd",
            ),
        ]
    )
    value = ReveniumValue(
        metadata=("feature_id", "product_id", "customer_id", "cost_usd", "environment"),
        enables="AI cost per feature joined to the revenue of the customers who use it, so "
        "each feature's return is measured instead of argued",
        without="instrument each feature separately or estimate its share of the bill from "
        "traffic logs, with no link to the customers who pay for it",
    )
    story = Story(
        problem="Every feature calls AI models, but the roadmap is decided without knowing "
        "which features earn more than they cost.",
        solution="feature_id on each metered call gives AI cost per feature; customer_id links "
        f"it to subscription revenue, attributed to features by {rule}.",
        steps=(
            Step(
                "Tag the feature",
                "Send feature_id and product_id with every call.",
                "tracker.track(..., product_id='doc_studio', feature_id='doc_summary')",
            ),
            Step(
                "Attribute revenue",
                "Pick and state the rule (calls, tokens, cost or even).",
                "result = analyze('features', calls, customers=customers, rule='calls')",
            ),
            Step(
                "Review the bottom of the list",
                "Re-price, right-size or limit them.",
                "result.by_feature.head()",
            ),
        ),
    )
    return build_result(
        FeaturesResult,
        name="features",
        title="Feature economics",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"by_feature": table, "by_product": by_product},
        revenium_value=value,
        story=story,
        parameters={"attribution_rule": rule},
        rule=rule,
    )
