"""Record <-> wire mapping: exact round trips, errors that name field and value."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showcase_lib import wire
from showcase_lib.schema import (
    ALL_COLUMNS,
    COLUMN,
    DTYPES,
    SERVICE_TIER_MULTIPLIERS,
    SERVICE_TIERS,
    STATUSES,
    STOP_REASONS,
)


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(r.integers(0, 30 * 86_400_000, n)), unit="ms"
    )
    data = {
        "timestamp": ts,
        "call_id": [f"call_{i}" for i in range(n)],
        "provider": r.choice(["openai", "anthropic", "google", "aws-bedrock", "azure-openai"], n),
        "model": r.choice(["gpt-4o", "claude-3-5-haiku", "gemini-1.5-flash"], n),
        "input_tokens": r.integers(0, 5000, n),
        "output_tokens": r.integers(0, 2000, n),
        "cost_usd": r.random(n) / 100,
        "latency_ms": r.integers(50, 9000, n),
        "customer_id": r.choice([f"cust_{i:04d}" for i in range(50)], n),
        "subscription_tier": r.choice(["starter", "pro", "enterprise"], n),
        "organization_id": r.choice(["org_1", "org_2"], n),
        "product_id": r.choice(["assist", "search"], n),
        "feature_id": r.choice(["chat", "summarise"], n),
        "task_type": r.choice(["qa", "summarize"], n),
        "environment": r.choice(["production", "staging"], n),
        "request_id": [f"req_{i}" for i in range(n)],
        "trace_id": [f"tr_{i // 3}" for i in range(n)],
        "user_agent": r.choice(["app/1.0", "app/2.0"], n),
        "session_id": [f"s_{i // 10}" for i in range(n)],
        "status": r.choice(list(STATUSES), n),
        "stop_reason": r.choice(["END", "ERROR", "TIMEOUT", "TOKEN_LIMIT"], n),
        "region": r.choice(["us-east-1", "eu-west-1"], n),
    }
    # the token kinds, inclusive: parts of input_tokens / output_tokens (zero in some rows)
    tin, tout = data["input_tokens"], data["output_tokens"]
    data["cache_read_tokens"] = (tin * r.choice([0.0, 0.8], n)).astype("int64")
    data["cache_write_tokens"] = ((tin - data["cache_read_tokens"]) * r.random(n) / 2).astype(
        "int64"
    )
    data["cache_write_1h_tokens"] = (
        data["cache_write_tokens"] * r.choice([0.0, 0.5, 1.0], n)
    ).astype("int64")
    data["reasoning_tokens"] = (tout * r.choice([0.0, 0.9], n)).astype("int64")
    data["service_tier"] = r.choice(list(SERVICE_TIERS), n)
    return pd.DataFrame(data).astype(DTYPES)[list(ALL_COLUMNS)]


def same(a, b) -> bool:
    if wire._missing(a) and wire._missing(b):
        return True
    return a == b


def value(rec, col):
    """A record's value, or what its absence means (0 tokens, the standard tier)."""
    v = rec.get(col)
    return COLUMN[col].default if v is None and COLUMN[col].default is not None else v


def test_mapping_covers_every_record_column():
    mapped = " ".join(rec for rec, _, _ in wire.MAPPING)
    for col in ALL_COLUMNS:
        assert col in mapped, col
    table = wire.mapping_table()
    assert list(table.columns) == ["record field", "wire field", "OpenTelemetry", "note"]
    assert set(wire.CompletionBody.__required_keys__) <= set(table["wire field"])


def test_record_to_wire_required_fields():
    body = wire.record_to_wire(
        {
            "timestamp": pd.Timestamp("2026-03-02T15:04:05Z"),
            "call_id": "c1",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 100,
            "output_tokens": 20,
            "cost_usd": 0.25,
            "latency_ms": 2000,
            "customer_id": "cust_1",
            "organization_id": "acme",
            "status": "error",
        }
    )
    assert body["transactionId"] == "c1"
    assert body["provider"] == "OpenAI"
    assert body["requestTime"] == "2026-03-02T15:04:05Z"
    assert body["responseTime"] == body["completionStartTime"] == "2026-03-02T15:04:07Z"
    assert body["requestDuration"] == 2000
    assert body["totalTokenCount"] == 120
    assert body["stopReason"] == "ERROR" and body["stopReasonDerived"] is True
    assert body["costType"] == "AI" and body["isStreamed"] is False
    assert body["totalCost"] == 0.25
    assert body["subscriber"] == {"id": "cust_1"}
    assert body["organizationName"] == "acme"
    assert wire.validate_wire(body) == []
    json.dumps(body, allow_nan=False)  # serialisable as strict JSON


