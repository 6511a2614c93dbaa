"""Anomaly detectors on hand-made frames, and against simulated incidents (the targets)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis import anomalies as an
from showcase_lib.analysis import evaluation as ev
from showcase_lib.analysis.anomalies import _alerts, _detect, _scores
from showcase_lib.analysis.anomalies._scores import established
from showcase_lib.schema import DTYPES, empty_calls

DAYS = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC")


def frame(rows: dict[str, list]) -> pd.DataFrame:
    n = len(rows["timestamp"])
    df = empty_calls().reindex(range(n))
    for col, values in rows.items():
        df[col] = values
    for col in ("model", "feature_id", "task_type"):
        if col not in rows:
            df[col] = "x"
    if "latency_ms" not in rows:
        df["latency_ms"] = 100
    df["input_tokens"] = df["input_tokens"].fillna(100)
    df["output_tokens"] = df["output_tokens"].fillna(10)
    return df.astype({c: DTYPES[c] for c in df.columns if not df[c].isna().all()})


def steady_customer(customer: str, calls_per_day: int = 20, cost: float = 0.5) -> dict[str, list]:
    """A customer with a fixed number of calls a day and a small weekly wobble in cost."""
    day = np.repeat(np.arange(len(DAYS)), calls_per_day)
    minute = np.tile(np.arange(calls_per_day) * 7, len(DAYS))  # distinct times within the day
    ts = DAYS[day] + pd.to_timedelta(minute, unit="min") + pd.Timedelta(hours=8)
    return {
        "timestamp": list(ts),
        "customer_id": [customer] * len(ts),
        "cost_usd": list(cost * (1 + 0.05 * (day % 7 == 0))),
    }


def combine(*parts: dict[str, list]) -> pd.DataFrame:
    keys = parts[0].keys()
    return frame({k: list(itertools.chain.from_iterable(p[k] for p in parts)) for k in keys})


def test_cost_matrix_shape_and_zero_fill():
    df = combine(
        steady_customer("a"), {"timestamp": [DAYS[3]], "customer_id": ["b"], "cost_usd": [7.0]}
    )
    m = an.cost_matrix(df)
    assert m.shape == (30, 2)
    assert m["b"].sum() == 7.0 and (m["b"] > 0).sum() == 1
    assert m.loc[DAYS[1], "a"] == pytest.approx(20 * 0.5)
    assert an.cost_matrix(df, metric="calls").loc[DAYS[3], "b"] == 1


def test_rolling_zscore_excludes_the_current_point():
    s = pd.Series([10.0, 12.0] * 7 + [100.0])
    z = _scores.rolling_zscore(s, 14, min_periods=14)
    past = s.iloc[:14]
    assert z.iloc[-1] == pytest.approx((100 - past.mean()) / past.std(ddof=1))
    assert z.iloc[:14].isna().all()


def test_robust_zscore_textbook_value():
    x = pd.Series([2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 5.0, 20.0])
    z = _scores.robust_zscore(x, None)
    med, mad = 4.0, 1.0  # |x - 4| = 2,1,1,0,0,0,1,1,16 -> median 1
    assert z.iloc[-1] == pytest.approx(0.6745 * (20 - med) / mad)
    assert z.iloc[-1] > 3.5 > abs(z.iloc[0])


def test_spike_detected_on_the_right_day():
    base = steady_customer("a")
    spike_day = DAYS[20]
    extra = {
        "timestamp": [spike_day + pd.Timedelta(hours=3)] * 200,
        "customer_id": ["a"] * 200,
        "cost_usd": [0.5] * 200,
    }
    df = combine(base, steady_customer("b"), extra)
    costs = an.cost_matrix(df)
    scores = _detect.spike_scores(costs, calls=an.cost_matrix(df, metric="calls"))
    spikes = _detect.spike_alerts(scores)
    assert spikes["period"].tolist() == [spike_day]
    assert spikes["entity"].tolist() == ["a"]
    assert spikes["calls"].iloc[0] == 220
    found = an.detect(df)
    assert len(found) == 1
    row = found.iloc[0]
    assert row["kind"] == "spike" and row["entity"] == "a"
    assert row["start"] == spike_day and row["end"] == spike_day + pd.Timedelta(days=1)
    assert row["detected_at"] == spike_day + pd.Timedelta(days=1)
    assert row["impact_usd"] == pytest.approx(100.0)


def test_one_expensive_call_is_an_outlier_not_a_usage_spike():
    base = steady_customer("a")
    big = {
        "timestamp": [DAYS[20] + pd.Timedelta(hours=1)],
        "customer_id": ["a"],
        "cost_usd": [60.0],
    }
    df = combine(base, big)
    assert an.detect(df).empty  # calls did not move: no alert
    assert len(an.detect(df, an.DetectorConfig(confirm=None))) == 1  # spend alone would page
    out = an.cost_outliers(df, by="model")
    assert out["cost_usd"].tolist() == [60.0]
    assert out["cost_ratio"].iloc[0] == pytest.approx(120.0, rel=0.06)


def test_level_shift_is_a_behaviour_change():
    rng = np.random.default_rng(3)
    level = np.where(np.arange(30) < 18, 10.0, 16.0) + rng.normal(0, 0.6, 30)
    s = pd.Series(level, index=DAYS, name="a")
    bc = _detect.behaviour_changes(s)
    assert len(bc) >= 1
    first = bc.iloc[0]
    assert DAYS[17] <= first["onset"] <= DAYS[19]
    assert first["period"] <= DAYS[22]  # alarm within a few days
    assert first["ratio"] == pytest.approx(1.6, abs=0.15)
    loose = an.DetectorConfig(min_ratio=2.0, min_abs=0.0, confirm=None, require_history=False)
    assert _detect.spike_alerts(
        _detect.spike_scores(s, config=loose), loose
    ).empty  # 1.6x is no 2x spike


def test_sustained_jump_is_reported_as_a_new_normal():
    base = steady_customer("a")
    more = {
        "timestamp": list(DAYS[18:].repeat(200) + pd.Timedelta(hours=9)),
        "customer_id": ["a"] * 200 * 12,
        "cost_usd": [0.5] * 200 * 12,
    }
    found = an.detect(combine(base, more))
    assert len(found) == 1
    row = found.iloc[0]
    assert row["kind"] == "behaviour_change"
    assert row["start"] == DAYS[18] and row["end"] == DAYS[-1] + pd.Timedelta(days=1)
    assert row["impact_usd"] == pytest.approx(12 * 100.0, rel=0.02)


def test_new_customer_is_not_an_anomaly():
    newcomer = {
        "timestamp": list(DAYS[25:] + pd.Timedelta(hours=2)),
        "customer_id": ["n"] * 5,
        "cost_usd": [50.0] * 5,
    }
    df = combine(steady_customer("a"), newcomer)
    assert an.detect(df).empty
    assert not established(an.cost_matrix(df))["n"].any()


def test_threshold_and_budget_alerts():
    df = combine(steady_customer("a", calls_per_day=10, cost=1.0))  # ~10 USD a day
    m = an.cost_matrix(df)
    alerts = _alerts.threshold_alerts(m, 10.2)
    assert set(alerts["period"]) == {d for d in DAYS if d.dayofweek == DAYS[0].dayofweek}
    b = _alerts.budget_alerts(df, {"a": 100.0}, levels=(0.5, 1.0))
    assert b["level"].tolist() == [0.5, 1.0]
    assert b["spend_at_crossing"].iloc[0] >= 50.0
    crossed = b["crossed_at"].iloc[1]
    assert df.loc[df["timestamp"] <= crossed, "cost_usd"].sum() == pytest.approx(
        b["spend_at_crossing"].iloc[1]
    )
    with pytest.raises(ValueError, match="budgets"):
        _alerts.budget_alerts(df, 0.0)


def test_cusum_closed_form_matches_the_recursion():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, size=(50, 3))
    fast = _scores.cusum(z, k=0.5, clip=3.0)
    slow = np.zeros_like(z)
    for t in range(len(z)):
        prev = slow[t - 1] if t else 0.0
        slow[t] = np.maximum(0.0, prev + np.minimum(z[t], 3.0) - 0.5)
    assert np.allclose(fast, slow)


def test_root_causes_rank_the_driver_first():
    base = steady_customer("a")
    base["model"] = ["cheap"] * len(base["timestamp"])
    extra = {
        "timestamp": [DAYS[20] + pd.Timedelta(hours=3)] * 200,
        "customer_id": ["a"] * 200,
        "cost_usd": [0.5] * 200,
        "model": ["pricey"] * 200,
    }
    df = combine(base, extra)
    found = an.detect(df, an.DetectorConfig(dimensions=("model",)))
    rc = an.root_causes(df, found, dimensions=("model",))
    assert rc["value"].iloc[0] == "pricey"
    assert rc["contribution"].iloc[0] == pytest.approx(100.0)
    assert found["top_root_cause"].iloc[0].startswith("model=pricey")


# The targets on simulated incidents are graded on held-out seeds (3-4) in
# tests/test_anomalies_tuning.py: seeds 0-2 are notebook 07's, 100-119 the tuning's.


def _t(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def test_evaluation_on_a_toy_case():
    incidents = pd.DataFrame(
        {
            "kind": ["viral_spike", "runaway_agent", "growth"],
            "customer_id": ["c1", "c2", None],
            "start": [_t("2026-01-10"), _t("2026-01-16 01:00"), _t("2026-01-01")],
            "end": [_t("2026-01-31"), _t("2026-01-16 07:00"), _t("2026-01-31")],
        }
    )
    found = pd.DataFrame(
        {
            "anomaly_id": [1, 2, 3, 4],
            "entity": ["c1", "c1", "c3", "c2"],
            "start": [_t("2026-01-10"), _t("2026-01-20"), _t("2026-01-05"), _t("2026-01-17")],
            "end": [_t("2026-01-13"), _t("2026-01-21"), _t("2026-01-06"), _t("2026-01-18")],
            "detected_at": [_t("2026-01-11"), _t("2026-01-21"), _t("2026-01-06"), _t("2026-01-18")],
        }
    )
    s = ev.score(found, incidents)
    assert s.n_incidents == 2  # "growth" is context, not an anomaly to find
    assert s.true_positives == 2  # ids 1 and 2 overlap c1's spike
    assert s.false_positives == 2  # c3 never had an incident; id 4 comes after c2's loop ended
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(0.5)
    assert s.max_delay == pd.Timedelta(days=1)  # first matching alert, not the later one
    assert s.false_alarms["anomaly_id"].tolist() == [3, 4]
    late = ev.score(found, incidents, tolerance="1D")  # a day of slack catches id 4
    assert late.recall == pytest.approx(1.0)
    anyone = ev.score(found.assign(entity="total"), incidents, by_entity=False)
    assert anyone.detected_incidents == 1  # only c1's window overlaps a "total" alert
    both = ev.pooled([s, late])
    assert both.n_incidents == 4 and both.detected_incidents == 3
    assert both.precision == pytest.approx((2 + 3) / 8)


def test_quiet_run_has_no_incidents_and_every_alert_is_false():
    quiet = pd.DataFrame(
        {
            "kind": ["growth"],
            "customer_id": [None],
            "start": [_t("2026-01-01")],
            "end": [_t("2026-01-31")],
        }
    )
    found = pd.DataFrame(
        {
            "anomaly_id": [1],
            "entity": ["c9"],
            "start": [_t("2026-01-05")],
            "end": [_t("2026-01-06")],
            "detected_at": [_t("2026-01-06")],
        }
    )
    s = ev.score(found, quiet)
    assert s.n_incidents == 0 and np.isnan(s.recall)
    assert s.precision == 0.0 and s.false_positives == 1


def test_detect_pivots_the_calls_once(monkeypatch):
    """Regression (issue 8): one cost matrix and one call-count matrix per detect() call
    (the old code pivoted the same calls four times); issue 14: with a categorical entity
    column both come from one computation of the calls' cells."""
    from showcase_lib.analysis.anomalies import _detect, _matrix

    pivots = []
    real, real_cells = _matrix.cost_matrix, _matrix.cells

    def counting(*args, **kwargs):
        pivots.append(kwargs.get("metric", "cost_usd"))
        return real(*args, **kwargs)

    def counting_cells(*args, **kwargs):
        pivots.append("cells")
        return real_cells(*args, **kwargs)

    monkeypatch.setattr(_matrix, "cost_matrix", counting)
    monkeypatch.setattr(_detect, "cost_matrix", counting)
    monkeypatch.setattr(_matrix, "cells", counting_cells)
    df = combine(steady_customer("a"), steady_customer("b"))
    an.detect(df)
    assert pivots == ["cells"]
    pivots.clear()
    an.detect(df.assign(customer_id=df["customer_id"].astype(str)))  # the group-by path
    assert sorted(p for p in pivots if p != "cells") == ["calls", "cost_usd"]


