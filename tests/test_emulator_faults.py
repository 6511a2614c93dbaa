"""Fault injection: rates honoured with a seeded RNG, 429 + Retry-After, outages, hangs past a
client timeout, dropped connections, and "stored but the answer was lost" made safe by keys."""

from __future__ import annotations

import uuid

import httpx
import pandas as pd
import pytest
from pydantic import ValidationError

from showcase_lib.emulator import Emulator, FaultConfig, Outage
from showcase_lib.emulator._faults import FaultInjector
from showcase_lib.wire import record_to_wire

KEY = "rev_faults_test_key"


def body(i: int) -> dict:
    return record_to_wire(
        {
            "timestamp": pd.Timestamp("2026-01-01T00:00:00Z"),
            "call_id": f"call_{i}",
            "provider": "anthropic",
            "model": "claude-3-5-haiku",
            "input_tokens": i,
            "output_tokens": 1,
            "latency_ms": 10,
        }
    )


@pytest.fixture(scope="module")
def emu():
    with Emulator(api_key=KEY) as e:
        yield e


@pytest.fixture()
def client(emu):
    emu.set_faults()
    emu.reset()
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": KEY}, timeout=5) as c:
        yield c
    emu.set_faults()


def send(client, i, key=None, **kw):
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return client.post("v2/ai/completions", json=body(i), headers=headers, **kw)


# ------------------------------------------------------------------ the injector alone
def test_injector_is_reproducible_and_honours_rates():
    cfg = FaultConfig(error_rate=0.2, rate_limit_rate=0.1, drop_rate=0.05, seed=42)

    def draws() -> list[str]:
        inj = FaultInjector(cfg)
        return [f.kind if f else "none" for f in (inj.decide(0.0) for _ in range(4000))]

    first = draws()
    assert first == draws()
    share = pd.Series(first).value_counts(normalize=True)
    assert share["error"] == pytest.approx(0.2, abs=0.03)
    assert share["rate_limit"] == pytest.approx(0.1, abs=0.02)
    assert share["drop"] == pytest.approx(0.05, abs=0.015)


def test_outage_windows_and_toggle():
    inj = FaultInjector(FaultConfig(outages=[Outage(start_s=10, end_s=20, status=502)]))
    assert inj.decide(5.0) is None
    assert inj.decide(15.0) == ("outage", 502)
    assert inj.decide(20.0) is None
    assert FaultInjector(FaultConfig(outage=True)).decide(0.0) == ("outage", 503)


@pytest.mark.parametrize(
    "bad",
    [
        {"error_rate": 1.5},
        {"error_rate": 0.7, "hang_rate": 0.7},
        {"error_codes": [404]},
        {"outages": [{"start_s": 5, "end_s": 1}]},
        {"unknown": 1},
        {"retry_after_s": -1},
    ],
)
def test_bad_fault_configs_are_refused(bad):
    with pytest.raises(ValidationError):
        FaultConfig.model_validate(bad)


# ------------------------------------------------------------------ on the wire
def test_error_rate_roughly_honoured_and_failures_never_stored(client, emu):
    emu.set_faults(error_rate=0.3, error_codes=(500, 503), seed=7)
    codes = [send(client, i).status_code for i in range(200)]
    failures = sum(c >= 500 for c in codes)
    assert 40 <= failures <= 80
    assert set(codes) <= {201, 500, 503}
    assert {500, 503} <= set(codes)
    stats = emu.stats()
    assert stats["faults"]["error"] == failures
    assert len(emu.records()) == codes.count(201) == stats["stored"]


def test_same_seed_same_sequence(client, emu):
    emu.set_faults(error_rate=0.5, seed=11)
    first = [send(client, i).status_code for i in range(30)]
    emu.set_faults(error_rate=0.5, seed=11)
    second = [send(client, i).status_code for i in range(30)]
    assert first == second


def test_rate_limit_carries_retry_after(client, emu):
    emu.set_faults(rate_limit_rate=1.0, retry_after_s=2.5)
    r = send(client, 1)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"  # whole seconds, rounded up
    assert r.headers["retry-after-ms"] == "2500"
    assert r.json()["error"] == "rate_limited"
    assert emu.records().empty


def test_outage_toggle_and_window(client, emu):
    emu.set_faults(outage=True)
    assert send(client, 1).status_code == 503
    emu.set_faults(outage=False)
    assert send(client, 1).status_code == 201
    # a window relative to server start that covers "now"
    emu.set_faults(outages=[Outage(start_s=0, end_s=3600, status=502)])
    assert send(client, 2).status_code == 502
    assert emu.stats()["faults"]["outage"] == 2
    assert len(emu.records()) == 1


def test_hang_exceeds_a_short_client_timeout(client, emu):
    emu.set_faults(hang_rate=1.0, hang_s=5)
    with pytest.raises(httpx.ReadTimeout):
        send(client, 1, timeout=0.3)
    assert emu.records().empty
    assert emu.stats()["faults"]["hang"] == 1


def test_dropped_connection_is_a_client_error(client, emu):
    emu.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        send(client, 1)
    emu.set_faults()
    assert send(client, 2).status_code == 201  # the client reconnects
    assert emu.records()["call_id"].tolist() == ["call_2"]


def test_added_latency_is_counted(client, emu):
    emu.set_faults(latency_ms=20, latency_jitter_ms=5)
    assert send(client, 1).status_code == 201
    assert emu.stats()["faults"]["latency"] == 1


def test_lost_response_is_stored_once_when_retried_with_the_same_key(client, emu):
    emu.set_faults(lost_response_rate=1.0)
    key = str(uuid.uuid4())
    with pytest.raises(httpx.TransportError):
        send(client, 1, key=key)
    assert len(emu.records()) == 1  # stored, answer lost
    emu.set_faults()
    r = send(client, 1, key=key)  # the client's retry
    assert r.status_code == 201
    assert len(emu.records()) == 1
    stats = emu.stats()
    assert stats["faults"]["lost_response"] == 1 and stats["duplicates"] == 1


def test_faults_set_at_start():
    with Emulator(api_key=KEY, faults={"error_rate": 1.0, "error_codes": [502]}) as emu:
        r = httpx.post(emu.completions_url, json=body(1), headers={"x-api-key": KEY})
        assert r.status_code == 502
        emu.restart()  # faults survive a restart
        r = httpx.post(emu.completions_url, json=body(1), headers={"x-api-key": KEY})
        assert r.status_code == 502
