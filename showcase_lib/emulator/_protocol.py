"""A lean HTTP/1.1 server on ``asyncio.Protocol``: keep-alive, pipelining, Content-Length and
chunked bodies, ``Expect: 100-continue``, size limits. Just enough HTTP for the emulator.

Why not aiohttp.web? Measured on the 2-core build machine, aiohttp.web spent ~90 us of server
CPU per trivial request and this protocol ~35 us; the emulator must sustain 10,000 metering
requests/s while sharing the machine with the client. Handlers may answer synchronously (the
fast path: no task per request) or return an awaitable.

Example:
    >>> import asyncio, httpx
    >>> async def demo():
    ...     def handler(req):
    ...         return HttpResponse(200, b'{"path": "%s"}' % req.path.encode())
    ...     server = await start_server(handler, "127.0.0.1", 0)
    ...     port = server.sockets[0].getsockname()[1]
    ...     async with httpx.AsyncClient() as client:
    ...         r = await client.get(f"http://127.0.0.1:{port}/hello?x=1")
    ...     server.close()
    ...     return r.status_code, r.json()
    >>> asyncio.run(demo())
    (200, {'path': '/hello'})
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

log = logging.getLogger("showcase_lib.emulator.protocol")

MAX_HEAD_BYTES: Final = 32 * 1024
#: A too-large body with a Content-Length up to this size is read and discarded so the client
#: can read the 413; beyond it the connection is closed after the answer.
MAX_DISCARD_BYTES: Final = 64 * 1024 * 1024
_TOKEN: Final = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_REASONS: Final[dict[int, bytes]] = {s.value: s.phrase.encode() for s in HTTPStatus}


@dataclass(slots=True)
class HttpRequest:
    """One parsed request. Header names are lower case; values are latin-1 text."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""
    keep_alive: bool = True


