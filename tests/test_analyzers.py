"""The eight analyzers on small hand-computed frames in the record schema."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from showcase_lib import pricing
from showcase_lib.analysis.analyzers import (
    ANALYZERS,
    FlatSubscription,
    OptimizationConfig,
    Tiered,
    analyze,
)
from showcase_lib.analysis.analyzers._alignment import analyze_alignment, chargeback
from showcase_lib.analysis.analyzers._base import AnalysisResult
from showcase_lib.analysis.analyzers._features import analyze_features
from showcase_lib.analysis.analyzers._optimization import analyze_optimization
from showcase_lib.analysis.analyzers._performance import analyze_performance
from showcase_lib.analysis.analyzers._pricing_models import (
    CostPlus,
    Hybrid,
    UsageBased,
    analyze_pricing,
)
from showcase_lib.analysis.analyzers._profitability import analyze_profitability
from showcase_lib.analysis.analyzers._quality import quality_score, task_complexity
from showcase_lib.analysis.analyzers._realtime import (
    StreamConfig,
    StreamingSpikeDetector,
    analyze_realtime,
    budget_cap,
    budget_status,
    token_bucket,
)
from showcase_lib.analysis.analyzers._understanding import analyze_understanding
from showcase_lib.schema import ALL_COLUMNS, DTYPES


def make_calls(rows: list[dict]) -> pd.DataFrame:
    """A frame with every record column and dtype, from a few hand-written rows."""
    defaults = {
        "call_id": "c",
        "provider": "openai",
        "model": "gpt-4",
        "input_tokens": 1000,
        "output_tokens": 500,
        "latency_ms": 1000,
        "customer_id": "cust_1",
        "subscription_tier": "pro",
        "organization_id": "org_1",
        "product_id": "p1",
        "feature_id": "f1",
        "task_type": "chat",
        "environment": "production",
        "request_id": "r",
        "trace_id": "t",
        "user_agent": "ua",
        "session_id": None,
        "status": "success",
        "stop_reason": "END",
        "region": "us-east-1",
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "reasoning_tokens": 0,
        "service_tier": "standard",
    }
    full = []
    for i, r in enumerate(rows):
        row = {**defaults, **r}
        row.setdefault("timestamp", "2026-01-01 00:00")
        row["call_id"] = f"call_{i}"
        full.append(row)
    df = pd.DataFrame(full)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    if "cost_usd" not in df:
        df["cost_usd"] = pricing.cost_breakdown(df)["total"].to_numpy()
    return df[list(ALL_COLUMNS)].astype({c: DTYPES[c] for c in ALL_COLUMNS})


CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["cust_1", "cust_2"],
        "organization_id": ["org_1", "org_2"],
        "subscription_tier": ["pro", "starter"],
        "archetype": ["power", "light"],
        "monthly_fee_usd": [100.0, 10.0],
    }
)


def test_every_result_carries_revenium_value_and_story():
    calls = make_calls(
        [
            {"timestamp": f"2026-01-{d:02d} 12:00", "customer_id": c, "cost_usd": 1.0 + d}
            for d in range(1, 15)
            for c in ("cust_1", "cust_2")
        ]
    )
    inputs = {"calls": calls, "customers": CUSTOMERS, "prices": pricing.price_table()}
    for name, (needs, fn) in ANALYZERS.items():
        r = fn(*(inputs[k] for k in needs))
        assert isinstance(r, AnalysisResult) and r.name == name
        assert r.revenium_value is not None and r.revenium_value.metadata
        assert r.revenium_value.without and r.story is not None and r.story.steps
        assert list(r.comparison.columns) == ["aspect", "without_revenium", "with_revenium", "unit"]


# ------------------------------------------------------------------------ understanding
def test_understanding_allocation_and_unit_costs():
    calls = make_calls(
        [
            {
                "timestamp": "2026-01-01",
                "customer_id": "cust_1",
                "input_tokens": 1000,
                "output_tokens": 0,
                "cost_usd": 3.0,
            },
            {
                "timestamp": "2026-01-02",
                "customer_id": "cust_2",
                "input_tokens": 1000,
                "output_tokens": 0,
                "cost_usd": 1.0,
            },
            {
                "timestamp": "2026-01-02",
                "customer_id": None,
                "input_tokens": 2000,
                "output_tokens": 0,
                "cost_usd": 4.0,
            },
        ]
    )
    r = analyze_understanding(calls, dimensions=("customer_id",))
    alloc = r.allocation["customer_id"].set_index("customer_id")
    assert alloc.loc["(untagged)", "cost_usd"] == 4.0
    assert alloc.loc["cust_1", "share"] == pytest.approx(3 / 8)
    assert alloc["cost_usd"].sum() == pytest.approx(8.0)
    assert r.metric("Cost per call").value == pytest.approx(8 / 3)
    assert r.metric("Cost per 1K tokens").value == pytest.approx(2.0)  # $8 / 4K tokens
    # two days -> x15 to a 30-day month
    assert r.metric("Monthly run-rate").value == pytest.approx(8 * 15)
    assert r.comparison.set_index("aspect").loc[
        "Share of cost allocated to a customer", "with_revenium"
    ] == pytest.approx(0.5)


def test_understanding_forecast_follows_the_level():
    calls = make_calls(
        [{"timestamp": f"2026-01-{d:02d}", "cost_usd": 10.0 + (d % 2) * 0.5} for d in range(1, 29)]
    )
    r = analyze_understanding(calls)
    assert len(r.forecast) == 30
    assert r.forecast["forecast"].mean() == pytest.approx(10.25, rel=0.05)


# ------------------------------------------------------------------------ performance
def test_performance_percentiles_sla_and_efficiency():
    rows = [
        {
            "model": "gpt-4",
            "latency_ms": ms,
            "subscription_tier": "pro",
            "task_type": "classification",
            "cost_usd": 0.10,
        }
        for ms in (100, 200, 300, 400)
    ]
    rows += [
        {
            "model": "gpt-4o-mini",
            "provider": "openai",
            "latency_ms": 50,
            "subscription_tier": "starter",
            "task_type": "classification",
            "cost_usd": 0.01,
            "status": s,
        }
        for s in ("success", "error")
    ]
    r = analyze_performance(make_calls(rows), sla_ms={"pro": 250, "starter": 1000})
    lat = r.latency.set_index("model")
    assert lat.loc["gpt-4", "p50_ms"] == pytest.approx(250.0)
    sla = r.sla.set_index("subscription_tier")
    assert sla.loc["pro", "compliance"] == pytest.approx(0.5)  # 100, 200 within 250
    assert sla.loc["starter", "compliance"] == pytest.approx(0.5)  # the error breaches
    eff = r.efficiency.set_index("model")
    assert eff.loc["gpt-4", "cost_per_success_usd"] == pytest.approx(0.10)
    assert eff.loc["gpt-4o-mini", "cost_per_success_usd"] == pytest.approx(0.02)
    assert eff.loc["gpt-4", "quality"] == quality_score("gpt-4", "simple")
    assert eff.loc["gpt-4o-mini", "rank"] == 1
    assert r.metric("SLA compliance").value == pytest.approx(3 / 6)


# ------------------------------------------------------------------------ realtime
def test_streaming_detector_fires_once_per_episode_and_rearms():
    det = StreamingSpikeDetector(
        ["a"],
        StreamConfig(
            window_buckets=5, recent_buckets=1, min_history=5, min_usd=1.0, rearm_buckets=2
        ),
    )
    spend = [1.0] * 6 + [20.0, 20.0] + [1.0] * 3 + [60.0]
    fired = [t for t, x in enumerate(spend) if det.update(t, np.array([x]))]
    assert fired == [6, 11]  # not again at 7 (same episode); re-armed after 2 quiet buckets


def test_streaming_detector_ignores_immaterial_spikes():
    det = StreamingSpikeDetector(
        ["a"], StreamConfig(window_buckets=5, recent_buckets=1, min_history=5, min_usd=5.0)
    )
    alerts = [det.update(t, np.array([0.01 if t < 6 else 1.0])) for t in range(8)]
    assert not any(alerts)  # 100x, but only $0.99 above baseline


def test_token_bucket_and_budget_cap_by_hand():
    served = token_bucket(np.array([3.0, 3.0, 3.0, 3.0]), rate=1.0, capacity=2.0, start=1)
    assert served.tolist() == [3.0, 2.0, 1.0, 1.0]
    assert budget_cap(np.array([4.0, 4.0, 4.0]), 10.0).tolist() == [4.0, 4.0, 2.0]


def test_budget_status_thresholds_burn_and_runway():
    ts = pd.date_range("2026-01-01", periods=10, freq="h", tz="UTC")
    calls = make_calls([{"timestamp": t, "customer_id": "cust_1", "cost_usd": 2.0} for t in ts])
    s = budget_status(calls, {"cust_1": 40.0}, burn_window="5h").iloc[0]
    assert s["spent_usd"] == 20.0 and s["used"] == 0.5
    assert s["crossed_50"] == ts[9] and pd.isna(s["crossed_80"])
    assert s["burn_usd_per_hour"] == pytest.approx(2.0)  # last 5 hours: 5 x $2 / 5 h
    assert s["hours_to_exhaustion"] == pytest.approx(10.0)  # $20 left / $2 per hour
    assert bool(s["exhausts_before_month_end"])


def test_realtime_finds_the_injected_day_and_budget_overrun():
    rows = [
        {"timestamp": f"2026-01-{d:02d} 10:00", "customer_id": "cust_1", "cost_usd": 10.0 + (d % 2)}
        for d in range(1, 29)
    ]
    rows += [{"timestamp": "2026-01-20 11:00", "customer_id": "cust_1", "cost_usd": 200.0}]
    r = analyze_realtime(make_calls(rows), budgets={"cust_1": 300.0})
    assert len(r.anomalies) == 1
    assert r.anomalies.iloc[0]["start"] == pd.Timestamp("2026-01-20", tz="UTC")
    assert r.budgets.loc[0, "crossed_100"] <= pd.Timestamp("2026-01-20 11:00", tz="UTC")
    total = 10.0 * 28 + 14 + 200.0
    assert r.metric("Spend above budget (a cap would block)").value == pytest.approx(total - 300)


# ------------------------------------------------------------------------ optimization
def test_optimization_right_sizing_by_hand():
    rows = [
        {
            "task_type": "classification",
            "model": "gpt-4",
            "input_tokens": 1000,
            "output_tokens": 100,
            "timestamp": "2026-01-01",
        },
        {
            "task_type": "code_generation",
            "model": "gpt-4",
            "input_tokens": 1000,
            "output_tokens": 100,
            "timestamp": "2026-01-30",
        },
    ]
    r = analyze_optimization(
        make_calls(rows),
        pricing.price_table(),
        config=OptimizationConfig(candidates=(("openai", "gpt-4o-mini"),), max_quality_drop=3.0),
    )
    plan = r.right_sizing.set_index("task_type")
    # simple: gpt-4 95 vs gpt-4o-mini 93 -> switch; complex: 88 vs 74 -> stay
    assert plan.loc["classification", "candidate_model"] == "gpt-4o-mini"
    assert plan.loc["code_generation", "candidate_model"] == "gpt-4"
    gpt4 = (1000 * 30 + 100 * 60) / 1e6
    mini = (1000 * 0.15 + 100 * 0.60) / 1e6
    assert plan.loc["classification", "saving_usd"] == pytest.approx(gpt4 - mini)
    assert plan.loc["classification", "quality_drop"] == pytest.approx(2.0)
    opp = r.opportunities.set_index("lever")
    assert opp.loc["model right-sizing", "saving_usd"] == pytest.approx(gpt4 - mini)


def test_optimization_caching_and_combined_never_double_count():
    rows = [
        {
            "timestamp": f"2026-01-01 00:0{i}",
            "session_id": "s1",
            "task_type": "chat",
            "model": "gpt-4o",
            "input_tokens": 1000,
            "output_tokens": 0,
        }
        for i in range(3)
    ]
    cfg = OptimizationConfig(candidates=(), long_quantile=1.0)
    sheet = pd.DataFrame(  # gpt-4o: $2.50 input, $1.25 cache read, $10 output per MTok
        {
            "provider": ["openai"],
            "model": ["gpt-4o"],
            "input_usd_per_mtok": [2.5],
            "output_usd_per_mtok": [10.0],
            "cache_read_usd_per_mtok": [1.25],
        }
    )
    r = analyze_optimization(make_calls(rows), sheet, config=cfg)
    opp = r.opportunities.set_index("lever")
    # calls 2 and 3 read the 1000-token prefix from the cache: $1.25 instead of $2.50 per MTok
    assert opp.loc["prompt caching", "saving_usd"] == pytest.approx(2 * 1000 * (2.5 - 1.25) / 1e6)
    # without a cache-read price the analyzer refuses rather than bill reads as input
    with pytest.raises(ValueError, match="cache_read_usd_per_mtok"):
        analyze_optimization(
            make_calls(rows), sheet.drop(columns="cache_read_usd_per_mtok"), config=cfg
        )
    combined = opp.loc["combined (no double counting)", "saving_usd"]
    assert combined <= opp.loc[opp.index[:3], "saving_usd"].sum() + 1e-12


# ------------------------------------------------------------------------ alignment
def test_alignment_fair_share_rules():
    rows = [
        {"organization_id": "org_1", "cost_usd": 30.0},
        {"organization_id": "org_2", "cost_usd": 10.0},
        {"organization_id": "org_2", "cost_usd": 10.0},
        {"organization_id": "org_1", "environment": "staging", "cost_usd": 20.0},
    ]
    calls = make_calls(rows)
    prop = chargeback(calls, "organization_id").set_index("organization_id")
    assert prop.loc["org_1", "shared_usd"] == pytest.approx(20 * 30 / 50)
    assert prop["chargeback_usd"].sum() == pytest.approx(70.0)
    by_calls = chargeback(calls, "organization_id", rule="calls").set_index("organization_id")
    assert by_calls.loc["org_2", "shared_usd"] == pytest.approx(20 * 2 / 3)
    even = chargeback(calls, "organization_id", rule="even").set_index("organization_id")
    assert even.loc["org_1", "shared_usd"] == pytest.approx(10.0)
    r = analyze_alignment(calls)
    assert r.shared_usd == 20.0
    # even split of $70: 35 each vs fair 42 / 28 -> $7 misallocated
    assert r.metric("Misallocated by an even split").value == pytest.approx(7.0)
    with pytest.raises(ValueError, match="rule='fair'"):
        chargeback(calls, "organization_id", rule="fair")


# ------------------------------------------------------------------------ profitability
def test_profitability_margins_and_bands():
    rows = [
        {"timestamp": "2026-01-01", "customer_id": "cust_1", "cost_usd": 20.0},
        {"timestamp": "2026-01-30", "customer_id": "cust_2", "cost_usd": 15.0},
    ]
    r = analyze_profitability(make_calls(rows), CUSTOMERS)
    t = r.by_customer.set_index("customer_id")
    assert t.loc["cust_1", "revenue_usd"] == 100.0  # 30 days = one month
    assert t.loc["cust_1", "margin_pct"] == pytest.approx(0.8)
    assert t.loc["cust_1", "band"] == "strong"
    assert t.loc["cust_2", "margin_usd"] == pytest.approx(-5.0)
    assert t.loc["cust_2", "band"] == "unprofitable"
    assert r.metric("Unprofitable customers").value == 1
    assert r.metric("Blended gross margin").value == pytest.approx((110 - 35) / 110)


def test_analyze_runs_one_analyzer_by_name_with_its_inputs_and_options():
    """One entry point (issue 8): ``analyze(name, ...)`` is the analyzer it names."""
    rows = [
        {"timestamp": "2026-01-01", "customer_id": "cust_1", "cost_usd": 20.0},
        {"timestamp": "2026-01-30", "customer_id": "cust_2", "cost_usd": 15.0},
    ]
    calls = make_calls(rows)
    direct = analyze_profitability(calls, CUSTOMERS, segment="organization_id")
    via = analyze("profitability", calls, customers=CUSTOMERS, segment="organization_id")
    pd.testing.assert_frame_equal(via.by_customer, direct.by_customer)
    assert [m.value for m in via.headline] == [m.value for m in direct.headline]
    with pytest.raises(ValueError, match="needs customers="):
        analyze("profitability", calls)
    with pytest.raises(ValueError, match="name='profit'"):
        analyze("profit", calls)
    with pytest.raises(TypeError):
        analyze("understanding", calls, no_such_option=1)
    flat = FlatSubscription.from_customers(CUSTOMERS)
    assert flat.fees == {
        str(k): float(v)
        for k, v in CUSTOMERS.groupby("subscription_tier")["monthly_fee_usd"].median().items()
    }


# ------------------------------------------------------------------------ pricing
def _usage(ktok: list[float], cost: list[float], tier: str = "pro") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(ktok))],
            "cycle": 0.0,
            "ktok": ktok,
            "cost_usd": cost,
            "months": 1.0,
            "subscription_tier": tier,
        }
    )


def test_pricing_models_bill_by_hand():
    u = _usage([500.0, 5000.0], [5.0, 50.0])
    assert FlatSubscription({"pro": 99.0}).bill(u).tolist() == [99.0, 99.0]
    assert UsageBased(0.02).bill(u).tolist() == pytest.approx([10.0, 100.0])
    tiered = Tiered(((1000.0, 0.03), (4000.0, 0.02), (math.inf, 0.01)))
    # 5000 ktok: 1000 x 0.03 + 3000 x 0.02 + 1000 x 0.01 = 30 + 60 + 10
    assert tiered.bill(u).tolist() == pytest.approx([15.0, 100.0])
    hybrid = Hybrid({"pro": 50.0}, {"pro": 2000.0}, 0.02)
    assert hybrid.bill(u).tolist() == pytest.approx([50.0, 50.0 + 3000 * 0.02])
    assert CostPlus(1.5).bill(u).tolist() == pytest.approx([12.5, 125.0])
    with pytest.raises(ValueError, match="subscription_tier='pro'"):
        FlatSubscription({"starter": 1.0}).bill(u)


def test_analyze_pricing_margins_winners_losers():
    rows = [
        {
            "timestamp": "2026-01-01",
            "customer_id": "cust_1",
            "input_tokens": 1_000_000,
            "output_tokens": 0,
            "cost_usd": 30.0,
        },
        {
            "timestamp": "2026-01-30",
            "customer_id": "cust_2",
            "input_tokens": 10_000,
            "output_tokens": 0,
            "cost_usd": 1.0,
        },
    ]
    models = [FlatSubscription({"pro": 100.0, "starter": 10.0}), UsageBased(0.2)]
    r = analyze_pricing(make_calls(rows), CUSTOMERS, models=models)
    s = r.summary.set_index("model")
    assert s.loc["flat subscription", "revenue_usd"] == pytest.approx(110.0)
    assert s.loc["usage-based", "revenue_usd"] == pytest.approx(200.0 + 2.0)
    assert s.loc["usage-based", "margin_change_pct"] == pytest.approx((171 - 79) / 79)
    wl = r.customers.query("model == 'usage-based'").set_index("customer_id")
    assert wl.loc["cust_1", "outcome"] == "pays more"
    assert wl.loc["cust_2", "outcome"] == "pays less"


# ------------------------------------------------------------------------ features
def test_features_revenue_attribution_and_roi():
    rows = [
        {"timestamp": "2026-01-01", "customer_id": "cust_1", "feature_id": "f1", "cost_usd": 10.0},
        {"timestamp": "2026-01-30", "customer_id": "cust_1", "feature_id": "f2", "cost_usd": 40.0},
        {"timestamp": "2026-01-30", "customer_id": "cust_1", "feature_id": "f2", "cost_usd": 40.0},
    ]
    r = analyze_features(make_calls(rows), CUSTOMERS)
    t = r.by_feature.set_index("feature_id")
    # $100 of revenue split by calls: f1 1/3, f2 2/3
    assert t.loc["f1", "revenue_usd"] == pytest.approx(100 / 3)
    assert t.loc["f2", "roi"] == pytest.approx((200 / 3 - 80) / 80)
    assert r.metric("Features losing money").value == 1
    even = analyze_features(make_calls(rows), CUSTOMERS, rule="even").by_feature
    assert even.set_index("feature_id").loc["f1", "revenue_usd"] == pytest.approx(50.0)


def test_task_complexity_defaults():
    assert task_complexity("classification") == "simple"
    assert task_complexity("agent_step") == "complex"
    assert task_complexity("unknown_task") == "moderate"
    with pytest.raises(ValueError, match="complexity='hard'"):
        quality_score("gpt-4", "hard")


def test_optimization_takes_prices_as_data_and_names_a_missing_row():
    """Regression (issue 8): the analyzer reprices from the table it is given, not the catalog."""
    rows = [{"task_type": "chat", "model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 0}]
    calls = make_calls(rows)
    sheet = pd.DataFrame(
        {
            "provider": ["openai"],
            "model": ["gpt-4o"],
            "input_usd_per_mtok": [1.0],  # a negotiated price, not the catalog's 2.50
            "output_usd_per_mtok": [4.0],
        }
    )
    r = analyze_optimization(calls, sheet, config=OptimizationConfig(candidates=()))
    assert r.metric("Monthly AI spend (repriced)").value == pytest.approx(1.0 * 30)
    with pytest.raises(LookupError, match="provider='openai', model='gpt-4o'"):
        analyze_optimization(
            calls, sheet.assign(model="gpt-4"), config=OptimizationConfig(candidates=())
        )


def test_analysis_imports_neither_simulation_nor_the_price_catalog():
    """Regression (issue 8): arrows point one way; doctests included (they are source text)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "showcase_lib" / "analysis"
    pattern = re.compile(r"showcase_lib(\.|\s+import\s+)(simulation|pricing)\b")
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if pattern.search(
            p.read_text(encoding="utf-8").replace("showcase_lib.pricing.price_table()", "")
        )
    ]
    assert not offenders, offenders