def test_one_spike_path_scores_then_alerts():
    s = pd.Series([10.0, 11, 9, 10, 11, 9, 10, 60, 10], index=DAYS[:9], name="a")
    cfg = an.DetectorConfig(window=7, min_periods=7, confirm=None, require_history=False)
    scores = _detect.spike_scores(s, config=cfg)
    assert len(scores) == 2 and {"score", "ratio", "established"} <= set(scores.columns)
    alerts = _detect.spike_alerts(scores, cfg)
    assert alerts["period"].tolist() == [DAYS[7]]
    with pytest.raises(ValueError, match="confirm='calls' needs call scores"):
        _detect.spike_alerts(scores, an.DetectorConfig())
    assert not hasattr(an, "flag_spikes") and not hasattr(an, "detect_spikes")


# ----------------------------------------------------------- the public entry points (issue 8)
def _spiky() -> pd.DataFrame:
    burst = {
        "timestamp": [DAYS[20] + pd.Timedelta(hours=9, minutes=i) for i in range(200)],
        "customer_id": ["a"] * 200,
        "cost_usd": [0.5] * 200,
    }
    return combine(steady_customer("a"), steady_customer("b", cost=0.2), burst)


@pytest.mark.parametrize("method", ["rolling", "robust", "shift", "cusum"])
def test_score_is_the_building_block_it_names(method):
    m = an.cost_matrix(_spiky())
    blocks = {
        "rolling": lambda: _scores.rolling_zscore(m, 14, min_periods=7),
        "robust": lambda: _scores.robust_zscore(m, 14, min_periods=7),
        "shift": lambda: _scores.shift_scores(m, 14, min_periods=7),
        "cusum": lambda: _scores.cusum(_scores.shift_scores(m, 14, min_periods=7)),
    }
    pd.testing.assert_frame_equal(an.score(m, method), blocks[method]())
    with pytest.raises(ValueError, match="method='zscore'"):
        an.score(m, "zscore")


