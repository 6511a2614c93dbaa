"""The stand-in as an ``httpx2`` transport (sync and async), the hook both pinned clients take
through ``http_client=``: ``openai`` 3.57.0 and ``anthropic`` 2.14.0 send through ``httpx2``
(``anthropic`` rejects a plain ``httpx.Client``; ``openai`` takes either)."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx2

from showcase_lib.stand_in import _bodies
from showcase_lib.stand_in._bodies import Answer, Tokens

if TYPE_CHECKING:
    from showcase_lib.stand_in._config import ErrorKind, StandIn

Api = Literal["chat", "responses", "messages"]

# path suffix -> (provider, api): routing ignores the host, so the clients keep their real
# base URLs (api.openai.com/v1, api.anthropic.com) and nothing else changes to go live
_ROUTES: tuple[tuple[str, str, Api], ...] = (
    ("/chat/completions", "openai", "chat"),
    ("/responses", "openai", "responses"),
    ("/v1/messages", "anthropic", "messages"),
)


@dataclass(frozen=True, slots=True)
class Served:
    """One call the stand-in answered: what was asked and what it returned."""

    index: int
    provider: str
    api: Api | None
    model: str | None
    stream: bool
    status: int
    error: ErrorKind | None
    tokens: Tokens | None  # None for an error answer


class StandInTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers every request locally (never opens a socket); thread- and task-safe."""

    def __init__(self, config: StandIn):
        self.config = config
        self.served: list[Served] = []
        self._lock = threading.Lock()
        self._next = 0

    def __repr__(self) -> str:
        return f"StandInTransport(seed={self.config.seed}, served={len(self.served)})"

    # ------------------------------------------------------------------ httpx2 hooks
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        status, headers, body, stream = self._answer(request)
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)
        if stream is None:
            return httpx2.Response(status, headers=headers, content=body)
        return httpx2.Response(status, headers=headers, stream=_SyncChunks(stream, self.config))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        status, headers, body, stream = self._answer(request)
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if stream is None:
            return httpx2.Response(status, headers=headers, content=body)
        return httpx2.Response(status, headers=headers, stream=_AsyncChunks(stream, self.config))

    # ------------------------------------------------------------------ the answer
    def _answer(
        self, request: httpx2.Request
    ) -> tuple[int, dict[str, str], bytes, Iterator[bytes] | None]:
        with self._lock:
            index = self._next
            self._next += 1
        provider, api = _route(request)
        try:
            payload = json.loads(request.content or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        model = payload.get("model") if isinstance(payload.get("model"), str) else None
        stream = payload.get("stream") is True
        error, tokens, text = self.config.draw(index)
        request_id = f"req_stand_in_{self.config.seed}_{index}"
        headers = {"request-id": request_id, "x-request-id": request_id}
        if api is None or model is None:
            status = 404 if api is None else 400
            message = "unknown route" if api is None else "model is required"
            body = _not_served(provider, status, message)
            self._log(Served(index, provider, api, model, stream, status, None, None))
            return status, {**headers, "content-type": "application/json"}, body, None
        if error is not None:
            status, err = _bodies.error_body(provider, error, request_id)
            if error == "rate_limit":
                headers |= _retry_after(self.config.retry_after_s)
            self._log(Served(index, provider, api, model, stream, status, error, None))
            body = json.dumps(err).encode()
            return status, {**headers, "content-type": "application/json"}, body, None
        self._log(Served(index, provider, api, model, stream, 200, None, tokens))
        ids = (f"stand_in_{self.config.seed}_{index}", f"{self.config.seed}_{index}")
        prefix = {"chat": "chatcmpl-", "responses": "resp_", "messages": "msg_"}[api]
        answer = Answer((prefix + ids[0], ids[1]), model, text, tokens, int(time.time()))
        if stream:
            sse = {**headers, "content-type": "text/event-stream; charset=utf-8"}
            return 200, sse, b"", _stream(api, answer, payload)
        body = json.dumps(_body(api, answer)).encode()
        return 200, {**headers, "content-type": "application/json"}, body, None

    def _log(self, served: Served) -> None:
        with self._lock:
            self.served.append(served)


def _route(request: httpx2.Request) -> tuple[str, Api | None]:
    path = request.url.path
    for suffix, provider, api in _ROUTES:
        if request.method == "POST" and path.endswith(suffix):
            return provider, api
    provider = "anthropic" if "anthropic" in request.url.host else "openai"
    return provider, None


def _not_served(provider: str, status: int, message: str) -> bytes:
    if provider == "anthropic":
        kind = "not_found_error" if status == 404 else "invalid_request_error"
        return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    kind = "invalid_request_error"
    return json.dumps({"error": {"message": message, "type": kind, "param": None}}).encode()


def _retry_after(seconds: float) -> dict[str, str]:
    # both clients read retry-after-ms first (milliseconds), then retry-after (seconds)
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(round(seconds * 1000)),
    }


def _body(api: Api, answer: Answer) -> dict[str, Any]:
    if api == "chat":
        return _bodies.openai_chat(answer)
    if api == "responses":
        return _bodies.openai_response(answer)
    return _bodies.anthropic_message(answer)


def _stream(api: Api, answer: Answer, payload: dict[str, Any]) -> Iterator[bytes]:
    if api == "chat":
        options = payload.get("stream_options")
        include = isinstance(options, dict) and options.get("include_usage") is True
        return _bodies.openai_chat_stream(answer, include_usage=include)
    if api == "responses":
        return _bodies.openai_responses_stream(answer)
    return _bodies.anthropic_stream(answer)


class _SyncChunks(httpx2.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes], config: StandIn):
        self._chunks, self._delay = chunks, config.chunk_ms / 1000

    def __iter__(self) -> Iterator[bytes]:
        for i, chunk in enumerate(self._chunks):
            if i and self._delay:
                time.sleep(self._delay)
            yield chunk


class _AsyncChunks(httpx2.AsyncByteStream):
    def __init__(self, chunks: Iterator[bytes], config: StandIn):
        self._chunks, self._delay = chunks, config.chunk_ms / 1000

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self._chunks):
            if i and self._delay:
                await asyncio.sleep(self._delay)
            yield chunk
