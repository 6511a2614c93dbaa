"""Drift between Revenium's SDK wire and the emulator's parser fails here.

Read from the pinned ``revenium-python-sdk`` 0.12.0 itself (not from a copy): every field of
``AICreateCompletionParams`` (``revenium_middleware/_metering/types/
ai_create_completion_params.py``), its nested ``Subscriber`` / ``SubscriberCredential``, and
the ``extra_body`` keys the middlewares add (``agentic_outcomes._EXTRA_BODY_COMPLETION_KEYS``,
``hasVisionContent``). Each must be a field the emulator parses (``_fields.KNOWN``), except the
two it knowingly reports: ``organizationId`` / ``productId``, deprecated ("no longer accepted
by the Revenium backend", ``_core/fields.py:198-205``). Then one completion carrying every
field goes through the SDK's own generated client (its transform and its wire guards) into a
real emulator on loopback: 201, every field stored, none reported unknown. The emulator's
checks on the SDK-only fields must refuse exactly what the SDK's guards refuse
(``_core/wire_guards.py``), and the emulator's table must not list fields the SDK dropped.

When the SDK is upgraded and a test here fails: add the new field to
``showcase_lib/emulator/_fields.py`` ``SERVICE_ONLY`` (with its rule), or to the wire table.
"""

from __future__ import annotations

import typing

import pytest
from revenium_middleware import agentic_outcomes
from revenium_middleware._core import fields as sdk_fields
from revenium_middleware._core import wire_guards
from revenium_middleware._metering import ReveniumMetering
from revenium_middleware._metering._utils import PropertyInfo
from revenium_middleware._metering.types import ai_create_completion_params as params

from showcase_lib.emulator import Emulator
from showcase_lib.emulator._fields import (
    DEPRECATED,
    KNOWN,
    SDK_INPUT_ONLY,
    SERVICE_ONLY,
    check_service_fields,
)

KEY = "rev_test_" + "dr1ft" * 4
#: Keys the emulator knows that the SDK's params do not declare, and why.
NOT_IN_SDK_PARAMS = {"spanId": "the API reference accepts it in place of transactionId"}
#: Params the SDK's own client sends under another name (resources/ai.py:433-439): they never
#: reach the wire as themselves.
REWRITTEN_BY_THE_SDK = {
    "organizationId": "organizationName",
    "productId": "productName",
    "credentialAlias": "subscriber.credential.name",
}


def _alias(hint: typing.Any) -> str | None:
    for meta in getattr(hint, "__metadata__", ()):
        if isinstance(meta, PropertyInfo) and meta.alias:
            return meta.alias
    for arg in typing.get_args(hint):
        if (found := _alias(arg)) is not None:
            return found
    return None


def _fields_of(td: type) -> dict[str, tuple[str, typing.Any]]:
    """snake name -> (wire name, type hint) of a generated TypedDict."""
    hints = typing.get_type_hints(td, include_extras=True)
    return {name: (_alias(hint) or name, hint) for name, hint in hints.items()}


COMPLETION = _fields_of(params.AICreateCompletionParams)
SUBSCRIBER = _fields_of(params.Subscriber)
CREDENTIAL = _fields_of(params.SubscriberCredential)
EXTRA_BODY = (*agentic_outcomes._EXTRA_BODY_COMPLETION_KEYS, "hasVisionContent")
SDK_WIRE = {wire for wire, _ in COMPLETION.values()} | set(EXTRA_BODY)


def test_the_sdk_declares_the_fields_this_test_reads():
    # a guard on the guard: the generated params still look the way this test expects
    assert len(COMPLETION) > 80 and COMPLETION["transaction_id"][0] == "transactionId"
    assert {w for w, _ in SUBSCRIBER.values()} == {"id", "email", "credential"}
    assert {w for w, _ in CREDENTIAL.values()} == {"name", "value"}


@pytest.mark.parametrize("wire", sorted(SDK_WIRE))
def test_every_field_the_sdk_can_send_is_parsed(wire):
    if wire in DEPRECATED:
        pytest.skip(f"{wire}: knowingly reported as deprecated (use {DEPRECATED[wire]})")
    if wire in SDK_INPUT_ONLY:
        pytest.skip(f"{wire}: SDK-side input only, sent as {SDK_INPUT_ONLY[wire]}")
    assert wire in KNOWN, (
        f"the SDK sends {wire!r} but the emulator would report it as unknown: add it to "
        "showcase_lib/emulator/_fields.py SERVICE_ONLY (with its rule) or to the wire table"
    )


def test_deprecated_and_input_only_names_are_the_ones_the_sdk_rewrites():
    assert set(DEPRECATED) | set(SDK_INPUT_ONLY) <= SDK_WIRE  # once the SDK drops them, go
    assert {**DEPRECATED, **SDK_INPUT_ONLY} == REWRITTEN_BY_THE_SDK


def test_the_emulator_lists_no_field_the_sdk_dropped():
    stale = set(SERVICE_ONLY) - SDK_WIRE - set(NOT_IN_SDK_PARAMS)
    assert not stale, f"SERVICE_ONLY lists {sorted(stale)}, which the SDK no longer sends"


