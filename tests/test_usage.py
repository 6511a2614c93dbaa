"""usage.to_record_tokens: every provider's usage body -> the record's token columns, by hand
(inclusive rule: input includes cache reads and writes, output includes reasoning)."""

from __future__ import annotations

import anthropic.types as at
import openai.types as ot
import openai.types.responses as ort
import pytest

from showcase_lib.usage import to_record_tokens


def cols(inp, out, **parts):
    """The six record columns: input and output, then read/write/write_1h/reasoning."""
    names = {"read": "cache_read_tokens", "write": "cache_write_tokens"}
    names |= {"write_1h": "cache_write_1h_tokens", "reasoning": "reasoning_tokens"}
    out_cols = {"input_tokens": inp, "output_tokens": out} | dict.fromkeys(names.values(), 0)
    return out_cols | {names[k]: v for k, v in parts.items()}


OPENAI_CHAT = {
    "prompt_tokens": 1000,  # includes the 800 cached and the 50 written
    "completion_tokens": 300,  # includes the 200 reasoning
    "total_tokens": 1300,
    "prompt_tokens_details": {"cached_tokens": 800, "cache_write_tokens": 50, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 200},
}
OPENAI_RESPONSES = {
    "input_tokens": 1000,
    "input_tokens_details": {
        "cached_tokens": 800,
        "cache_write_tokens": 50,
        "cache_write_tokens_details": {"ttl_30m_tokens": 20, "ttl_12h_tokens": 30},
    },
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 200},
    "total_tokens": 1300,
}
ANTHROPIC = {
    "input_tokens": 100,  # EXCLUDES the 800 read and the 100 written
    "cache_read_input_tokens": 800,
    "cache_creation_input_tokens": 100,
    "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60},
    "output_tokens": 50,
    "output_tokens_details": {"thinking_tokens": 30},
    "service_tier": "standard",
}
GEMINI = {
    "promptTokenCount": 1000,  # includes the 600 cached
    "cachedContentTokenCount": 600,
    "candidatesTokenCount": 200,  # EXCLUDES the 100 thoughts
    "thoughtsTokenCount": 100,
    "toolUsePromptTokenCount": 20,  # tool results fed back: input
    "totalTokenCount": 1320,
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (OPENAI_CHAT, cols(1000, 300, read=800, write=50, reasoning=200)),
        # OpenAI's 30-minute / 12-hour write TTLs are no 1-hour share
        (OPENAI_RESPONSES, cols(1000, 300, read=800, write=50, reasoning=200)),
        # 100 + 800 + 100 = 1,000 in; 60 of the 100 written for one hour
        (ANTHROPIC, cols(1000, 50, read=800, write=100, write_1h=60, reasoning=30)),
        # 1,000 + 20 tool prompt in; 200 + 100 thoughts out
        (GEMINI, cols(1020, 300, read=600, reasoning=100)),
    ],
    ids=["openai_chat", "openai_responses", "anthropic", "gemini"],
)
def test_each_flavour_by_hand(body, expected):
    assert to_record_tokens(body) == expected
    # the whole response body works too, whatever model it names
    key = "usageMetadata" if body is GEMINI else "usage"
    assert to_record_tokens({"id": "x", "model": "no-such-model-2099", key: body}) == expected


def test_anthropic_exclusive_input_is_not_taken_as_the_input():
    # the double-counting trap: Anthropic's input_tokens alone would price 100, not 1,000
    got = to_record_tokens(ANTHROPIC)
    assert got["input_tokens"] == ANTHROPIC["input_tokens"] + 800 + 100
    assert got["input_tokens"] - got["cache_read_tokens"] - got["cache_write_tokens"] == 100


def test_anthropic_without_the_ttl_split_has_no_1h_share():
    body = {"input_tokens": 10, "cache_creation_input_tokens": 90, "output_tokens": 5}
    assert to_record_tokens(body) == cols(100, 5, write=90)