def test_ground_truth_enters_only_evaluation():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "showcase_lib" / "analysis"
    users = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "incidents" in p.read_text(encoding="utf-8")
    )
    assert users == ["_evaluation.py", "evaluation.py"], users


# --------------------------------------------------------------------------- issue 14 fast paths
@pytest.mark.parametrize(
    "values",
    [
        ["sess_000000000a1", "sess_000000000b2", "sess_000000000a1", "sess_00000000zzz"],
        ["s1", None, "s2", "s1"],  # missing ids: the text path, -1 as pd.factorize gives
        ["short", "a much longer id", "short"],  # lengths differ: the text path
        ["x" * 20, "y" * 20, "x" * 20],  # longer than two words: the text path
    ],
)
def test_id_codes_equal_pd_factorize(values):
    from showcase_lib.analysis.analyzers._keys import id_codes

    s = pd.Series(values, dtype="string[pyarrow]")
    codes, n = id_codes(s)
    expected, uniques = pd.factorize(s)
    assert codes.tolist() == expected.tolist() and n == len(uniques)
    assert id_codes(s)[0] is codes  # remembered for the same column
    assert not codes.flags.writeable


def test_id_codes_fall_back_to_the_text_on_a_hash_collision(monkeypatch):
    from showcase_lib.analysis.analyzers import _keys

    monkeypatch.setattr(_keys, "_mix", lambda h: h * np.uint64(0))  # every id hashes to 0
    s = pd.Series(["id_a", "id_b", "id_a"], dtype="string[pyarrow]")
    assert _keys.id_codes(s)[0].tolist() == [0, 1, 0]


