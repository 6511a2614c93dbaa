"""Part D scenarios respond to their inputs, so no figure can be a constant."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from showcase_lib import pricing
from showcase_lib.analysis._scenarios import SPIKE_DETECTOR, ABTestConfig, ab_test_quality
from showcase_lib.analysis.evaluation import spike_truth
from showcase_lib.analysis.scenarios import (
    ModelComparisonConfig,
    SpikeResponseConfig,
    model_comparison,
    pricing_strategy,
    viral_spike_response,
)
from showcase_lib.simulation import simulate

DAYS, CUSTOMERS, SEED = 21, 30, 4
# small fleet: a lower materiality floor
RESPONSE = SpikeResponseConfig(detector=dataclasses.replace(SPIKE_DETECTOR, min_usd=0.5))
PRICES = pricing.price_table()


@pytest.fixture(scope="module")
def fleet() -> pd.DataFrame:
    return simulate("steady_growth", days=DAYS, customers=CUSTOMERS, seed=SEED).calls


@pytest.fixture(scope="module")
def big_customer() -> str:
    cust = simulate("viral_spike", days=2, customers=CUSTOMERS, seed=SEED).customers
    return str(cust.sort_values("requests_per_day").iloc[-1]["customer_id"])


def _spike(factor: float, customer: str):
    sim = simulate(
        "viral_spike",
        days=DAYS,
        customers=CUSTOMERS,
        seed=SEED,
        spike_factor=factor,
        spike_customer=customer,
    )
    customer, onset = spike_truth(sim.incidents)[["true_customer", "true_onset"]]
    return sim, viral_spike_response(sim.calls, customer=customer, onset=onset, config=RESPONSE)


def _respond(sim, **changes):
    customer, onset = spike_truth(sim.incidents)[["true_customer", "true_onset"]]
    cfg = dataclasses.replace(RESPONSE, **changes)
    return viral_spike_response(sim.calls, customer=customer, onset=onset, config=cfg)


def test_bigger_spike_means_more_prevented_spend(big_customer):
    _, small = _spike(4.0, big_customer)
    sim, big = _spike(16.0, big_customer)
    assert big.alert_at is not None and big.alert_at >= big.onset
    assert big.prevented_usd > small.prevented_usd >= 0.0
    assert big.prevented_usd > 0
    # prevented spend is part of the spike spend, never more
    assert big.prevented_usd < big.spike_spend_usd
    truth = spike_truth(sim.incidents, big)
    assert truth["right_customer"] and truth["delay"] >= pd.Timedelta(0)


def test_a_tighter_limit_prevents_more(big_customer):
    sim, loose = _spike(10.0, big_customer)
    tight = _respond(sim, limit_multiple=1.0)
    assert tight.prevented_usd > loose.prevented_usd


def test_a_slower_reaction_prevents_less(big_customer):
    sim, fast = _spike(10.0, big_customer)
    slow = _respond(sim, reaction_minutes=24 * 60)
    assert slow.prevented_usd < fast.prevented_usd


def test_dearer_baseline_model_means_more_savings(fleet):
    gpt4 = model_comparison(
        fleet, PRICES, config=ModelComparisonConfig(baseline=("openai", "gpt-4"), n_ab=100)
    )
    gpt4o = model_comparison(
        fleet, PRICES, config=ModelComparisonConfig(baseline=("openai", "gpt-4o"), n_ab=100)
    )
    assert gpt4.monthly_saving_usd > gpt4o.monthly_saving_usd > 0
    assert gpt4.per_call_reduction > gpt4o.per_call_reduction


def test_cheaper_candidate_saves_more_and_share_drives_fleet_saving(fleet):
    r = model_comparison(fleet, PRICES, config=ModelComparisonConfig(n_ab=100))
    c = r.candidates.set_index("candidate_model")
    assert (
        c.loc["gpt-4o-mini", "monthly_saving_usd"]
        > c.loc["claude-instant-1.2", "monthly_saving_usd"]
    )
    s = r.sensitivity.query("candidate_model == 'claude-instant-1.2'")
    assert s["fleet_saving_pct"].is_monotonic_increasing
    assert s["fleet_saving_pct"].max() < r.per_call_reduction  # a fleet never beats per call
    # the claim's 96% is a per-call figure for these prices: check it from the catalog
    assert 0.95 < r.per_call_reduction < 0.98


def test_ab_guardrail_separates_small_and_large_drops():
    ok = ab_test_quality("gpt-4", "gpt-4o-mini", ABTestConfig(n_per_arm=2000, max_drop=5.0, seed=1))
    bad = ab_test_quality(
        "gpt-4", "gpt-3.5-turbo", ABTestConfig(n_per_arm=2000, max_drop=3.0, seed=1)
    )
    assert ok.passed and not bad.passed
    assert ok.ci_low < ok.diff < ok.ci_high


def test_higher_price_level_means_higher_tiered_margin(fleet):
    cust = simulate("steady_growth", days=DAYS, customers=CUSTOMERS, seed=SEED).customers
    r = pricing_strategy(fleet, cust, markups=(2.0, 4.0, 8.0))
    t = r.sensitivity.query("model == 'tiered (graduated)'").sort_values("markup")
    assert t["monthly_margin_usd"].is_monotonic_increasing
    flat = r.sensitivity.query("model == 'flat subscription'")["monthly_margin_usd"]
    assert flat.nunique() == 1  # the baseline does not depend on the usage price


def test_viral_spike_response_needs_only_what_a_reader_knows():
    """Regression (issue 8): no ground truth in; the customer and onset are parameters."""
    import inspect

    params = inspect.signature(viral_spike_response).parameters
    assert "incidents" not in params
    assert params["customer"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["onset"].default is inspect.Parameter.empty
    idx = pd.date_range("2026-01-01", periods=24 * 8, freq="h", tz="UTC")
    spend = [1.0 if t < idx[24 * 6] else 12.0 for t in idx]
    calls = pd.DataFrame({"timestamp": idx, "customer_id": "c", "cost_usd": spend})
    hourly = dataclasses.replace(
        SPIKE_DETECTOR, window_buckets=72, recent_buckets=1, min_history=24
    )
    r = viral_spike_response(
        calls,
        customer="c",
        onset=idx[24 * 6],
        config=SpikeResponseConfig(freq="1h", detector=hourly),
    )
    assert r.alert_at is not None and r.prevented_usd > 0


def test_markup_for_target_is_the_lowest_price_level_that_reaches_the_lift(fleet):
    """Regression (issue 10): a linear interpolation of the grid missed the target by a price
    step (list prices have two significant digits); the level must reach it, just below not."""
    from showcase_lib.analysis.analyzers import analyze

    cust = simulate("steady_growth", days=DAYS, customers=CUSTOMERS, seed=SEED).customers
    r = pricing_strategy(fleet, cust, markups=(2.0, 4.0, 8.0, 16.0), target_lift=0.3)
    mk = r.markup_for_target
    assert 2.0 < mk < 16.0

    def lift(m: float) -> float:
        s = analyze("pricing", fleet, customers=cust, markup=m).summary.set_index("model")
        return float(s.loc["tiered (graduated)", "margin_change_pct"])

    assert lift(mk) >= 0.3 > lift(mk * 0.999)
