"""Real clients against the emulator: hypothesis fuzzing (garbage never gives a 500), the
official Revenium SDK, the command line, and the subprocess mode."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showcase_lib.emulator import Emulator, ServerOptions
from showcase_lib.wire import record_to_wire

KEY = "rev_clients_test_" + "k" * 16
VALID = record_to_wire(
    {
        "timestamp": pd.Timestamp("2026-01-01T00:00:00Z"),
        "call_id": "c0",
        "provider": "google",
        "model": "gemini-1.5-flash",
        "input_tokens": 5,
        "output_tokens": 6,
        "latency_ms": 70,
        "customer_id": "cust_1",
        "cost_usd": 0.5,
        "status": "success",
    }
)


@pytest.fixture(scope="module")
def emu():
    with Emulator(api_key=KEY, options=ServerOptions(max_body_bytes=64 * 1024)) as e:
        yield e


@pytest.fixture(scope="module")
def client(emu):
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": KEY}, timeout=10) as c:
        yield c


# ------------------------------------------------------------------ fuzzing
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(json_values)
def test_fuzz_random_json_bodies(client, emu, value):
    r = client.post("v2/ai/completions", json=value)
    assert r.status_code == 400, r.text
    assert r.json()["error"] in ("validation_failed", "invalid_json")


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(client, value):
    r = client.post("v2/ai/completions", content=value)
    assert r.status_code in (201, 400)  # 201 only if the bytes happen to be a valid body


@FUZZ
@given(
    st.sampled_from(sorted(VALID)),
    json_values | st.integers(min_value=2**63) | st.text(min_size=200, max_size=400),
)
def test_fuzz_one_field_of_a_valid_body(client, field, value):
    body = {**VALID, field: value, "transactionId": str(uuid.uuid4())}
    if field == "transactionId":
        body[field] = value
    r = client.post("v2/ai/completions", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code in (201, 400), r.text
    if r.status_code == 400:
        assert r.json()["errors"]


@FUZZ
@given(
    st.text(max_size=300),
    st.sampled_from(["x-api-key", "Idempotency-Key", "Content-Type", "Expect"]),
)
def test_fuzz_header_values(client, value, header):
    try:
        headers = {header: value.encode("utf-8")}
    except UnicodeEncodeError:
        return
    try:
        r = client.post(
            "v2/ai/completions", json={**VALID, "transactionId": str(uuid.uuid4())}, headers=headers
        )
    except httpx.LocalProtocolError:
        return  # a header value httpx itself refuses to send
    assert r.status_code in (201, 400, 401, 409, 417), r.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(min_size=1, max_size=500))
def test_fuzz_raw_socket_bytes(emu, data):
    with socket.create_connection(("127.0.0.1", emu.port), timeout=2) as s:
        s.sendall(data + b"\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        try:
            out = s.recv(200)
        except (TimeoutError, ConnectionResetError):
            out = b""
    if out:
        status = int(out.split(b" ", 2)[1])
        assert status < 500, out


def test_huge_values_and_deep_nesting(client):
    deep = "[" * 30_000 + "]" * 30_000  # under the 64 KiB limit, over the recursion limit
    r = client.post("v2/ai/completions", content=deep.encode())
    assert r.status_code == 400
    huge_int = {**VALID, "inputTokenCount": 10**40}
    assert client.post("v2/ai/completions", json=huge_int).status_code == 400
    r = client.post("v2/ai/completions", content=b'{"x": 1e999999}')
    assert r.status_code == 400
    r = client.post("v2/ai/completions", content=b'{"x": ' + b"9" * 5000 + b"}")
    assert r.status_code == 400


def test_fuzzing_never_caused_an_internal_error(emu):
    stats = emu.stats()
    assert stats["internal_errors"] == 0
    assert "500" not in stats["responses"]


# ------------------------------------------------------------------ the official SDK
def test_official_sdk_meters_successfully(emu):
    from revenium_middleware._metering import (
        AuthenticationError,
        BadRequestError,
        ReveniumMetering,
    )

    before = len(emu.events())
    # the SDK appends /meter/ itself to a bare host
    sdk = ReveniumMetering(api_key=KEY, base_url=emu.url.rstrip("/"), max_retries=0)
    assert sdk.base_url == emu.base_url
    result = sdk.ai.create_completion(
        completion_start_time="2026-01-01T00:00:01Z",
        cost_type="AI",
        input_token_count=10,
        is_streamed=False,
        model="gpt-4o",
        output_token_count=5,
        provider="OPENAI",
        request_duration=1000,
        request_time="2026-01-01T00:00:00Z",
        response_time="2026-01-01T00:00:01Z",
        stop_reason="END",
        total_token_count=15,
        transaction_id="sdk-1",
        subscriber={"id": "cust_9"},
        organization_name="acme",
        product_name="assist",
        task_type="qa",
        agent="chat",
        total_cost=0.01,
        operation_type="CHAT",
        extra_headers={"Idempotency-Key": "sdk-key-1"},
    )
    assert result.resource_type == "metering" and result.id
    events = emu.events()
    assert len(events) == before + 1
    rec = emu.records().iloc[-1]
    assert (rec["call_id"], rec["provider"], rec["customer_id"], rec["status"]) == (
        "sdk-1",
        "openai",
        "cust_9",
        "success",
    )
    # the smallest valid completion the SDK sends; each call below changes one thing of it
    minimal = {
        "completion_start_time": "2026-01-01T00:00:01Z",
        "cost_type": "AI",
        "input_token_count": 1,
        "is_streamed": False,
        "model": "m",
        "output_token_count": 1,
        "provider": "OpenAI",
        "request_duration": 1,
        "request_time": "2026-01-01T00:00:00Z",
        "response_time": "2026-01-01T00:00:01Z",
        "stop_reason": "END",
        "total_token_count": 2,
    }
    with pytest.raises(BadRequestError):
        sdk.ai.create_completion(
            **{**minimal, "completion_start_time": "bad"}, transaction_id="sdk-2"
        )
    bad_key = ReveniumMetering(api_key="rev_wrong", base_url=emu.base_url, max_retries=0)
    with pytest.raises(AuthenticationError):
        bad_key.ai.create_completion(**minimal, transaction_id="sdk-3")


# ------------------------------------------------------------------ the command line
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serves_and_stops_cleanly(tmp_path):
    port = free_port()
    db = tmp_path / "cli.sqlite"
    cli_key = "rev_cli_" + uuid.uuid4().hex
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "showcase_lib.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            cli_key,
            "--db",
            str(db),
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = json.loads(proc.stdout.readline())
        assert line["event"] == "listening" and line["port"] == port
        assert line["base_url"] == f"http://127.0.0.1:{port}/meter/"
        assert httpx.get(f"http://127.0.0.1:{port}/_emulator/health").json()["status"] == "ok"
        r = httpx.post(
            line["base_url"] + "v2/ai/completions",
            json=VALID,
            headers={"x-api-key": cli_key, "Idempotency-Key": "cli-1"},
        )
        assert r.status_code == 201
        events_url = f"http://127.0.0.1:{port}/_emulator/events"
        assert httpx.get(events_url).status_code == 401  # the admin read-out needs the key
        events = httpx.get(events_url, headers={"x-api-key": cli_key}).json()
        assert [e["transactionId"] for e in events] == ["c0"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert cli_key.encode() not in out + err
    assert b"--api-key is visible" in err  # the command-line key is warned about
    assert db.exists()


def test_cli_refuses_bad_settings():
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "showcase_lib.emulator",
            "--port",
            "0",
            "--api-key",
            "k",
            "--error-rate",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2 and "error_rate" in run.stderr
    env = {k: v for k, v in os.environ.items() if k != "SHOWCASE_EMULATOR_API_KEY"}
    run = subprocess.run(
        [sys.executable, "-m", "showcase_lib.emulator", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert run.returncode == 2 and "--api-key" in run.stderr


# ------------------------------------------------------------------ subprocess mode
def test_process_mode_behaves_like_thread_mode(tmp_path):
    db = tmp_path / "proc.sqlite"
    with Emulator(api_key=KEY, db_path=db, process=True) as emu:
        assert emu.pid != os.getpid() and emu.server is None
        url, headers = emu.completions_url, {"x-api-key": KEY, "Idempotency-Key": "p-1"}
        assert httpx.post(url, json=VALID, headers=headers).status_code == 201
        assert httpx.post(url, json=VALID, headers=headers).status_code == 201  # duplicate
        emu.set_faults(error_rate=1.0, error_codes=[503])
        assert emu.faults.error_rate == 1.0
        assert httpx.post(url, json=VALID, headers={"x-api-key": KEY}).status_code == 503
        stats = emu.stats()
        assert (stats["stored"], stats["duplicates"], stats["faults"]["error"]) == (1, 1, 1)
        port = emu.port
        emu.restart()
        assert emu.port == port and emu.faults.error_rate == 1.0
        emu.set_faults()
        assert httpx.post(url, json=VALID, headers=headers).json()["resourceType"] == "metering"
        assert emu.records()["call_id"].tolist() == ["c0"]
        assert KEY not in repr(emu)
