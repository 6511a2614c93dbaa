"""Price catalog (from genai-prices) and vectorised cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from showcase_lib import pricing
from showcase_lib.pricing import UnknownModelError, cost_usd, price, price_table


@pytest.mark.parametrize(
    ("provider", "model", "inp", "out"),
    [
        ("openai", "gpt-4", 30.0, 60.0),
        ("openai", "gpt-4o-mini", 0.15, 0.60),
        ("anthropic", "claude-3-haiku", 0.25, 1.25),
        ("anthropic", "claude-sonnet-4", 3.0, 15.0),
        ("cohere", "command-r", 0.15, 0.60),
    ],
)
def test_known_prices_come_from_the_package(provider, model, inp, out):
    p = price(provider, model)
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok) == (inp, out)
    assert p.source.startswith(f"genai-prices {pricing._genai_prices_version()}")


def test_pinned_package_version():
    assert pricing._genai_prices_version() == "0.2.3"


def test_retired_model_has_a_cited_price():
    p = price("anthropic", "claude-instant-1.2")
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok) == (0.80, 2.40)
    assert "retired" in p.source and "anthropic" in p.source.lower()


def test_price_table_covers_every_provider_once_per_model():
    t = price_table()
    assert list(t.columns[:5]) == [
        "provider",
        "model",
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "source",
    ]
    assert set(t["provider"]) == set(pricing.PROVIDERS)
    assert not t.duplicated(["provider", "model"]).any()
    assert (t["input_usd_per_mtok"] > 0).all() and (t["output_usd_per_mtok"] > 0).all()
    assert t["source"].str.len().gt(10).all()
    for needed in ["gpt-4", "gpt-4o", "gpt-3.5-turbo", "gemini-1.5-flash", "mistral-large"]:
        assert needed in set(t["model"])


def test_price_table_is_a_copy():
    t = price_table()
    t.loc[:, "input_usd_per_mtok"] = -1.0
    assert (price_table()["input_usd_per_mtok"] > 0).all()


def test_provider_spellings_are_normalised():
    assert price("OpenAI", "gpt-4") == price("openai", "gpt-4")
    assert price("Bedrock", "anthropic.claude-3-haiku").input_usd_per_mtok == 0.25
    assert price("azure", "gpt-4o").output_usd_per_mtok == 10.0


def test_models_outside_the_catalog_fall_back_to_the_package():
    assert price("openai", "gpt-4-turbo").input_usd_per_mtok == 10.0
    assert price("openai", "o3-mini").input_usd_per_mtok > 0


def test_unknown_model_error_names_provider_and_model():
    with pytest.raises(UnknownModelError) as info:
        price("anthropic", "claude-99-imaginary")
    assert "anthropic" in str(info.value) and "claude-99-imaginary" in str(info.value)
    with pytest.raises(UnknownModelError, match="nowhere-ai"):
        price("nowhere-ai", "gpt-4")


def test_vectorised_cost_equals_hand_computation():
    df = pd.DataFrame(
        {
            "provider": ["openai", "openai", "anthropic", "anthropic"],
            "model": ["gpt-4", "gpt-4o-mini", "claude-3-haiku", "claude-instant-1.2"],
            "input_tokens": [1_000, 2_000, 10_000, 500],
            "output_tokens": [500, 0, 1_000, 250],
        },
        index=[10, 11, 12, 13],
    )
    expected = [
        1_000 * 30 / 1e6 + 500 * 60 / 1e6,
        2_000 * 0.15 / 1e6,
        10_000 * 0.25 / 1e6 + 1_000 * 1.25 / 1e6,
        500 * 0.80 / 1e6 + 250 * 2.40 / 1e6,
    ]
    got = cost_usd(df)
    assert list(got.index) == [10, 11, 12, 13]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-12)
    # same with categorical columns
    cat = df.astype({"provider": "category", "model": "category"})
    np.testing.assert_allclose(cost_usd(cat).to_numpy(), expected, rtol=1e-12)


def test_vectorised_cost_matches_scalar_price_for_every_catalog_model():
    t = price_table()
    rng = np.random.default_rng(0)
    n = 2_000
    pick = rng.integers(0, len(t), n)
    df = pd.DataFrame(
        {
            "provider": t["provider"].to_numpy()[pick],
            "model": t["model"].to_numpy()[pick],
            "input_tokens": rng.integers(0, 300_000, n),
            "output_tokens": rng.integers(0, 5_000, n),
        }
    )
    scalar = [
        price(r.provider, r.model).call_cost(r.input_tokens, r.output_tokens)
        for r in df.itertuples()
    ]
    np.testing.assert_allclose(cost_usd(df).to_numpy(), scalar, rtol=1e-12)


def test_long_context_tier_applies_above_threshold():
    p = price("google", "gemini-1.5-pro")
    assert p.long_context_threshold_tokens == 128_000
    df = pd.DataFrame(
        {
            "provider": ["google", "google"],
            "model": ["gemini-1.5-pro", "gemini-1.5-pro"],
            "input_tokens": [100_000, 200_000],
            "output_tokens": [0, 0],
        }
    )
    got = cost_usd(df).to_numpy()
    assert got[0] == pytest.approx(100_000 * 1.25 / 1e6)
    assert got[1] == pytest.approx(200_000 * 2.50 / 1e6)


def test_cost_of_unknown_pair_raises_with_names():
    df = pd.DataFrame(
        {
            "provider": ["openai"],
            "model": ["claude-3-haiku"],
            "input_tokens": [1],
            "output_tokens": [1],
        }
    )
    with pytest.raises(UnknownModelError, match=r"provider='openai', model='claude-3-haiku'"):
        cost_usd(df)


def test_cost_needs_its_columns():
    with pytest.raises(KeyError, match="output_tokens"):
        cost_usd(pd.DataFrame({"provider": [], "model": [], "input_tokens": []}))


def test_cost_of_empty_frame_is_empty():
    df = pd.DataFrame({"provider": [], "model": [], "input_tokens": [], "output_tokens": []})
    assert len(cost_usd(df)) == 0


def test_pricing_uses_only_the_public_genai_prices_api():
    """Regression (issue 8): no reach into genai_prices internals (data_snapshot, find_*)."""
    import ast
    import inspect

    import genai_prices

    public = {*genai_prices.__all__, "extract_usage", "__version__"}
    tree = ast.parse(inspect.getsource(pricing))
    used = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("genai_prices")
        ):
            assert node.module == "genai_prices", f"imports the submodule {node.module}"
            used |= {a.name for a in node.names}
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "genai_prices"
        ):
            used.add(node.attr)
    assert used and used <= public, sorted(used - public)
    assert "find_provider_model" not in inspect.getsource(pricing)


def test_lookup_goes_through_calc_price(monkeypatch):
    """A model outside the catalog is priced by genai_prices.calc_price (patched here)."""
    import genai_prices

    seen = []
    real = genai_prices.calc_price

    def spy(usage, model_ref, **kwargs):
        seen.append((model_ref, kwargs.get("provider_id")))
        return real(usage, model_ref, **kwargs)

    monkeypatch.setattr(genai_prices, "calc_price", spy)
    pricing._lookup_genai.cache_clear()
    try:
        p = price("openai", "gpt-4.1-mini")
    finally:
        pricing._lookup_genai.cache_clear()
    assert ("gpt-4.1-mini", "openai") in seen
    assert p.input_usd_per_mtok > 0 and p.output_usd_per_mtok > p.input_usd_per_mtok


# --- cost_breakdown: the full bill (issue 10) -------------------------------------------------


def _plain_catalog_calls(n=500, seed=1):
    t = price_table()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(t), n)
    return pd.DataFrame(
        {
            "provider": t["provider"].to_numpy()[pick],
            "model": t["model"].to_numpy()[pick],
            "input_tokens": rng.integers(0, 300_000, n),
            "output_tokens": rng.integers(0, 5_000, n),
        },
        index=np.arange(n) * 3 + 7,
    )


def test_breakdown_total_equals_cost_usd_for_plain_calls():
    df = _plain_catalog_calls()
    bill = pricing.cost_breakdown(df)
    kinds = ["input", "cache_read", "cache_write", "output", "reasoning"]
    assert list(bill.columns) == [*kinds, "total"]
    assert bill.index.equals(df.index)
    np.testing.assert_allclose(bill["total"].to_numpy(), cost_usd(df).to_numpy(), rtol=1e-12)
    assert (bill[["cache_read", "cache_write", "reasoning"]] == 0).all().all()


def test_breakdown_matches_genai_prices_row_by_row():
    """Random calls with every token kind, tier and a timestamp range: the vectorised bill
    equals the package's own per-call ``calc_price`` on each row."""
    from datetime import timezone

    from genai_prices import Usage, calc_price

    rng = np.random.default_rng(7)
    fleet = [
        ("openai", "gpt-5.5"),
        ("openai", "gpt-5.6-luna"),
        ("anthropic", "claude-sonnet-5"),
        ("anthropic", "claude-haiku-4-5"),
        ("google", "gemini-2.5-pro"),
        ("google", "gemini-3.5-flash"),
    ]
    n = 300
    pick = rng.integers(0, len(fleet), n)
    inp = np.where(
        rng.random(n) < 0.2, rng.integers(190_000, 300_000, n), rng.integers(1, 9_000, n)
    )
    read = (inp * rng.random(n) * 0.7).astype(int)
    write = ((inp - read) * rng.random(n) * 0.5).astype(int)
    w1h = (write * rng.random(n)).astype(int)
    out = rng.integers(1, 3_000, n)
    reasoning = (out * rng.random(n)).astype(int)
    start = pd.Timestamp("2026-07-01", tz="UTC").value
    ts = pd.to_datetime(start + rng.integers(0, pd.Timedelta(days=150).value, n), utc=True)
    ts = ts.floor("s")
    tiers = rng.choice(["standard", "batch", "flex", "priority"], n)
    providers = [fleet[i][0] for i in pick]
    df = pd.DataFrame(
        {
            "provider": providers,
            "model": [fleet[i][1] for i in pick],
            "input_tokens": inp,
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "cache_write_1h_tokens": w1h,
            "output_tokens": out,
            "reasoning_tokens": reasoning,
            "timestamp": ts,
            "service_tier": tiers,
        }
    )
    got = pricing.cost_breakdown(df)["total"].to_numpy()
    ctx = {"standard": None, "batch": {"processing": "batch"}}
    ctx |= {"flex": {"service_tier": "flex"}, "priority": {"service_tier": "priority"}}
    for i, r in enumerate(df.itertuples()):
        usage = Usage(
            input_tokens=int(r.input_tokens),
            cache_read_tokens=int(r.cache_read_tokens),
            cache_write_tokens=int(r.cache_write_tokens),
            cache_write_1h_tokens=int(r.cache_write_1h_tokens),
            output_tokens=int(r.output_tokens),
            output_reasoning_tokens=int(r.reasoning_tokens),
        )
        when = r.timestamp.to_pydatetime().astimezone(timezone.utc)
        std = calc_price(usage, r.model, provider_id=r.provider, genai_request_timestamp=when)
        ref = calc_price(
            usage,
            r.model,
            provider_id=r.provider,
            genai_request_timestamp=when,
            price_context=ctx[r.service_tier],
        )
        expected = float(ref.total_price)
        if r.service_tier != "standard" and ref.model_price == std.model_price:
            # no variant in the package: the documented multiplier (schema.SERVICE_TIER_MULTIPLIERS)
            expected = {"batch": 0.5, "flex": 0.5, "priority": 2.0}[r.service_tier] * expected
        assert got[i] == pytest.approx(expected, abs=1e-9), r