def test_id_codes_hash_path_holds_on_ids_sharing_a_prefix():
    """Regression: ``hi * c ^ lo`` left the varying top bytes of "sess_xxx" colliding, so on
    the book's 16-byte session ids the hash path always gave up (and paid for both paths)."""
    from showcase_lib.analysis.analyzers import _keys

    # vary only the top two bytes of each word: 65,536 ids that the old mix folded together
    ids = pd.Series(
        [f"sess_0{a:02x}000000{b:02x}" for a in range(256) for b in range(256)],
        dtype="string[pyarrow]",
    )
    codes = _keys._factorize_words(*_keys._words(ids))
    assert codes is not None
    assert codes.tolist() == pd.factorize(ids)[0].tolist()


def test_categorical_codes_are_remembered_and_recomputed_after_an_edit():
    from showcase_lib.analysis.analyzers import _keys
    from showcase_lib.analysis.analyzers._keys import missing_codes, str_codes

    s = pd.Series(pd.Categorical(["b", "a", None, "b"], categories=["b", "a", "unused"]))
    codes, labels = str_codes(s)
    assert labels[codes].tolist() == s.astype(str).tolist() and labels.tolist() == ["a", "b", "nan"]
    assert (id(s.array), "str") in _keys._TABLES  # the category table is remembered
    # an in-place edit to a category no call used: the remembered table must not come back
    s.iloc[0] = "unused"
    codes2, labels2 = str_codes(s)
    assert labels2.tolist() == ["a", "b", "nan", "unused"]
    assert labels2[codes2].tolist() == s.astype(str).tolist()
    m_codes, m_labels = missing_codes(s, "(untagged)")
    assert m_labels[m_codes].tolist() == ["unused", "a", "(untagged)", "b"]