def test_frame_round_trip_is_exact_including_missing_values():
    df = make_frame(500, seed=1)
    df.loc[3, "cost_usd"] = np.nan
    df.loc[4, "stop_reason"] = np.nan
    df.loc[5, ["status", "stop_reason"]] = np.nan
    df.loc[6, "customer_id"] = np.nan
    df.loc[7, "request_id"] = pd.NA
    df.loc[8, "timestamp"] = pd.Timestamp("2026-01-02T03:04:05.123456789Z")
    bodies = list(wire.frame_to_wire(df, chunk_rows=128))
    assert len(bodies) == len(df)
    back = wire.wire_to_frame(bodies)
    assert list(back.columns) == list(ALL_COLUMNS)
    for c in ALL_COLUMNS:
        assert str(back[c].dtype) == str(pd.Series(dtype=DTYPES[c]).dtype), c
    pd.testing.assert_frame_equal(back, df, check_categorical=False)
    assert bodies[8]["requestTime"] == "2026-01-02T03:04:05.123456789Z"


def test_frame_and_record_paths_agree():
    df = make_frame(200, seed=2)
    df.loc[10, ["cost_usd", "region", "stop_reason"]] = np.nan
    bodies = list(wire.frame_to_wire(df))
    records = df.to_dict("records")
    assert [wire.record_to_wire(r) for r in records] == bodies
    for body, rec in zip(bodies, records, strict=True):
        back = wire.wire_to_record(body)
        assert list(back) == list(ALL_COLUMNS)
        assert all(same(back[c], rec[c]) for c in ALL_COLUMNS)
    tiers = df["service_tier"].astype(str)
    assert {b.get("pricingTier") for b in bodies} == {None, "STANDARD", "BATCH"}
    assert all(
        b.get("costMultiplier")
        == (SERVICE_TIER_MULTIPLIERS[t] if t in ("flex", "priority") else None)
        for b, t in zip(bodies, tiers, strict=True)
    )


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
optional_text = st.none() | text
record_strategy = (
    st.fixed_dictionaries(
        {
            "timestamp": st.integers(946_684_800 * 10**9, 4_102_444_800 * 10**9).map(
                lambda ns: pd.Timestamp(ns, tz="UTC")
            ),
            "call_id": text.filter(lambda s: s.strip() != ""),
            "provider": st.sampled_from([*wire._PROVIDER_NAMES, "perplexity", "xai", "groq"]),
            "model": text.filter(lambda s: s.strip() != ""),
            "input_tokens": st.integers(0, 10**9),
            "output_tokens": st.integers(0, 10**9),
            "cost_usd": st.none() | st.floats(0, 1e6, allow_nan=False),
            "latency_ms": st.integers(0, 10**7),
            "customer_id": optional_text,
            "subscription_tier": optional_text,
            "organization_id": optional_text,
            "product_id": optional_text,
            "feature_id": optional_text,
            "task_type": optional_text,
            "environment": optional_text,
            "request_id": optional_text,
            "trace_id": optional_text,
            "user_agent": optional_text,
            "session_id": optional_text,
            "status": st.none() | st.sampled_from(STATUSES),
            "stop_reason": st.none() | st.sampled_from(STOP_REASONS),
            "region": optional_text,
        }
    )
    .flatmap(
        lambda rec: st.fixed_dictionaries(
            {
                **{k: st.just(v) for k, v in rec.items()},
                "cache_read_tokens": st.none() | st.integers(0, rec["input_tokens"] // 2),
                "cache_write_tokens": st.none() | st.integers(0, rec["input_tokens"] // 2),
                "reasoning_tokens": st.none() | st.integers(0, rec["output_tokens"]),
                "service_tier": st.none() | st.sampled_from(SERVICE_TIERS),
            }
        )
    )
    .flatmap(
        lambda rec: st.fixed_dictionaries(
            {
                **{k: st.just(v) for k, v in rec.items()},
                "cache_write_1h_tokens": st.none() | st.integers(0, rec["cache_write_tokens"] or 0),
            }
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_strategy)
def test_record_round_trip_property(rec):
    body = wire.record_to_wire(rec)
    # through real JSON, as on the wire
    back = wire.wire_to_record(json.loads(json.dumps(body, allow_nan=False)))
    for col in ALL_COLUMNS:
        assert same(back[col], value(rec, col)), (col, back[col], rec[col])


@settings(max_examples=25, deadline=None)
@given(st.lists(record_strategy, min_size=1, max_size=15))
def test_frame_round_trip_property(recs):
    recs = [{c: value(rec, c) for c in ALL_COLUMNS} for rec in recs]  # absent: 0 / standard
    df = pd.DataFrame(recs, columns=list(ALL_COLUMNS)).astype(DTYPES)
    back = wire.wire_to_frame(wire.frame_to_wire(df))
    pd.testing.assert_frame_equal(back, df, check_categorical=False)


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("openai", "OpenAI"),
        ("anthropic", "Anthropic"),
        ("google", "Google"),
        ("mistral", "Mistral"),
        ("cohere", "Cohere"),
        ("aws-bedrock", "AWS"),
        ("azure-openai", "Azure"),
        ("perplexity", "perplexity"),
    ],
)
def test_provider_mapping_both_ways(slug, name):
    assert wire.record_to_wire(base_record(provider=slug))["provider"] == name
    assert wire.wire_to_record(sdk_body(provider=name))["provider"] == slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("OPENAI", "openai"),
        ("ANTHROPIC", "anthropic"),
        ("Amazon Bedrock", "aws-bedrock"),
        ("Azure OpenAI", "azure-openai"),
    ],
)
def test_provider_aliases_from_other_clients(name, slug):
    assert wire.wire_to_record(sdk_body(provider=name))["provider"] == slug


