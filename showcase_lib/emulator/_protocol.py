"""HTTP/1.1 on ``asyncio.Protocol``, framed by llhttp (``httptools``): keep-alive, pipelining,
Content-Length and chunked bodies, ``Expect: 100-continue``, limits, timeouts, backpressure.

Request framing (request line, headers, Content-Length, chunk sizes, trailers) is done by
llhttp, the parser of Node.js, through MagicStack's ``httptools`` (the one uvicorn uses): a
hand-written parser accepted ``Content-Length: ²``, chunk sizes ``0x16a``/``+16a``/``1_6b`` and
a bare LF that hid a ``Transfer-Encoding``; llhttp rejects them all (strict mode). This module
keeps what needs the connection itself: answering in order, limits, timeouts, write
backpressure, and the emulator's faults (drop the connection, answer nothing, hang).

Handlers may answer synchronously (the fast path: no task per request) or return an awaitable.

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
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

import httptools

log = logging.getLogger("showcase_lib.emulator.protocol")

#: Request line plus headers. 32 KiB: a metering request's head is ~300 bytes; browsers and
#: proxies cap heads at 8-64 KiB, so no honest client comes near it.
MAX_HEAD_BYTES: Final = 32 * 1024
#: Header lines per request (a metering request sends ~6; nginx's default buffer holds ~100).
MAX_HEADERS: Final = 100
#: Chunked trailers per request. The emulator reads no trailer; 8 KiB is room for a few
#: checksums. Without a limit 40 MB of trailers were read (RSS +47 MB).
MAX_TRAILER_BYTES: Final = 8 * 1024
#: Chunks per request body. A 1 MiB body in 100-byte chunks is ~10,000 chunks; more than this
#: means the framing outweighs the data (1,000,000 one-byte chunks once cost 31.6 s of CPU).
MAX_CHUNKS: Final = 10_000
#: A too-large body with a Content-Length up to this size is read and discarded so the client
#: can read the 413; beyond it the connection is closed after the answer.
MAX_DISCARD_BYTES: Final = 64 * 1024 * 1024
#: Parsed requests waiting for their turn on one connection before reading pauses (pipelining
#: clients send a handful; 64 keeps memory per connection at 64 x max_body_bytes at worst).
MAX_QUEUED: Final = 64
#: Write-buffer high-water mark: above it the connection stops reading and answering until the
#: client has read; 256 KiB holds ~300 answers of a metering POST or a page of events.
WRITE_HIGH_WATER: Final = 256 * 1024

_REASONS: Final[dict[int, bytes]] = {s.value: s.phrase.encode() for s in HTTPStatus}
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection limits and timeouts of :func:`start_server`.

    ``header_timeout_s``: the whole head (request line and headers) must arrive within it,
    else 408 and close (10 s: a client writes its head at once; a slowloris never finishes);
    ``body_timeout_s``: the longest silence inside a body (10 s: a 1 MiB body needs only
    ~100 KB/s); ``keep_alive_timeout_s``: an idle connection is closed after it (60 s: longer
    than the idle expiry of common client pools, httpx 5 s, aiohttp 15 s, so the pool drops a
    connection before the server does and never reuses one being closed);
    ``max_connections``: further connections get 503 and are closed (512: under the common
    1,024 open-files limit, with room for the store; a tracker opens <= 100).

    Example:
        >>> Limits().max_connections, Limits(header_timeout_s=1).header_timeout_s
        (512, 1)
    """

    max_body_bytes: int = 1024 * 1024
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    keep_alive_timeout_s: float = 60.0
    max_connections: int = 512


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


class _Reject(Exception):
    """The protocol answers ``status`` itself and closes (raised inside parser callbacks)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(error: str, message: str) -> bytes:
    return json.dumps({"error": error, "message": message}).encode()


def _error_name(status: int) -> str:
    return _REASONS.get(status, b"error").decode().lower().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the owner of a server learns from its connections.

    ``connections`` is kept up to date with the open connections (so the owner can close
    them at shutdown); ``on_error(status, path)`` is told about requests the protocol itself
    rejects (malformed HTTP, limits, timeouts), which never reach the handler.
    """

    connections: set[HttpProtocol] = field(default_factory=set)
    on_error: Callable[[int, str], None] | None = None


