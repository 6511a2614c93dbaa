"""Notebook 12's minute-level alerts read their buckets through the time series' code path.

Regression tests for issue 12 (item 3): ``viral_spike_response`` bucketed spend with its own
``pd.Timedelta(freq)``, so ``"1m"`` silently meant one minute (pandas' offset aliases read it as
a month), ``"h"`` and ``"D"`` raised "unit abbreviation w/o a number", and its buckets were not
the ones ``timeseries.aggregate`` (and Part B's detectors) use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis._scenarios import spend_per_bucket
from showcase_lib.analysis.scenarios import SpikeResponseConfig, StreamConfig, viral_spike_response
from showcase_lib.analysis.timeseries import aggregate

#: An hourly detector for six days of data: two days of baseline, one bucket compared.
HOURLY = StreamConfig(window_buckets=48, recent_buckets=1, min_history=24, factor=4.0, z=3.0)


def _calls(freq: str = "7min", days: int = 6) -> pd.DataFrame:
    """One customer steady at $1 a call, $10 a call from day 4; a quiet second customer."""
    ts = pd.date_range("2026-01-01 00:03", periods=days * 24 * 60 // 7, freq=freq, tz="UTC")
    spiking = np.where(ts >= pd.Timestamp("2026-01-04", tz="UTC"), 10.0, 1.0)
    calls = pd.DataFrame(
        {
            "timestamp": np.concatenate([ts, ts[::5]]),
            "customer_id": ["a"] * len(ts) + ["b"] * len(ts[::5]),
            "cost_usd": np.concatenate([spiking, np.full(len(ts[::5]), 0.5)]),
            "input_tokens": 100,
            "output_tokens": 10,
        }
    )
    return calls.sort_values("timestamp", kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("freq", ["1min", "5min", "10min", "h", "6h", "D"])
def test_spike_buckets_are_the_time_series_buckets(freq):
    calls = _calls()
    wide = spend_per_bucket(calls, freq)
    series = aggregate(calls, freq, by="customer_id")["cost_usd"].unstack()
    assert list(wide.columns) == list(series.columns) == ["a", "b"]
    assert wide.index.equals(series.index.rename("bucket"))
    np.testing.assert_allclose(wide.to_numpy(), series.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("freq", ["1m", "m", "M", "T"])
def test_an_ambiguous_bucket_is_an_error_not_a_silent_minute(freq):
    # the old code read "1m" as pd.Timedelta("1m"): one minute, where pandas' alias is a month
    with pytest.raises(ValueError, match="ambiguous"):
        viral_spike_response(
            _calls(),
            customer="a",
            onset="2026-01-04 00:00+00:00",
            config=SpikeResponseConfig(freq=freq),
        )


def test_calendar_months_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="buckets of one length"):
        viral_spike_response(
            _calls(),
            customer="a",
            onset="2026-01-04 00:00+00:00",
            config=SpikeResponseConfig(freq="MS"),
        )


def test_unit_only_aliases_work():
    # the old code raised "unit abbreviation w/o a number" for "h" (pd.Timedelta("h"))
    r = viral_spike_response(
        _calls(),
        customer="a",
        onset="2026-01-04 00:00+00:00",
        config=SpikeResponseConfig(freq="h", detector=HOURLY),
    )
    assert r.alert_at == pd.Timestamp("2026-01-04 01:00", tz="UTC")  # the first hour closes
    assert r.detection_delay == pd.Timedelta(hours=1)
    assert r.false_alerts == 0  # the quiet customer never alerts


def test_same_alert_at_any_spelling_of_one_bucket():
    calls = _calls()
    at = {
        freq: viral_spike_response(
            calls,
            customer="a",
            onset="2026-01-04 00:00+00:00",
            config=SpikeResponseConfig(freq=freq, detector=HOURLY),
        ).alert_at
        for freq in ("h", "1h", "60min", "hour")
    }
    assert len(set(at.values())) == 1, at
