"""Run the emulator from Python: in a background thread (default) or in a subprocess.

``Emulator`` is a context manager. In-process it runs the server (``_server``, on the
stdlib's asyncio) on its own event loop in a daemon thread; with ``process=True`` it starts ``python -m showcase_lib.emulator``
so a heavy client does not share the GIL with the server. Either way ``records()`` and
``events()`` read the SQLite store directly (WAL lets readers and the writer overlap), and
``restart()`` stops and starts the server on the same port with the same store.

The runner talks to a process-mode server's admin routes with ``urllib`` (stdlib): the
emulator imports no HTTP client stack. It sends the API key (the admin routes need it) and,
on writes, ``Content-Type: application/json``.

Example:
    >>> import urllib.request
    >>> with Emulator(api_key="rev_demo_key") as emu:
    ...     status = urllib.request.urlopen(emu.url + "_emulator/health").status
    ...     (status, emu.base_url.endswith("/meter/"), "rev_demo_key" in repr(emu))
    (200, True, False)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from showcase_lib.emulator._faults import FaultConfig
from showcase_lib.emulator._fields import DEPRECATED
from showcase_lib.emulator._pricing import COST_FIELDS, price_bodies
from showcase_lib.emulator._queries import (
    DUPLICATE_FIELDS,
    DUPLICATE_WINDOW_S,
    FIELD_REPORT_FIELDS,
    likely_duplicates,
    unknown_fields,
)
from showcase_lib.emulator._server import EmulatorServer, ServerOptions
from showcase_lib.emulator._store import count_events, read_bodies
from showcase_lib.wire import wire_to_frame

if TYPE_CHECKING:
    import pandas as pd

#: Environment variable the CLI reads the key from when ``--api-key`` is not given
#: (``Emulator(process=True)`` uses it so the key never shows in a process list).
API_KEY_ENV = "SHOWCASE_EMULATOR_API_KEY"


def _has_deprecated(body: dict[str, Any]) -> bool:
    return any(k in body for k in DEPRECATED)


def new_api_key() -> str:
    """A throwaway key the official SDK accepts (it wants a ``rev_`` or ``hak_`` prefix).

    Example:
        >>> new_api_key().startswith("rev_emu_")
        True
    """
    return "rev_emu_" + secrets.token_urlsafe(24)


class _ThreadHost:
    """An EmulatorServer on its own event loop in a daemon thread."""

    def __init__(self, server: EmulatorServer):
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> int:
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                port = loop.run_until_complete(self.server.start())
            except BaseException as exc:
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(port)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="showcase-emulator", daemon=True)
        self._thread.start()
        return ready.result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self.server.stop(), loop)
        try:
            fut.result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._loop = self._thread = None

    def call(self, fn: Any, *args: Any, timeout: float = 15.0) -> Any:
        """Run ``fn(*args)`` on the server's loop and return its result."""
        assert self._loop is not None

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)