def test_breakdown_missing_columns_are_zeros_and_standard_tier():
    base = pd.DataFrame(
        {"provider": ["anthropic"], "model": ["claude-haiku-4-5"], "input_tokens": [1_000]}
        | {"output_tokens": [100]}
    )
    full = base.assign(
        cache_read_tokens=0, cache_write_tokens=0, reasoning_tokens=0, service_tier="standard"
    )
    pd.testing.assert_frame_equal(pricing.cost_breakdown(base), pricing.cost_breakdown(full))


def test_breakdown_5m_only_column_splits_the_writes():
    """cache_write_tokens = 5m + 1h; with only the 5m column given, the rest is 1-hour."""
    row = {"provider": "anthropic", "model": "claude-sonnet-5", "input_tokens": 1_000}
    row |= {"output_tokens": 0, "timestamp": "2026-11-15T00:00:00Z"}
    a = pricing.cost_breakdown(
        pd.DataFrame([row | {"cache_write_tokens": 300, "cache_write_5m_tokens": 100}])
    )
    b = pricing.cost_breakdown(
        pd.DataFrame([row | {"cache_write_tokens": 300, "cache_write_1h_tokens": 200}])
    )
    c = pricing.cost_breakdown(
        pd.DataFrame([row | {"cache_write_5m_tokens": 100, "cache_write_1h_tokens": 200}])
    )
    expected = (100 * 2.50 + 200 * 4.0) / 1e6  # claude-sonnet-5 writes: $2.50 5m, $4 1h
    for got in (a, b, c):
        assert float(got["cache_write"].iloc[0]) == pytest.approx(expected, abs=1e-12)


