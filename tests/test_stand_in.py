"""The real ``openai`` / ``anthropic`` clients through the stand-in: sync, async, streamed or
not, they get the usage the stand-in was configured with; latency is really waited; errors
are the providers' own (status, body, retry headers) and the clients react to them as to the
real ones."""

from __future__ import annotations

import asyncio
import time

import anthropic
import httpx2
import openai
import pytest

from showcase_lib.stand_in import StandIn
from showcase_lib.stand_in._bodies import Tokens
from showcase_lib.usage import to_record_tokens

MSG = [{"role": "user", "content": "What does this call cost?"}]
# a call with every token kind: 3,000 in (2,048 read + 300 written, 120 of them for 1 h),
# 500 out of which 200 reasoning
CFG = StandIn(
    seed=11,
    input_tokens=3000,
    cache_read_tokens=2048,
    cache_write_tokens=300,
    cache_write_1h_tokens=120,
    output_tokens=500,
    reasoning_tokens=200,
)
EXPECTED = Tokens(3000, 2048, 300, 120, 500, 200)
# OpenAI has no 1-hour write TTL: its body carries the 300 writes unsplit
EXPECTED_OPENAI = EXPECTED._replace(cache_write_1h_tokens=0)


def oa(cfg: StandIn = CFG, **kw) -> tuple[openai.OpenAI, object]:
    t = cfg.transport()
    return openai.OpenAI(api_key="sk-stand-in", http_client=cfg.http_client(t), **kw), t


def an(cfg: StandIn = CFG, **kw) -> tuple[anthropic.Anthropic, object]:
    t = cfg.transport()
    return anthropic.Anthropic(api_key="sk-ant-stand-in", http_client=cfg.http_client(t), **kw), t


# ------------------------------------------------------------------ OpenAI chat
def test_openai_chat_usage_is_the_configured_one():
    client, t = oa()
    r = client.chat.completions.create(model="gpt-5.4-mini", messages=MSG)
    u = r.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (3000, 500, 3500)
    assert u.prompt_tokens_details.cached_tokens == 2048
    assert u.prompt_tokens_details.cache_write_tokens == 300
    assert u.completion_tokens_details.reasoning_tokens == 200
    assert r.model == "gpt-5.4-mini" and r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content
    assert to_record_tokens(u) == EXPECTED_OPENAI._asdict()
    assert [(s.api, s.stream, s.status) for s in t.served] == [("chat", False, 200)]


