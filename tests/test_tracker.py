"""Integration tests of the Tracker against a real emulator on loopback."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time

import pytest

from showcase_lib.emulator import Emulator
from showcase_lib.metering import (
    BreakerPolicy,
    CircuitBreaker,
    Delivery,
    FakeClock,
    Overflow,
    RetryPolicy,
    Settings,
    Tracker,
    metadata_context,
)
from showcase_lib.metering._breaker import CLOSED, OPEN
from showcase_lib.metering._context import run_in_context

FAST = RetryPolicy(max_retries=6, initial_s=0.01, max_s=0.1, jitter_s=0.01)
FAST_DELIVERY = Delivery(retry=FAST)
#: fast retries and a breaker that opens after 3 failures and stays open for the test
OUTAGE_DELIVERY = Delivery(retry=FAST, breaker=BreakerPolicy(3, 60.0))


def _stored(emu: Emulator):
    df = emu.records()
    return len(df), df["call_id"].nunique(), df


class _CountWithoutPickling:
    """``itertools.count`` as on Python 3.14, which removed the pickling support of itertools:
    ``__reduce__`` no longer exposes the current value."""

    def __init__(self, start: int = 0, step: int = 1) -> None:
        self._n, self._step = start, step

    def __iter__(self):
        return self

    def __next__(self) -> int:
        n, self._n = self._n, self._n + self._step
        return n

    def __reduce__(self):
        raise TypeError("cannot pickle 'itertools.count' object")


def test_counters_need_no_itertools_pickling(monkeypatch):
    # regression: `tracked` was read through itertools.count().__reduce__(), removed in 3.14,
    # so stats, repr and close() raised there
    monkeypatch.setattr(itertools, "count", _CountWithoutPickling)
    t = Tracker(Settings("k", "http://127.0.0.1:9"), start=False)
    for i in range(3):
        t.track("openai", "gpt-4o-mini", 10, 5, 100, call_id=f"c{i}")
    assert t.stats.tracked == 3
    assert "tracked=3" in repr(t)
    assert t.close(timeout=1).tracked == 3


def test_a_shared_delivery_gives_each_tracker_its_own_breaker():
    delivery = Delivery(breaker=BreakerPolicy(failure_threshold=1))
    a = Tracker(Settings("k", "http://127.0.0.1:9"), delivery=delivery, start=False)
    b = Tracker(Settings("k", "http://127.0.0.1:9"), delivery=delivery, start=False)
    a.breaker.record_failure()
    assert a.breaker.state == OPEN and b.breaker.state == CLOSED
    assert a.retry.max_retries == 4  # settings.max_retries when the delivery names no policy


def test_tracker_options_are_checked_where_they_are_given():
    with pytest.raises(ValueError, match="policy='drop-oldest' is not one of"):
        Overflow(policy="drop-oldest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size=0 must be >= 1"):
        Delivery(batch_size=0)
    with pytest.raises(TypeError, match=r"delivery=.* must be a Delivery"):
        Tracker(Settings("k", "http://127.0.0.1:9"), delivery={"concurrency": 4}, start=False)


@pytest.fixture
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture
def settings(emu):
    return Settings(emu.api_key, emu.base_url, timeout_s=2.0, connect_timeout_s=1.0)


def _track_n(t: Tracker, n: int, **tags) -> list[str]:
    return [
        t.track(
            "openai",
            "gpt-4o-mini",
            100 + i,
            20 + i % 7,
            800,
            cost_usd=0.0001,
            customer_id=f"cust_{i % 5:04d}",
            feature_id="chat",
            **tags,
        )
        for i in range(n)
    ]


def test_delivers_everything_once_with_context_tags(emu, settings):
    with Tracker(settings, delivery=Delivery(concurrency=8)) as t:
        with metadata_context(
            organization_id="org_001", product_id="product_a", environment="production"
        ):
            ids = _track_n(t, 300)
        assert t.flush(30)
        stats = t.stats
    assert stats.tracked == stats.delivered == 300
    assert stats.requests == 300 and stats.failed == stats.dropped == 0
    n, distinct, df = _stored(emu)
    assert n == distinct == 300
    assert set(df["call_id"]) == set(ids)
    assert set(df["organization_id"].astype(str)) == {"org_001"}
    assert set(df["product_id"].astype(str)) == {"product_a"}
    assert df["customer_id"].nunique() == 5
    assert stats.connections is not None and stats.connections <= 8  # keep-alive reuse


def test_track_record_keeps_the_call_id_and_fields(emu, settings):
    rec = {
        "timestamp": "2026-01-01T09:00:00Z",
        "call_id": "call_abc",
        "provider": "anthropic",
        "model": "claude-3-haiku",
        "input_tokens": 10,
        "output_tokens": 5,
        "latency_ms": 700,
        "customer_id": "cust_0001",
        "subscription_tier": "pro",
        "cost_usd": 0.002,
    }
    with Tracker(settings) as t:
        assert t.track_record(rec) == "call_abc"
    _, _, df = _stored(emu)
    row = df.iloc[0]
    assert (row.call_id, row.provider, row.model, row.subscription_tier) == (
        "call_abc",
        "anthropic",
        "claude-3-haiku",
        "pro",
    )
    assert row.timestamp.isoformat() == "2026-01-01T09:00:00+00:00"


def test_token_kinds_and_tier_as_keywords_or_in_the_record(emu, settings):
    """track() takes the 2026 token kinds and the service tier as keywords, track_record()
    in the record; they reach the emulator, which prices the call from them; a record that
    breaks the inclusive rule is dead-lettered as invalid (never raised at the call)."""
    kinds = {"cache_read_tokens": 8_000, "cache_write_tokens": 1_000, "reasoning_tokens": 300}
    with Tracker(settings) as t:
        t.track(
            "anthropic",
            "claude-haiku-4-5",
            10_000,
            1_000,
            800,
            call_id="kw",
            timestamp="2026-11-15T12:00:00Z",
            cache_write_1h_tokens=400,
            service_tier="batch",
            **kinds,
        )
        t.track_record(
            {"call_id": "rec", "provider": "openai", "model": "gpt-5.5", "input_tokens": 1_000}
            | {"output_tokens": 500, "latency_ms": 5, "service_tier": "priority"}
            | {"reasoning_tokens": 450, "timestamp": "2026-11-15T12:00:00Z"}
        )
        t.track("openai", "gpt-5.5", 100, 10, call_id="bad", cache_read_tokens=101)
        t.flush(10)
        assert t.stats.invalid == 1
    _, _, df = _stored(emu)
    row = df.set_index("call_id").loc["kw"]
    assert [row[k] for k in kinds] == list(kinds.values())
    assert (row["cache_write_1h_tokens"], row["service_tier"]) == (400, "batch")
    assert df.set_index("call_id").loc["rec", "service_tier"] == "priority"
    costs = emu.costs().set_index("transaction_id")
    assert costs.loc["kw", "source"].startswith("genai-prices")
    assert costs.loc["rec", "reasoning"] > costs.loc["rec", "output"] > 0


def test_usable_from_many_threads(emu, settings):
    t = Tracker(settings, delivery=Delivery(concurrency=16, batch_size=32))

    def worker(k):
        with metadata_context(customer_id=f"cust_{k:04d}"):
            for i in range(200):
                t.track(
                    "openai",
                    "gpt-4o-mini",
                    10,
                    10,
                    100,
                    feature_id="chat",
                    call_id=f"thread{k}-{i}",
                )

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stats = t.close()
    assert stats.tracked == stats.delivered == 1600
    n, distinct, df = _stored(emu)
    assert n == distinct == 1600
    assert df.groupby("customer_id", observed=True).size().to_dict() == {
        f"cust_{k:04d}": 200 for k in range(8)
    }


def test_context_reaches_a_thread_only_when_copied(emu, settings):
    with Tracker(settings) as t, metadata_context(organization_id="org_009"):
        th = threading.Thread(target=lambda: t.track("openai", "m", 1, 1, call_id="plain"))
        th.start()
        th.join()
        th = threading.Thread(
            target=run_in_context(lambda: t.track("openai", "m", 1, 1, call_id="copied"))
        )
        th.start()
        th.join()
    _, _, df = _stored(emu)
    org = dict(zip(df["call_id"], df["organization_id"].astype(object), strict=True))
    assert org["copied"] == "org_009"
    assert org["plain"] is None or org["plain"] != org["plain"]  # missing


def test_works_inside_a_running_event_loop(emu, settings):
    async def app():
        async with Tracker(settings) as t:
            with metadata_context(product_id="product_a"):

                async def handler(i):
                    with metadata_context(customer_id=f"cust_{i % 3:04d}"):
                        await asyncio.sleep(0)
                        return t.track("openai", "gpt-4o-mini", 5, 5, 50, feature_id="chat")

                ids = await asyncio.gather(*(handler(i) for i in range(90)))
            assert await t.aflush(30)
            return ids, t.stats

    ids, stats = asyncio.run(app())
    assert stats.delivered == len(ids) == 90
    _, _, df = _stored(emu)
    assert df.groupby("customer_id", observed=True).size().to_dict() == {
        "cust_0000": 30,
        "cust_0001": 30,
        "cust_0002": 30,
    }


def test_overflow_drop_oldest_is_counted(emu, settings):
    t = Tracker(settings, overflow=Overflow(policy="drop_oldest", max_queue=10), start=False)
    ids = _track_n(t, 50)
    t.start()
    stats = t.close()
    assert stats.tracked == 50 and stats.overflowed == 40 and stats.dropped == 40
    assert stats.delivered == 10
    _, _, df = _stored(emu)
    assert set(df["call_id"]) == set(ids[-10:])  # the newest were kept


def test_overflow_drop_newest_is_counted(emu, settings):
    t = Tracker(settings, overflow=Overflow(policy="drop_newest", max_queue=10), start=False)
    ids = _track_n(t, 25)
    t.start()
    stats = t.close()
    assert (stats.dropped, stats.delivered) == (15, 10)
    _, _, df = _stored(emu)
    assert set(df["call_id"]) == set(ids[:10])


def test_overflow_to_the_spool_loses_nothing(emu, settings, tmp_path):
    t = Tracker(settings, overflow=Overflow(max_queue=10), spool=tmp_path / "spool.db", start=False)
    assert t._overflow_policy == "spool"  # "auto" with a durable spool
    _track_n(t, 60)
    # the caller's thread never writes to SQLite: the 50 wait in the spill for the worker
    assert t.stats.overflowed == 50 and t.stats.spooled == 0 and t.stats.pending == 60
    t.start()
    stats = t.close()
    assert stats.dropped == 0 and stats.delivered == 60
    assert stats.spooled == 50 and stats.replayed == 50 and stats.check_invariant()
    n, distinct, _ = _stored(emu)
    assert n == distinct == 60


def test_retries_honour_rate_limits_and_errors(emu, settings):
    emu.set_faults(rate_limit_rate=0.2, retry_after_s=0.02, error_rate=0.2, seed=3)
    with Tracker(settings, delivery=Delivery(retry=FAST, breaker=BreakerPolicy(50, 0.05))) as t:
        _track_n(t, 400)
        assert t.flush(60)
        stats = t.stats
    es = emu.stats()
    assert es["responses"].get("429", 0) > 0
    assert stats.retried > 0 and stats.requests > 400
    assert stats.delivered == stats.tracked == 400 and stats.failed == 0
    n, distinct, _ = _stored(emu)
    assert n == distinct == 400


def test_breaker_opens_spools_and_replays_with_a_controllable_clock(emu, settings, tmp_path):
    clock = FakeClock()
    log = []
    breaker = CircuitBreaker(BreakerPolicy(3, 5.0), clock=clock, on_transition=log.append)
    t = Tracker(
        settings,
        delivery=Delivery(
            retry=RetryPolicy(max_retries=1, initial_s=0.01, max_s=0.01, jitter_s=0),
            breaker=breaker,
            concurrency=4,
        ),
        spool=tmp_path / "spool.db",
    )
    emu.set_faults(outage=True)
    _track_n(t, 100)
    assert t.flush(30, spool=False)  # everything is delivered or durably spooled
    assert breaker.state == OPEN
    stats = t.stats
    assert stats.delivered == 0 and stats.spooled == 100 and stats.spool_backlog == 100
    emu.set_faults(None)  # the service is back, but the clock has not moved: still open
    time.sleep(0.3)
    assert breaker.state == OPEN and t.stats.delivered == 0
    clock.advance(5.0)  # probe time
    assert t.flush(30)
    stats = t.close()
    assert breaker.state == CLOSED
    assert stats.delivered == 100 and stats.replayed == 100 and stats.spool_backlog == 0
    assert [(x.from_state, x.to_state) for x in log][:1] == [("closed", "open")]
    assert [(x.from_state, x.to_state) for x in log][-2:] == [
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert [x.at for x in log][-1] == 5.0
    n, distinct, _ = _stored(emu)
    assert n == distinct == 100


def test_permanent_errors_are_dead_lettered_not_retried(emu, tmp_path):
    bad = Settings("hak_wrong_key_0000", emu.base_url)
    with Tracker(bad, spool=tmp_path / "s.db", delivery=FAST_DELIVERY) as t:
        _track_n(t, 20)
        t.flush(30)
        stats = t.stats
        letters = t.spool.dead_letters()
    assert stats.failed == 20 and stats.retried == 0 and stats.requests == 20
    assert stats.breaker_state == CLOSED  # the service answered: not an outage
    assert len(letters) == 20 and "401" in letters[0]["reason"]
    assert _stored(emu)[0] == 0


def test_invalid_records_are_counted_and_never_raise(emu, settings):
    with Tracker(settings) as t:
        txn = t.track("openai", "gpt-4o-mini", -5, 10, 100)
        assert isinstance(txn, str) and txn
        t.track("openai", "", 1, 1)
        t.track("openai", "ok-model", 1, 1)
        t.flush(10)
        stats = t.stats
    assert stats.invalid == 2 and stats.failed == 0 and stats.delivered == 1
    assert stats.tracked == stats.delivered + stats.invalid and stats.check_invariant()


def test_the_api_key_never_shows(emu, caplog, tmp_path):
    key = emu.api_key
    settings = Settings(key, emu.base_url, timeout_s=0.5)
    caplog.set_level(logging.DEBUG)
    emu.set_faults(error_rate=0.5, seed=1)
    t = Tracker(settings, delivery=FAST_DELIVERY, spool=tmp_path / "s.db")
    _track_n(t, 50)
    t.flush(30)
    texts = [
        repr(t),
        str(t.stats),
        repr(t.stats.as_dict()),
        str(t.health()),
        repr(settings),
        repr(t.spool),
        t.transitions().to_string(),
        t.timeline().to_string(),
    ]
    stats = t.close()
    wrong = Tracker(Settings("hak_other_secret_999", emu.base_url), delivery=FAST_DELIVERY)
    wrong.track("openai", "m", 1, 1)
    wrong.flush(10)
    texts += [str(wrong.health()), repr(wrong), str(wrong.close())]
    texts.append(caplog.text)
    for text in texts:
        assert key not in text
        assert "hak_other_secret_999" not in text
    assert stats.delivered == 50


def test_health_reports_breaker_backlog_and_service(emu, settings, tmp_path):
    with Tracker(
        settings,
        delivery=Delivery(retry=FAST, breaker=BreakerPolicy(2, 60.0)),
        spool=tmp_path / "s.db",
    ) as t:
        _track_n(t, 5)
        t.flush(10)
        ok = t.health()
        emu.set_faults(outage=True)
        _track_n(t, 20)
        t.flush(10, spool=False)
        down = t.health()
        emu.set_faults(None)
    assert ok["status"] == "ok" and ok["service"]["reachable"] and ok["backlog"] == 0
    assert ok["last_success_age_s"] is not None
    assert down["status"] == "down" and down["breaker"] == "open"
    assert down["spool_backlog"] > 0 and "503" in (down["last_error"] or "")


def test_close_during_an_outage_keeps_the_backlog_for_the_next_run(emu, settings, tmp_path):
    spool = tmp_path / "s.db"
    emu.set_faults(outage=True)
    t1 = Tracker(settings, delivery=OUTAGE_DELIVERY, spool=spool)
    ids = _track_n(t1, 40)
    s1 = t1.close(timeout=10)
    assert s1.delivered == 0 and s1.spool_backlog == 40 and s1.dropped == 0
    emu.set_faults(None)
    s2 = Tracker(settings, spool=spool).close()
    assert s2.replayed == 40 and s2.spool_backlog == 0
    n, distinct, df = _stored(emu)
    assert n == distinct == 40 and set(df["call_id"]) == set(ids)


def test_memory_spool_loss_is_counted_not_silent(emu, settings):
    emu.set_faults(outage=True)
    t = Tracker(settings, delivery=OUTAGE_DELIVERY)
    _track_n(t, 30)
    stats = t.close(timeout=1)
    assert stats.delivered == 0 and stats.dropped == 30  # lost, and said so


@pytest.mark.slow
def test_small_chaos_run_with_an_emulator_restart(emu, settings, tmp_path):
    emu.set_faults(
        error_rate=0.2,
        rate_limit_rate=0.1,
        retry_after_s=0.02,
        drop_rate=0.02,
        lost_response_rate=0.03,
        seed=7,
    )
    t = Tracker(
        settings.with_(timeout_s=1.0),
        delivery=Delivery(retry=FAST, breaker=BreakerPolicy(5, 0.1), concurrency=16),
        spool=tmp_path / "s.db",
    )
    ids = []
    for k in range(4):
        ids += _track_n(t, 500, region=f"r{k}")
        if k == 1:
            emu.restart()
        time.sleep(0.05)
    assert t.flush(120)
    stats = t.close()
    assert stats.delivered == stats.tracked == 2000 and stats.failed == stats.dropped == 0
    n, distinct, df = _stored(emu)
    assert n == distinct == 2000 and set(df["call_id"]) == set(ids)


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_worker_event_loop_choice(emu, settings, loop):
    with Tracker(settings, delivery=Delivery(event_loop=loop)) as t:
        _track_n(t, 50)
        assert t.flush(10)
        assert t.stats.delivered == 50
    with pytest.raises(ValueError, match="event_loop='trio'"):
        Delivery(event_loop="trio")


def test_transitions_are_placed_on_the_timeline(emu, settings, tmp_path):
    t = Tracker(settings, delivery=OUTAGE_DELIVERY, spool=tmp_path / "s.db")
    emu.set_faults(outage=True)
    _track_n(t, 20)
    t.flush(10, spool=False)
    tr = t.transitions()
    tl = t.timeline()
    t.close(timeout=1)
    assert list(tr.columns) == ["at", "t_s", "from_state", "to_state", "reason"]
    assert tr["to_state"].iloc[0] == OPEN
    assert 0 <= tr["t_s"].iloc[0] <= tl["t_s"].max() + 1
