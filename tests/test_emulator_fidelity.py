"""The emulator as faithful as the documented service, on a real loopback socket: unknown
fields accepted and reported, deprecated organizationId/productId, optional transactionId
(generated, or the spanId), idempotency-key rules and in-progress 409, dedup by
transactionId and the likely-duplicates read-out."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pandas as pd
import pytest

from showcase_lib.emulator import Emulator
from showcase_lib.wire import record_to_wire

KEY = "rev_test_" + "f1delity" * 3


def body(i: int = 0, **over) -> dict:
    rec = {
        "timestamp": pd.Timestamp("2026-08-01T10:00:00Z") + pd.Timedelta(seconds=10 * i),
        "call_id": f"call_{i}",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 100 + i,
        "output_tokens": 20,
        "cost_usd": 0.001,
        "latency_ms": 900,
        "customer_id": "cust_1",
    }
    return {**record_to_wire(rec), **over}


def sdk_like(i: int = 0, **over) -> dict:
    """A body shaped like the official SDK's: no book extension keys."""
    b = body(i, **over)
    for k in ("requestId", "sessionId", "userAgent", "status", "stopReasonDerived"):
        b.pop(k, None)
    return b


@pytest.fixture(scope="module")
def emu():
    with Emulator(api_key=KEY) as e:
        yield e


@pytest.fixture()
def client(emu):
    emu.set_faults()
    emu.reset()
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": KEY}, timeout=10) as c:
        yield c
    emu.set_faults()


def post(client, payload, key=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("v2/ai/completions", json=payload, headers=headers)


# ------------------------------------------------------------------ unknown fields
def test_misspelt_fields_are_accepted_and_reported_per_record(client, emu):
    typo = body(1, totalCots=0.25, organisationName="acme")
    del typo["totalCost"]
    assert post(client, typo).status_code == 201  # as the service: 201, silently ignored
    assert post(client, body(2)).status_code == 201
    report = emu.unknown_fields()
    assert report[["transaction_id", "field", "kind", "suggestion"]].values.tolist() == [
        ["call_1", "totalCots", "unknown", "totalCost"],
        ["call_1", "organisationName", "unknown", "organizationName"],
    ]
    notes = report.set_index("field")["note"]
    assert "prices the record from its tokens" in notes["totalCots"]
    assert "no organization" in notes["organisationName"]
    stats = emu.stats()
    assert stats["unknown_keys"] == {"organisationName": 1, "totalCots": 1}
    assert stats["records_with_unknown_keys"] == 1
    # the typo's cost is lost: the emulator prices the tokens, as the service does
    costs = emu.costs().set_index("transaction_id")
    assert costs.loc["call_1", "source"] == "genai-prices"
    assert costs.loc["call_1", "total"] != 0.25
    # the admin route answers the same entries
    r = httpx.get(emu.url + "_emulator/unknown-fields", headers={"x-api-key": KEY})
    assert [e["field"] for e in r.json()] == ["totalCots", "organisationName"]


def test_nested_subscriber_typo_is_reported(client, emu):
    b = body(3)
    b["subscriber"] = {"id": "cust_1", "emial": "a@example.com"}
    assert post(client, b).status_code == 201
    report = emu.unknown_fields()
    assert report[["field", "suggestion"]].values.tolist() == [
        ["subscriber.emial", "subscriber.email"]
    ]


def test_book_extension_keys_are_counted_apart_not_reported(client, emu):
    assert post(client, body(4, requestId="req-4", sessionId="s-1")).status_code == 201
    assert emu.unknown_fields().empty
    stats = emu.stats()
    assert stats["unknown_keys"] == {}
    assert stats["extension_keys"] == {
        "requestId": 1,
        "sessionId": 1,
        "status": 1,
        "stopReasonDerived": 1,
    }


def test_service_fields_beyond_the_record_are_parsed_and_checked(client, emu):
    ok = sdk_like(5, middlewareSource="PYTHON", effort="high", promptsTruncated=False)
    assert post(client, ok).status_code == 201
    assert emu.stats()["unknown_keys"] == {}
    bad = sdk_like(6, effort="not allowed!", agenticJobId="types", promptLength=-1)
    r = post(client, bad)
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"effort", "agenticJobId", "promptLength"}


def test_reset_clears_the_field_counters(client, emu):
    assert post(client, body(7, brandNew=1)).status_code == 201
    emu.reset()
    assert emu.stats()["unknown_keys"] == {} and emu.unknown_fields().empty


# ------------------------------------------------------------------ organizationId / productId
def test_deprecated_organization_and_product_ids_are_accepted_reported_and_not_read(client, emu):
    b = sdk_like(8, organizationId="acme", productId="assistant")
    b.pop("organizationName", None)
    b.pop("productName", None)
    assert post(client, b).status_code == 201
    report = emu.unknown_fields()
    assert report[["field", "kind", "suggestion"]].values.tolist() == [
        ["organizationId", "deprecated", "organizationName"],
        ["productId", "deprecated", "productName"],
    ]
    assert emu.stats()["deprecated_keys"] == {"organizationId": 1, "productId": 1}
    assert emu.events()[0]["organizationId"] == "acme"  # stored as sent, not rewritten


# ------------------------------------------------------------------ transactionId
def test_missing_transaction_id_gets_a_generated_uuid(client, emu):
    b = body(9)
    del b["transactionId"]
    first, again = post(client, b), post(client, b)
    assert first.status_code == again.status_code == 201
    ids = [e["transactionId"] for e in emu.events()]
    assert len(ids) == 2 and len(set(ids)) == 2  # a retry without id or key counts twice
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert emu.stats()["transaction_ids_generated"] == 2


