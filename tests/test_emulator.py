"""The emulator on a real loopback socket: auth, validation, limits, idempotency, durability,
admin read-out and HTTP framing."""

from __future__ import annotations

import json
import socket
import uuid

import httpx
import numpy as np
import pandas as pd
import pytest

from showcase_lib.emulator import Emulator, ServerOptions
from showcase_lib.schema import ALL_COLUMNS, DTYPES
from showcase_lib.wire import frame_to_wire, record_to_wire

KEY = "rev_test_" + "s3cret" * 4


def body(i: int = 0, **over) -> dict:
    rec = {
        "timestamp": pd.Timestamp("2026-01-01T00:00:00Z") + pd.Timedelta(seconds=i),
        "call_id": f"call_{i}",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 100 + i,
        "output_tokens": 20,
        "cost_usd": 0.001,
        "latency_ms": 900,
        "customer_id": "cust_1",
        "status": "success",
        "stop_reason": "END",
    }
    return {**record_to_wire(rec), **over}


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


def post(client, payload, key=None, **kw):
    headers = kw.pop("headers", {})
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("v2/ai/completions", json=payload, headers=headers, **kw)


# ------------------------------------------------------------------ basics
def test_base_url_and_repr_hide_the_key(emu):
    assert emu.base_url == f"http://127.0.0.1:{emu.port}/meter/"
    assert emu.api_key == KEY
    assert KEY not in repr(emu) and KEY not in repr(emu.server)
    assert KEY not in json.dumps(emu.stats())


def test_created_answer_has_revenium_shape(client, emu):
    r = post(client, body(1), key=str(uuid.uuid4()))
    assert r.status_code == 201
    answer = r.json()
    assert set(answer) == {"id", "label", "resourceType", "signature", "created"}
    assert answer["resourceType"] == "metering"
    assert answer["created"].endswith("Z")
    assert emu.records()["call_id"].tolist() == ["call_1"]


def test_auth_missing_and_wrong_key(client, emu):
    r = client.post("v2/ai/completions", json=body(), headers={"x-api-key": ""})
    assert r.status_code == 401
    with httpx.Client(base_url=emu.base_url) as anon:
        r = anon.post("v2/ai/completions", json=body())
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = client.post("v2/ai/completions", json=body(), headers={"x-api-key": KEY + "x"})
    assert r.status_code == 401
    r = client.post("v2/ai/completions", json=body(), headers={"x-api-key": "bad é key".encode()})
    assert r.status_code == 401
    assert KEY not in r.text
    assert emu.stats()["rejected"]["401"] == 4
    assert emu.records().empty


def test_validation_names_every_bad_field(client, emu):
    payload = body(inputTokenCount=-1, stopReason="DONE", costType="API")
    del payload["model"]
    payload["surpriseKey"] = {"nested": [1, 2]}  # unknown keys are fine
    r = post(client, payload)
    assert r.status_code == 400
    err = r.json()
    assert err["error"] == "validation_failed"
    fields = {e["field"] for e in err["errors"]}
    assert fields == {"model", "inputTokenCount", "stopReason", "costType"}
    assert "inputTokenCount=-1 must be an integer >= 0" in err["message"]
    assert emu.records().empty


