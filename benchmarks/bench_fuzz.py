"""Raw-socket fuzz of the emulator: malformed HTTP framing, headers, chunks, bodies, encodings,
truncations and pipelining, against a server in its own process on loopback.

Every case is one connection: the bytes are written, the write side is closed (so a
truncated request ends in EOF, not a wait), and everything the server sends is read until it
closes. A case is *hung* when the server neither answers nor closes within ``--case-timeout``.
Prints the answers by status, the 5xx count (must be 0: malformed input is the client's error,
a 4xx, whatever it is; an unknown transfer coding too), the hung connections (must be 0),
the server's own ``internal_errors`` counter and its RSS before and after.

Usage:
    .venv/bin/python benchmarks/bench_fuzz.py --cases 12000 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
import urllib.request
from collections import Counter
from collections.abc import Callable

import psutil

from showcase_lib.emulator import Emulator
from showcase_lib.wire import record_to_wire

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
#: Connections in flight at once: enough to keep both cores busy, far below the server's cap.
CONCURRENCY = 32


def _valid_body(rng: random.Random) -> bytes:
    rec = {
        "timestamp": "2026-01-01T00:00:00Z",
        "call_id": f"call_{rng.randrange(10**6)}",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": rng.randrange(5000),
        "output_tokens": rng.randrange(2000),
        "cost_usd": 0.001,
        "latency_ms": 300,
    }
    import pandas as pd

    rec["timestamp"] = pd.Timestamp(rec["timestamp"])
    return json.dumps(record_to_wire(rec)).encode()


class Cases:
    """A seeded generator of malformed requests (each a ``bytes`` for one connection)."""

    def __init__(self, key: str, seed: int):
        self.key = key.encode()
        self.rng = random.Random(seed)
        self.body = _valid_body(self.rng)
        self.kinds: list[tuple[str, Callable[[], bytes]]] = [
            ("request_line", self.request_line),
            ("headers", self.headers),
            ("content_length", self.content_length),
            ("chunks", self.chunks),
            ("transfer_encoding", self.transfer_encoding),
            ("body", self.bad_body),
            ("admin", self.admin),
            ("truncated", self.truncated),
            ("pipelined", self.pipelined),
            ("random_bytes", self.random_bytes),
        ]

    def valid(self, body: bytes | None = None, extra: bytes = b"") -> bytes:
        body = self.body if body is None else body
        return (
            b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: "
            + self.key
            + b"\r\nContent-Type: application/json\r\n"
            + extra
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )

    def pick(self) -> tuple[str, bytes]:
        name, make = self.rng.choice(self.kinds)
        return name, make()

    def _junk(self, n: int) -> bytes:
        return bytes(self.rng.randrange(256) for _ in range(n))

    def request_line(self) -> bytes:
        r = self.rng
        method = r.choice([b"GET", b"POST", b"PUT", b"G\x00T", b"", b"P OST", b"CONNECT", b"get"])
        target = r.choice(
            [
                b"/meter/v2/ai/completions",
                b"*",
                b"http://x/meter/v2/ai/completions",
                b"/\xff\xfe",
                b"/" + b"a" * r.choice([10, 40_000]),
                b"/_emulator/events?limit=%C2%B2",
                b"",
                b"/a b",
            ]
        )
        version = r.choice([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9.9", b"HTTP/1", b"http/1.1", b""])
        sep = r.choice([b" ", b"  ", b"\t"])
        eol = r.choice([b"\r\n", b"\n", b"\r"])
        return method + sep + target + sep + version + eol + b"Host: x" + eol + eol

    def headers(self) -> bytes:
        r = self.rng
        bad = r.choice(
            [
                b"no colon\r\n",
                b"X : a\r\n",
                b"X: a\nTransfer-Encoding: chunked\r\n",
                b"X: a\r\n b\r\n",
                b"X: \x00\r\n",
                b"X-\xff: y\r\n",
                b"X: " + b"v" * 40_000 + b"\r\n",
                b"".join(b"H%d: v\r\n" % i for i in range(200)),
                b"Expect: 100-continue\r\n",
                b"Expect: \xff\r\n",
                b"Connection: close, keep-alive, upgrade\r\nUpgrade: h2c\r\n",
                b"x-api-key: \xc2\xb2\r\n",
                b"Idempotency-Key: "
                + self._junk(20).replace(b"\r", b"").replace(b"\n", b"")
                + b"\r\n",
            ]
        )
        return self.valid(extra=bad)

    def content_length(self) -> bytes:
        r = self.rng
        value = r.choice(
            [
                b"\xc2\xb2",
                b"-1",
                b"+5",
                b"0x10",
                b"1_0",
                b" 5 ",
                b"99999999999999999999",
                b"5, 6",
                b"",
                b"abc",
            ]
        )
        dup = r.random() < 0.3
        head = (
            b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: " + self.key + b"\r\n"
        )
        head += b"Content-Length: " + value + b"\r\n"
        if dup:
            head += b"Content-Length: %d\r\n" % len(self.body)
        return head + b"\r\n" + self.body

    def _chunked_head(self) -> bytes:
        return (
            b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: "
            + self.key
            + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        )

    def chunks(self) -> bytes:
        r = self.rng
        body = self.body
        size = len(body)
        variant = r.randrange(9)
        if variant == 0:
            framing = r.choice([b"0x%x", b"+%x", b"%x_", b" %x", b"%X;ext=\xff", b"-%x"]) % size
            return self._chunked_head() + framing + b"\r\n" + body + b"\r\n0\r\n\r\n"
        if variant == 1:  # many tiny chunks
            n = r.choice([100, 20_000])
            return self._chunked_head() + b"1\r\na\r\n" * n + b"0\r\n\r\n"
        if variant == 2:  # chunk data longer than declared
            return self._chunked_head() + b"%x\r\n" % (size - 5) + body + b"\r\n0\r\n\r\n"
        if variant == 3:  # missing CRLF after data
            return self._chunked_head() + b"%x\r\n" % size + body + b"0\r\n\r\n"
        if variant == 4:  # large trailers
            trailers = b"".join(b"T%d: %s\r\n" % (i, b"v" * 100) for i in range(r.choice([5, 500])))
            return (
                self._chunked_head() + b"%x\r\n" % size + body + b"\r\n0\r\n" + trailers + b"\r\n"
            )
        if variant == 5:  # huge declared size
            return self._chunked_head() + b"fffffffffffffffff\r\n" + body
        if variant == 6:  # chunk extension junk
            return (
                self._chunked_head() + b"%x;%s\r\n" % (size, b"e" * 3000) + body + b"\r\n0\r\n\r\n"
            )
        if variant == 7:  # bare LF in chunk framing
            return self._chunked_head() + b"%x\n" % size + body + b"\n0\n\n"
        return self._chunked_head() + b"%x\r\n" % size + body + b"\r\n0\r\n\r\n"  # valid

    def transfer_encoding(self) -> bytes:
        te = self.rng.choice(
            [
                b"gzip, chunked",
                b"chunked, gzip",
                b"CHUNKED",
                b"chunked ",
                b"identity",
                b"gzip",
                b"chunked, chunked",
                b"\xffchunked",
            ]
        )
        cl = b"Content-Length: 3\r\n" if self.rng.random() < 0.3 else b""
        size = len(self.body)
        return (
            b"POST /meter/v2/ai/completions HTTP/1.1\r\nHost: x\r\nx-api-key: "
            + self.key
            + b"\r\nTransfer-Encoding: "
            + te
            + b"\r\n"
            + cl
            + b"\r\n"
            + b"%x\r\n" % size
            + self.body
            + b"\r\n0\r\n\r\n"
        )

    def bad_body(self) -> bytes:
        r = self.rng
        text = self.body.decode()
        variant = r.randrange(10)
        if variant == 0:
            body = text.encode(r.choice(["utf-16", "utf-16-le", "utf-32", "utf-16-be"]))
        elif variant == 1:
            body = text.replace('"call_', '"\\ud800call_').encode()
        elif variant == 2:
            body = text.replace('"openai"', '"\\udfff"').encode()
        elif variant == 3:
            body = b"\xef\xbb\xbf" + self.body  # a BOM: fine
        elif variant == 4:
            body = self.body.replace(b"gpt", b"\xe9\xff")
        elif variant == 5:
            body = b"[" * r.choice([100, 100_000]) + b"]" * 10
        elif variant == 6:
            body = text.replace('"inputTokenCount": ', '"inputTokenCount": 1e999').encode()
        elif variant == 7:
            body = self.body[: r.randrange(len(self.body))]
        elif variant == 8:
            body = self._junk(r.randrange(1, 2000))
        else:
            body = json.dumps({"a": [None, 1.5, "x" * 1000, {"\\ud800": 1}]}).encode()
        return self.valid(body=body)

    def admin(self) -> bytes:
        r = self.rng
        path = r.choice(
            [
                b"/_emulator/events?limit=%C2%B2",
                b"/_emulator/events?offset=-1&kind=nope",
                b"/_emulator/events?limit=99999999999999999999",
                b"/_emulator/stats",
                b"/_emulator/faults",
                b"/_emulator/reset",
                b"/_emulator/health",
            ]
        )
        method = r.choice([b"GET", b"POST", b"PUT", b"DELETE"])
        key = r.choice([b"x-api-key: " + self.key + b"\r\n", b"", b"x-api-key: wrong\r\n"])
        origin = r.choice([b"", b"Origin: http://evil.example\r\n", b"Origin: null\r\n"])
        ctype = r.choice(
            [b"", b"Content-Type: text/plain\r\n", b"Content-Type: application/json\r\n"]
        )
        # never a successful reset or outage: the fuzz must not switch its own target off
        body = r.choice([b"{}", b'{"error_rate": 2}', b"\xff", b'{"bogus": 1}'])
        if path in (b"/_emulator/reset", b"/_emulator/faults") and key.endswith(self.key + b"\r\n"):
            key = b"x-api-key: wrong\r\n"
        return (
            method
            + b" "
            + path
            + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + key
            + origin
            + ctype
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )

    def truncated(self) -> bytes:
        whole = self.rng.choice([self.valid(), self.chunks(), self.headers()])
        return whole[: self.rng.randrange(1, len(whole))]

    def pipelined(self) -> bytes:
        _, make = self.rng.choice(self.kinds[:6])
        return self.valid() + make() + self.valid()

    def random_bytes(self) -> bytes:
        return self._junk(self.rng.randrange(1, 3000))


async def _one(port: int, data: bytes, timeout: float) -> tuple[list[int], bool]:
    """Send one case; return the statuses answered and whether the connection hung."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return [], False
    out = bytearray()
    hung = False
    try:
        writer.write(data)
        try:
            await writer.drain()
            writer.write_eof()
        except OSError:  # the server answered and closed while we were still writing
            pass
        try:
            async with asyncio.timeout(timeout):
                while chunk := await reader.read(65536):
                    out += chunk
        except TimeoutError:
            hung = True
        except OSError:
            pass
    finally:
        writer.close()
    return [int(s) for s in _STATUS.findall(bytes(out))], hung


