"""Tests of the metadata audit, the anti-pattern injectors and the pattern catalog."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from showcase_lib.metadata import (
    ANTIPATTERNS,
    PATTERNS,
    audit,
    catalog,
    inject,
    normalise,
    payload_bytes,
    validate,
    validate_many,
)
from showcase_lib.metadata._audit import hierarchy_conflicts, tag_columns
from showcase_lib.metadata._patterns import bucket, step_in_trace


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small clean frame shaped like simulated calls."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(1, 21, n)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
            "cost_usd": rng.random(n),
            "customer_id": [f"cust_{c:04d}" for c in cust],
            "organization_id": [f"org_{c % 5:03d}" for c in cust],
            "product_id": np.where(cust % 2 == 0, "doc_studio", "support_desk"),
            "feature_id": np.where(cust % 2 == 0, "doc_summary", "chat_widget"),
            "environment": "production",
            "task_type": "chat",
            "request_id": [f"req_{i:08x}" for i in range(n)],
            "session_id": [f"sess_{i // 3:06x}" for i in range(n)],
            "trace_id": [f"trace_{i // 2:06x}" for i in range(n)],
            "user_agent": "web_app_v1.2",
        }
    )


@pytest.fixture(scope="module")
def clean():
    return _frame()


@pytest.fixture(scope="module")
def dirty(clean):
    df = clean.copy()
    df.loc[:9, "customer_id"] = "CUST_0001"  # 10 case violations / split values
    df.loc[10:14, "customer_id"] = "cust-0001"  # 5 more spellings of cust_0001
    df.loc[15:16, "feature_id"] = "summarize this support ticket"  # free text
    df["user_id"] = "user_abc"
    df.loc[17:19, "user_id"] = "jane.doe@example.com"  # 3 emails
    df.loc[20, "user_agent"] = "ip 10.0.0.7"  # 1 IP
    df.loc[21:23, "feature_id"] = "chat_2026-01-15"  # 3 timestamps
    df.loc[24:25, "feature_id"] = "agent_5b51b6c0b6aa"  # 2 random ids
    df["team"] = None
    df["cost_center"] = "cc-1"
    df.loc[26:29, "team"] = "search"  # 4 records with 2 allocation keys
    df.loc[30, "product_id"] = "doc_studio,support_desk"  # 1 multi-valued
    df.loc[31, "feature_id"] = "chat_widget"  # feature under a second product
    df.loc[31, "product_id"] = "doc_studio"
    return df


def test_clean_frame_has_no_findings(clean):
    a = audit(clean)
    assert a.findings.empty, a.findings
    assert a.split_values.empty
    assert a.double_counting["records"].sum() == 0
    assert a.hierarchy.empty and list(a.hierarchy.columns)[:3] == [
        "child_field",
        "parent_field",
        "child",
    ]


def _count(a, check, field=None):
    f = a.findings[a.findings.check == check]
    if field is not None:
        f = f[f.field == field]
    return int(f["count"].sum())


def test_audit_finds_known_problems(dirty):
    a = audit(dirty)
    assert _count(a, "naming_case", "customer_id") == 10
    assert _count(a, "split_value", "customer_id") == 15
    assert _count(a, "free_text", "feature_id") == 2
    assert _count(a, "pii_email", "user_id") == 3
    assert _count(a, "pii_ip", "user_agent") == 1
    assert _count(a, "timestamp_value", "feature_id") == 3
    assert _count(a, "random_id_value", "feature_id") == 2
    assert _count(a, "multiple_allocation_keys") == 4
    assert _count(a, "multi_valued", "product_id") == 1
    assert _count(a, "hierarchy_conflict", "feature_id->product_id") > 0
    # each finding says how to fix it, and shows no raw personal data
    assert a.findings["fix"].str.len().gt(10).all()
    shown = " ".join(map(str, a.findings["examples"]))
    assert "jane.doe@example.com" not in shown and "j***@e***.com" in shown


def test_split_values_cost(dirty):
    a = audit(dirty)
    row = a.split_values.iloc[0]
    assert row["canonical"] == "cust_0001" or row["spellings"] == 3
    assert row["records_in_variants"] >= 5
    mask = normalise(dirty["customer_id"]) == "cust_0001"
    assert row["cost_usd"] == pytest.approx(dirty.loc[mask, "cost_usd"].sum())


def test_normalise_merges_spellings():
    s = pd.Series(["CUST_0001", "cust-0001", " Cust 0001", "cust_0001"])
    assert normalise(s).nunique() == 1


def test_cardinality_thresholds_and_growth(clean):
    a = audit(clean, thresholds={"feature_id": 1})
    c = a.cardinality.set_index("field")
    assert c.loc["feature_id", "status"] == "over"
    assert c.loc["request_id", "status"].startswith("unbounded")
    assert c.loc["request_id", "new_share_2nd_half"] > 0.4
    assert c.loc["product_id", "new_share_2nd_half"] == 0
    g = a.growth("request_id")
    assert g["unique_to_date"].iloc[-1] == clean["request_id"].nunique()
    assert (g["new_values"] >= 0).all()
    assert len(a.growth("request_id", freq="2D")) < len(g)
    with pytest.raises(KeyError, match="field='nope'"):
        a.growth("nope")


def test_cardinality_growth_finding_on_timestamped_names(clean):
    df = clean.copy()
    df["feature_id"] = df["feature_id"] + "_" + df["timestamp"].dt.strftime("%Y%m%d%H")
    a = audit(df)
    assert "cardinality_growth" in set(a.findings["check"])


def test_payload_bytes_is_json_size():
    df = pd.DataFrame({"a": ["xy", None], "bb": [1, 2]})
    sizes = payload_bytes(df).tolist()
    expected = [
        len(json.dumps({"a": "xy", "bb": 1}, separators=(",", ":"))),
        len(json.dumps({"bb": 2}, separators=(",", ":"))),
    ]
    assert sizes == expected


def test_double_counting_overcount():
    df = pd.DataFrame(
        {
            "team": ["a", "a", None],
            "cost_center": ["x", None, "y"],
            "feature_id": ["f", "f,g,h", "f"],
            "cost_usd": [1.0, 2.0, 4.0],
        }
    )
    dc = audit(df).double_counting.set_index("source")
    assert dc.loc["multiple_allocation_keys", "records"] == 1
    assert dc.loc["multiple_allocation_keys", "overcount_usd"] == 1.0
    assert dc.loc["multi_valued", "overcount_usd"] == 4.0  # counted 3 times: 2 extra x $2


def test_hierarchy_conflicts():
    df = pd.DataFrame(
        {
            "feature_id": ["chat", "chat", "x"],
            "product_id": ["a", "b", "a"],
            "cost_usd": [1.0, 2.0, 3.0],
        }
    )
    hc = hierarchy_conflicts(df, "feature_id", "product_id")
    assert hc["child"].tolist() == ["chat"] and hc["cost_usd"].item() == 3.0
    # the audit reports the same conflict, for every (child, parent) pair in the frame
    df["component_id"] = ["planner", "planner", "planner"]
    h = audit(df).hierarchy
    assert h[["child_field", "parent_field", "child"]].values.tolist() == [
        ["feature_id", "product_id", "chat"],
        ["component_id", "feature_id", "planner"],
    ]
    assert h["records"].tolist() == [2, 3]


def test_tag_columns_skip_record_columns(clean):
    cols = tag_columns(clean)
    assert "cost_usd" not in cols and "timestamp" not in cols and "customer_id" in cols


# ----------------------------------------------------------------------------- injectors


@pytest.fixture(scope="module")
def calls():
    from showcase_lib.simulation import simulate

    return simulate("steady_growth", days=5, customers=15, seed=3).calls


def test_injectors_leave_input_unchanged_and_are_seeded(calls):
    before = calls.copy()
    a = inject(calls, "split_casing", seed=1)
    b = inject(calls, "split_casing", seed=1)
    pd.testing.assert_frame_equal(calls, before)
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    assert inject(calls, "emails_as_user_ids", share=0.5, seed=0)["user_id"].str.contains("@").any()


def test_audit_finds_every_injected_antipattern(calls):
    a = audit(inject(calls, "all"))
    checks = set(a.findings["check"])
    expected = {
        "split_value",
        "naming_case",
        "pii_email",
        "timestamp_value",
        "free_text",
        "multiple_allocation_keys",
        "payload_size",
        "structured_value",
        "hierarchy_conflict",
    }
    assert expected <= checks, expected - checks
    assert len(ANTIPATTERNS) >= 8


def test_inject_all_applies_every_antipattern_and_takes_only_a_seed(calls):
    dirty = inject(calls, "all", seed=4)
    pd.testing.assert_frame_equal(dirty, inject(calls, "all", seed=4))
    assert {"user_id", "component_id", "cost_center", "team", "price_table"} <= set(dirty)
    assert (dirty["feature_id"] == "chat").any()  # the hierarchy clash
    assert all(isinstance(what, str) and what for what in ANTIPATTERNS.values())
    with pytest.raises(TypeError, match="takes only seed, got share"):
        inject(calls, "all", share=0.5)
    with pytest.raises(ValueError, match="kind='nope' is unknown"):
        inject(calls, "nope")


# ----------------------------------------------------------------------------- patterns


def test_catalog_has_ten_patterns_with_valid_examples():
    assert len(PATTERNS) >= 10
    for p in PATTERNS.values():
        md = p.example()
        assert validate(md).ok, (p.name, validate(md))
        assert json.loads(p.to_json()) == md
        assert p.question.endswith("?")
    t = catalog()
    assert t["pattern"].is_unique and len(t) == len(PATTERNS)


def test_builders_refuse_bad_metadata():
    from showcase_lib.metadata import MetadataError

    p = PATTERNS["saas"]
    with pytest.raises(MetadataError, match="subscription_tier"):
        p.build(**{**p.example_kwargs, "subscription_tier": "Gold"})
    with pytest.raises(ValueError, match="variant"):
        PATTERNS["ab_test"].build(**{**PATTERNS["ab_test"].example_kwargs, "variant": "b"})


def test_patterns_run_on_simulated_calls(calls):
    for p in PATTERNS.values():
        derived = p.derive(calls, seed=0)
        assert validate_many(derived).n_invalid == 0, p.name
        for f in p.fields:
            assert f in derived, (p.name, f)
        ans = p.answer(derived)
        assert isinstance(ans, pd.DataFrame) and not ans.empty, p.name
        if "cost_usd" in ans and p.name not in ("multi_tenant",):
            assert ans["cost_usd"].sum() == pytest.approx(derived["cost_usd"].sum()), p.name


def test_derivations_are_deterministic(calls):
    a = PATTERNS["ab_test"].derive(calls, seed=1)["variant"]
    b = PATTERNS["ab_test"].derive(calls, seed=1)["variant"]
    assert a.tolist() == b.tolist()
    # one arm per session
    per_session = PATTERNS["ab_test"].derive(calls, seed=1).groupby("session_id")["variant"]
    assert per_session.nunique().max() == 1


def test_bucket_and_steps():
    s = pd.Series(["a", "b", None, "a"], dtype="string[pyarrow]")
    b = bucket(s, "x", 4)
    assert b[0] == b[3] and b[2] == -1 and set(b[[0, 1, 3]]) <= {0, 1, 2, 3}
    df = pd.DataFrame({"trace_id": ["t", "u", "t", "t"]})
    step, size = step_in_trace(df)
    assert step.tolist() == [0, 0, 1, 2] and size.tolist() == [3, 1, 3, 3]
