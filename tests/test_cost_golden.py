"""Golden cost cases: real provider usage bodies, dollars computed by hand from cited prices.

Every price below is USD per million tokens, read from ``genai-prices`` 0.2.3 (the pinned
package, ``calc_price(...).model_price`` on this machine) and matching the provider pages named
next to it. The hand figure is written out term by term; the library must match it to 1e-9 USD,
and so must ``genai_prices`` itself on the same usage (a third, independent check).

Usage bodies are normalised with ``genai_prices.extract_usage`` (it supports all four shapes:
OpenAI chat with ``api_flavor="chat"``, OpenAI responses with ``api_flavor="responses"``,
Anthropic messages, Gemini ``usageMetadata``); its ``Usage`` follows the inclusive rule, so the
mapping to the record is one name per field (``output_reasoning_tokens`` -> ``reasoning_tokens``).
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from genai_prices import Usage, calc_price, extract_usage

from showcase_lib.pricing import cost_breakdown, cost_usd

M = 1_000_000
UTC = timezone.utc
NOV = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)

# gpt-5.5, genai-prices openai/gpt-5.5 (openai.com/api/pricing): $5 input, $0.50 cache read,
# $30 output; above 272,000 input tokens the whole call is $10 / $1 / $45. Batch variant
# (from 2026-10-14 in the package; OpenAI Batch API, 50% off): $2.50 / $0.25 / $15.
GPT55 = {"in": 5.0, "read": 0.50, "out": 30.0}
GPT55_LONG = {"in": 10.0, "read": 1.0, "out": 45.0}
GPT55_BATCH = {"in": 2.50, "read": 0.25, "out": 15.0}
# claude-sonnet-5, genai-prices anthropic/claude-sonnet-5 (anthropic.com/pricing): $2 input,
# $0.20 cache read, $2.50 5-minute cache write, $4 1-hour cache write, $10 output.
SONNET5 = {"in": 2.0, "read": 0.20, "w5m": 2.50, "w1h": 4.0, "out": 10.0}
# gemini-3.5-flash, genai-prices google/gemini-3.5-flash (ai.google.dev/gemini-api/docs/pricing):
# $1.50 input, $0.15 cache read, $9 output (thinking tokens billed as output).
FLASH35 = {"in": 1.50, "read": 0.15, "out": 9.0}
# gpt-5.6-luna, genai-prices openai/gpt-5.6-luna: $1.00 input / $6.00 output until 2026-07-29,
# $0.20 / $1.20 from 2026-07-30 00:00 UTC (a dated price; the package's constraint is the UTC
# date).
LUNA_OLD = {"in": 1.00, "out": 6.00}
LUNA_NEW = {"in": 0.20, "out": 1.20}

CHAT_CLIFF = {  # OpenAI chat completions, 300k-token prompt: crosses gpt-5.5's 272k cliff
    "model": "gpt-5.5",
    "usage": {
        "prompt_tokens": 300_000,
        "completion_tokens": 2_000,
        "total_tokens": 302_000,
        "prompt_tokens_details": {"cached_tokens": 100_000},
        "completion_tokens_details": {"reasoning_tokens": 1_500},
    },
}
RESPONSES_REASONING = {  # OpenAI responses, reasoning-heavy: 90% of the output is reasoning
    "model": "gpt-5.5",
    "usage": {
        "input_tokens": 1_000,
        "input_tokens_details": {"cached_tokens": 800},
        "output_tokens": 5_000,
        "output_tokens_details": {"reasoning_tokens": 4_500},
        "total_tokens": 6_000,
    },
}
ANTHROPIC_CACHE = {  # Anthropic messages: input_tokens EXCLUDES cache reads and writes
    "model": "claude-sonnet-5",
    "usage": {
        "input_tokens": 100,
        "cache_read_input_tokens": 800,
        "cache_creation_input_tokens": 300,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        "output_tokens": 50,
    },
}
GEMINI_THINKING = {  # Gemini generateContent usageMetadata: thoughts are outside candidates
    "modelVersion": "gemini-3.5-flash",
    "usageMetadata": {
        "promptTokenCount": 10_000,
        "cachedContentTokenCount": 6_000,
        "candidatesTokenCount": 500,
        "thoughtsTokenCount": 1_200,
        "totalTokenCount": 11_700,
    },
}

#: extract_usage's Usage field -> the record's column (same inclusive meaning).
_TO_RECORD = {
    "input_tokens": "input_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "cache_write_5m_tokens": "cache_write_5m_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "output_tokens": "output_tokens",
    "output_reasoning_tokens": "reasoning_tokens",
}


def record(body, provider, flavor="default", *, when=NOV, tier="standard"):
    """One record row from a provider usage body (through ``extract_usage``)."""
    extracted = extract_usage(body, provider_id=provider, api_flavor=flavor)
    reported = vars(extracted.usage)  # the reported fields only (inferred ones are not stored)
    row = {"provider": provider, "model": extracted.model.id, "timestamp": when}
    row |= {"service_tier": tier}
    row |= {col: reported.get(key, 0) for key, col in _TO_RECORD.items()}
    return row, extracted


def price_one(row):
    return cost_breakdown(pd.DataFrame([row])).iloc[0]


CASES = {
    # 300k input > 272k: every token at the long-context rates.
    "openai-chat-cliff": (
        (CHAT_CLIFF, "openai", "chat"),
        {
            "input": 200_000 * GPT55_LONG["in"] / M,  # 300k - 100k cached
            "cache_read": 100_000 * GPT55_LONG["read"] / M,
            "cache_write": 0.0,
            "output": 500 * GPT55_LONG["out"] / M,  # 2,000 - 1,500 reasoning
            "reasoning": 1_500 * GPT55_LONG["out"] / M,
        },
        2.19,
    ),
    "openai-responses-reasoning": (
        (RESPONSES_REASONING, "openai", "responses"),
        {
            "input": 200 * GPT55["in"] / M,
            "cache_read": 800 * GPT55["read"] / M,
            "cache_write": 0.0,
            "output": 500 * GPT55["out"] / M,
            "reasoning": 4_500 * GPT55["out"] / M,
        },
        0.1514,
    ),
    "anthropic-cache-both-ttls": (
        (ANTHROPIC_CACHE, "anthropic", "default"),
        {
            "input": 100 * SONNET5["in"] / M,
            "cache_read": 800 * SONNET5["read"] / M,
            "cache_write": (100 * SONNET5["w5m"] + 200 * SONNET5["w1h"]) / M,
            "output": 50 * SONNET5["out"] / M,
            "reasoning": 0.0,
        },
        0.00191,
    ),
    "gemini-thinking-cached": (
        (GEMINI_THINKING, "google", "default"),
        {
            "input": 4_000 * FLASH35["in"] / M,
            "cache_read": 6_000 * FLASH35["read"] / M,
            "cache_write": 0.0,
            "output": 500 * FLASH35["out"] / M,
            "reasoning": 1_200 * FLASH35["out"] / M,
        },
        0.0222,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_usage_bodies(name):
    (body, provider, flavor), parts, total = CASES[name]
    row, extracted = record(body, provider, flavor)
    got = price_one(row)
    assert sum(parts.values()) == pytest.approx(total, abs=1e-12)  # the hand sum, written out
    for kind, usd in parts.items():
        assert float(got[kind]) == pytest.approx(usd, abs=1e-9), kind
    assert float(got["total"]) == pytest.approx(total, abs=1e-9)
    # genai-prices agrees on the same usage
    assert float(extracted.calc_price(genai_request_timestamp=NOV).total_price) == pytest.approx(
        total, abs=1e-9
    )


def test_anthropic_body_becomes_inclusive():
    row, _ = record(ANTHROPIC_CACHE, "anthropic")
    assert row["input_tokens"] == 1_200  # 100 uncached + 800 read + 300 written
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (100, 200)


def test_batch_tier_from_the_package_variant():
    """gpt-5.5 on the batch tier (package variant, 2026-11): $2.50 in, $15 out per MTok."""
    row = {"provider": "openai", "model": "gpt-5.5", "input_tokens": 10_000}
    row |= {"output_tokens": 1_000, "timestamp": NOV, "service_tier": "batch"}
    expected = 10_000 * GPT55_BATCH["in"] / M + 1_000 * GPT55_BATCH["out"] / M  # 0.04
    assert float(price_one(row)["total"]) == pytest.approx(0.04, abs=1e-12)
    assert expected == pytest.approx(0.04, abs=1e-12)
    standard = price_one(row | {"service_tier": "standard"})["total"]
    assert float(standard) == pytest.approx(2 * expected, abs=1e-9)


def test_batch_tier_multiplier_where_the_package_has_no_variant():
    """claude-sonnet-5 batch on 2026-09-01, before the package's batch variant (2026-10-14):
    the documented 50% (Anthropic Message Batches) applies to every token kind."""
    when = datetime(2026, 9, 1, tzinfo=UTC)
    row = {"provider": "anthropic", "model": "claude-sonnet-5", "input_tokens": 10_000}
    row |= {"output_tokens": 1_000, "timestamp": when, "service_tier": "batch"}
    expected = 0.5 * (10_000 * SONNET5["in"] / M + 1_000 * SONNET5["out"] / M)  # 0.015
    assert float(price_one(row)["total"]) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(0.015, abs=1e-12)


@pytest.mark.parametrize(
    ("when", "rates"),
    [
        (datetime(2026, 7, 29, 23, 59, 59, tzinfo=UTC), LUNA_OLD),
        (datetime(2026, 7, 30, 0, 0, 0, tzinfo=UTC), LUNA_NEW),
    ],
)
def test_price_change_boundary_one_second_apart(when, rates):
    row = {"provider": "openai", "model": "gpt-5.6-luna", "input_tokens": 100_000}
    row |= {"output_tokens": 10_000, "timestamp": when}
    expected = 100_000 * rates["in"] / M + 10_000 * rates["out"] / M  # 0.16 then 0.032
    assert float(price_one(row)["total"]) == pytest.approx(expected, abs=1e-9)
    ref = calc_price(
        Usage(input_tokens=100_000, output_tokens=10_000),
        "gpt-5.6-luna",
        provider_id="openai",
        genai_request_timestamp=when,
    )
    assert float(ref.total_price) == pytest.approx(expected, abs=1e-9)


def test_boundary_rows_priced_together():
    """Both sides of the change in one frame: each row gets its own period."""
    rows = [
        {"provider": "openai", "model": "gpt-5.6-luna", "input_tokens": 100_000}
        | {"output_tokens": 10_000, "timestamp": t}
        for t in ("2026-07-29T23:59:59Z", "2026-07-30T00:00:00Z")
    ]
    got = cost_breakdown(pd.DataFrame(rows))["total"].tolist()
    assert got == pytest.approx([0.16, 0.032], abs=1e-9)


def naive(row, p_in, p_out):
    """The 2024 formula the book used to teach: input * p_in + output * p_out."""
    return (row["input_tokens"] * p_in + row["output_tokens"] * p_out) / M


def test_cache_heavy_call_costs_less_than_the_naive_formula():
    for body, provider, prices in (
        (ANTHROPIC_CACHE, "anthropic", SONNET5),
        (GEMINI_THINKING, "google", FLASH35),
    ):
        row, _ = record(body, provider)
        got = float(price_one(row)["total"])
        assert got < naive(row, prices["in"], prices["out"]), provider


def test_cliff_crossing_call_costs_more_than_the_naive_formula():
    row, _ = record(CHAT_CLIFF, "openai", "chat")
    got = float(price_one(row)["total"])
    assert naive(row, GPT55["in"], GPT55["out"]) == pytest.approx(1.56, abs=1e-12)
    assert got == pytest.approx(2.19, abs=1e-9) and got > 1.56


def test_cliff_is_strictly_above_the_threshold():
    """272,000 input tokens is still the base rate; 272,001 reprices the whole call."""
    rows = pd.DataFrame(
        {
            "provider": ["openai", "openai"],
            "model": ["gpt-5.5", "gpt-5.5"],
            "input_tokens": [272_000, 272_001],
            "output_tokens": [0, 0],
            "timestamp": [NOV, NOV],
        }
    )
    got = cost_breakdown(rows)["total"].tolist()
    assert got == pytest.approx([272_000 * 5 / M, 272_001 * 10 / M], abs=1e-9)


def test_plain_calls_agree_with_cost_usd():
    row, _ = record(RESPONSES_REASONING, "openai", "responses")
    plain = pd.DataFrame([{k: row[k] for k in ("provider", "model")}])
    plain["input_tokens"], plain["output_tokens"] = 1_000, 5_000
    assert float(cost_usd(plain).iloc[0]) == pytest.approx(
        float(cost_breakdown(plain)["total"].iloc[0]), abs=1e-12
    )


# --- simulated traffic, priced by hand (issue 10: the simulator agrees with the suite) --------


@pytest.fixture(scope="module")
def simulated():
    from showcase_lib.simulation import simulate

    return simulate("incidents_2026", days=30, customers=60, seed=3).calls


def _batch_factor(calls):
    """Batch tier before the package's batch variants (2026-10-14): the documented 50% (OpenAI
    Batch API, Anthropic Message Batches); the simulated window is July-August 2026."""
    assert (calls["timestamp"] < "2026-10-14").all()
    return np.where(calls["service_tier"] == "batch", 0.5, 1.0)


def test_simulated_gpt55_calls_by_hand(simulated):
    g = simulated[simulated["model"] == "gpt-5.5"]
    long = (g["input_tokens"] > 272_000).to_numpy()
    assert long.any() and (g["cache_write_tokens"] == 0).all()  # OpenAI bills no cache writes
    p_in = np.where(long, GPT55_LONG["in"], GPT55["in"])
    p_read = np.where(long, GPT55_LONG["read"], GPT55["read"])
    p_out = np.where(long, GPT55_LONG["out"], GPT55["out"])  # reasoning billed as output
    uncached = g["input_tokens"] - g["cache_read_tokens"]
    hand = (uncached * p_in + g["cache_read_tokens"] * p_read + g["output_tokens"] * p_out) / M
    hand = hand.to_numpy() * _batch_factor(g)
    np.testing.assert_allclose(g["cost_usd"].to_numpy(), hand, rtol=1e-12, atol=1e-15)
    assert round(g["cost_usd"].sum(), 2) == round(hand.sum(), 2)


def test_simulated_claude_sonnet5_calls_by_hand(simulated):
    s = simulated[simulated["model"] == "claude-sonnet-5"]
    w1h = s["cache_write_1h_tokens"]
    w5m = s["cache_write_tokens"] - w1h
    assert w5m.sum() > 0 and w1h.sum() > 0
    uncached = s["input_tokens"] - s["cache_read_tokens"] - s["cache_write_tokens"]
    hand = (
        uncached * SONNET5["in"]
        + s["cache_read_tokens"] * SONNET5["read"]
        + w5m * SONNET5["w5m"]
        + w1h * SONNET5["w1h"]
        + s["output_tokens"] * SONNET5["out"]
    ) / M
    hand = hand.to_numpy() * _batch_factor(s)
    np.testing.assert_allclose(s["cost_usd"].to_numpy(), hand, rtol=1e-12, atol=1e-15)
    assert round(s["cost_usd"].sum(), 2) == round(hand.sum(), 2)


def test_simulated_luna_calls_by_hand_across_the_price_change(simulated):
    """gpt-5.6-luna: $1.00 in, $0.10 read, $6.00 out until 2026-07-29, then $0.20 / $0.02 /
    $1.20; above 272,000 input tokens 2x the input rates and 1.5x the output rate."""
    lu = simulated[simulated["model"] == "gpt-5.6-luna"]
    new = (lu["timestamp"] >= pd.Timestamp("2026-07-30", tz="UTC")).to_numpy()
    assert new.any() and (~new).any()
    long = (lu["input_tokens"] > 272_000).to_numpy()
    scale = np.where(new, 0.2, 1.0)  # the cut divides every rate by 5
    p_in = LUNA_OLD["in"] * scale * np.where(long, 2.0, 1.0)
    p_read = 0.10 * scale * np.where(long, 2.0, 1.0)
    p_out = LUNA_OLD["out"] * scale * np.where(long, 1.5, 1.0)
    uncached = lu["input_tokens"] - lu["cache_read_tokens"]
    hand = (uncached * p_in + lu["cache_read_tokens"] * p_read + lu["output_tokens"] * p_out) / M
    hand = hand.to_numpy() * _batch_factor(lu)
    np.testing.assert_allclose(lu["cost_usd"].to_numpy(), hand, rtol=1e-9, atol=1e-15)
    assert round(lu["cost_usd"].sum(), 2) == round(hand.sum(), 2)
    assert {"in": LUNA_OLD["in"] * 0.2, "out": pytest.approx(LUNA_OLD["out"] * 0.2)} == LUNA_NEW


def test_simulated_bill_equals_cost_breakdown_to_the_cent(simulated):
    bill = cost_breakdown(simulated)
    assert (simulated["cost_usd"].to_numpy() == bill["total"].to_numpy()).all()
    assert round(simulated["cost_usd"].sum(), 2) == round(bill["total"].sum(), 2)
    by_model = simulated.groupby("model", observed=True)["cost_usd"].sum().round(2)
    again = bill["total"].groupby(simulated["model"], observed=True).sum().round(2)
    pd.testing.assert_series_equal(by_model, again, check_names=False)