def test_minimal_bodies_and_null_details():
    assert to_record_tokens({"prompt_tokens": 7, "completion_tokens": 3}) == cols(7, 3)
    chat_nulls = {
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "prompt_tokens_details": None,
        "completion_tokens_details": None,
    }
    assert to_record_tokens(chat_nulls) == cols(7, 3)
    assert to_record_tokens({"input_tokens": 7, "output_tokens": 3}) == cols(7, 3)
    nulls = {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": None}
    assert to_record_tokens(nulls) == cols(7, 3)
    assert to_record_tokens({"promptTokenCount": 7}) == cols(7, 0)


def test_the_clients_pydantic_objects():
    chat = ot.CompletionUsage.model_validate(OPENAI_CHAT)
    resp = ort.ResponseUsage.model_validate(OPENAI_RESPONSES)
    msg = at.Usage.model_validate(ANTHROPIC)
    assert to_record_tokens(chat) == to_record_tokens(OPENAI_CHAT)
    assert to_record_tokens(resp) == to_record_tokens(OPENAI_RESPONSES)
    assert to_record_tokens(msg) == to_record_tokens(ANTHROPIC)
    message = at.Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": ANTHROPIC,
        }
    )
    assert to_record_tokens(message)["input_tokens"] == 1000  # a whole response object


def test_gemini_snake_case_as_google_genai_dumps_it():
    snake = {
        "prompt_token_count": 1000,
        "cached_content_token_count": 600,
        "candidates_token_count": 200,
        "thoughts_token_count": 100,
    }
    assert to_record_tokens(snake) == cols(1000, 300, read=600, reasoning=100)
    assert to_record_tokens({"usage_metadata": snake}) == cols(1000, 300, read=600, reasoning=100)


def test_flavor_can_be_forced():
    # Anthropic's keys read as OpenAI responses would lose nothing here, but a forced
    # flavour is what the caller said: a chat body forced to "anthropic" has no input_tokens
    with pytest.raises(ValueError, match=r"usage.input_tokens is required for anthropic"):
        to_record_tokens(OPENAI_CHAT, flavor="anthropic")
    with pytest.raises(ValueError, match=r"flavor must be one of .* got 'cohere'"):
        to_record_tokens(OPENAI_CHAT, flavor="cohere")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"prompt_tokens": -1, "completion_tokens": 3},
            "usage.prompt_tokens must be a non-negative int, got -1",
        ),
        (
            {"prompt_tokens": "10", "completion_tokens": 3},
            "usage.prompt_tokens must be a non-negative int, got '10'",
        ),
        (
            {"prompt_tokens": 10.5, "completion_tokens": 3},
            "usage.prompt_tokens must be a non-negative int, got 10.5",
        ),
        (
            {
                "prompt_tokens": 10,
                "completion_tokens": 3,
                "prompt_tokens_details": {"cached_tokens": False},
            },
            "usage.prompt_tokens_details.cached_tokens must be a non-negative int, got False",
        ),
        (
            {
                "prompt_tokens": 10,
                "completion_tokens": 3,
                "prompt_tokens_details": {"cached_tokens": 20},
            },
            "cache reads + writes = 20 exceed the input tokens = 10",
        ),
        (
            {
                "prompt_tokens": 10,
                "completion_tokens": 3,
                "completion_tokens_details": {"reasoning_tokens": 4},
            },
            "reasoning_tokens = 4 exceed the output tokens = 3",
        ),
        (
            {
                "input_tokens": 1,
                "output_tokens": 1,
                "cache_creation_input_tokens": 5,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 9},
            },
            "cache_write_1h_tokens = 9 exceed cache_write_tokens = 5",
        ),
        (
            {"type": "message_delta", "usage": {"output_tokens": 50}},
            "usage.input_tokens is required for anthropic usage, got None (an Anthropic "
            "message_delta alone has no input: merge message_start)",
        ),
        ({"model": "m", "usage": None}, "usage is None: the response carries no usage"),
        ({"id": "x"}, "usage: no token counts found among keys ['id']"),
    ],
)
def test_errors_name_the_field_and_the_value(body, message):
    with pytest.raises(ValueError) as err:
        to_record_tokens(body)
    assert message in str(err.value)


def test_not_a_usage_at_all():
    with pytest.raises(
        ValueError, match="usage must be a mapping or a client usage object, got 42"
    ):
        to_record_tokens(42)
    with pytest.raises(ValueError, match="got None"):
        to_record_tokens(None)
