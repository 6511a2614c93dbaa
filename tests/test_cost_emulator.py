"""The emulator prices like the service: records sent without a cost, priced from their tokens,
tier and timestamp, must match the golden suite to the cent and the library's pricing.

The golden cases are ``tests/test_cost_golden.py``'s (real provider usage bodies, dollars by
hand from cited prices), sent over loopback HTTP to a real emulator without ``totalCost``;
the emulator's read-out (``Emulator.costs()``, ``GET /_emulator/costs``) must give the hand
figure by token kind. Then a few thousand calls (a 2026 mix with every token kind, tier, a
cliff and a price change, and the simulator's own traffic) priced by the emulator and by
``showcase_lib.pricing.cost_breakdown`` must agree.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx
import numpy as np
import pandas as pd
import pytest
import test_cost_golden as golden  # the golden suite (tests/ is on sys.path under pytest)

from showcase_lib.emulator import Emulator
from showcase_lib.emulator._pricing import PRICE_SOURCES, price_body
from showcase_lib.pricing import cost_breakdown
from showcase_lib.schema import SERVICE_TIERS
from showcase_lib.simulation import simulate
from showcase_lib.wire import frame_to_wire, record_to_wire

UTC = timezone.utc
KINDS = ("input", "cache_read", "cache_write", "output", "reasoning")


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture
def client(emu):
    emu.reset()
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": emu.api_key}) as c:
        yield c


def send(client, bodies) -> None:
    """POST every body (8 at a time: each answer waits for its group commit)."""

    def post(body):
        key = {"Idempotency-Key": body["transactionId"]}
        return client.post("v2/ai/completions", json=body, headers=key)

    with ThreadPoolExecutor(8) as pool:
        for r in pool.map(post, list(bodies)):
            assert r.status_code == 201, r.text


def as_record(row: dict, call_id: str) -> dict:
    """A golden row (extract_usage's fields) as a record: the writes' total and 1-hour share."""
    write = row.get("cache_write_tokens") or (
        row.get("cache_write_5m_tokens", 0) + row.get("cache_write_1h_tokens", 0)
    )
    rec = {k: v for k, v in row.items() if k != "cache_write_5m_tokens"}
    return rec | {"cache_write_tokens": write, "call_id": call_id, "latency_ms": 900}


def golden_records() -> list[tuple[dict, dict[str, float] | None, float]]:
    """(record, expected parts or None, expected total) for every golden case."""
    out = []
    for name, ((body, provider, flavor), parts, total) in sorted(golden.CASES.items()):
        row, _ = golden.record(body, provider, flavor)
        out.append((as_record(row, name), parts, total))
    plain = {"provider": "openai", "model": "gpt-5.5", "timestamp": golden.NOV}
    out.append(
        (
            plain
            | {
                "call_id": "batch-variant",
                "input_tokens": 10_000,
                "output_tokens": 1_000,
                "service_tier": "batch",
            },
            None,
            0.04,
        )
    )
    out.append(
        (
            plain | {"call_id": "standard", "input_tokens": 10_000, "output_tokens": 1_000},
            None,
            0.08,
        )
    )
    sonnet = {"provider": "anthropic", "model": "claude-sonnet-5", "input_tokens": 10_000}
    out.append(
        (
            sonnet
            | {
                "call_id": "batch-multiplier",
                "output_tokens": 1_000,
                "timestamp": datetime(2026, 9, 1, tzinfo=UTC),
                "service_tier": "batch",
            },
            None,
            0.015,
        )
    )
    luna = {"provider": "openai", "model": "gpt-5.6-luna", "input_tokens": 100_000}
    luna |= {"output_tokens": 10_000}
    out.append(
        (
            luna
            | {"call_id": "luna-old", "timestamp": datetime(2026, 7, 29, 23, 59, 59, tzinfo=UTC)},
            None,
            0.16,
        )
    )
    out.append(
        (
            luna | {"call_id": "luna-new", "timestamp": datetime(2026, 7, 30, tzinfo=UTC)},
            None,
            0.032,
        )
    )
    cliff = plain | {"output_tokens": 0}
    out.append((cliff | {"call_id": "at-272000", "input_tokens": 272_000}, None, 1.36))
    out.append((cliff | {"call_id": "at-272001", "input_tokens": 272_001}, None, 2.72001))
    return [({**rec, "latency_ms": 900}, parts, total) for rec, parts, total in out]


def test_golden_cases_sent_without_cost_are_priced_to_the_cent(client, emu):
    cases = golden_records()
    bodies = [record_to_wire(rec) for rec, _, _ in cases]
    assert not any("totalCost" in b for b in bodies)
    send(client, bodies)
    costs = emu.costs().set_index("transaction_id")
    assert len(costs) == len(cases)
    for rec, parts, total in cases:
        got = costs.loc[rec["call_id"]]
        assert got["source"] in ("genai-prices", "genai-prices x tier multiplier"), got["note"]
        assert round(float(got["total"]), 2) == round(total, 2), rec["call_id"]  # to the cent
        assert float(got["total"]) == pytest.approx(total, abs=1e-9), rec["call_id"]
        for kind, usd in (parts or {}).items():
            assert float(got[kind]) == pytest.approx(usd, abs=1e-9), (rec["call_id"], kind)
        assert float(got[list(KINDS)].sum()) == pytest.approx(float(got["total"]), abs=1e-12)
    assert costs.loc["batch-multiplier", "source"] == "genai-prices x tier multiplier"
    assert costs.loc["batch-multiplier", "multiplier"] == 0.5
    assert costs.loc["batch-variant", "source"] == "genai-prices"  # the package's batch price
    # the same read-out over HTTP, for clients of a process-mode emulator
    admin = httpx.get(emu.url + "_emulator/costs", headers={"x-api-key": emu.api_key}).json()
    assert [e["total"] for e in admin] == costs["total"].tolist()


def test_the_callers_cost_is_kept_and_said_so(client, emu):
    rec = {"timestamp": golden.NOV, "call_id": "c1", "provider": "openai", "model": "gpt-5.5"}
    rec |= {"input_tokens": 10_000, "output_tokens": 1_000, "latency_ms": 5, "cost_usd": 1.25}
    send(client, [record_to_wire(rec)])
    row = emu.costs().iloc[0]
    assert (row["source"], row["total"]) == ("caller", 1.25)
    assert "caller" in row["note"] and "totalCost" in row["note"]


def test_unpriceable_records_say_why():
    base = record_to_wire(
        {
            "timestamp": golden.NOV,
            "call_id": "c",
            "provider": "anthropic",
            "latency_ms": 1,
            "model": "claude-sonnet-5",
            "input_tokens": 100,
            "output_tokens": 50,
        }
    )
    unknown = price_body(base | {"model": "no-such-model"})
    assert unknown["source"] == "unpriced" and "no-such-model" in unknown["note"]
    # an OpenAI-style count keeps the cache reads (the service subtracts them): one smaller
    # than its own reads contradicts itself
    gross = base | {"provider": "OpenAI", "model": "gpt-5.5", "cacheReadTokenCount": 800}
    contradiction = price_body(gross)
    assert contradiction["source"] == "unpriced" and contradiction["total"] is None
    assert "inputTokenCount=100" in contradiction["note"]
    assert "cacheReadTokenCount=800" in contradiction["note"]
    assert set(PRICE_SOURCES) >= {unknown["source"], "caller"}


def test_anthropics_cache_exclusive_count_is_priced_like_the_service():
    """Regression: the emulator read Anthropic's inputTokenCount (cache-exclusive, as the
    official SDK sends it and as the service reads it) as inclusive, and left such a body
    unpriced; our own wire sent the inclusive count, which the service would have priced as
    uncached input on top of the cache reads and writes."""
    rec = {"timestamp": golden.NOV, "call_id": "c", "provider": "anthropic", "latency_ms": 1}
    rec |= {"model": "claude-haiku-4-5", "input_tokens": 10_000, "output_tokens": 1_000}
    rec |= {"cache_read_tokens": 8_000, "cache_write_tokens": 1_000}
    body = record_to_wire(rec)
    assert body["inputTokenCount"] == 1_000  # uncached input only
    got = price_body(body)
    # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 5-minute write, $5 output per MTok
    parts = {"input": 0.001, "cache_read": 0.0008, "cache_write": 0.00125, "output": 0.005}
    assert {k: round(got[k], 9) for k in parts} == parts
    assert round(got["total"], 2) == round(sum(parts.values()), 2)
    assert got["total"] == pytest.approx(float(cost_breakdown(pd.DataFrame([rec]))["total"][0]))


def mix_2026(n: int, seed: int = 0) -> pd.DataFrame:
    """Calls over models genai-prices prices, with every token kind and tier, long-context
    calls above gpt-5.5's cliff, and timestamps across gpt-5.6-luna's price change and the
    package's batch variants (mid October)."""
    r = np.random.default_rng(seed)
    models = [
        ("openai", "gpt-5.5"),
        ("openai", "gpt-5.6-luna"),
        ("openai", "gpt-5.4-nano"),
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-5"),
        ("anthropic", "claude-haiku-4-5"),
        ("google", "gemini-3.5-flash"),
        ("azure-openai", "gpt-4o"),
    ]
    pick = r.integers(0, len(models), n)
    tin = r.integers(0, 20_000, n)
    tin[r.random(n) < 0.03] = r.integers(272_001, 400_000)  # a few long-context calls
    tout = r.integers(0, 4_000, n)
    read = (tin * r.choice([0.0, 0.5, 0.9], n)).astype(int)
    write = ((tin - read) * r.choice([0.0, 0.0, 0.3], n)).astype(int)
    start = datetime(2026, 7, 1, tzinfo=UTC)
    df = pd.DataFrame(
        {
            "timestamp": [
                start + timedelta(seconds=int(s)) for s in r.integers(0, 150 * 86_400, n)
            ],
            "call_id": [f"mix-{i}" for i in range(n)],
            "provider": [models[i][0] for i in pick],
            "model": [models[i][1] for i in pick],
            "input_tokens": tin,
            "output_tokens": tout,
            "latency_ms": r.integers(100, 5_000, n),
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "cache_write_1h_tokens": (write * r.choice([0.0, 0.5, 1.0], n)).astype(int),
            "reasoning_tokens": (tout * r.choice([0.0, 0.8], n)).astype(int),
            "service_tier": r.choice(list(SERVICE_TIERS), n, p=[0.7, 0.15, 0.1, 0.05]),
        }
    )
    return df


