"""The emulator's HTTP application: Revenium's metering endpoints, its cost queries and an admin
read-out.

Routes:

- ``POST /meter/v2/ai/completions``: checked against the completion schema
  (``showcase_lib.wire.validate_wire``) and the service's own fields beyond it
  (``_fields``: every field the official SDK 0.12.0 can send is parsed and checked), and
  stored; siblings ``/meter/v2/ai/audio``, ``/video``, ``/images``, ``/meter/v2/events`` and
  ``/meter/v2/tool/events`` need a JSON object and are stored under their own kind.
- ``GET /profitstream/v2/api/sources/metrics/ai/{total-cost-by-model,
  cost-metric-by-organization, cost-metric-by-product, cost-metrics-by-subscriber-credential}``
  with ``teamId``, ``period`` or ``startDate``/``endDate``, and ``x-api-key``: Revenium's cost
  queries, computed from the store (``_queries``).
- ``GET /_emulator/health``, ``GET /_emulator/events?limit&offset&kind``,
  ``GET /_emulator/costs?limit&offset`` (each stored completion priced like the service:
  the caller's ``totalCost``, else genai-prices at the call's timestamp and tier, with the
  cost by token kind and its source; see ``_pricing``),
  ``GET /_emulator/unknown-fields?limit&offset`` (per record, the fields the service would
  ignore, with the closest real one), ``GET /_emulator/duplicates?window_s`` (calls that
  look metered twice under two ids), ``GET /_emulator/stats``,
  ``GET|PUT|POST /_emulator/faults``, ``POST /_emulator/reset``.
  Every admin route but health (which returns only ``status`` and ``uptime_s`` without a
  key) needs the same ``x-api-key``: the events hold every body, credentials included. A
  browser page must not reach them either: a request with an ``Origin`` other than the
  server's own gets 403, on a loopback server so does a ``Host`` that is not loopback (DNS
  rebinding), and writes need ``Content-Type: application/json`` (415 otherwise), which a
  cross-origin "simple" request cannot send without a CORS preflight the server never grants.

The fields of a completion, as the service treats them (docs.revenium.io FAQ; SDK README):

- unknown keys are accepted with 201 and ignored by the service; the emulator stores them,
  counts them (``stats()["unknown_keys"]``) and reports them per record with the closest
  real field (``Emulator.unknown_fields()``): a misspelt ``totalCots`` or
  ``organisationName`` costs the caller's cost or the attribution, without an error;
- ``organizationId`` / ``productId`` (no longer read by the backend; the SDK rewrites them)
  are accepted, stored as sent, reported as ``deprecated`` and attribute nothing;
- ``transactionId`` is optional: a completion without one gets its ``spanId`` (the
  documented alternative) or a new UUID, written into the stored body, as the service gives
  it an id (``stats()["transaction_ids_generated"]`` / ``["transaction_ids_from_span"]``).

Answers: 201 ``{id, label, resourceType: "metering", signature, created}``; errors are JSON
``{"error": <code>, "message": ..., "errors"?: [{field, reason, value, message}]}``: 400 (bad
JSON, bad fields: every bad field is listed; a body that is not UTF-8, or holds a lone surrogate
such as ``"\\ud800"``, is a 400 ``invalid_encoding`` naming the problem; an
``Idempotency-Key`` that is not 1-255 printable ASCII characters is a 400
``invalid_idempotency_key``), 401 (missing or wrong ``x-api-key``, compared in constant
time), 403 (cross-origin admin request), 404, 405, 408 (head or body too slow), 409
(``idempotency_key_mismatch``, or ``idempotency_key_in_progress`` with ``Retry-After: 1``
while the first delivery of that key, its added latency included, is still running), 413
(body over ``max_body_bytes``), 415, 431 (head or trailers too large), 503 (over the
connection cap). HTTP framing is llhttp's (see ``_protocol``).
Injected faults: 429/5xx, latency, hangs, dropped connections (see ``faults``). A handler
crash is a 500 counted in ``stats()["internal_errors"]`` (the fuzz tests assert it stays 0).

Idempotency and dedup: a repeat of an ``Idempotency-Key`` within 24 h gets the first answer
and is stored once (``duplicates``); a completion whose ``transactionId`` is already stored is
the same call whatever its key (another one, or none): it gets the first answer and is not
stored again (``duplicate_transactions``). Both live in the store and survive a restart.
Requests without a key are counted as ``no_key``.

The answer is sent only after the record is committed (group commit), so a 201 means stored.

Example (async; ``showcase_lib.emulator.Emulator`` wraps this in a thread or a process):
    >>> import asyncio, tempfile, os
    >>> async def demo():
    ...     db = os.path.join(tempfile.mkdtemp(), "e.db")
    ...     srv = EmulatorServer(api_key="rev_demo", db_path=db, options=ServerOptions(port=0))
    ...     port = await srv.start()
    ...     await srv.stop()
    ...     return port > 0
    >>> asyncio.run(demo())
    True
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import itertools
import json
import logging
import math
import secrets
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from pydantic import ValidationError

from showcase_lib.emulator._faults import Fault, FaultConfig, FaultInjector
from showcase_lib.emulator._fields import Inspection, inspect_body
from showcase_lib.emulator._pricing import price_bodies
from showcase_lib.emulator._protocol import (
    DROP,
    Drop,
    HandlerResult,
    Hooks,
    HttpProtocol,
    HttpRequest,
    HttpResponse,
    Limits,
    start_server,
)
from showcase_lib.emulator._queries import (
    QUERY_PREFIX,
    QUERY_ROUTES,
    QueryError,
    cost_metric,
    likely_duplicates,
    parse_window,
    unknown_fields,
)
from showcase_lib.emulator._store import Outcome, Pending, Store
from showcase_lib.wire import FieldError, validate_wire

log = logging.getLogger("showcase_lib.emulator")

#: 1 MiB: a completion body is ~0.7 KB, so this is >1000x any honest body, yet small enough
#: that a client bug (a whole file as the body) gets a 413 instead of filling memory.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: Records per group commit: at 10,000 requests/s a batch holds ~0.2 s of traffic, and one
#: SQLite transaction of 2,000 rows commits in ~10 ms on the build machine; larger batches
#: add latency to every request in them without raising throughput.
MAX_BATCH = 2000
IDEMPOTENCY_HEADER = "Idempotency-Key"

#: Metering endpoints (path -> kind). Only completions get the full schema check.
ENDPOINTS: dict[str, str] = {
    "/meter/v2/ai/completions": "completion",
    "/meter/v2/ai/audio": "audio",
    "/meter/v2/ai/video": "video",
    "/meter/v2/ai/images": "image",
    "/meter/v2/events": "event",
    "/meter/v2/tool/events": "tool_event",
}

_ERROR_NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def _valid_key(key: str) -> bool:
    """An Idempotency-Key the service accepts: 1-255 printable ASCII characters."""
    return 0 < len(key) <= 255 and key.isascii() and key.isprintable()


def _fill_transaction_id(body: dict[str, Any]) -> str:
    """Give a completion without a transactionId the id the service gives it: its ``spanId``
    when it sent one (the API reference accepts it as the alternative), else a new UUID v4.
    Return where the id came from (``from_span`` or ``generated``)."""
    span = body.get("spanId")
    if type(span) is str and span.strip():
        body["transactionId"] = span
        return "from_span"
    body["transactionId"] = str(uuid.uuid4())
    return "generated"


class _Notes(NamedTuple):
    """What the answer of one metering request needs to know besides the store's outcome."""

    key: str | None
    fault: Fault | None
    found: Inspection | None
    tid_source: str | None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _BadEncoding(ValueError):
    """The body is JSON but not UTF-8 text (400 ``invalid_encoding``)."""