def sdk_body(**over):
    body = {
        "transactionId": "t1",
        "provider": "OPENAI",
        "model": "gpt-4o",
        "inputTokenCount": 3,
        "outputTokenCount": 4,
        "totalTokenCount": 7,
        "requestTime": "2026-01-01T00:00:00Z",
        "responseTime": "2026-01-01T00:00:01Z",
        "completionStartTime": "2026-01-01T00:00:01Z",
        "requestDuration": 1000,
        "stopReason": "TIMEOUT",
        "costType": "AI",
        "isStreamed": False,
    }
    body.update(over)
    return body


def test_body_without_extensions_implies_status_and_reads_deprecated_ids():
    rec = wire.wire_to_record(
        sdk_body(organizationId="acme", productId="p", inputTokenCost=0.5, outputTokenCost=0.25)
    )
    assert rec["status"] == "timeout" and rec["stop_reason"] == "TIMEOUT"
    assert rec["organization_id"] == "acme" and rec["product_id"] == "p"
    assert rec["cost_usd"] == 0.75
    assert rec["timestamp"] == pd.Timestamp("2026-01-01T00:00:00Z")


def test_validate_wire_names_every_bad_field():
    body = sdk_body(
        inputTokenCount=-1,
        outputTokenCount="4",
        requestTime="yesterday",
        stopReason="DONE",
        costType="API",
        isStreamed="no",
        agent="x" * 256,
        totalCost=float("inf"),
        subscriber={"id": 7},
        unknownKey={"any": "thing"},
    )
    del body["model"]
    errors = {e.field: e for e in wire.validate_wire(body)}
    assert set(errors) == {
        "model",
        "inputTokenCount",
        "outputTokenCount",
        "requestTime",
        "stopReason",
        "costType",
        "isStreamed",
        "agent",
        "totalCost",
        "subscriber.id",
    }
    assert errors["model"].message == "model is required"
    assert errors["inputTokenCount"].message == "inputTokenCount=-1 must be an integer >= 0"
    assert "256" in errors["agent"].reason
    with pytest.raises(wire.WireError) as info:
        wire.wire_to_record(body)
    assert len(info.value.errors) == 10
    assert "requestTime='yesterday'" in str(info.value)


@pytest.mark.parametrize(
    "bad", [None, [], "x", 3, {"transactionId": True}, {"requestTime": "2026-13-01T00:00:00Z"}]
)
def test_validate_wire_never_raises(bad):
    assert wire.validate_wire(bad)