def test_unknown_keys_are_accepted(client, emu):
    r = post(client, body(2, operationType="CHAT", brandNewField=[1, {"x": None}]))
    assert r.status_code == 201
    assert emu.events()[0]["brandNewField"] == [1, {"x": None}]
    assert emu.stats()["unknown_keys"] == {"brandNewField": 1}  # allowed, and reported


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{", "invalid_json"),
        (b'{"a": NaN}', "invalid_json"),
        (b"\xff\xfe\x00", "invalid_encoding"),
        (b"[1, 2]", "validation_failed"),
        (b'"text"', "validation_failed"),
        (b"", "invalid_json"),
    ],
)
def test_bad_json_is_400(client, content, error):
    r = client.post(
        "v2/ai/completions", content=content, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"] == error


def test_body_too_large_is_413():
    with (
        Emulator(api_key=KEY, options=ServerOptions(max_body_bytes=2048)) as small,
        httpx.Client() as c,
    ):
        r = c.post(small.completions_url, content=b"x" * 100_000, headers={"x-api-key": KEY})
        assert r.status_code == 413
        assert r.json()["error"] == "payload_too_large"
        assert small.stats()["rejected"]["413"] == 1
        # a body that fits still works on a fresh connection
        r = c.post(small.completions_url, json=body(), headers={"x-api-key": KEY})
        assert r.status_code == 201


def test_unknown_path_and_wrong_method(client, emu):
    assert client.post("v2/ai/nothing", json={}).status_code == 404
    assert client.get(emu.url + "elsewhere").status_code == 404
    r = client.get("v2/ai/completions")
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    r = client.delete(emu.url + "_emulator/events")
    assert r.status_code == 405


def test_sibling_endpoints_store_their_kind(client, emu):
    r = client.post("v2/tool/events", json={"toolId": "search", "durationMs": 12})
    assert r.status_code == 201
    assert client.post("v2/ai/images", json=[1]).status_code == 400
    assert emu.events() == []
    assert emu.events(kind="tool_event") == [{"toolId": "search", "durationMs": 12}]


# ------------------------------------------------------------------ idempotency
def test_repeat_key_returns_first_answer_and_stores_once(client, emu):
    key = str(uuid.uuid4())
    first = post(client, body(3), key=key)
    again = post(client, body(3), key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    # the same JSON with other key order and spacing is still the same body
    reordered = json.dumps(dict(reversed(list(body(3).items()))), indent=2)
    third = client.post("v2/ai/completions", content=reordered, headers={"Idempotency-Key": key})
    assert third.status_code == 201 and third.json()["id"] == first.json()["id"]
    assert len(emu.records()) == 1
    stats = emu.stats()
    assert stats["stored"] == 1 and stats["duplicates"] == 2


def test_same_key_different_body_is_409_mismatch(client, emu):
    key = str(uuid.uuid4())
    assert post(client, body(4), key=key).status_code == 201
    r = post(client, body(4, inputTokenCount=999), key=key)
    assert r.status_code == 409
    assert r.json()["error"] == "idempotency_key_mismatch"
    assert len(emu.records()) == 1


def test_key_in_progress_is_409_with_retry_after(client, emu):
    emu.server._in_progress.add("busy-key")  # as if its first delivery were still running
    try:
        r = post(client, body(5), key="busy-key")
    finally:
        emu.server._in_progress.discard("busy-key")
    assert r.status_code == 409
    assert r.json()["error"] == "idempotency_key_in_progress"
    assert r.headers["Retry-After"] == "1"
    assert post(client, body(5), key="busy-key").status_code == 201


def test_without_key_the_transaction_id_dedups(client, emu):
    first = post(client, body(6))
    again = post(client, body(6))  # a retry without a key: the same call, the same id
    other = post(client, body(16))
    assert first.status_code == again.status_code == other.status_code == 201
    assert again.json() == first.json()
    stats = emu.stats()
    assert (stats["stored"], stats["no_key"], stats["duplicate_transactions"]) == (2, 2, 1)
    assert emu.records()["call_id"].tolist() == ["call_6", "call_16"]


def test_a_new_key_for_a_stored_transaction_id_is_the_same_call(client, emu):
    first = post(client, body(26), key=str(uuid.uuid4()))
    key = str(uuid.uuid4())
    again = post(client, body(26), key=key)  # e.g. the same call metered by a second path
    replay = post(client, body(26), key=key)
    assert again.json()["id"] == first.json()["id"] == replay.json()["id"]
    stats = emu.stats()
    assert (stats["stored"], stats["duplicate_transactions"], stats["duplicates"]) == (1, 1, 1)
    assert len(emu.records()) == 1


@pytest.mark.parametrize("key", [b"x" * 256, b"", "caf\u00e9".encode(), b"a\tb"])
def test_bad_idempotency_key_is_400_invalid_idempotency_key(client, emu, key):
    r = post(client, body(7), key=key)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_idempotency_key"
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert emu.records().empty


def test_longest_valid_idempotency_key_is_accepted(client):
    assert post(client, body(7), key="~" * 255).status_code == 201


# ------------------------------------------------------------------ durability
def test_store_survives_restart_and_keeps_keys(tmp_path):
    db = tmp_path / "emu.sqlite"
    key = str(uuid.uuid4())
    with Emulator(api_key=KEY, db_path=db) as emu:
        port = emu.port
        first = httpx.post(
            emu.completions_url, json=body(8), headers={"x-api-key": KEY, "Idempotency-Key": key}
        )
        assert first.status_code == 201
        emu.restart()
        assert emu.port == port
        assert emu.records()["call_id"].tolist() == ["call_8"]
        again = httpx.post(
            emu.completions_url, json=body(8), headers={"x-api-key": KEY, "Idempotency-Key": key}
        )
        assert again.json() == first.json()
        assert emu.stats()["duplicates"] == 1
    assert db.exists()  # an explicit db_path is never deleted
    with Emulator(api_key=KEY, db_path=db) as emu2:
        assert len(emu2.records()) == 1
        assert emu2.stats()["in_store"] == 1


def test_temp_store_is_removed_on_close():
    emu = Emulator(api_key=KEY)
    with emu:
        path = emu.db_path
        httpx.post(emu.completions_url, json=body(), headers={"x-api-key": KEY})
    import os

    assert not os.path.exists(path)


def test_records_round_trip_a_frame_through_http(client, emu):
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-02-01", tz="UTC")
            + pd.to_timedelta(np.arange(n) * 1500, unit="ms"),
            "call_id": [f"c{i}" for i in range(n)],
            "provider": rng.choice(["openai", "anthropic", "aws-bedrock"], n),
            "model": rng.choice(["m1", "m2"], n),
            "input_tokens": rng.integers(0, 1000, n),
            "output_tokens": rng.integers(0, 1000, n),
            "cost_usd": rng.random(n),
            "latency_ms": rng.integers(1, 5000, n),
            "customer_id": rng.choice(["a", "b"], n),
            "subscription_tier": "pro",
            "organization_id": "org",
            "product_id": "p",
            "feature_id": "chat",
            "task_type": "qa",
            "environment": "production",
            "request_id": [f"r{i}" for i in range(n)],
            "trace_id": "t",
            "user_agent": "ua",
            "session_id": "s",
            "status": "success",
            "stop_reason": "END",
            "region": "eu-west-1",
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cache_write_1h_tokens": 0,
            "reasoning_tokens": 0,
            "service_tier": rng.choice(["standard", "batch", "priority"], n),
        }
    ).astype(DTYPES)[list(ALL_COLUMNS)]
    df["input_tokens"] += 20  # room for the cache writes below (inclusive rule)
    df["cache_read_tokens"] = df["input_tokens"] // 2
    df.loc[::3, "cache_write_tokens"] = 10
    df.loc[::6, "cache_write_1h_tokens"] = 4
    df["reasoning_tokens"] = df["output_tokens"] // 3
    df.loc[5, "cost_usd"] = np.nan
    for b in frame_to_wire(df):
        assert post(client, b, key=b["transactionId"]).status_code == 201
    pd.testing.assert_frame_equal(emu.records(), df, check_categorical=False)