def test_alerts_apply_each_rule_on_the_calls():
    calls = _spiky()
    cfg = an.DetectorConfig()
    m = an.cost_matrix(calls)
    counts = an.cost_matrix(calls, metric="calls")
    spikes = an.alerts(calls, "spike", config=cfg)
    expected = _detect.spike_alerts(_detect.spike_scores(m, calls=counts, config=cfg), cfg)
    pd.testing.assert_frame_equal(spikes, expected)
    assert spikes["entity"].tolist() == ["a"] and spikes["period"].tolist() == [DAYS[20]]
    pd.testing.assert_frame_equal(
        an.alerts(calls, "threshold", limit=50.0), _alerts.threshold_alerts(m, 50.0)
    )
    pd.testing.assert_frame_equal(
        an.alerts(calls, "budget", limit=100.0, levels=(1.0,)),
        _alerts.budget_alerts(calls, 100.0, levels=(1.0,)),
    )
    pd.testing.assert_frame_equal(an.alerts(calls, "shift"), _detect.behaviour_changes(m, cfg))
    with pytest.raises(ValueError, match="needs limit="):
        an.alerts(calls, "threshold")
    pd.testing.assert_frame_equal(  # no limit: the book's budget (a first-week run-rate)
        an.alerts(calls, "budget"),
        _alerts.budget_alerts(calls, _alerts.run_rate_budgets(calls)),
    )
    with pytest.raises(ValueError, match="rule='spikes'"):
        an.alerts(calls, "spikes")