def test_validate_wire_rejects_huge_and_bool_ints():
    errors = {
        e.field for e in wire.validate_wire(sdk_body(inputTokenCount=2**64, requestDuration=True))
    }
    assert errors == {"inputTokenCount", "requestDuration"}


def base_record(**over):
    rec = {
        "timestamp": "2026-01-01T00:00:00Z",
        "call_id": "c1",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 1,
        "output_tokens": 2,
        "latency_ms": 3,
    }
    rec.update(over)
    return rec


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"input_tokens": -3}, "input_tokens=-3 must be an integer >= 0"),
        ({"input_tokens": "many"}, "input_tokens='many' must be an integer >= 0"),
        ({"timestamp": "not a time"}, "timestamp='not a time' is not a valid time"),
        ({"call_id": None}, "call_id=None is required"),
        ({"stop_reason": "DONE"}, "stop_reason='DONE' must be one of END"),
        ({"feature_id": "f" * 300}, "feature_id='fffff"),
        ({"cost_usd": -1.0}, "cost_usd=-1.0 must be a number >= 0"),
    ],
)
def test_record_errors_name_field_and_value(over, expected):
    with pytest.raises(ValueError, match=None) as info:
        wire.record_to_wire(base_record(**over))
    assert expected in str(info.value)


def test_frame_errors_name_column_row_and_value():
    df = make_frame(10)
    df.loc[7, "input_tokens"] = -5
    with pytest.raises(ValueError, match=r"input_tokens=-5 at row 7 must be an integer >= 0"):
        list(wire.frame_to_wire(df))
    df = make_frame(10)
    df["call_id"] = df["call_id"].astype(object)
    df.loc[2, "call_id"] = None
    with pytest.raises(ValueError, match=r"call_id=None at row 2 is required"):
        list(wire.frame_to_wire(df))
    with pytest.raises(ValueError, match=r"columns=.*'model'"):
        list(wire.frame_to_wire(make_frame(3).drop(columns=["model"])))


def test_frame_to_wire_accepts_plain_dtypes_and_missing_optional_columns():
    df = pd.DataFrame(
        {
            "timestamp": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01.5Z"],
            "call_id": ["a", "b"],
            "provider": ["openai", "cohere"],
            "model": ["m", "m"],
            "input_tokens": [1.0, 2.0],  # integral floats are fine
            "output_tokens": [1, 2],
            "latency_ms": [10, 20],
        }
    )
    bodies = list(wire.frame_to_wire(df))
    assert [b["provider"] for b in bodies] == ["OpenAI", "Cohere"]
    assert bodies[1]["requestTime"] == "2026-01-01T00:00:01.500Z"
    assert bodies[0]["inputTokenCount"] == 1 and type(bodies[0]["inputTokenCount"]) is int
    assert "totalCost" not in bodies[0] and "subscriber" not in bodies[0]
    back = wire.wire_to_frame(bodies)
    assert math.isnan(back["cost_usd"].iloc[0])
    assert back["status"].isna().all()


def test_format_times_uses_only_needed_precision():
    out = wire._format_times([0, 10**6, 10**3, 1]).tolist()
    assert out == [
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:00:00.001Z",
        "1970-01-01T00:00:00.000001Z",
        "1970-01-01T00:00:00.000000001Z",
    ]


@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**63) + 1, 2**63 - 1))
def test_format_time_matches_format_times(ns):
    assert wire.format_time(ns) == wire._format_times([ns]).tolist()[0]
    for unit in (10**3, 10**6, 10**9):  # the shorter fractions
        v = ns // unit * unit
        if v > -(2**63):
            assert wire.format_time(v) == wire._format_times([v]).tolist()[0]


