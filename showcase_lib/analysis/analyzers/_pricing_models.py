"""Usage-based revenue: pricing models replayed on historical usage (revenue, margin, who wins).

Usage is billed per customer per 30-day **billing cycle** counted from the first day of the
data. The billed quantity is production tokens in thousands (``ktok``); the cost is the
customer's production AI cost grossed up by the fleet's shared (non-production) cost ratio, the
same proportional fair-share rule as :mod:`.alignment`. Five models (Lago / Orb / Stripe
taxonomy), each a small dataclass whose parameters are explicit:

* :class:`FlatSubscription` -- fixed fee per tier, usage ignored (today's plan);
* :class:`UsageBased` -- ktok x unit price (pay as you go);
* :class:`Tiered` -- graduated: each ktok priced by the tier it falls in;
* :class:`Hybrid` -- base fee with an allowance of ktok, overage per ktok;
* :class:`CostPlus` -- provider cost x (1 + markup).

:func:`default_models` derives every price from one measured number (the blended AI cost per
1K tokens) and stated multipliers, so the models scale with the data instead of being typed in.

Example:
    >>> import numpy as np, pandas as pd
    >>> usage = pd.DataFrame({"ktok": [100.0, 2000.0], "cost_usd": [1.0, 20.0],
    ...                       "subscription_tier": ["pro", "pro"], "months": [1.0, 1.0]})
    >>> Tiered(tiers=((1000.0, 0.02), (np.inf, 0.01))).bill(usage).tolist()
    [2.0, 30.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._alignment import _Ledger, _ledger, _slots
from ._base import (
    DAYS_PER_MONTH,
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

#: Length of a billing cycle in days (fees and allowances are per 30-day month).
CYCLE_DAYS = 30


def round_price(x: float, digits: int = 2) -> float:
    """Round to ``digits`` significant digits (list prices look like 0.021, not 0.0213749).

    Example:
        >>> round_price(0.0213749), round_price(1234.5)
        (0.021, 1200.0)
    """
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, -math.floor(math.log10(abs(x))) + digits - 1))


# --------------------------------------------------------------------------- the models
def _tier_values(usage: pd.DataFrame, mapping: Mapping[str, float], what: str) -> np.ndarray:
    tiers = usage["subscription_tier"].astype(str)
    missing = sorted(set(tiers) - set(mapping))
    if missing:
        raise ValueError(
            f"{what} has no value for subscription_tier={missing[0]!r} "
            f"(has {', '.join(map(str, mapping))})"
        )
    return tiers.map(mapping).to_numpy(dtype=float)


@dataclass(frozen=True)
class FlatSubscription:
    """Fixed fee per subscription tier and month; usage ignored.

    Example:
        >>> FlatSubscription(fees={"pro": 49.0}).describe()
        'fee per month: pro $49'
    """

    fees: Mapping[str, float]
    name: str = "flat subscription"

    @classmethod
    def from_customers(cls, customers: pd.DataFrame) -> FlatSubscription:
        """Today's flat plan: the monthly fee per tier as recorded in the customer table.

        Example:
            >>> FlatSubscription.from_customers(pd.DataFrame({"subscription_tier": ["pro"],
            ...     "monthly_fee_usd": [149.0]})).fees
            {'pro': 149.0}
        """
        return cls(current_fees(customers))

    def bill(self, usage: pd.DataFrame) -> np.ndarray:
        """Revenue per usage row (fee x active months)."""
        return _tier_values(usage, self.fees, "fees") * usage["months"].to_numpy(dtype=float)

    def describe(self) -> str:
        """Parameters in one line."""
        return "fee per month: " + ", ".join(f"{k} ${v:,.0f}" for k, v in self.fees.items())


@dataclass(frozen=True)
class UsageBased:
    """Pure pay-as-you-go: ktok x ``price_per_ktok``.

    Example:
        >>> UsageBased(price_per_ktok=0.02).name
        'usage-based'
    """

    price_per_ktok: float
    name: str = "usage-based"

    def bill(self, usage: pd.DataFrame) -> np.ndarray:
        """Revenue per usage row."""
        return usage["ktok"].to_numpy(dtype=float) * self.price_per_ktok

    def describe(self) -> str:
        """Parameters in one line."""
        return f"${self.price_per_ktok:g} per 1K tokens"


@dataclass(frozen=True)
class Tiered:
    """Graduated tiers: ``tiers`` = ((up_to_ktok, price_per_ktok), ...), last up_to = inf.

    Each ktok of a cycle is priced by the tier it falls in (not the whole quantity at the tier
    the total reaches: that would be *volume* pricing). ``base_fee`` is charged per month.

    Example:
        >>> t = Tiered(tiers=((1000.0, 0.02), (float("inf"), 0.01)), base_fee=49.0)
        >>> t.name
        'tiered (graduated)'
    """

    tiers: tuple[tuple[float, float], ...]
    base_fee: float = 0.0
    name: str = "tiered (graduated)"

    def __post_init__(self) -> None:
        bounds = [b for b, _ in self.tiers]
        if not self.tiers or bounds != sorted(bounds) or not math.isinf(bounds[-1]):
            raise ValueError(f"tiers={self.tiers!r} must have increasing bounds ending in inf")

    def bill(self, usage: pd.DataFrame) -> np.ndarray:
        """Revenue per usage row."""
        q = usage["ktok"].to_numpy(dtype=float)
        total = self.base_fee * usage["months"].to_numpy(dtype=float)
        lower = 0.0
        for upper, unit_price in self.tiers:
            total = total + unit_price * np.clip(q - lower, 0.0, upper - lower)
            lower = upper
        return total

    def describe(self) -> str:
        """Parameters in one line."""
        parts, lower = [], 0.0
        for upper, p in self.tiers:
            span = f"{lower:,.0f}+" if math.isinf(upper) else f"{lower:,.0f}-{upper:,.0f}"
            parts.append(f"{span} ktok at ${p:g}")
            lower = upper
        fee = f"${self.base_fee:,.0f}/month + " if self.base_fee else ""
        return fee + "; ".join(parts)


@dataclass(frozen=True)
class Hybrid:
    """Base fee per tier including an allowance of ktok; overage per ktok above it.

    Example:
        >>> Hybrid(base_fees={"pro": 49.0}, allowances_ktok={"pro": 2000.0},
        ...        overage_per_ktok=0.03).name
        'hybrid (base + overage)'
    """

    base_fees: Mapping[str, float]
    allowances_ktok: Mapping[str, float]
    overage_per_ktok: float
    name: str = "hybrid (base + overage)"

    def bill(self, usage: pd.DataFrame) -> np.ndarray:
        """Revenue per usage row (fee and allowance pro-rated by active months)."""
        months = usage["months"].to_numpy(dtype=float)
        fee = _tier_values(usage, self.base_fees, "base_fees") * months
        allow = _tier_values(usage, self.allowances_ktok, "allowances_ktok") * months
        over = np.clip(usage["ktok"].to_numpy(dtype=float) - allow, 0.0, None)
        return fee + over * self.overage_per_ktok

    def describe(self) -> str:
        """Parameters in one line."""
        tiers = ", ".join(
            f"{k} ${self.base_fees[k]:,.0f} incl. {self.allowances_ktok[k]:,.0f} ktok"
            for k in self.base_fees
        )
        return f"{tiers}; overage ${self.overage_per_ktok:g} per 1K tokens"


@dataclass(frozen=True)
class CostPlus:
    """Pass-through: AI cost x (1 + ``markup``).

    Example:
        >>> CostPlus(markup=2.0).name
        'cost-plus'
    """

    markup: float
    name: str = "cost-plus"

    def bill(self, usage: pd.DataFrame) -> np.ndarray:
        """Revenue per usage row."""
        return usage["cost_usd"].to_numpy(dtype=float) * (1.0 + self.markup)

    def describe(self) -> str:
        """Parameters in one line."""
        return f"AI cost + {self.markup:.0%}"


PricingModel = FlatSubscription | UsageBased | Tiered | Hybrid | CostPlus


# --------------------------------------------------------------------------- usage and models
#: Nanoseconds in a day: timestamps are read as int64 nanoseconds since the epoch.
_NS_PER_DAY = float(pd.Timedelta(days=1).value)
#: NaT as int64 nanoseconds (the smallest int64).
_NAT = int(np.iinfo(np.int64).min)
#: np.bincount sums in float64: integer token counts stay exact while every sum is below 2**53.
_EXACT_FLOAT_INT = 2**53


def _cycles(calls: pd.DataFrame, cycle_days: int) -> tuple[np.ndarray | None, int, int]:
    """(billing cycle of each call, number of cycles, days covered), counted from midnight of
    the first call's date; the cycles are None when every call falls in the first one.

    The day of a call is ``(ts - start) / pd.Timedelta(days=1)``: numpy divides the int64
    nanoseconds as floats, so the same division of ``asi8`` gives the same days without a
    timedelta column; the last day is that of the latest call (the division is monotonic).
    ``day // cycle_days >= k`` exactly when ``day >= k * cycle_days`` (numpy's float floor
    division is exact), so the cycle is a few comparisons instead of a division.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(
        ...     ["2026-01-01 00:00", "2026-01-31 12:00", "2026-03-05 00:00"], utc=True)})
        >>> cycle, n, days = _cycles(calls, 30)
        >>> cycle.tolist(), n, days
        ([0, 1, 2], 3, 64)
    """
    ts = calls["timestamp"]
    arr = ts.array
    fast = isinstance(arr, pd.arrays.DatetimeArray) and arr.unit == "ns" and len(arr)
    ns = arr.asi8 if fast else None
    first = int(ns.min()) if fast else _NAT
    if first != _NAT:  # NaT is the smallest int64: none is missing, ts.min() is the first
        start = pd.Timestamp(first, tz=arr.tz).normalize()
        last = float(np.float64(ns.max() - start.value) / _NS_PER_DAY)
        day = None
    else:  # other units, missing timestamps: as written
        start = ts.min().normalize()
        day = ((ts - start) / pd.Timedelta(days=1)).to_numpy()
        last = float(day.max())
    n_cycles = int(last // cycle_days) + 1
    days_total = int(np.floor(last)) + 1
    if n_cycles == 1:
        return None, n_cycles, days_total
    if day is None:
        day = (ns - start.value).astype(np.float64)
        day /= _NS_PER_DAY
    cycle = np.zeros(len(day), dtype=np.int32)
    for k in range(1, n_cycles):
        cycle += day >= k * cycle_days
    return cycle, n_cycles, days_total


def _cycle_usage(
    calls: pd.DataFrame, ledger: _Ledger, cycle: np.ndarray | None, n_cycles: int
) -> tuple[pd.DataFrame, float]:
    """Production tokens, calls and cost per (customer, cycle) with production calls, indexed
    by (customer label, cycle) in sorted order as the group-by gave; and the production cost.

    One key per call (customer slot, cycle, production or not) and three np.bincount."""
    slots = _slots(calls["customer_id"])
    n = len(slots.text)
    plus = ledger.env_shared  # odd keys: non-production, left out
    if cycle is not None:
        plus = cycle * 2 + plus
    key = slots.key(times=2 * n_cycles, plus=plus)
    space = 2 * n * n_cycles
    counts = np.bincount(key, minlength=space).reshape(n, n_cycles, 2)[:, :, 0]
    cost = np.bincount(key, weights=ledger.cost, minlength=space).reshape(n, n_cycles, 2)
    tok = _token_sums(calls, key, space).reshape(n, n_cycles, 2)[:, :, 0]
    code, labels = slots.labels()
    per = [np.zeros((len(labels), n_cycles), dtype=t.dtype) for t in (tok, counts)]
    per.append(np.zeros((len(labels), n_cycles)))
    for out, table in zip(per, (tok, counts, cost[:, :, 0]), strict=True):
        np.add.at(out, code, table)  # slots with the same text: one customer
    c_at, cycle_at = np.nonzero(per[1] > 0)  # (customer, cycle) in sorted order
    g = pd.DataFrame(
        {
            "ktok": per[0][c_at, cycle_at],
            "calls": per[1][c_at, cycle_at].astype(np.int64),
            "cost_usd": per[2][c_at, cycle_at],
        },
        index=pd.MultiIndex.from_arrays(
            [pd.Index(labels[c_at], dtype=object), pd.Index(cycle_at.astype(np.int64))],
            names=["customer_id", "cycle"],
        ),
    )
    return g, float(cost[:, :, 0].sum())


def _token_sums(calls: pd.DataFrame, key: np.ndarray, space: int) -> np.ndarray:
    """Input + output tokens summed per ``key``, exact int64: np.bincount's float sums when
    the counts are non-negative and every sum stays below 2**53, else integer sums."""
    i, o = calls["input_tokens"].to_numpy(), calls["output_tokens"].to_numpy()
    if len(i) and min(int(i.min()), int(o.min())) >= 0:
        sums = np.bincount(key, weights=np.add(i, o, dtype=np.float64), minlength=space)
        if float(sums.max()) < _EXACT_FLOAT_INT:
            return sums.astype(np.int64)
    out = np.zeros(space, dtype=np.int64)
    np.add.at(out, key, i + o)
    return out


def billing_usage(
    calls: pd.DataFrame, customers: pd.DataFrame, *, cycle_days: int = CYCLE_DAYS
) -> pd.DataFrame:
    """Billable usage per customer and billing cycle.

    Columns: customer_id, cycle (0, 1, ...), subscription_tier (and archetype when known),
    ``ktok`` (production tokens / 1000), ``calls``, ``cost_usd`` (production cost x the
    fleet's total/production cost ratio) and ``months`` (active days in the cycle / 30; a
    customer who signs up mid-cycle pays pro rata). Every customer appears in every cycle.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-31"], utc=True),
        ...     "customer_id": ["a", "a"], "environment": ["production"] * 2,
        ...     "input_tokens": [1000, 3000], "output_tokens": [0, 0], "cost_usd": [1.0, 3.0]})
        >>> c = pd.DataFrame({"customer_id": ["a"], "subscription_tier": ["pro"]})
        >>> billing_usage(calls, c)[["cycle", "ktok", "cost_usd"]].values.tolist()
        [[0.0, 1.0, 1.0], [1.0, 3.0, 3.0]]
    """
    require_columns(
        calls,
        ["timestamp", "customer_id", "input_tokens", "output_tokens", "cost_usd"],
        who="billing_usage",
    )
    require_columns(customers, ["customer_id", "subscription_tier"], who="billing_usage")
    cycle, n_cycles, days_total = _cycles(calls, cycle_days)
    ledger = _ledger(calls)
    g, prod_cost = _cycle_usage(calls, ledger, cycle, n_cycles)
    gross_up = ledger.total / prod_cost if prod_cost else 1.0
    ids = pd.Index(customers["customer_id"].astype(str)).union(g.index.get_level_values(0).unique())
    full = pd.MultiIndex.from_product([ids, range(n_cycles)], names=["customer_id", "cycle"])
    out = g.reindex(full, fill_value=0).reset_index()
    out["ktok"] = out["ktok"].astype(float) / 1000.0
    out["cost_usd"] = out["cost_usd"].astype(float) * gross_up
    meta_cols = [c for c in ("subscription_tier", "archetype") if c in customers.columns]
    meta = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index(
        "customer_id"
    )
    for col in meta_cols:
        out[col] = out["customer_id"].map(meta[col]).astype(object)
    if out["subscription_tier"].isna().any():
        bad = out.loc[out["subscription_tier"].isna(), "customer_id"].iloc[0]
        raise ValueError(f"customer_id={bad!r} has calls but no row in customers")
    cycle_start = out["cycle"].to_numpy() * cycle_days
    cycle_len = np.minimum(cycle_days, days_total - cycle_start)
    signup = (
        out["customer_id"].map(meta["signup_day"]).fillna(0).to_numpy(dtype=float)
        if "signup_day" in meta
        else np.zeros(len(out))
    )
    active = np.clip(cycle_start + cycle_len - np.maximum(signup, cycle_start), 0, cycle_len)
    out["months"] = active / DAYS_PER_MONTH
    out["cycle"] = out["cycle"].astype(float)
    return out


def current_fees(customers: pd.DataFrame) -> dict[str, float]:
    """Monthly fee per tier as recorded in the customer table (today's flat plan).

    Example:
        >>> current_fees(pd.DataFrame({"subscription_tier": ["pro", "pro"],
        ...                            "monthly_fee_usd": [149.0, 149.0]}))
        {'pro': 149.0}
    """
    fees = customers.groupby("subscription_tier", observed=True)["monthly_fee_usd"].median()
    return {str(k): float(v) for k, v in fees.items()}


def blended_cost_per_ktok(usage: pd.DataFrame) -> float:
    """Total AI cost / total ktok of a usage table.

    Example:
        >>> blended_cost_per_ktok(pd.DataFrame({"cost_usd": [1.0, 3.0], "ktok": [100.0, 100.0]}))
        0.02
    """
    q = float(usage["ktok"].sum())
    return float(usage["cost_usd"].sum()) / q if q else float("nan")


#: Tiered unit price as a multiple of the usage-based one, per tier: +30% for the first
#: (light-use) tier, the plain rate for the middle, -30% above it (a volume discount big enough
#: for a heavy user to notice, small enough that the top tier stays above cost at 3x markup).
TIER_MULTIPLIERS: tuple[float, float, float] = (1.3, 1.0, 0.7)
#: Tier bounds at the median and the 90th percentile of monthly customer usage: half the
#: customers stay in the first tier, the top tenth reach the discount.
TIER_QUANTILES: tuple[float, float] = (0.5, 0.9)


def default_models(
    usage: pd.DataFrame,
    fees: Mapping[str, float],
    *,
    markup: float = 3.0,
    cost_plus_markup: float | None = None,
) -> list[PricingModel]:
    """The five models with prices derived from the data by stated rules.

    With ``c`` the blended AI cost per ktok and ``u = round(markup x c)`` the unit price:
    usage-based charges ``u``; tiered charges ``u x TIER_MULTIPLIERS`` with tier bounds at the
    ``TIER_QUANTILES`` of monthly customer usage (volume discount above them); hybrid keeps
    today's fee per tier, includes the ktok that fee buys at ``u`` and charges ``u`` above it;
    cost-plus charges cost x (1 + ``cost_plus_markup``), default ``markup - 1`` (same price
    level as usage-based on average).

    Example:
        >>> usage = pd.DataFrame({"ktok": [100.0, 300.0], "cost_usd": [1.0, 3.0],
        ...                       "months": [1.0, 1.0], "subscription_tier": ["pro", "pro"]})
        >>> [m.name for m in default_models(usage, {"pro": 50.0})][:2]
        ['flat subscription', 'usage-based']
    """
    c = blended_cost_per_ktok(usage)
    unit = round_price(markup * c)
    monthly = usage["ktok"] / usage["months"].where(usage["months"] > 0)
    b1, b2 = (round_price(float(monthly.quantile(q))) for q in TIER_QUANTILES)
    if not b1 < b2:
        b2 = b1 * 10.0
    tiers = (
        (b1, round_price(unit * TIER_MULTIPLIERS[0])),
        (b2, round_price(unit * TIER_MULTIPLIERS[1])),
        (math.inf, round_price(unit * TIER_MULTIPLIERS[2])),
    )
    allowance = {k: round_price(v / unit) for k, v in fees.items()}
    cp = markup - 1.0 if cost_plus_markup is None else cost_plus_markup
    return [
        FlatSubscription(fees=dict(fees)),
        UsageBased(price_per_ktok=unit),
        Tiered(tiers=tiers),
        Hybrid(base_fees=dict(fees), allowances_ktok=allowance, overage_per_ktok=unit),
        CostPlus(markup=cp),
    ]


# --------------------------------------------------------------------------- simulation
def bill_all(usage: pd.DataFrame, models: Sequence[PricingModel]) -> pd.DataFrame:
    """Revenue of every usage row under every model (long table: one row per row x model).

    Example:
        >>> usage = pd.DataFrame({"customer_id": ["a"], "cycle": [0.0], "ktok": [10.0],
        ...     "cost_usd": [1.0], "months": [1.0], "subscription_tier": ["pro"]})
        >>> bill_all(usage, [UsageBased(0.5), CostPlus(1.0)])["revenue_usd"].tolist()
        [5.0, 2.0]
    """
    parts = [usage.assign(model=m.name, revenue_usd=m.bill(usage)) for m in models]
    out = pd.concat(parts, ignore_index=True)
    out["margin_usd"] = out["revenue_usd"] - out["cost_usd"]
    return out


def summarize(
    bills: pd.DataFrame, *, baseline: str, factor: float, by: str | None = None
) -> pd.DataFrame:
    """Revenue, cost, margin (period and monthly) per model (and per ``by``), vs ``baseline``.

    Example:
        >>> b = pd.DataFrame({"model": ["x", "y"], "revenue_usd": [10.0, 15.0],
        ...                   "cost_usd": [5.0, 5.0], "margin_usd": [5.0, 10.0]})
        >>> summarize(b, baseline="x", factor=1.0)["margin_change_pct"].tolist()
        [0.0, 1.0]
    """
    keys = ["model"] + ([by] if by else [])
    g = bills.groupby(keys, sort=False, observed=True)[
        ["revenue_usd", "cost_usd", "margin_usd"]
    ].sum()
    g["margin_pct"] = g["margin_usd"] / g["revenue_usd"].where(g["revenue_usd"] > 0)
    for col in ("revenue_usd", "cost_usd", "margin_usd"):
        g[f"monthly_{col}"] = g[col] * factor
    base = g.xs(baseline, level="model")["margin_usd"] if by else g.loc[baseline, "margin_usd"]
    if by:
        base_aligned = g.index.get_level_values(by).map(base).to_numpy(dtype=float)
    else:
        base_aligned = np.full(len(g), float(base))
    g["margin_change_usd_per_month"] = (g["margin_usd"].to_numpy() - base_aligned) * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        g["margin_change_pct"] = (g["margin_usd"].to_numpy() - base_aligned) / np.abs(base_aligned)
    return g.reset_index()


def winners_losers(bills: pd.DataFrame, *, baseline: str, tolerance: float = 0.05) -> pd.DataFrame:
    """Per customer and model: bill vs the baseline bill, and whether the customer pays more.

    ``outcome`` is ``pays less`` / ``pays more`` when the bill moves by more than
    ``tolerance`` (fraction of the baseline bill), else ``about the same``.

    Example:
        >>> b = pd.DataFrame({"customer_id": ["a", "a"], "model": ["x", "y"],
        ...                   "revenue_usd": [10.0, 20.0]})
        >>> winners_losers(b, baseline="x").query("model == 'y'")["outcome"].tolist()
        ['pays more']
    """
    per = bills.groupby(["customer_id", "model"], sort=False)["revenue_usd"].sum().unstack()
    base = per[baseline]
    long = per.stack().rename("bill_usd").reset_index()
    long["baseline_bill_usd"] = long["customer_id"].map(base).to_numpy()
    long["change_usd"] = long["bill_usd"] - long["baseline_bill_usd"]
    rel = long["change_usd"] / long["baseline_bill_usd"].where(long["baseline_bill_usd"] > 0)
    long["change_pct"] = rel
    long["outcome"] = np.select(
        [rel > tolerance, rel < -tolerance], ["pays more", "pays less"], "about the same"
    )
    meta_cols = [c for c in ("subscription_tier", "archetype") if c in bills.columns]
    if meta_cols:
        meta = bills.drop_duplicates("customer_id").set_index("customer_id")[meta_cols]
        long = long.join(meta, on="customer_id")
    return long


def average_customer_estimate(
    usage: pd.DataFrame, models: Sequence[PricingModel], *, by: str = "subscription_tier"
) -> pd.DataFrame:
    """Revenue and margin per model if every customer used its segment's *average* usage.

    This is what a team without per-customer metering can compute: totals per tier from the
    invoice and the billing system, divided by the number of customers. Linear prices
    (usage-based, cost-plus) survive the averaging; non-linear ones (tiered, hybrid) do not.

    Example:
        >>> usage = pd.DataFrame({"customer_id": ["a", "b"], "cycle": [0.0, 0.0],
        ...     "ktok": [0.0, 200.0], "cost_usd": [0.0, 2.0], "months": [1.0, 1.0],
        ...     "subscription_tier": ["pro", "pro"]})
        >>> h = Hybrid({"pro": 1.0}, {"pro": 100.0}, 0.1)
        >>> average_customer_estimate(usage, [h])["revenue_usd"].tolist()   # actual: 12.0
        [2.0]
    """
    avg = usage.copy()
    for col in ("ktok", "cost_usd"):
        avg[col] = usage.groupby(by)[col].transform("mean")
    bills = bill_all(avg, models)
    return (
        bills.groupby("model", sort=False)[["revenue_usd", "cost_usd", "margin_usd"]]
        .sum()
        .reset_index()
    )


def parameter_table(models: Sequence[PricingModel]) -> pd.DataFrame:
    """One row per model: its name and parameters in words.

    Example:
        >>> parameter_table([UsageBased(0.02)])["parameters"].tolist()
        ['$0.02 per 1K tokens']
    """
    return pd.DataFrame(
        {"model": [m.name for m in models], "parameters": [m.describe() for m in models]}
    )


@dataclass
class PricingResult(AnalysisResult):
    """Per-model summary, per-segment summary, winners/losers and the billed usage."""

    models: list = field(default_factory=list)
    usage: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: pd.DataFrame = field(default_factory=pd.DataFrame)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    baseline: str = "flat subscription"


def analyze_pricing(
    calls: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    models: Sequence[PricingModel] | None = None,
    baseline: str = "flat subscription",
    markup: float = 3.0,
) -> PricingResult:
    """Replay pricing models on the usage history: revenue, cost, margin, winners and losers.

    ``models`` defaults to :func:`default_models` (``markup`` x blended cost per ktok); the
    ``baseline`` model (today's flat plan by default) is what changes are measured against.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-30"], utc=True),
        ...     "customer_id": ["a", "b"], "environment": ["production"] * 2,
        ...     "input_tokens": [10_000, 90_000], "output_tokens": [0, 0], "cost_usd": [1.0, 9.0]})
        >>> c = pd.DataFrame({"customer_id": ["a", "b"], "subscription_tier": ["pro", "pro"],
        ...                   "monthly_fee_usd": [10.0, 10.0]})
        >>> r = analyze_pricing(calls, c, models=[
        ...     FlatSubscription({"pro": 10.0}), UsageBased(0.2)])
        >>> r.summary.set_index("model")["margin_usd"].tolist()
        [10.0, 10.0]
    """
    who = "analyze_pricing"
    require_columns(customers, ["customer_id", "subscription_tier"], who=who)
    require_rows(calls, who=who)
    usage = billing_usage(calls, customers)
    fees = current_fees(customers) if "monthly_fee_usd" in customers else {}
    chosen = list(models) if models is not None else default_models(usage, fees, markup=markup)
    names = [m.name for m in chosen]
    if baseline not in names:
        raise ValueError(f"baseline={baseline!r} is not one of the models ({', '.join(names)})")
    days = float(usage["months"].groupby(usage["customer_id"]).sum().max() * DAYS_PER_MONTH)
    n_days = max(days, 1.0)
    factor = DAYS_PER_MONTH / n_days
    bills = bill_all(usage, chosen)
    summary = summarize(bills, baseline=baseline, factor=factor)
    by_segment = summarize(bills, baseline=baseline, factor=factor, by="subscription_tier")
    wl = winners_losers(bills, baseline=baseline)
    counts = wl.groupby(["model", "outcome"]).size().unstack(fill_value=0)
    summary = summary.join(counts, on="model")

    s = summary.set_index("model")
    base_row = s.loc[baseline]
    others = s.drop(index=baseline)
    best = others["margin_usd"].idxmax() if len(others) else baseline
    best_row = s.loc[best]
    headline = [
        Metric("Baseline monthly margin", float(base_row["monthly_margin_usd"]), "usd", baseline),
        Metric("Baseline gross margin", float(base_row["margin_pct"]), "pct", baseline),
        Metric("Best model", best, "text", "highest margin"),
        Metric(
            "Best model monthly margin change",
            float(best_row["margin_change_usd_per_month"]),
            "usd",
        ),
        Metric("Best model margin change", float(best_row["margin_change_pct"]), "pct"),
    ]
    if "tiered (graduated)" in s.index:
        t = s.loc["tiered (graduated)"]
        headline += [
            Metric("Tiered: monthly margin change", float(t["margin_change_usd_per_month"]), "usd"),
            Metric("Tiered: margin change", float(t["margin_change_pct"]), "pct"),
        ]
    findings = [
        f"{m}: margin {r.margin_pct:.1%}, ${r.monthly_margin_usd:,.0f}/month "
        f"({r.margin_change_pct:+.0%} vs {baseline}); "
        f"{int(r.get('pays more', 0))} customers pay more, "
        f"{int(r.get('pays less', 0))} pay less."
        for m, r in s.iterrows()
        if m != baseline
    ]
    comparison = comparison_frame(
        [
            ("Pricing models evaluated", 1.0, float(len(chosen)), "count"),
            (
                "Monthly gross margin",
                float(base_row["monthly_margin_usd"]),
                float(best_row["monthly_margin_usd"]),
                "usd",
            ),
            ("Gross margin", float(base_row["margin_pct"]), float(best_row["margin_pct"]), "pct"),
            (
                "Customers who would pay more, known in advance",
                "unknown",
                float(best_row.get("pays more", 0)),
                "count",
            ),
        ]
    )
    value = ReveniumValue(
        metadata=(
            "customer_id",
            "subscription_tier",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "environment",
            "timestamp",
        ),
        enables="each customer's metered usage and cost per billing cycle, so any price list "
        "can be replayed on real history before it is announced",
        without="estimate usage per customer from averages, launch the new price and learn "
        "from churn and the next quarter's margin whether it worked",
    )
    story = Story(
        problem=f"Today's {baseline} earns a {base_row['margin_pct']:.0%} gross margin, but "
        "heavy users cost more than they pay; should pricing move to usage?",
        solution="Replay every candidate price list on the metered usage of each customer and "
        "billing cycle: revenue, AI cost, margin, and who would pay more or less.",
        steps=(
            Step(
                "Meter usage per customer",
                "Tokens and cost per call, tagged with customer and tier.",
                "tracker.track(..., customer_id='cust_0042', subscription_tier='pro')",
            ),
            Step(
                "Write the candidate price lists",
                "Parameters are explicit dataclasses.",
                "models = [FlatSubscription.from_customers(customers),\n"
                "          Tiered(((500, 0.026), (5000, 0.02), (math.inf, 0.014)))]",
            ),
            Step(
                "Replay and compare",
                "Margin by model and segment, winners and losers.",
                "result = analyze('pricing', calls, customers=customers, models=models)\n"
                "result.summary",
            ),
        ),
    )
    return build_result(
        PricingResult,
        name="pricing",
        title="Pricing model simulation",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={
            "summary": summary,
            "parameters": parameter_table(chosen),
            "by_segment": by_segment,
            "customers": wl,
        },
        revenium_value=value,
        story=story,
        parameters={
            "markup": markup,
            "baseline": baseline,
            "cycle_days": CYCLE_DAYS,
            **{m.name: m.describe() for m in chosen},
        },
        models=chosen,
        usage=usage,
        baseline=baseline,
    )


def pricing_sensitivity(
    usage: pd.DataFrame,
    fees: Mapping[str, float],
    markups: Sequence[float],
    *,
    baseline: str = "flat subscription",
) -> pd.DataFrame:
    """Margin of each default model as the price level (``markup``) varies.

    One row per (markup, model): monthly margin, margin %, change vs the baseline.

    Example:
        >>> usage = pd.DataFrame({"customer_id": ["a"], "cycle": [0.0], "ktok": [100.0],
        ...     "cost_usd": [1.0], "months": [1.0], "subscription_tier": ["pro"]})
        >>> t = pricing_sensitivity(usage, {"pro": 5.0}, [2.0, 4.0])
        >>> t.query("model == 'usage-based'")["margin_usd"].tolist()
        [1.0, 3.0]
    """
    rows = []
    days = float(usage["months"].groupby(usage["customer_id"]).sum().max() * DAYS_PER_MONTH)
    factor = DAYS_PER_MONTH / max(days, 1.0)
    for mk in markups:
        bills = bill_all(usage, default_models(usage, fees, markup=mk))
        rows.append(summarize(bills, baseline=baseline, factor=factor).assign(markup=mk))
    out = pd.concat(rows, ignore_index=True)
    return out[
        [
            "markup",
            "model",
            "revenue_usd",
            "cost_usd",
            "margin_usd",
            "margin_pct",
            "monthly_margin_usd",
            "margin_change_usd_per_month",
            "margin_change_pct",
        ]
    ]
