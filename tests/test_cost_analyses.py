"""The analyses price like the golden suite, and the three cost levers on hand-made frames.

Wherever an analysis reprices calls (model_comparison, cost_levers, the optimization analyzer),
it prices a modified copy of the calls with the pricer it is given; with
``pricing.cost_breakdown`` that must reproduce the hand-computed dollars of
``tests/test_cost_golden.py`` (read there, never edited here) to the cent, and a price table
(``pricing.price_table()``) must agree with it on calls of its price period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_cost_golden import CASES, GPT55, GPT55_BATCH, NOV, SONNET5, record

from showcase_lib import pricing
from showcase_lib.analysis._prices import as_pricer, table_cost
from showcase_lib.analysis._scenarios import HISTORIC_ROUTE, turn_on_caching
from showcase_lib.analysis.analyzers import OptimizationConfig, analyze
from showcase_lib.analysis.scenarios import (
    LeverConfig,
    ModelComparisonConfig,
    cost_levers,
    model_comparison,
)

M = 1_000_000
CENT = 0.005  # "to the cent": half a cent either way


def pricer(df: pd.DataFrame) -> pd.Series:
    """The book's pricer: the library's full bill at each call's timestamp."""
    return pricing.cost_breakdown(df)["total"]


def golden_calls(name: str, **tags) -> tuple[pd.DataFrame, float]:
    """One golden call as a record frame (one day: monthly factor 30) and its hand total."""
    (body, provider, flavor), _, total = CASES[name]
    row, _ = record(body, provider, flavor)
    row |= {"task_type": "chat", "feature_id": name, "customer_id": "c1", "cost_usd": total}
    row |= tags
    calls = pd.DataFrame([row])
    calls["timestamp"] = pd.to_datetime(calls["timestamp"], utc=True)
    return calls, total


# ------------------------------------------------------------------ agreement with the golden suite
@pytest.mark.parametrize("name", sorted(CASES))
def test_model_comparison_on_its_own_model_gives_the_golden_dollars(name):
    calls, total = golden_calls(name)
    own = (calls.loc[0, "provider"], calls.loc[0, "model"])
    cfg = ModelComparisonConfig(baseline=own, candidate=own, candidates=(), n_ab=20)
    r = model_comparison(calls, pricer, config=cfg)
    assert float(r.tasks["before_usd"].sum()) == pytest.approx(total, abs=1e-9)
    assert r.monthly_before_usd == pytest.approx(30 * total, abs=30 * CENT)


def test_regression_cache_heavy_call_is_not_repriced_with_the_naive_formula():
    """Issue 10: the old ``reprice`` billed input * p_in + output * p_out, so the Anthropic
    golden call (800 cache reads, 300 writes) came out at $0.0029 instead of $0.00191."""
    calls, total = golden_calls("anthropic-cache-both-ttls")
    naive = (1_200 * SONNET5["in"] + 50 * SONNET5["out"]) / M
    assert naive == pytest.approx(0.0029)
    for prices in (pricer, pricing.price_table()):
        cfg = ModelComparisonConfig(
            baseline=("anthropic", "claude-sonnet-5"),
            candidate=("anthropic", "claude-sonnet-5"),
            candidates=(),
            n_ab=20,
        )
        got = float(model_comparison(calls, prices, config=cfg).tasks["before_usd"].sum())
        assert got == pytest.approx(total, abs=1e-9) and got < naive


@pytest.mark.parametrize("name", sorted(CASES))
def test_price_table_agrees_with_the_golden_dollars(name):
    """A price table of today's prices (PRICE_AS_OF) prices the November calls like the suite:
    cache reads and both write TTLs, reasoning as output, the gpt-5.5 cliff."""
    calls, total = golden_calls(name)
    got = float(table_cost(calls, pricing.price_table()).iloc[0])
    assert got == pytest.approx(total, abs=1e-9)


