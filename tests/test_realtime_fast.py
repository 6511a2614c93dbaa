"""Issue 14: the real-time analyzer's fast paths equal the pandas expressions they replace.

Each fast path (integer cells instead of a group-by on timestamps, trailing counts instead of
a rolling window per column, a lookup table instead of ``np.isin``) is compared with the plain
pandas expression on awkward inputs: missing values, unused and unsorted categories,
out-of-order timestamps, infinities, empty frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis.anomalies import _matrix, _scores
from showcase_lib.analysis.anomalies._cells import cells, group_sums


def _calls(n: int = 4000, seed: int = 1) -> pd.DataFrame:
    """Out-of-order calls over 20 days; categories unsorted, one unused, some values missing."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-03 05:00", tz="UTC")
    ts = start + pd.to_timedelta(rng.integers(0, 20 * 86_400, n), unit="s")
    cust = pd.Categorical(
        rng.choice(["z", "b", "a", None, "m"], n), categories=["z", "b", "unused", "a", "m"]
    )
    cost = rng.lognormal(size=n) * 0.01
    cost[::97] = np.nan
    return pd.DataFrame(
        {"timestamp": pd.Series(ts), "customer_id": cust, "cost_usd": cost, "n": np.arange(n)}
    )


@pytest.mark.parametrize("freq", ["day", "h", "10min", "week", "3D", "6h"])
@pytest.mark.parametrize("by", ["customer_id", None])
@pytest.mark.parametrize("metric", ["cost_usd", "calls"])
def test_cost_matrix_cells_equal_the_groupby(freq, by, metric):
    df = _calls()
    fast = _matrix.cost_matrix(df, by, freq, metric=metric)
    slow = _matrix._groupby_matrix(df, by, freq, metric=metric)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast.index.freq == slow.index.freq
    costs, counts = _matrix.matrices(df, by, freq)
    pd.testing.assert_frame_equal(costs, _matrix._groupby_matrix(df, by, freq), check_exact=True)
    pd.testing.assert_frame_equal(counts, _matrix.calls_matrix(df, costs, by, freq))


def test_cost_matrix_falls_back_where_cells_cannot_say():
    df = _calls(300)
    assert cells(df.iloc[:0], "customer_id", "day") is None  # no rows
    assert cells(df, "customer_id", "MS") is None  # months vary in length
    as_text = df.assign(customer_id=df["customer_id"].astype(str))
    assert cells(as_text, "customer_id", "day") is None  # not categorical
    none = df.assign(customer_id=pd.Categorical([None] * len(df), categories=["a"]))
    assert cells(none, "customer_id", "day") is None  # every value missing
    nat = df.copy()
    nat.loc[3, "timestamp"] = pd.NaT
    assert cells(nat, "customer_id", "day") is None
    for frame in (df.iloc[:0], as_text):
        pd.testing.assert_frame_equal(
            _matrix.cost_matrix(frame), _matrix._groupby_matrix(frame, "customer_id", "day")
        )


def test_cost_matrix_sums_like_pandas_to_the_bit():
    """Kahan-compensated sums in row order: np.bincount would move the last bits."""
    rng = np.random.default_rng(3)
    n = 200_000
    df = pd.DataFrame(
        {
            "timestamp": pd.Series(pd.DatetimeIndex([pd.Timestamp("2026-01-01", tz="UTC")] * n)),
            "customer_id": pd.Categorical(["a"] * n),
            "cost_usd": rng.lognormal(size=n) * 10.0 ** rng.integers(-6, 3, n),
        }
    )
    expected = df["cost_usd"].groupby(np.zeros(n, dtype=int)).sum().iloc[0]
    assert _matrix.cost_matrix(df).iloc[0, 0] == expected


@pytest.mark.parametrize("cython", [True, False])  # pandas' own kernel, or the public route
def test_group_sums_equal_series_groupby_sum(monkeypatch, cython):
    from showcase_lib.analysis.anomalies import _cells

    if not cython:
        monkeypatch.setattr(_cells, "_group_sum", None)
    rng = np.random.default_rng(0)
    values = rng.normal(size=5000) * 10.0 ** rng.integers(-8, 4, 5000)
    values[::13] = np.nan
    codes = rng.integers(-1, 40, 5000)
    got = group_sums(values, codes, 45)
    keep = codes >= 0
    want = pd.Series(values[keep]).groupby(codes[keep]).sum().reindex(range(45), fill_value=0.0)
    np.testing.assert_array_equal(got, want.to_numpy())


def _established_pandas(x, window, min_periods):
    past = x.shift(1).rolling(window, min_periods=min_periods)
    ok = (past.min() > 0) & past.count().ge(min_periods)
    return ok.fillna(False).astype(bool)