# ------------------------------------------------------------------ admin
def test_admin_endpoints(client, emu):
    for i in range(5):
        post(client, body(i), key=f"k{i}")
    admin = httpx.Client(base_url=emu.url + "_emulator/", headers={"x-api-key": KEY})
    health = admin.get("health").json()
    assert health["status"] == "ok" and health["in_store"] == 5
    events = admin.get("events", params={"limit": 2, "offset": 1}).json()
    assert [e["transactionId"] for e in events] == ["call_1", "call_2"]
    assert len(admin.get("events").json()) == 5
    bad = admin.get("events", params={"limit": "-1", "kind": "nope"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"limit", "kind"}
    stats = admin.get("stats").json()
    assert stats["received"] == 5 and stats["stored"] == 5 and stats["responses"]["201"] == 5
    put = admin.put("faults", json={"error_rate": 0.25, "seed": 3})
    assert put.status_code == 200 and put.json()["error_rate"] == 0.25
    assert emu.faults.error_rate == 0.25
    assert admin.get("faults").json()["seed"] == 3
    invalid = admin.put("faults", json={"error_rate": 2, "bogus": 1})
    assert invalid.status_code == 400
    assert {e["field"] for e in invalid.json()["errors"]} == {"error_rate", "bogus"}
    assert admin.post("reset").status_code == 415  # a write needs Content-Type: application/json
    assert admin.post("reset", json={}).status_code == 200
    assert emu.records().empty and emu.stats()["received"] == 0
    admin.close()


def test_wait_for_and_events_paging(client, emu):
    for i in range(3):
        post(client, body(i))
    assert emu.wait_for(3, timeout=2) == 3
    assert [e["transactionId"] for e in emu.events(limit=1, offset=2)] == ["call_2"]


# ------------------------------------------------------------------ HTTP framing
def raw_exchange(port: int, data: bytes, read_until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
    return b"".join(chunks)


def test_pipelined_keep_alive_chunked_and_http10(emu, client):
    payload = json.dumps(body(9)).encode()
    other = json.dumps(body(19)).encode()  # another call (the same one would be deduplicated)
    one = (
        b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: "
        + KEY.encode()
        + b"\r\nContent-Length: %d\r\n\r\n" % len(payload)
        + payload
    )
    chunked = (
        b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: "
        + KEY.encode()
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % 10
        + other[:10]
        + b"\r\n"
        + b"%x\r\n" % (len(other) - 10)
        + other[10:]
        + b"\r\n0\r\n\r\n"
    )
    close = b"GET /_emulator/health HTTP/1.0\r\n\r\n"
    out = raw_exchange(emu.port, one + chunked + close)
    assert out.count(b"HTTP/1.1 201 Created") == 2
    assert out.count(b"HTTP/1.1 200 OK") == 1  # then the server closed (HTTP/1.0)
    assert len(emu.records()) == 2


def test_expect_continue(emu, client):
    payload = json.dumps(body(10)).encode()
    head = (
        b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: "
        + KEY.encode()
        + b"\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
        % len(payload)
    )
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as s:
        s.sendall(head)
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(payload)
        rest = b""
        while chunk := s.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 201")


@pytest.mark.parametrize(
    "garbage",
    [
        b"HELLO\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
        b"POST /meter/v2/ai/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /" + b"a" * 40_000 + b" HTTP/1.1\r\n\r\n",
    ],
)
def test_malformed_http_gets_4xx_or_5xx_protocol_answer(emu, client, garbage):
    out = raw_exchange(emu.port, garbage)
    status = int(out.split(b" ", 2)[1])
    assert status in (400, 404, 413, 431, 501, 505)
    assert emu.stats()["internal_errors"] == 0