@dataclass(slots=True)
class HttpResponse:
    """An answer: status, body bytes, extra headers (Content-Length/Connection are added)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    close: bool = False  # close the connection after sending


class Drop:
    """Answer nothing and abort the connection (a "dropped connection" fault)."""


DROP: Final = Drop()

HandlerResult = HttpResponse | Drop | Awaitable[HttpResponse | Drop]
Handler = Callable[[HttpRequest], HandlerResult]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(error: str, message: str) -> bytes:
    import json

    return json.dumps({"error": error, "message": message}).encode()


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the owner of a server learns from its connections.

    ``connections`` is kept up to date with the open connections (so the owner can close
    them at shutdown); ``on_error(status, path)`` is told about requests the protocol itself
    rejects (malformed HTTP, a head or body over the limits), which never reach the handler.
    """

    connections: set[HttpProtocol] = field(default_factory=set)
    on_error: Callable[[int, str], None] | None = None


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered in order, one at a time."""

    def __init__(self, handler: Handler, max_body_bytes: int, hooks: Hooks):
        self._handler = handler
        self._on_error = hooks.on_error
        self._max_body = max_body_bytes
        self._connections = hooks.connections
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False
        self._paused = False
        self._discard = 0  # bytes of an oversized body still to swallow
        self._after_discard: tuple[HttpRequest, HttpResponse] | None = None
        self._continue_sent = False

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._connections.discard(self)

    def data_received(self, data: bytes) -> None:
        if self._discard:
            take = min(self._discard, len(data))
            self._discard -= take
            data = data[take:]
            if self._discard == 0 and self._after_discard is not None:
                req, resp = self._after_discard
                self._after_discard = None
                self._send(req, resp)
        self._buf += data
        if self._busy:
            if not self._paused and len(self._buf) > MAX_HEAD_BYTES + self._max_body:
                self._paused = True
                if self._transport is not None:
                    self._transport.pause_reading()
            return
        self._process()

    # -- helpers
    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
            self._transport = None

    def close_when_idle(self) -> bool:
        """Close now if no request is in progress; return whether it was closed."""
        if not self._busy and self._transport is not None:
            self._transport.close()
            self._transport = None
            return True
        return False

    def _process(self) -> None:
        while not self._busy and self._transport is not None and not self._discard:
            try:
                req = self._parse()
            except _BadRequest as bad:
                req = HttpRequest("GET", "", "", {}, keep_alive=False)
                name = _REASONS.get(bad.status, b"error").decode().lower().replace(" ", "_")
                self._reject(
                    req, HttpResponse(bad.status, error_body(name, bad.message), close=True)
                )
                return
            if req is None:
                return
            try:
                result = self._handler(req)
            except Exception:
                log.exception("handler failed on %s %s", req.method, req.path)
                result = HttpResponse(500, error_body("internal_error", "the emulator failed"))
            if isinstance(result, HttpResponse | Drop):
                self._send(req, result)
            else:
                self._busy = True
                fut = asyncio.ensure_future(result)
                fut.add_done_callback(lambda f, req=req: self._deferred(req, f))
        if self._paused and self._transport is not None and not self._busy:
            self._paused = False
            self._transport.resume_reading()

    def _reject(self, req: HttpRequest, resp: HttpResponse) -> None:
        if self._on_error is not None:
            self._on_error(resp.status, req.path)
        self._send(req, resp)

    def _deferred(self, req: HttpRequest, fut: asyncio.Future[Any]) -> None:
        self._busy = False
        if fut.cancelled():
            self.abort()
            return
        exc = fut.exception()
        if exc is not None:
            log.error("handler failed on %s %s: %r", req.method, req.path, exc)
            result: HttpResponse | Drop = HttpResponse(
                500, error_body("internal_error", "the emulator failed")
            )
        else:
            result = fut.result()
        self._send(req, result)
        self._process()

    def _send(self, req: HttpRequest, resp: HttpResponse | Drop) -> None:
        transport = self._transport
        if transport is None:
            return
        if isinstance(resp, Drop):
            self.abort()
            return
        close = resp.close or not req.keep_alive
        head = [b"HTTP/1.1 %d %s\r\n" % (resp.status, _REASONS.get(resp.status, b"Unknown"))]
        if resp.body or resp.status not in (204, 304):
            head.append(b"Content-Type: %s\r\n" % resp.content_type.encode())
        head.append(b"Content-Length: %d\r\n" % len(resp.body))
        for name, value in resp.headers.items():
            head.append(f"{name}: {value}\r\n".encode("latin-1"))
        head.append(b"Connection: close\r\n\r\n" if close else b"\r\n")
        body = b"" if req.method == "HEAD" else resp.body
        transport.write(b"".join(head) + body)
        if close:
            transport.close()
            self._transport = None

    def _parse(self) -> HttpRequest | None:
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                raise _BadRequest(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
            return None
        if end > MAX_HEAD_BYTES:
            raise _BadRequest(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
        lines = bytes(buf[:end]).split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
            raise _BadRequest(400, "malformed request line")
        method_b, target_b, version = parts
        if version not in (b"HTTP/1.1", b"HTTP/1.0"):
            raise _BadRequest(505, "only HTTP/1.0 and HTTP/1.1 are supported")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name[-1:] in b" \t" or not name.isascii():
                raise _BadRequest(400, "malformed header line")
            key = name.decode("ascii").lower()
            text = value.strip().decode("latin-1")
            if key in headers:
                if key == "content-length" and headers[key] != text:
                    raise _BadRequest(400, "conflicting Content-Length headers")
                headers[key] = text if key == "content-length" else headers[key] + ", " + text
            else:
                headers[key] = text
        target = target_b.decode("latin-1")
        if not target.startswith("/"):  # absolute-form: http://host/path
            scheme_end = target.find("://")
            slash = target.find("/", scheme_end + 3) if scheme_end >= 0 else -1
            target = target[slash:] if slash >= 0 else "/"
        path, _, query = target.partition("?")
        conn = headers.get("connection", "").lower()
        keep_alive = ("close" not in conn) if version == b"HTTP/1.1" else ("keep-alive" in conn)
        method = method_b.decode("ascii")
        body_start = end + 4

        te = headers.get("transfer-encoding")
        if te is not None:
            if "content-length" in headers:
                raise _BadRequest(400, "both Content-Length and Transfer-Encoding")
            if te.lower().replace(" ", "").split(",")[-1] != "chunked":
                raise _BadRequest(501, f"Transfer-Encoding {te[:40]!r} is not supported")
            self._maybe_continue(headers)
            parsed = self._parse_chunked(body_start)
            if parsed is None:
                return None
            body, consumed = parsed
            del buf[:consumed]
            self._continue_sent = False
            return HttpRequest(method, path, query, headers, body, keep_alive)

        cl_text = headers.get("content-length", "0") or "0"
        if not cl_text.isdigit() or len(cl_text) > 18:
            raise _BadRequest(400, f"Content-Length {cl_text[:40]!r} is not a number")
        length = int(cl_text)
        if length > self._max_body:
            req = HttpRequest(method, path, query, headers, b"", False)
            resp = HttpResponse(
                413,
                error_body("payload_too_large", f"the body is larger than {self._max_body} bytes"),
                close=True,
            )
            available = len(buf) - body_start
            del buf[:]
            if self._on_error is not None:
                self._on_error(413, path)
            if "100-continue" in headers.get("expect", "").lower() or length > MAX_DISCARD_BYTES:
                self._send(req, resp)  # the client has not sent (or will not finish) the body
                return None
            if available >= length:
                self._send(req, resp)
                return None
            self._discard = length - available
            self._after_discard = (req, resp)
            return None
        if len(buf) - body_start < length:
            if length:
                self._maybe_continue(headers)
            return None
        body = bytes(buf[body_start : body_start + length])
        del buf[: body_start + length]
        self._continue_sent = False
        return HttpRequest(method, path, query, headers, body, keep_alive)

    def _maybe_continue(self, headers: dict[str, str]) -> None:
        if not self._continue_sent and "100-continue" in headers.get("expect", "").lower():
            self._continue_sent = True
            if self._transport is not None:
                self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _parse_chunked(self, pos: int) -> tuple[bytes, int] | None:
        buf = self._buf
        chunks: list[bytes] = []
        total = 0
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                if len(buf) - pos > 1024:
                    raise _BadRequest(400, "malformed chunk size line")
                return None
            size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, "malformed chunk size") from None
            if size < 0:
                raise _BadRequest(400, "malformed chunk size")
            total += size
            if total > self._max_body:
                raise _BadRequest(413, f"the body is larger than {self._max_body} bytes")
            data_start = eol + 2
            if size == 0:  # trailers end with an empty line
                trailer_end = buf.find(b"\r\n", data_start)
                while trailer_end >= 0 and trailer_end != data_start:
                    data_start = trailer_end + 2
                    trailer_end = buf.find(b"\r\n", data_start)
                if trailer_end < 0:
                    return None
                return b"".join(chunks), trailer_end + 2
            if len(buf) < data_start + size + 2:
                return None
            if buf[data_start + size : data_start + size + 2] != b"\r\n":
                raise _BadRequest(400, "chunk data is not followed by CRLF")
            chunks.append(bytes(buf[data_start : data_start + size]))
            pos = data_start + size + 2


async def start_server(
    handler: Handler,
    host: str,
    port: int,
    *,
    max_body_bytes: int = 1024 * 1024,
    hooks: Hooks | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (0 = a free port) and serve ``handler``.

    ``hooks`` (a :class:`Hooks`) tracks the open connections and hears of requests the
    protocol rejects itself.
    """
    hooks = hooks if hooks is not None else Hooks()
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: HttpProtocol(handler, max_body_bytes, hooks),
        host,
        port,
        backlog=1024,  # a burst of ~1,000 clients connecting at once queues instead of failing
        reuse_address=True,
    )