# --- the 2026 token taxonomy: cost per call, drivers, price attribution -----------------------

#: Hand-set prices per token: uncached input $1, cache read $0.10, cache write $1.25, output
#: (visible and reasoning) $5 per million tokens.
PRICE = {"input": 1e-6, "cache_read": 1e-7, "cache_write": 1.25e-6, "output": 5e-6}


#: What a customer's calls look like unless a test changes it (each value may be a function
#: of the day): 80% of 10,000 input tokens read from cache, no reasoning, today's prices.
USUAL = {"hit_rate": 0.8, "reasoning": 0, "input_tokens": 10_000, "price_factor": 1.0}


def taxonomy_calls(customer: str, *, calls_per_day: int = 40, **change) -> pd.DataFrame:
    """One customer's calls over DAYS: ``input_tokens`` (``hit_rate`` of them read from cache),
    500 output tokens plus ``reasoning``; the cost by kind at the fixed PRICE and ``cost_usd``
    at PRICE x ``price_factor`` (keywords of USUAL)."""
    unknown = set(change) - set(USUAL)
    assert not unknown, unknown
    hit_rate, reasoning, input_tokens, price_factor = ({**USUAL, **change}[k] for k in USUAL)
    day = np.repeat(np.arange(len(DAYS)), calls_per_day)
    minute = np.tile(np.arange(calls_per_day) * 11, len(DAYS))

    def per_day(v):
        return np.array([v(d) if callable(v) else v for d in range(len(DAYS))])[day]

    inp = per_day(input_tokens).astype(np.int64)
    read = (inp * per_day(hit_rate)).astype(np.int64)
    write = np.where(day % 7 == 0, inp // 20, 0)  # a cache refresh once a week
    reason = per_day(reasoning).astype(np.int64)
    out = 500 + reason
    df = frame(
        {
            "timestamp": list(DAYS[day] + pd.to_timedelta(minute, unit="min")),
            "customer_id": [customer] * len(day),
            "cost_usd": [0.0] * len(day),
            "input_tokens": list(inp),
            "output_tokens": list(out),
        }
    )
    df["cache_read_tokens"] = read
    df["cache_write_tokens"] = write
    df["reasoning_tokens"] = reason
    df["cost_input"] = (inp - read - write) * PRICE["input"]
    df["cost_cache_read"] = read * PRICE["cache_read"]
    df["cost_cache_write"] = write * PRICE["cache_write"]
    df["cost_output"] = (out - reason) * PRICE["output"]
    df["cost_reasoning"] = reason * PRICE["output"]
    fixed = df[[f"cost_{k}" for k in ("input", "cache_read", "cache_write", "output", "reasoning")]]
    df["cost_usd"] = fixed.sum(axis=1) * per_day(price_factor)
    return df


ONSET = 20  # the day every change below starts


def after(value_before, value_after):
    return lambda d: value_after if d >= ONSET else value_before


BEFORE = (DAYS[ONSET - 7], DAYS[ONSET])
AFTER = (DAYS[ONSET], DAYS[ONSET + 7])


@pytest.mark.parametrize(
    ("change", "driver"),
    [
        ({"hit_rate": after(0.8, 0.1)}, "cache_read"),  # the cache-miss regression
        ({"reasoning": after(0, 1500)}, "reasoning"),  # reasoning creep
        ({"calls_per_day": 40 * 3}, None),  # more calls (whole month): no change between weeks
        ({"input_tokens": after(10_000, 30_000)}, "input"),  # longer prompts, same hit rate
        ({"price_factor": after(1.0, 1.6)}, "price"),  # the price moved, usage did not
    ],
)
def test_drivers_name_what_moved_and_add_up(change, driver):
    calls = taxonomy_calls("a", **change)
    d = an.drivers(calls, AFTER, BEFORE).loc["total"]
    parts = d[["calls", "input", "cache_read", "cache_write", "output", "reasoning", "price"]]
    assert parts.sum() == pytest.approx(d["change"], rel=1e-9, abs=1e-9)
    assert d["usage"] == pytest.approx(d["change"] - d["price"])
    if driver is None:
        assert abs(d["change"]) < 1e-9
        return
    assert d["driver"] == driver
    assert parts[driver] == pytest.approx(d["change"], rel=0.05)  # it explains the change
    if driver != "price":
        assert d["price"] == pytest.approx(0.0, abs=1e-9)


def test_cache_regression_contribution_is_the_hit_rate_times_the_price_gap():
    calls = taxonomy_calls("a", hit_rate=after(0.8, 0.1))
    d = an.drivers(calls, AFTER, BEFORE).loc["total"]
    # 7 days x 40 calls, 0.7 x 10,000 tokens per call moved from $0.10 to $1 per MTok; the
    # cache-write day (day 21) is in both weeks, so it cancels
    assert d["cache_read"] == pytest.approx(7 * 40 * 7_000 * (1e-6 - 1e-7), rel=1e-6)
    assert d["input"] == pytest.approx(0.0, abs=1e-9) and d["calls"] == pytest.approx(0.0)


def test_drivers_scale_a_longer_baseline_and_split_by_entity():
    b = taxonomy_calls("b", calls_per_day=80)
    b = b[(b["timestamp"] >= DAYS[ONSET]) | (np.arange(len(b)) % 2 == 0)]  # 40 a day, then 80
    calls = pd.concat([taxonomy_calls("a"), b], ignore_index=True)
    calls["customer_id"] = calls["customer_id"].astype(str)
    two_weeks = (DAYS[ONSET - 14], DAYS[ONSET])
    d = an.drivers(calls, AFTER, two_weeks, by="customer_id")
    assert d.loc["a", "change"] == pytest.approx(0.0, abs=1e-9)  # per week, nothing moved
    assert d.loc["b", "driver"] == "calls"
    assert d.loc["b", "calls"] == pytest.approx(d.loc["a", "current"], rel=1e-9)  # doubled


def test_drivers_need_the_cost_by_kind():
    calls = taxonomy_calls("a").drop(columns="cost_reasoning")
    with pytest.raises(ValueError, match="cost_reasoning"):
        an.drivers(calls, AFTER, BEFORE)


def test_cost_per_call_detector_sees_a_cache_regression_that_spend_and_calls_rules_miss():
    calls = pd.concat(
        [
            taxonomy_calls("a", hit_rate=after(0.8, 0.1)),
            taxonomy_calls("b"),
            taxonomy_calls("c", reasoning=after(0, 1500)),
        ],
        ignore_index=True,
    )
    # spend (confirmed by calls) and an hourly call count see nothing: volume is flat
    assert an.detect(calls).empty
    hourly = an.DetectorConfig(metric="calls", freq="hour", window=48, min_periods=24)
    assert an.detect(calls, hourly).empty
    cfg = an.DetectorConfig(metric="cost_per_call", confirm=None, min_abs=0.1, dimensions=())
    found = an.detect(calls, cfg)
    assert found["entity"].tolist() == ["a", "c"]
    assert (found["start"] == DAYS[ONSET]).all()
    assert found.set_index("entity")["driver"].to_dict() == {"a": "cache_read", "c": "reasoning"}
    a = found.set_index("entity").loc["a"]
    # impact in dollars: 0.7 x 10,000 tokens x $0.90/MTok = $0.0063 more per call, 40 calls/day
    assert a["impact_usd"] == pytest.approx(0.0063 * 40 * a["periods"], rel=0.05)
    # materiality is in dollars per period: a's $0.25 a day is below $0.28, c's $0.30 is not
    tiny = an.detect(calls, an.DetectorConfig(metric="cost_per_call", confirm=None, min_abs=0.28))
    assert tiny["entity"].tolist() == ["c"]


def test_price_change_at_flat_usage_is_named_price_by_detect_and_root_causes():
    calls = pd.concat(
        [taxonomy_calls("a", price_factor=after(1.0, 1.6)), taxonomy_calls("b")],
        ignore_index=True,
    )
    cfg = an.DetectorConfig(metric="cost_per_call", confirm=None, min_abs=0.1, dimensions=())
    found = an.detect(calls, cfg)
    assert found["entity"].tolist() == ["a"] and found["driver"].tolist() == ["price"]
    rc = an.root_causes(calls, found, dimensions=["driver"], top=1, config=cfg)
    assert rc[["dimension", "value"]].values.tolist() == [["driver", "price"]]
    assert rc["contribution"].iloc[0] == pytest.approx(found["impact_usd"].iloc[0], rel=0.05)


def test_detect_without_the_cost_by_kind_leaves_the_driver_empty():
    calls = taxonomy_calls("a", hit_rate=after(0.8, 0.1)).drop(columns="cost_input")
    found = an.detect(calls, an.DetectorConfig(metric="cost_per_call", confirm=None, min_abs=0.1))
    assert len(found) == 1 and found["driver"].iloc[0] == ""


def test_by_kind_asks_for_the_right_driver_and_matches_features():
    t = _t
    inc = pd.DataFrame(
        {
            "kind": ["cache_miss_regression", "price_change", "growth"],
            "customer_id": [None, None, None],
            "feature_id": ["chat", None, None],
            "start": [t("2026-01-10"), t("2026-01-15"), t("2026-01-01")],
            "end": [t("2026-01-20"), t("2026-01-31"), t("2026-01-31")],
            "driver": ["cache_read", "price", "calls"],
        }
    )
    found = pd.DataFrame(
        {
            "anomaly_id": [1, 2, 3],
            "entity": ["chat", "search", "cust_0003"],
            "start": [t("2026-01-10"), t("2026-01-11"), t("2026-01-15")],
            "end": [t("2026-01-12"), t("2026-01-12"), t("2026-01-17")],
            "detected_at": [t("2026-01-11 06:00"), t("2026-01-12"), t("2026-01-16")],
            "driver": ["cache_read", "cache_read", "price"],
        }
    )
    table = ev.by_kind(found, inc)
    assert table.index.tolist() == ["cache_miss_regression", "price_change"]  # no "growth"
    cache = table.loc["cache_miss_regression"]
    # "search" is another feature: it claims the kind but matches nothing
    assert (cache["named"], cache["detections"], cache["precision"]) == (1.0, 2.0, 0.5)
    assert cache["max_delay_h"] == pytest.approx(30.0)
    price = table.loc["price_change"]  # names no one: any entity in the window matches
    assert (price["recall"], price["precision"]) == (1.0, 1.0)


def test_calls_per_request_sees_a_retry_storm_the_hourly_call_count_misses():
    rng = np.random.default_rng(0)
    hours = pd.date_range("2026-01-01", periods=24 * 10, freq="h", tz="UTC")
    n = rng.poisson(20 * (1 + 0.8 * np.sin(np.arange(len(hours)) / 24 * 2 * np.pi)))
    ts_ = np.repeat(hours, n) + pd.to_timedelta(rng.uniform(0, 3600, n.sum()), unit="s")
    df = pd.DataFrame({"timestamp": ts_, "customer_id": "a", "cost_usd": 0.01})
    df["request_id"] = [f"r{i}" for i in range(len(df))]
    storm = (df["timestamp"] >= hours[200]) & (df["timestamp"] < hours[202])
    retries = df[storm]  # every request of the two hours tried twice
    df = pd.concat([df, retries], ignore_index=True).sort_values("timestamp", ignore_index=True)
    hourly = an.DetectorConfig(
        metric="calls", freq="hour", window=48, min_periods=24, dimensions=()
    )
    assert an.detect(df, hourly).empty  # twice a busy hour's ~35 calls: no volume spike
    storms = an.DetectorConfig(
        metric="calls_per_request",
        freq="hour",
        window=48,
        min_periods=24,
        min_ratio=2.0,
        min_abs=0.05,
        dimensions=(),
    )
    found = an.detect(df, storms)
    assert found["start"].tolist() == [hours[200]] and found["periods"].tolist() == [2]
    # the cost of the retries: half of the window's cost
    assert found["impact_usd"].iloc[0] == pytest.approx(found["actual"].iloc[0] / 2)
    with pytest.raises(ValueError, match="request_id"):
        an.detect(df.drop(columns="request_id"), storms)


# ---------------------------------------------------------------------------------------------
# any fixed bucket size (issue 12): 12's minute-level alerts and 07's daily ones, one path


def _ten_minute_burst() -> tuple[pd.DataFrame, pd.Timestamp]:
    """Two days of one call a minute at $0.01 for customer a; 20 minutes of 30x more calls."""
    ts = pd.date_range("2026-03-02", periods=2 * 24 * 60, freq="min", tz="UTC")
    onset = pd.Timestamp("2026-03-03T15:20:00Z")
    burst = pd.date_range(onset, periods=20 * 30, freq="2s", tz="UTC")
    stamps = ts.append(burst).sort_values()
    n = len(stamps)
    calls = frame({"timestamp": stamps, "customer_id": ["a"] * n, "cost_usd": [0.01] * n})
    return calls, onset


def test_detect_runs_on_ten_minute_buckets():
    # the old code raised "freq='10min' is not one of [...]"
    calls, onset = _ten_minute_burst()
    cfg = an.DetectorConfig(
        freq="10min", window=36, min_periods=12, min_ratio=4.0, min_abs=0.5, dimensions=()
    )
    found = an.detect(calls, config=cfg)
    spikes = found[found["kind"] == "spike"]
    assert len(spikes) == 1
    spike = spikes.iloc[0]
    assert spike["start"] == onset and spike["end"] == onset + pd.Timedelta(minutes=20)
    assert spike["detected_at"] == onset + pd.Timedelta(minutes=10)  # at the first bucket's end
    assert spike["periods"] == 2
    # the same calls in hourly buckets: one alert, an hour-long window
    hourly = an.detect(calls, config=dataclasses.replace(cfg, freq="h", window=12, min_periods=6))
    assert hourly["start"].tolist() == [onset.floor("h")]


def test_cost_matrix_on_minute_buckets_matches_pandas():
    calls, _ = _ten_minute_burst()
    mat = an.cost_matrix(calls, freq="5min")
    want = calls.set_index("timestamp")["cost_usd"].resample("5min").sum()
    assert mat.index.tolist() == want.index.tolist()
    np.testing.assert_allclose(mat["a"].to_numpy(), want.to_numpy())


@pytest.mark.parametrize("freq", ["m", "M", "T"])
def test_detector_refuses_an_ambiguous_alias(freq):
    with pytest.raises(ValueError, match=f"freq={freq!r} is ambiguous"):
        an.DetectorConfig(freq=freq)


def test_detector_refuses_months_with_the_reason():
    with pytest.raises(ValueError, match="freq='MS': detection needs periods of one fixed length"):
        an.DetectorConfig(freq="MS")
    with pytest.raises(ValueError, match="months vary"):
        _detect._step("month")
