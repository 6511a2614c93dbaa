"""Budgets the way Revenium's SDK enforces them, against a real emulator on loopback.

The emulator serves ``GET /v2/api/ai/enforcement-rules/{teamId}`` (``emulator/_budgets.py``),
with each rule's spend computed from its store; revenium-python-sdk 0.12.0 polls it, caches the
rules and raises ``BudgetExceededError`` before the provider call of a caller whose cap is
breached. The shape is checked with the SDK's own parser and decision functions (private, at
the pinned version: a change there is drift this file must notice), then end to end: the
official ``openai`` client answered by the stand-in, shadow mode, enforced, and fail-open.
"""

from __future__ import annotations

import socket
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import openai
import pytest

from showcase_lib.emulator import Emulator
from showcase_lib.emulator._budgets import (
    BudgetConfig,
    BudgetRule,
    Budgets,
    _Entry,
    rule_states,
    window,
)
from showcase_lib.stand_in import StandIn

KEY = "rev_budgets_" + "k" * 20
MSG = [{"role": "user", "content": "What did this cost?"}]
NOW = datetime.now(timezone.utc)


def completion(i: int, subscriber: str | None = "cust_1", *, when: datetime = NOW) -> dict:
    body = {
        "transactionId": f"tx_{uuid.uuid4().hex}_{i}",
        "provider": "OpenAI",
        "model": "gpt-5.5",
        "inputTokenCount": 1000,
        "outputTokenCount": 100,
        "totalTokenCount": 1100,
        "requestTime": when.isoformat().replace("+00:00", "Z"),
        "responseTime": when.isoformat().replace("+00:00", "Z"),
        "completionStartTime": when.isoformat().replace("+00:00", "Z"),
        "requestDuration": 1000,
        "stopReason": "END",
        "costType": "AI",
        "isStreamed": False,
    }
    if subscriber is not None:
        body["subscriber"] = {"id": subscriber}
    return body


@pytest.fixture(scope="module")
def emu():
    with Emulator(api_key=KEY) as e:
        yield e


@pytest.fixture
def clean(emu):
    emu.reset()
    yield emu


def post(emu, bodies) -> None:
    with httpx.Client() as c:
        for b in bodies:
            r = c.post(emu.completions_url, json=b, headers={"x-api-key": KEY})
            assert r.status_code == 201, r.text


def rules_url(emu, team: str) -> str:
    return f"{emu.url}v2/api/ai/enforcement-rules/{team}"


def state_of(emu, team: str) -> dict:
    """The read-out of the team's one rule (other tests' teams keep theirs)."""
    (rule,) = [r for r in emu.budgets()["rules"] if r["team_id"] == team]
    return rule


def poll(emu, team: str, **params) -> httpx.Response:
    return httpx.get(rules_url(emu, team), params=params, headers={"x-api-key": KEY})


# ---------------------------------------------------------------- the route's shape


def test_the_route_serves_what_the_sdk_parses_and_decides_on(clean):
    from revenium_middleware._core import enforcement as sdk

    emu = clean
    emu.set_budgets(
        "team_shape",
        [
            {"rule_id": "one", "name": "cust_1 cap", "threshold_usd": 0.01, "subscriber": "cust_1"},
            {
                "rule_id": "each",
                "name": "per customer",
                "threshold_usd": 0.02,
                "per_subscriber": True,
            },
            {
                "rule_id": "claude",
                "name": "cust_1 Anthropic cap",
                "threshold_usd": 0.001,
                "subscriber": "cust_1",
                "provider": "ANTHROPIC",
            },
            {"rule_id": "shadow", "name": "team cap", "threshold_usd": 0.001, "shadow_mode": True},
        ],
    )
    # gpt-5.5: 1000 x $5 + 100 x $30 per MTok = $0.008 a call
    post(emu, [completion(i, "cust_1") for i in range(3)] + [completion(9, "cust_2")])
    r = poll(emu, "team_shape")
    assert r.status_code == 200
    fetched = sdk._fetched_from_payload(r.json())  # the SDK's own split of the body
    rules = {rule["ruleId"]: rule for rule in fetched.rules}
    assert set(rules) == {"one", "each", "claude", "shadow"}
    assert rules["one"]["currentValue"] == pytest.approx(0.024)
    assert rules["one"]["breached"] and rules["one"]["groupBy"] is None

    def blocks(rule, subscriber):
        scope = sdk._CallScope({"subscriber": {"id": subscriber}}, "gpt-5.5", "OPENAI")
        if not sdk._rule_applies_to_call(rule, scope):
            return False
        return sdk._rule_blocks(rule, {"subscriber": {"id": subscriber}})[0]

    # the filter scopes the cap to cust_1; the grouped rule judges each caller on its own entry
    assert blocks(rules["one"], "cust_1") and not blocks(rules["one"], "cust_2")
    assert blocks(rules["each"], "cust_1") and not blocks(rules["each"], "cust_2")
    assert [g["groupValue"] for g in rules["each"]["groupBreakdown"]] == ["cust_1", "cust_2"]
    # a provider filter: OpenAI spend does not count, and the SDK does not apply it to the call
    assert (rules["claude"]["currentValue"], rules["claude"]["breached"]) == (0, False)
    assert not blocks(rules["claude"], "cust_1")
    assert not sdk._rule_applies_to_call(
        rules["claude"], sdk._CallScope({"subscriber": {"id": "cust_1"}}, "gpt-5.5", "OPENAI")
    )
    assert all(sdk._action_blocks(rule) for rule in rules.values())
    # the window ends in the future (a past windowEnd blocks nobody) and resetsAt is its end
    for rule in rules.values():
        assert not sdk._window_has_ended(rule)
        end = sdk._parse_window_end(rule["windowEnd"])
        assert end < datetime.fromisoformat(rule["resetsAt"].replace("Z", "+00:00"))
        assert end - NOW < timedelta(days=1)
    # the breached shadow rule is served as breached; check_enforcement skips it (shadowMode)
    assert rules["shadow"]["breached"] and rules["shadow"]["shadowMode"] is True
    # the SDK's one-rule read narrows to the rule asked for
    assert [x["ruleId"] for x in poll(emu, "team_shape", ruleId="each").json()["rules"]] == ["each"]


