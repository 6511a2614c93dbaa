"""The same stand-in behind a real socket: a small HTTP/1.1 loopback server (stdlib
``ThreadingHTTPServer``, a thread per connection, keep-alive, SSE streams sent chunked), for a
client that cannot take an ``http_client=`` (another process, another language, an OTel
exporter test) or for measuring with real HTTP in the loop."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import httpx2

if TYPE_CHECKING:
    from showcase_lib.stand_in._transport import StandInTransport

# the body limit of a request the stand-in reads: far above any prompt a test sends
_MAX_BODY = 32 * 1024 * 1024


class LoopbackStandIn:
    """A running loopback server; ``url`` is ``http://127.0.0.1:PORT/``. Point the clients at it
    with ``base_url=url + "v1"`` (OpenAI) or ``base_url=url`` (Anthropic)."""

    def __init__(self, transport: StandInTransport, port: int = 0):
        self.transport = transport
        handler = type("_Handler", (_Handler,), {"stand_in": transport})
        self._httpd = _Server(("127.0.0.1", port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="stand-in-loopback", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def served(self) -> list:
        return self.transport.served

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> LoopbackStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LoopbackStandIn(url={self.url!r}, served={len(self.served)})"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-keep-alive is normal; a library prints nothing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, chunked streams
    stand_in: StandInTransport

    def setup(self) -> None:
        super().setup()
        # small writes (SSE chunks, a body after its head) must not wait for delayed ACKs
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # no output from a library

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > _MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("host") or "127.0.0.1"
        request = httpx2.Request(
            self.command, f"http://{host}{self.path}", headers=dict(self.headers), content=body
        )
        response = self.stand_in.handle_request(request)
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for chunk in response.stream:  # waits chunk_ms between chunks
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        content = response.read()
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