def test_batch_lever_on_the_golden_batch_call():
    """gpt-5.5, 10k in / 1k out on 2026-11-15: $0.08 standard, $0.04 batch (package variant)."""
    row = {"provider": "openai", "model": "gpt-5.5", "input_tokens": 10_000}
    row |= {"output_tokens": 1_000, "timestamp": NOV, "task_type": "summarization"}
    row |= {"feature_id": "doc_summary", "service_tier": "standard"}
    calls = pd.DataFrame([row])
    standard = (10_000 * GPT55["in"] + 1_000 * GPT55["out"]) / M
    batch = (10_000 * GPT55_BATCH["in"] + 1_000 * GPT55_BATCH["out"]) / M
    assert (standard, batch) == pytest.approx((0.08, 0.04))
    cfg = LeverConfig(routes=(), prefix_share=0.5)
    for prices in (pricer, pricing.price_table()):
        r = cost_levers(calls, prices, config=cfg)
        assert r.monthly_cost_usd == pytest.approx(30 * standard, abs=1e-9)
        assert r.saving("batch tier") == pytest.approx(30 * (standard - batch), abs=1e-9)
        assert r.saving("switch model") == 0.0


def test_switch_lever_on_a_gpt4_call_by_hand():
    """The seed's pair on one simple gpt-4 call: $30/$60 -> $0.80/$2.40 per MTok."""
    row = {"provider": "openai", "model": "gpt-4", "input_tokens": 1_000}
    row |= {"output_tokens": 500, "timestamp": NOV, "task_type": "classification"}
    row |= {"feature_id": "triage"}
    calls = pd.DataFrame([row])
    before = (1_000 * 30 + 500 * 60) / M  # 0.06
    after = (1_000 * 0.80 + 500 * 2.40) / M  # 0.002
    r = cost_levers(calls, pricer, config=LeverConfig(routes=(HISTORIC_ROUTE,), prefix_share=0.5))
    assert r.saving("switch model") == pytest.approx(30 * (before - after), abs=1e-9)
    sw = r.switches.iloc[0]
    # the seed's "96% cheaper per token" is the output price; input is 97.3%
    assert sw["output_reduction"] == pytest.approx(0.96, abs=1e-12)
    assert sw["input_reduction"] == pytest.approx(1 - 0.8 / 30, abs=1e-12)
    assert sw["traffic_reduction"] == pytest.approx(1 - after / before, abs=1e-12)


def test_optimization_current_spend_is_the_golden_dollars():
    frames = [golden_calls(n)[0] for n in sorted(CASES)]
    calls = pd.concat(frames, ignore_index=True)
    total = sum(CASES[n][2] for n in CASES)
    cfg = OptimizationConfig(candidates=(), long_quantile=1.0)
    r = analyze("optimization", calls, prices=pricing.price_table(), config=cfg)
    assert r.metric("Monthly AI spend (repriced)").value == pytest.approx(30 * total, abs=1e-8)


# --------------------------------------------------------------------- levers on hand-made frames
HAIKU = {"in": 1.00, "read": 0.10, "w5m": 1.25, "out": 5.00}  # claude-haiku-4-5, per MTok


def haiku_calls(times: list[str], **cols) -> pd.DataFrame:
    n = len(times)
    base = {
        "timestamp": pd.to_datetime(times, utc=True),
        "provider": ["anthropic"] * n,
        "model": ["claude-haiku-4-5"] * n,
        "feature_id": ["chat_widget"] * n,
        "task_type": ["chat"] * n,
        "input_tokens": [4_000] * n,
        "output_tokens": [100] * n,
        "cache_read_tokens": [0] * n,
        "cache_write_tokens": [0] * n,
        "cache_write_1h_tokens": [0] * n,
        "reasoning_tokens": [0] * n,
        "service_tier": ["standard"] * n,
    }
    return pd.DataFrame(base | cols)


def test_caching_reads_within_the_ttl_and_writes_after_it_by_hand():
    calls = haiku_calls(["2026-11-02 10:00", "2026-11-02 10:04", "2026-11-02 10:20"])
    cfg = LeverConfig(routes=(), prefix_share=0.5, batch_task_types=())
    r = cost_levers(calls, pricer, config=cfg)
    # 10:00 writes 2,000, 10:04 reads them, 10:20 is 16 minutes later: writes again
    plain = (4_000 * HAIKU["in"] + 100 * HAIKU["out"]) / M
    write = (2_000 * HAIKU["in"] + 2_000 * HAIKU["w5m"] + 100 * HAIKU["out"]) / M
    read = (2_000 * HAIKU["in"] + 2_000 * HAIKU["read"] + 100 * HAIKU["out"]) / M
    saving = 3 * plain - (2 * write + read)
    # the read saves 2,000 x $0.90/MTok, each write costs 2,000 x $0.25/MTok more
    assert saving == pytest.approx(0.0018 - 2 * 0.0005, abs=1e-12)
    assert r.saving("prompt caching") == pytest.approx(30 * saving, abs=1e-9)
    view, changed = turn_on_caching(calls, cfg)
    assert view["cache_read_tokens"].tolist() == [0, 2_000, 0]
    assert view["cache_write_tokens"].tolist() == [2_000, 0, 2_000]
    assert changed.all()


