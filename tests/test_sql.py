"""Every Part B query pattern gives the same answer in pandas and in DuckDB (frame and Parquet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis import aggregations as agg
from showcase_lib.analysis import anomalies as an
from showcase_lib.analysis import sql
from showcase_lib.analysis import timeseries as ts


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    simulation = pytest.importorskip("showcase_lib.simulation")
    return simulation.simulate("viral_spike", days=45, customers=40, seed=5).calls


@pytest.fixture(scope="module")
def con(calls):
    return sql.connect(calls)


@pytest.fixture(scope="module")
def parquet_con(calls, tmp_path_factory):
    path = tmp_path_factory.mktemp("pq") / "calls.parquet"
    calls.to_parquet(path, index=False)
    return sql.connect(path)


def same(expected, query: str, con, **kwargs) -> None:
    sql.assert_same(expected, sql.run(con, query), **kwargs)


@pytest.mark.parametrize("freq", ["day", "week", "month"])
def test_aggregate_and_growth(calls, con, freq):
    same(ts.aggregate(calls, freq), sql.aggregate_sql(freq), con)
    same(ts.growth_rates(calls, freq), sql.growth_rates_sql(freq), con)


def test_aggregate_by_dimension(calls, con):
    same(ts.aggregate(calls, "week", by="provider"), sql.aggregate_sql("week", by="provider"), con)


def test_period_comparison_and_trend(calls, con):
    same(ts.month_to_date(calls), sql.month_to_date_sql(), con)
    same(ts.month_to_date(calls, "2026-02-07"), sql.month_to_date_sql("2026-02-07"), con)
    t = ts.trend(ts.daily(calls)["cost_usd"])[["actual", "rolling_mean", "linear"]]
    same(t, sql.trend_sql(), con)


@pytest.mark.parametrize("by", ["model", "customer_id", ["provider", "subscription_tier"]])
def test_statistics_by_dimension(calls, con, by):
    same(agg.by_dimension(calls, by), sql.by_dimension_sql(by), con)
    same(agg.token_efficiency(calls, by), sql.token_efficiency_sql(by), con)


def test_top_n_concentration_distribution(calls, con):
    same(agg.top_n(calls, "customer_id", 5), sql.top_n_sql("customer_id", 5), con)
    same(agg.concentration(calls), sql.concentration_sql(), con)
    same(agg.percentiles(calls, "latency_ms"), sql.percentiles_sql("latency_ms"), con)
    d = agg.distribution(calls, "cost_usd", bins=12)
    edges = [*d["left"], d["right"].iloc[-1]]
    same(d, sql.distribution_sql("cost_usd", edges), con, keys=["left"])


def test_plan_csv_both_readings_and_export(calls, con, tmp_path):
    same(
        agg.plan_csv_frame(calls, "customer_id", "subscription_tier"),
        sql.plan_csv_sql("customer_id", "subscription_tier"),
        con,
    )
    same(
        agg.plan_csv_frame(calls, ["provider", "feature_id"]),
        sql.plan_csv_sql(["provider", "feature_id"]),
        con,
    )
    path = sql.export_csv(con, sql.plan_csv_sql("model"), tmp_path / "by_model.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == list(agg.PLAN_CSV_COLUMNS)
    assert back["count"].sum() == len(calls)


def test_anomaly_scores(calls, con):
    m = an.cost_matrix(calls)
    same(sql.to_long(an.rolling_zscore(m), "z"), sql.rolling_zscore_sql(), con)
    same(sql.to_long(an.robust_zscore(m), "z"), sql.robust_zscore_sql(), con)
    same(sql.to_long(an.cusum(an.shift_scores(m)), "cusum"), sql.cusum_sql(), con)


def test_spikes_alerts_outliers(calls, con):
    flagged = an.flag_spikes(calls)
    assert len(flagged) >= 1  # the injected viral spike
    same(flagged, sql.spikes_sql(), con)
    loose = dict(min_ratio=1.5, min_abs=0.0, confirm=None, require_history=False)
    same(an.flag_spikes(calls, **loose), sql.spikes_sql(**loose), con)
    m = an.cost_matrix(calls)
    same(an.threshold_alerts(m, 5.0), sql.threshold_alerts_sql(5.0), con)
    budgets = {"cust_0001": 20.0, "cust_0002": 5.0}
    same(an.budget_alerts(calls, budgets), sql.budget_alerts_sql(budgets), con)
    cols = ["call_id", "cost_usd", "group_median_cost", "score", "cost_ratio"]
    same(an.cost_outliers(calls)[cols], sql.cost_outliers_sql(), con, keys=["call_id"])


def test_parquet_path_gives_the_same_answer(calls, parquet_con):
    same(ts.aggregate(calls, "day"), sql.aggregate_sql("day"), parquet_con)
    same(agg.by_dimension(calls, "model"), sql.by_dimension_sql("model"), parquet_con)
    same(an.flag_spikes(calls), sql.spikes_sql(), parquet_con)


def test_compare_reports_differences():
    a = pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0]})
    assert sql.compare(a, a.iloc[::-1])
    bad = sql.compare(a, a.assign(v=[1.0, 2.5]))
    assert not bad and "column 'v'" in bad.problems[0]
    assert not sql.compare(a, a.iloc[:1])
    assert not sql.compare(a, a[["k"]])
    with pytest.raises(AssertionError, match="disagree"):
        sql.assert_same(a, a.assign(k=["x", "z"]))


def test_names_are_checked_before_they_reach_sql():
    with pytest.raises(ValueError, match="not a column"):
        sql.by_dimension_sql("model; DROP TABLE calls")
    with pytest.raises(ValueError, match="call_id"):
        sql.top_n_sql("call_id")
    with pytest.raises(FileNotFoundError):
        sql.connect("/nonexistent/calls.parquet")
    assert "'o''brien'" in sql.threshold_alerts_sql({"o'brien": 1.0})


def test_hand_computed_frame():
    df = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                ["2026-01-01 01:00", "2026-01-01 02:00", "2026-01-03 05:00"], utc=True
            ),
            "model": pd.Categorical(["a", "b", "a"]),
            "cost_usd": [1.0, 2.0, 4.0],
            "latency_ms": [10, 20, 30],
            "input_tokens": [1, 2, 3],
            "output_tokens": [1, 1, 1],
        }
    )
    got = sql.run(df, sql.aggregate_sql("day"))
    assert got["cost_usd"].tolist() == [3.0, 0.0, 4.0]
    assert np.allclose(sql.run(df, sql.by_dimension_sql("model"))["cost_p50"], [2.5, 2.0])


def test_outliers_when_a_group_has_zero_mad():
    """MAD = 0 (most calls identical) falls back to the mean absolute deviation in both."""
    df = pd.DataFrame(
        {
            "model": ["m"] * 31,
            "task_type": ["t"] * 31,
            "call_id": [f"c{i}" for i in range(31)],
            "cost_usd": [0.01] * 28 + [0.02, 0.03, 1.0],
        }
    )
    cols = ["call_id", "cost_usd", "group_median_cost", "score", "cost_ratio"]
    expected = an.cost_outliers(df)[cols]
    assert expected["call_id"].tolist() == ["c30", "c29"]
    same(expected, sql.cost_outliers_sql(), sql.connect(df), keys=["call_id"])