@pytest.mark.parametrize("seed", range(20))
def test_categorical_codes_equal_the_text_they_stand_for(seed):
    from showcase_lib.analysis.analyzers._keys import first_seen, is_not, missing_codes, str_codes

    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 400))
    cats = [f"v{int(x)}" for x in rng.permutation(k)]
    cats[0] = " " if seed % 3 == 0 else cats[0]
    values = rng.choice([*cats, None], size=int(rng.integers(0, 30_000)))
    s = pd.Series(pd.Categorical(values, categories=cats))
    codes, labels = str_codes(s)
    assert labels.tolist() == sorted(set(s.astype(str)))
    assert labels[codes].tolist() == s.astype(str).tolist()
    assert first_seen(codes, len(labels)).tolist() == pd.unique(codes).tolist()
    m_codes, m_labels = missing_codes(s, "(untagged)")
    text = ["(untagged)" if v is None or str(v).strip() == "" else v for v in values]
    assert m_labels[m_codes].tolist() == text
    for probe in (cats[-1], "nan", "absent"):
        assert is_not(s, probe).tolist() == (s.astype(str) != probe).tolist()


def test_cacheable_tokens_out_of_time_order_match_the_sorted_calls():
    from showcase_lib.analysis.analyzers._optimization import _cacheable_input_tokens

    ts = pd.to_datetime(["2026-01-01 00:02", "2026-01-01 00:00", "2026-01-01 00:01"], utc=True)
    df = pd.DataFrame(
        {
            "session_id": pd.Series(["s", "s", "s"], dtype="string[pyarrow]"),
            "input_tokens": [900, 500, 300],
            "timestamp": ts,
        }
    )
    # the first call in time (500 tokens) is cached nothing; the others min(500, own)
    assert _cacheable_input_tokens(df).tolist() == [500.0, 0.0, 300.0]


