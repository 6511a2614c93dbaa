"""Time-series query patterns on small hand-computed frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis import _timeseries as ts
from showcase_lib.schema import DTYPES, empty_calls


def make_calls(rows: list[tuple[str, float]], tokens: tuple[int, int] = (100, 50)) -> pd.DataFrame:
    """A schema-conforming frame with one call per (timestamp, cost) row."""
    n = len(rows)
    df = empty_calls().reindex(range(n))
    df["timestamp"] = pd.to_datetime([r[0] for r in rows], utc=True, format="ISO8601")
    df["cost_usd"] = [r[1] for r in rows]
    df["input_tokens"] = tokens[0]
    df["output_tokens"] = tokens[1]
    df["latency_ms"] = 100
    df["customer_id"] = "cust_0001"
    return df.astype(
        {
            c: DTYPES[c]
            for c in (
                "timestamp",
                "cost_usd",
                "input_tokens",
                "output_tokens",
                "latency_ms",
                "customer_id",
            )
        }
    )


def daily_series(values, start="2026-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), tz="UTC"), dtype=float)


def test_daily_fills_missing_days_and_counts_tokens():
    calls = make_calls(
        [("2026-01-01 08:00", 1.0), ("2026-01-01 20:00", 2.0), ("2026-01-03 12:00", 4.0)]
    )
    d = ts.daily(calls)
    assert d.index.tolist() == list(pd.date_range("2026-01-01", periods=3, tz="UTC"))
    assert d["cost_usd"].tolist() == [3.0, 0.0, 4.0]
    assert d["calls"].tolist() == [2, 0, 1]
    assert d["total_tokens"].tolist() == [300, 0, 150]


def test_weeks_start_on_monday_and_months_on_the_first():
    # 2026-01-04 is a Sunday, 2026-01-05 a Monday
    calls = make_calls([("2026-01-04 23:59", 1.0), ("2026-01-05 00:00", 2.0), ("2026-02-10", 5.0)])
    w = ts.weekly(calls)
    assert w.index[0] == pd.Timestamp("2025-12-29", tz="UTC")
    assert w.loc[pd.Timestamp("2026-01-05", tz="UTC"), "cost_usd"] == 2.0
    m = ts.monthly(calls)
    assert m["cost_usd"].tolist() == [3.0, 5.0]
    assert m.index.tolist() == [
        pd.Timestamp("2026-01-01", tz="UTC"),
        pd.Timestamp("2026-02-01", tz="UTC"),
    ]


def test_aggregate_by_dimension_fills_the_grid():
    calls = make_calls([("2026-01-01", 1.0), ("2026-01-02", 2.0)])
    calls["model"] = pd.Categorical(["a", "b"])
    out = ts.aggregate(calls, "day", by="model")
    assert len(out) == 4  # 2 days x 2 models
    assert out.loc[(pd.Timestamp("2026-01-01", tz="UTC"), "b"), "cost_usd"] == 0.0


def test_known_growth_rates():
    s = daily_series([100.0, 110.0, 99.0, 0.0, 50.0])
    g = ts.growth(s)
    assert g.iloc[1] == pytest.approx(0.10)
    assert g.iloc[2] == pytest.approx(-0.10)
    assert g.iloc[3] == pytest.approx(-1.0)
    assert np.isnan(g.iloc[4])  # from 0: undefined, never infinite


def test_growth_rates_week_over_week_and_partial_period_dropped():
    # two full weeks (Mon 2026-01-05 .. Sun 01-18) at 1 and 2 USD/day, and a partial third week
    rows = [(str(d.date()), 1.0) for d in pd.date_range("2026-01-05", periods=7)]
    rows += [(str(d.date()), 2.0) for d in pd.date_range("2026-01-12", periods=7)]
    rows += [("2026-01-19", 100.0)]
    g = ts.growth_rates(make_calls(rows), "week")
    assert g["cost_usd"].tolist() == [7.0, 14.0]  # the one-day week is not compared
    assert g["growth"].iloc[1] == pytest.approx(1.0)
    d = ts.growth_rates(make_calls(rows), "day")
    assert d["same_day_last_week"].iloc[7] == pytest.approx(1.0)


def test_month_to_date_compares_same_days():
    calls = make_calls(
        [
            ("2026-01-02", 1.0),
            ("2026-01-03", 2.0),
            ("2026-01-20", 50.0),
            ("2026-02-01", 3.0),
            ("2026-02-03", 3.0),
        ]
    )
    t = ts.month_to_date(calls)  # as of the end of 2026-02-03: Feb 1-3 vs Jan 1-3
    assert t.loc["cost_usd", "current"] == 6.0
    assert t.loc["cost_usd", "previous"] == 3.0
    assert t.loc["cost_usd", "change_pct"] == pytest.approx(1.0)
    assert t.loc["calls", "previous"] == 2


def test_month_to_date_caps_at_a_shorter_previous_month():
    calls = make_calls([("2026-02-27", 1.0), ("2026-03-30", 2.0)])
    t = ts.month_to_date(calls)  # 30 days of March vs the whole of February (28 days)
    lo, hi = t.attrs["previous"]
    assert (lo, hi) == (pd.Timestamp("2026-02-01", tz="UTC"), pd.Timestamp("2026-03-01", tz="UTC"))


def test_month_over_month_whole_months():
    calls = make_calls([("2026-01-05", 10.0), ("2026-02-05", 15.0), ("2026-03-01", 1.0)])
    t = ts.month_over_month(calls)  # last complete month is February
    assert t.loc["cost_usd", ["current", "previous"]].tolist() == [15.0, 10.0]


def test_compare_periods_rejects_an_empty_window():
    calls = make_calls([("2026-01-05", 10.0)])
    with pytest.raises(ValueError, match="current"):
        ts.compare_periods(calls, ("2026-01-05", "2026-01-05"), ("2026-01-01", "2026-01-02"))


def test_linear_trend_and_rolling_mean_are_exact_on_a_line():
    s = daily_series(5.0 + 2.0 * np.arange(21))
    fit = ts.linear_trend(s)
    assert fit.slope_per_day == pytest.approx(2.0)
    assert fit.intercept == pytest.approx(5.0)
    assert fit.r2 == pytest.approx(1.0)
    t = ts.trend(s, window=7)
    assert t["rolling_mean"].iloc[6] == pytest.approx(np.mean(5.0 + 2.0 * np.arange(7)))
    assert np.isnan(t["rolling_mean"].iloc[5])
    assert t["stl_trend"].notna().all()


def test_forecast_interval_brackets_the_mean_and_widens():
    rng = np.random.default_rng(1)
    idx = pd.date_range("2026-01-01", periods=42, tz="UTC")
    s = pd.Series(100 + 20 * (idx.dayofweek < 5) + rng.normal(0, 3, len(idx)), index=idx)
    f = ts.forecast(s, 14, level=0.9)
    assert len(f) == 14 and f.index[0] == pd.Timestamp("2026-02-12", tz="UTC")
    assert ((f["lower"] < f["mean"]) & (f["mean"] < f["upper"])).all()
    width = f["upper"] - f["lower"]
    assert width.iloc[-1] >= width.iloc[0]
    weekday = f.index.dayofweek < 5
    assert f.loc[weekday, "mean"].mean() > f.loc[~weekday, "mean"].mean() + 10  # seasonality kept


def test_month_end_projection_against_budget():
    rng = np.random.default_rng(2)
    s = daily_series(100 + rng.normal(0, 5, 45))  # Jan 1 .. Feb 14
    over = ts.month_end_projection(s, budget=2_000, config=ts.ProjectionConfig(n_paths=500))
    assert over.month == pd.Timestamp("2026-02-01", tz="UTC")
    assert over.days_remaining == 14
    assert over.spent_to_date == pytest.approx(s["2026-02"].sum())
    assert over.lower < over.projected < over.upper
    assert 2_600 < over.projected < 3_000  # about 28 days x 100 USD
    assert over.prob_over_budget > 0.99
    under = ts.month_end_projection(s, budget=5_000, config=ts.ProjectionConfig(n_paths=500))
    assert under.prob_over_budget < 0.01
    assert under.headroom > 0
    assert list(over.path.columns) == ["actual", "mean", "lower", "upper"]
    assert over.path["upper"].dropna().iloc[-1] == pytest.approx(over.upper)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="freq='fortnight'"):
        ts.aggregate(make_calls([("2026-01-01", 1.0)]), "fortnight")
    with pytest.raises(ValueError, match="budget"):
        ts.month_end_projection(daily_series([1.0] * 10), budget=0)


def test_growth_rates_drop_a_leading_partial_week():
    # data starts on Thursday 2026-01-01: the week of Monday 2025-12-29 has only 4 days
    rows = [(str(d.date()), 1.0) for d in pd.date_range("2026-01-01", "2026-01-18")]
    g = ts.growth_rates(make_calls(rows), "week")
    assert g.index.tolist() == [
        pd.Timestamp("2026-01-05", tz="UTC"),
        pd.Timestamp("2026-01-12", tz="UTC"),
    ]
    assert g["growth"].iloc[1] == pytest.approx(0.0)
    assert len(ts.growth_rates(make_calls(rows), "week", complete_only=False)) == 3


def test_month_end_projection_is_reproducible():
    rng = np.random.default_rng(5)
    s = daily_series(50 + rng.normal(0, 4, 40))
    a = ts.month_end_projection(s, budget=1_500, config=ts.ProjectionConfig(n_paths=300, seed=3))
    b = ts.month_end_projection(s, budget=1_500, config=ts.ProjectionConfig(n_paths=300, seed=3))
    assert (a.projected, a.lower, a.upper, a.prob_over_budget) == (
        b.projected,
        b.lower,
        b.upper,
        b.prob_over_budget,
    )
    assert a.converged


def test_aggregate_with_kinds_rates_per_period_and_nan_on_empty_days():
    df = make_calls(
        [("2026-01-01 10:00", 1.0), ("2026-01-01 11:00", 3.0), ("2026-01-03 09:00", 2.0)]
    )
    df["input_tokens"] = [1000, 3000, 1000]
    df["cache_read_tokens"] = [1000, 0, 500]  # day 1: 1000 of 4000 input tokens read from cache
    df["cache_write_tokens"] = [0, 3000, 0]
    df["reasoning_tokens"] = [10, 40, 0]  # of 50 output tokens each
    df["cost_input"], df["cost_cache_read"], df["cost_cache_write"] = 0.5, 0.1, 0.2
    df["cost_output"], df["cost_reasoning"] = 0.3, [0.1, 0.4, 0.0]
    t = ts.aggregate(df, "day", kinds=True)
    assert t["cache_hit_rate"].iloc[0] == pytest.approx(0.25)
    assert np.isnan(t["cache_hit_rate"].iloc[1]) and t["calls"].iloc[1] == 0
    assert t["cache_hit_rate"].iloc[2] == pytest.approx(0.5)
    assert t["reasoning_share"].iloc[0] == pytest.approx(50 / 100)
    assert t["cost_reasoning"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert t["cache_write_tokens"].dtype == np.int64
    # the usual columns are unchanged by the option
    plain = ts.aggregate(df, "day")
    pd.testing.assert_frame_equal(t[plain.columns], plain)
    by = ts.aggregate(df, "day", by="customer_id", kinds=True)
    assert by["cost_input"].sum() == pytest.approx(1.5)


# ---------------------------------------------------------------------------------------------
# any fixed bucket size (issue 12): one code path from one minute to a calendar month


def _random_calls(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-28 22:13:07", tz="UTC")  # crosses a month end
    seconds = np.sort(rng.uniform(0, 9 * 86_400, n))
    rows = [
        (str(start + pd.Timedelta(seconds=s)), float(c))
        for s, c in zip(seconds, rng.gamma(2, 0.01, n), strict=True)
    ]
    return make_calls(rows)


# pandas' own resampling, bucket starts labelled on the left (weeks: Monday starts)
@pytest.mark.parametrize(
    ("freq", "pandas_rule"),
    [
        ("1min", "1min"),
        ("5min", "5min"),
        ("10min", "10min"),
        ("6h", "6h"),
        ("h", "h"),
        ("D", "D"),
        ("W", "W-MON"),
        ("MS", "MS"),
    ],
)
def test_aggregate_takes_any_fixed_bucket_and_matches_pandas_resample(freq, pandas_rule):
    calls = _random_calls()
    got = ts.aggregate(calls, freq)
    kw = {"label": "left", "closed": "left"} if pandas_rule == "W-MON" else {}
    want = calls.set_index("timestamp")["cost_usd"].resample(pandas_rule, **kw).agg(["size", "sum"])
    assert got.index.tolist() == want.index.tolist()  # every bucket, empty ones included
    assert got["calls"].tolist() == want["size"].tolist()
    np.testing.assert_allclose(got["cost_usd"].to_numpy(), want["sum"].to_numpy(), rtol=1e-12)


def test_five_minute_buckets_are_no_longer_refused():
    # the old code raised "freq='5min' is not one of [...]" (issue 12, a one-hour trace)
    calls = make_calls(
        [
            ("2026-01-01T10:01:00Z", 1.0),
            ("2026-01-01T10:04:59Z", 2.0),
            ("2026-01-01T10:05:00Z", 4.0),
            ("2026-01-01T10:17:00Z", 8.0),
        ]
    )
    got = ts.aggregate(calls, "5min")
    assert got["cost_usd"].tolist() == [3.0, 4.0, 0.0, 8.0]
    assert got.index[0] == pd.Timestamp("2026-01-01T10:00:00Z")


def test_period_words_and_aliases_agree():
    calls = _random_calls(500)
    for word, alias in (
        ("hour", "h"),
        ("day", "D"),
        ("week", "W"),
        ("month", "MS"),
        ("daily", "1D"),
    ):
        pd.testing.assert_frame_equal(ts.aggregate(calls, word), ts.aggregate(calls, alias))
    assert ts.canonical_freq("1h") == "hour" and ts.canonical_freq("10min") == "10min"


@pytest.mark.parametrize("freq", ["m", "M", "T", "5T", "ME", "S", "ms", "10m"])
def test_an_ambiguous_alias_is_an_error_naming_the_value_and_the_fix(freq):
    # the old code read "m" (and "ms") as a calendar month, silently
    with pytest.raises(ValueError, match=f"freq={freq!r} is ambiguous") as err:
        ts.aggregate(make_calls([("2026-01-01", 1.0)]), freq)
    assert (
        "write 'min'" in str(err.value)
        or "write 'MS'" in str(err.value)
        or "write 's'" in str(err.value)
    )


@pytest.mark.parametrize("freq", ["W-SUN", "Y", "QS", "B", "0min", "fortnight"])
def test_a_bucket_that_is_not_fixed_is_refused(freq):
    with pytest.raises(ValueError, match=f"freq={freq!r}"):
        ts.aggregate(make_calls([("2026-01-01", 1.0)]), freq)


@pytest.mark.parametrize("freq", ["day", "hour", "week", "10min", "2D"])
@pytest.mark.parametrize("fill", [True, False])
def test_totals_by_bucket_number_equal_the_group_by(freq, fill):
    """Without ``by``, fixed buckets are summed by bucket number; the result equals the
    group-by on period starts (kept for ``by`` and months) to the last bit of the cost."""
    rng = np.random.default_rng(14)
    stamps = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.integers(0, 20 * 86_400, 400)), unit="s"
    )
    calls = pd.DataFrame(
        {
            "timestamp": stamps,
            "cost_usd": rng.lognormal(-4, 1, 400),
            "input_tokens": rng.integers(0, 5_000, 400),
            "output_tokens": rng.integers(0, 900, 400),
            "model": "m",
        }
    )
    got = ts.aggregate(calls, freq, fill=fill)
    by_model = ts.aggregate(calls, freq, by="model", fill=fill).droplevel("model")
    pd.testing.assert_frame_equal(got, by_model, check_exact=True, check_freq=False)