# values that are valid, borderline or invalid, of every type a record may carry
odd_int = st.integers(-5, 10**9) | st.sampled_from(
    [2**63 - 1, 2**63, -1, True, 10**13, np.int64(7), 3.0, 2.5, None, "4"]
)
odd_text = st.sampled_from(["", "  ", "x" * 255, "x" * 256, float("nan"), pd.NA, 7, None])
odd_values = {
    "timestamp": st.sampled_from(
        [
            pd.Timestamp("2026-01-01T00:00:00.5Z"),
            pd.Timestamp("2262-04-11T23:47:16Z"),
            pd.Timestamp("1677-09-22", tz="UTC"),
            pd.Timestamp("2026-01-01 10:00"),
            pd.Timestamp("2026-01-01 10:00", tz="Europe/Paris"),
            pd.Timestamp("3000-01-01"),
            "2026-01-01T00:00:00Z",
            None,
            pd.NaT,
        ]
    ),
    "call_id": odd_text,
    "provider": odd_text,
    "model": odd_text,
    "input_tokens": odd_int,
    "output_tokens": odd_int,
    "latency_ms": odd_int,
    "cost_usd": st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [-0.0, 0, 3, -2, 10**16, 1e300, 1.5e300, np.float64(0.5), "1.0", float("nan")]
    ),
    "customer_id": odd_text,
    "feature_id": odd_text,
    "request_id": odd_text,
    "environment": odd_text,
    "status": st.sampled_from(["weird", 3, float("nan"), pd.NA]),
    "stop_reason": st.sampled_from(["DONE", 1, float("nan"), ""]),
}
odd_record = st.builds(
    lambda rec, over: {**rec, **over},
    record_strategy,
    st.dictionaries(st.sampled_from(sorted(odd_values)), st.none(), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: odd_values[k] for k in keys})
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_record)
def test_record_to_wire_raises_or_returns_a_valid_body(rec):
    """The scalar mapper and the body schema come from one table: whatever the mapper
    accepts, the schema accepts; whatever it refuses is named by record field."""
    try:
        body = wire.record_to_wire(rec)
    except ValueError as exc:
        named = str(exc).split("=", 1)[0]
        assert named in ALL_COLUMNS, str(exc)
    else:
        assert wire.validate_wire(json.loads(json.dumps(body, allow_nan=False))) == []


def test_out_of_range_times_are_named_errors():
    with pytest.raises(ValueError, match=r"timestamp=Timestamp\('3000-01-01.*is not a valid time"):
        wire.record_to_wire(base_record(timestamp=pd.Timestamp("3000-01-01")))
    with pytest.raises(ValueError, match=r"latency_ms=10000000000000 puts the response time"):
        wire.record_to_wire(base_record(latency_ms=10**13))


ODD_WIRE_VALUES = [
    None,
    "",
    "  ",
    "x",
    "x" * 256,
    -1,
    0,
    7,
    2**63,
    True,
    False,
    1.5,
    -0.5,
    float("inf"),
    float("nan"),
    1e301,
    [],
    {"id": 7},
    {"id": "c"},
    {"id": "c", "credential": {"name": 1}},
    {"email": "e" * 256},
    "2026-13-01T00:00:00Z",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00Z",
    "END",
    "DONE",
    "AI",
    "CHAT",
    "STANDARD",
]
odd_wire_value = st.sampled_from(ODD_WIRE_VALUES)
WIRE_KEYS = {
    *wire.CompletionBody.__required_keys__,
    *wire.CompletionBody.__optional_keys__,
    "unknownKey",
}
wire_keys = st.sampled_from(sorted(WIRE_KEYS))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_strategy, st.dictionaries(wire_keys, odd_wire_value, max_size=3), st.booleans())
def test_body_check_names_only_the_changed_fields(rec, over, drop):
    body = json.loads(json.dumps(wire.record_to_wire(rec)))
    assert wire.validate_wire(body) == []  # what the tracker sends is valid
    body.update(over)
    if drop and over:
        del body[next(iter(over))]
    errors = wire.validate_wire(body)
    assert {e.field.split(".")[0] for e in errors} <= set(over)
    if errors:
        with pytest.raises(wire.WireError):
            wire.wire_to_record(body)
    else:
        wire.wire_to_record(body)


def test_body_check_on_every_single_field_change():
    base = json.loads(
        json.dumps(
            wire.record_to_wire(
                base_record(
                    customer_id="c", feature_id="f", request_id="r", status="success", cost_usd=0.5
                )
            )
        )
    )
    assert wire.validate_wire(base) == []
    checked = accepted = 0
    for key in sorted(WIRE_KEYS):
        for value in ODD_WIRE_VALUES:
            errors = wire.validate_wire({**base, key: value})
            assert all(e.field.split(".")[0] == key for e in errors), (key, value, errors)
            for e in errors:
                assert e.value is None or e.field == "subscriber.credential" or e.value != ""
            accepted += not errors
            checked += 1
        removed = wire.validate_wire({k: v for k, v in base.items() if k != key})
        if key in wire.CompletionBody.__required_keys__:
            assert [e.message for e in removed] == [f"{key} is required"]
        else:
            assert removed == []
    assert checked > 1000 and 100 < accepted < checked  # both outcomes exercised