_BOM = b"\xef\xbb\xbf"


def _decode(raw: bytes) -> str:
    """The body as text: strict UTF-8 (a BOM is dropped); UTF-16/32 and other bytes refused."""
    if raw.startswith(_BOM):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = " (it looks UTF-16 or UTF-32)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise _BadEncoding(
            f"the body is not UTF-8{hint}: byte 0x{raw[exc.start]:02x} at offset {exc.start}; "
            "send JSON as UTF-8"
        ) from None
    if "\x00" in text:
        raise _BadEncoding(
            f"the body holds a NUL byte at offset {text.index(chr(0))} (UTF-16 or UTF-32?); "
            "send JSON as UTF-8"
        )
    return text


def _lone_surrogate(value: Any, path: str = "(body)") -> str | None:
    """The path of the first string (key or value) holding a lone surrogate, else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _lone_surrogate(k, f"{path} key") or _lone_surrogate(v, str(k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _lone_surrogate(v, f"{path}[{i}]")
            if found:
                return found
    return None


def _loads(raw: bytes) -> Any:
    """Parse a body as strict UTF-8 JSON; ``_BadEncoding`` names what is wrong."""
    text = _decode(raw)
    body = json.loads(text, parse_constant=_reject_constant)
    # only a \uD800-\uDFFF escape can smuggle a surrogate past strict UTF-8 decoding
    if ("\\ud" in text or "\\uD" in text) and (where := _lone_surrogate(body)):
        raise _BadEncoding(
            f"{where} holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), "
            "which is not Unicode text"
        )
    return body


def _is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, json.dumps(payload).encode(), headers or {})


def json_error(
    status: int,
    error: str,
    message: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """A JSON error answer: ``{"error", "message", "errors"?}``."""
    payload: dict[str, Any] = {"error": error, "message": message}
    if errors:
        payload["errors"] = [e.as_dict() for e in errors]
    return json_response(status, payload, headers)


class _Clock:
    """ISO 8601 ``created`` stamps, formatted once per millisecond."""

    def __init__(self) -> None:
        self._ms = -1
        self._text = ""

    def now(self) -> tuple[float, str]:
        t = time.time()
        ms = int(t * 1000)
        if ms != self._ms:
            self._ms = ms
            dt = datetime.fromtimestamp(ms / 1000, timezone.utc)
            self._text = dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return t, self._text


class _Writer:
    """Group commit: requests get a future; one task writes batches in the store's thread."""

    def __init__(self, store: Store, executor: ThreadPoolExecutor):
        self._store = store
        self._executor = executor
        self._pending: list[tuple[Pending, asyncio.Future[Outcome]]] = []
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())
        self.batches = 0

    def submit(self, item: Pending) -> asyncio.Future[Outcome]:
        fut: asyncio.Future[Outcome] = self._loop.create_future()
        self._pending.append((item, fut))
        self._wakeup.set()
        return fut

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                items = [b[0] for b in batch]
                try:
                    outcomes = await self._loop.run_in_executor(
                        self._executor, self._store.write_batch, items
                    )
                except Exception as exc:
                    # one bad item must not fail the others: write them one by one
                    log.error("store write of %d records failed: %r", len(batch), exc)
                    await self._one_by_one(batch)
                    continue
                self.batches += 1
                for (_, fut), outcome in zip(batch, outcomes, strict=True):
                    if not fut.done():
                        fut.set_result(outcome)

    async def _one_by_one(self, batch: list[tuple[Pending, asyncio.Future[Outcome]]]) -> None:
        for item, fut in batch:
            try:
                (outcome,) = await self._loop.run_in_executor(
                    self._executor, self._store.write_batch, [item]
                )
            except Exception as exc:  # this record only: its request gets a 500
                log.error("store write failed for one record: %r", exc)
                if not fut.done():
                    fut.set_exception(exc)
            else:
                if not fut.done():
                    fut.set_result(outcome)

    async def close(self) -> None:
        while self._pending:  # drain what is queued
            self._wakeup.set()
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Where and how the emulator listens.

    ``port=0`` picks a free port (``Emulator.restart()`` then keeps the one it got);
    ``max_body_bytes``: bodies above it get 413; ``shutdown_timeout_s``: how long in-flight
    requests may finish at ``stop()`` (half a second: a metering request takes milliseconds,
    so only a hung one is cut off). Per connection: ``header_timeout_s`` (10 s for the whole
    head, then 408: a client writes its head at once, a slowloris never finishes it),
    ``body_timeout_s`` (10 s of silence inside a body, then 408), ``keep_alive_timeout_s``
    (60 s idle, then closed: longer than the idle expiry of client pools, httpx 5 s, aiohttp
    15 s, so a pool never reuses a connection the server is closing), ``max_connections``
    (512; more get 503: under the usual 1,024 open-files limit, and a tracker opens <= 100).
    A host beyond loopback is logged as a warning: the store holds every body sent.

    Example:
        >>> ServerOptions(port=8787).host, ServerOptions().max_body_bytes
        ('127.0.0.1', 1048576)
        >>> ServerOptions().header_timeout_s, ServerOptions().keep_alive_timeout_s
        (10.0, 60.0)
    """

    host: str = "127.0.0.1"
    port: int = 0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    shutdown_timeout_s: float = 0.5
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    keep_alive_timeout_s: float = 60.0
    max_connections: int = 512

    def limits(self) -> Limits:
        """The per-connection part, for the protocol."""
        names = {f.name for f in fields(Limits)}
        return Limits(**{n: getattr(self, n) for n in names})


class EmulatorServer:
    """A Revenium-compatible metering server bound to ``host:port`` with a SQLite store.

    Run it on an event loop (``await start()`` / ``await stop()``); ``Emulator`` does that
    for you in a background thread or a subprocess. The API key is kept only as bytes for a
    constant-time comparison and never appears in reprs, logs or answers.

    Example:
        >>> srv = EmulatorServer(api_key="k", db_path="e.db", options=ServerOptions(port=8787))
        >>> srv
        EmulatorServer(host='127.0.0.1', port=8787, db_path='e.db')
    """

    def __init__(
        self,
        *,
        api_key: str,
        db_path: str,
        faults: FaultConfig | dict[str, Any] | None = None,
        options: ServerOptions | None = None,
    ):
        if not api_key:
            raise ValueError("api_key='' must be a non-empty string")
        options = options if options is not None else ServerOptions()
        self._key = api_key.encode("utf-8")
        self.db_path = db_path
        self.host = options.host
        self.port = options.port
        self.max_body_bytes = options.max_body_bytes
        self.shutdown_timeout = options.shutdown_timeout_s
        self._limits = options.limits()
        self._unknown: Counter[str] = Counter()
        self._deprecated: Counter[str] = Counter()
        self._extension: Counter[str] = Counter()
        self._injector = FaultInjector(FaultConfig.coerce(faults))
        self._in_progress: set[str] = set()
        self._counters: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._clock = _Clock()
        self._started = time.monotonic()
        self._started_iso = self._clock.now()[1]
        self._server: asyncio.Server | None = None
        self._connections: set[HttpProtocol] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._store: Store | None = None
        self._writer: _Writer | None = None
        self._id_prefix = ""
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"EmulatorServer(host={self.host!r}, port={self.port}, db_path={self.db_path!r})"

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> int:
        """Open the store, bind, and return the port actually bound."""
        self._loop = loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emulator-store")
        self._store = await loop.run_in_executor(self._executor, Store, self.db_path)
        self._writer = _Writer(self._store, self._executor)
        r = secrets.token_hex(10)  # ids look like UUIDs: random per start + a counter
        self._id_prefix = f"{r[:8]}-{r[8:12]}-4{r[12:15]}-a{r[15:18]}-"
        if not _is_loopback(self.host):
            log.warning(
                "the emulator binds %s, beyond loopback: anyone who can reach this machine "
                "can send to it (its admin routes still need the API key)",
                self.host,
            )
        try:
            self._server = await start_server(
                self.handle,
                self.host,
                self.port,
                limits=self._limits,
                hooks=Hooks(self._connections, self._protocol_error),
            )
        except BaseException:
            await self._close_store()
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        self._started = time.monotonic()
        self._started_iso = self._clock.now()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening; in-flight requests get ``shutdown_timeout`` s; flush; close the store."""
        if self._server is not None:
            self._server.close()
            deadline = time.monotonic() + self.shutdown_timeout
            while True:
                for conn in list(self._connections):
                    conn.close_when_idle()
                if not self._connections or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.01)
            for task in list(self._tasks):
                task.cancel()
            for conn in list(self._connections):
                conn.abort()
            await asyncio.sleep(0)
            self._server = None
        await self._close_store()

    async def _close_store(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._store is not None and self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._store.close)
            self._store = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # ---------------------------------------------------------------- state
    @property
    def faults(self) -> FaultConfig:
        return self._injector.config

    def set_faults(self, faults: FaultConfig | dict[str, Any] | None) -> FaultConfig:
        """Replace the fault configuration (the RNG is reseeded from ``faults.seed``)."""
        self._injector = FaultInjector(FaultConfig.coerce(faults))
        return self._injector.config

    def stats(self) -> dict[str, Any]:
        """Counters since this server started, plus the size of the (durable) store."""
        c = self._counters
        return {
            "received": c["received"],
            "stored": c["stored"],
            "duplicates": c["duplicates"],
            "duplicate_transactions": c["duplicate_transactions"],
            "no_key": c["no_key"],
            "transaction_ids_generated": c["transaction_ids_generated"],
            "transaction_ids_from_span": c["transaction_ids_from_span"],
            "internal_errors": c["internal_errors"],
            "queries": c["queries"],
            "responses": dict(sorted(self._responses.items())),
            "rejected": dict(sorted(self._rejected.items())),
            "faults": dict(sorted(self._faults.items())),
            "unknown_keys": dict(sorted(self._unknown.items())),
            "records_with_unknown_keys": c["records_with_unknown_keys"],
            "deprecated_keys": dict(sorted(self._deprecated.items())),
            "extension_keys": dict(sorted(self._extension.items())),
            "in_store": self._store.count() if self._store is not None else None,
            "batches": self._writer.batches if self._writer is not None else 0,
            "started_at": self._started_iso,
            "uptime_s": round(time.monotonic() - self._started, 3),
        }

    def reset_stats(self) -> None:
        for counter in (
            self._counters,
            self._responses,
            self._rejected,
            self._faults,
            self._unknown,
            self._deprecated,
            self._extension,
        ):
            counter.clear()

    # ---------------------------------------------------------------- dispatch
    def handle(self, req: HttpRequest) -> HandlerResult:
        """Answer one request (synchronously when possible, else with an awaitable)."""
        try:
            result = self._dispatch(req)
        except Exception:
            log.exception("internal error on %s %s", req.method, req.path)
            result = self._internal_error()
        if isinstance(result, HttpResponse):
            self._responses[str(result.status)] += 1
            return result
        if isinstance(result, Drop):
            return result
        fut = asyncio.ensure_future(result)
        if isinstance(fut, asyncio.Task):
            self._tasks.add(fut)
            fut.add_done_callback(self._tasks.discard)
        fut.add_done_callback(self._count_deferred)
        return fut

    def _count_deferred(self, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is None:
            result = fut.result()
            if isinstance(result, HttpResponse):
                self._responses[str(result.status)] += 1
        elif not fut.cancelled():
            self._counters["internal_errors"] += 1
            self._responses["500"] += 1

    def _protocol_error(self, status: int, path: str) -> None:
        if path.startswith("/meter/"):
            self._counters["received"] += 1
        self._rejected[str(status)] += 1
        self._responses[str(status)] += 1

    def _internal_error(self) -> HttpResponse:
        self._counters["internal_errors"] += 1
        return json_error(500, "internal_error", "the emulator failed on this request")

    def _reject(self, status: int, error: str, message: str, **kw: Any) -> HttpResponse:
        self._rejected[str(status)] += 1
        return json_error(status, error, message, **kw)

    def _dispatch(self, req: HttpRequest) -> HandlerResult:
        path = req.path
        if path.startswith("/meter/"):
            self._counters["received"] += 1
            kind = ENDPOINTS.get(path)
            if kind is None:
                return self._reject(404, "not_found", f"no endpoint at {path[:200]}")
            if req.method != "POST":
                return self._reject(
                    405,
                    "method_not_allowed",
                    f"{req.method} is not allowed on {path}; use POST",
                    headers={"Allow": "POST"},
                )
            key = req.headers.get("idempotency-key")
            if key is None or not _valid_key(key) or not self._authorized(req):
                return self._deliver(req, kind, None)  # a bad key or no auth: answered later
            if key in self._in_progress:
                return self._reject(
                    409,
                    "idempotency_key_in_progress",
                    f"a request with {IDEMPOTENCY_HEADER} {key!r} is still running; retry "
                    "after Retry-After seconds",
                    headers={"Retry-After": "1"},
                )
            self._in_progress.add(key)  # until its answer is ready (added latency included)
            return self._release_when_done(key, self._deliver(req, kind, key))
        if path.startswith(QUERY_PREFIX):
            return self._cost_query(req)
        route = _ADMIN.get(path)
        if route is None:
            return self._reject(404, "not_found", f"no endpoint at {path[:200]}")
        methods, name = route
        if req.method not in methods:
            allow = ", ".join(methods)
            return self._reject(
                405,
                "method_not_allowed",
                f"{req.method} is not allowed on {path}; use {allow}",
                headers={"Allow": allow},
            )
        refused = self._admin_refusal(req, open_route=name == "_health")
        if refused is not None:
            return refused
        return getattr(self, name)(req)

    def _authorized(self, req: HttpRequest) -> bool:
        provided = req.headers.get("x-api-key")
        return provided is not None and hmac.compare_digest(
            provided.encode("latin-1", "replace"), self._key
        )

    def _admin_refusal(self, req: HttpRequest, *, open_route: bool) -> HttpResponse | None:
        """Why an admin request is refused (browser, rebinding, no key, not JSON), or None."""
        host = req.headers.get("host", "")
        origin = req.headers.get("origin")
        if _is_loopback(self.host) and host and not _is_loopback(host.rpartition(":")[0] or host):
            return self._reject(403, "forbidden", f"Host {host[:80]!r} is not this loopback server")
        if origin is not None and origin != f"http://{host}":
            return self._reject(
                403,
                "forbidden",
                f"cross-origin request from Origin {origin[:80]!r} refused: the admin routes "
                "answer only their own origin",
            )
        if open_route:
            return None
        if not self._authorized(req):
            return self._reject(401, "unauthorized", "the admin routes need the x-api-key header")
        if req.method in ("PUT", "POST"):
            ctype = req.headers.get("content-type", "").partition(";")[0].strip().lower()
            if ctype != "application/json":
                return self._reject(
                    415,
                    "unsupported_media_type",
                    f"Content-Type {ctype[:60]!r} refused: admin writes need application/json",
                )
        return None

    def _deliver(self, req: HttpRequest, kind: str, held: str | None) -> HandlerResult:
        """The metered request after its added latency, if any (``held``: the idempotency key
        this request holds in progress, or None)."""
        delay = self._injector.delay_s()
        if delay > 0:
            self._faults["latency"] += 1
            return self._after_delay(req, kind, held, delay)
        return self._metered(req, kind, held)

    def _release_when_done(self, key: str, result: HandlerResult) -> HandlerResult:
        """Drop ``key`` from the in-progress set once ``result`` is ready."""
        if isinstance(result, HttpResponse | Drop):
            self._in_progress.discard(key)
            return result
        fut = asyncio.ensure_future(result)
        fut.add_done_callback(lambda _: self._in_progress.discard(key))
        return fut

    async def _after_delay(
        self, req: HttpRequest, kind: str, held: str | None, delay: float
    ) -> HttpResponse | Drop:
        await asyncio.sleep(delay)
        result = self._metered(req, kind, held)
        if isinstance(result, HttpResponse | Drop):
            return result
        return await result

    def _metered(self, req: HttpRequest, kind: str, held: str | None) -> HandlerResult:
        fault = self._injector.decide(time.monotonic() - self._started)
        if fault is not None and fault.kind != "lost_response":
            if held is not None:  # a fault processes nothing: a retry must not wait on a hang
                self._in_progress.discard(held)
            return self._fault(fault)
        return self._store_request(req, kind, fault)

    def _fault(self, fault: Fault) -> HandlerResult:
        self._faults[fault.kind] += 1
        config = self._injector.config
        if fault.kind == "drop":
            return DROP
        if fault.kind == "hang":
            return self._hang(config.hang_s)
        if fault.kind == "rate_limit":
            wait = config.retry_after_s
            headers = {"Retry-After": str(math.ceil(wait)), "retry-after-ms": str(int(wait * 1000))}
            return json_error(429, "rate_limited", "too many requests (injected)", headers=headers)
        message = "injected outage" if fault.kind == "outage" else "injected server error"
        return json_error(fault.status, _ERROR_NAMES.get(fault.status, "server_error"), message)

    @staticmethod
    async def _hang(seconds: float) -> Drop:
        await asyncio.sleep(seconds)
        return DROP

    # ---------------------------------------------------------------- metering
    def _store_request(self, req: HttpRequest, kind: str, fault: Fault | None) -> HandlerResult:
        provided = req.headers.get("x-api-key")
        if provided is None:
            return self._reject(401, "unauthorized", "missing x-api-key header")
        if not hmac.compare_digest(provided.encode("latin-1", "replace"), self._key):
            return self._reject(401, "unauthorized", "invalid API key")

        raw = req.body
        try:
            body = _loads(raw)
        except _BadEncoding as exc:
            return self._reject(400, "invalid_encoding", str(exc))
        except (ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "too deeply nested"
            return self._reject(400, "invalid_json", f"the body is not valid JSON: {reason[:200]}")

        key = req.headers.get("idempotency-key")
        if key is not None and not _valid_key(key):
            error = FieldError(
                IDEMPOTENCY_HEADER, "must be 1-255 printable ASCII characters", repr(key[:60])
            )
            return self._reject(400, "invalid_idempotency_key", error.message, errors=[error])
        found: Inspection | None = None
        tid_source: str | None = None
        if kind == "completion":
            if isinstance(body, dict) and body.get("transactionId") is None:
                tid_source = _fill_transaction_id(body)
            errors = validate_wire(body)
            if isinstance(body, dict):
                found = inspect_body(body)
                errors += found.errors
        elif not isinstance(body, dict):
            errors = [FieldError("(body)", "must be a JSON object", type(body).__name__)]
        else:
            errors = []
        if errors:
            return self._reject(
                400, "validation_failed", "; ".join(e.message for e in errors)[:2000], errors=errors
            )

        store, writer = self._store, self._writer
        if store is None or writer is None:
            return json_error(503, "service_unavailable", "the emulator is shutting down")
        if tid_source is None:
            text = raw.decode("utf-8")  # _loads checked it is UTF-8
            if text.startswith("\ufeff"):  # a BOM: store the JSON without it
                text = text[1:]
        else:  # stored as the service keeps it: with the id it was given
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        # keyed hash of the bytes: the answer's signature and the idempotency fingerprint
        signature = hashlib.blake2b(raw, key=store.secret, digest_size=32).hexdigest()
        tid = body.get("transactionId")
        tid = tid if type(tid) is str else None
        rid = f"{self._id_prefix}{next(self._ids):012x}"
        now, created = self._clock.now()
        label = json.dumps(f"{kind} {tid}"[:255] if tid else kind)
        answer = (
            f'{{"id": "{rid}", "label": {label}, "resourceType": "metering", '
            f'"signature": "{signature}", "created": "{created}"}}'
        )
        item = Pending(kind, key, signature, text, tid, answer, rid, now)
        assert self._loop is not None
        out: asyncio.Future[HttpResponse | Drop] = self._loop.create_future()
        notes = _Notes(key, fault, found, tid_source)

        def done(f: asyncio.Future[Outcome]) -> None:
            if out.done():
                return
            if f.cancelled() or f.exception() is not None:
                out.set_result(self._internal_error())
            else:
                out.set_result(self._answer(f.result(), notes))

        writer.submit(item).add_done_callback(done)
        return out

    def _answer(self, outcome: Outcome, notes: _Notes) -> HttpResponse | Drop:
        key, fault = notes.key, notes.fault
        if outcome.outcome == "mismatch":
            return self._reject(
                409,
                "idempotency_key_mismatch",
                f"{IDEMPOTENCY_HEADER} {key!r} was already used with a different body",
            )
        if outcome.outcome == "duplicate":
            self._counters["duplicates"] += 1
        elif outcome.outcome == "duplicate_transaction":
            self._counters["duplicate_transactions"] += 1
        else:
            self._count_stored(notes)
        if fault is not None:  # lost_response: stored, then the answer is lost
            self._faults[fault.kind] += 1
            return DROP
        assert outcome.response is not None
        return HttpResponse(201, outcome.response.encode())

    def _count_stored(self, notes: _Notes) -> None:
        counters = self._counters
        counters["stored"] += 1
        if notes.key is None:
            counters["no_key"] += 1
        if notes.tid_source is not None:
            counters[f"transaction_ids_{notes.tid_source}"] += 1
        found = notes.found
        if found is not None:
            if found.unknown:
                self._unknown.update(found.unknown)
                counters["records_with_unknown_keys"] += 1
            if found.deprecated:
                self._deprecated.update(found.deprecated)
            if found.extension:
                self._extension.update(found.extension)

    # ---------------------------------------------------------------- admin
    def _health(self, req: HttpRequest) -> HttpResponse:
        answer: dict[str, Any] = {
            "status": "ok",
            "uptime_s": round(time.monotonic() - self._started, 3),
        }
        if self._authorized(req):  # how much is stored is data: only with the key
            answer["in_store"] = self._store.count() if self._store is not None else None
        return json_response(200, answer)

    def _stats_route(self, req: HttpRequest) -> HttpResponse:
        return json_response(200, self.stats())

    @staticmethod
    def _page(q: dict[str, list[str]], errors: list[FieldError]) -> dict[str, int | None]:
        """``limit`` and ``offset`` of a read-out query (bad ones appended to ``errors``)."""
        params: dict[str, int | None] = {"limit": None, "offset": 0}
        for name in params:
            if name in q:
                text = q[name][-1]
                if text.isascii() and text.isdigit() and len(text) < 18:  # not "²"
                    params[name] = int(text)
                else:
                    errors.append(FieldError(name, "must be an integer >= 0", repr(text[:40])))
        return params

    def _costs(self, req: HttpRequest) -> HandlerResult:
        """The priced read-out: one entry per stored completion (``_pricing.price_body``)."""
        errors: list[FieldError] = []
        params = self._page(parse_qs(req.query, keep_blank_values=True), errors)
        if errors:
            return json_error(
                400, "bad_request", "; ".join(e.message for e in errors), errors=errors
            )
        store, loop = self._store, self._loop
        assert store is not None and loop is not None

        async def read() -> HttpResponse:
            text = await loop.run_in_executor(
                self._executor,
                lambda: store.bodies_json(
                    kind="completion", limit=params["limit"], offset=params["offset"] or 0
                ),
            )
            # priced off the store's thread: a long read-out must not hold up the writes
            costs = await loop.run_in_executor(None, price_bodies, json.loads(text))
            return json_response(200, costs)

        return read()

    def _computed(
        self, compute: Any, *, limit: int | None = None, offset: int = 0
    ) -> HandlerResult:
        """Read the stored completions on the store's thread, then answer ``compute(bodies)``
        computed off it (a long read-out must not hold up the writes)."""
        store, loop = self._store, self._loop
        assert store is not None and loop is not None

        async def read() -> HttpResponse:
            text = await loop.run_in_executor(
                self._executor,
                lambda: store.bodies_json(kind="completion", limit=limit, offset=offset),
            )
            answer = await loop.run_in_executor(None, lambda: compute(json.loads(text)))
            return json_response(200, answer)

        return read()

    def _unknown_fields(self, req: HttpRequest) -> HandlerResult:
        """Per-record report of unknown and deprecated fields (``_queries.unknown_fields``)."""
        errors: list[FieldError] = []
        params = self._page(parse_qs(req.query, keep_blank_values=True), errors)
        if errors:
            return json_error(
                400, "bad_request", "; ".join(e.message for e in errors), errors=errors
            )
        return self._computed(unknown_fields, limit=params["limit"], offset=params["offset"] or 0)

    def _duplicates(self, req: HttpRequest) -> HandlerResult:
        """Likely duplicates (``_queries.likely_duplicates``), ``?window_s=`` seconds."""
        q = parse_qs(req.query, keep_blank_values=True)
        text = q.get("window_s", ["2"])[-1]
        try:
            window_s = float(text)
            if not 0 <= window_s <= 86_400:
                raise ValueError
        except ValueError:
            error = FieldError("window_s", "must be a number of seconds from 0 to 86400", text[:40])
            return json_error(400, "bad_request", error.message, errors=[error])
        return self._computed(lambda bodies: likely_duplicates(bodies, window_s))

    def _cost_query(self, req: HttpRequest) -> HandlerResult:
        """Revenium's cost queries (``_queries``): GET, ``x-api-key``, ``teamId``, ``period``
        or ``startDate``/``endDate``; the buckets of ``_queries.cost_metric``."""
        dimension = QUERY_ROUTES.get(req.path[len(QUERY_PREFIX) :])
        if dimension is None:
            return self._reject(404, "not_found", f"no endpoint at {req.path[:200]}")
        if req.method not in ("GET", "HEAD"):
            return self._reject(
                405,
                "method_not_allowed",
                f"{req.method} is not allowed on {req.path}; use GET",
                headers={"Allow": "GET, HEAD"},
            )
        if not self._authorized(req):
            return self._reject(401, "unauthorized", "the cost queries need the x-api-key header")
        try:
            window = parse_window(
                parse_qs(req.query, keep_blank_values=True), now=datetime.now(timezone.utc)
            )
        except QueryError as exc:
            return self._reject(400, "bad_request", str(exc), errors=exc.errors)
        self._counters["queries"] += 1
        return self._computed(lambda bodies: cost_metric(bodies, dimension, window))

    def _events(self, req: HttpRequest) -> HandlerResult:
        q = parse_qs(req.query, keep_blank_values=True)
        errors: list[FieldError] = []
        params = self._page(q, errors)
        kind = q.get("kind", ["completion"])[-1]
        if kind not in (*ENDPOINTS.values(), "all"):
            errors.append(
                FieldError(
                    "kind",
                    "must be one of " + ", ".join(ENDPOINTS.values()) + ", all",
                    repr(kind[:40]),
                )
            )
        if errors:
            return json_error(
                400, "bad_request", "; ".join(e.message for e in errors), errors=errors
            )
        store = self._store
        assert store is not None and self._loop is not None

        async def read() -> HttpResponse:
            text = await self._loop.run_in_executor(  # type: ignore[union-attr]
                self._executor,
                lambda: store.bodies_json(
                    kind=None if kind == "all" else kind,
                    limit=params["limit"],
                    offset=params["offset"] or 0,
                ),
            )
            return HttpResponse(200, text.encode())

        return read()

    def _get_faults(self, req: HttpRequest) -> HttpResponse:
        if req.method in ("PUT", "POST"):
            try:
                config = FaultConfig.model_validate_json(req.body or b"{}")
            except ValidationError as exc:
                errors = [
                    FieldError(
                        ".".join(map(str, e["loc"])) or "(body)",
                        e["msg"],
                        repr(e.get("input"))[:60],
                    )
                    for e in exc.errors()
                ]
                return json_error(
                    400, "bad_request", "; ".join(e.message for e in errors), errors=errors
                )
            self.set_faults(config)
        return HttpResponse(200, self.faults.model_dump_json().encode())

    def _reset(self, req: HttpRequest) -> HandlerResult:
        store = self._store
        assert store is not None and self._loop is not None

        async def reset() -> HttpResponse:
            await self._loop.run_in_executor(self._executor, store.clear)  # type: ignore[union-attr]
            self.reset_stats()
            return json_response(200, {"status": "reset"})

        return reset()


#: admin path -> (allowed methods, handler method name)
_ADMIN: dict[str, tuple[tuple[str, ...], str]] = {
    "/_emulator/health": (("GET", "HEAD"), "_health"),
    "/_emulator/stats": (("GET", "HEAD"), "_stats_route"),
    "/_emulator/events": (("GET", "HEAD"), "_events"),
    "/_emulator/costs": (("GET", "HEAD"), "_costs"),
    "/_emulator/unknown-fields": (("GET", "HEAD"), "_unknown_fields"),
    "/_emulator/duplicates": (("GET", "HEAD"), "_duplicates"),
    "/_emulator/faults": (("GET", "PUT", "POST"), "_get_faults"),
    "/_emulator/reset": (("POST",), "_reset"),
}