class _ProcessHost:
    """``python -m showcase_lib.emulator`` in a child process."""

    def __init__(
        self,
        *,
        api_key: str,
        db_path: str,
        faults: FaultConfig,
        options: ServerOptions,
        log_path: str,
    ):
        self._api_key = api_key
        self.db_path = db_path
        self.faults = faults
        self.host = options.host
        self.port = options.port
        self.options = options
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> int:
        cmd = [
            sys.executable,
            "-m",
            "showcase_lib.emulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--db",
            self.db_path,
            "--faults-json",
            self.faults.model_dump_json(),
            "--max-body-bytes",
            str(self.options.max_body_bytes),
            "--header-timeout-s",
            str(self.options.header_timeout_s),
            "--body-timeout-s",
            str(self.options.body_timeout_s),
            "--keep-alive-timeout-s",
            str(self.options.keep_alive_timeout_s),
            "--max-connections",
            str(self.options.max_connections),
            "--exit-with-parent",  # stdin is our pipe: if this process dies, the emulator stops
        ]
        env = {**os.environ, API_KEY_ENV: self._api_key}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        assert self.proc.stdout is not None
        line: concurrent.futures.Future[bytes] = concurrent.futures.Future()
        threading.Thread(
            target=lambda: line.set_result(self.proc.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        ).start()
        try:
            first = line.result(timeout)
        except concurrent.futures.TimeoutError:
            self.stop()
            raise RuntimeError(f"the emulator process did not start within {timeout} s") from None
        if not first:
            code = self.proc.wait(5)
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                tail = fh.read()[-2000:]
            raise RuntimeError(f"the emulator process exited with code {code}: {tail}")
        self.port = int(json.loads(first)["port"])
        return self.port

    def stop(self, timeout: float = 15.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        self.proc = None


class Emulator:
    """A Revenium-compatible metering API on loopback, as a context manager.

    Args:
        api_key: the key clients must send as ``x-api-key`` (default: a fresh throwaway
            ``rev_emu_...`` key, available as ``.api_key``; never shown in reprs).
        db_path: SQLite store; default a temp file removed on ``close()``.
        faults: a ``FaultConfig`` or a dict of its fields.
        process: run the server in a subprocess instead of a thread.
        options: a ``ServerOptions`` (host, port, limits, timeouts): where and how to listen
            (port 0 picks a free port; ``restart()`` keeps it).

    Example:
        >>> with Emulator(faults={"error_rate": 0.1}) as emu:
        ...     emu.stats()["received"], emu.faults.error_rate
        (0, 0.1)
    """

    def __init__(
        self,
        api_key: str | None = None,
        db_path: str | os.PathLike[str] | None = None,
        faults: FaultConfig | dict[str, Any] | None = None,
        *,
        process: bool = False,
        options: ServerOptions | None = None,
    ):
        self._api_key = api_key if api_key is not None else new_api_key()
        if not self._api_key:
            raise ValueError("api_key='' must be a non-empty string")
        self._tmpdir: str | None = None
        self._remove_tmpdir: weakref.finalize | None = None
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="showcase-emulator-")
            db_path = os.path.join(self._tmpdir, "emulator.sqlite")
            # removed on close(), and otherwise when this object is collected or the interpreter
            # exits (a notebook that never closes its emulator leaves nothing in /tmp)
            self._remove_tmpdir = weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        self.db_path = os.fspath(db_path)
        self.options = options if options is not None else ServerOptions()
        self.host = self.options.host
        self.port = self.options.port
        self.process = process
        self._faults = FaultConfig.coerce(faults)
        self._thread: _ThreadHost | None = None
        self._proc: _ProcessHost | None = None
        # admin calls go straight to loopback: never through a proxy from the environment
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        #: stderr of the server process (process mode only)
        self.log_path: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def __repr__(self) -> str:
        mode = "process" if self.process else "thread"
        state = "running" if self.running else "stopped"
        return (
            f"Emulator(base_url={self.base_url!r}, db_path={self.db_path!r}, mode={mode}, {state})"
        )

    @property
    def api_key(self) -> str:
        """The key clients must send (read it to configure a client; don't print it)."""
        return self._api_key

    @property
    def server(self) -> EmulatorServer | None:
        """The in-process server object (None in process mode or when stopped)."""
        return self._thread.server if self._thread is not None else None

    @property
    def pid(self) -> int | None:
        """The server's process id (this process in thread mode); None when stopped."""
        if self._proc is not None and self._proc.proc is not None:
            return self._proc.proc.pid
        return os.getpid() if self._thread is not None else None

    @property
    def running(self) -> bool:
        return self._thread is not None or self._proc is not None

    def start(self) -> Emulator:
        """Start the server (idempotent)."""
        if self.running:
            return self
        if self.process:
            if self._tmpdir is not None:
                log_path = os.path.join(self._tmpdir, "emulator.log")
            else:  # never write a log next to a caller's store (it may be in a repository)
                log_path = os.path.join(
                    tempfile.gettempdir(), f"showcase-emulator-{os.getpid()}-{id(self):x}.log"
                )
            self.log_path = log_path
            proc = _ProcessHost(
                api_key=self._api_key,
                db_path=self.db_path,
                faults=self._faults,
                options=self._listen(),
                log_path=log_path,
            )
            self.port = proc.start()
            self._proc = proc
        else:
            server = EmulatorServer(
                api_key=self._api_key,
                db_path=self.db_path,
                faults=self._faults,
                options=self._listen(),
            )
            host = _ThreadHost(server)
            self.port = host.start()
            self._thread = host
        return self

    def _listen(self) -> ServerOptions:
        """The options with the port in use (a restart keeps the port it got)."""
        return replace(self.options, port=self.port)

    def stop(self) -> None:
        """Stop the server; the store stays (``restart()`` or ``start()`` reuse it)."""
        if self._thread is not None:
            self._faults = self._thread.server.faults
            self._thread.stop()
            self._thread = None
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def restart(self) -> Emulator:
        """Stop and start again on the same port with the same store and faults."""
        if self.running:
            self._faults = self.faults
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop, and delete the store if it was a temp file created by this object."""
        self.stop()
        if self._remove_tmpdir is not None:
            self._remove_tmpdir()
            self._tmpdir = None
        elif self.log_path is not None:  # the log this object wrote beside a caller's store
            with contextlib.suppress(OSError):
                os.remove(self.log_path)
            self.log_path = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ addresses
    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:8787/``."""
        return f"http://{self.host}:{self.port}/"

    @property
    def base_url(self) -> str:
        """Metering base URL for clients, e.g. ``http://127.0.0.1:8787/meter/``."""
        return self.url + "meter/"

    @property
    def completions_url(self) -> str:
        return self.base_url + "v2/ai/completions"

    # ------------------------------------------------------------------ read-out
    def _admin(self, method: str, path: str, body: bytes | None = None) -> Any:
        if not self.running:
            raise RuntimeError(
                "the emulator is not running; use it inside `with Emulator() as emu:`"
            )
        headers = {"x-api-key": self._api_key}
        if method in ("PUT", "POST"):
            headers["Content-Type"] = "application/json"
            body = body if body is not None else b"{}"
        req = urllib.request.Request(
            self.url + "_emulator/" + path, data=body, method=method, headers=headers
        )
        try:
            with self._http.open(req, timeout=30) as resp:  # 30 s: a reset of a large store
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                message = json.loads(text).get("message", text)
            except ValueError:
                message = text
            raise ValueError(f"{method} /_emulator/{path}: {exc.code} {message}") from None

    def events(
        self, *, limit: int | None = None, offset: int = 0, kind: str = "completion"
    ) -> list[dict[str, Any]]:
        """Stored bodies (wire form), in arrival order; ``kind='all'`` for every endpoint."""
        return read_bodies(
            self.db_path, kind=None if kind == "all" else kind, limit=limit, offset=offset
        )

    def records(self) -> pd.DataFrame:
        """Stored completions as a record frame (``showcase_lib.schema``), in arrival order.

        ``cost_usd`` is what each body carried (NaN when it sent none); ``costs()`` shows what
        the emulator priced such calls at, like the service does. The deprecated
        ``organizationId`` / ``productId`` are not read (the service no longer reads them;
        ``unknown_fields()`` reports them), so such a call has no organization or product
        here, as in the cost queries.
        """
        bodies = [
            {k: v for k, v in b.items() if k not in DEPRECATED} if _has_deprecated(b) else b
            for b in self.events()
        ]
        return wire_to_frame(bodies, validate=False)

    def costs(self, *, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        """The priced read-out: one row per stored completion, in arrival order.

        Columns: transaction_id, source (``caller``: the body's totalCost, kept;
        ``genai-prices``: priced from its tokens, tier and timestamp; ``genai-prices x tier
        multiplier``; ``retired-model table``; ``unpriced``, with the reason in ``note``), the cost in USD by token kind
        (input, cache_read, cache_write, output, reasoning) and total, tier, multiplier, model,
        provider, priced_at (the call's requestTime) and note. The same entries as
        ``GET /_emulator/costs``.

        Example:
            >>> import httpx
            >>> body = {"transactionId": "t1", "provider": "OpenAI", "model": "gpt-5.5",
            ...     "inputTokenCount": 1000, "outputTokenCount": 100, "totalTokenCount": 1100,
            ...     "requestTime": "2026-11-15T12:00:00Z", "responseTime": "2026-11-15T12:00:01Z",
            ...     "completionStartTime": "2026-11-15T12:00:01Z", "requestDuration": 1000,
            ...     "stopReason": "END", "costType": "AI", "isStreamed": False}
            >>> with Emulator() as emu:
            ...     _ = httpx.post(emu.completions_url, json=body, headers={"x-api-key": emu.api_key})
            ...     row = emu.costs().iloc[0]
            >>> row["source"], round(float(row["total"]), 6)  # 1000 x $5 + 100 x $30 per MTok
            ('genai-prices', 0.008)
        """
        import pandas as pd

        bodies = self.events(limit=limit, offset=offset)
        return pd.DataFrame(price_bodies(bodies), columns=list(COST_FIELDS))

    def unknown_fields(self, *, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        """The per-record report of fields the service would ignore, in arrival order.

        One row per unknown or deprecated field of a stored completion (the service answers
        201 and drops them silently: a misspelt ``totalCots`` loses the caller's cost, an
        ``organisationName`` the organization). Columns: transaction_id, field, kind
        (``unknown`` / ``deprecated``), suggestion (the closest field of the service, or the
        replacement of ``organizationId`` / ``productId``) and note (what ignoring it costs).
        ``limit`` / ``offset`` count records, like ``events()``. The same entries as
        ``GET /_emulator/unknown-fields``; ``stats()["unknown_keys"]`` counts them.

        Example:
            >>> import httpx
            >>> body = {"transactionId": "t1", "provider": "OpenAI", "model": "gpt-5.5",
            ...     "inputTokenCount": 10, "outputTokenCount": 5, "totalTokenCount": 15,
            ...     "requestTime": "2026-11-15T12:00:00Z", "responseTime": "2026-11-15T12:00:01Z",
            ...     "completionStartTime": "2026-11-15T12:00:01Z", "requestDuration": 1000,
            ...     "stopReason": "END", "costType": "AI", "isStreamed": False, "totalCots": 0.1}
            >>> with Emulator() as emu:
            ...     r = httpx.post(emu.completions_url, json=body, headers={"x-api-key": emu.api_key})
            ...     report = emu.unknown_fields()
            >>> r.status_code, report[["field", "suggestion"]].values.tolist()
            (201, [['totalCots', 'totalCost']])
        """
        import pandas as pd

        rows = unknown_fields(self.events(limit=limit, offset=offset))
        return pd.DataFrame(rows, columns=list(FIELD_REPORT_FIELDS))

    def duplicates(self, *, window_s: float = DUPLICATE_WINDOW_S) -> pd.DataFrame:
        """Stored completions that look like one call metered twice (under two transactionIds).

        The store already counts a call once when both deliveries carry its transactionId
        (``stats()["duplicate_transactions"]``); this read-out finds the ones it cannot know
        about: same provider, model, input and output token counts, ``requestTime`` within
        ``window_s`` seconds, different transactionIds. One row per call, ``group`` numbering
        each set; columns transaction_id, provider, model, input_tokens, output_tokens,
        request_time, gap_s, middleware_source. The same as ``GET /_emulator/duplicates``.

        Example:
            >>> with Emulator() as emu:
            ...     emu.duplicates().empty
            True
        """
        import pandas as pd

        rows = likely_duplicates(self.events(), window_s)
        return pd.DataFrame(rows, columns=list(DUPLICATE_FIELDS))

    def stats(self) -> dict[str, Any]:
        """Counters since the server (re)started: received, stored, duplicates (repeats of an
        idempotency key), duplicate_transactions (completions whose transactionId was already
        stored: not stored again), no_key, transaction_ids_generated / _from_span (completions
        sent without a transactionId), unknown_keys / deprecated_keys / extension_keys (field
        -> stored records carrying it) and records_with_unknown_keys, queries (cost queries
        answered), responses/rejected by status, faults by kind, in_store (durable total), ...
        """
        if self._thread is not None:
            return self._thread.call(self._thread.server.stats)
        return self._admin("GET", "stats")

    @property
    def faults(self) -> FaultConfig:
        """The fault configuration in force."""
        if self._thread is not None:
            return self._thread.server.faults
        if self._proc is not None:
            return FaultConfig.model_validate(self._admin("GET", "faults"))
        return self._faults

    def set_faults(
        self, faults: FaultConfig | dict[str, Any] | None = None, **fields: Any
    ) -> FaultConfig:
        """Replace the faults while running: ``set_faults(error_rate=0.2)``, a dict, a
        ``FaultConfig``, or ``set_faults()`` / ``set_faults(None)`` for no faults."""
        if faults is not None and fields:
            raise ValueError("pass either a FaultConfig/dict or keyword fields, not both")
        config = FaultConfig.coerce(faults if faults is not None else fields)
        self._faults = config
        if self._thread is not None:
            self._thread.call(self._thread.server.set_faults, config)
        elif self._proc is not None:
            self._admin("PUT", "faults", config.model_dump_json().encode())
        return config

    def reset(self) -> None:
        """Delete every stored record and idempotency key, and zero the counters."""
        self._admin("POST", "reset")

    def set_budgets(self, team_id: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """Serve ``rules`` (``_budgets.BudgetRule`` fields) to the SDK's cost-control poll for
        ``team_id`` (``[]`` removes them); returns ``budgets()``."""
        body = json.dumps({"team_id": team_id, "rules": rules}).encode()
        return self._admin("PUT", "budgets", body)

    def budgets(self) -> dict[str, Any]:
        """Each rule's spend in its window, crossing, calls past the cap; the polls served."""
        return self._admin("GET", "budgets")

    def wait_for(self, n: int, *, timeout: float = 30.0, kind: str = "completion") -> int:
        """Block until the store holds at least ``n`` events of ``kind``; return the count."""
        deadline = time.monotonic() + timeout
        while True:
            count = count_events(self.db_path, kind=kind)
            if count >= n or time.monotonic() > deadline:
                return count
            time.sleep(0.02)