def test_openai_chat_stream_usage_only_in_the_final_chunk_with_include_usage():
    client, _ = oa()
    chunks = list(
        client.chat.completions.create(
            model="gpt-5.4-mini",
            messages=MSG,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 3000
    assert all(c.usage is None for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    # call 0 of a fresh transport of the same config answers the same text, unstreamed
    fresh, _ = oa()
    done = fresh.chat.completions.create(model="gpt-5.4-mini", messages=MSG)
    assert text and text == done.choices[0].message.content


def test_openai_chat_stream_without_include_usage_has_no_usage_chunk():
    client, _ = oa()
    chunks = list(client.chat.completions.create(model="m", messages=MSG, stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


# ------------------------------------------------------------------ OpenAI responses
def test_openai_responses_plain_and_streamed():
    client, t = oa()
    r = client.responses.create(model="gpt-5.4", input="hi")
    assert r.usage.input_tokens_details.cached_tokens == 2048
    assert r.usage.output_tokens_details.reasoning_tokens == 200
    assert r.output_text and [o.type for o in r.output] == ["reasoning", "message"]
    events = list(client.responses.create(model="gpt-5.4", input="hi", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response
    assert to_record_tokens(final.usage) == EXPECTED_OPENAI._asdict()
    with client.responses.stream(model="gpt-5.4", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        got = stream.get_final_response()
    assert "".join(deltas) == got.output_text
    assert got.usage.input_tokens == 3000
    assert [s.stream for s in t.served] == [False, True, True]


# ------------------------------------------------------------------ Anthropic messages
def test_anthropic_usage_input_is_exclusive_and_the_write_split_is_there():
    client, t = an()
    m = client.messages.create(model="claude-haiku-4-5", max_tokens=1000, messages=MSG)
    u = m.usage
    # 3,000 in the record's sense = 652 uncached + 2,048 read + 300 written
    assert (u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens) == (
        652,
        2048,
        300,
    )
    assert (
        u.cache_creation.ephemeral_5m_input_tokens,
        u.cache_creation.ephemeral_1h_input_tokens,
    ) == (
        180,
        120,
    )
    assert (u.output_tokens, u.output_tokens_details.thinking_tokens) == (500, 200)
    assert m.stop_reason == "end_turn" and m.content[0].text
    assert to_record_tokens(u) == EXPECTED._asdict()
    assert t.served[0].provider == "anthropic"


def test_anthropic_stream_usage_in_message_start_and_message_delta():
    client, _ = an()
    events = list(
        client.messages.create(model="claude-haiku-4-5", max_tokens=1000, messages=MSG, stream=True)
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    start = events[0].message.usage
    assert (start.input_tokens, start.cache_read_input_tokens, start.output_tokens) == (
        652,
        2048,
        1,
    )
    delta = events[-2].usage
    assert (delta.output_tokens, delta.input_tokens, delta.cache_creation_input_tokens) == (
        500,
        652,
        300,
    )
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=1000, messages=MSG) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == final.content[0].text
    assert to_record_tokens(final.usage) == EXPECTED._asdict()


# ------------------------------------------------------------------ async
def test_async_clients_plain_and_streamed():
    async def run():
        t = CFG.transport()
        aoa = openai.AsyncOpenAI(api_key="sk-x", http_client=CFG.async_http_client(t))
        aan = anthropic.AsyncAnthropic(api_key="sk-x", http_client=CFG.async_http_client(t))
        r = await aoa.chat.completions.create(model="m", messages=MSG)
        stream = await aoa.chat.completions.create(
            model="m", messages=MSG, stream=True, stream_options={"include_usage": True}
        )
        last = [c async for c in stream][-1]
        resp = await aoa.responses.create(model="m", input="hi")
        m = await aan.messages.create(model="claude-haiku-4-5", max_tokens=9, messages=MSG)
        async with aan.messages.stream(model="c", max_tokens=9, messages=MSG) as s:
            final = await s.get_final_message()
        return t, [r.usage, last.usage, resp.usage, m.usage, final.usage]

    t, usages = asyncio.run(run())
    assert [to_record_tokens(u) for u in usages] == [EXPECTED_OPENAI._asdict()] * 3 + [
        EXPECTED._asdict()
    ] * 2
    assert [s.stream for s in t.served] == [False, True, False, False, True]


# ------------------------------------------------------------------ round trip, every path
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", ["chat", "responses", "messages"])
def test_every_path_round_trips_to_the_served_tokens_with_jitter(api, stream):
    cfg = StandIn(seed=5, jitter=0.4, cache_write_tokens=200, cache_write_1h_tokens=50)
    t = cfg.transport()
    http = cfg.http_client(t)
    got = []
    for _ in range(4):
        if api == "messages":
            client = anthropic.Anthropic(api_key="k", http_client=http)
            if stream:
                with client.messages.stream(model="c", max_tokens=9, messages=MSG) as s:
                    final = s.get_final_message()
            else:
                final = client.messages.create(model="c", max_tokens=9, messages=MSG)
            got.append(to_record_tokens(final.usage))
            continue
        client = openai.OpenAI(api_key="k", http_client=http)
        if api == "chat" and stream:
            chunks = client.chat.completions.create(
                model="m", messages=MSG, stream=True, stream_options={"include_usage": True}
            )
            got.append(to_record_tokens(list(chunks)[-1].usage))
        elif api == "chat":
            got.append(to_record_tokens(client.chat.completions.create(model="m", messages=MSG)))
        elif stream:
            events = list(client.responses.create(model="m", input="x", stream=True))
            got.append(to_record_tokens(events[-1].response.usage))
        else:
            got.append(to_record_tokens(client.responses.create(model="m", input="x")))
    served = [s.tokens._asdict() for s in t.served]
    if api != "messages":
        served = [{**s, "cache_write_1h_tokens": 0} for s in served]
    assert got == served
    assert len({g["input_tokens"] for g in got}) > 1  # jitter moved the counts


def test_same_seed_same_sequence_and_the_parts_stay_within_their_totals():
    a = [StandIn(seed=9, jitter=0.5).draw(i) for i in range(200)]
    b = [StandIn(seed=9, jitter=0.5).draw(i) for i in range(200)]
    c = [StandIn(seed=10, jitter=0.5).draw(i) for i in range(200)]
    assert a == b and a != c
    for _, tok, _ in a:
        assert tok.cache_read_tokens + tok.cache_write_tokens <= tok.input_tokens
        assert tok.reasoning_tokens <= tok.output_tokens
    # the error settings do not move the token draws
    d = [StandIn(seed=9, jitter=0.5, error_rate=0.5).draw(i)[1] for i in range(200)]
    assert d == [tok for _, tok, _ in a]


def test_two_transports_of_one_config_serve_the_same_calls():
    (c1, t1), (c2, t2) = oa(StandIn(seed=3, jitter=0.3)), oa(StandIn(seed=3, jitter=0.3))
    for c in (c1, c2):
        for _ in range(3):
            c.chat.completions.create(model="m", messages=MSG)
    assert [s.tokens for s in t1.served] == [s.tokens for s in t2.served]


# ------------------------------------------------------------------ latency
def test_latency_is_really_waited_and_zero_by_default():
    client, _ = oa(StandIn())
    t0 = time.perf_counter()
    for _ in range(5):
        client.chat.completions.create(model="m", messages=MSG)
    fast = time.perf_counter() - t0
    slow_client, _ = oa(StandIn(latency_ms=80))
    t0 = time.perf_counter()
    slow_client.chat.completions.create(model="m", messages=MSG)
    slow = time.perf_counter() - t0
    assert slow >= 0.08 and fast < 0.4


def test_chunk_delay_spreads_a_stream():
    client, _ = oa(StandIn(chunk_ms=20))
    stamps = []
    for _ in client.chat.completions.create(model="m", messages=MSG, stream=True):
        stamps.append(time.perf_counter())
    assert stamps[-1] - stamps[0] >= 0.02 * (len(stamps) - 2)


def test_async_latency_does_not_block_the_loop():
    cfg = StandIn(latency_ms=250)

    async def run():
        client = openai.AsyncOpenAI(api_key="k", http_client=cfg.async_http_client())
        t0 = time.perf_counter()
        await asyncio.gather(
            *(client.chat.completions.create(model="m", messages=MSG) for _ in range(6))
        )
        return time.perf_counter() - t0

    elapsed = asyncio.run(run())
    # six 250 ms calls overlap: a blocking wait would take their sum (1.5 s), the logical bound
    assert 0.25 <= elapsed < 6 * 0.25


# ------------------------------------------------------------------ errors
def test_openai_rate_limit_has_retry_after_and_the_client_retries_on_it():
    client, t = oa(StandIn(errors=("rate_limit",), retry_after_s=2.5), max_retries=0)
    with pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(model="m", messages=MSG)
    e = err.value
    assert e.status_code == 429 and e.code == "rate_limit_exceeded"
    assert e.response.headers["retry-after"] == "3"
    assert e.response.headers["retry-after-ms"] == "2500"
    # with retries, two 429s (10 ms retry-after) then success
    client, t = oa(StandIn(errors=("rate_limit", "rate_limit"), retry_after_s=0.01))
    t0 = time.perf_counter()
    r = client.chat.completions.create(model="m", messages=MSG)
    # the client waited retry-after-ms (2 x 10 ms), not its own backoff (>= 1.1 s for two): the
    # logical bound, not a speed claim
    assert r.usage.prompt_tokens == 2000 and time.perf_counter() - t0 < 1.1
    assert [s.status for s in t.served] == [429, 429, 200]
    assert [s.error for s in t.served] == ["rate_limit", "rate_limit", None]


@pytest.mark.parametrize(
    ("kind", "status", "exc", "error_type"),
    [
        ("server_error", 500, anthropic.InternalServerError, "api_error"),
        ("overloaded", 529, anthropic.OverloadedError, "overloaded_error"),
        ("rate_limit", 429, anthropic.RateLimitError, "rate_limit_error"),
    ],
)
def test_anthropic_errors_are_anthropics(kind, status, exc, error_type):
    client, t = an(StandIn(errors=(kind,)), max_retries=0)
    with pytest.raises(exc) as err:
        client.messages.create(model="c", max_tokens=9, messages=MSG)
    assert err.value.status_code == status
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == error_type
    assert err.value.request_id == "req_stand_in_0_0" and t.served[0].status == status


@pytest.mark.parametrize(
    ("kind", "status", "exc"),
    [
        ("server_error", 500, openai.InternalServerError),
        ("overloaded", 503, openai.InternalServerError),
    ],
)
def test_openai_server_errors(kind, status, exc):
    client, _ = oa(StandIn(errors=(kind,)), max_retries=0)
    with pytest.raises(exc) as err:
        client.responses.create(model="m", input="x")
    assert err.value.status_code == status and err.value.body["type"] == "server_error"


def test_error_rate_is_deterministic_per_seed():
    def kinds(seed):
        cfg = StandIn(seed=seed, error_rate=0.3)
        return [cfg.draw(i)[0] for i in range(300)]

    a = kinds(1)
    assert a == kinds(1) and a != kinds(2)
    failed = sum(k is not None for k in a)
    assert 60 <= failed <= 120  # about 30 % of 300
    assert {k for k in a if k} == {"rate_limit", "server_error", "overloaded"}


# ------------------------------------------------------------------ the rest
def test_unknown_route_is_a_provider_shaped_404():
    t = StandIn().transport()
    with httpx2.Client(transport=t) as c:
        r = c.get("https://api.openai.com/v1/models")
        assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"
        r = c.post("https://api.anthropic.com/v1/complete", json={})
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    assert [s.status for s in t.served] == [404, 404]


def test_the_clients_keep_their_real_base_urls():
    # the stand-in routes on the path only: nothing but http_client= changes to go live
    client, _ = oa()
    claude, _ = an()
    assert str(client.base_url) == "https://api.openai.com/v1/"
    assert str(claude.base_url) == "https://api.anthropic.com"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"input_tokens": -1}, "StandIn.input_tokens must be a non-negative int, got -1"),
        ({"output_tokens": 1.5}, "StandIn.output_tokens must be a non-negative int, got 1.5"),
        ({"cache_read_tokens": 1900, "cache_write_tokens": 200}, "= 2100 > input_tokens = 2000"),
        ({"cache_write_tokens": 5, "cache_write_1h_tokens": 6}, "cache_write_1h_tokens = 6"),
        ({"reasoning_tokens": 401}, "reasoning_tokens = 401 > output_tokens = 400"),
        ({"error_rate": 1.5}, "StandIn.error_rate must be within [0, 1], got 1.5"),
        ({"errors": ("teapot",)}, "StandIn.errors: 'teapot' is not one of"),
        ({"latency_ms": float("nan")}, "StandIn.latency_ms must be a finite number >= 0, got nan"),
    ],
)
def test_bad_config_names_the_field_and_the_value(kwargs, needle):
    with pytest.raises(ValueError) as err:
        StandIn(**kwargs)
    assert needle in str(err.value)


# ------------------------------------------------------------------ the loopback server
def test_loopback_server_serves_both_clients_over_a_real_socket():
    with CFG.serve() as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        oa_client = openai.OpenAI(api_key="sk-stand-in", base_url=srv.url + "v1")
        claude = anthropic.Anthropic(api_key="sk-ant-stand-in", base_url=srv.url)
        r = oa_client.chat.completions.create(model="m", messages=MSG)
        chunks = list(
            oa_client.chat.completions.create(
                model="m", messages=MSG, stream=True, stream_options={"include_usage": True}
            )
        )
        with claude.messages.stream(model="c", max_tokens=9, messages=MSG) as s:
            final = s.get_final_message()
        resp = oa_client.responses.create(model="m", input="x")

        async def one():
            aclient = anthropic.AsyncAnthropic(api_key="k", base_url=srv.url)
            return await aclient.messages.create(model="c", max_tokens=9, messages=MSG)

        amsg = asyncio.run(one())
    got = [r.usage, chunks[-1].usage, final.usage, resp.usage, amsg.usage]
    assert [to_record_tokens(u) for u in got] == [
        EXPECTED_OPENAI._asdict(),
        EXPECTED_OPENAI._asdict(),
        EXPECTED._asdict(),
        EXPECTED_OPENAI._asdict(),
        EXPECTED._asdict(),
    ]
    assert [s.status for s in srv.served] == [200] * 5


def test_loopback_errors_and_retry_headers_cross_the_socket():
    with StandIn(errors=("rate_limit",), retry_after_s=0.01).serve() as srv:
        client = openai.OpenAI(api_key="k", base_url=srv.url + "v1")
        r = client.chat.completions.create(model="m", messages=MSG)  # one retry after 10 ms
        assert r.usage.prompt_tokens == 2000
        assert [s.status for s in srv.served] == [429, 200]