def test_established_equals_pandas_rolling():
    rng = np.random.default_rng(0)
    levels = [0.0, 1.0, 2.0, -1.0, np.nan, np.inf, -np.inf]
    for _ in range(500):
        t, c = int(rng.integers(0, 25)), int(rng.integers(1, 5))
        df = pd.DataFrame(
            rng.choice(levels, size=(t, c), p=[0.1, 0.5, 0.2, 0.05, 0.1, 0.025, 0.025])
        )
        window = int(rng.integers(1, 10))
        mp = int(rng.integers(0, window + 1))
        got = _scores.established(df, window, min_periods=mp)
        pd.testing.assert_frame_equal(got, _established_pandas(df, window, mp))
        s = _scores.established(df[0], window, min_periods=mp)
        pd.testing.assert_series_equal(s, _established_pandas(df[0], window, mp))
    with pytest.raises(ValueError, match="min_periods"):
        _scores.established(pd.DataFrame(np.ones((3, 2))), 2, min_periods=3)


def _budget_calls(seed: int, *, call_id: bool, ties: bool, n: int = 5000) -> pd.DataFrame:
    """40 days across a month end, out of order; on ``ties`` many calls share a timestamp."""
    rng = np.random.default_rng(seed)
    secs = rng.integers(0, 40 * 86_400, n)
    if ties:
        secs = secs // 3600 * 3600
    ts = pd.Timestamp("2026-01-20 05:00", tz="UTC") + pd.to_timedelta(secs, unit="s")
    cust = pd.Categorical(rng.choice(["z", "b", "a", "m"], n), categories=["z", "b", "u", "a", "m"])
    cost = rng.lognormal(size=n) * 0.1
    cost[::101] = np.nan
    df = pd.DataFrame({"timestamp": pd.Series(ts), "customer_id": cust, "cost_usd": cost})
    if call_id:
        ids = [f"c{i:07d}" for i in rng.integers(0, 10**6, n)]
        df["call_id"] = pd.Series(ids, dtype="string[pyarrow]")
    return df


def _budget_both(monkeypatch, df, budgets, **kw):
    from showcase_lib.analysis.anomalies import _alerts

    fast = _alerts.budget_alerts(df, budgets, **kw)
    with monkeypatch.context() as m:
        m.setattr(_alerts, "day_cells", lambda *a: None)  # the group-by path
        slow = _alerts.budget_alerts(df, budgets, **kw)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    return fast


@pytest.mark.parametrize("freq", ["month", "week", "day", "h", "2D"])
@pytest.mark.parametrize(("call_id", "ties"), [(False, False), (True, True), (False, True)])
def test_budget_alerts_cells_equal_the_groupby(monkeypatch, freq, call_id, ties):
    df = _budget_calls(0, call_id=call_id, ties=ties)
    found = 0
    for budgets in (20.0, {"z": 10.0, "b": 30.0, "a": 5.0, "m": 50.0, "x": 1.0}, {"z": 10.0}):
        for levels in ((0.5, 0.8, 1.0), (1.0, 0.5, 0.5), (2,)):
            found += len(_budget_both(monkeypatch, df, budgets, freq=freq, levels=levels))
    assert found > 0
    _budget_both(monkeypatch, df, 5.0, by=None, freq=freq)


def test_budget_alerts_fall_back_on_missing_entities(monkeypatch):
    df = _budget_calls(1, call_id=False, ties=False)
    df.loc[::7, "customer_id"] = None
    _budget_both(monkeypatch, df, 10.0)
    _budget_both(monkeypatch, df.iloc[:0], 10.0)


@pytest.mark.parametrize("missing", [False, True])  # own codes, or str_codes
def test_default_budgets_equal_the_plain_expression(missing):
    from showcase_lib.analysis.analyzers._realtime import default_budgets

    df = _budget_calls(2, call_id=False, ties=False)
    if missing:
        df.loc[::11, "customer_id"] = None
    ts, key = df["timestamp"], df["customer_id"].astype(str)
    early = ts < ts.min() + pd.Timedelta(days=7)
    base = df["cost_usd"][early].groupby(key[early]).sum() * 30.0 / 7.0
    want = (1.5 * base.reindex(key.unique(), fill_value=0.0)).clip(lower=1.0).rename("budget_usd")
    want.index.name = None
    pd.testing.assert_series_equal(default_budgets(df), want, check_exact=True)
    with_nat = df.copy()
    with_nat.loc[5, "timestamp"] = pd.NaT  # the Series comparisons path
    assert default_budgets(with_nat).index.tolist() == want.index.tolist()


def test_budget_status_equals_its_pandas_path():
    """The integer-nanosecond masks give what the Series comparisons give (NaT: no call)."""
    from showcase_lib.analysis.analyzers._realtime import budget_status

    df = _budget_calls(3, call_id=False, ties=False)
    budgets = {"z": 10.0, "b": 30.0, "a": 5.0, "m": 50.0, "x": 1.0}
    asof = pd.Timestamp("2026-02-27 12:00", tz="UTC")  # some calls after it, in the month
    fast = budget_status(df, budgets, asof=asof)
    assert fast["crossed_100"].notna().any() and (fast["burn_usd_per_hour"] > 0).any()
    with_nat = df.copy()
    with_nat["timestamp"] = with_nat["timestamp"].where(with_nat.index != 5)  # NaT: left out
    with_nat.loc[5, "cost_usd"] = 1000.0
    slow = budget_status(with_nat, budgets, asof=asof)
    plain = df.drop(index=5)
    pd.testing.assert_frame_equal(slow, budget_status(plain, budgets, asof=asof), check_exact=True)