def test_null_transaction_id_is_treated_as_missing(client, emu):
    assert post(client, body(10, transactionId=None)).status_code == 201
    assert uuid.UUID(emu.events()[0]["transactionId"])


def test_span_id_stands_for_the_transaction_id_and_dedups(client, emu):
    b = body(11, spanId="span-0001")
    del b["transactionId"]
    assert post(client, b).status_code == 201
    assert post(client, b).status_code == 201  # same spanId: the same call
    events = emu.events()
    assert [(e["transactionId"], e["spanId"]) for e in events] == [("span-0001", "span-0001")]
    stats = emu.stats()
    assert (stats["transaction_ids_from_span"], stats["duplicate_transactions"]) == (1, 1)


def test_a_bad_transaction_id_is_still_a_400(client):
    assert post(client, body(12, transactionId="")).status_code == 400
    assert post(client, body(12, transactionId=7)).status_code == 400
    b = body(12, spanId=5)
    del b["transactionId"]
    r = post(client, b)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "spanId"


# ------------------------------------------------------------------ idempotency
def test_a_key_still_running_gets_409_with_retry_after_1(emu):
    emu.reset()
    emu.set_faults(latency_ms=600)  # the first delivery is slow: still running

    async def run():
        async with httpx.AsyncClient(base_url=emu.base_url, timeout=10) as c:
            headers = {"x-api-key": KEY, "Idempotency-Key": "slow-key"}
            first = asyncio.create_task(c.post("v2/ai/completions", json=body(13), headers=headers))
            await asyncio.sleep(0.2)
            second = await c.post("v2/ai/completions", json=body(13), headers=headers)
            return await first, second

    try:
        first, second = asyncio.run(run())
    finally:
        emu.set_faults()
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"] == "idempotency_key_in_progress"
    assert second.headers["Retry-After"] == "1"
    with httpx.Client(base_url=emu.base_url) as c:  # once done, a repeat is a replay
        again = c.post(
            "v2/ai/completions",
            json=body(13),
            headers={"x-api-key": KEY, "Idempotency-Key": "slow-key"},
        )
    assert again.status_code == 201 and again.json() == first.json()
    assert len(emu.records()) == 1


def test_a_hung_request_does_not_hold_its_key(emu):
    emu.reset()
    emu.set_faults(hang_rate=1.0, hang_s=5)
    try:
        with httpx.Client(base_url=emu.base_url, timeout=0.3) as c:
            headers = {"x-api-key": KEY, "Idempotency-Key": "hung-key"}
            with pytest.raises(httpx.ReadTimeout):
                c.post("v2/ai/completions", json=body(14), headers=headers)
            emu.set_faults()
            r = c.post("v2/ai/completions", json=body(14), headers=headers)
    finally:
        emu.set_faults()
    assert r.status_code == 201  # not 409: a hang processes nothing


def test_unauthenticated_requests_learn_nothing_about_keys_in_progress(emu):
    emu.server._in_progress.add("busy")
    try:
        r = httpx.post(emu.completions_url, json=body(15), headers={"Idempotency-Key": "busy"})
    finally:
        emu.server._in_progress.discard("busy")
    assert r.status_code == 401


# ------------------------------------------------------------------ duplicates
def test_same_call_two_ids_is_flagged_as_a_likely_duplicate(client, emu):
    a = sdk_like(20, transactionId="chatcmpl-1", middlewareSource="PYTHON")
    b = sdk_like(20, transactionId="span-1", provider="openai")  # other path, other id
    b["requestTime"] = "2026-08-01T10:03:21Z"  # a second after a's
    c = sdk_like(20, transactionId="later")  # same tokens, a minute later: another call
    c["requestTime"] = "2026-08-01T10:04:20Z"
    d = sdk_like(21, transactionId="other-call")
    for x in (a, b, c, d):
        assert post(client, x).status_code == 201
    dups = emu.duplicates()
    assert dups[["group", "transaction_id", "gap_s", "middleware_source"]].values.tolist() == [
        [1, "chatcmpl-1", 0.0, "PYTHON"],
        [1, "span-1", 1.0, None],
    ]
    assert emu.duplicates(window_s=120)["transaction_id"].tolist() == [
        "chatcmpl-1",
        "span-1",
        "later",
    ]
    r = httpx.get(
        emu.url + "_emulator/duplicates", params={"window_s": "2"}, headers={"x-api-key": KEY}
    )
    assert [d["transaction_id"] for d in r.json()] == ["chatcmpl-1", "span-1"]
    bad = httpx.get(
        emu.url + "_emulator/duplicates", params={"window_s": "-1"}, headers={"x-api-key": KEY}
    )
    assert bad.status_code == 400


def test_dedup_by_transaction_id_survives_a_restart(tmp_path):
    with Emulator(api_key=KEY, db_path=tmp_path / "e.db") as emu:
        first = httpx.post(emu.completions_url, json=body(30), headers={"x-api-key": KEY})
        emu.restart()
        again = httpx.post(emu.completions_url, json=body(30), headers={"x-api-key": KEY})
        assert again.json()["id"] == first.json()["id"]
        assert len(emu.records()) == 1
        assert emu.stats()["duplicate_transactions"] == 1


def test_a_store_without_the_transactions_table_is_indexed_on_open(tmp_path):
    import sqlite3

    db = tmp_path / "old.db"
    with Emulator(api_key=KEY, db_path=db) as emu:
        first = httpx.post(emu.completions_url, json=body(31), headers={"x-api-key": KEY})
        assert first.status_code == 201
    with sqlite3.connect(db) as conn:  # as written before dedup by transactionId existed
        conn.execute("DROP TABLE transactions")
    with Emulator(api_key=KEY, db_path=db) as emu:
        again = httpx.post(emu.completions_url, json=body(31), headers={"x-api-key": KEY})
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
        assert len(emu.records()) == 1