@pytest.mark.parametrize("seed", range(10))
def test_latency_count_and_mean_equal_the_group_by(seed):
    from showcase_lib.analysis.analyzers._performance import _count_mean

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 20_000))
    cats = [f"m{i}" for i in rng.permutation(9)]
    df = pd.DataFrame(
        {
            "model": pd.Categorical(rng.choice(cats[:6], n), categories=cats),  # 3 unused
            "latency_ms": rng.integers(1, 120_000, n),
        }
    )
    expected = df.groupby("model", observed=True)["latency_ms"].agg(calls="size", mean_ms="mean")
    pd.testing.assert_frame_equal(_count_mean(df, "model"), expected, check_exact=True)
    df.loc[0, "model"] = None  # a missing key: pandas' own rules apply
    assert _count_mean(df, "model") is None
    assert _count_mean(df.astype({"model": object}), "model") is None


@pytest.mark.parametrize("seed", range(12))
def test_group_quantiles_by_counting_equal_pandas_bitwise(seed):
    from showcase_lib.analysis._aggregations import _histogram_quantiles, group_quantiles

    rng = np.random.default_rng(seed)
    groups = int(rng.integers(1, 25))
    n = int(rng.integers(groups, 4_000))
    codes = np.concatenate([np.arange(groups), rng.integers(0, groups, n - groups)])
    rng.shuffle(codes)
    values = rng.integers(0, [1, 7, 300, 60_000][seed % 4] + 1, n)
    qs = [0.0, 0.3, 0.5, 0.95, 0.99, 1.0]
    expected = pd.Series(values).groupby(codes).quantile(qs).unstack().to_numpy()
    assert np.array_equal(group_quantiles(codes, values, groups, qs), expected)
    assert _histogram_quantiles(codes, values, np.bincount(codes), qs) is not None  # counted
    # floats, negatives and very wide ranges are sorted instead, with the same answer
    assert _histogram_quantiles(codes, values - values.max() - 1, np.bincount(codes), qs) is None
    wide = values * 10_000
    assert np.array_equal(
        group_quantiles(codes, wide, groups, qs),
        pd.Series(wide).groupby(codes).quantile(qs).unstack().to_numpy(),
    )


@pytest.mark.parametrize(
    "ts",
    [
        pd.Series(pd.to_datetime(["2026-01-03 01:00", "2026-01-01 23:30"], utc=True)),
        pd.Series(pd.to_datetime(["2026-01-01 23:30", None, "2026-01-03 00:00"], utc=True)),  # NaT
        pd.Series(pd.to_datetime(["2026-01-01 23:30", "2026-01-03 01:00"])),  # naive
        pd.Series(pd.to_datetime(["2026-01-01 23:30", "2026-01-02 00:00"], utc=True).as_unit("us")),
        pd.Series(pd.to_datetime(["2026-01-01 04:30", "2026-01-02 00:00"], utc=True)).dt.tz_convert(
            "America/New_York"
        ),
    ],
)
def test_first_and_last_call_equal_pandas_min_max(ts):
    from showcase_lib.analysis.analyzers._base import _first_last

    first, last = _first_last(ts)
    assert (first, last) == (ts.min(), ts.max())
    assert str(first.tz) == str(ts.min().tz) and first.unit == ts.min().unit