def test_caching_a_rarely_called_feature_costs_more_than_it_saves():
    """Every call an hour apart: each one writes (1.25x), none reads."""
    calls = haiku_calls(["2026-11-02 10:00", "2026-11-02 11:00", "2026-11-02 12:00"])
    r = cost_levers(calls, pricer, config=LeverConfig(routes=(), prefix_share=0.5))
    assert r.saving("prompt caching") == pytest.approx(-30 * 3 * 2_000 * 0.25 / M, abs=1e-12)
    assert r.by_feature.loc[0, "best_lever"] == "none"


def test_caching_turns_warm_misses_into_reads_of_the_measured_prefix():
    """A feature that caches reuses its measured prefix (median read of its hits): a miss
    that came within the TTL of the previous call reads it instead of writing it."""
    calls = haiku_calls(
        ["2026-11-02 10:00", "2026-11-02 10:01", "2026-11-02 10:02"],
        input_tokens=[1_500, 4_000, 4_000],
        cache_read_tokens=[0, 3_000, 0],
        cache_write_tokens=[0, 0, 3_000],
    )
    view, changed = turn_on_caching(calls, LeverConfig())
    # call 0 is the first of its feature (cold), call 1 already reads: both stay as they are
    assert changed.tolist() == [False, False, True]
    assert view["cache_read_tokens"].tolist() == [0, 3_000, 3_000]
    assert view["cache_write_tokens"].tolist() == [0, 0, 0]
    r = cost_levers(calls, pricer, config=LeverConfig(routes=(), batch_task_types=()))
    saving = 3_000 * (HAIKU["w5m"] - HAIKU["read"]) / M  # a 5-minute write became a read
    assert r.saving("prompt caching") == pytest.approx(30 * saving, abs=1e-12)
    assert r.cache_share_now == pytest.approx(3_000 / 9_500)
    assert r.cache_share_after == pytest.approx(6_000 / 9_500)


def test_caching_needs_a_prefix_worth_caching():
    # a measured prefix below the 1,024-token minimum is not cached
    tiny = haiku_calls(
        ["2026-11-02 10:00", "2026-11-02 10:01"], cache_read_tokens=[500, 0], input_tokens=4_000
    )
    assert not turn_on_caching(tiny, LeverConfig())[1].any()
    # a feature that never caches: nothing measured, nothing assumed unless prefix_share says
    cold = haiku_calls(["2026-11-02 10:00", "2026-11-02 10:01"])
    assert not turn_on_caching(cold, LeverConfig())[1].any()
    assert not turn_on_caching(cold, LeverConfig(prefix_share=0.25))[1].any()  # 1,000 < 1,024
    view, changed = turn_on_caching(cold, LeverConfig(prefix_share=0.5))
    assert changed.all()  # 2,000-token prefix: written, then read
    assert view["cache_write_tokens"].tolist() == [2_000, 0]
    assert view["cache_read_tokens"].tolist() == [0, 2_000]
    short = haiku_calls(["2026-11-02 10:00", "2026-11-02 10:01"], input_tokens=1_300)
    assert not turn_on_caching(short, LeverConfig(prefix_share=0.75))[1].any()  # 975 tokens
    with pytest.raises(ValueError, match="prefix_share"):
        turn_on_caching(short, LeverConfig(prefix_share=1.5))


