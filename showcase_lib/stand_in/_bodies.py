"""Provider-shaped JSON bodies and SSE streams for the stand-in (OpenAI chat and responses,
Anthropic messages), built from one call's token counts under the record's inclusive rule.

The shapes follow the pinned clients' own types (``openai`` 3.57.0:
``types/completion_usage.py``, ``types/responses/response_usage.py``,
``types/chat/chat_completion_chunk.py``; ``anthropic`` 2.14.0: ``types/usage.py``,
``types/message_delta_usage.py``, ``types/raw_message_stream_event.py``). Only the usage
differs between providers in a way that matters for cost:

- OpenAI counts cache reads (and writes) *inside* ``prompt_tokens`` / ``input_tokens`` and
  reasoning inside ``completion_tokens`` / ``output_tokens``.
- Anthropic's ``input_tokens`` *excludes* ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens``; thinking sits inside ``output_tokens`` and is broken out in
  ``output_tokens_details.thinking_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple


class Tokens(NamedTuple):
    """One call's token counts, record names, inclusive rule (input includes cache reads and
    writes, output includes reasoning)."""

    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    reasoning_tokens: int


class Answer(NamedTuple):
    """What one successful call returns, before it is shaped for a provider."""

    ids: tuple[str, str]  # (response id, item id)
    model: str
    text: str
    tokens: Tokens
    created: int


# ------------------------------------------------------------------ usage blocks
def openai_chat_usage(t: Tokens) -> dict[str, Any]:
    prompt_details: dict[str, Any] = {"audio_tokens": 0, "cached_tokens": t.cache_read_tokens}
    if t.cache_write_tokens:
        # newer OpenAI models report prompt-cache writes (inside prompt_tokens)
        prompt_details["cache_write_tokens"] = t.cache_write_tokens
    return {
        "prompt_tokens": t.input_tokens,
        "completion_tokens": t.output_tokens,
        "total_tokens": t.input_tokens + t.output_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": t.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def openai_responses_usage(t: Tokens) -> dict[str, Any]:
    return {
        "input_tokens": t.input_tokens,
        "input_tokens_details": {
            "cached_tokens": t.cache_read_tokens,
            "cache_write_tokens": t.cache_write_tokens,
        },
        "output_tokens": t.output_tokens,
        "output_tokens_details": {"reasoning_tokens": t.reasoning_tokens},
        "total_tokens": t.input_tokens + t.output_tokens,
    }


def anthropic_usage(t: Tokens) -> dict[str, Any]:
    usage: dict[str, Any] = {
        # Anthropic's input_tokens is the uncached rest: exclusive of cache reads and writes
        "input_tokens": t.input_tokens - t.cache_read_tokens - t.cache_write_tokens,
        "cache_creation_input_tokens": t.cache_write_tokens,
        "cache_read_input_tokens": t.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": t.cache_write_tokens - t.cache_write_1h_tokens,
            "ephemeral_1h_input_tokens": t.cache_write_1h_tokens,
        },
        "output_tokens": t.output_tokens,
        "service_tier": "standard",
        "server_tool_use": None,
    }
    if t.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": t.reasoning_tokens}
    return usage


# ------------------------------------------------------------------ whole bodies
def _openai_message(a: Answer) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": a.text,
        "refusal": None,
        "annotations": [],
    }


def openai_chat(a: Answer) -> dict[str, Any]:
    return {
        "id": a.ids[0],
        "object": "chat.completion",
        "created": a.created,
        "model": a.model,
        "choices": [
            {
                "index": 0,
                "message": _openai_message(a),
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": openai_chat_usage(a.tokens),
        "service_tier": "default",
        "system_fingerprint": "fp_stand_in",
    }


def _responses_output(a: Answer, *, done: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if a.tokens.reasoning_tokens:
        out.append({"type": "reasoning", "id": "rs_" + a.ids[1], "summary": []})
    out.append(_responses_message(a, done=done))
    return out


def _responses_message(a: Answer, *, done: bool) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_" + a.ids[1],
        "status": "completed" if done else "in_progress",
        "role": "assistant",
        "content": [_output_text(a.text)] if done else [],
    }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def openai_response(a: Answer, *, done: bool = True) -> dict[str, Any]:
    return {
        "id": a.ids[0],
        "object": "response",
        "created_at": a.created,
        "status": "completed" if done else "in_progress",
        "model": a.model,
        "output": _responses_output(a, done=True) if done else [],
        "usage": openai_responses_usage(a.tokens) if done else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "truncation": "disabled",
        "background": False,
        "previous_response_id": None,
        "max_output_tokens": None,
        "user": None,
    }


def anthropic_message(a: Answer) -> dict[str, Any]:
    return {
        "id": a.ids[0],
        "type": "message",
        "role": "assistant",
        "model": a.model,
        "content": [{"type": "text", "text": a.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(a.tokens),
    }


# ------------------------------------------------------------------ streams (SSE frames)
def _pieces(text: str) -> list[str]:
    """The answer as stream deltas: one word (with its leading space) per chunk."""
    words = text.split(" ")
    return [words[0]] + [" " + w for w in words[1:]]


def _data(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _event(name: str, obj: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\n" + _data({"type": name, **obj})


def openai_chat_stream(a: Answer, *, include_usage: bool) -> Iterator[bytes]:
    """Chunks as OpenAI sends them: role, content deltas, the finish chunk, then (only with
    ``stream_options={"include_usage": True}``) a chunk with no choices and the usage."""
    head = {
        "id": a.ids[0],
        "object": "chat.completion.chunk",
        "created": a.created,
        "model": a.model,
        "service_tier": "default",
        "system_fingerprint": "fp_stand_in",
    }
    tail = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _data({**head, "choices": [choice], **tail})

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in _pieces(a.text):
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    if include_usage:
        yield _data({**head, "choices": [], "usage": openai_chat_usage(a.tokens)})
    yield b"data: [DONE]\n\n"


def openai_responses_stream(a: Answer) -> Iterator[bytes]:
    """Responses API events, ``response.created`` ... ``response.completed`` (the usage)."""
    seq = iter(range(1_000_000))
    message = _responses_message(a, done=False)
    index = len(_responses_output(a, done=False)) - 1  # the message follows any reasoning item
    where = {"item_id": message["id"], "output_index": index, "content_index": 0}

    def ev(name: str, **obj: Any) -> bytes:
        return _event(name, {"sequence_number": next(seq), **obj})

    yield ev("response.created", response=openai_response(a, done=False))
    yield ev("response.in_progress", response=openai_response(a, done=False))
    if a.tokens.reasoning_tokens:
        item = _responses_output(a, done=True)[0]
        yield ev("response.output_item.added", output_index=0, item=item)
        yield ev("response.output_item.done", output_index=0, item=item)
    yield ev("response.output_item.added", output_index=index, item=message)
    yield ev("response.content_part.added", **where, part=_output_text(""))
    for piece in _pieces(a.text):
        yield ev("response.output_text.delta", **where, delta=piece, logprobs=[])
    yield ev("response.output_text.done", **where, text=a.text, logprobs=[])
    yield ev("response.content_part.done", **where, part=_output_text(a.text))
    done_message = _responses_message(a, done=True)
    yield ev("response.output_item.done", output_index=index, item=done_message)
    yield ev("response.completed", response=openai_response(a, done=True))


def anthropic_stream(a: Answer) -> Iterator[bytes]:
    """Messages events: ``message_start`` carries the input side of the usage (and
    ``output_tokens: 1``), ``message_delta`` the cumulative totals (output included)."""
    usage = anthropic_usage(a.tokens)
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    message = {**anthropic_message(a), "content": [], "stop_reason": None, "usage": start_usage}
    yield _event("message_start", {"message": message})
    yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    yield _event("ping", {})
    for piece in _pieces(a.text):
        yield _event(
            "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}}
        )
    yield _event("content_block_stop", {"index": 0})
    delta_usage = {
        k: usage[k]
        for k in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
            "output_tokens_details",
            "server_tool_use",
        )
        if k in usage
    }
    yield _event(
        "message_delta",
        {"delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": delta_usage},
    )
    yield _event("message_stop", {})


# ------------------------------------------------------------------ errors
#: The error answers, per kind.
ERRORS: dict[str, tuple[int, int, str, str, str]] = {
    # kind: (openai status, anthropic status, openai type, anthropic type, message)
    "rate_limit": (429, 429, "rate_limit_exceeded", "rate_limit_error", "Rate limit reached."),
    "server_error": (500, 500, "server_error", "api_error", "Internal server error."),
    # Anthropic answers an overloaded API with 529; OpenAI with 503
    "overloaded": (503, 529, "server_error", "overloaded_error", "Overloaded."),
}


def error_body(provider: str, kind: str, request_id: str) -> tuple[int, dict[str, Any]]:
    openai_status, anthropic_status, oa_type, an_type, message = ERRORS[kind]
    if provider == "anthropic":
        body = {"type": "error", "error": {"type": an_type, "message": message}}
        return anthropic_status, {**body, "request_id": request_id}
    error = {"message": message, "type": oa_type, "param": None, "code": oa_type}
    return openai_status, {"error": error}
