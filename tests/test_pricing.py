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
