"""The emulator under hostile input (issue 9): each framing failure found by hand, the limits
and timeouts that bound a connection, strict UTF-8 bodies, and the guarded admin routes.

Each test here failed on the hand-written parser of commit dc15b4d (see the issue for the
observed behaviour); timeouts use small configured values, and no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time

import httpx
import pandas as pd
import pytest

from showcase_lib.emulator import Emulator, EmulatorServer, ServerOptions
from showcase_lib.emulator._protocol import (
    MAX_CHUNKS,
    MAX_TRAILER_BYTES,
    Hooks,
    HttpProtocol,
    HttpResponse,
    Limits,
)
from showcase_lib.emulator._server import _Writer
from showcase_lib.emulator._store import Pending, Store
from showcase_lib.wire import record_to_wire

KEY = "rev_test_hostile_" + "k" * 16


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
    }
    return {**record_to_wire(rec), **over}


@pytest.fixture(scope="module")
def emu():
    with Emulator(api_key=KEY) as e:
        yield e


@pytest.fixture()
def fresh(emu):
    emu.set_faults()
    emu.reset()
    return emu


def post_bytes(
    payload: bytes, extra: bytes = b"", path: bytes = b"/meter/v2/ai/completions"
) -> bytes:
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: "
        + KEY.encode()
        + b"\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(payload)
        + payload
    )


def exchange(port: int, data: bytes, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Send ``data``; read until the server closes. Returns (bytes read, closed by server)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return b"".join(chunks), False
            except ConnectionResetError:
                return b"".join(chunks), True
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)


def statuses(out: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", out)]


VALID = json.dumps(body(1)).encode()
HEALTH = b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


# ------------------------------------------------------------------ framing (llhttp)
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\nxx", id="unicode-digit-CL"),
        pytest.param(b"POST / HTTP/1.1\r\nContent-Length: \xc2\xb2\r\n\r\nxx", id="utf8-digit-CL"),
        pytest.param(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x16a\r\n", id="0x"),
        pytest.param(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+16a\r\n", id="plus"),
        pytest.param(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1_6b\r\n", id="underscore"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nX: a\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
            id="bare-LF-hides-TE",
        ),
    ],
)
def test_bad_framing_is_400_and_the_request_ahead_is_answered(fresh, bad):
    # old code: CL "²" raised inside the protocol (no answer, the pipelined request hung);
    # chunk sizes 0x16a/+16a/1_6b and the bare LF were accepted
    out, closed = exchange(fresh.port, post_bytes(VALID) + bad + HEALTH)
    assert statuses(out) == [201, 400], out[-300:]
    assert closed  # answered, then closed: nothing after a framing error is read
    assert fresh.stats()["internal_errors"] == 0


def test_gzip_then_chunked_is_rejected_not_silently_ignored(fresh):
    chunked = b"%x\r\n" % len(VALID) + VALID + b"\r\n0\r\n\r\n"
    head = b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: " + KEY.encode()
    out, closed = exchange(
        fresh.port, head + b"\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked
    )
    assert statuses(out) == [400] and closed
    assert fresh.records().empty


def test_unicode_digit_in_query_is_400_not_500(fresh):
    r = httpx.get(fresh.url + "_emulator/events?limit=%C2%B2", headers={"x-api-key": KEY})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "limit"
    assert fresh.stats()["internal_errors"] == 0


def test_an_upgrade_request_gets_a_plain_answer_then_close(fresh):
    upgrade = HEALTH.replace(b"\r\n\r\n", b"\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n")
    out, closed = exchange(fresh.port, upgrade + HEALTH)
    assert statuses(out) == [200] and closed


def test_blank_lines_before_a_request_are_ignored(fresh):
    out, _ = exchange(
        fresh.port, b"\r\n\r\n" + HEALTH.replace(b"1.1\r\n", b"1.1\r\nConnection: close\r\n", 1)
    )
    assert statuses(out) == [200]  # RFC 9112 section 2.2


def _protocol(
    limits: Limits | None = None, cls: type[HttpProtocol] = HttpProtocol
) -> tuple[HttpProtocol, list[bytes], list[int]]:
    """A protocol on a fake transport, fed by hand: what it writes, and whether it closed."""
    written: list[bytes] = []
    closed: list[int] = []

    class Transport:
        def write(self, data: bytes) -> None:
            written.append(data)

        def close(self) -> None:
            closed.append(1)

        abort = close

        def set_write_buffer_limits(self, high: int) -> None:
            pass

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

    def handler(req):
        return HttpResponse(200, b"{}")

    proto = cls(handler, limits or Limits(), Hooks())
    proto.connection_made(Transport())  # type: ignore[arg-type]
    return proto, written, closed


class _CountingProtocol(HttpProtocol):
    bodies = 0

    def on_body(self, body: bytes) -> None:
        type(self).bodies += 1
        super().on_body(body)


def test_a_million_one_byte_chunks_are_refused_after_max_chunks():
    # old code: 5.9 MB of 1-byte chunks took 31.6 s of server CPU (quadratic re-scanning)
    async def run() -> tuple[list[bytes], list[int]]:
        proto, written, closed = _protocol(cls=_CountingProtocol)
        head = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        proto.data_received(head + b"1\r\na\r\n" * 1_000_000)
        proto.data_received(b"1\r\na\r\n" * 1000)  # read no more once refused
        return written, closed

    written, closed = asyncio.run(run())
    assert written and written[0].startswith(b"HTTP/1.1 413")
    assert b"more than %d chunks" % MAX_CHUNKS in written[0]
    # parsing stopped at the limit (measured in chunks, not seconds)
    assert closed and _CountingProtocol.bodies == MAX_CHUNKS


def test_chunked_trailers_are_limited():
    async def run() -> list[bytes]:
        proto, written, _ = _protocol()
        trailers = b"".join(b"T%d: %s\r\n" % (i, b"v" * 100) for i in range(40_000))  # ~4 MB
        proto.data_received(
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n" + trailers
        )
        return written

    written = asyncio.run(run())
    assert written[0].startswith(b"HTTP/1.1 431")
    assert b"trailers are larger than %d bytes" % MAX_TRAILER_BYTES in written[0]


def test_small_trailers_are_accepted(fresh):
    head = b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: " + KEY.encode()
    data = (
        head
        + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"%x\r\n" % len(VALID)
        + VALID
        + b"\r\n0\r\nX-Checksum: abc\r\n\r\n"
    )
    out, closed = exchange(fresh.port, data)
    assert statuses(out) == [201] and closed


def test_head_sent_in_pieces_is_limited():
    async def run() -> list[bytes]:
        proto, written, _ = _protocol()
        proto.data_received(b"GET / HTTP/1.1\r\nX-Long: ")
        for _ in range(40):
            proto.data_received(b"a" * 1024)
        return written

    assert asyncio.run(run())[0].startswith(b"HTTP/1.1 431")


# ------------------------------------------------------------------ timeouts, cap, backpressure
@pytest.fixture()
def tight():
    options = ServerOptions(
        header_timeout_s=0.3, body_timeout_s=0.3, keep_alive_timeout_s=0.3, max_connections=3
    )
    with Emulator(api_key=KEY, options=options) as e:
        yield e


def test_header_timeout_answers_408_and_closes(tight):
    # old code: 200 slowloris connections all stayed open
    out, closed = exchange(tight.port, b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\n")
    assert statuses(out) == [408] and closed
    assert b"request head did not arrive within 0.3 s" in out


def test_body_timeout_answers_408_and_closes(tight):
    out, closed = exchange(tight.port, post_bytes(VALID)[:-10])
    assert statuses(out) == [408] and closed


def test_idle_keep_alive_connection_is_closed(tight):
    # old code: an idle socket stayed open forever
    out, closed = exchange(tight.port, HEALTH)
    assert statuses(out) == [200] and closed  # answered, kept alive, then closed when idle


def test_connection_cap_answers_503(tight):
    held = [socket.create_connection(("127.0.0.1", tight.port), timeout=5) for _ in range(3)]
    try:
        for s in held:  # make sure each is accepted before the next one
            s.sendall(HEALTH)
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        out, closed = exchange(tight.port, HEALTH)
        assert statuses(out) == [503] and closed
        assert b"limit of 3 connections" in out
    finally:
        for s in held:
            s.close()


def test_write_backpressure_stops_answering_a_client_that_does_not_read(fresh):
    # old code: 150 pipelined GET /_emulator/events from a non-reader grew RSS 191 -> 291 MB
    with httpx.Client(base_url=fresh.base_url, headers={"x-api-key": KEY}) as c:
        big = body(0, middleware_source="x" * 4000)
        for i in range(200):  # ~1 MB of events per answer
            c.post("v2/ai/completions", json={**big, "transactionId": f"t{i}"})
    fresh.server.reset_stats()
    get = (
        b"GET /_emulator/events HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: "
        + KEY.encode()
        + b"\r\n\r\n"
    )
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    s.settimeout(10)
    s.connect(("127.0.0.1", fresh.port))
    try:
        s.sendall(get * 150)
        time.sleep(1.0)  # let the server run ahead as far as it will
        answered = fresh.stats()["responses"].get("200", 0)
        assert answered < 30, answered  # paused at the write buffer's high-water mark
        s.settimeout(2)
        with contextlib.suppress(TimeoutError):
            while s.recv(1 << 20):  # now read: every answer arrives
                pass
    finally:
        s.close()
    assert fresh.stats()["responses"]["200"] == 150


# ------------------------------------------------------------------ bodies: strict UTF-8 JSON
def test_utf8_bom_is_accepted_and_stored_without_it(fresh):
    r = httpx.post(
        fresh.completions_url, content=b"\xef\xbb\xbf" + VALID, headers={"x-api-key": KEY}
    )
    assert r.status_code == 201
    assert fresh.events()[0]["transactionId"] == "call_1"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (VALID.decode().encode("utf-16"), "not UTF-8 (it looks UTF-16"),
        (VALID.decode().encode("utf-16-le"), "NUL byte"),
        (VALID.decode().encode("utf-32"), "UTF-32"),
        (VALID.replace(b"gpt", b"\xe9pt"), "byte 0xe9"),
    ],
)
def test_other_encodings_are_400_naming_the_problem(fresh, content, words):
    # old code: a UTF-16 body was stored undecoded; /_emulator/events then returned bad JSON
    r = httpx.post(fresh.completions_url, content=content, headers={"x-api-key": KEY})
    assert r.status_code == 400 and r.json()["error"] == "invalid_encoding"
    assert words in r.json()["message"]
    assert fresh.events() == []


def test_lone_surrogate_is_400_naming_the_field_and_paired_ones_pass(fresh):
    bad = VALID.replace(b'"call_1"', b'"call\\ud800"')
    r = httpx.post(fresh.completions_url, content=bad, headers={"x-api-key": KEY})
    assert r.status_code == 400 and r.json()["error"] == "invalid_encoding"
    assert "transactionId holds a lone surrogate" in r.json()["message"]
    audio = httpx.post(
        fresh.base_url + "v2/ai/audio",
        content=b'{"transactionId": "\\ud800"}',
        headers={"x-api-key": KEY},
    )
    assert audio.status_code == 400 and "lone surrogate" in audio.json()["message"]  # was 500
    good = VALID.replace(b'"call_1"', b'"call\\ud83d\\ude00"')
    assert (
        httpx.post(fresh.completions_url, content=good, headers={"x-api-key": KEY}).status_code
        == 201
    )
    assert fresh.events()[0]["transactionId"] == "call\U0001f600"


def test_bad_bodies_never_fail_concurrent_valid_ones(fresh):
    # old code: a transactionId holding \ud800 gave 500 and failed its whole group commit
    # (24-39 of 40 concurrent valid requests got 500)
    async def run() -> list[int]:
        async with httpx.AsyncClient(headers={"x-api-key": KEY}, timeout=30) as client:

            async def send(i: int) -> int:
                url = fresh.completions_url
                content = json.dumps(body(i)).encode()
                if i % 5 == 0:  # the sibling endpoints check no field: straight to the store
                    url = fresh.base_url + "v2/ai/audio"
                    content = b'{"transactionId": "\\udc00call_%d"}' % i
                r = await client.post(url, content=content, headers={"Idempotency-Key": f"k{i}"})
                return r.status_code

            return await asyncio.gather(*(send(i) for i in range(50)))

    codes = asyncio.run(run())
    assert [c for i, c in enumerate(codes) if i % 5] == [201] * 40
    assert [c for i, c in enumerate(codes) if i % 5 == 0] == [400] * 10
    assert len(fresh.records()) == 40
    events = httpx.get(fresh.url + "_emulator/events", headers={"x-api-key": KEY})
    assert len(events.json()) == 40  # valid JSON


def test_a_store_failure_fails_only_the_bad_record(tmp_path):
    async def run() -> list[str]:
        from concurrent.futures import ThreadPoolExecutor

        executor = ThreadPoolExecutor(1)
        store = await asyncio.get_running_loop().run_in_executor(executor, Store, tmp_path / "s.db")
        writer = _Writer(store, executor)
        ok = Pending("completion", None, "h", '{"a":1}', "t1", "{}", "r1", time.time())
        bad = ok._replace(transaction_id="\ud800", response_id="r2")  # sqlite cannot encode it
        third = ok._replace(transaction_id="t3", response_id="r3")
        futures = [writer.submit(it) for it in (ok, bad, third)]
        done = await asyncio.gather(*futures, return_exceptions=True)
        await writer.close()
        executor.submit(store.close).result()
        executor.shutdown()
        return [d.outcome if not isinstance(d, BaseException) else "error" for d in done]

    assert asyncio.run(run()) == ["stored", "error", "stored"]


# ------------------------------------------------------------------ admin routes
ADMIN_READS = ["events", "stats", "faults"]


def test_admin_routes_need_the_key_but_health_does_not(fresh):
    httpx.post(fresh.completions_url, content=VALID, headers={"x-api-key": KEY})
    for route in ADMIN_READS:
        r = httpx.get(fresh.url + "_emulator/" + route)
        assert r.status_code == 401, route
        wrong = httpx.get(fresh.url + "_emulator/" + route, headers={"x-api-key": "nope"})
        assert wrong.status_code == 401, route
    json_ct = {"Content-Type": "application/json"}
    assert httpx.post(fresh.url + "_emulator/reset", headers=json_ct).status_code == 401
    assert httpx.put(fresh.url + "_emulator/faults", json={"outage": True}).status_code == 401
    health = httpx.get(fresh.url + "_emulator/health").json()
    assert set(health) == {"status", "uptime_s"}  # no data without the key
    keyed = httpx.get(fresh.url + "_emulator/health", headers={"x-api-key": KEY}).json()
    assert keyed["in_store"] == 1
    assert len(fresh.records()) == 1 and not fresh.faults.outage


def test_cross_origin_and_simple_requests_cannot_reach_admin_writes(fresh):
    # old code: a cross-origin text/plain POST to /_emulator/reset wiped 122 records
    httpx.post(fresh.completions_url, content=VALID, headers={"x-api-key": KEY})
    url = fresh.url + "_emulator/"
    evil = {"x-api-key": KEY, "Origin": "http://evil.example", "Content-Type": "application/json"}
    assert httpx.post(url + "reset", headers=evil).status_code == 403
    assert httpx.get(url + "events", headers=evil).status_code == 403
    plain = {"x-api-key": KEY, "Content-Type": "text/plain"}
    assert httpx.post(url + "reset", content=b"{}", headers=plain).status_code == 415
    assert httpx.post(url + "faults", content=b'{"outage": true}', headers=plain).status_code == 415
    rebinding = {"x-api-key": KEY, "Host": f"evil.example:{fresh.port}"}
    assert httpx.get(url + "events", headers=rebinding).status_code == 403
    own = {"x-api-key": KEY, "Origin": f"http://127.0.0.1:{fresh.port}"}
    assert httpx.get(url + "events", headers=own).status_code == 200
    assert len(fresh.records()) == 1 and not fresh.faults.outage
    fresh.reset()  # the runner sends the key and JSON
    assert fresh.records().empty


def test_binding_beyond_loopback_is_warned_about(tmp_path, caplog):
    server = EmulatorServer(
        api_key=KEY, db_path=str(tmp_path / "w.db"), options=ServerOptions(host="192.0.2.1")
    )

    async def run() -> None:
        with pytest.raises(OSError):  # TEST-NET: not an address of this machine
            await server.start()

    with caplog.at_level(logging.WARNING, logger="showcase_lib.emulator"):
        asyncio.run(run())
    assert "beyond loopback" in caplog.text


def test_process_mode_admin_calls_send_the_key(tmp_path):
    with Emulator(api_key=KEY, db_path=tmp_path / "p.db", process=True) as emu:
        assert (
            httpx.post(emu.completions_url, content=VALID, headers={"x-api-key": KEY}).status_code
            == 201
        )
        assert emu.stats()["stored"] == 1
        emu.set_faults(error_rate=0.5)
        assert emu.faults.error_rate == 0.5
        emu.reset()
        assert emu.stats()["received"] == 0
        assert httpx.get(emu.url + "_emulator/stats").status_code == 401


def test_many_slow_connections_do_not_stall_health(tight):
    del tight  # uses its own server: header timeout 0.3 s, cap 3
    options = ServerOptions(header_timeout_s=0.3, max_connections=50)
    with Emulator(api_key=KEY, options=options) as emu:
        socks = []
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", emu.port), timeout=5)
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        closed = 0
        for s in socks:
            data = s.recv(65536)
            closed += data.startswith(b"HTTP/1.1 408")
            s.close()
        assert closed == 40
        assert httpx.get(emu.url + "_emulator/health").status_code == 200
