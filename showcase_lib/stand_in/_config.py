"""The stand-in's configuration: token counts per call, jitter, latency and errors, all drawn
deterministically from ``seed`` and the call's index."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from showcase_lib.stand_in._bodies import Tokens

if TYPE_CHECKING:
    import httpx2

    from showcase_lib.stand_in._server import LoopbackStandIn
    from showcase_lib.stand_in._transport import StandInTransport

ErrorKind = Literal["rate_limit", "server_error", "overloaded"]

_ANSWERS = (
    "Your invoice total is the sum of every metered call in the period.",
    "The cheapest fix is to keep the long system prompt stable so it stays cached.",
    "Reasoning tokens are billed as output even though you never see them.",
    "Here is a short summary of the ticket and the customer's last three messages.",
    "The refund was approved and the customer has been notified by email.",
)


@dataclass(frozen=True, slots=True)
class StandIn:
    """**A stand-in for the OpenAI and Anthropic HTTP APIs** (the only fake in the book's LLM
    path): plug it into the official ``openai`` / ``anthropic`` client as its HTTP transport and
    everything after it (request building, retries, response parsing, streaming, Revenium's
    middleware patching the client) is the real code.

    It serves ``POST .../chat/completions`` and ``.../responses`` (OpenAI) and
    ``.../v1/messages`` (Anthropic), streamed or not, with realistic usage bodies: OpenAI's
    ``prompt_tokens_details.cached_tokens`` / ``completion_tokens_details.reasoning_tokens``
    (inside ``prompt_tokens`` / ``completion_tokens``); Anthropic's exclusive ``input_tokens``
    beside ``cache_read_input_tokens``, ``cache_creation_input_tokens`` and the
    ``cache_creation`` 5-minute / 1-hour split, thinking in
    ``output_tokens_details.thinking_tokens``. Streams carry the usage in the final chunk (only
    with ``stream_options={"include_usage": True}``, as OpenAI does) or in ``message_start`` /
    ``message_delta``.

    The token fields are one call's counts in the **record's inclusive rule** (``input_tokens``
    includes cache reads and writes; ``output_tokens`` includes reasoning), so
    ``showcase_lib.usage.to_record_tokens(response.usage)`` gives them back for any provider.
    ``jitter`` > 0 scales the prompt side and the output side of each call by a log-normal
    factor (sigma ``jitter``) drawn from ``seed`` and the call's index; the same seed serves the
    same sequence. OpenAI has no 1-hour cache TTL: its bodies carry the writes unsplit.

    ``latency_ms`` is really waited on the transport (``time.sleep`` / ``asyncio.sleep``) before
    the response head; ``chunk_ms`` between stream chunks. Errors: call *i* (attempts count, a
    client's retry is a new call) fails with ``errors[i]`` when ``i < len(errors)`` (``None``
    = success), else with probability ``error_rate`` with a kind drawn from ``error_kinds``:
    ``"rate_limit"`` (429 with ``retry-after`` / ``retry-after-ms`` = ``retry_after_s``),
    ``"server_error"`` (500), ``"overloaded"`` (Anthropic 529, OpenAI 503), each with the
    provider's error body. Every call is logged in ``transport.served``.

    Example (and the only change to reach the real providers: drop ``http_client=...`` and set
    ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``):
        >>> import anthropic, openai
        >>> from showcase_lib.stand_in import StandIn
        >>> stand_in = StandIn(input_tokens=1200, cache_read_tokens=1024, output_tokens=300,
        ...                    reasoning_tokens=120)
        >>> client = openai.OpenAI(api_key="sk-stand-in", http_client=stand_in.http_client())
        >>> r = client.chat.completions.create(model="gpt-5.4-mini",
        ...                                    messages=[{"role": "user", "content": "Hi"}])
        >>> u = r.usage
        >>> (u.prompt_tokens, u.prompt_tokens_details.cached_tokens,
        ...  u.completion_tokens_details.reasoning_tokens)
        (1200, 1024, 120)
        >>> claude = anthropic.Anthropic(api_key="sk-ant-stand-in",
        ...                              http_client=StandIn(cache_write_tokens=100).http_client())
        >>> m = claude.messages.create(model="claude-haiku-4-5", max_tokens=400,
        ...                            messages=[{"role": "user", "content": "Hi"}])
        >>> (m.usage.input_tokens, m.usage.cache_read_input_tokens,
        ...  m.usage.cache_creation_input_tokens)
        (364, 1536, 100)
    """

    seed: int = 0
    # Defaults: a 2,000-token prompt whose 1,536-token prefix is cached (OpenAI caches
    # prompts over 1,024 tokens in 128-token steps), a 400-token answer with 128 reasoning
    # tokens (a low-effort reasoning model); no cache writes.
    input_tokens: int = 2000
    cache_read_tokens: int = 1536
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 400
    reasoning_tokens: int = 128
    jitter: float = 0.0
    latency_ms: float = 0.0
    chunk_ms: float = 0.0
    errors: tuple[ErrorKind | None, ...] = ()
    error_rate: float = 0.0
    error_kinds: tuple[ErrorKind, ...] = ("rate_limit", "server_error", "overloaded")
    retry_after_s: float = 1.0

    def __post_init__(self) -> None:
        _check(self)

    def transport(self) -> StandInTransport:
        """A new transport (sync and async: give it to ``httpx2.Client`` or
        ``httpx2.AsyncClient``) with its own call counter and ``served`` log.

        Example:
            >>> import httpx2
            >>> t = StandIn().transport()
            >>> with httpx2.Client(transport=t) as c:
            ...     c.post("https://api.openai.com/v1/chat/completions",
            ...            json={"model": "m", "messages": []}).status_code
            200
            >>> (len(t.served), t.served[0].api, t.served[0].tokens.cache_read_tokens)
            (1, 'chat', 1536)
        """
        from showcase_lib.stand_in._transport import StandInTransport

        return StandInTransport(self)

    def http_client(self, transport: StandInTransport | None = None) -> httpx2.Client:
        """An ``httpx2.Client`` on ``transport`` (a new one by default) for ``http_client=``.

        Example:
            >>> StandIn().http_client().post("https://api.anthropic.com/v1/messages",
            ...     json={"model": "m", "max_tokens": 5, "messages": []}).json()["type"]
            'message'
        """
        import httpx2

        return httpx2.Client(transport=transport or self.transport())

    def async_http_client(self, transport: StandInTransport | None = None) -> httpx2.AsyncClient:
        """An ``httpx2.AsyncClient`` on ``transport`` for ``openai.AsyncOpenAI`` /
        ``anthropic.AsyncAnthropic``.

        Example:
            >>> import asyncio
            >>> async def once():
            ...     async with StandIn().async_http_client() as c:
            ...         r = await c.post("https://api.openai.com/v1/responses",
            ...                          json={"model": "m", "input": "hi"})
            ...         return r.json()["usage"]["input_tokens"]
            >>> asyncio.run(once())
            2000
        """
        import httpx2

        return httpx2.AsyncClient(transport=transport or self.transport())

    def serve(self, port: int = 0) -> LoopbackStandIn:
        """The same stand-in behind a real loopback socket (HTTP/1.1, a thread per connection),
        for clients that cannot take ``http_client=``: point them at ``url`` with
        ``base_url=url + "v1"`` (OpenAI) or ``base_url=url`` (Anthropic); going live is then
        dropping ``base_url=``. A context manager; ``served`` is its log.

        Example:
            >>> import openai
            >>> with StandIn(seed=1).serve() as srv:
            ...     client = openai.OpenAI(api_key="sk-stand-in", base_url=srv.url + "v1")
            ...     r = client.chat.completions.create(model="m", messages=[], stream=True,
            ...                                        stream_options={"include_usage": True})
            ...     usage = list(r)[-1].usage
            >>> (usage.prompt_tokens, len(srv.served))
            (2000, 1)
        """
        from showcase_lib.stand_in._server import LoopbackStandIn

        return LoopbackStandIn(self.transport(), port)

    def draw(self, index: int) -> tuple[ErrorKind | None, Tokens, str]:
        """Call ``index``'s error (or None), token counts and answer text.

        Example:
            >>> StandIn(seed=3, jitter=0.3).draw(5) == StandIn(seed=3, jitter=0.3).draw(5)
            True
            >>> StandIn(errors=("rate_limit", None)).draw(0)[0]
            'rate_limit'
        """
        rng = random.Random(f"stand-in:{self.seed}:{index}")
        return _error(self, index, rng), _tokens(self, rng), rng.choice(_ANSWERS)


def _error(cfg: StandIn, index: int, rng: random.Random) -> ErrorKind | None:
    # drawn first and always (two draws), so the error settings never move the token draws
    hit, pick = rng.random(), rng.random()
    if index < len(cfg.errors):
        return cfg.errors[index]
    if hit < cfg.error_rate:
        return cfg.error_kinds[int(pick * len(cfg.error_kinds))]
    return None


def _tokens(cfg: StandIn, rng: random.Random) -> Tokens:
    s_in = math.exp(rng.gauss(0.0, cfg.jitter)) if cfg.jitter else 1.0
    s_out = math.exp(rng.gauss(0.0, cfg.jitter)) if cfg.jitter else 1.0
    read = round(cfg.cache_read_tokens * s_in)
    write = round(cfg.cache_write_tokens * s_in)
    write_1h = min(write, round(cfg.cache_write_1h_tokens * s_in))
    reasoning = round(cfg.reasoning_tokens * s_out)
    return Tokens(
        input_tokens=max(round(cfg.input_tokens * s_in), read + write),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        output_tokens=max(round(cfg.output_tokens * s_out), reasoning),
        reasoning_tokens=reasoning,
    )


def _check(cfg: StandIn) -> None:
    counts = (
        "input_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "output_tokens",
        "reasoning_tokens",
    )
    for name in counts:
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"StandIn.{name} must be a non-negative int, got {value!r}")
    for name in ("jitter", "latency_ms", "chunk_ms", "retry_after_s"):
        value = getattr(cfg, name)
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"StandIn.{name} must be a finite number >= 0, got {value!r}")
    if cfg.cache_read_tokens + cfg.cache_write_tokens > cfg.input_tokens:
        raise ValueError(
            "StandIn.input_tokens includes cache reads and writes: "
            f"cache_read_tokens + cache_write_tokens = "
            f"{cfg.cache_read_tokens + cfg.cache_write_tokens} > input_tokens = {cfg.input_tokens}"
        )
    if cfg.cache_write_1h_tokens > cfg.cache_write_tokens:
        raise ValueError(
            f"StandIn.cache_write_1h_tokens = {cfg.cache_write_1h_tokens} is a share of "
            f"cache_write_tokens = {cfg.cache_write_tokens}"
        )
    if cfg.reasoning_tokens > cfg.output_tokens:
        raise ValueError(
            f"StandIn.output_tokens includes reasoning: reasoning_tokens = "
            f"{cfg.reasoning_tokens} > output_tokens = {cfg.output_tokens}"
        )
    if not 0.0 <= cfg.error_rate <= 1.0:
        raise ValueError(f"StandIn.error_rate must be within [0, 1], got {cfg.error_rate!r}")
    kinds = get_args(ErrorKind)
    for name, values in (("errors", cfg.errors), ("error_kinds", cfg.error_kinds)):
        for value in values:
            if value not in kinds and not (name == "errors" and value is None):
                raise ValueError(f"StandIn.{name}: {value!r} is not one of {kinds}")
    if cfg.error_rate and not cfg.error_kinds:
        raise ValueError("StandIn.error_kinds is empty but error_rate > 0")