def test_switch_moves_only_simple_tasks_on_a_routed_model():
    calls = haiku_calls(["2026-11-02 10:00"] * 3, model=["claude-sonnet-5"] * 3)
    calls["task_type"] = ["classification", "agent_step", "translation"]
    calls["feature_id"] = ["triage", "agent", "translate"]
    r = cost_levers(calls, pricer, config=LeverConfig(prefix_share=0.5, batch_task_types=()))
    sw = r.switches.set_index("from_model").loc["claude-sonnet-5"]
    assert sw["to_model"] == "claude-haiku-4-5" and sw["calls"] == 2
    per = r.by_feature.set_index("feature_id")
    assert per.loc["agent", "switch model"] == 0.0 and per.loc["triage", "switch model"] > 0
    # sonnet-5 -> haiku-4-5: $2 -> $1 input, $10 -> $5 output: half price on every kind
    assert sw["input_reduction"] == pytest.approx(0.5) and sw["output_reduction"] == 0.5
    assert sw["traffic_reduction"] == pytest.approx(0.5)


def test_batch_moves_standard_calls_of_batch_task_types_only():
    calls = haiku_calls(["2026-11-02 10:00"] * 3)
    calls["task_type"] = ["summarization", "summarization", "chat"]
    calls["service_tier"] = ["standard", "batch", "standard"]
    calls["feature_id"] = ["a", "b", "c"]
    r = cost_levers(calls, pricer, config=LeverConfig(routes=(), prefix_share=0.5))
    plain = (4_000 * HAIKU["in"] + 100 * HAIKU["out"]) / M
    assert r.levers.set_index("lever").loc["batch tier", "calls"] == 1
    assert r.saving("batch tier") == pytest.approx(30 * plain * 0.5, abs=1e-12)


def test_all_three_saves_more_than_any_lever_and_less_than_their_sum():
    times = [f"2026-11-02 10:{m:02d}" for m in range(0, 40, 2)]
    calls = haiku_calls(times, model=["claude-sonnet-5"] * len(times))
    calls["task_type"] = ["summarization", "chat"] * (len(times) // 2)
    calls["feature_id"] = ["doc_summary", "chat_widget"] * (len(times) // 2)
    r = cost_levers(calls, pricer, config=LeverConfig(prefix_share=0.6))
    s = r.levers.set_index("lever")["monthly_saving_usd"]
    assert (s[["switch model", "prompt caching", "batch tier"]] > 0).all()
    assert s["all three"] > s[["switch model", "prompt caching", "batch tier"]].max()
    assert s["all three"] < s[["switch model", "prompt caching", "batch tier"]].sum()
    best = r.by_feature.set_index("feature_id")["best_lever"]
    # summaries are simple and batch-able (switch halves, batch halves); chat caches only
    assert best["chat_widget"] == "prompt caching"
    assert best["doc_summary"] in {"switch model", "batch tier"}


def test_table_pricer_names_what_it_cannot_price():
    calls = haiku_calls(["2026-11-02 10:00"], cache_read_tokens=[1_000])
    sheet = pd.DataFrame(
        {
            "provider": ["anthropic"],
            "model": ["claude-haiku-4-5"],
            "input_usd_per_mtok": [1.0],
            "output_usd_per_mtok": [5.0],
        }
    )
    with pytest.raises(ValueError, match="cache_read_usd_per_mtok"):
        table_cost(calls, sheet)
    with pytest.raises(ValueError, match="batch_multiplier"):
        table_cost(calls.assign(cache_read_tokens=0, service_tier="batch"), sheet)
    with pytest.raises(ValueError, match="service_tier='priority'"):
        table_cost(calls.assign(cache_read_tokens=0, service_tier="priority"), sheet)
    with pytest.raises(TypeError, match="neither a price table"):
        as_pricer("cheap", who="demo")
    with pytest.raises(ValueError, match="returned"):
        as_pricer(lambda df: np.zeros(len(df) + 1), who="demo")(calls)


def test_a_pricer_may_return_the_whole_breakdown_and_needs_named_candidates():
    calls, total = golden_calls("anthropic-cache-both-ttls")
    own = (calls.loc[0, "provider"], calls.loc[0, "model"])
    cfg = ModelComparisonConfig(baseline=own, candidate=own, candidates=(), n_ab=20)
    r = model_comparison(calls, pricing.cost_breakdown, config=cfg)  # a frame: its total counts
    assert float(r.tasks["before_usd"].sum()) == pytest.approx(total, abs=1e-9)
    with pytest.raises(ValueError, match="candidates"):
        analyze("optimization", calls, prices=pricer)
    opt = analyze(
        "optimization", calls, prices=pricer, config=OptimizationConfig(candidates=(own,))
    )
    assert opt.metric("Monthly AI spend (repriced)").value == pytest.approx(30 * total, abs=1e-8)