def test_breakdown_rejects_parts_larger_than_their_whole():
    df = pd.DataFrame(
        {"provider": ["openai"], "model": ["gpt-5.5"], "input_tokens": [100]}
        | {"output_tokens": [10], "cache_read_tokens": [150]},
        index=["call_9"],
    )
    with pytest.raises(ValueError, match=r"'call_9'.*cache_read_tokens.*=150.*input_tokens=100"):
        pricing.cost_breakdown(df)
    df = df.assign(cache_read_tokens=0, reasoning_tokens=11)
    with pytest.raises(ValueError, match=r"reasoning_tokens=11 exceeds output_tokens=10"):
        pricing.cost_breakdown(df)


def test_breakdown_rejects_an_unknown_service_tier():
    df = pd.DataFrame(
        {"provider": ["openai"], "model": ["gpt-5.5"], "input_tokens": [1]}
        | {"output_tokens": [1], "service_tier": ["turbo"]}
    )
    with pytest.raises(ValueError, match=r"service_tier='turbo'"):
        pricing.cost_breakdown(df)


def test_breakdown_of_unknown_pair_names_it():
    df = pd.DataFrame(
        {"provider": ["openai"], "model": ["claude-3-haiku"], "input_tokens": [1]}
        | {"output_tokens": [1]}
    )
    with pytest.raises(UnknownModelError, match=r"provider='openai', model='claude-3-haiku'"):
        pricing.cost_breakdown(df)


