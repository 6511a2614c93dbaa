"""HTTP transport: one JSON record per POST over keep-alive connections.

Two interchangeable async transports (``benchmarks/bench_metering.py`` measures both and the
tracker defaults to the faster, aiohttp) and one blocking sender used as the "without a
tracker" baseline. Every request carries ``x-api-key``, ``Content-Type: application/json`` and
the record's ``Idempotency-Key``. Errors are turned into :class:`RetryableError` or
:class:`PermanentError` whose messages hold the reason and status only (never headers, never
the key; the original exception is not chained).

Example:
    >>> from showcase_lib.metering import Settings
    >>> t = make_transport("aiohttp", Settings("k", "http://127.0.0.1:9"), concurrency=4)
    >>> type(t).__name__, t.requests
    ('AiohttpTransport', 0)
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import aiohttp
import httpx

from showcase_lib.metering._retry import PermanentError, RetryableError, classify
from showcase_lib.metering._settings import Settings
from showcase_lib.metering._spool import Envelope

TRANSPORTS = ("aiohttp", "httpx")


class Transport(Protocol):
    """What the tracker needs from an HTTP client."""

    requests: int
    connections: int | None

    async def start(self) -> None: ...
    async def send(self, env: Envelope) -> None: ...
    async def probe(self) -> dict: ...
    async def close(self) -> None: ...


def _probe_url(settings: Settings) -> str:
    return settings.health_url or settings.base_url


class _CountingConnector(aiohttp.TCPConnector):
    """A TCPConnector that counts the connections it opens (cheaper than a TraceConfig,
    which adds work to every request)."""

    opened = 0

    async def _create_connection(self, req, traces, timeout):  # type: ignore[override]
        proto = await super()._create_connection(req, traces, timeout)
        self.opened += 1
        return proto


class AiohttpTransport:
    """aiohttp ``ClientSession`` with a bounded keep-alive pool (counts requests and connections)."""

    def __init__(self, settings: Settings, *, concurrency: int = 64) -> None:
        self.settings = settings
        self.concurrency = concurrency
        self.requests = 0
        self._connector: _CountingConnector | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def connections(self) -> int:
        """TCP connections opened so far."""
        return self._connector.opened if self._connector is not None else 0

    async def start(self) -> None:
        s = self.settings
        # idle connections live 30 s: longer than the gaps of a quiet app (no new TLS
        # handshake per burst), shorter than typical load-balancer idle timeouts (60 s); DNS
        # answers are cached 5 minutes, so a moved service is found again within that time
        self._connector = _CountingConnector(
            limit=self.concurrency, keepalive_timeout=30.0, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(
            connector=self._connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=s.connect_timeout_s, sock_read=s.timeout_s
            ),
            headers={"x-api-key": s.api_key.reveal(), "Content-Type": "application/json"},  # type: ignore[union-attr]
            skip_auto_headers=("User-Agent",),
            raise_for_status=False,
        )

    async def send(self, env: Envelope) -> None:
        assert self._session is not None, "start() first"
        self.requests += 1
        env.attempts += 1
        try:
            async with self._session.post(
                self.settings.completions_url, data=env.body, headers={"Idempotency-Key": env.key}
            ) as resp:
                status = resp.status
                body = await resp.read()
                headers = resp.headers
        except (TimeoutError, asyncio.TimeoutError):
            raise RetryableError("timeout") from None
        except aiohttp.ClientError as exc:
            raise RetryableError(f"connection error: {type(exc).__name__}") from None
        err = classify(status, headers, body)
        if err is not None:
            raise err

    async def probe(self) -> dict:
        assert self._session is not None, "start() first"
        t0 = time.perf_counter()
        try:
            async with self._session.get(_probe_url(self.settings)) as resp:
                await resp.read()
                status = resp.status
        except (TimeoutError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
            return {
                "reachable": False,
                "status": None,
                "error": type(exc).__name__,
                "latency_ms": (time.perf_counter() - t0) * 1000,
            }
        return {
            "reachable": status < 500,
            "status": status,
            "error": None,
            "latency_ms": (time.perf_counter() - t0) * 1000,
        }

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxTransport:
    """httpx ``AsyncClient`` with the same pool size (connections are not counted)."""

    def __init__(self, settings: Settings, *, concurrency: int = 64) -> None:
        self.settings = settings
        self.concurrency = concurrency
        self.requests = 0
        self.connections: int | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        s = self.settings
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
            timeout=httpx.Timeout(s.timeout_s, connect=s.connect_timeout_s, pool=None),
            headers={"x-api-key": s.api_key.reveal(), "Content-Type": "application/json"},  # type: ignore[union-attr]
        )

    async def send(self, env: Envelope) -> None:
        assert self._client is not None, "start() first"
        self.requests += 1
        env.attempts += 1
        try:
            resp = await self._client.post(
                self.settings.completions_url,
                content=env.body,
                headers={"Idempotency-Key": env.key},
            )
        except httpx.TimeoutException:
            raise RetryableError("timeout") from None
        except httpx.TransportError as exc:
            raise RetryableError(f"connection error: {type(exc).__name__}") from None
        err = classify(resp.status_code, resp.headers, resp.content)
        if err is not None:
            raise err

    async def probe(self) -> dict:
        assert self._client is not None, "start() first"
        t0 = time.perf_counter()
        try:
            resp = await self._client.get(_probe_url(self.settings))
        except httpx.HTTPError as exc:
            return {
                "reachable": False,
                "status": None,
                "error": type(exc).__name__,
                "latency_ms": (time.perf_counter() - t0) * 1000,
            }
        return {
            "reachable": resp.status_code < 500,
            "status": resp.status_code,
            "error": None,
            "latency_ms": (time.perf_counter() - t0) * 1000,
        }

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def make_transport(name: str, settings: Settings, *, concurrency: int = 64) -> Transport:
    """Build a transport by name: ``"aiohttp"`` (default, faster) or ``"httpx"``.

    Example:
        >>> make_transport("curl", Settings("k", "http://h"))
        Traceback (most recent call last):
        ...
        ValueError: transport='curl' is not one of aiohttp, httpx
    """
    if name == "aiohttp":
        return AiohttpTransport(settings, concurrency=concurrency)
    if name == "httpx":
        return HttpxTransport(settings, concurrency=concurrency)
    raise ValueError(f"transport={name!r} is not one of {', '.join(TRANSPORTS)}")


__all__ = [
    "TRANSPORTS",
    "AiohttpTransport",
    "HttpxTransport",
    "PermanentError",
    "RetryableError",
    "Transport",
    "make_transport",
]