def compare(client, emu, calls: pd.DataFrame) -> pd.DataFrame:
    """Send ``calls`` without cost; return the emulator's read-out next to cost_breakdown."""
    calls = calls.drop(columns=["cost_usd"], errors="ignore").reset_index(drop=True)
    send(client, frame_to_wire(calls))
    costs = emu.costs().set_index("transaction_id").loc[calls["call_id"].astype(str)]
    costs = costs.reset_index()  # in the calls' order (they arrived 8 at a time)
    lib = cost_breakdown(calls)
    priced = costs["source"] != "unpriced"
    for kind in (*KINDS, "total"):
        np.testing.assert_allclose(
            costs.loc[priced, kind].astype(float), lib.loc[priced, kind], rtol=1e-9, atol=1e-12
        )
    return costs


def test_emulator_and_library_agree_on_a_2026_mix(client, emu):
    calls = mix_2026(2_000)
    costs = compare(client, emu, calls)
    assert (costs["source"] != "unpriced").all()
    assert set(costs["source"]) == {"genai-prices", "genai-prices x tier multiplier"}
    assert set(costs["tier"]) == set(SERVICE_TIERS)
    assert (calls["input_tokens"] > 272_000).any() and (costs["cache_write"] > 0).any()


def test_emulator_and_library_agree_on_simulated_traffic(client, emu):
    calls = simulate(days=2, customers=20, seed=3).calls
    costs = compare(client, emu, calls)
    # every simulated model is priced: the catalog names genai-prices spells otherwise
    # (mistral-small -> mistral-small-latest, the short AWS Bedrock ids) through
    # pricing.CATALOG, and the retired claude-instant-1.2 through pricing.price
    unpriced = costs.loc[costs["source"] == "unpriced", "model"].unique()
    assert (costs["source"] != "unpriced").all(), sorted(unpriced)
    assert len(costs) > 1_000