def test_breakdown_of_empty_frame_is_empty():
    df = pd.DataFrame({"provider": [], "model": [], "input_tokens": [], "output_tokens": []})
    assert len(pricing.cost_breakdown(df)) == 0


def test_priority_fallback_multiplier_where_the_package_is_silent():
    """claude-haiku-4-5 has no priority variant: the documented 2x applies."""
    row = {"provider": "anthropic", "model": "claude-haiku-4-5", "input_tokens": 1_000}
    row |= {"output_tokens": 100, "timestamp": "2026-11-15T00:00:00Z"}
    std = pricing.cost_breakdown(pd.DataFrame([row]))["total"].iloc[0]
    pri = pricing.cost_breakdown(pd.DataFrame([row | {"service_tier": "priority"}]))["total"]
    assert float(pri.iloc[0]) == pytest.approx(2 * float(std), abs=1e-12)
    assert float(std) == pytest.approx((1_000 * 1.0 + 100 * 5.0) / 1e6, abs=1e-12)


def test_breakdown_accepts_naive_and_offset_timestamps_and_mappings():
    """Naive instants are UTC (as in genai-prices); an offset is converted; a dict of columns
    works like a frame. 2026-07-30 01:00+02:00 is still 2026-07-29 in UTC: the old luna price."""
    calls = {
        "provider": ["openai"] * 3,
        "model": ["gpt-5.6-luna"] * 3,
        "input_tokens": [1_000_000] * 3,
        "output_tokens": [0] * 3,
        "timestamp": ["2026-07-29 23:59:59", "2026-07-30 00:00:00", "2026-07-30T01:00:00+02:00"],
    }
    got = pricing.cost_breakdown(calls)["total"].tolist()
    assert got == pytest.approx([2.0, 0.4, 2.0], abs=1e-9)  # 1M tokens > 272k: cliff rates


def test_cost_usd_no_longer_overprices_a_cache_heavy_call():
    """Regression (issue 10): cost_usd was input * p_in + output * p_out, billing cache reads at
    the full input price ($0.01 here); it is now the full bill, cache reads at $0.10 per MTok."""
    df = pd.DataFrame(
        {"provider": ["anthropic"], "model": ["claude-haiku-4-5"], "input_tokens": [10_000]}
        | {"output_tokens": [0], "cache_read_tokens": [9_000]}
    )
    expected = (1_000 * 1.0 + 9_000 * 0.10) / 1e6
    assert float(cost_usd(df).iloc[0]) == pytest.approx(expected, abs=1e-12)
    assert float(pricing.cost_breakdown(df)["total"].iloc[0]) == pytest.approx(expected, abs=1e-12)
    assert float(cost_usd(df).iloc[0]) < 10_000 * 1.0 / 1e6


