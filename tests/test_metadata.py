"""Tests of showcase_lib.metadata: schema, validators, suggestions, batch path, custom rules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from showcase_lib.metadata import (
    FIELDS,
    Metadata,
    MetadataError,
    Validator,
    enterprise_needs_subscription,
    fields_table,
    json_schema,
    make_corpus,
    production_needs_trace,
    registry_rule,
    rule,
    validate,
    validate_many,
)
from showcase_lib.metadata._checks import Rule, present
from showcase_lib.metadata._corpus import _MISTAKE_KINDS as MISTAKE_KINDS
from showcase_lib.metadata._pii import luhn_ok, mask_value, pii_column, pii_kinds
from showcase_lib.metadata._suggest import suggest_enum, suggest_format, suggest_key

REQUIRED_FIELDS = tuple(name for name, f in FIELDS.items() if f.required)

GOOD = {
    "customer_id": "cust_0001",
    "organization_id": "org_001",
    "product_id": "product_a",
    "feature_id": "chat",
    "environment": "production",
    "subscription_tier": "pro",
    "task_type": "chat",
}


def pairs(report) -> set[tuple[str, str]]:
    return {(e.field, e.rule) for e in report.errors}


# ----------------------------------------------------------------------------- the contract


def test_good_metadata_is_ok():
    r = validate(GOOD)
    assert r.ok and r.errors == [] and r.warnings == []


@pytest.mark.parametrize("bad", [None, "cust_0001", 42, ["a"], ("a", 1)])
def test_non_dict_input_gives_a_type_error_report(bad):
    r = validate(bad)
    assert not r.ok
    assert r.errors[0].rule == "type"
    assert type(bad).__name__ in r.errors[0].message


def test_errors_have_field_rule_message():
    r = validate({**GOOD, "subscription_tier": "Pro"})
    (e,) = r.errors
    assert (e.field, e.rule) == ("subscription_tier", "enum")
    assert "'Pro'" in e.message and "subscription_tier" in e.message
    assert "did you mean 'pro'?" in e.message


def test_pydantic_model_instance_is_accepted():
    assert validate(Metadata(**GOOD)).ok


# ------------------------------------------------- the showcase plan's metadata reference
# Its "Metadata Schema Reference", verbatim: exactly four fields are marked Required.
PLAN_REFERENCE = {
    "customer_id": "cust_0001",  # Required
    "organization_id": "org_001",  # Required
    "user_id": "user_123",  # Optional
    "product_id": "product_a",  # Required
    "feature_id": "chat",  # Required
    "component_id": "ai_assistant",  # Optional
    "subscription_tier": "pro",  # starter|pro|enterprise
    "subscription_id": "sub_xyz",  # Optional
    "environment": "production",  # production|staging|development
    "task_type": "chat",  # chat|summarization|code_generation|etc
    "session_id": "sess_abc",  # Optional
    "request_id": "req_123",  # Optional
    "trace_id": "trace_xyz",  # Optional
    "user_agent": "web_app_v1.2",  # Optional
}
PLAN_REQUIRED = ("customer_id", "organization_id", "product_id", "feature_id")
#: The plan's "JSON Output (for metadata)" example.
PLAN_JSON_OUTPUT = {
    "customer_id": "cust_0001",
    "organization_id": "org_001",
    "product_id": "product_a",
    "feature_id": "chat",
    "subscription_tier": "pro",
    "environment": "production",
}
MINIMAL = {k: PLAN_REFERENCE[k] for k in PLAN_REQUIRED}


def _environment_warning(warnings):
    (w,) = [w for w in warnings if w.field == "environment"]
    return w


def test_required_fields_are_exactly_the_plans_four():
    """Regression (issue 12): environment was required too."""
    assert REQUIRED_FIELDS == PLAN_REQUIRED
    assert sorted(json_schema()["required"]) == sorted(PLAN_REQUIRED)
    t = fields_table()
    assert t.loc[t.field == "environment", "required"].item() == "recommended"


def test_minimal_record_of_the_reference_is_valid_with_an_environment_warning():
    """Regression (issue 12): the four Required fields alone failed with environment missing."""
    r = validate(MINIMAL)
    assert r.ok, str(r)
    w = _environment_warning(r.warnings)
    assert (w.rule, w.severity, w.suggestion) == ("recommended", "warning", "production")
    assert "configuration" in w.message and "environment='production'" in w.message
    assert Metadata(**MINIMAL).environment is None  # the pydantic model agrees
    r.raise_if_invalid()  # no MetadataError


@pytest.mark.parametrize("blank", [None, "", "   ", float("nan")])
def test_blank_environment_is_a_warning_too(blank):
    r = validate({**MINIMAL, "environment": blank})
    assert r.ok and _environment_warning(r.warnings).rule == "recommended"


def test_the_references_own_examples_validate():
    full = validate(PLAN_REFERENCE)
    assert full.ok and full.warnings == [], str(full)
    out = validate(PLAN_JSON_OUTPUT)
    assert out.ok and {w.field for w in out.warnings} == {"task_type"}


def test_environment_is_still_checked_when_present():
    r = validate({**MINIMAL, "environment": "prod"})
    assert pairs(r) == {("environment", "enum")}
    assert r.errors[0].suggestion == "production"


def test_batch_validation_of_minimal_records_warns_about_environment():
    """Regression (issue 12): validate_many rejected every minimal record."""
    records = [MINIMAL, {**MINIMAL, "customer_id": "cust_0002"}, {**MINIMAL, "environment": ""}]
    for rep in (
        validate_many(records),
        validate_many(pd.DataFrame(records).astype("category")),
        Validator(rules=[enterprise_needs_subscription, production_needs_trace]).validate_many(
            records
        ),
    ):
        assert rep.n_invalid == 0 and rep.errors.empty, rep.summary
        env = rep.warnings.query("field == 'environment'")
        assert env["row"].tolist() == [0, 1, 2] and set(env["rule"]) == {"recommended"}
        line = rep.summary.query("field == 'environment'").iloc[0]
        assert (line.severity, line["count"], line.suggestion) == ("warning", 3, "production")
        assert "configuration" in line.message


def test_batch_without_an_environment_column_warns_on_every_row():
    frame = pd.DataFrame([MINIMAL] * 4)
    rep = validate_many(frame)
    assert rep.ok.all()
    assert rep.warnings.query("field == 'environment'")["row"].tolist() == [0, 1, 2, 3]
    assert Validator(warn_recommended=False).validate_many(frame).warnings.empty


# ----------------------------------------------------------------------------- each rule


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
@pytest.mark.parametrize("value", ["<absent>", None, "", "   ", float("nan")])
def test_required(field, value):
    md = dict(GOOD)
    if value == "<absent>":
        md.pop(field)
    else:
        md[field] = value
    assert (field, "required") in pairs(validate(md))


def test_optional_blank_is_treated_as_absent():
    assert validate({**GOOD, "trace_id": "", "user_id": None}).ok


def test_recommended_missing_is_a_warning_not_an_error():
    md = {k: v for k, v in GOOD.items() if k not in ("subscription_tier", "task_type")}
    r = validate(md)
    assert r.ok
    assert {w.field for w in r.warnings} == {"subscription_tier", "task_type"}
    assert Validator(warn_recommended=False).validate(md).warnings == []


@pytest.mark.parametrize(
    "field,good,bad",
    [
        ("subscription_tier", "enterprise", "Enterprise"),
        ("environment", "staging", "prod"),
        ("task_type", "rag_qa", "RAG"),
    ],
)
def test_enum(field, good, bad):
    assert validate({**GOOD, field: good}).ok
    assert pairs(validate({**GOOD, field: bad})) == {(field, "enum")}


@pytest.mark.parametrize(
    "field,good,bad",
    [
        ("customer_id", "cust_acme-eu", "Cust_0001"),
        ("customer_id", "cust_0001", "cust-0001"),
        ("customer_id", "cust_0001", "0001"),
        ("organization_id", "org_001", "ORG-001"),
        ("product_id", "doc-studio", "docStudio"),
        ("product_id", "product_a", "product a"),
        ("feature_id", "chat", "chat_"),
        ("feature_id", "chat", "2fa_chat"),
        ("component_id", "answer-writer", "Answer Writer"),
        ("user_id", "user_2NNEqL2nrIRd", "user 12"),
        ("subscription_id", "sub_1MowQVLkdIwHu7ix", "SUB 1"),
        ("session_id", "550e8400-e29b-41d4-a716-446655440000", "sess abc"),
        ("request_id", "req_123", "req#123"),
        ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736", " trace"),
        ("user_agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0", "web  app"),
    ],
)
def test_format(field, good, bad):
    assert validate({**GOOD, field: good}).ok, validate({**GOOD, field: good})
    assert (field, "format") in pairs(validate({**GOOD, field: bad}))


@pytest.mark.parametrize(
    "field,value",
    [
        ("customer_id", 17),
        ("environment", True),
        ("feature_id", ["chat"]),
        ("organization_id", {"id": "org_001"}),
        ("product_id", 3.0),
    ],
)
def test_type(field, value):
    assert pairs(validate({**GOOD, field: value})) == {(field, "type")}


def test_type_error_suggests_text_form():
    (e,) = validate({**GOOD, "customer_id": 17}).errors
    assert e.suggestion == "cust_17" and "int" in e.message


def test_max_length_uses_revenium_limits():
    assert validate({**GOOD, "feature_id": "a" * 255}).ok
    assert pairs(validate({**GOOD, "feature_id": "a" * 256})) == {("feature_id", "max_length")}
    # productName is 224 characters on Revenium's side
    assert validate({**GOOD, "product_id": "p" * 224}).ok
    assert pairs(validate({**GOOD, "product_id": "p" * 225})) == {("product_id", "max_length")}
    assert pairs(validate({**GOOD, "notes": "x" * 300})) == {("notes", "max_length")}


@pytest.mark.parametrize(
    "field,value,kind",
    [
        ("user_id", "jane.doe@example.com", "email"),
        ("contact", "jane.doe@example.com", "email"),
        ("caller", "+44 20 7946 0958", "phone"),
        ("caller", "(415) 555-0134", "phone"),
        ("payment_ref", "4111 1111 1111 1111", "card"),
        ("session_id", "4111111111111111", "card"),
        ("trace_id", "10.1.0.7", "ip"),
        ("note", "key hak_abcdefABCDEF123456", "secret"),
    ],
)
def test_pii_is_flagged_and_masked(field, value, kind):
    r = validate({**GOOD, field: value})
    pii = [e for e in r.errors if e.rule == "pii"]
    assert len(pii) == 1 and pii[0].field == field
    assert kind in pii_kinds(value)
    # the raw value never appears in any message of the report
    assert all(value not in e.message for e in r.errors)


@pytest.mark.parametrize(
    "value",
    [
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "550e8400-e29b-41d4-a716-446655440000",
        "Chrome/120.0.0.0",
        "req_20260115_000123",
        "cust_0001",
        "web_app_v1.2.3",
        "4111111111111112",  # fails Luhn
        "a1234567890123456b",  # digits glued to letters (hex-like)
    ],
)
def test_pii_no_false_alarm(value):
    assert pii_kinds(value) == ()


def test_luhn_and_mask():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert mask_value("jane.doe@example.com") == "j***@e***.com"
    assert "1111" not in mask_value("4111 1111 1111 1111")


def test_pii_column_matches_single():
    vals = ["a@b.io", None, "cust_1", "4111111111111111", "10.0.0.1", "+1 415 555 0134"]
    s = pd.Series(vals, dtype="string[pyarrow]")
    assert pii_column(s).tolist() == [pii_kinds(v) if v else () for v in vals]


@pytest.mark.parametrize(
    "key,fix",
    [
        ("customerId", "customer_id"),
        ("CustomerID", "customer_id"),
        ("custmer_id", "customer_id"),
        ("organizationName", "organization_id"),
        ("tier", "subscription_tier"),
        ("env", "environment"),
        ("Environment", "environment"),
        ("taskType", "task_type"),
    ],
)
def test_unknown_field_suggests_the_standard_key(key, fix):
    md = {**GOOD, key: "x"}
    (e,) = [e for e in validate(md).errors if e.rule == "unknown_field"]
    assert e.field == key and e.suggestion == fix and f"did you mean '{fix}'?" in e.message


def test_extension_keys():
    ok = {
        **GOOD,
        "experiment_id": "exp_1",
        "variant": "b",
        "retry_count": 2,
        "cached": True,
        "weight": 0.5,
        "cost_center": "cc-123",
    }
    assert validate(ok).ok
    r = validate({**GOOD, "Team Name": "search"})
    assert pairs(r) == {("Team Name", "key_format")} and r.errors[0].suggestion == "team_name"
    assert pairs(validate({**GOOD, "variant": " b"})) == {("variant", "format")}
    assert pairs(validate({**GOOD, "meta": {"a": 1}})) == {("meta", "type")}
    assert pairs(validate({**GOOD, "score": float("inf")})) == {("score", "type")}
    strict = Validator(extensions=False)
    assert pairs(strict.validate({**GOOD, "variant": "b"})) == {("variant", "unknown_field")}


def test_record_columns_are_not_metadata():
    record = {
        **GOOD,
        "timestamp": pd.Timestamp("2026-01-01", tz="UTC"),
        "cost_usd": 0.1,
        "model": "gpt-4o",
        "call_id": "call_1",
    }
    assert validate(record).ok


def test_raise_if_invalid():
    with pytest.raises(MetadataError) as exc:
        validate({**GOOD, "environment": "prod"}).raise_if_invalid()
    assert isinstance(exc.value, ValueError) and "environment" in str(exc.value)
    assert exc.value.report.errors[0].suggestion == "production"


# ----------------------------------------------------------------------------- suggestions


@pytest.mark.parametrize(
    "value,allowed,expected",
    [
        ("Pro", ("starter", "pro", "enterprise"), "pro"),
        ("ENTERPRISE", ("starter", "pro", "enterprise"), "enterprise"),
        ("enterprize", ("starter", "pro", "enterprise"), "enterprise"),
        (" pro ", ("starter", "pro", "enterprise"), "pro"),
        ("prod", ("production", "staging", "development"), "production"),
        ("stg", ("production", "staging", "development"), "staging"),
        ("summarize", ("chat", "summarization"), "summarization"),
        ("banana", ("starter", "pro", "enterprise"), None),
    ],
)
def test_suggest_enum(value, allowed, expected):
    assert suggest_enum(value, allowed) == expected


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("customer_id", "Cust_0001", "cust_0001"),
        ("customer_id", "customer-0001", "cust_0001"),
        ("customer_id", "0001", "cust_0001"),
        ("customer_id", "cust 0001", "cust_0001"),
        ("organization_id", "ORG-001", "org_001"),
        ("product_id", "docStudio", "doc_studio"),
        ("product_id", "Product A", "product_a"),
        ("feature_id", "chat_", "chat"),
        ("user_id", "user 12", "user_12"),
    ],
)
def test_suggest_format(field, value, expected):
    spec = FIELDS[field]
    got = suggest_format(spec, value)
    assert got == expected
    assert spec.regex.fullmatch(got)


def test_suggest_key_none_for_unrelated():
    assert suggest_key("experiment_id") is None and suggest_key(3) is None


# ----------------------------------------------------------------------------- single vs many


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(3000, seed=11)


def _many_pairs(rep, n):
    got = [set() for _ in range(n)]
    for row, field, rname in rep.errors[["row", "field", "rule"]].itertuples(index=False):
        got[row].add((field, rname))
    return got


@pytest.mark.parametrize("with_rules", [False, True])
def test_single_and_many_agree_on_corpus(corpus, with_rules):
    rules = (
        [enterprise_needs_subscription, production_needs_trace, registry_rule(corpus.customers)]
        if with_rules
        else []
    )
    v = Validator(rules=rules)
    rep = v.validate_many(corpus.frame())
    many = _many_pairs(rep, len(corpus.records))
    single = [pairs(v.validate(r)) for r in corpus.records]
    diff = [(i, s ^ m) for i, (s, m) in enumerate(zip(single, many, strict=True)) if s != m]
    assert diff == []
    assert rep.ok.tolist() == [v.validate(r).ok for r in corpus.records]
    assert sum(len(s) for s in single) > 1000  # the corpus really has errors


def test_many_accepts_list_of_dicts_and_counts(corpus):
    rep = validate_many(corpus.records[:500])
    assert rep.n_records == 500
    assert rep.summary["count"].sum() == len(rep.errors) + len(rep.warnings)
    top = rep.summary.iloc[0]
    assert {"field", "rule", "count", "examples", "message"} <= set(rep.summary.columns)
    assert top["count"] == ((rep.errors.field == top.field) & (rep.errors.rule == top.rule)).sum()
    bad_row = int(rep.errors["row"].iloc[0])
    assert not rep.row_report(bad_row).ok


def test_many_masks_pii_in_values():
    rep = validate_many([{**GOOD, "user_id": "jane.doe@example.com"}])
    assert "jane.doe@example.com" not in rep.errors["value"].astype(str).tolist()
    assert "jane.doe@example.com" not in " ".join(rep.summary["message"])


def test_many_on_categorical_and_missing_columns():
    df = pd.DataFrame({k: [v, v] for k, v in GOOD.items()}).astype("category")
    df["environment"] = pd.Categorical(["production", "Prod"])
    df = df.drop(columns=["feature_id"])
    rep = validate_many(df)
    assert set(map(tuple, rep.errors[["row", "field", "rule"]].values.tolist())) == {
        (0, "feature_id", "required"),
        (1, "feature_id", "required"),
        (1, "environment", "enum"),
    }


def test_many_rejects_non_records():
    with pytest.raises(TypeError, match="dict"):
        validate_many(GOOD)
    with pytest.raises(TypeError, match="str"):
        validate_many(["cust_0001"])


def test_simulated_calls_are_valid():
    from showcase_lib.simulation import simulate

    calls = simulate("steady_growth", days=3, customers=12, seed=4).calls
    rep = validate_many(calls)
    assert rep.n_records == len(calls) > 0
    assert rep.n_invalid == 0, rep.summary


# ----------------------------------------------------------------------------- custom rules


def test_custom_rule_decorator_and_registration():
    @rule("no_dev_for_enterprise", field="environment", fields=("subscription_tier", "environment"))
    def no_dev(md):
        if md.get("subscription_tier") == "enterprise" and md.get("environment") == "development":
            return "enterprise traffic must not run in development"

    assert isinstance(no_dev, Rule) and no_dev.name == "no_dev_for_enterprise"
    v = Validator(rules=[no_dev])
    bad = {**GOOD, "subscription_tier": "enterprise", "environment": "development"}
    assert pairs(v.validate(bad)) == {("environment", "no_dev_for_enterprise")}
    assert validate(bad).ok  # the default validator is untouched
    assert pairs(validate(bad, rules=[no_dev])) == {("environment", "no_dev_for_enterprise")}
    rep = v.validate_many([bad, GOOD])
    assert rep.ok.tolist() == [False, True]
    with pytest.raises(ValueError, match="already registered"):
        v.add_rule(no_dev)
    with pytest.raises(ValueError, match="already registered"):
        Validator(rules=[Rule("enum", lambda md: None)])
    with pytest.raises(TypeError, match="Rule"):
        v.add_rule(lambda md: None)


def test_custom_rule_without_fields_uses_rows_and_can_warn():
    warn = Rule(
        "long_session",
        lambda md: (
            "session ids should be prefixed"
            if str(md.get("session_id", "sess_")).startswith("sess_") is False
            else None
        ),
        field="session_id",
        severity="warning",
    )
    v = Validator(rules=[warn])
    recs = [{**GOOD, "session_id": "abc"}, {**GOOD, "session_id": "sess_1"}]
    assert v.validate(recs[0]).ok and v.validate(recs[0]).warnings[-1].rule == "long_session"
    rep = v.validate_many(recs)
    assert rep.ok.all() and (rep.warnings["rule"] == "long_session").sum() == 1


def test_vectorized_and_fields_paths_agree(corpus):
    frame = corpus.frame()
    for r in (enterprise_needs_subscription, production_needs_trace):
        slow = Rule(r.name, r.check, field=r.field, fields=r.fields)  # no vectorized path
        a = Validator(rules=[r]).validate_many(frame).errors.query("rule == @r.name")["row"]
        b = Validator(rules=[slow]).validate_many(frame).errors.query("rule == @r.name")["row"]
        assert len(a) > 0 and a.tolist() == b.tolist()


def test_present_helper():
    df = pd.DataFrame({"a": ["x", " ", None, "y"]})
    assert present(df, "a").tolist() == [True, False, False, True]
    assert not present(df, "missing").any()


def test_registry_rule():
    ref = pd.DataFrame(
        {"customer_id": ["cust_0001"], "organization_id": ["org_001"], "subscription_tier": ["pro"]}
    )
    v = Validator(rules=[registry_rule(ref)])
    assert v.validate(GOOD).ok
    assert pairs(v.validate({**GOOD, "customer_id": "cust_0002"})) == {
        ("customer_id", "known_customer")
    }
    assert pairs(v.validate({**GOOD, "subscription_tier": "enterprise"})) == {
        ("subscription_tier", "known_customer")
    }


# ----------------------------------------------------------------------------- corpus


def test_corpus_is_seeded_and_labelled():
    a, b = make_corpus(400, seed=5), make_corpus(400, seed=5)
    assert a.records == b.records
    assert a.records != make_corpus(400, seed=6).records
    assert set(a.mistakes["kind"]) <= set(MISTAKE_KINDS)
    assert (a.labels["kind"] == "valid").sum() == 200


def test_corpus_targets(corpus):
    s = corpus.score()
    assert s.catch_rate >= 0.95
    assert s.false_alarm_rate <= 0.01
    k = s.by_kind.set_index("kind")
    assert (k.loc[k.schema_catchable, "catch_rate"] > 0.99).all()
    assert (k.loc[~k.schema_catchable, "catch_rate"] == 0).all()
    # a registry rule catches part of the well-formed mistakes
    s2 = corpus.score(Validator(rules=[registry_rule(corpus.customers)]))
    assert s2.catch_rate > s.catch_rate and s2.false_alarm_rate <= 0.01


def test_corpus_weights():
    c = make_corpus(300, seed=1, weights={k: 0 for k in MISTAKE_KINDS} | {"wrong_type": 1})
    assert set(c.mistakes["kind"]) == {"wrong_type"}
    kinds = c.kinds.set_index("kind")
    assert list(kinds.index) == list(MISTAKE_KINDS)
    assert kinds.loc["wrong_type", "share_of_mistakes"] == 1.0
    assert kinds["share_of_mistakes"].sum() == pytest.approx(1.0)
    assert not kinds.loc["well_formed_but_wrong", "schema_catchable"]
    default = make_corpus(10, seed=0).kinds.set_index("kind")["weight"]
    assert default.to_dict() == {k: v[0] for k, v in MISTAKE_KINDS.items()}
    with pytest.raises(ValueError, match="unknown kinds"):
        make_corpus(10, weights={"nope": 1})


# ----------------------------------------------------------------------------- schema export


def test_json_schema_round_trip():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(json.dumps(json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    good = {**GOOD, "experiment_id": "exp_1", "retry_count": 2}
    assert list(v.iter_errors(good)) == []
    bad = {**GOOD, "subscription_tier": "Pro", "customer_id": "Cust 1", "Bad Key": "x"}
    assert len(list(v.iter_errors(bad))) == 3
    missing = {k: val for k, val in GOOD.items() if k != "feature_id"}
    assert any("feature_id" in e.message for e in v.iter_errors(missing))
    assert set(schema["required"]) == set(REQUIRED_FIELDS)


def test_pydantic_model_agrees_with_validate_on_shape(corpus):
    from pydantic import ValidationError

    agree = checked = 0
    for rec in corpus.records[:1500]:
        r = validate(rec)
        if any(e.rule in ("pii", "unknown_field") for e in r.errors):
            continue  # beyond a schema's reach
        checked += 1
        try:
            Metadata.model_validate(rec)
            model_ok = True
        except ValidationError:
            model_ok = False
        agree += model_ok == r.ok
    assert checked > 1000 and agree == checked


def test_fields_table_and_wire_mapping():
    t = fields_table()
    assert list(t["field"]) == list(FIELDS) == [f.name for f in FIELDS.values()]
    assert t.loc[t.field == "session_id", "otel"].item() == "gen_ai.conversation.id"
    assert set(t.loc[t.required == "required", "field"]) == set(REQUIRED_FIELDS)
    wire = pytest.importorskip("showcase_lib.wire")
    theirs = {rec: w for rec, w, _ in wire.MAPPING}
    for f in FIELDS.values():
        if f.name in theirs:
            assert f.wire == theirs[f.name], f.name


def test_fast_enough_to_be_vectorised():
    """Not a timing assertion: checks the batch path never loops per row on string columns."""
    n = 20_000
    df = pd.DataFrame({k: np.repeat(v, n) for k, v in GOOD.items()})
    df["request_id"] = pd.array([f"req_{i}" for i in range(n)], dtype="string[pyarrow]")
    rep = validate_many(df)
    assert rep.n_invalid == 0 and rep.n_records == n


def test_task_types_cover_the_simulator():
    from showcase_lib.simulation._customers import TASK_TYPES as SIM_TASK_TYPES

    assert set(SIM_TASK_TYPES) <= set(FIELDS["task_type"].allowed)


def test_non_string_keys_are_reported():
    r = validate({**GOOD, 1: "x"})
    assert pairs(r) == {("1", "key_format")}


# --- the package's modules import one another one way -----------------------------------------


def _metadata_import_graph() -> dict[str, set[str]]:
    """Module -> the showcase_lib.metadata modules it imports (anywhere, functions included)."""
    import ast
    from pathlib import Path

    import showcase_lib.metadata as pkg

    root = Path(pkg.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        name = f"showcase_lib.metadata.{path.stem}"
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("showcase_lib.metadata."):
                    deps.add(node.module)
                elif node.level == 1:
                    deps.add(f"showcase_lib.metadata.{node.module}")
        graph[name] = deps - {name}
    return graph


def test_metadata_modules_have_no_import_cycle():
    graph = _metadata_import_graph()
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, "import cycle: " + " -> ".join((*path, node))
        if node in done:
            return
        for dep in graph.get(node, ()):
            if not dep.endswith("__init__"):
                visit(dep, (*path, node))
        done.add(node)

    for module in graph:
        if not module.endswith("__init__"):
            visit(module, ())


def test_pattern_build_names_missing_unknown_and_fixed_keys():
    from showcase_lib.metadata import PATTERNS

    agents = PATTERNS["agents"]
    md = agents.example()
    assert md["task_type"] == "agent_step" and list(md)[:2] == ["customer_id", "organization_id"]
    with pytest.raises(TypeError, match=r"missing required keyword argument.*workflow_step"):
        agents.build(**{k: v for k, v in agents.example_kwargs.items() if k != "workflow_step"})
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*task_type"):
        agents.build(**agents.example_kwargs, task_type="chat")
    with pytest.raises(ValueError, match="pipeline_stage='index' is not one of"):
        PATTERNS["rag"].build(**{**PATTERNS["rag"].example_kwargs, "pipeline_stage": "index"})