def test_credential_values_are_never_echoed():
    errors = wire.validate_wire(sdk_body(subscriber={"id": "c", "credential": {"value": 1}}))
    assert [(e.field, e.value) for e in errors] == [("subscriber.credential", None)]


def test_unknown_keys_are_allowed_and_reported():
    body = sdk_body(myTeam="search", subscriber={"id": "c"})
    assert wire.validate_wire(body) == []
    assert wire.unknown_keys(body) == ["myTeam"]


def test_product_name_limit_is_the_metadata_limit():
    """Regression: the wire allowed 255 characters in productName while the metadata rules
    (and Revenium) allow 224; both now read the one table."""
    from showcase_lib.metadata import FIELDS

    assert FIELDS["product_id"].max_length == 224
    errors = wire.validate_wire(sdk_body(productName="p" * 225))
    assert [e.reason for e in errors] == ["must be at most 224 characters (got 225)"]
    with pytest.raises(ValueError, match="product_id='ppp"):
        wire.record_to_wire(base_record(product_id="p" * 225))
    df = make_frame(3)
    df["product_id"] = "p" * 225
    with pytest.raises(ValueError, match=r"product_id='ppp.* at row 0 must be at most 224"):
        list(wire.frame_to_wire(df))


def test_one_table_drives_schema_io_metadata_and_the_book():
    from showcase_lib import io, schema
    from showcase_lib.metadata import FIELDS

    mapped = {rec: w for rec, w, _ in wire.MAPPING}
    for col in schema.COLUMNS:
        assert mapped[col.name] == col.wire
        assert schema.DTYPES[col.name] == col.dtype
        if col.name in FIELDS:
            assert FIELDS[col.name].wire == col.wire
            # free-text extension keys have no wire limit; metadata caps them at a tag's
            assert FIELDS[col.name].max_length == (col.max_length or 255)
    always = {c.name for c in schema.COLUMNS if c.required == "always"}
    assert always < set(io.REQUIRED_VALUES)
    assert set(io.REQUIRED_VALUES) - always == {"cost_usd", "customer_id"}
    wire_required = {f for f in wire.CompletionBody.__required_keys__}
    assert {mapped[c] for c in always} <= wire_required