def test_bucket_spend_nanoseconds_equal_the_timedelta_path():
    from showcase_lib.analysis.analyzers._realtime import bucket_spend

    df = _budget_calls(4, call_id=False, ties=False)
    fast = bucket_spend(df, "10min")
    naive = bucket_spend(df.assign(timestamp=df["timestamp"].dt.tz_localize(None)), "10min")
    naive.index = naive.index.tz_localize("UTC")
    pd.testing.assert_frame_equal(fast, naive, check_exact=True)


@pytest.mark.parametrize("width", [1, 5, 14, 700])  # numpy's nanmedian: masked arrays < 600
def test_gap_median_equals_nanmedian(width):
    rng = np.random.default_rng(width)
    for _ in range(200):
        rows = rng.normal(size=(int(rng.integers(1, 12)), width)) * 10.0 ** rng.integers(-5, 5)
        rows[rng.random(rows.shape) < rng.random()] = np.nan
        rows[0] = np.nan  # an all-missing window: NaN
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
            want = np.nanmedian(rows, axis=1)
        np.testing.assert_array_equal(_scores._gap_median(rows), want)


def test_key_codes_read_as_the_text_of_each_value():
    from showcase_lib.analysis.analyzers._realtime import _key_codes

    cases = [
        pd.Series(["b", "a", "b"], dtype="category"),
        pd.Series(pd.Categorical(["x", "y"], categories=["y", "unused", "x"])),
        pd.Series(pd.Categorical([1, "1", 2], categories=[1, "1", 2])),  # one text, two values
        pd.Series(pd.Categorical(["a", None, "a"])),
        pd.Series(["q", "p"]),
        pd.Series([], dtype="category"),
    ]
    for values in cases:
        codes, labels = _key_codes(values)
        assert labels[codes].tolist() == values.astype(str).tolist()
        assert len(set(labels)) == len(labels)


def test_cost_matrix_with_mostly_unused_categories():
    """A column filtered from a large one keeps its categories: they are dropped first."""
    df = _calls(2000)
    cats = [f"c{i:06d}" for i in range(300_000)]
    codes = np.random.default_rng(5).integers(0, 300_000, 50)[np.arange(len(df)) % 50]
    df["customer_id"] = pd.Categorical.from_codes(codes, categories=cats)
    for metric in ("cost_usd", "calls"):
        fast = _matrix.cost_matrix(df, "customer_id", "day", metric=metric)
        slow = _matrix._groupby_matrix(df, "customer_id", "day", metric=metric)
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert cells(df, "customer_id", "day").shape[1] == len(set(codes))


@pytest.mark.parametrize(
    ("freq", "per_day"), [("hour", 24), ("day", 1), ("week", 1 / 7), ("h", 24)]
)
def test_detector_is_the_production_rule_at_the_period(freq, per_day):
    """``DetectorConfig.at`` gives the settings the analyzer used to spell out."""
    from showcase_lib.analysis import anomalies
    from showcase_lib.analysis.analyzers._realtime import RealtimeConfig, _detector

    calls = pd.DataFrame(columns=["timestamp", "customer_id", "model", "cost_usd"])
    want = anomalies.DetectorConfig(
        by="customer_id",
        freq=freq,
        window=max(7, int(14 * per_day)),
        min_periods=max(3, int(7 * per_day)),
        threshold=3.5,
        min_ratio=2.0,
        min_abs=5.0,
        dimensions=("customer_id", "model"),
    )
    assert _detector(calls, RealtimeConfig(freq=freq)) == want


@pytest.mark.parametrize("freq", ["day", "10min", "week", "6h"])
def test_aggregate_totals_sum_like_the_groupby(freq):
    """``aggregate(calls, freq)`` (bucket numbers, no hashing) sums cost as pandas does."""
    from showcase_lib.analysis._timeseries import aggregate, period_keys

    df = _calls(20_000)
    df["input_tokens"] = np.arange(len(df)) % 977
    df["output_tokens"] = np.arange(len(df)) % 31
    got = aggregate(df, freq)
    keys = pd.DatetimeIndex(period_keys(df["timestamp"], freq)).tz_localize("UTC")
    want = df["cost_usd"].groupby(keys).sum().reindex(got.index, fill_value=0.0)
    np.testing.assert_array_equal(got["cost_usd"].to_numpy(), want.to_numpy())
    assert got["calls"].sum() == len(df)
    assert got["input_tokens"].sum() == df["input_tokens"].sum()
