"""Every Part B query pattern gives the same answer in pandas and in DuckDB (frame and Parquet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis import _aggregations as agg
from showcase_lib.analysis import _timeseries as ts
from showcase_lib.analysis import anomalies as an
from showcase_lib.analysis import sql


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
    sql.assert_same(expected, con.execute(query).df(), **kwargs)


def spikes(calls: pd.DataFrame, config: an.DetectorConfig | None = None) -> pd.DataFrame:
    """The pandas spike path: pivot once, score, alert."""
    return an.alerts(calls, "spike", config=config)


@pytest.mark.parametrize("freq", ["day", "week", "month"])
def test_aggregate_and_growth(calls, con, freq):
    same(ts.aggregate(calls, freq), sql.query("aggregate", freq), con)
    same(ts.growth_rates(calls, freq), sql.query("growth_rates", freq), con)


def test_aggregate_by_dimension(calls, con):
    same(
        ts.aggregate(calls, "week", by="provider"),
        sql.query("aggregate", "week", by="provider"),
        con,
    )


def test_period_comparison_and_trend(calls, con):
    same(ts.month_to_date(calls), sql.query("month_to_date"), con)
    same(ts.month_to_date(calls, "2026-02-07"), sql.query("month_to_date", "2026-02-07"), con)
    t = ts.trend(ts.daily(calls)["cost_usd"])[["actual", "rolling_mean", "linear"]]
    same(t, sql.query("trend"), con)


@pytest.mark.parametrize("by", ["model", "customer_id", ["provider", "subscription_tier"]])
def test_statistics_by_dimension(calls, con, by):
    same(agg.by_dimension(calls, by), sql.query("by_dimension", by), con)
    same(agg.token_efficiency(calls, by), sql.query("token_efficiency", by), con)


def test_top_n_concentration_distribution(calls, con):
    same(agg.top_n(calls, "customer_id", 5), sql.query("top_n", "customer_id", 5), con)
    same(agg.concentration(calls), sql.query("concentration"), con)
    same(agg.percentiles(calls, "latency_ms"), sql.query("percentiles", "latency_ms"), con)
    d = agg.distribution(calls, "cost_usd", bins=12)
    edges = [*d["left"], d["right"].iloc[-1]]
    same(d, sql.query("distribution", "cost_usd", edges), con, keys=["left"])


def test_plan_csv_both_readings_and_export(calls, con, tmp_path):
    same(
        agg.plan_csv(calls, "customer_id", "subscription_tier"),
        sql.query("plan_csv", "customer_id", "subscription_tier"),
        con,
    )
    same(
        agg.plan_csv(calls, ["provider", "feature_id"]),
        sql.query("plan_csv", ["provider", "feature_id"]),
        con,
    )
    path = tmp_path / "by_model.csv"
    con.execute(f"COPY ({sql.query('plan_csv', 'model')}) TO '{path}' (HEADER)")
    back = pd.read_csv(path)
    assert list(back.columns) == list(agg.PLAN_CSV_COLUMNS)
    assert back["count"].sum() == len(calls)


def test_anomaly_scores(calls, con):
    m = an.cost_matrix(calls)
    same(an.score(m, "rolling"), sql.query("rolling_zscore"), con)  # the matrix is unstacked
    same(an.score(m, "robust"), sql.query("robust_zscore"), con)
    same(an.score(m, "cusum"), sql.query("cusum"), con)
    with pytest.raises(AssertionError):
        same(an.score(m, "rolling"), sql.query("robust_zscore"), con)


def test_spikes_alerts_outliers(calls, con):
    flagged = spikes(calls)
    assert len(flagged) >= 1  # the injected viral spike
    same(flagged, sql.query("spikes"), con)
    loose = an.DetectorConfig(min_ratio=1.5, min_abs=0.0, confirm=None, require_history=False)
    same(spikes(calls, loose), sql.query("spikes", loose), con)
    m = an.cost_matrix(calls)
    same(an.alerts(calls, "threshold", limit=5.0), sql.query("threshold_alerts", 5.0), con)
    assert len(an.alerts(calls, "threshold", limit=5.0)) == int((m > 5.0).sum().sum())
    budgets = {"cust_0001": 20.0, "cust_0002": 5.0}
    same(an.alerts(calls, "budget", limit=budgets), sql.query("budget_alerts", budgets), con)
    cols = ["call_id", "cost_usd", "group_median_cost", "score", "cost_ratio"]
    same(an.cost_outliers(calls)[cols], sql.query("cost_outliers"), con, keys=["call_id"])


def test_parquet_path_gives_the_same_answer(calls, parquet_con):
    same(ts.aggregate(calls, "day"), sql.query("aggregate", "day"), parquet_con)
    same(agg.by_dimension(calls, "model"), sql.query("by_dimension", "model"), parquet_con)
    same(spikes(calls), sql.query("spikes"), parquet_con)


def test_frame_connection_filters_in_duckdb_not_in_pyarrow(calls, con, parquet_con):
    """Over a frame no filter is pushed into the Arrow scan (pyarrow would filter and copy each
    batch); the filtering patterns give the pandas answer on the frame and on Parquet."""
    setting = "SELECT current_setting('disabled_optimizers')"
    assert con.execute(setting).fetchone()[0] == "filter_pushdown,join_filter_pushdown"
    assert parquet_con.execute(setting).fetchone()[0] == ""
    cols = ["call_id", "cost_usd", "group_median_cost", "score", "cost_ratio"]
    edges = [0.001, 0.01, 0.1, 1.0]  # narrower than the data: the filter drops calls
    budgets = {"cust_0001": 20.0, "cust_0002": 5.0}
    for c in (con, parquet_con):
        same(an.cost_outliers(calls)[cols], sql.query("cost_outliers"), c, keys=["call_id"])
        same(an.alerts(calls, "budget", limit=budgets), sql.query("budget_alerts", budgets), c)
        same(
            agg.distribution(calls, "cost_usd", bins=edges),
            sql.query("distribution", "cost_usd", edges),
            c,
            keys=["left"],
        )
        same(ts.month_to_date(calls), sql.query("month_to_date"), c)


def test_assert_same_reports_differences():
    a = pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0]})
    assert sql.assert_same(a, a.iloc[::-1]) == 2  # row order does not matter
    with pytest.raises(AssertionError, match='column name="v"'):
        sql.assert_same(a, a.assign(v=[1.0, 2.5]))
    with pytest.raises(AssertionError, match="row counts differ"):
        sql.assert_same(a, a.iloc[:1])
    with pytest.raises(AssertionError, match="missing from the SQL result"):
        sql.assert_same(a, a[["k"]])
    with pytest.raises(AssertionError, match='column name="k"'):
        sql.assert_same(a, a.assign(k=["x", "z"]))
    inf = pd.DataFrame({"k": ["x"], "v": [np.inf]})
    assert sql.assert_same(inf, inf) == 1  # equal infinities agree, NaN equals NULL
    assert sql.assert_same(inf.assign(v=np.nan), inf.assign(v=None)) == 1


def test_the_sql_patterns_are_one_entry_point():
    with pytest.raises(ValueError, match="pattern='tend' is not one of"):
        sql.query("tend")


def test_names_are_checked_before_they_reach_sql():
    with pytest.raises(ValueError, match="not a column"):
        sql.query("by_dimension", "model; DROP TABLE calls")
    with pytest.raises(ValueError, match="call_id"):
        sql.query("top_n", "call_id")
    with pytest.raises(FileNotFoundError):
        sql.connect("/nonexistent/calls.parquet")
    assert "'o''brien'" in sql.query("threshold_alerts", {"o'brien": 1.0})


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
    con = sql.connect(df)
    got = con.execute(sql.query("aggregate", "day")).df()
    assert got["cost_usd"].tolist() == [3.0, 0.0, 4.0]
    by_model = con.execute(sql.query("by_dimension", "model")).df()
    assert np.allclose(by_model["cost_p50"], [2.5, 2.0])


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
    same(expected, sql.query("cost_outliers"), sql.connect(df), keys=["call_id"])


def test_outliers_on_awkward_groups():
    """Zero and missing costs, a group under ``min_group``, a group whose MAD is 0, one with no
    outlier and calls out of order: the SQL twin (cutoff per group, then scored candidates)
    returns the calls pandas returns."""
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "model": rng.choice(["a", "b", "c", "tiny"], n, p=[0.4, 0.3, 0.27, 0.03]),
            "task_type": rng.choice(["chat", "rag_qa"], n),
            "call_id": [f"c{i:04d}" for i in rng.permutation(n)],
            "cost_usd": np.exp(rng.normal(-5, 0.5, n)),
        }
    )
    df.loc[df["model"] == "b", "cost_usd"] = 0.002  # MAD 0: mean absolute deviation
    df.loc[df.index[df["model"] == "b"][:3], "cost_usd"] = [0.5, 0.0, 0.004]
    df.loc[df.index[:5], "cost_usd"] = [0.0, np.nan, 3.0, 2.0, 1.0]
    df = df.astype({"model": "category", "task_type": "category"})
    cols = ["call_id", "cost_usd", "group_median_cost", "score", "cost_ratio"]
    expected = an.cost_outliers(df)[cols]
    assert len(expected) >= 3
    same(expected, sql.query("cost_outliers"), sql.connect(df), keys=["call_id"])


@pytest.fixture(scope="module")
def taxonomy() -> pd.DataFrame:
    """Hand-made calls with every token kind, tiers and a cost by kind at fixed prices that
    differs from ``cost_usd`` after a price change on day 20 (a random but seeded frame)."""
    rng = np.random.default_rng(3)
    n = 6_000
    ts_ = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.integers(0, 40 * 86_400, n)), unit="s"
    )
    day = (ts_ - ts_[0].normalize()).days.to_numpy()
    inp = rng.integers(100, 20_000, n)
    read = (inp * rng.uniform(0, 0.9, n) * (day < 25)).astype(np.int64)  # caching stops on day 25
    write = (inp - read) * (rng.uniform(size=n) < 0.1) // 2
    reason = rng.integers(0, 2_000, n) * (rng.uniform(size=n) < 0.3)
    out = reason + rng.integers(10, 800, n)
    df = pd.DataFrame(
        {
            "timestamp": ts_,
            "customer_id": rng.choice(["c1", "c2", "c3"], n),
            "feature_id": rng.choice(["chat", "search"], n),
            "service_tier": pd.Categorical(
                rng.choice(["standard", "batch", "priority"], n, p=[0.7, 0.2, 0.1])
            ),
            "input_tokens": inp,
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "output_tokens": out,
            "reasoning_tokens": reason,
        }
    )
    df["cost_input"] = (inp - read - write) * 1e-6
    df["cost_cache_read"] = read * 1e-7
    df["cost_cache_write"] = write * 1.25e-6
    df["cost_output"] = (out - reason) * 5e-6
    df["cost_reasoning"] = reason * 5e-6
    fixed = df[
        ["cost_input", "cost_cache_read", "cost_cache_write", "cost_output", "cost_reasoning"]
    ]
    df["cost_usd"] = fixed.sum(axis=1) * np.where(day >= 20, 1.5, 1.0)
    return df


@pytest.mark.parametrize("freq", ["day", "week"])
def test_aggregate_with_kinds(taxonomy, freq):
    con = sql.connect(taxonomy)
    same(ts.aggregate(taxonomy, freq, kinds=True), sql.query("aggregate", freq, kinds=True), con)
    same(
        ts.aggregate(taxonomy, freq, by="feature_id", kinds=True),
        sql.query("aggregate", freq, "feature_id", kinds=True),
        con,
    )
    bare = taxonomy.drop(columns=[c for c in taxonomy if c.startswith("cost_") and c != "cost_usd"])
    same(
        ts.aggregate(bare, freq, kinds=True),
        sql.query("aggregate", freq, kinds=True, costs=False),
        sql.connect(bare),
    )


@pytest.mark.parametrize("by", ["feature_id", ["customer_id", "feature_id"]])
def test_cost_by_kind_and_tier_mix(taxonomy, by):
    con = sql.connect(taxonomy)
    same(agg.by_dimension(taxonomy, by, view="kinds"), sql.query("cost_by_kind", by), con)
    same(agg.by_dimension(taxonomy, by, view="tiers"), sql.query("tier_mix", by), con)
    same(agg.tier_mix(taxonomy), sql.query("tier_mix"), con)


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        (("2026-01-22", "2026-01-29"), ("2026-01-08", "2026-01-22")),  # price change and cache off
        (("2026-01-10", "2026-01-17"), ("2026-01-03", "2026-01-10")),  # nothing but noise
    ],
)
@pytest.mark.parametrize("by", [None, "customer_id"])
def test_drivers(taxonomy, current, previous, by):
    expected = an.drivers(taxonomy, current, previous, by=by)
    actual = sql.connect(taxonomy).execute(sql.query("drivers", current, previous, by)).df()
    same(expected, sql.query("drivers", current, previous, by), sql.connect(taxonomy))
    assert (actual.set_index(by or "entity")["driver"] == expected["driver"]).all()
    if current[0] == "2026-01-22":
        assert set(expected["driver"]) == {"price"}  # a 50% price rise outweighs the cache


@pytest.fixture(scope="module")
def storm_calls() -> pd.DataFrame:
    simulation = pytest.importorskip("showcase_lib.simulation")
    return simulation.simulate("incidents_2026", days=20, customers=30, seed=2).calls


@pytest.mark.parametrize(
    ("metric", "freq", "by"),
    [
        ("cost_per_call", "day", "feature_id"),
        ("calls_per_request", "hour", "customer_id"),
        ("calls", "hour", "feature_id"),
    ],
)
def test_spikes_and_cusum_of_every_metric(storm_calls, metric, freq, by):
    from showcase_lib.analysis.anomalies import _matrix

    cfg = an.DetectorConfig(
        by=by,
        freq=freq,
        metric=metric,
        window=24 if freq == "hour" else 7,
        min_periods=6,
        min_ratio=1.5,
    )
    con = sql.connect(storm_calls)
    flagged = an.alerts(storm_calls, "spike", config=cfg)
    assert len(flagged) >= 1  # something to compare
    same(flagged, sql.query("spikes", cfg), con)
    matrix = _matrix.metric_matrix(storm_calls, by, freq, metric)
    cusum = an.score(matrix, "cusum", window=cfg.window, config=cfg)
    same(cusum, sql.query("cusum", cfg), con)


@pytest.mark.parametrize("freq", ["5min", "10min", "6h", "2D"])
def test_sql_twins_take_any_fixed_bucket(freq):
    """aggregate and the cost matrix in DuckDB at minute-to-day buckets equal pandas'."""
    from showcase_lib.analysis import sql, timeseries
    from showcase_lib.analysis.anomalies import cost_matrix
    from showcase_lib.simulation import simulate

    calls = simulate("steady_growth", days=4, customers=15, seed=3).calls
    con = sql.connect(calls)
    assert (
        sql.assert_same(
            timeseries.aggregate(calls, freq), con.sql(sql.query("aggregate", freq)).df()
        )
        > 1
    )
    matrix = cost_matrix(calls, "customer_id", freq)
    long = matrix.stack().rename("cost_usd").reset_index()
    got = con.sql(sql.query("cost_matrix", "customer_id", freq)).df()
    assert len(got) == len(long), (len(got), len(long))  # the same grid of periods x customers
    assert abs(got["cost"].sum() - long["cost_usd"].sum()) < 1e-6


@pytest.mark.parametrize("part", ["hour", "day", "week", "month"])
def test_utc_trunc_is_date_trunc_in_utc(part):
    """The macro (integer arithmetic for hour and day) equals ``date_trunc`` on TIMESTAMPTZ in
    UTC, on random instants from 1970 to 2033 and on period edges."""
    con = sql.connect(pd.DataFrame({"x": [1]}))
    bad = con.execute(f"""
        WITH ts AS (
            SELECT make_timestamptz((random() * 2e15)::BIGINT) AS ts FROM range(20000)
            UNION ALL SELECT unnest([TIMESTAMPTZ '2026-03-01 00:00:00+00',
                                     TIMESTAMPTZ '2026-02-28 23:59:59.999999+00',
                                     TIMESTAMPTZ '1970-01-05 00:00:00+00'])
        )
        SELECT count(*) FROM ts WHERE utc_trunc('{part}', ts) IS DISTINCT FROM date_trunc('{part}', ts)
    """).fetchone()[0]
    assert bad == 0