def test_the_route_answers_like_the_service(clean):
    emu = clean
    assert httpx.get(rules_url(emu, "t")).status_code == 401
    assert poll(emu, "no_rules_here").status_code == 204  # the SDK reads 204 as "no rules"
    r = httpx.post(rules_url(emu, "t"), headers={"x-api-key": KEY})
    assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD")
    assert poll(emu, "a%2Fb").status_code == 404  # a team id holding "/"
    with pytest.raises(ValueError, match="threshold_usd"):
        emu.set_budgets("t", [{"rule_id": "r", "name": "n", "threshold_usd": -1}])
    with pytest.raises(ValueError, match="period"):
        emu.set_budgets("t", [{"rule_id": "r", "name": "n", "threshold_usd": 1, "period": "WEEK"}])
    with pytest.raises(ValueError, match="unique"):
        rule = {"rule_id": "r", "name": "n", "threshold_usd": 1}
        emu.set_budgets("t", [rule, rule])
    emu.set_budgets("t", [{"rule_id": "r", "name": "n", "threshold_usd": 1}])
    assert poll(emu, "t").status_code == 200
    emu.set_budgets("t", [])  # removed
    assert poll(emu, "t").status_code == 204


# ---------------------------------------------------------------- the spend


def test_current_value_is_the_emulators_priced_spend_in_the_window(clean):
    emu = clean
    emu.set_budgets(
        "team_spend",
        [{"rule_id": "c1", "name": "cust_1", "threshold_usd": 0.02, "subscriber": "cust_1"}],
    )
    yesterday = NOW - timedelta(days=1, hours=1)
    post(emu, [completion(0, "cust_1", when=yesterday)])  # another window
    post(emu, [completion(i, "cust_1") for i in range(1, 5)])
    post(emu, [completion(7, "cust_2"), completion(8, None)])  # not this customer's
    costs = emu.costs().set_index("transaction_id")["total"]
    events = {e["transactionId"]: e for e in emu.events()}
    today = [
        t
        for t, e in events.items()
        if e.get("subscriber", {}).get("id") == "cust_1" and not t.endswith("_0")
    ]
    (rule,) = poll(emu, "team_spend").json()["rules"]
    assert rule["currentValue"] == pytest.approx(costs[today].sum())
    state = state_of(emu, "team_spend")
    assert state["calls"] == 4 and state["breached"]
    # $0.008 a call against $0.02: the third reaches the cap, the fourth is past it
    assert state["past_cap_calls"] == 1
    assert state["past_cap_usd"] == pytest.approx(costs[today[-1]])
    assert state["first_breach_served_at"] is not None
    emu.reset()  # an empty store: nothing spent
    (rule,) = poll(emu, "team_spend").json()["rules"]
    assert (rule["currentValue"], rule["breached"]) == (0, False)


