"""The optimization analyzer's cell sums (``_CellPricer``) against the call-by-call cells
(``_Repricer``, what it replaced) on awkward calls: missing and unused categories, text that is
not categorical, calls out of time order, prompts trimmed below a long-context threshold,
more cache than prompt, calls without a session, quantiles above the histogram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis.analyzers import _cells
from showcase_lib.analysis.analyzers import _optimization as opt
from showcase_lib.analysis.analyzers._optimization import OptimizationConfig, analyze_optimization

MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("google", "gemini-1.5-pro")]


def _sheet() -> pd.DataFrame:
    """Three models, two with a low long-context threshold so that trimming moves calls."""
    return pd.DataFrame(
        {
            "provider": [p for p, _ in MODELS],
            "model": [m for _, m in MODELS],
            "input_usd_per_mtok": [2.5, 0.15, 1.25],
            "output_usd_per_mtok": [10.0, 0.6, 5.0],
            "cache_read_usd_per_mtok": [1.25, 0.075, 0.3125],
            "cache_write_5m_usd_per_mtok": [3.0, 0.2, 1.5],
            "cache_write_1h_usd_per_mtok": [5.0, 0.3, 2.5],
            "batch_multiplier": [0.5, 0.5, 0.5],
            "long_context_threshold_tokens": [np.nan, 3000.0, 1500.0],
            "long_context_input_usd_per_mtok": [np.nan, 0.3, 2.5],
            "long_context_output_usd_per_mtok": [np.nan, 1.2, 10.0],
        }
    )


def _calls(n: int, seed: int, *, shuffle: bool = False, categorical: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(MODELS), n)
    tin = rng.integers(0, 5000, n)
    tin[rng.random(n) < 0.02] += 70_000  # beyond the histogram of prompt lengths
    read = np.where(rng.random(n) < 0.5, 0, rng.integers(0, 3000, n))
    write = np.where(rng.random(n) < 0.8, 0, rng.integers(0, 6000, n))  # may exceed the prompt
    df = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(np.sort(rng.integers(0, 30 * 86400, n)), unit="s"),
            "provider": [MODELS[i][0] for i in pick],
            "model": [MODELS[i][1] for i in pick],
            "task_type": rng.choice(["chat", "classification", "code_generation", None], n),
            "input_tokens": tin,
            "output_tokens": rng.integers(0, 800, n),
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "cache_write_1h_tokens": write // 3,
            "reasoning_tokens": rng.integers(0, 10, n),
            "cost_usd": 0.0,
            "service_tier": rng.choice(["standard", "batch", None], n, p=[0.6, 0.3, 0.1]),
            "session_id": pd.Series(
                np.where(
                    rng.random(n) < 0.1, None, [f"s{i:04d}" for i in rng.integers(0, n // 4 + 1, n)]
                ),
                dtype="string[pyarrow]",
            ),
        }
    )
    if categorical:
        for c in ("provider", "model", "task_type", "service_tier"):
            df[c] = df[c].astype(pd.CategoricalDtype([*sorted(set(df[c].dropna())), "unused"]))
    if shuffle:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return df


def _both(calls: pd.DataFrame, config: OptimizationConfig, monkeypatch: pytest.MonkeyPatch):
    fast = analyze_optimization(calls, _sheet(), config=config)
    with monkeypatch.context() as m:
        m.setattr(opt._CellPricer, "build", classmethod(lambda cls, calls, table: None))
        plain = analyze_optimization(calls, _sheet(), config=config)
    return fast, plain


CONFIG = OptimizationConfig(candidates=tuple(MODELS), max_quality_drop=10.0)


@pytest.mark.parametrize(
    ("seed", "shuffle", "categorical", "config"),
    [
        (0, False, True, CONFIG),
        (1, True, True, CONFIG),
        (2, False, False, CONFIG),
        (3, False, True, OptimizationConfig(candidates=tuple(MODELS), long_quantile=0.55)),
        (4, True, False, OptimizationConfig(candidates=(), long_quantile=0.3)),
    ],
)
def test_cell_sums_give_the_call_by_call_results(seed, shuffle, categorical, config, monkeypatch):
    calls = _calls(3000, seed, shuffle=shuffle, categorical=categorical)
    assert opt._CellPricer.build(calls, _sheet()) is not None  # the fast path is the one tested
    fast, plain = _both(calls, config, monkeypatch)
    pd.testing.assert_frame_equal(fast.opportunities, plain.opportunities, rtol=1e-12)
    pd.testing.assert_frame_equal(fast.right_sizing, plain.right_sizing, rtol=1e-12)
    moved = plain.opportunities.set_index("lever")["saving_usd"]
    assert (moved.drop("model right-sizing").abs() > 0).all()  # every lever is exercised


def test_without_tier_sessions_or_cache_columns(monkeypatch):
    calls = _calls(2000, 5).drop(columns=["service_tier", "session_id", "cache_read_tokens"])
    fast, plain = _both(calls, CONFIG, monkeypatch)
    pd.testing.assert_frame_equal(fast.opportunities, plain.opportunities, rtol=1e-12)
    pd.testing.assert_frame_equal(fast.right_sizing, plain.right_sizing, rtol=1e-12)


def test_float_tokens_take_the_call_by_call_cells():
    calls = _calls(100, 6)
    calls["output_tokens"] = calls["output_tokens"].astype(float)
    assert opt._CellPricer.build(calls, _sheet()) is None


def test_quantiles_above_the_histogram_are_sorted():
    rng = np.random.default_rng(7)
    tokens = rng.integers(0, 3 * opt._HISTOGRAM_TOKENS, 5000)
    codes = rng.integers(-1, 3, 5000).astype(np.int8)
    labels = np.asarray(["a", "b", "a", "nan"], dtype=object)  # "a" twice: merged
    got = opt._task_quantiles(codes, labels, tokens, [0.9, 0.5])
    text = pd.Series(labels[codes])
    want = pd.Series(tokens.astype(float)).groupby(text).quantile([0.9, 0.5]).unstack()
    assert np.array_equal(got, want.loc[labels.astype(str)].to_numpy())
    small = tokens % 1000
    got = opt._task_quantiles(codes, labels, small, [0.9, 0.5])
    want = pd.Series(small.astype(float)).groupby(text).quantile([0.9, 0.5]).unstack()
    assert np.array_equal(got, want.loc[labels.astype(str)].to_numpy())


def test_raw_key_decodes_to_the_text_and_bracket():
    s = pd.Series(["x", None, "y", "x"], dtype=pd.CategoricalDtype(["x", "y", "z"]))
    t = pd.Series(["a", "b", "a", "a"])  # not categorical
    prices = pd.DataFrame({"long_context_threshold_tokens": [10.0, np.nan, 20.0]})
    k = _cells.raw_key([s, t], np.array([5, 15, 25, 10]), prices)
    text_s, text_t, bracket = k.decode(k.key)
    assert text_s.tolist() == s.astype(str).tolist()
    assert text_t.tolist() == t.tolist()
    assert bracket.tolist() == [0, 1, 2, 0]


@pytest.mark.parametrize("n", [1, 2, 40])
def test_few_calls_and_a_sheet_without_long_context(n, monkeypatch):
    calls = _calls(n, 8)
    calls["service_tier"] = pd.Series([None] * n, dtype="category")  # every tier missing
    sheet = _sheet().drop(columns=[c for c in _sheet() if c.startswith("long_context")])
    fast = analyze_optimization(calls, sheet, config=CONFIG)
    with monkeypatch.context() as m:
        m.setattr(opt._CellPricer, "build", classmethod(lambda cls, calls, table: None))
        plain = analyze_optimization(calls, sheet, config=CONFIG)
    pd.testing.assert_frame_equal(fast.opportunities, plain.opportunities, rtol=1e-12)
    pd.testing.assert_frame_equal(fast.right_sizing, plain.right_sizing, rtol=1e-12)


def test_five_minute_writes_and_naive_timestamps(monkeypatch):
    calls = _calls(2500, 9).rename(columns={"cache_write_tokens": "cache_write_5m_tokens"})
    calls["timestamp"] = calls["timestamp"].dt.tz_localize(None)
    fast, plain = _both(calls, CONFIG, monkeypatch)
    pd.testing.assert_frame_equal(fast.opportunities, plain.opportunities, rtol=1e-12)
    pd.testing.assert_frame_equal(fast.right_sizing, plain.right_sizing, rtol=1e-12)