def test_mappers_work_when_pandas_is_first_imported_by_them():
    """The wire imports pandas and numpy on first use (the emulator's server never needs
    them); in a fresh interpreter the first mapper call must still work."""
    import subprocess
    import sys

    code = (
        "import sys; from showcase_lib import wire\n"
        "assert 'pandas' not in sys.modules\n"
        "rec = {'timestamp': '2026-01-01T00:00:00.5Z', 'call_id': 'c', 'provider': 'openai',"
        " 'model': 'm', 'input_tokens': 1, 'output_tokens': 2, 'latency_ms': 3}\n"
        "body = wire.record_to_wire(rec)\n"
        "assert body['requestTime'] == '2026-01-01T00:00:00.500Z', body\n"
        "assert wire.wire_to_frame([body]).shape == (1, 27)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ------------------------------------------------------------------ the 2026 token taxonomy
CACHED = {
    "input_tokens": 1_200,
    "output_tokens": 500,
    "cache_read_tokens": 800,
    "cache_write_tokens": 300,
    "cache_write_1h_tokens": 200,
    "reasoning_tokens": 400,
}


def test_token_kinds_travel_as_reveniums_fields_and_back():
    """Regression (issue 10): the mappers dropped the token kinds; a frame with them did not
    even map back (``wire_to_frame`` failed on the missing int64 values)."""
    body = wire.record_to_wire(base_record(**CACHED, service_tier="batch"))
    sent = {k: body.get(k) for k in ("cacheReadTokenCount", "cacheCreationTokenCount")}
    assert sent == {"cacheReadTokenCount": 800, "cacheCreationTokenCount": 300}
    assert (body["cacheCreation1hTokenCount"], body["cacheCreation5mTokenCount"]) == (200, 100)
    assert body["reasoningTokenCount"] == 400
    assert (body["actualServiceTier"], body["pricingTier"]) == ("batch", "BATCH")
    assert "costMultiplier" not in body  # pricingTier says batch itself
    assert wire.validate_wire(body) == []
    back = wire.wire_to_record(json.loads(json.dumps(body)))
    assert {k: back[k] for k in CACHED} == CACHED and back["service_tier"] == "batch"
    frame = wire.wire_to_frame([body])
    assert frame.loc[0, "cache_write_1h_tokens"] == 200 and frame.loc[0, "service_tier"] == "batch"


@pytest.mark.parametrize(
    ("tier", "pricing", "multiplier"),
    [("flex", "STANDARD", 0.5), ("priority", "STANDARD", 2.0), ("batch", "BATCH", None)],
)
def test_tiers_pricing_tier_cannot_say_carry_the_documented_multiplier(tier, pricing, multiplier):
    body = wire.record_to_wire(base_record(service_tier=tier))
    assert (body["actualServiceTier"], body["pricingTier"]) == (tier, pricing)
    assert body.get("costMultiplier") == multiplier
    assert multiplier in (None, SERVICE_TIER_MULTIPLIERS[tier])


def test_zeros_and_the_standard_tier_are_not_sent():
    """Decision: a zero count (and the standard tier) is omitted, so the common body does not
    grow; a body without these fields reads back as zeros and the standard tier."""
    plain = wire.record_to_wire(base_record())
    zeros = wire.record_to_wire(
        base_record(**dict.fromkeys(list(CACHED)[2:], 0), service_tier="standard")
    )
    assert zeros == plain
    assert not {"cacheReadTokenCount", "pricingTier", "actualServiceTier"} & set(plain)
    back = wire.wire_to_record(sdk_body())
    assert [back[k] for k in list(CACHED)[2:]] == [0, 0, 0, 0]
    assert back["service_tier"] == "standard"


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"cacheCreation5mTokenCount": 100, "cacheCreation1hTokenCount": 200}, (300, 200)),
        ({"cacheCreationTokenCount": 300, "cacheCreation5mTokenCount": 100}, (300, 200)),
        ({"cacheCreationTokenCount": 300}, (300, 0)),
        ({"cacheCreation5mTokenCount": 70}, (70, 0)),
    ],
)
def test_cache_writes_read_from_whichever_split_a_client_sends(over, expected):
    rec = wire.wire_to_record(sdk_body(inputTokenCount=500, **over))
    assert (rec["cache_write_tokens"], rec["cache_write_1h_tokens"]) == expected


@pytest.mark.parametrize(
    ("over", "tier"),
    [
        ({"actualServiceTier": "flex"}, "flex"),
        ({"actualServiceTier": "default"}, "standard"),  # OpenAI's word for the standard tier
        ({"actualServiceTier": "PRIORITY"}, "priority"),
        ({"pricingTier": "BATCH"}, "batch"),
        ({"pricingTier": "STANDARD"}, "standard"),
        ({"actualServiceTier": "priority", "pricingTier": "BATCH"}, "priority"),
        ({"actualServiceTier": "scale", "pricingTier": "BATCH"}, "batch"),  # unknown word
    ],
)
def test_tier_read_from_actual_service_tier_else_pricing_tier(over, tier):
    assert wire.wire_to_record(sdk_body(**over))["service_tier"] == tier


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        (
            {"cache_read_tokens": 1_000, "cache_write_tokens": 300},
            "cache_read_tokens=1000 + cache_write_tokens=300 exceed input_tokens=1200",
        ),
        ({"reasoning_tokens": 501}, "reasoning_tokens=501 exceeds output_tokens=500"),
        ({"cache_write_1h_tokens": 301}, "cache_write_1h_tokens=301 exceeds cache_write_tokens"),
        ({"cache_read_tokens": -1}, "cache_read_tokens=-1 must be an integer >= 0"),
        ({"service_tier": "turbo"}, "service_tier='turbo' must be one of standard, batch"),
    ],
)
def test_the_inclusive_rule_and_bad_values_are_named(over, expected):
    with pytest.raises(ValueError) as info:
        wire.record_to_wire(base_record(**CACHED | over))
    assert expected in str(info.value)
    df = pd.DataFrame([base_record(**CACHED), base_record(**CACHED | over)])
    with pytest.raises(ValueError) as info:
        list(wire.frame_to_wire(df))
    field = expected.split("=", 1)[0]
    assert str(info.value).startswith(f"{field}=") and "at row 1" in str(info.value)


