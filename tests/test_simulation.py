"""Simulation: schema, reproducibility, realistic distributions, and each scenario's incident."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib import pricing
from showcase_lib.schema import (
    ALL_COLUMNS,
    DTYPES,
    ENVIRONMENTS,
    STATUSES,
    STOP_REASONS,
    SUBSCRIPTION_TIERS,
)
from showcase_lib.simulation import SCENARIOS, Simulation, simulate
from showcase_lib.simulation._core import INCIDENT_COLUMNS

#: The frontier and reasoning models of the 2026 fleet (the default traffic).
PREMIUM = {"gpt-5.5", "o3", "claude-opus-5", "gemini-3.1-pro-preview"}


@pytest.fixture(scope="module")
def base() -> Simulation:
    return simulate("steady_growth", seed=7)


@pytest.fixture(scope="module")
def small() -> dict[str, Simulation]:
    return {s: simulate(s, days=28, customers=60, seed=11) for s in SCENARIOS}


def _daily(calls: pd.DataFrame, customer: str, what: str = "calls") -> pd.Series:
    mine = calls[calls["customer_id"] == customer]
    day = mine["timestamp"].dt.floor("D")
    if what == "calls":
        return mine.groupby(day).size()
    return mine.groupby(day)[what].sum()


# --- schema and reproducibility ------------------------------------------------------------


def test_columns_and_dtypes_are_exactly_the_schema(base):
    calls = base.calls
    assert list(calls.columns) == list(ALL_COLUMNS)
    for col in ALL_COLUMNS:
        assert calls[col].dtype == DTYPES[col], col
    assert calls["timestamp"].is_monotonic_increasing
    assert isinstance(calls.index, pd.RangeIndex)


def test_default_size_is_notebook_friendly(base):
    assert 100_000 <= len(base.calls) <= 300_000
    assert base.calls["customer_id"].nunique() >= 90


def test_same_seed_same_frame_other_seed_other_frame():
    a = simulate("viral_spike", days=6, customers=15, seed=3)
    b = simulate("viral_spike", days=6, customers=15, seed=3)
    c = simulate("viral_spike", days=6, customers=15, seed=4)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.incidents, b.incidents)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert len(a.calls) != len(c.calls) or not a.calls["call_id"].equals(c.calls["call_id"])


def test_timestamps_fall_inside_the_period(base):
    ts = base.calls["timestamp"]
    assert ts.min() >= pd.Timestamp("2026-07-13", tz="UTC")  # the default start
    assert ts.max() < pd.Timestamp("2026-08-12", tz="UTC")
    other = simulate(days=2, customers=5, seed=1, start="2025-06-10")
    assert other.calls["timestamp"].dt.strftime("%Y-%m-%d").isin(["2025-06-10", "2025-06-11"]).all()


# --- distributions -----------------------------------------------------------------------------


def test_values_are_in_range(base):
    c = base.calls
    assert (c["input_tokens"] > 0).all()
    assert (c["output_tokens"] >= 0).all()
    assert (c.loc[c["status"] == "success", "output_tokens"] > 0).all()
    assert (c.loc[c["status"] == "error", "output_tokens"] == 0).all()
    assert (c["latency_ms"] > 0).all() and (c["latency_ms"] <= 60_000).all()
    assert (c["cost_usd"] >= 0).all() and c["cost_usd"].sum() > 0
    assert set(c["subscription_tier"].unique()) <= set(SUBSCRIPTION_TIERS)
    assert set(c["environment"].unique()) <= set(ENVIRONMENTS)
    assert set(c["status"].unique()) == set(STATUSES)
    assert set(c["stop_reason"].dropna().unique()) <= set(STOP_REASONS)


def test_error_and_timeout_shares_are_plausible(base):
    share = base.calls["status"].value_counts(normalize=True)
    assert 0.003 < share["error"] < 0.05
    assert 0.0005 < share["timeout"] < 0.03
    stop = base.calls.groupby("status", observed=True)["stop_reason"].agg(lambda s: set(s))
    assert stop["timeout"] == {"TIMEOUT"}
    assert stop["error"] <= {"ERROR", "CANCELLED"}


def test_cost_is_priced_by_the_catalog(base):
    again = pricing.cost_usd(base.calls)
    np.testing.assert_allclose(base.calls["cost_usd"].to_numpy(), again.to_numpy(), rtol=1e-12)


def test_environment_is_mostly_production(base):
    share = base.calls["environment"].value_counts(normalize=True)
    assert share["production"] > 0.85 and share["staging"] > 0 and share["development"] > 0


def test_token_shapes_depend_on_task(base):
    c = base.calls
    visible = c["output_tokens"] - c["reasoning_tokens"]
    med = pd.DataFrame({"in": c["input_tokens"], "out": visible, "task": c["task_type"]})
    med = med.groupby("task", observed=True).median()
    assert med.loc["classification", "out"] < 30
    assert med.loc["summarization", "in"] > 1.5 * med.loc["classification", "in"]
    assert med.loc["code_generation", "out"] > med.loc["extraction", "out"]
    old = simulate("steady_growth", days=5, customers=40, seed=7, fleet="2024").calls
    med = old.groupby("task_type", observed=True)[["input_tokens", "output_tokens"]].median()
    assert med.loc["summarization", "input_tokens"] > 3 * med.loc["chat", "input_tokens"]


def test_model_choice_depends_on_task_and_tier(base):
    c = base.calls
    premium = c["model"].isin(PREMIUM)
    by_task = premium.groupby(c["task_type"], observed=True).mean()
    assert by_task["code_generation"] > by_task["classification"] + 0.2
    by_tier = premium.groupby(c["subscription_tier"], observed=True).mean()
    assert by_tier["enterprise"] > by_tier["starter"] + 0.1


def test_providers_include_cloud_hosted_variants(base):
    assert set(base.calls["provider"].unique()) == {"openai", "anthropic", "google", "aws-bedrock"}
    old = simulate("steady_growth", days=5, customers=60, seed=7, fleet="2024").calls
    assert set(old["provider"].unique()) == set(pricing.PROVIDERS)


def test_ids_look_right_and_are_unique(base):
    c = base.calls
    assert c["call_id"].is_unique and c["request_id"].is_unique
    assert c["call_id"].str.fullmatch(r"call_[0-9a-f]{11}").all()
    assert c["trace_id"].str.fullmatch(r"trace_[0-9a-f]{10}").all()
    assert c["session_id"].str.fullmatch(r"sess_[0-9a-f]{11}").all()
    assert c["request_id"].str.fullmatch(r"req_[0-9a-f]{12}").all()
    assert c["customer_id"].astype(str).str.fullmatch(r"cust_\d{4}").all()
    assert c["organization_id"].astype(str).str.fullmatch(r"org_\d{3}").all()
    assert c["user_agent"].astype(str).str.fullmatch(r"[a-z_]+_v\d+\.\d+").all()


def test_traces_chain_several_calls_of_one_customer(base):
    c = base.calls
    per_trace = c.groupby("trace_id", observed=True).agg(
        n=("call_id", "size"), customers=("customer_id", "nunique"), task=("task_type", "first")
    )
    assert (per_trace["customers"] == 1).all()
    assert per_trace["n"].max() > 3
    multi = per_trace.groupby("task", observed=True)["n"].mean()
    assert multi["agent_step"] > 2 > multi["classification"]
    assert c["session_id"].nunique() < c["trace_id"].nunique()


def test_customers_table_matches_the_calls(base):
    cust = base.customers.set_index("customer_id")
    assert {"organization_id", "archetype", "subscription_tier", "monthly_fee_usd"} <= set(
        cust.columns
    )
    assert set(cust["archetype"]) == {"light", "power", "heavy"}
    assert cust.groupby("organization_id").size().max() > 1
    first = base.calls.groupby("customer_id", observed=True)[
        ["subscription_tier", "organization_id"]
    ].first()
    joined = first.join(cust, rsuffix="_c")
    assert (joined["subscription_tier"].astype(str) == joined["subscription_tier_c"]).all()
    assert (joined["organization_id"].astype(str) == joined["organization_id_c"]).all()
    fees = cust.groupby("subscription_tier")["monthly_fee_usd"].first()
    assert fees["starter"] < fees["pro"] < fees["enterprise"]


def test_daily_and_weekly_rhythm(base):
    c = base.calls
    us_east = c[c["region"] == "us-east-1"]
    hour = us_east["timestamp"].dt.hour
    # 15:00-20:00 UTC is the US-east working day, 06:00-09:00 UTC its night
    assert (hour.between(15, 19)).sum() > 3 * (hour.between(6, 8)).sum()
    daily = c.groupby(c["timestamp"].dt.floor("D")).size()
    weekend = daily.index.dayofweek >= 5
    assert daily[weekend].mean() < 0.85 * daily[~weekend].mean()


def test_size_knob_hits_the_target():
    sim = simulate("steady_growth", days=5, customers=20, seed=2, calls_per_day=20_000)
    assert 0.9 * 100_000 < len(sim.calls) < 1.1 * 100_000
    bigger = simulate("steady_growth", days=5, customers=20, seed=2, volume=3.0)
    smaller = simulate("steady_growth", days=5, customers=20, seed=2)
    assert len(bigger.calls) > 2.5 * len(smaller.calls)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scenario='nope'"):
        simulate("nope")
    with pytest.raises(ValueError, match="spike_factr"):
        simulate("viral_spike", spike_factr=3)
    with pytest.raises(ValueError, match="onset_day"):
        simulate("viral_spike", days=10, onset_day=12)
    with pytest.raises(ValueError, match="gpt-17"):
        simulate("model_migration", days=4, customers=5, to_model="gpt-17")


def test_repr_is_short(base):
    text = repr(base)
    assert text.startswith("Simulation(scenario='steady_growth'") and len(text) < 200


# --- scenarios ---------------------------------------------------------------------------------


def test_every_scenario_records_its_incidents(small):
    for name, sim in small.items():
        assert list(sim.incidents.columns) == list(INCIDENT_COLUMNS), name
        assert len(sim.incidents) >= 1, name
        assert sim.incidents["start"].dt.tz is not None
        assert (sim.incidents["end"] >= sim.incidents["start"]).all()
        assert list(sim.calls.columns) == list(ALL_COLUMNS)


def test_steady_growth_grows(small):
    inc = small["steady_growth"].incidents.iloc[0]
    assert inc["kind"] == "growth" and inc["observed_effect"] > 1.1
    assert (small["steady_growth"].customers["signup_day"] > 0).any()


def test_viral_spike_is_tenfold_from_onset(small):
    sim = small["viral_spike"]
    inc = sim.incidents.iloc[0]
    daily = _daily(sim.calls, inc["customer_id"])
    before = daily[daily.index < inc["start"]].mean()
    after = daily[daily.index >= inc["start"]].mean()
    assert after >= 8 * before
    assert inc["effect"] == 10.0 and 8 <= inc["observed_effect"] <= 12.5
    assert inc["extra_cost_usd"] > 0


def test_bigger_spike_costs_more():
    kw = dict(days=20, customers=30, seed=5, spike_customer="cust_0003")
    low = simulate("viral_spike", spike_factor=3, **kw).incidents.iloc[0]
    high = simulate("viral_spike", spike_factor=20, **kw).incidents.iloc[0]
    assert high["extra_cost_usd"] > 3 * low["extra_cost_usd"]
    assert low["customer_id"] == high["customer_id"] == "cust_0003"


def test_seasonal_cycles_are_visible(small):
    inc = small["seasonal"].incidents.set_index("kind")
    assert inc.loc["weekly_cycle", "observed_effect"] == pytest.approx(0.45, abs=0.1)
    assert inc.loc["monthly_cycle", "observed_effect"] > 1.3


def test_model_migration_moves_the_share_on_the_date(small):
    sim = small["model_migration"]
    inc = sim.incidents.iloc[0]
    c = sim.calls
    before = c[c["timestamp"] < inc["start"]]
    after = c[c["timestamp"] >= inc["start"]]
    assert (before["model"] == "gpt-4").mean() > 0.05
    ratio = (after["model"] == "gpt-4").mean() / (before["model"] == "gpt-4").mean()
    assert 0.25 < ratio < 0.55  # 60% moved away
    assert inc["observed_effect"] == pytest.approx(0.6, abs=0.05)
    assert inc["extra_cost_usd"] < 0  # cheaper model: money saved
    assert (after["model"] == "gpt-4o-mini").mean() > (before["model"] == "gpt-4o-mini").mean()


def test_bigger_migration_saves_more():
    kw = dict(days=10, customers=30, seed=8)
    low = simulate("model_migration", share=0.2, **kw).incidents.iloc[0]
    high = simulate("model_migration", share=0.9, **kw).incidents.iloc[0]
    assert high["extra_cost_usd"] < 2 * low["extra_cost_usd"] < 0


def test_runaway_agent_burns_tokens_in_its_window(small):
    sim = small["runaway_agent"]
    inc = sim.incidents.iloc[0]
    c = sim.calls
    mine = c[c["customer_id"] == inc["customer_id"]]
    window = mine["timestamp"].between(inc["start"], inc["end"])
    tokens = mine["input_tokens"] + mine["output_tokens"]
    hours_in = (inc["end"] - inc["start"]) / pd.Timedelta(hours=1)
    hours_out = 28 * 24 - hours_in
    per_hour_in = tokens[window].sum() / hours_in
    per_hour_out = tokens[~window].sum() / hours_out
    assert per_hour_in > 50 * per_hour_out
    loop = mine[window & (mine["task_type"] == "agent_step")]
    assert loop["trace_id"].value_counts().iloc[0] >= 0.9 * inc["extra_calls"]
    assert inc["extra_cost_usd"] > 100 and inc["observed_effect"] > 10


def test_longer_loop_burns_more():
    kw = dict(days=6, customers=20, seed=9)
    short = simulate("runaway_agent", loop_hours=1, **kw).incidents.iloc[0]
    long = simulate("runaway_agent", loop_hours=8, **kw).incidents.iloc[0]
    assert long["extra_cost_usd"] > 5 * short["extra_cost_usd"]
    assert long["extra_calls"] == 8 * short["extra_calls"]


# --- building blocks ---------------------------------------------------------------------------


def test_hex_ids_are_distinct_for_distinct_keys():
    from showcase_lib.simulation._ids import hex_ids

    keys = np.random.default_rng(0).choice(2**40, size=200_000, replace=False)
    ids = pd.Series(hex_ids("trace_", keys, salt=99))
    assert ids.is_unique and ids.str.len().eq(16).all()
    again = pd.Series(hex_ids("trace_", keys[::-1].copy(), salt=99))
    assert set(again) == set(ids)
    with pytest.raises(ValueError, match="keys must lie"):
        hex_ids("trace_", np.array([2**40]), salt=1)


def test_time_sort_is_a_stable_argsort():
    from showcase_lib.simulation._core import _sort_times

    ts = np.random.default_rng(1).integers(0, 5_000, 50_000) + 10**12
    expected = np.argsort(ts, kind="stable")
    got_ts, order = _sort_times(ts.copy(), 10**12, 10**12 + 5_000)
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(got_ts, ts[expected])


# --- the model table is coupled to the price catalog by name, not by order ---------------------


def test_every_simulated_model_is_priced_by_name():
    from showcase_lib.simulation._fleet import FLEET_2026
    from showcase_lib.simulation._traffic import MODEL_PROFILES

    for provider, model in [*MODEL_PROFILES, *FLEET_2026]:  # price() raises for unknown names
        assert pricing.price(provider, model).input_usd_per_mtok > 0, (provider, model)


def test_simulation_does_not_depend_on_the_catalog_order(monkeypatch):
    kw = dict(days=3, customers=8, seed=2)
    before = simulate("model_migration", **kw).calls
    before_2026 = simulate("steady_growth", **kw).calls
    monkeypatch.setattr(pricing, "CATALOG", tuple(reversed(pricing.CATALOG)))
    after = simulate("model_migration", **kw).calls
    pd.testing.assert_frame_equal(before, after)
    pd.testing.assert_frame_equal(before_2026, simulate("steady_growth", **kw).calls)


def test_model_profiles_are_keyword_data():
    from showcase_lib.simulation._traffic import MODEL_PROFILES, ModelProfile

    gpt4 = MODEL_PROFILES[("openai", "gpt-4")]
    assert gpt4 == ModelProfile(
        use="premium",
        popularity=0.22,
        ttft_ms=800,
        tokens_per_s=22,
        context_tokens=8_192,
        error_rate=0.012,
    )
    assert {p.use for p in MODEL_PROFILES.values()} == {"premium", "cheap", None}


# --- the 2026 fleet and its token taxonomy (issue 10) -----------------------------------------


def test_default_traffic_is_the_2026_fleet(base):
    from showcase_lib.simulation._fleet import FLEET_2026

    c = base.calls
    drawn = set(zip(c["provider"].astype(str), c["model"].astype(str), strict=True))
    assert drawn == set(FLEET_2026)
    uses = {p.use for p in FLEET_2026.values()}
    assert uses == {"frontier", "mid", "small", "reasoning"}
    for provider in ("openai", "anthropic", "google"):
        assert {p.use for (pr, _), p in FLEET_2026.items() if pr == provider} >= {
            "frontier",
            "mid",
            "small",
        }


def test_taxonomy_respects_the_inclusive_rule(base):
    c = base.calls
    assert (c["input_tokens"] >= c["cache_read_tokens"] + c["cache_write_tokens"]).all()
    assert (c["cache_write_tokens"] >= c["cache_write_1h_tokens"]).all()
    assert (c["output_tokens"] >= c["reasoning_tokens"]).all()
    for col in ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens"):
        assert (c[col] >= 0).all() and c[col].sum() > 0, col


def test_cache_hit_rates_follow_the_feature(base):
    c = base.calls
    hit = (c["cache_read_tokens"] > 0).groupby(c["feature_id"], observed=True).mean()
    assert hit["chat_widget"] > 0.7 and hit["pr_agent"] > 0.7  # long reused prompts
    assert hit["kb_answer"] < hit["chat_widget"] - 0.15  # retrieval varies its context
    anthropic = c[c["provider"].isin(["anthropic", "aws-bedrock"])]
    assert (anthropic["cache_write_tokens"] > 0).mean() > 0.05  # misses write the prefix
    assert anthropic["cache_write_1h_tokens"].sum() > 0  # some 1-hour writes
    openai = c[c["provider"] == "openai"]
    assert openai["cache_write_tokens"].sum() == 0  # automatic caching: writes are free
    assert (openai["cache_read_tokens"] > 0).mean() > 0.4


def test_reasoning_depends_on_task_and_model(base):
    c = base.calls
    ok = c[c["status"] == "success"]
    share = ok.groupby("task_type", observed=True)[["reasoning_tokens", "output_tokens"]].sum()
    share = share["reasoning_tokens"] / share["output_tokens"]
    assert share["classification"] == 0
    assert share["code_generation"] > share["translation"] + 0.2
    by_model = ok.groupby("model", observed=True)["reasoning_tokens"].sum()
    assert by_model["claude-haiku-4-5"] == 0 and by_model["gemini-3.5-flash-lite"] == 0
    per_call = ok.groupby("model", observed=True)["reasoning_tokens"].mean()
    assert per_call["o3"] > per_call["gpt-5.5"]


def test_batch_share_runs_backfills_on_the_batch_tier(base):
    c = base.calls
    batch = (c["service_tier"] == "batch").groupby(c["feature_id"], observed=True).mean()
    assert 0.3 < batch["report_summary"] < 0.7
    assert batch["chat_widget"] == 0 and batch["pr_agent"] == 0
    assert 0.03 < (c["service_tier"] == "batch").mean() < 0.25
    assert set(c["service_tier"].unique()) == {"standard", "batch"}


def test_a_few_long_context_calls_cross_a_cliff(base):
    c = base.calls
    over = c[(c["model"] == "gpt-5.5") & (c["input_tokens"] > 272_000)]
    assert 1 <= len(over) < 0.005 * len(c)
    gem = c[(c["model"] == "gemini-3.1-pro-preview") & (c["input_tokens"] > 200_000)]
    assert len(gem) >= 1


def test_simulated_cost_is_the_full_bill_to_the_cent(base):
    """Golden-suite style: each call's cost_usd is cost_breakdown()["total"] at its timestamp,
    and the whole bill agrees to the cent."""
    c = base.calls
    bill = pricing.cost_breakdown(c)
    np.testing.assert_allclose(c["cost_usd"].to_numpy(), bill["total"].to_numpy(), rtol=1e-12)
    assert round(float(c["cost_usd"].sum()), 2) == round(float(bill["total"].sum()), 2)
    assert bill["cache_read"].sum() > 0 and bill["reasoning"].sum() > 0
    # the naive 2024 formula overprices this traffic (cache reads are the bigger effect)
    t = pricing.price_table().set_index(["provider", "model"])
    key = pd.MultiIndex.from_arrays([c["provider"].astype(str), c["model"].astype(str)])
    rates = t.reindex(key)
    naive = (
        c["input_tokens"].to_numpy() * rates["input_usd_per_mtok"].to_numpy()
        + c["output_tokens"].to_numpy() * rates["output_usd_per_mtok"].to_numpy()
    ) / 1e6
    assert naive.sum() > 1.2 * c["cost_usd"].sum()


def test_simulated_calls_at_one_instant_reprice_the_luna_cut(base):
    c = base.calls
    luna = c[c["model"] == "gpt-5.6-luna"]
    july = luna[luna["timestamp"] < "2026-07-30"]
    assert len(july) > 100
    today = pricing.cost_usd(july, at="2026-12-01").sum()
    assert today == pytest.approx(0.2 * july["cost_usd"].sum(), rel=1e-9)


def test_2026_traffic_is_deterministic_per_seed():
    a = simulate("incidents_2026", days=20, customers=30, seed=5)
    b = simulate("incidents_2026", days=20, customers=30, seed=5)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.incidents, b.incidents)
    c = simulate("incidents_2026", days=20, customers=30, seed=6)
    assert not a.calls["cost_usd"].equals(c.calls["cost_usd"])


# --- the 2026 incidents --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inc2026() -> Simulation:
    return simulate("incidents_2026", days=30, customers=100, seed=0)


def _feature_window(calls, feature, start):
    mine = calls[calls["feature_id"] == feature]
    return mine[mine["timestamp"] < start], mine[mine["timestamp"] >= start]


def test_incidents_2026_injects_the_four_kinds_at_distinct_days(inc2026):
    inc = inc2026.incidents
    assert list(inc.columns) == list(INCIDENT_COLUMNS)
    assert list(inc["kind"]) == [
        "cache_miss_regression",
        "reasoning_creep",
        "price_change",
        "retry_storm",
    ]
    assert list(inc["driver"]) == ["cache_read", "reasoning", "price", "calls"]
    assert inc["start"].dt.floor("D").is_unique
    assert inc.loc[inc["kind"] == "price_change", "start"].iloc[0] == pd.Timestamp(
        "2026-07-30", tz="UTC"
    )  # as genai-prices 0.2.3 dates it (not 2026-11-01)


def test_cache_regression_drops_the_hit_rate_at_flat_volume(inc2026):
    calls, inc = inc2026.calls, inc2026.incidents.set_index("kind")
    row = inc.loc["cache_miss_regression"]
    before, after = _feature_window(calls, row["feature_id"], row["start"])
    hit_before = (before["cache_read_tokens"] > 0).mean()
    hit_after = (after["cache_read_tokens"] > 0).mean()
    assert hit_before > 0.7 and hit_after < 0.02
    days_before = (row["start"] - calls["timestamp"].min()).days
    days_after = (row["end"] - row["start"]).days
    volume = (len(after) / days_after) / (len(before) / days_before)
    assert 0.8 < volume < 1.3  # flat volume: a calls-per-hour detector sees nothing
    fixed = pricing.cost_usd(after, at=row["start"]).mean()
    fixed /= pricing.cost_usd(before, at=row["start"]).mean()
    assert fixed > 2.0 and row["observed_effect"] == pytest.approx(fixed, rel=1e-9)
    assert row["extra_cost_usd"] > 0 and row["effect"] > 2.0


def test_reasoning_creep_multiplies_reasoning_at_flat_visible_output(inc2026):
    calls, inc = inc2026.calls, inc2026.incidents.set_index("kind")
    row = inc.loc["reasoning_creep"]
    before, after = _feature_window(calls, row["feature_id"], row["start"])
    ratio = after["reasoning_tokens"].mean() / before["reasoning_tokens"].mean()
    assert 3.5 < ratio < 5.5 and row["observed_effect"] == pytest.approx(ratio, rel=1e-9)
    visible = lambda d: (d["output_tokens"] - d["reasoning_tokens"]).mean()  # noqa: E731
    assert 0.9 < visible(after) / visible(before) < 1.1
    assert row["extra_cost_usd"] > 0


def test_retry_storm_multiplies_billed_calls_sharing_the_request_id(inc2026):
    calls, inc = inc2026.calls, inc2026.incidents.set_index("kind")
    row = inc.loc["retry_storm"]
    mine = calls[calls["customer_id"] == row["customer_id"]]
    inside = mine[mine["timestamp"].between(row["start"], row["end"], inclusive="left")]
    per_request = inside.groupby("request_id").size()
    assert per_request.max() > 1 and len(inside) / len(per_request) > 1.8
    assert row["observed_effect"] == pytest.approx(len(inside) / len(per_request), rel=1e-9)
    assert row["extra_calls"] == len(inside) - len(per_request)
    retried = inside[inside["request_id"].isin(per_request[per_request > 1].index)]
    assert (retried.groupby("request_id")["trace_id"].nunique() == 1).all()
    assert (retried["status"] == "error").mean() > 0.5
    outside = calls[~calls.index.isin(inside.index)]
    assert outside["request_id"].is_unique


def test_price_change_moves_cost_at_flat_tokens(inc2026):
    calls, inc = inc2026.calls, inc2026.incidents.set_index("kind")
    row = inc.loc["price_change"]
    luna = calls[calls["model"] == "gpt-5.6-luna"]
    before, after = luna[luna["timestamp"] < row["start"]], luna[luna["timestamp"] >= row["start"]]
    tokens = lambda d: (d["input_tokens"] + d["output_tokens"]).mean()  # noqa: E731
    assert 0.8 < tokens(after) / tokens(before) < 1.25  # flat usage
    assert row["effect"] == pytest.approx(0.2, rel=1e-6)  # $1/$6 -> $0.20/$1.20 per MTok
    per_call = after["cost_usd"].mean() / before["cost_usd"].mean()
    assert per_call < 0.35 and row["observed_effect"] == pytest.approx(per_call, rel=1e-9)
    assert row["extra_cost_usd"] < 0 and pd.isna(row["customer_id"])


def test_single_2026_scenarios_and_their_errors():
    kw = dict(days=30, customers=40, seed=2)
    for name, kind in [
        ("cache_regression", "cache_miss_regression"),
        ("reasoning_creep", "reasoning_creep"),
        ("retry_storm", "retry_storm"),
        ("price_change", "price_change"),
    ]:
        inc = simulate(name, **kw).incidents
        assert inc["kind"].tolist() == [kind], name
    with pytest.raises(ValueError, match="no dated price change"):
        simulate("price_change", days=5, customers=5)
    with pytest.raises(ValueError, match="regression_feature='nope'"):
        simulate("cache_regression", days=5, customers=5, regression_feature="nope")
    with pytest.raises(ValueError, match="2026 fleet"):
        simulate("reasoning_creep", days=5, customers=5, fleet="2024")
