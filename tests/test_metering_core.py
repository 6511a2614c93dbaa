"""Unit tests of the metering building blocks: settings, retry, breaker, spool, rate limit, context."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from revenium_middleware._metering._client import normalize_meter_base_url
from tenacity import RetryCallState

from showcase_lib.metering import (
    BreakerPolicy,
    CircuitBreaker,
    FakeClock,
    MemorySpool,
    PermanentError,
    RetryableError,
    RetryPolicy,
    Settings,
    Spool,
    TagError,
    TokenBucket,
    _breaker,
    _enqueue,
    metadata_context,
    submit_with_context,
)
from showcase_lib.metering._breaker import CLOSED, HALF_OPEN, OPEN, BreakerState
from showcase_lib.metering._context import (
    _EnricherError,
    apply_enrichers,
    current_metadata,
    run_in_context,
)
from showcase_lib.metering._retry import classify, parse_retry_after
from showcase_lib.metering._settings import Secret, normalize_base_url
from showcase_lib.metering._spool import Envelope

KEY = "hak_unit_test_secret_0123456789"


# ------------------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787",
        "http://127.0.0.1:8787/",
        "http://h/meter",
        "http://h/meter/",
        "https://api.revenium.ai/meter/v2/ai/completions",
        "http://h/a/meter/b/meter/c?q=1#frag",
        "http://h/x/y/",
        "http://h:1/METER/x",
        "https://h/prefix/v1?x=y",
    ],
)
def test_base_url_normalised_like_the_official_client(url):
    assert normalize_base_url(url) == normalize_meter_base_url(url)[0]


def test_base_url_without_scheme_is_rejected_not_redirected_to_production():
    with pytest.raises(ValueError, match=r"base_url='api\.revenium\.ai/meter'"):
        Settings(KEY, "api.revenium.ai/meter")


def test_from_env_reads_the_official_variables():
    s = Settings.from_env(
        {
            "REVENIUM_METERING_API_KEY": KEY,
            "REVENIUM_METERING_BASE_URL": "http://127.0.0.1:9/x?debug=1",
            "REVENIUM_METERING_TIMEOUT_SECONDS": "3",
            "REVENIUM_METERING_MAX_RETRIES": "1",
        }
    )
    assert s.completions_url == "http://127.0.0.1:9/x/meter/v2/ai/completions"
    assert (s.timeout_s, s.max_retries) == (3.0, 1)
    with pytest.raises(ValueError, match="REVENIUM_METERING_API_KEY"):
        Settings.from_env({})
    with pytest.raises(ValueError, match="REVENIUM_METERING_MAX_RETRIES='many'"):
        Settings.from_env(
            {"REVENIUM_METERING_API_KEY": KEY, "REVENIUM_METERING_MAX_RETRIES": "many"}
        )


def test_default_base_url_is_production():
    s = Settings.from_env({"REVENIUM_METERING_API_KEY": KEY})
    assert s.base_url == "https://api.revenium.ai/meter/"


def test_key_never_shows_in_reprs_strings_or_errors():
    s = Settings(KEY, "http://127.0.0.1:9")
    texts = [
        repr(s),
        str(s),
        f"{s}",
        repr(s.api_key),
        str(s.api_key),
        f"{s.api_key:>40}",
        repr(Secret(KEY)),
        repr(s.with_(max_retries=0)),
    ]
    for t in texts:
        assert KEY not in t
    assert s.headers("k1")["x-api-key"] == KEY  # the one place it is used
    assert s.redact(f"oops {KEY}") == "oops ***"
    with pytest.raises(ValueError) as err:
        Settings(KEY, "ftp://h")
    assert KEY not in str(err.value)


# ------------------------------------------------------------------------------ retry
@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (201, b"", None),
        (200, b"", None),
        (400, b"", PermanentError),
        (401, b"", PermanentError),
        (403, b"", PermanentError),
        (404, b"", PermanentError),
        (422, b"", PermanentError),
        (409, b'{"error":"idempotency_key_mismatch"}', PermanentError),
        (409, b'{"error":"idempotency_key_in_progress"}', RetryableError),
        (408, b"", RetryableError),
        (429, b"", RetryableError),
        (500, b"", RetryableError),
        (502, b"", RetryableError),
        (503, b"", RetryableError),
    ],
)
def test_classify(status, body, kind):
    err = RetryPolicy.classify(status, {}, body)
    if kind is None:
        assert err is None
    else:
        assert type(err) is kind
        assert err.status == status


def test_x_should_retry_header_overrides():
    assert isinstance(classify(400, {"x-should-retry": "true"}, b""), RetryableError)
    assert isinstance(classify(503, {"X-Should-Retry": "false"}, b""), PermanentError)


def test_parse_retry_after():
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"Retry-After": "61"}) is None  # above 60 s: ignored like the SDK
    assert parse_retry_after({"Retry-After": "-1"}) is None
    assert parse_retry_after({}) is None
    date = "Wed, 21 Oct 2015 07:28:05 GMT"
    assert parse_retry_after({"Retry-After": date}, now=1445412480.0) == pytest.approx(5.0)


def test_backoff_delays_grow_and_are_capped():
    d = RetryPolicy(initial_s=0.5, max_s=8.0).delays(8, rng=random.Random(1))
    for n, x in enumerate(d):
        assert 0.75 * min(0.5 * 2**n, 8.0) <= x <= min(0.5 * 2**n, 8.0)
    assert max(d) <= 8.0


def _state_with(exc: BaseException, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_wait_honours_retry_after_else_exponential():
    wait = RetryPolicy(initial_s=0.5, max_s=8.0, jitter_s=0.0).wait()
    assert wait(_state_with(RetryableError("rate limited", 429, retry_after=2.5))) == 2.5
    assert wait(_state_with(RetryableError("server error", 503), attempt=1)) == 0.5
    assert wait(_state_with(RetryableError("server error", 503), attempt=3)) == 2.0
    assert wait(_state_with(RetryableError("server error", 503), attempt=10)) == 8.0


def test_async_retrying_retries_only_retryable_errors():
    policy = RetryPolicy(max_retries=3, initial_s=0.0, max_s=0.0, jitter_s=0.0)

    async def run(errors):
        calls = 0

        async def nosleep(_s):
            return None

        async for attempt in policy.async_retrying(sleep=nosleep):
            with attempt:
                calls += 1
                if errors:
                    raise errors.pop(0)
        return calls

    assert asyncio.run(run([RetryableError("x", 503), RetryableError("x", 429)])) == 3
    with pytest.raises(PermanentError):
        asyncio.run(run([PermanentError("bad", 400)]))
    with pytest.raises(RetryableError):
        asyncio.run(run([RetryableError("x", 503)] * 10))


def test_transaction_ids_do_not_repeat_after_a_user_seeds_random():
    # regression: ids came from the global random module, so random.seed(1) repeated them
    random.seed(1)
    a = _enqueue.new_transaction_id()
    random.seed(1)
    b = _enqueue.new_transaction_id()
    assert a != b and len(a) == len(b) == 32


def test_preview_leaves_the_global_random_state_alone(monkeypatch):
    # regression: preview() re-seeded the global random module (that ids also drew from), so
    # an id minted by the tracker's thread meanwhile came from a fixed seed, the same each run
    touched = []
    monkeypatch.setattr(random, "seed", lambda *a, **k: touched.append("seed"))
    monkeypatch.setattr(random, "setstate", lambda *a, **k: touched.append("setstate"))
    RetryPolicy(max_retries=5).preview(seed=3)
    assert touched == []
    monkeypatch.undo()
    random.seed(7)
    expected = [random.random() for _ in range(3)]
    random.seed(7)
    p = RetryPolicy(max_retries=5)
    first = p.preview(seed=3)
    assert [random.random() for _ in range(3)] == expected
    assert p.preview(seed=3) == first  # still reproducible with its own generator
    assert p.preview(seed=4) != first
    assert all(0.5 * 2**n <= w <= min(8.0, 0.5 * 2**n + 0.5) for n, w in enumerate(first))


# ------------------------------------------------------------------------------ breaker
def test_breaker_transitions_with_a_controllable_clock():
    clock = FakeClock(100.0)
    seen = []
    b = CircuitBreaker(
        BreakerPolicy(failure_threshold=3, reset_timeout_s=5.0),
        clock=clock,
        on_transition=seen.append,
    )
    b.record_failure()
    b.record_failure()
    assert b.state == CLOSED
    b.record_success()  # a success resets the consecutive count
    for _ in range(3):
        b.record_failure("503")
    assert b.state == OPEN and not b.allow()
    clock.advance(4.9)
    assert not b.allow()
    clock.advance(0.1)
    assert b.allow() and b.state == HALF_OPEN
    assert not b.allow()  # one probe at a time
    b.record_failure("still down")
    assert b.state == OPEN and b.opened_at == 105.0
    clock.advance(5)
    assert b.allow()
    b.record_success()
    assert b.state == CLOSED and b.allow()
    assert [(t.from_state, t.to_state, t.at) for t in seen] == [
        (CLOSED, OPEN, 100.0),
        (OPEN, HALF_OPEN, 105.0),
        (HALF_OPEN, OPEN, 105.0),
        (OPEN, HALF_OPEN, 110.0),
        (HALF_OPEN, CLOSED, 110.0),
    ]
    assert tuple(seen) == b.transitions


def test_breaker_observer_errors_do_not_break_it():
    def boom(_t):
        raise RuntimeError("observer bug")

    b = CircuitBreaker(BreakerPolicy(failure_threshold=1), clock=FakeClock(), on_transition=boom)
    b.record_failure()
    assert b.state == OPEN


def test_breaker_would_allow_has_no_side_effect():
    clock = FakeClock()
    b = CircuitBreaker(BreakerPolicy(failure_threshold=1, reset_timeout_s=1), clock=clock)
    b.record_failure()
    clock.advance(2)
    assert b.would_allow() and b.state == OPEN


def test_breaker_history_is_bounded_and_its_state_is_read_only():
    # regression: the transitions list grew by two entries per outage probe, forever
    clock = FakeClock()
    b = CircuitBreaker(BreakerPolicy(failure_threshold=1, reset_timeout_s=1), clock=clock)
    flaps = _breaker.MAX_TRANSITIONS  # each flap is two transitions (open, half-open)
    b.record_failure()
    for _ in range(flaps):
        clock.advance(1)
        assert b.allow()  # open -> half-open
        b.record_failure("still down")  # half-open -> open
    assert len(b.transitions) == _breaker.MAX_TRANSITIONS
    assert b.transition_count == 1 + 2 * flaps
    assert b.transitions[-1].to_state is BreakerState.OPEN and b.state == "open"
    with pytest.raises(AttributeError):
        b.state = CLOSED  # type: ignore[misc]
    with pytest.raises(AttributeError):
        b.consecutive_failures = 0  # type: ignore[misc]
    assert b.consecutive_failures == 1 + flaps


def test_breaker_policy_names_the_bad_field():
    with pytest.raises(ValueError, match="min_failures=0 must be >= 1"):
        BreakerPolicy(min_failures=0)
    with pytest.raises(TypeError, match="must be a BreakerPolicy"):
        CircuitBreaker(3)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ spool
def _envs(n, start=0):
    return [Envelope(f"key-{i}", f"txn-{i}", b'{"i":%d}' % i) for i in range(start, start + n)]


def test_spool_lease_ack_release_and_reopen(tmp_path):
    path = tmp_path / "s.db"
    sp = Spool(path)
    assert sp.put_many(_envs(10)) == 10
    assert sp.put_many(_envs(3)) == 0  # same keys: ignored, never twice
    first = sp.lease(4)
    second = sp.lease(4)
    assert {e.key for e in first}.isdisjoint({e.key for e in second})
    sp.ack(first)
    sp.release(second)
    assert len(sp) == 6
    again = sp.lease(100)
    assert sorted(e.key for e in again) == sorted(f"key-{i}" for i in range(4, 10))
    sp.bury(again[:1], "bad request (HTTP 400)")
    sp.close()
    sp2 = Spool(path)  # a new process sees every remaining row as pending
    assert len(sp2) == 5 and sp2.dead_count() == 1
    assert sp2.dead_letters()[0]["reason"] == "bad request (HTTP 400)"
    assert len(sp2.lease(100)) == 5
    assert sp2.redrive_dead() == 1 and len(sp2) == 6
    sp2.close()


def test_spool_bodies_are_kept_byte_for_byte(tmp_path):
    sp = Spool(tmp_path / "s.db")
    env = Envelope("k", "t", b'{"transactionId":"t","x":"\xc3\xa9"}')
    sp.put_many([env])
    got = sp.lease(1)[0]
    assert (got.key, got.txn_id, got.body) == (env.key, env.txn_id, env.body)
    sp.close()


def test_memory_spool_evicts_oldest_and_counts():
    m = MemorySpool(max_records=5)
    m.put_many(_envs(8))
    assert len(m) == 5 and m.evicted == 3
    assert [e.key for e in m.lease(10)] == [f"key-{i}" for i in range(3, 8)]


def test_spool_is_safe_from_threads(tmp_path):
    sp = Spool(tmp_path / "s.db")
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda i: sp.put_many(_envs(50, i * 50)), range(8)))
    assert len(sp) == 400
    sp.close()


def _fail_next_delete(sp: Spool) -> None:
    """Make the next DELETE from the spool fail inside its transaction (a trigger raising)."""
    sp._db.execute(
        "CREATE TEMP TRIGGER fail_delete BEFORE DELETE ON spool"
        " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )


@pytest.mark.parametrize("op", ["ack", "bury"])
def test_spool_recovers_after_a_failed_write(tmp_path, op):
    # regression: ack/bury ran BEGIN ... COMMIT with no rollback, so one failed write left the
    # transaction open and every later BEGIN failed ("cannot start a transaction within ...")
    sp = Spool(tmp_path / "s.db")
    sp.put_many(_envs(4))
    batch = sp.lease(4)
    _fail_next_delete(sp)
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        if op == "ack":
            sp.ack(batch[:1])
        else:
            sp.bury(batch[:1], "bad request (HTTP 400)")
    assert not sp._db.in_transaction and len(sp) == 4 and sp.dead_count() == 0
    sp._db.execute("DROP TRIGGER fail_delete")
    sp.ack(batch[1:2])  # later writes work again
    sp.bury(batch[2:3], "bad request (HTTP 400)")
    assert sp.put_many(_envs(1, start=10)) == 1
    assert len(sp) == 3 and sp.dead_count() == 1
    sp.close()


# ------------------------------------------------------------------------------ rate limit
def test_token_bucket_limits_the_rate():
    clock = FakeClock()
    b = TokenBucket(rate=100, burst=10, clock=clock)
    assert sum(b.try_acquire() for _ in range(50)) == 10
    clock.advance(0.25)
    assert sum(b.try_acquire() for _ in range(50)) == 10  # capped by the burst
    clock.advance(0.055)
    assert sum(b.try_acquire() for _ in range(50)) == 5
    assert b.delay() == pytest.approx(0.005)
    assert b._reserve(1) == pytest.approx(0.005)  # debt -> wait


def test_token_bucket_rejects_bad_rates():
    with pytest.raises(ValueError, match="rate=0"):
        TokenBucket(0)


# ------------------------------------------------------------------------------ context
def test_contexts_nest_and_merge_inner_wins():
    with metadata_context(organization_id="org_001", product_id="product_a"):
        with metadata_context(product_id="product_b", customer_id="cust_0001"):
            assert current_metadata() == {
                "organization_id": "org_001",
                "product_id": "product_b",
                "customer_id": "cust_0001",
            }
            with metadata_context(customer_id=None):
                assert "customer_id" not in current_metadata()
        assert current_metadata()["product_id"] == "product_a"
    assert current_metadata() == {}


def test_context_follows_asyncio_tasks():
    async def leaf(feature):
        with metadata_context(feature_id=feature):
            await asyncio.sleep(0)
            return current_metadata()

    async def main():
        with metadata_context(customer_id="cust_0001"):
            return await asyncio.gather(leaf("chat"), leaf("search"))

    a, b = asyncio.run(main())
    assert a == {"customer_id": "cust_0001", "feature_id": "chat"}
    assert b == {"customer_id": "cust_0001", "feature_id": "search"}


def test_context_does_not_cross_into_threads_without_copy_context():
    seen = {}
    with metadata_context(customer_id="cust_0001"):
        t = threading.Thread(target=lambda: seen.setdefault("plain", current_metadata()))
        t.start()
        t.join()
        t = threading.Thread(
            target=run_in_context(lambda: seen.setdefault("copied", current_metadata()))
        )
        t.start()
        t.join()
        with ThreadPoolExecutor(1) as ex:
            seen["pool"] = submit_with_context(ex, current_metadata).result()
            ctx = contextvars.copy_context()
            seen["ctx"] = ex.submit(ctx.run, current_metadata).result()
    assert seen["plain"] == {}
    assert seen["copied"] == seen["pool"] == seen["ctx"] == {"customer_id": "cust_0001"}


def test_tags_are_validated_when_set(caplog):
    with pytest.raises(TagError) as err, metadata_context(subscription_tier="Pro"):
        pass
    assert err.value.issues[0][:2] == ("subscription_tier", "enum")
    with caplog.at_level(logging.WARNING, logger="showcase_lib.metering"):
        with metadata_context(on_invalid="drop", environment="prod", customer_id="cust_0001"):
            assert current_metadata() == {"customer_id": "cust_0001"}
        with metadata_context(on_invalid="warn", environment="prod"):
            assert current_metadata() == {"environment": "prod"}
    assert "environment" in caplog.text
    with (
        pytest.raises(ValueError, match="on_invalid='ignore'"),
        metadata_context(on_invalid="ignore"),
    ):
        pass


def test_partial_tags_are_not_required_to_be_complete():
    with metadata_context(organization_id="org_001"):
        assert current_metadata() == {"organization_id": "org_001"}


def test_enrichers_fill_gaps_and_name_a_broken_hook():
    rec = {"environment": "production", "cost_usd": 0.2}
    added = apply_enrichers(rec, (lambda r: {"environment": "staging", "task_type": "chat"},))
    assert added == 1
    assert rec == {"environment": "production", "cost_usd": 0.2, "task_type": "chat"}

    def broken(_r):
        raise RuntimeError("bug")

    with pytest.raises(_EnricherError, match="broken raised RuntimeError: bug"):
        apply_enrichers(rec, (broken,))
    with pytest.raises(_EnricherError, match="returned list"):
        apply_enrichers(rec, (lambda r: ["task_type"],))
    with pytest.raises(_EnricherError, match=r"unknown field.*tenant"):
        apply_enrichers(rec, (lambda r: {"tenant": "t1"},))