# ------------------------------------------------------------------ one body with every field
_TIME = "2026-11-15T12:00:00Z"
_STRINGS = {
    "request_time": _TIME,
    "response_time": "2026-11-15T12:00:01Z",
    "completion_start_time": "2026-11-15T12:00:01Z",
    "provider": "OpenAI",
    "model": "gpt-5.5",
    "effort": "high",
    "speed": "fast",
    "query_source": "repl_main_thread",
    "subagent_type": "general-purpose",
    "client_surface": "claude-code",
    "entrypoint": "cli",
    "prompt_id": "prompt-1",
    "agentic_job_id": "job-1",
    "actual_service_tier": "default",
    "requested_service_tier": "auto",
    "subscription_tier": "pro",
    "environment": "production",
}
_NUMBERS = {
    "input_token_count": 1000,
    "output_token_count": 200,
    "total_token_count": 1200,
    "cache_read_token_count": 100,
    "cache_creation_token_count": 50,
    "cache_creation5m_token_count": 30,
    "cache_creation1h_token_count": 20,
    "reasoning_token_count": 40,
    "request_duration": 1000,
    "time_to_first_token": 120,
    "mediation_latency": 3,
    "retry_number": 0,
    "error_code": 0,
    "prompt_length": 42,
    "total_cost": 0.01,
    "input_token_cost": 0.004,
    "output_token_cost": 0.006,
    "cache_read_token_cost": 0.0001,
    "cache_creation_token_cost": 0.0002,
    "cost_multiplier": 1.0,
    "temperature": 0.5,
    "response_quality_score": 0.9,
}


def _value(name: str, hint: typing.Any) -> typing.Any:
    """A valid value for one SDK param, from its name and its type."""
    if name in _STRINGS:
        return _STRINGS[name]
    if name in _NUMBERS:
        return _NUMBERS[name]
    if name == "subscriber":
        return {"id": "cust_1", "email": "a@example.com", "credential": {"name": "k", "value": "v"}}
    base = hint
    while typing.get_origin(base) in (typing.Required, typing.NotRequired, typing.Annotated):
        base = typing.get_args(base)[0]
    if typing.get_origin(base) is typing.Literal:
        return typing.get_args(base)[0]
    if base is bool:
        return False
    if base is int:
        return 1
    if base is float:
        return 0.5
    assert base is str, (name, hint)
    return f"v-{name.replace('_', '-')}"


def test_a_completion_with_every_sdk_field_is_stored_through_the_sdk_client():
    kwargs = {name: _value(name, hint) for name, (_, hint) in COMPLETION.items()}
    kwargs["transaction_id"] = "drift-1"
    extra = {k: ("job-1" if k == "agenticJobId" else f"v-{k}") for k in EXTRA_BODY}
    extra["hasVisionContent"] = True
    with Emulator(api_key=KEY) as emu:
        client = ReveniumMetering(api_key=KEY, base_url=emu.url, max_retries=0)
        try:
            client.ai.create_completion(**kwargs, extra_body=extra)
        finally:
            client.close()
        (stored,) = emu.events()
        stats, report = emu.stats(), emu.unknown_fields()
    # the SDK's guards let every field through (else this test would prove nothing) ...
    missing = sorted(SDK_WIRE - set(REWRITTEN_BY_THE_SDK) - set(stored))
    assert not missing, f"the SDK did not send {missing}: fix this test's values"
    assert not set(REWRITTEN_BY_THE_SDK) & set(stored)
    assert set(stored["subscriber"]) == {"id", "email", "credential"}
    # ... and the emulator parsed every one: nothing unknown, nothing deprecated
    assert stats["stored"] == 1
    assert (stats["unknown_keys"], stats["deprecated_keys"]) == ({}, {})
    assert report.empty


# ------------------------------------------------------------------ the same rules
_SNAKE_TO_WIRE = {name: wire for name, (wire, _) in COMPLETION.items()}
_PROBES = [
    "",
    "a",
    "high",
    "x" * 16,
    "x" * 17,
    "x" * 64,
    "x" * 65,
    "x" * 128,
    "x" * 129,
    "a b",
    "a.b",
    "a:b",
    "a/b",
    "-lead",
    "ünï",
]


def _sdk_refuses(rule: typing.Callable[[typing.Any], typing.Any], value: typing.Any) -> bool:
    try:
        rule(value)
    except wire_guards._Malformed:
        return True
    return False


@pytest.mark.parametrize(
    "snake",
    sorted(
        name
        for name in wire_guards._RULES_BY_OPERATION["completion"]
        if _SNAKE_TO_WIRE.get(name) in SERVICE_ONLY
    ),
)
def test_the_emulator_refuses_what_the_sdk_guards_refuse(snake):
    rule = wire_guards._RULES_BY_OPERATION["completion"][snake]
    wire = _SNAKE_TO_WIRE[snake]
    probes = [-1, 0, 42, 2**31 - 1, 2**31] if wire == "promptLength" else _PROBES
    for value in probes:
        emulator_refuses = bool(check_service_fields({wire: value}))
        assert emulator_refuses == _sdk_refuses(rule, value), (wire, value)


def test_the_agentic_job_id_rule_is_the_sdks():
    for value in ("job-1", "Job.2_x", "types", "conversion-funnel", "-x", "", "a" * 256, "a b"):
        sdk_ok = sdk_fields.is_valid_agentic_job_id(value)
        assert (not check_service_fields({"agenticJobId": value})) == sdk_ok, value