def test_the_crossing_is_the_record_that_reaches_the_cap():
    t = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    entries = [_Entry(i, 100.0 + i, t, f"c{i % 2}", "OPENAI", None, 1.0) for i in range(10)]
    entries.append(
        _Entry(10, 200.0, t - timedelta(days=1), "c0", "OPENAI", None, 50.0)
    )  # yesterday
    pooled = rule_states(BudgetRule(rule_id="r", name="n", threshold_usd=3), entries, t)["*"]
    assert (pooled.spent, pooled.crossed_at, pooled.past_cap_calls) == (10.0, 102.0, 7)
    grouped = rule_states(
        BudgetRule(rule_id="r", name="n", threshold_usd=3, per_subscriber=True), entries, t
    )
    assert {k: (s.spent, s.crossed_at, s.past_cap_calls) for k, s in grouped.items()} == {
        "c0": (5.0, 104.0, 2),
        "c1": (5.0, 105.0, 2),
    }
    assert window("HOUR", t) == (t, t + timedelta(hours=1))


def test_a_store_without_completions_serves_zero(tmp_path):
    from showcase_lib.emulator._store import Store

    Store(tmp_path / "e.db").close()
    b = Budgets(tmp_path / "e.db")
    b.configure(
        BudgetConfig(team_id="t", rules=[BudgetRule(rule_id="r", name="n", threshold_usd=1)])
    )
    assert b.payload("t")["rules"][0]["currentValue"] == 0
    assert b.readout()["polls"]["count"] == 1


# ---------------------------------------------------------------- the SDK, end to end


@pytest.fixture
def sdk(clean, monkeypatch, tmp_path):
    """Revenium's middleware metering into the emulator and polling its rules every second."""
    import revenium_middleware
    import revenium_middleware.openai  # patches openai's Completions
    from revenium_middleware._core import stop_polling

    team = f"team_{uuid.uuid4().hex[:8]}"  # a new team: the SDK drops the last one's cache
    for name, value in {
        "REVENIUM_METERING_API_KEY": KEY,
        "REVENIUM_METERING_BASE_URL": clean.url.rstrip("/"),
        "REVENIUM_CACHE_DIR": str(tmp_path),
        "REVENIUM_TEAM_ID": team,
        "REVENIUM_CIRCUIT_BREAKER_ENABLED": "true",
        "REVENIUM_CB_POLL_INTERVAL_SECONDS": "1",  # the smallest the SDK takes (a whole number)
    }.items():
        monkeypatch.setenv(name, value)
    stop_polling()  # a poller started by another test keeps its interval: start a new one
    assert revenium_middleware.initialize_metering()
    yield team
    stop_polling()
    left = revenium_middleware.flush_metering(10)
    for name in ("REVENIUM_METERING_API_KEY", "REVENIUM_METERING_BASE_URL", "REVENIUM_TEAM_ID"):
        monkeypatch.delenv(name)
    revenium_middleware.initialize_metering()
    assert left == 0


def load_rules(emu, customer: str) -> None:
    """Start the SDK's poller (its first check does) and wait until a poll has landed."""
    from revenium_middleware._core import check_enforcement

    before = emu.budgets()["polls"]["count"]
    check_enforcement({"subscriber": {"id": customer}}, model="gpt-5.5", provider="OPENAI")
    deadline = time.monotonic() + 10
    while emu.budgets()["polls"]["count"] < before + 2:  # the second means the first is cached
        assert time.monotonic() < deadline, "the SDK did not poll the rules"
        time.sleep(0.05)


def call(i: int, customer: str = "cust_1"):
    stand_in = StandIn(
        seed=i, input_tokens=1000, cache_read_tokens=0, output_tokens=100, reasoning_tokens=0
    )
    transport = stand_in.transport()
    client = openai.OpenAI(api_key="sk-stand-in", http_client=stand_in.http_client(transport))
    client.chat.completions.create(
        model="gpt-5.5", messages=MSG, usage_metadata={"subscriber": {"id": customer}}
    )
    return transport


def test_shadow_mode_lets_every_call_through_and_counts_the_would_be_blocks(sdk, clean):
    import revenium_middleware

    emu = clean
    emu.set_budgets(
        sdk,
        [
            {
                "rule_id": "cap",
                "name": "cust_1 daily cap",
                "threshold_usd": 0.02,
                "subscriber": "cust_1",
                "shadow_mode": True,
            }
        ],
    )
    load_rules(emu, "cust_1")
    made = 0
    deadline = time.monotonic() + 20
    # call until a poll has served the breach, then through two more polls
    while True:
        call(made)
        made += 1
        served = state_of(emu, sdk)["first_breach_served_at"]
        if served is not None and sum(t > served for t in emu.budgets()["polls"]["times"]) >= 2:
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert revenium_middleware.flush_metering(10) == 0
    emu.wait_for(made, timeout=10)
    state = state_of(emu, sdk)
    # every call went through and was stored; the ones after the third ($0.024 >= $0.02)
    # are what the cap would have refused
    assert state["calls"] == made and state["breached"]
    assert state["past_cap_calls"] == made - 3 > 0