def test_cost_usd_is_the_breakdown_total_at_each_timestamp():
    """Every token kind, tier and dated price: cost_usd == cost_breakdown()["total"]."""
    rng = np.random.default_rng(3)
    n = 3_000
    fleet = [("openai", "gpt-5.6-luna"), ("openai", "gpt-5.5"), ("anthropic", "claude-sonnet-5")]
    fleet += [("google", "gemini-3.1-pro-preview"), ("openai", "gpt-4")]
    pick = rng.integers(0, len(fleet), n)
    inp = np.where(rng.random(n) < 0.05, rng.integers(200_000, 400_000, n), rng.integers(1, 9e3, n))
    read = (inp * rng.random(n) * 0.6).astype(np.int64)
    write = ((inp - read) * rng.random(n) * 0.3).astype(np.int64)
    out = rng.integers(0, 3_000, n)
    df = pd.DataFrame(
        {
            "provider": [fleet[i][0] for i in pick],
            "model": [fleet[i][1] for i in pick],
            "input_tokens": inp,
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "cache_write_1h_tokens": write // 3,
            "output_tokens": out,
            "reasoning_tokens": out // 2,
            "service_tier": rng.choice(["standard", "batch", "priority"], n),
            "timestamp": pd.Timestamp("2026-07-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 120 * 86_400, n), unit="s"),
        }
    )
    np.testing.assert_array_equal(
        cost_usd(df).to_numpy(), pricing.cost_breakdown(df)["total"].to_numpy()
    )


def test_at_prices_every_call_at_one_instant():
    """at= reprices history at one instant: luna calls of July at November's price (-80%)."""
    df = pd.DataFrame(
        {
            "provider": ["openai"] * 2,
            "model": ["gpt-5.6-luna"] * 2,
            "input_tokens": [100_000, 100_000],
            "output_tokens": [10_000, 10_000],
            "timestamp": ["2026-07-10T00:00:00Z", "2026-08-10T00:00:00Z"],
        }
    )
    own = pricing.cost_breakdown(df)["total"].tolist()
    assert own == pytest.approx([0.16, 0.032], abs=1e-12)  # $1/$6, then $0.20/$1.20
    today = pricing.cost_breakdown(df, at="2026-12-01")["total"].tolist()
    assert today == pytest.approx([0.032, 0.032], abs=1e-12)
    july = cost_usd(df, at=pd.Timestamp("2026-07-10", tz="UTC")).tolist()
    assert july == pytest.approx([0.16, 0.16], abs=1e-12)
    naive = cost_usd(df, at="2026-07-29 23:59:59").tolist()  # naive = UTC: still July's price
    assert naive == pytest.approx([0.16, 0.16], abs=1e-12)


def test_price_table_has_cache_and_batch_columns():
    t = price_table().set_index(["provider", "model"])
    cols = ["cache_read_usd_per_mtok", "cache_write_5m_usd_per_mtok"]
    cols += ["cache_write_1h_usd_per_mtok", "batch_multiplier"]
    assert t.loc[("anthropic", "claude-haiku-4-5"), cols].tolist() == [0.1, 1.25, 2.0, 0.5]
    assert t.loc[("openai", "gpt-5.5"), cols].tolist() == [0.5, 5.0, 5.0, 0.5]
    # no cache price: the input price (as genai-prices bills it)
    assert t.loc[("openai", "gpt-4"), "cache_read_usd_per_mtok"] == 30.0
    assert (t["cache_read_usd_per_mtok"] <= t["input_usd_per_mtok"]).all()
    assert t["batch_multiplier"].between(0.2, 1.0).all()


def test_catalog_has_the_2026_fleet_and_the_historic_pair():
    t = price_table()
    models = set(zip(t["provider"], t["model"], strict=True))
    for provider in ("openai", "anthropic", "google"):
        assert sum(p == provider for p, _ in models) >= 3
    for needed in [("openai", "gpt-5.5"), ("openai", "o3"), ("anthropic", "claude-sonnet-5")]:
        assert needed in models
    assert ("openai", "gpt-4") in models and ("anthropic", "claude-instant-1.2") in models


def test_price_changes_lists_the_dated_list_price_changes():
    """genai-prices 0.2.3 dates gpt-5.6-luna's cut at 2026-07-30 (a note elsewhere says
    2026-11-01: the package is what prices the calls)."""
    luna = pricing.price_changes("openai", "gpt-5.6-luna")
    assert luna["start"].tolist() == [pd.Timestamp("2026-07-30", tz="UTC")]
    row = luna.iloc[0]
    assert (row["input_before_usd_per_mtok"], row["input_usd_per_mtok"]) == (1.0, 0.2)
    assert (row["output_before_usd_per_mtok"], row["output_usd_per_mtok"]) == (6.0, 1.2)
    # variants dated 2026-10-12/14 (flex, priority, batch) are not list-price changes
    assert pricing.price_changes("openai", "gpt-5.5").empty
    assert pricing.price_changes("anthropic", "claude-instant-1.2").empty  # retired table
    with pytest.raises(UnknownModelError, match="gpt-17"):
        pricing.price_changes("openai", "gpt-17")
