"""Aggregation query patterns on small hand-computed frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis import _aggregations as agg
from showcase_lib.schema import DTYPES, empty_calls


@pytest.fixture
def calls() -> pd.DataFrame:
    """Ten calls: model a (4 calls), b (6 calls); two customers; known costs and latencies."""
    df = empty_calls().reindex(range(10))
    df["timestamp"] = pd.date_range("2026-01-01", periods=10, freq="h", tz="UTC")
    df["model"] = ["a"] * 4 + ["b"] * 6
    df["customer_id"] = ["c1", "c2"] * 5
    df["subscription_tier"] = ["pro", "enterprise"] * 5
    df["task_type"] = "chat"
    df["cost_usd"] = [1.0, 2.0, 3.0, 4.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    df["latency_ms"] = [100, 200, 300, 400, 10, 20, 30, 40, 50, 60]
    df["input_tokens"] = [1000] * 4 + [400] * 6
    df["output_tokens"] = [500] * 4 + [100] * 6
    for c in (
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
    ):
        df[c] = 0  # the record's defaults (reindex leaves them empty)
    df["service_tier"] = "standard"
    return df.astype({c: DTYPES[c] for c in df.columns if df[c].notna().any()})


def test_cost_by_dimension(calls):
    t = agg.cost_by(calls, "model")
    assert t.index.tolist() == ["a", "b"]
    assert t.loc["a", "total_cost"] == pytest.approx(10.0)
    assert t.loc["b", "avg_cost"] == pytest.approx(0.35)
    assert t["share"].sum() == pytest.approx(1.0)
    assert t.loc["a", "share"] == pytest.approx(10.0 / 12.1)


def test_known_percentiles(calls):
    p = agg.percentiles(calls, "latency_ms", by="model")
    # a: 100..400 -> p50 250, p95 = 100 + 0.95 * 3 * 100 = 385, p99 = 397
    assert p.loc["a"].tolist() == pytest.approx([250.0, 385.0, 397.0])
    overall = agg.percentiles(calls, "cost_usd", q=(0.5,))
    assert overall["p50"] == pytest.approx(0.55)


def test_by_dimension_pair_has_all_statistics(calls):
    t = agg.by_dimension(calls, ["model", "customer_id"])
    assert len(t) == 4
    row = t.loc[("a", "c1")]  # costs 1 and 3, latencies 100 and 300
    assert row["calls"] == 2 and row["total_cost"] == pytest.approx(4.0)
    assert row["cost_p50"] == pytest.approx(2.0)
    assert row["latency_p99"] == pytest.approx(298.0)
    assert {"cost_p95", "latency_p50", "share"} <= set(t.columns)


def test_top_n_with_share(calls):
    t = agg.top_n(calls, "customer_id", n=1)
    # c2: 2 + 4 + 0.2 + 0.4 + 0.6 = 7.2 of 12.1
    assert t.index.tolist() == ["c2"]
    assert t["total"].iloc[0] == pytest.approx(7.2)
    assert t["share"].iloc[0] == pytest.approx(7.2 / 12.1)
    with pytest.raises(ValueError, match="n=0"):
        agg.top_n(calls, n=0)


def test_gini_and_lorenz():
    assert agg.gini([5, 5, 5, 5]) == pytest.approx(0.0)
    assert agg.gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert agg.gini([1, 2, 3, 4]) == pytest.approx(0.25)
    curve = agg.lorenz_curve([1, 2, 3, 4])
    assert curve["cost_share"].tolist() == pytest.approx([0, 0.1, 0.3, 0.6, 1.0])
    # the area between equality and the curve, doubled, is the Gini coefficient
    area = np.trapezoid(curve["cost_share"], curve["entity_share"])
    assert 1 - 2 * area == pytest.approx(agg.gini([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="negative"):
        agg.gini([1, -1])


def test_concentration_pareto():
    df = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(20)], "cost_usd": [50.0, 30.0] + [1.0] * 18}
    )
    c = agg.concentration(df)
    assert c["entities"] == 20
    assert c["top_10pct_share"] == pytest.approx(80 / 98)  # the top 2 of 20
    assert c["top_20pct_share"] == pytest.approx(82 / 98)  # the top 4
    assert c["entities_for_80pct"] == 2


def test_token_efficiency(calls):
    t = agg.token_efficiency(calls, ["model", "task_type"])
    a = t.loc[("a", "chat")]
    assert a["cost_per_1k_tokens"] == pytest.approx(10.0 / 6000 * 1000)
    assert a["output_input_ratio"] == pytest.approx(0.5)
    assert a["tokens_per_call"] == pytest.approx(1500)
    b = t.loc[("b", "chat")]
    assert b["cost_per_1k_tokens"] == pytest.approx(2.1 / 3000 * 1000)
    assert t.index[0] == ("b", "chat")  # cheapest per token first


def test_distribution_counts_every_call(calls):
    d = agg.distribution(calls, "cost_usd", bins=4)
    assert d["count"].sum() == 10
    assert d["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert d["left"].iloc[0] == pytest.approx(0.1)
    assert d["right"].iloc[-1] == pytest.approx(4.0)
    lin = agg.distribution(calls, "latency_ms", bins=[0, 100, 1000], log=False)
    assert lin["count"].tolist() == [6, 4]


def test_plan_csv_pair_matches_the_plan_example(calls, tmp_path):
    f = agg.plan_csv(calls, "customer_id", "subscription_tier")
    assert list(f.columns) == list(agg.PLAN_CSV_COLUMNS)
    assert f.iloc[0].tolist() == ["c2", "enterprise", 5, pytest.approx(1.44), pytest.approx(7.2)]
    path = tmp_path / "by_customer.csv"
    f.round(6).to_csv(path, index=False)
    lines = path.read_text().splitlines()
    assert lines[0] == "dimension,value,count,avg_cost,total_cost"
    assert lines[1] == "c2,enterprise,5,1.44,7.2"


def test_plan_csv_long_form_stacks_dimensions(calls):
    f = agg.plan_csv(calls, ["model", "customer_id"])
    assert f["dimension"].tolist() == ["model", "model", "customer_id", "customer_id"]
    assert f["count"].sum() == 20  # every call once per dimension
    with pytest.raises(ValueError, match="one column"):
        agg.plan_csv(calls, ["model", "task_type"], "subscription_tier")


def test_missing_column_is_named(calls):
    with pytest.raises(ValueError, match="nope"):
        agg.cost_by(calls, "nope")


@pytest.mark.parametrize("view", ["cost", "summary", "tokens"])
def test_by_dimension_views(calls, view):
    """One entry point (issue 8): each view is the building block it names."""
    blocks = {
        "cost": agg.cost_by(calls, "model"),
        "summary": agg.by_dimension(calls, "model"),
        "tokens": agg.token_efficiency(calls, "model"),
    }
    pd.testing.assert_frame_equal(agg.by_dimension(calls, "model", view=view), blocks[view])
    assert agg.by_dimension(calls, "model", view="cost").columns.tolist() == [
        "calls",
        "total_cost",
        "avg_cost",
        "share",
    ]
    with pytest.raises(ValueError, match="view='costs'"):
        agg.by_dimension(calls, "model", view="costs")


@pytest.fixture
def taxonomy(calls) -> pd.DataFrame:
    """The ten calls with cache reads and writes, reasoning, tiers and the cost by kind."""
    df = calls.copy()
    df["cache_read_tokens"] = [800] * 4 + [0] * 6  # model a reads 80% of its input from cache
    df["cache_write_tokens"] = [100, 0, 0, 0] + [200] * 6
    df["reasoning_tokens"] = [0] * 4 + [50] * 6  # half of b's 100 output tokens
    df["service_tier"] = ["standard"] * 7 + ["batch"] * 3
    for k, v in {"input": 0.1, "cache_read": 0.01, "cache_write": 0.02, "output": 0.2}.items():
        df[f"cost_{k}"] = v
    df["cost_reasoning"] = [0.0] * 4 + [0.05] * 6
    return df


def test_kinds_view_has_hit_rate_reasoning_share_and_cost_by_kind(taxonomy):
    t = agg.by_dimension(taxonomy, "model", view="kinds")
    assert t.index.tolist() == ["a", "b"]  # largest total first
    assert t.loc["a", "cache_hit_rate"] == pytest.approx(3200 / 4000)
    assert t.loc["b", "cache_hit_rate"] == pytest.approx(0.0)
    assert t.loc["a", "reasoning_share"] == pytest.approx(0.0)
    assert t.loc["b", "reasoning_share"] == pytest.approx(300 / 600)
    assert t.loc["b", "cost_reasoning"] == pytest.approx(0.3)
    assert t.loc["a", "cache_write_tokens"] == 100 and t.loc["b", "calls"] == 6
    assert t["share"].sum() == pytest.approx(1.0)
    no_costs = agg.by_dimension(calls_without_costs(taxonomy), "model", view="kinds")
    assert "cost_input" not in no_costs and "cache_hit_rate" in no_costs


def calls_without_costs(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in df.columns if c.startswith("cost_") and c != "cost_usd"])


def test_kinds_are_weighted_by_tokens_not_averaged_per_call(taxonomy):
    df = taxonomy.copy()
    df.loc[0, "input_tokens"] = 100_000  # one long call with no cache reads
    df.loc[0, "cache_read_tokens"] = 0
    t = agg.by_dimension(df, "model", view="kinds")
    assert t.loc["a", "cache_hit_rate"] == pytest.approx(2400 / 103_000)  # not mean(0, .8, .8, .8)


def test_tier_mix_shares_within_each_group(taxonomy):
    t = agg.by_dimension(taxonomy, "model", view="tiers")
    assert set(t.index) == {("a", "standard"), ("b", "standard"), ("b", "batch")}
    assert t.loc[("b", "batch"), "call_share"] == pytest.approx(0.5)
    assert t.loc[("b", "batch"), "cost_share"] == pytest.approx(1.5 / 2.1)
    assert t.loc[("a", "standard"), "call_share"] == pytest.approx(1.0)
    overall = agg.tier_mix(taxonomy)
    assert overall["calls"].sum() == 10 and overall["cost_share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="service_tier"):
        agg.tier_mix(taxonomy.drop(columns="service_tier"))


@pytest.mark.parametrize("column", ["latency_ms", "cost_usd"])
def test_categorical_percentiles_equal_pandas_group_by(column):
    """The one-sort path (integers packed with the group, floats sorted per group) gives
    pandas' group-by quantiles exactly, unused categories left out."""
    rng = np.random.default_rng(14)
    n = 5_000
    df = pd.DataFrame(
        {
            "model": pd.Categorical(
                rng.choice(["b", "a", "c"], n), categories=["c", "b", "a", "unused"]
            ),
            "latency_ms": rng.integers(0, 90_000, n),
            "cost_usd": rng.lognormal(-6, 1.5, n),
        }
    )
    q = [0.5, 0.9, 0.95, 0.99]
    got = agg.percentiles(df, column, by="model", q=q)
    want = df.groupby(["model"], observed=True)[column].quantile(q).unstack()
    want.columns = got.columns
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_group_quantiles_of_one_value_and_of_ties():
    from showcase_lib.analysis._aggregations import group_quantiles

    out = group_quantiles(np.array([0, 1, 1, 1]), np.array([7, 2, 2, 5]), 2, [0.0, 0.5, 1.0])
    assert out.tolist() == [[7.0, 7.0, 7.0], [2.0, 2.0, 5.0]]