def test_an_enforced_cap_raises_and_no_call_passes_after_the_first_block(sdk, clean):
    import revenium_middleware
    from revenium_middleware import BudgetExceededError

    emu = clean
    emu.set_budgets(
        sdk,
        [
            {
                "rule_id": "cap",
                "name": "cust_1 daily cap",
                "threshold_usd": 0.02,
                "subscriber": "cust_1",
                "deny_message": "Upgrade the plan.",
            }
        ],
    )
    load_rules(emu, "cust_1")
    passed, error = 0, None
    deadline = time.monotonic() + 20
    while error is None:
        try:
            call(passed)
            passed += 1
        except BudgetExceededError as exc:
            error, blocked_at = exc, time.time()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # another customer is not capped; the capped one stays blocked, and the provider never
    # sees the blocked calls (the check runs before the request)
    call(10_000, customer="cust_2")
    transport = StandIn().transport()
    client = openai.OpenAI(api_key="k", http_client=StandIn().http_client(transport))
    for _ in range(5):
        with pytest.raises(BudgetExceededError):
            client.chat.completions.create(
                model="gpt-5.5", messages=MSG, usage_metadata={"subscriber": {"id": "cust_1"}}
            )
    assert transport.served == []
    assert revenium_middleware.flush_metering(10) == 0
    emu.wait_for(passed + 1, timeout=10)
    state = state_of(emu, sdk)
    assert (error.rule_name, error.rule_id, error.threshold) == ("cust_1 daily cap", "cap", 0.02)
    assert error.deny_message == "Upgrade the plan." and error.resets_at == state["resets_at"]
    assert error.current_value >= error.threshold
    # the calls that passed: three to reach the cap, then those made while the SDK's cache
    # still said "under" (the poll lag), all stored and counted past the cap
    assert state["groups"]["*"]["calls"] == passed >= 3
    assert state["past_cap_calls"] == passed - 3
    lag = blocked_at - state["crossed_at"]
    assert 0 < lag < 5  # one poll interval plus delivery, with room for a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_sdk_fails_open_when_the_rules_route_is_down(sdk, clean, monkeypatch):
    from revenium_middleware import BudgetExceededError
    from revenium_middleware._core import check_enforcement

    emu = clean
    emu.set_budgets(sdk, [{"rule_id": "cap", "name": "cap", "threshold_usd": 0.000001}])
    polls = emu.budgets()["polls"]["count"]
    # metering still reaches the emulator; the rules are polled from a closed port
    monkeypatch.setenv("REVENIUM_ENFORCEMENT_BASE_URL", f"http://127.0.0.1:{free_port()}")
    for i in range(3):
        call(i)  # no rules ever loaded: the calls go through (fail-open, the default)
    assert emu.budgets()["polls"]["count"] == polls  # none reached the emulator
    monkeypatch.setenv("REVENIUM_CB_FAIL_MODE", "closed")
    with pytest.raises(BudgetExceededError, match="uninitialized"):
        check_enforcement({"subscriber": {"id": "cust_1"}})


def test_a_process_mode_emulator_serves_the_rules_too():
    with Emulator(api_key=KEY, process=True) as emu:
        emu.set_budgets("t", [{"rule_id": "r", "name": "cap", "threshold_usd": 0.01}])
        post(emu, [completion(i) for i in range(2)])
        (rule,) = poll(emu, "t").json()["rules"]
        assert (rule["breached"], rule["currentValue"]) == (True, pytest.approx(0.016))
        assert state_of(emu, "t")["past_cap_calls"] == 0  # the second call reached the cap


def test_a_rules_outage_keeps_the_cached_verdict(sdk, clean, monkeypatch):
    from revenium_middleware import BudgetExceededError

    # the rules come from a second emulator (its own store holds the spend), then it goes down
    with Emulator(api_key=KEY) as rules:
        monkeypatch.setenv("REVENIUM_ENFORCEMENT_BASE_URL", rules.url.rstrip("/"))
        rules.set_budgets(sdk, [{"rule_id": "cap", "name": "cap", "threshold_usd": 0.001}])
        post(rules, [completion(0)])
        load_rules(rules, "cust_1")
        with pytest.raises(BudgetExceededError):
            call(0)
    for i in range(3):  # over two poll intervals: the polls fail, the cached verdict holds
        time.sleep(0.75)
        with pytest.raises(BudgetExceededError):
            call(i)
    assert clean.stats()["stored"] == 0  # no refused call was metered
