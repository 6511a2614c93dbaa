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


def test_group_sums_equal_series_groupby_sum():
    rng = np.random.default_rng(0)
    values = rng.normal(size=5000) * 1e3
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