@pytest.mark.parametrize(
    ("provider", "sent"),
    [
        # the service subtracts cacheReadTokenCount itself: the reads stay in the count
        ("openai", 1_200 - 300),
        ("azure-openai", 1_200 - 300),
        ("google", 1_200 - 300),
        ("xai", 1_200 - 300),
        ("groq", 1_200 - 300),
        # every other provider: inputTokenCount excludes the reads and the writes
        ("anthropic", 1_200 - 300 - 800),
        ("aws-bedrock", 1_200 - 300 - 800),
        ("mistral", 1_200 - 300 - 800),
        ("perplexity", 1_200 - 300 - 800),
    ],
)
def test_input_token_count_is_reveniums_not_the_inclusive_count(provider, sent):
    """Regression: the wire sent the record's inclusive input_tokens as inputTokenCount for
    every provider, so the service would price an Anthropic call's cache tokens twice (once
    as input). Rule from revenium-python-sdk 0.12.0, _core/cache_tokens.py."""
    rec = base_record(**CACHED, provider=provider)
    body = wire.record_to_wire(rec)
    assert body["inputTokenCount"] == sent
    assert body["totalTokenCount"] == 1_200 + 500  # the call's own total, inclusive
    (framed,) = wire.frame_to_wire(pd.DataFrame([rec]).astype({"provider": "category"}))
    assert framed == body
    assert wire.wire_to_record(body)["input_tokens"] == 1_200
    assert wire.wire_to_frame([body]).loc[0, "input_tokens"] == 1_200
    assert wire.validate_wire(body) == []


def test_input_count_rule_on_bodies_from_other_clients():
    """The way back applies the same rule to a body the official SDK sent (provider in its
    spelling), whichever cache-write split it carries."""
    anthropic = sdk_body(
        provider="ANTHROPIC",
        inputTokenCount=100,
        cacheReadTokenCount=800,
        cacheCreation5mTokenCount=60,
        cacheCreation1hTokenCount=40,
    )
    assert wire.wire_to_record(anthropic)["input_tokens"] == 1_000
    openai = sdk_body(provider="OPENAI", inputTokenCount=900, cacheReadTokenCount=800)
    assert wire.wire_to_record(openai | {"cacheCreationTokenCount": 100})["input_tokens"] == 1_000
    assert (
        wire.wire_to_record(sdk_body(provider="XAI", inputTokenCount=900, cacheReadTokenCount=800))[
            "input_tokens"
        ]
        == 900
    )
    # the record's count must stay an int64: a count that overflows with the cache is named
    huge = anthropic | {"inputTokenCount": 2**63 - 1}
    assert wire.validate_wire(huge) == []
    with pytest.raises(wire.WireError, match="inputTokenCount=9223372036854775807 plus the cache"):
        wire.wire_to_record(huge)
    with pytest.raises(wire.WireError, match=r"\[0\]\.inputTokenCount="):
        wire.wire_to_frame([huge])


def test_the_input_count_rule_is_in_the_books_table():
    note = wire.mapping_table().set_index("record field").loc["input_tokens", "note"]
    assert all(slug in note for slug in wire._READS_IN_INPUT_COUNT)
    assert "cache_read_tokens" in note and "cache_write_tokens" in note
    assert "0.12.0" in note


def test_mapping_table_names_the_opentelemetry_attributes():
    t = wire.mapping_table().set_index("record field")["OpenTelemetry"]
    assert t["input_tokens"] == "gen_ai.usage.input_tokens"
    assert t["output_tokens"] == "gen_ai.usage.output_tokens"
    assert t["cache_read_tokens"] == "gen_ai.usage.cache_read.input_tokens"
    assert t["cache_write_tokens"] == "gen_ai.usage.cache_creation.input_tokens"
    assert t["reasoning_tokens"] == "gen_ai.usage.reasoning.output_tokens"
    assert t["model"] == "gen_ai.request.model" and t["provider"] == "gen_ai.provider.name"
    assert t["cost_usd"] == ""  # no standard cost attribute exists
    wire_fields = set(wire.mapping_table()["wire field"])
    assert {"cacheCreation5mTokenCount", "pricingTier", "costMultiplier"} <= wire_fields