def test_emulator_prices_catalog_names_and_retired_models_like_the_library(client, emu):
    """Regression: the emulator left mistral-small, the short AWS Bedrock ids and the retired
    claude-instant-1.2 unpriced (it could not import showcase_lib.pricing without pandas)."""
    models = [
        ("mistral", "mistral-small"),
        ("aws-bedrock", "anthropic.claude-3-haiku"),
        ("aws-bedrock", "amazon.nova-lite"),
        ("aws-bedrock", "meta.llama3-1-70b-instruct"),
        ("aws-bedrock", "anthropic.claude-sonnet-5"),
        ("anthropic", "claude-instant-1.2"),
    ]
    rows = [
        {
            "timestamp": golden.NOV,
            "call_id": f"m{i}-{tier}",
            "provider": provider,
            "model": model,
            "input_tokens": 10_000,
            "output_tokens": 1_000,
            "latency_ms": 5,
            "cache_read_tokens": 4_000,
            "cache_write_tokens": 1_000,
            "reasoning_tokens": 200,
            "service_tier": tier,
        }
        for i, (provider, model) in enumerate(models)
        for tier in ("standard", "batch")
    ]
    costs = compare(client, emu, pd.DataFrame(rows))
    assert (costs["source"] != "unpriced").all(), costs.loc[costs["source"] == "unpriced", "note"]
    instant = costs.set_index("transaction_id").loc["m5-standard"]
    assert instant["source"] == "retired-model table" and "Claude Instant" in instant["note"]
    # $0.80 input (cache tokens at the input price), $2.40 output per MTok
    assert instant["total"] == pytest.approx(10_000 * 0.8e-6 + 1_000 * 2.4e-6)