@dataclass(slots=True)
class _Message:
    """The request being parsed."""

    url: bytearray = field(default_factory=bytearray)
    headers: dict[str, str] = field(default_factory=dict)
    head_bytes: int = 0  # header bytes seen by the parser callbacks
    header_lines: int = 0
    segment_bytes: int = 0  # bytes of later segments while the head is still incomplete
    body: list[bytes] = field(default_factory=list)
    body_bytes: int = 0
    chunks: int = 0
    trailer_bytes: int = 0
    wire_bytes: int = 0  # bytes received while in the body (framing included)
    discard: HttpResponse | None = None  # a 413 to send once the body has been swallowed


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered in order, one at a time."""

    def __init__(self, handler: Handler, limits: Limits, hooks: Hooks):
        self._handler = handler
        self._limits = limits
        self._on_error = hooks.on_error
        self._connections = hooks.connections
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._msg: _Message | None = None  # a request being parsed
        self._in_body = False
        #: parsed requests (or a final rejection) waiting for their turn
        self._queue: deque[HttpRequest | HttpResponse] = deque()
        self._queued_bytes = 0
        self._busy = False  # an awaitable handler is running
        self._broken = False  # framing failed: read nothing more
        self._read_paused = False
        self._write_paused = False
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._tick = min(
            limits.header_timeout_s, limits.body_timeout_s, limits.keep_alive_timeout_s
        )
        self._last_data = self._last_sent = self._head_started = self._loop.time()

    # ------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        if len(self._connections) >= self._limits.max_connections:
            message = f"the server holds its limit of {self._limits.max_connections} connections"
            self._reject_now(503, message, "")
            return
        self._connections.add(self)
        self._transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)  # type: ignore[union-attr]
        self._schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pause_writing(self) -> None:
        self._write_paused = True
        self._flow()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._process()

    def data_received(self, data: bytes) -> None:
        if self._broken or self._transport is None:
            return
        self._last_data = self._loop.time()
        msg = self._msg  # a request begun in an earlier segment, if any
        try:
            self._parser.feed_data(data)
            if msg is not None and self._msg is msg:
                self._count_segment(msg, len(data))
        except _Reject as bad:
            self._fail(bad.status, bad.message)
        except httptools.HttpParserUpgrade:
            # the request asking for the upgrade gets a plain answer; then the connection closes
            if self._msg is None:
                self._fail(0, "")
            else:
                self._fail(400, "protocol upgrades are not supported")
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__ or exc.__cause__
            if isinstance(cause, _Reject):
                self._fail(cause.status, cause.message)
            else:
                log.error("HTTP parser callback failed: %r", cause)
                self._fail(400, "malformed request")
        except httptools.HttpParserError as exc:
            self._fail(400, f"malformed HTTP request: {str(exc)[:200]}")
        self._process()

    def _count_segment(self, msg: _Message, size: int) -> None:
        """Bound a request spread over many segments (each one parsed in linear time)."""
        if not self._in_body:
            msg.segment_bytes += size  # a head arriving in pieces: all of it is head
            if msg.segment_bytes > MAX_HEAD_BYTES:
                raise _Reject(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
        elif msg.discard is None:  # chunk framing counts; a body being discarded does not
            msg.wire_bytes += size
            if msg.wire_bytes > 2 * self._limits.max_body_bytes + MAX_HEAD_BYTES:
                raise _Reject(413, "the chunk framing is larger than the body limit allows")

    def eof_received(self) -> bool | None:
        # the client finished sending: answer what is queued, then close
        if not self._queue and not self._busy:
            return None  # asyncio closes the transport
        self._broken = True
        return True

    # ------------------------------------------------------------ llhttp callbacks
    def on_message_begin(self) -> None:
        self._msg = _Message()
        self._in_body = False
        self._head_started = self._last_data

    def on_url(self, url: bytes) -> None:
        msg = self._msg
        assert msg is not None
        msg.url += url
        if len(msg.url) > MAX_HEAD_BYTES:
            raise _Reject(431, f"the request target is longer than {MAX_HEAD_BYTES} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        msg = self._msg
        assert msg is not None
        if self._in_body:  # a trailer: counted, never kept
            msg.trailer_bytes += len(name) + len(value) + 4
            if msg.trailer_bytes > MAX_TRAILER_BYTES:
                raise _Reject(
                    431, f"the chunked trailers are larger than {MAX_TRAILER_BYTES} bytes"
                )
            return
        # the hot path: the limits are checked once, in on_headers_complete (a head that never
        # completes is bounded per segment in data_received)
        msg.head_bytes += len(name) + len(value) + 4
        msg.header_lines += 1
        key = name.decode("latin-1").lower()
        headers = msg.headers
        if key in headers:
            headers[key] += ", " + value.decode("latin-1")
        else:
            headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        msg = self._msg
        assert msg is not None
        self._in_body = True
        if msg.head_bytes + len(msg.url) > MAX_HEAD_BYTES:
            raise _Reject(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
        if msg.header_lines > MAX_HEADERS:
            raise _Reject(431, f"the request has more than {MAX_HEADERS} header lines")
        headers = msg.headers
        te = headers.get("transfer-encoding")
        if te is not None and te.strip().lower() != "chunked":
            # llhttp accepts "gzip, chunked" (chunked last); the emulator decodes no gzip. RFC 9112
            # 6.1 suggests 501 here, but the metering API defines bodies as plain JSON, so any other
            # coding is the client's error: a 4xx keeps "5xx" meaning "the server failed".
            raise _Reject(400, f"Transfer-Encoding {te[:40]!r} is not supported; use chunked")
        limit = self._limits.max_body_bytes
        length = int(headers.get("content-length") or 0)  # llhttp checked: ASCII digits only
        expect = "100-continue" in headers.get("expect", "").lower()
        if length > limit:
            message = f"the body is larger than {limit} bytes"
            if expect or length > MAX_DISCARD_BYTES:
                raise _Reject(413, message)  # the client has not sent (or will not finish) it
            msg.discard = HttpResponse(413, error_body("payload_too_large", message), close=True)
        elif expect and (length or te) and not self._queue and not self._busy:
            assert self._transport is not None
            self._transport.write(_CONTINUE)

    def on_chunk_header(self) -> None:
        msg = self._msg
        assert msg is not None
        msg.chunks += 1
        if msg.chunks > MAX_CHUNKS:
            raise _Reject(413, f"the body has more than {MAX_CHUNKS} chunks")

    def on_body(self, body: bytes) -> None:
        msg = self._msg
        assert msg is not None
        if msg.discard is not None:
            return
        msg.body_bytes += len(body)
        if msg.body_bytes > self._limits.max_body_bytes:
            raise _Reject(413, f"the body is larger than {self._limits.max_body_bytes} bytes")
        msg.body.append(body)

    def on_message_complete(self) -> None:
        msg = self._msg
        assert msg is not None
        self._msg = None
        self._in_body = False
        if msg.discard is not None:
            self._note_error(413, "")
            self._queue.append(msg.discard)
            self._broken = True
            raise _Stop
        target = msg.url.decode("latin-1")
        if not target.startswith("/"):  # absolute-form: http://host/path
            scheme_end = target.find("://")
            slash = target.find("/", scheme_end + 3) if scheme_end >= 0 else -1
            target = target[slash:] if slash >= 0 else "/"
        path, _, query = target.partition("?")
        body = msg.body[0] if len(msg.body) == 1 else b"".join(msg.body)
        method = self._parser.get_method().decode("ascii")
        keep_alive = self._parser.should_keep_alive()
        self._queue.append(HttpRequest(method, path, query, msg.headers, body, keep_alive))
        self._queued_bytes += len(body)
        if not keep_alive:  # read nothing after a request that closes the connection
            self._broken = True
            raise _Stop

    # ------------------------------------------------------------ control
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

    def _note_error(self, status: int, path: str) -> None:
        if self._on_error is not None:
            self._on_error(status, path)

    def _fail(self, status: int, message: str) -> None:
        """Framing failed or a limit was hit: answer once the queue ahead is done, then close."""
        self._broken = True
        if status == 0:  # _Stop: an orderly end of reading, nothing to answer
            return
        msg, self._msg = self._msg, None
        path = msg.url.decode("latin-1").partition("?")[0] if msg is not None else ""
        self._note_error(status, path)
        self._queue.append(
            HttpResponse(status, error_body(_error_name(status), message), close=True)
        )

    def _reject_now(self, status: int, message: str, path: str) -> None:
        self._broken = True
        self._note_error(status, path)
        self._send(
            HttpRequest("GET", path, "", {}, keep_alive=False),
            HttpResponse(status, error_body(_error_name(status), message), close=True),
        )

    def _process(self) -> None:
        queue = self._queue
        while queue and not self._busy and not self._write_paused and self._transport is not None:
            item = queue.popleft()
            if isinstance(item, HttpResponse):  # the protocol's own final answer
                self._send(HttpRequest("GET", "", "", {}, keep_alive=False), item)
                return
            self._queued_bytes -= len(item.body)
            try:
                result = self._handler(item)
            except Exception:
                log.exception("handler failed on %s %s", item.method, item.path)
                result = HttpResponse(500, error_body("internal_error", "the emulator failed"))
            if isinstance(result, HttpResponse | Drop):
                self._send(item, result)
            else:
                self._busy = True
                fut = asyncio.ensure_future(result)
                fut.add_done_callback(lambda f, req=item: self._deferred(req, f))
        if self._transport is not None and self._broken and not queue and not self._busy:
            self._transport.close()  # nothing more will be read or answered
            self._transport = None
        self._flow()
        self._schedule()

    def _flow(self) -> None:
        """Pause reading while the client does not read or too much is queued."""
        transport = self._transport
        if transport is None:
            return
        full = (
            self._write_paused
            or len(self._queue) >= MAX_QUEUED
            or self._queued_bytes > self._limits.max_body_bytes
        )
        if full and not self._read_paused:
            self._read_paused = True
            transport.pause_reading()
        elif not full and self._read_paused:
            self._read_paused = False
            transport.resume_reading()

    def _schedule(self) -> None:
        """Keep the connection's one timer armed; it fires at most every ``_tick`` seconds
        and checks the deadline of the current state (so no request re-arms a timer)."""
        if self._timer is None and self._transport is not None:
            self._timer = self._loop.call_at(self._loop.time() + self._tick, self._on_timer)

    def _overdue(self, now: float) -> str | None:
        """Which timeout the connection has run out of, if any."""
        if self._busy or self._queue:
            return None  # answering: the handler's own time (hang faults included)
        limits = self._limits
        if self._msg is None:
            idle = now - max(self._last_data, self._last_sent) > limits.keep_alive_timeout_s
            return "idle" if idle else None
        if not self._in_body:
            late = now - self._head_started > limits.header_timeout_s
            return (
                f"the request head did not arrive within {limits.header_timeout_s:g} s"
                if late
                else None
            )
        late = now - self._last_data > limits.body_timeout_s
        return f"the body stalled for more than {limits.body_timeout_s:g} s" if late else None

    def _on_timer(self) -> None:
        self._timer = None
        if self._transport is None:
            return
        overdue = self._overdue(self._loop.time())
        if overdue is None:
            self._schedule()
        elif overdue == "idle":  # an idle keep-alive connection: close quietly
            self._transport.close()
            self._transport = None
        else:
            self._fail(408, overdue)
            self._process()

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
        self._last_sent = self._loop.time()
        if close:
            self._broken = True
            transport.close()
            self._transport = None


class _Stop(_Reject):
    """Stop parsing after this message (it closes the connection); nothing to answer."""

    def __init__(self) -> None:
        super().__init__(0, "")


async def start_server(
    handler: Handler,
    host: str,
    port: int,
    *,
    limits: Limits | None = None,
    hooks: Hooks | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (0 = a free port) and serve ``handler``.

    ``limits`` (a :class:`Limits`) bounds bodies, time and connections; ``hooks`` (a
    :class:`Hooks`) tracks the open connections and hears of requests the protocol rejects.
    """
    limits = limits if limits is not None else Limits()
    hooks = hooks if hooks is not None else Hooks()
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: HttpProtocol(handler, limits, hooks),
        host,
        port,
        backlog=1024,  # a burst of ~1,000 clients connecting at once queues instead of failing
        reuse_address=True,
    )
