"""The chargeback fast paths (issue 14) against the plain pandas expressions they replace.

Chargeback, revenue attribution, feature returns and billing usage count calls with
np.bincount over one integer key per call, read from the categorical codes. Each is compared
here with the group-by it replaced, on frames built to be awkward: missing values, blank and
unused categories, two categories with the same text (``1`` and ``"1"``), a category spelled
``"nan"`` next to missing values, object columns, shuffled timestamps over several billing
cycles, no environment column, and no calls at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis.analyzers import _alignment
from showcase_lib.analysis.analyzers._alignment import (
    _non_production,
    _where_category,
    chargeback,
    shared_mask,
)
from showcase_lib.analysis.analyzers._base import period_days
from showcase_lib.analysis.analyzers._features import (
    _HEAD,
    attribute_revenue,
    feature_returns,
)
from showcase_lib.analysis.analyzers._pricing_models import _cycles, billing_usage
from showcase_lib.analysis.analyzers._profitability import customer_margins, period_revenue

RTOL = 1e-12


# --------------------------------------------------------------------------- references
def _text(values: pd.Series) -> pd.Series:
    return values.astype(str)


def _env_shared(calls: pd.DataFrame) -> np.ndarray:
    if "environment" not in calls:
        return np.zeros(len(calls), dtype=bool)
    return (calls["environment"].astype(str) != "production").to_numpy()


def _blank(values: pd.Series) -> np.ndarray:
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


def ref_chargeback(calls: pd.DataFrame, dimension: str, rule: str = "proportional"):
    """The chargeback before issue 14: row selection and a group-by."""
    shared = _env_shared(calls) | _blank(calls[dimension])
    cost = calls["cost_usd"]
    direct = ~shared
    g = cost[direct].groupby(_text(calls[dimension])[direct]).agg(showback_usd="sum", calls="size")
    g.index = pd.Index(g.index.to_numpy(dtype=object), dtype=object, name=dimension)
    pool = float(cost[shared].sum())
    if rule == "proportional":
        weight = g["showback_usd"]
    elif rule == "calls":
        weight = g["calls"].astype(float)
    else:
        weight = pd.Series(1.0, index=g.index)
    total_w = float(weight.sum())
    g["shared_usd"] = pool * weight / total_w if total_w else 0.0
    g["chargeback_usd"] = g["showback_usd"] + g["shared_usd"]
    total = float(cost.sum())
    g["share"] = g["chargeback_usd"] / total if total else 0.0
    g["even_split_usd"] = total / len(g) if len(g) else 0.0
    g["even_split_error_usd"] = g["even_split_usd"] - g["chargeback_usd"]
    out = g.sort_values("chargeback_usd", ascending=False).reset_index()
    cols = ["calls", "showback_usd", "shared_usd", "chargeback_usd", "share"]
    return out[[dimension, *cols, "even_split_usd", "even_split_error_usd"]]


def ref_attribute(calls: pd.DataFrame, revenue: pd.Series, rule: str) -> pd.Series:
    """Revenue attribution as a group-by over the production calls."""
    prod = calls.loc[~_env_shared(calls)]
    if rule == "tokens":
        w = (prod["input_tokens"] + prod["output_tokens"]).astype(float)
    elif rule == "cost":
        w = prod["cost_usd"].astype(float)
    else:
        w = pd.Series(1.0, index=prod.index)
    keys = [_text(prod["customer_id"]).rename("customer_id"), _text(prod["feature_id"])]
    per = w.groupby([k.to_numpy() for k in keys]).sum().rename("w")
    per.index.names = ["customer_id", "feature_id"]
    if rule == "even":
        per = per.gt(0).astype(float)
    share = per / per.groupby(level="customer_id").transform("sum")
    rev = share * share.index.get_level_values("customer_id").map(revenue).fillna(0.0).to_numpy()
    return rev.groupby(level="feature_id").sum().rename("revenue_usd")


def ref_feature_returns(calls: pd.DataFrame, customers: pd.DataFrame, rule: str) -> pd.DataFrame:
    revenue = period_revenue(customers, period_days(calls))
    attributed = ref_attribute(calls, revenue, rule)
    cb = ref_chargeback(calls, "feature_id").set_index("feature_id")
    out = cb[["calls", "showback_usd", "chargeback_usd"]].rename(
        columns={"showback_usd": "direct_cost_usd", "chargeback_usd": "ai_cost_usd"}
    )
    direct = ~_env_shared(calls) & calls["customer_id"].notna().to_numpy()
    f, c = _text(calls["feature_id"]), _text(calls["customer_id"])
    users = c[direct].groupby(f[direct]).nunique()
    out["customers"] = users.reindex(out.index).fillna(0).astype("int64")
    out["revenue_usd"] = attributed.reindex(out.index).fillna(0.0)
    out["margin_usd"] = out["revenue_usd"] - out["ai_cost_usd"]
    out["roi"] = out["margin_usd"] / out["ai_cost_usd"].where(out["ai_cost_usd"] > 0)
    out["revenue_per_call"] = out["revenue_usd"] / out["calls"]
    out["cost_per_call"] = out["ai_cost_usd"] / out["calls"]
    if "product_id" in calls:
        first = pd.Series(calls["product_id"].to_numpy(dtype=object), index=f.to_numpy())
        first = first.groupby(level=0).head(1)
        out.insert(0, "product_id", first.reindex(out.index).astype(str))
    out.index.name = "feature_id"
    return out.sort_values("roi").reset_index()


def ref_billing_usage(calls: pd.DataFrame, customers: pd.DataFrame, cycle_days: int = 30):
    """Billing usage as a group-by per (customer, cycle) over the production calls."""
    start = calls["timestamp"].min().normalize()
    day = ((calls["timestamp"] - start) / pd.Timedelta(days=1)).to_numpy()
    cycle = (day // cycle_days).astype(np.int64)
    n_cycles = int(cycle.max()) + 1
    days_total = int(np.floor(day.max())) + 1
    prod = ~_env_shared(calls)
    total_cost = float(calls["cost_usd"].sum())
    prod_cost = float(calls.loc[prod, "cost_usd"].sum())
    gross_up = total_cost / prod_cost if prod_cost else 1.0
    frame = pd.DataFrame(
        {
            "customer_id": _text(calls["customer_id"]).to_numpy(dtype=object)[prod],
            "cycle": cycle[prod],
            "tokens": (calls["input_tokens"] + calls["output_tokens"]).to_numpy()[prod],
            "cost": calls["cost_usd"].to_numpy()[prod],
        }
    )
    g = frame.groupby(["customer_id", "cycle"]).agg(
        ktok=("tokens", "sum"), calls=("tokens", "size"), cost_usd=("cost", "sum")
    )
    ids = pd.Index(customers["customer_id"].astype(str)).union(g.index.get_level_values(0).unique())
    full = pd.MultiIndex.from_product([ids, range(n_cycles)], names=["customer_id", "cycle"])
    out = g.reindex(full, fill_value=0).reset_index()
    out["ktok"] = out["ktok"].astype(float) / 1000.0
    out["cost_usd"] = out["cost_usd"].astype(float) * gross_up
    meta = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index(
        "customer_id"
    )
    for col in ("subscription_tier", "archetype"):
        if col in customers.columns:
            out[col] = out["customer_id"].map(meta[col]).astype(object)
    cycle_start = out["cycle"].to_numpy() * cycle_days
    cycle_len = np.minimum(cycle_days, days_total - cycle_start)
    signup = out["customer_id"].map(meta["signup_day"]).fillna(0).to_numpy(dtype=float)
    active = np.clip(cycle_start + cycle_len - np.maximum(signup, cycle_start), 0, cycle_len)
    out["months"] = active / 30.0
    out["cycle"] = out["cycle"].astype(float)
    return out


# --------------------------------------------------------------------------- awkward frames
def awkward_calls(n: int = 3000, *, seed: int = 0, categorical: bool = True) -> pd.DataFrame:
    """Calls with every trap the codes could fall into (see the module docstring)."""
    rng = np.random.default_rng(seed)

    def column(values: list, cats: list | None = None) -> pd.Series:
        drawn = [values[i] for i in rng.integers(0, len(values), n)]
        s = pd.Series(drawn, dtype=object)
        if not categorical:
            return s
        return s.astype(pd.CategoricalDtype(cats if cats is not None else None))

    envs = ["production", "staging", "development", None]
    frame = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-01-01 03:00", tz="UTC")
            + pd.to_timedelta(rng.uniform(0, 70, n), unit="D"),  # shuffled, three cycles
            "customer_id": column(
                [f"c{i}" for i in range(40)] + [None, "nan", ""],
                [f"c{i}" for i in range(45)] + ["nan", ""],  # unused categories
            ),
            "organization_id": column([1, "1", "o2", "o3", " ", None], [1, "1", "o2", "o3", " "]),
            "product_id": column(["p1", "p2", None], ["p1", "p2", "p9"]),
            "feature_id": column(["f1", "f2", "f3", "nan", "", None]),
            "environment": column(envs, ["production", "staging", "development", "qa"]),
            "input_tokens": rng.integers(0, 5000, n),
            "output_tokens": rng.integers(0, 2000, n),
            "cost_usd": rng.gamma(1.0, 0.01, n),
        }
    )
    return frame


def customers_of(calls: pd.DataFrame) -> pd.DataFrame:
    ids = sorted({str(c) for c in calls["customer_id"].astype(str)} | {"c99"})
    return pd.DataFrame(
        {
            "customer_id": ids,
            "subscription_tier": ["pro" if i % 2 else "starter" for i in range(len(ids))],
            "monthly_fee_usd": [49.0 + i for i in range(len(ids))],
            "signup_day": [i % 40 for i in range(len(ids))],
        }
    )


FRAMES = {
    "categorical": awkward_calls(),
    "object": awkward_calls(categorical=False),
    "no environment": awkward_calls(seed=1).drop(columns="environment"),
    "empty": awkward_calls().iloc[:0],
}


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", FRAMES)
@pytest.mark.parametrize("rule", ["proportional", "calls", "even"])
@pytest.mark.parametrize("dimension", ["organization_id", "feature_id", "customer_id"])
def test_chargeback_equals_the_group_by(name, rule, dimension):
    calls = FRAMES[name]
    fast = chargeback(calls, dimension, rule=rule)
    pd.testing.assert_frame_equal(fast, ref_chargeback(calls, dimension, rule), rtol=RTOL)
    if len(calls):
        assert fast["chargeback_usd"].sum() == pytest.approx(calls["cost_usd"].sum(), rel=1e-12)


@pytest.mark.parametrize("name", FRAMES)
def test_shared_mask_equals_the_text_comparison(name):
    calls = FRAMES[name]
    for dimension in (None, "organization_id", "feature_id"):
        expected = _env_shared(calls)
        if dimension is not None:
            expected = expected | _blank(calls[dimension])
        assert np.array_equal(shared_mask(calls, dimension), expected)


def test_category_tables_with_many_categories_use_a_lookup():
    rng = np.random.default_rng(3)
    cats = [f"e{i}" for i in range(30)]
    values = pd.Series(rng.choice([*cats, None], 5000), dtype=pd.CategoricalDtype(cats))
    for hits in (set(), {"e3"}, set(cats[:12]), set(cats[:25]), set(cats)):
        for missing in (False, True):
            table = np.asarray([c in hits for c in cats] + [missing])
            expected = values.isin(list(hits)).to_numpy() | (values.isna().to_numpy() & missing)
            assert np.array_equal(_where_category(values, table), expected), (hits, missing)
    env = pd.DataFrame({"environment": values.astype(str).replace("e0", "production")})
    assert np.array_equal(_non_production(env), _env_shared(env))


@pytest.mark.parametrize("name", ["categorical", "object", "no environment"])
@pytest.mark.parametrize("rule", ["calls", "tokens", "cost", "even"])
def test_attribution_equals_the_group_by(name, rule):
    calls = FRAMES[name]
    revenue = period_revenue(customers_of(calls), 30.0)
    fast = attribute_revenue(calls, revenue, rule=rule)
    pd.testing.assert_series_equal(fast, ref_attribute(calls, revenue, rule), rtol=RTOL)


@pytest.mark.parametrize("name", ["categorical", "object", "no environment"])
@pytest.mark.parametrize("rule", ["calls", "tokens"])
def test_feature_returns_equal_the_group_by(name, rule):
    calls = FRAMES[name]
    customers = customers_of(calls)
    fast = feature_returns(calls, customers, rule=rule)
    pd.testing.assert_frame_equal(fast, ref_feature_returns(calls, customers, rule), rtol=RTOL)


def test_first_product_of_a_feature_first_seen_after_the_head():
    calls = awkward_calls(_HEAD + 5000, seed=2)
    late = _HEAD + 4000
    feature = calls["feature_id"].astype(object)
    feature.iloc[late:] = "f_late"  # the feature's first call is past the searched head
    calls["feature_id"] = feature.astype(pd.CategoricalDtype([*feature.dropna().unique(), "x"]))
    calls.loc[late, "product_id"] = "p2"
    customers = customers_of(calls)
    fast = feature_returns(calls, customers)
    pd.testing.assert_frame_equal(fast, ref_feature_returns(calls, customers, "calls"), rtol=RTOL)
    assert fast.set_index("feature_id").loc["f_late", "product_id"] == "p2"


@pytest.mark.parametrize("name", ["categorical", "object", "no environment"])
def test_customer_margins_use_the_same_chargeback(name):
    calls = FRAMES[name]
    table = customer_margins(calls, customers_of(calls)).set_index("customer_id")
    cb = ref_chargeback(calls, "customer_id").set_index("customer_id")
    got = table.loc[cb.index, "ai_cost_usd"]
    np.testing.assert_allclose(got.to_numpy(), cb["chargeback_usd"].to_numpy(), rtol=RTOL)


@pytest.mark.parametrize("name", ["categorical", "object", "no environment"])
@pytest.mark.parametrize("span_days", [0.5, 29.99, 70])
def test_billing_usage_equals_the_group_by(name, span_days):
    calls = FRAMES[name].copy()
    rng = np.random.default_rng(4)
    offsets = rng.permutation(np.linspace(0, span_days, len(calls)))  # shuffled, to the end
    calls["timestamp"] = pd.Timestamp("2026-01-01 23:00", tz="UTC") + pd.to_timedelta(
        offsets, unit="D"
    )
    customers = customers_of(calls)
    pd.testing.assert_frame_equal(
        billing_usage(calls, customers), ref_billing_usage(calls, customers), rtol=RTOL
    )


def test_cycles_equal_the_float_floor_division():
    start = pd.Timestamp("2026-01-01", tz="UTC")
    edges = [0, 1, 29 * 86400e9, 30 * 86400e9 - 1, 30 * 86400e9, 30 * 86400e9 + 1, 61 * 86400e9]
    ts = pd.Series(start + pd.to_timedelta(np.array(edges[::-1], dtype=np.int64), unit="ns"))
    cycle, n, days = _cycles(pd.DataFrame({"timestamp": ts}), 30)
    day = ((ts - start) / pd.Timedelta(days=1)).to_numpy()
    assert cycle.tolist() == (day // 30).astype(np.int64).tolist()
    assert (n, days) == (int((day // 30).max()) + 1, int(np.floor(day.max())) + 1)
    one, n1, days1 = _cycles(pd.DataFrame({"timestamp": ts.iloc[3:]}), 30)  # before day 30
    assert one is None and n1 == 1 and days1 == 30


@pytest.mark.parametrize("name", ["categorical", "object", "no environment"])
@pytest.mark.parametrize("max_cells", [_alignment._MAX_CELLS, 8])  # one key; one per dimension
def test_alignment_tables_equal_the_group_by(name, max_cells, monkeypatch):
    monkeypatch.setattr(_alignment, "_MAX_CELLS", max_cells)
    calls = FRAMES[name]
    dims = ("organization_id", "product_id", "feature_id", "customer_id", "feature_id")
    result = _alignment.analyze_alignment(calls, dimensions=dims, rule="calls")
    assert list(result.chargebacks) == list(dict.fromkeys(dims))
    for d, table in result.chargebacks.items():
        pd.testing.assert_frame_equal(table, ref_chargeback(calls, d, "calls"), rtol=RTOL)
    expected = float(calls.loc[_env_shared(calls), "cost_usd"].sum())
    assert result.shared_usd == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", None])
def test_cycles_start_at_midnight_of_the_first_call_in_its_time_zone(tz):
    ts = pd.Series(pd.to_datetime(["2026-01-31 23:30", "2026-01-01 00:30", "2026-03-02 01:00"]))
    ts = ts.dt.tz_localize(tz) if tz else ts
    for frame in (ts, ts.astype(ts.dtype).where(ts.index != 1)):  # and with a NaT (as written)
        start = frame.min().normalize()
        day = ((frame - start) / pd.Timedelta(days=1)).to_numpy()
        if frame.hasnans:
            with pytest.raises(ValueError):
                _cycles(pd.DataFrame({"timestamp": frame}), 30)
            continue
        cycle, n, days = _cycles(pd.DataFrame({"timestamp": frame}), 30)
        assert cycle.tolist() == (day // 30).astype(np.int64).tolist()
        assert (n, days) == (int((day // 30).max()) + 1, int(np.floor(day.max())) + 1)
