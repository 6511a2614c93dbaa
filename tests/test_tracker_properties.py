"""Property-based tests of the tracker (hypothesis) against a real in-process emulator.

Arbitrary records (valid or not: negative counts, lone surrogates, empty models, odd tag
values), tags, enrichment hooks (well-behaved, returning a ``str``/``list``, raising, adding an
unknown field) and fault schedules (5xx, 429, dropped connections, lost responses, hangs).
After the faults stop and ``close()`` returns:

* ``tracked == delivered + failed + dropped + invalid + pending`` (and in every snapshot taken
  while the records were in flight);
* nothing is pending or dropped (the service came back, so everything valid was delivered);
* the emulator's store holds exactly the delivered records, each once;
* every record that was not delivered is a dead letter with a reason.

One emulator serves the whole module (reset between examples); examples are few and the
retries fast, so the module runs in well under a minute on two cores.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showcase_lib.emulator import Emulator, FaultConfig
from showcase_lib.metering import BreakerPolicy, Delivery, RetryPolicy, Settings, Tracker

FAST = RetryPolicy(max_retries=3, initial_s=0.005, max_s=0.02, jitter_s=0.005)
#: a breaker that opens under heavy faults but probes again after 50 ms
DELIVERY = Delivery(retry=FAST, concurrency=8, breaker=BreakerPolicy(5, 0.05, quiet_s=0.2))


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


text_values = st.one_of(
    st.sampled_from(["gpt-4o-mini", "claude-3-5-haiku", "", " ", "gpt\ud800", "\udfff"]),
    st.text(max_size=12),
    st.text(max_size=4).map(lambda s: s + "\ud83d"),  # a lone high surrogate at the end
)
counts = st.one_of(st.integers(0, 10**6), st.integers(-3, -1), st.just(2**63))
tag_values = st.one_of(text_values, st.integers(-2, 2), st.none(), st.just(1.5))
tags = st.dictionaries(
    st.sampled_from(["customer_id", "feature_id", "environment", "task_type", "region"]),
    tag_values,
    max_size=3,
)
records = st.lists(
    st.tuples(text_values, counts, counts, st.integers(-1, 5000), tags), min_size=1, max_size=25
)


def _hook(kind: str):
    """An enrichment hook that misbehaves on every third record (or never, for "ok")."""
    bad = (
        {
            "ok": {"environment": "production"},
            "str": "environment=production",
            "list": ["environment"],
            "unknown field": {"tenant": "t1"},
            "none": None,
        }[kind]
        if kind != "raises"
        else None
    )

    def hook(rec):
        if kind == "ok" or not rec["call_id"].endswith(("0", "3", "6", "9")):
            return {"task_type": "chat"}
        if kind == "raises":
            raise RuntimeError("enricher bug")
        return bad

    return hook


hooks = st.lists(
    st.sampled_from(["ok", "str", "list", "raises", "unknown field", "none"]), max_size=2
)
faults = st.builds(
    FaultConfig,
    error_rate=st.sampled_from([0.0, 0.1, 0.3]),
    rate_limit_rate=st.sampled_from([0.0, 0.1]),
    retry_after_s=st.just(0.01),
    drop_rate=st.sampled_from([0.0, 0.05]),
    lost_response_rate=st.sampled_from([0.0, 0.05, 0.1]),
    hang_rate=st.sampled_from([0.0, 0.02]),
    hang_s=st.just(0.5),
    seed=st.integers(0, 1000),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recs=records, hook_kinds=hooks, fault=faults, unknown=st.booleans())
def test_nothing_lost_nothing_duplicated(emu, recs, hook_kinds, fault, unknown):
    emu.set_faults(None)
    emu.reset()
    emu.set_faults(fault)
    cfg = Settings(emu.api_key, emu.base_url, timeout_s=0.3, connect_timeout_s=0.5)
    t = Tracker(cfg, delivery=DELIVERY)
    t.add_enrichers(*(_hook(k) for k in hook_kinds))
    snapshots = []
    ids = []
    try:
        for i, (model, tin, tout, lat, tg) in enumerate(recs):
            call_id = f"p-{i}"
            ids.append(call_id)
            t.track("openai", model, tin, tout, lat, call_id=call_id, **tg)
            if unknown and i == 0:  # a misspelt tag is refused at the call, never counted
                with pytest.raises(TypeError, match="did you mean"):
                    t.track("openai", model, tin, tout, lat, custmer_id="c9")
            if i % 8 == 0:
                snapshots.append(t.stats)
        emu.set_faults(None)  # the service recovers: everything valid must now get through
        assert t.flush(30, spool=True)
    finally:
        stats = t.close(timeout=30)
    letters = t.spool.dead_letters()

    assert all(s.check_invariant() for s in snapshots)
    assert stats.check_invariant()
    assert stats.tracked == len(recs)
    assert stats.pending == stats.dropped == 0
    assert stats.failed == 0  # the service rejects nothing the tracker let through
    assert len(letters) == stats.invalid and all(d["reason"] for d in letters)
    assert sum(stats.reasons.values()) == stats.invalid
    stored = [b["transactionId"] for b in emu.events()]
    assert len(stored) == len(set(stored))  # no duplicates, lost responses included
    dead = {d["transaction_id"] for d in letters}
    assert set(stored) == set(ids) - dead
    assert len(stored) == stats.delivered
