"""A provider's usage -> the record's token columns, under the record's inclusive rule.

``input_tokens`` includes cache reads and writes; ``output_tokens`` includes reasoning (the
rule of OpenTelemetry's GenAI conventions and of ``genai-prices``). Providers disagree:
OpenAI's ``prompt_tokens`` / ``input_tokens`` already include ``cached_tokens`` (and
``cache_write_tokens``); Anthropic's ``input_tokens`` *excludes* ``cache_read_input_tokens``
and ``cache_creation_input_tokens``; Gemini's ``candidatesTokenCount`` excludes
``thoughtsTokenCount``. The arithmetic is ``genai_prices.extract_usage`` (0.2.3), which applies
that rule for each flavour. What this module adds to it:

- it takes what a client returns: a response or its ``usage`` (a dict or the client's pydantic
  object; google-genai's snake_case ``usage_metadata`` too) and finds the flavour from the keys
  (``extract_usage`` needs the provider and, for OpenAI, ``api_flavor``); it passes only the
  usage, so an unknown model name is no ``LookupError``;
- every count is checked first (a non-negative int, not a bool), and the parts against their
  totals (cache reads + writes <= input, reasoning <= output, the 1-hour write share <= the
  writes), which ``extract_usage`` does not check; errors name the field and the value;
- it returns the six record columns, zeros for what the provider did not report. OpenAI's
  write TTLs (30 minutes, 12 hours) are not Anthropic's 1 hour: ``cache_write_1h_tokens`` comes
  only from Anthropic's ``cache_creation.ephemeral_1h_input_tokens``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import genai_prices

__all__ = ["to_record_tokens"]

Flavor = Literal["openai_chat", "openai_responses", "anthropic", "gemini"]

#: the record's token columns, in schema order
COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)

# flavour -> (genai-prices provider id, api_flavor, key the usage sits under in a response)
_EXTRACT: dict[str, tuple[str, str, str]] = {
    "openai_chat": ("openai", "chat", "usage"),
    "openai_responses": ("openai", "responses", "usage"),
    "anthropic": ("anthropic", "default", "usage"),
    "gemini": ("google", "default", "usageMetadata"),
}
# the genai_prices.Usage attribute behind each record column
_FROM_GENAI = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "reasoning_tokens": "output_reasoning_tokens",
}
_ANTHROPIC_ONLY = ("cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation")


def to_record_tokens(usage: Any, *, flavor: Flavor | None = None) -> dict[str, int]:
    """The record's token columns for one call's ``usage`` (inclusive rule).

    ``usage`` is a response or its usage: a dict (the JSON body) or the client's object
    (``openai`` ``CompletionUsage`` / ``ResponseUsage``, ``anthropic`` ``Usage``, a
    google-genai ``GenerateContentResponseUsageMetadata``). ``flavor`` is found from the keys
    when not given (a bare ``{input_tokens, output_tokens}`` maps the same under OpenAI
    responses and Anthropic). Raises ``ValueError`` naming the field and the value for a count
    that is missing, not a non-negative int, or larger than its total.

    Example (Anthropic's exclusive input: 100 uncached + 800 read + 100 written = 1,000):
        >>> to_record_tokens({"input_tokens": 100, "cache_read_input_tokens": 800,
        ...                   "cache_creation_input_tokens": 100, "output_tokens": 50})
        {'input_tokens': 1000, 'output_tokens': 50, 'cache_read_tokens': 800, 'cache_write_tokens': 100, 'cache_write_1h_tokens': 0, 'reasoning_tokens': 0}
        >>> to_record_tokens({"prompt_tokens": 1000, "completion_tokens": 300,
        ...     "prompt_tokens_details": {"cached_tokens": 800},
        ...     "completion_tokens_details": {"reasoning_tokens": 200}})["input_tokens"]
        1000
        >>> to_record_tokens({"prompt_tokens": 10, "completion_tokens": True})
        Traceback (most recent call last):
        ...
        ValueError: usage.completion_tokens must be a non-negative int, got True
    """
    body = _plain(usage)
    if not isinstance(body, Mapping):
        raise ValueError(f"usage must be a mapping or a client usage object, got {usage!r}")
    body = _unwrap(body)
    kind = flavor or _flavor(body)
    if kind not in _EXTRACT:
        raise ValueError(f"flavor must be one of {tuple(_EXTRACT)}, got {kind!r}")
    if kind == "gemini":
        body = {_camel(k): v for k, v in body.items()}
    _check_counts(body, kind)
    provider, api_flavor, key = _EXTRACT[kind]
    extracted = genai_prices.extract_usage({key: body}, provider_id=provider, api_flavor=api_flavor)
    out = {col: int(getattr(extracted.usage, attr) or 0) for col, attr in _FROM_GENAI.items()}
    _check_parts(out, kind)
    return out


# ------------------------------------------------------------------ shape
def _plain(obj: Any) -> Any:
    """A pydantic object (the clients' types) as a dict; a response object as its usage."""
    if isinstance(obj, Mapping) or obj is None:
        return obj
    for attr in ("usage", "usage_metadata"):  # a whole response object
        inner = getattr(obj, attr, None)
        if inner is not None and not callable(inner):
            return _plain(inner)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump()
    return obj


def _unwrap(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """A whole response body -> its usage block."""
    for key in ("usage", "usageMetadata", "usage_metadata"):
        inner = body.get(key)
        if isinstance(inner, Mapping):
            return inner
        if key in body and inner is None and len(body) > 1:
            raise ValueError(f"{key} is None: the response carries no usage")
    return body


def _flavor(u: Mapping[str, Any]) -> Flavor:
    if "prompt_tokens" in u or "completion_tokens" in u:
        return "openai_chat"
    if any(k in u for k in ("promptTokenCount", "prompt_token_count", "candidatesTokenCount")):
        return "gemini"
    if any(k in u for k in ("candidates_token_count", "totalTokenCount", "total_token_count")):
        return "gemini"
    details = u.get("output_tokens_details")
    if any(k in u for k in _ANTHROPIC_ONLY) or (
        isinstance(details, Mapping) and "thinking_tokens" in details
    ):
        return "anthropic"
    if "input_tokens_details" in u or "output_tokens_details" in u:
        return "openai_responses"
    if "input_tokens" in u or "output_tokens" in u:
        # a bare {input_tokens, output_tokens}: OpenAI responses and Anthropic agree on it
        return "anthropic"
    raise ValueError(f"usage: no token counts found among keys {sorted(u)}")


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


# ------------------------------------------------------------------ checks
# flavour -> required counts, and optional counts (dotted paths into the usage)
_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "openai_chat": (
        ("prompt_tokens", "completion_tokens"),
        (
            "total_tokens",
            "prompt_tokens_details.cached_tokens",
            "prompt_tokens_details.cache_write_tokens",
            "completion_tokens_details.reasoning_tokens",
        ),
    ),
    "openai_responses": (
        ("input_tokens", "output_tokens"),
        (
            "total_tokens",
            "input_tokens_details.cached_tokens",
            "input_tokens_details.cache_write_tokens",
            "output_tokens_details.reasoning_tokens",
        ),
    ),
    "anthropic": (
        ("input_tokens", "output_tokens"),
        (
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "cache_creation.ephemeral_5m_input_tokens",
            "cache_creation.ephemeral_1h_input_tokens",
            "output_tokens_details.thinking_tokens",
        ),
    ),
    "gemini": (
        (),
        (
            "promptTokenCount",
            "candidatesTokenCount",
            "cachedContentTokenCount",
            "thoughtsTokenCount",
            "toolUsePromptTokenCount",
            "totalTokenCount",
        ),
    ),
}


def _get(u: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = u
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _check_counts(u: Mapping[str, Any], kind: str) -> None:
    required, optional = _FIELDS[kind]
    for path in required + optional:
        found, value = _get(u, path)
        if not found or value is None:
            if path in required:
                hint = " (an Anthropic message_delta alone has no input: merge message_start)"
                extra = hint if kind == "anthropic" and path == "input_tokens" else ""
                raise ValueError(f"usage.{path} is required for {kind} usage, got {value!r}{extra}")
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"usage.{path} must be a non-negative int, got {value!r}")


def _check_parts(out: dict[str, int], kind: str) -> None:
    cached = out["cache_read_tokens"] + out["cache_write_tokens"]
    if cached > out["input_tokens"]:
        raise ValueError(
            f"{kind} usage: cache reads + writes = {cached} exceed the input tokens "
            f"= {out['input_tokens']} (cache_read_tokens={out['cache_read_tokens']}, "
            f"cache_write_tokens={out['cache_write_tokens']})"
        )
    if out["reasoning_tokens"] > out["output_tokens"]:
        raise ValueError(
            f"{kind} usage: reasoning_tokens = {out['reasoning_tokens']} exceed the output "
            f"tokens = {out['output_tokens']}"
        )
    if out["cache_write_1h_tokens"] > out["cache_write_tokens"]:
        raise ValueError(
            f"{kind} usage: cache_write_1h_tokens = {out['cache_write_1h_tokens']} exceed "
            f"cache_write_tokens = {out['cache_write_tokens']}"
        )