def _stats(emu: Emulator) -> dict:
    req = urllib.request.Request(emu.url + "_emulator/stats", headers={"x-api-key": emu.api_key})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as resp:
        return json.loads(resp.read())


async def fuzz(emu: Emulator, args: argparse.Namespace) -> tuple[Counter, Counter, list, int]:
    cases = Cases(emu.api_key, args.seed)
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    hung: list[tuple[str, bytes]] = []
    sent = 0
    deadline = time.monotonic() + args.time_limit
    sem = asyncio.Semaphore(CONCURRENCY)

    async def run(name: str, data: bytes) -> None:
        async with sem:
            codes, was_hung = await _one(emu.port, data, args.case_timeout)
        statuses.update(codes)
        if was_hung:
            hung.append((name, data[:200]))

    tasks = []
    while sent < args.cases and time.monotonic() < deadline:
        name, data = cases.pick()
        kinds[name] += 1
        sent += 1
        tasks.append(asyncio.create_task(run(name, data)))
        if len(tasks) >= 4 * CONCURRENCY:
            await asyncio.gather(*tasks)
            tasks.clear()
    await asyncio.gather(*tasks)
    return statuses, kinds, hung, sent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=12_000, help="malformed requests to send")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=300.0, help="stop sending after this")
    p.add_argument(
        "--case-timeout",
        type=float,
        default=15.0,
        help="a case is hung if the server neither answers nor closes within this (s)",
    )
    args = p.parse_args()
    with Emulator(process=True) as emu:  # its own process, 127.0.0.1 only
        server = psutil.Process(emu.pid)
        rss0 = server.memory_info().rss
        cpu0 = server.cpu_times()
        t0 = time.perf_counter()
        statuses, kinds, hung, sent = asyncio.run(fuzz(emu, args))
        elapsed = time.perf_counter() - t0
        cpu1 = server.cpu_times()
        rss1 = server.memory_info().rss
        stats = _stats(emu)
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    server_faults = sum(n for s, n in statuses.items() if s >= 500)
    print(
        f"cases sent: {sent:,} in {elapsed:.1f} s (server CPU {cpu:.1f} s); by kind: {dict(sorted(kinds.items()))}"
    )
    print(f"answers by status: {dict(sorted(statuses.items()))}")
    print(
        f"5xx answers: {server_faults}; server internal_errors counter: {stats['internal_errors']}"
    )
    print(f"hung connections: {len(hung)}")
    for name, head in hung[:5]:
        print(f"  hung {name}: {head!r}")
    print(f"server RSS: {rss0 / 2**20:.1f} MiB before, {rss1 / 2**20:.1f} MiB after")
    assert server_faults == 0 and stats["internal_errors"] == 0 and not hung


if __name__ == "__main__":
    main()
