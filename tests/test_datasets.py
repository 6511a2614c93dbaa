"""The metered data set: simulate -> tracker -> emulator -> store -> cached Parquet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from showcase_lib.datasets import _cache, _metered, metered
from showcase_lib.schema import ALL_COLUMNS, DTYPES
from showcase_lib.simulation import simulate

# small enough to meter in a few seconds, large enough for every column to vary: two days of
# twenty customers (~3,500 calls), and a runaway agent (the incident and its ground truth)
SMALL = {"scenario": "steady_growth", "days": 2, "customers": 20, "seed": 3}
RUNAWAY = {
    "scenario": "runaway_agent",
    "days": 3,
    "customers": 10,
    "seed": 5,
    "loop_day": 1,
    "loop_hours": 0.5,
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("datasets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(_cache.CACHE_ENV, str(path))
        yield path


@pytest.fixture(scope="module")
def built(cache: Path) -> dict[str, object]:
    """Each data set built once (cold cache) for the module."""
    return {name: metered(**params) for name, params in (("small", SMALL), ("runaway", RUNAWAY))}


def _sorted(calls: pd.DataFrame) -> pd.DataFrame:
    return calls.sort_values(["timestamp", "call_id"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize(("name", "params"), [("small", SMALL), ("runaway", RUNAWAY)])
def test_metered_columns_equal_the_simulated_ones(built, name, params):
    sim = simulate(**params)
    got = built[name]
    assert got.params["metered"]["cache"] == "miss"
    want, calls = _sorted(sim.calls), got.calls
    assert len(calls) == len(want) > 0  # same row count
    assert not calls["call_id"].duplicated().any()  # no call stored twice
    assert list(calls.columns) == list(ALL_COLUMNS)
    for col in ALL_COLUMNS:  # column by column
        assert str(calls[col].dtype) == str(pd.Series(dtype=DTYPES[col]).dtype), col
        if col == "cost_usd":
            np.testing.assert_array_equal(  # to the cent ... and in fact exactly
                calls[col].round(2).to_numpy(), want[col].round(2).to_numpy()
            )
            assert (calls[col] - want[col]).abs().max() <= 1e-9
        else:
            assert calls[col].astype(object).equals(want[col].astype(object)), col
    by_customer = calls.groupby("customer_id", observed=True)["cost_usd"].sum().round(2)
    assert by_customer.equals(want.groupby("customer_id", observed=True)["cost_usd"].sum().round(2))
    # the answer key travels with the calls
    pd.testing.assert_frame_equal(got.incidents, sim.incidents)
    pd.testing.assert_frame_equal(got.customers, sim.customers)
    assert got.params["metered"]["delivered"] == len(calls)


def test_the_runaway_incident_is_in_the_metered_calls(built):
    got = built["runaway"]
    inc = got.incidents.iloc[0]
    loop = got.calls[
        (got.calls["customer_id"] == inc["customer_id"])
        & (got.calls["timestamp"] >= inc["start"])
        & (got.calls["timestamp"] < inc["end"])
    ]
    assert len(loop) > 0


def test_a_cache_hit_simulates_meters_and_starts_nothing(built, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a cache hit must not simulate, meter or start an emulator")

    for name in ("simulate", "backfill", "Emulator"):
        monkeypatch.setattr(_metered, name, refuse)
    again = metered(**SMALL)
    assert again.params["metered"]["cache"] == "hit"
    pd.testing.assert_frame_equal(again.calls, built["small"].calls)
    pd.testing.assert_frame_equal(again.incidents, built["small"].incidents)
    assert {k: v for k, v in again.params.items() if k != "metered"} == {
        k: v for k, v in built["small"].params.items() if k != "metered"
    }


def test_the_key_covers_every_parameter(built, cache):
    entry = _cache.entry_for(dict(SMALL))
    assert entry.exists() and entry.path.parent == cache
    other_seed = _cache.entry_for({**SMALL, "seed": 4})
    other_param = _cache.entry_for({**SMALL, "weekend_factor": 0.5})
    assert len({entry.key, other_seed.key, other_param.key}) == 3
    assert not other_seed.exists()
    for part in ("showcase_lib", "schema", "genai_prices", "code", "params"):
        assert part in entry.parts


def test_a_damaged_cache_file_is_rebuilt_with_a_warning(built, cache):
    entry = _cache.entry_for(dict(SMALL))
    path = entry.file("calls")
    path.write_bytes(path.read_bytes()[:100])  # a truncated Parquet file
    with pytest.warns(RuntimeWarning, match="is damaged .*metering it again"):
        rebuilt = metered(**SMALL)
    assert rebuilt.params["metered"]["cache"] == "miss"
    pd.testing.assert_frame_equal(rebuilt.calls, built["small"].calls)
    assert metered(**SMALL).params["metered"]["cache"] == "hit"  # and whole again


def test_a_failed_delivery_caches_nothing(cache, monkeypatch):
    params = {**SMALL, "days": 1, "customers": 2, "seed": 99}

    def half(calls):
        raise RuntimeError("metering delivered 1 of 2 calls")

    monkeypatch.setattr(_metered, "_meter", half)
    with pytest.raises(RuntimeError, match="delivered 1 of 2"):
        metered(**params)
    assert not _cache.entry_for(params).exists()


def test_the_default_cache_is_outside_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv(_cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() == tmp_path / "showcase_lib" / "datasets"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _cache.cache_dir() == Path.home() / ".cache" / "showcase_lib" / "datasets"
    repo = Path(__file__).resolve().parents[1]
    assert repo not in _cache.cache_dir().parents
