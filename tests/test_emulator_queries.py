"""Revenium's cost queries, served by the emulator from its store and read by
``metering.query_costs``, on a real loopback socket: routes, periods, startDate/endDate,
auth and errors, and agreement with the emulator's own priced read-out to the cent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pandas as pd
import pytest

from showcase_lib.emulator import Emulator
from showcase_lib.metering import Settings, query_costs
from showcase_lib.metering._queries import _rows
from showcase_lib.wire import record_to_wire

KEY = "rev_test_" + "qu3ries" * 3
ROUTE = "profitstream/v2/api/sources/metrics/ai/"
T0 = pd.Timestamp("2026-08-03T09:00:00Z")


def record(i: int, **over) -> dict:
    rec = {
        "timestamp": T0 + pd.Timedelta(hours=5 * i),
        "call_id": f"call_{i}",
        "provider": "openai",
        "model": ["gpt-4o-mini", "gpt-5.5"][i % 2],
        "input_tokens": 1000 + i,
        "output_tokens": 200,
        "cost_usd": 0.01 * (i + 1),
        "latency_ms": 900,
        "customer_id": f"cust_{i % 3}",
        "organization_id": ["acme", "globex", None][i % 3],
        "product_id": ["chat", "search"][i % 2],
    }
    return {**rec, **over}


@pytest.fixture(scope="module")
def emu():
    with Emulator(api_key=KEY) as e:
        bodies = [record_to_wire(record(i)) for i in range(12)]
        bodies[4]["subscriber"]["credential"] = {"name": "key-prod", "value": "sk-***"}
        bodies[5]["subscriber"]["credential"] = {"name": "key-prod", "value": "sk-***"}
        unpriced = record_to_wire(record(12, model="gpt-4o-minii", cost_usd=None))
        deprecated = record_to_wire(record(13, organization_id=None))
        deprecated["organizationId"] = "initech"  # no longer read: attributes nothing
        with httpx.Client(headers={"x-api-key": KEY}) as c:
            for b in [*bodies, unpriced, deprecated]:
                assert c.post(e.completions_url, json=b).status_code == 201
        yield e


@pytest.fixture(scope="module")
def settings(emu):
    return Settings(emu.api_key, emu.base_url)


def get(emu, route, **params):
    params.setdefault("teamId", "team-1")
    return httpx.get(emu.url + ROUTE + route, params=params, headers={"x-api-key": KEY})


AUGUST = {"startDate": "2026-08-01T00:00:00Z", "endDate": "2026-09-01T00:00:00Z"}


def local(emu, by):
    """The same figure from the emulator's priced read-out and its stored bodies."""
    costs = emu.costs().set_index("transaction_id")["total"].fillna(0.0)
    groups = {}
    for body in emu.events():
        sub = body.get("subscriber") or {}
        groups[body["transactionId"]] = {
            "model": body["model"],
            "organization": body.get("organizationName"),
            "product": body.get("productName"),
            "subscriber_credential": (sub.get("credential") or {}).get("name"),
        }[by]
    frame = pd.DataFrame({"group": pd.Series(groups), "cost": costs})
    return frame.groupby("group", dropna=False)["cost"].sum()


# ------------------------------------------------------------------ the answer's shape
def test_answer_is_a_list_of_buckets_with_groups_and_metric_results(emu):
    r = get(emu, "total-cost-by-model", **AUGUST)
    assert r.status_code == 200
    buckets = r.json()
    assert len(buckets) == 31  # a 31-day window: one bucket per day
    assert buckets[0]["startTimestamp"] == "2026-08-01T00:00:00Z"
    assert buckets[0]["endTimestamp"] == "2026-08-02T00:00:00Z"
    busy = [b for b in buckets if b["groups"]]
    assert set(busy[0]["groups"][0]) == {"groupName", "metrics"}
    assert set(busy[0]["groups"][0]["metrics"][0]) == {"metricResult"}


@pytest.mark.parametrize("by", ["model", "organization", "product", "subscriber_credential"])
def test_each_route_agrees_with_the_priced_read_out_to_the_cent(emu, settings, by):
    got = query_costs(settings, by, between=("2026-08-01", "2026-09-01"), team_id="team-1")
    column = got.columns[2]
    served = got.groupby(column, dropna=False)["cost_usd"].sum()
    expected = local(emu, by)
    assert sorted(map(str, served.index)) == sorted(map(str, expected.index))
    for name, cost in expected.items():
        match = served[served.index.isna()] if pd.isna(name) else served[served.index == name]
        assert round(float(match.iloc[0]), 2) == round(float(cost), 2), (by, name)
    assert abs(served.sum() - expected.sum()) < 1e-9


def test_the_group_column_is_named_after_the_record(settings):
    cols = {
        by: query_costs(settings, by, team_id="t").columns[2]
        for by in ("model", "organization", "product", "subscriber_credential")
    }
    assert cols == {
        "model": "model",
        "organization": "organization_id",
        "product": "product_id",
        "subscriber_credential": "credential",
    }


def test_deprecated_organization_id_attributes_nothing(settings):
    got = query_costs(settings, "organization", between=("2026-08-01", "2026-09-01"), team_id="t")
    assert "initech" not in set(got["organization_id"].dropna())


def test_an_unpriced_call_counts_zero(emu, settings):
    costs = emu.costs().set_index("transaction_id")
    assert costs.loc["call_12", "source"] == "unpriced"  # a misspelt model: the $0 trap
    got = query_costs(settings, "model", between=("2026-08-01", "2026-09-01"), team_id="t")
    assert got.loc[got["model"] == "gpt-4o-minii", "cost_usd"].tolist() == [0.0]


def test_credentials_group_by_subscriber_credential_name(settings):
    got = query_costs(
        settings, "subscriber_credential", between=("2026-08-01", "2026-09-01"), team_id="t"
    )
    by = got.groupby("credential", dropna=False)["cost_usd"].sum()
    assert round(by["key-prod"], 6) == round(0.05 + 0.06, 6)


# ------------------------------------------------------------------ windows
def test_start_and_end_date_override_the_period_and_bound_the_calls(emu):
    one_day = {"startDate": "2026-08-03", "endDate": "2026-08-04", "period": "HOUR"}
    buckets = get(emu, "total-cost-by-model", **one_day).json()
    assert len(buckets) == 24  # hourly buckets over one day, whatever the period says
    total = sum(g["metrics"][0]["metricResult"] for b in buckets for g in b["groups"])
    # calls 0-2 fall on 3 August (09:00, 14:00, 19:00): 0.01 + 0.02 + 0.03
    assert round(total, 6) == 0.06
    hour = [b for b in buckets if b["groups"]]
    assert [b["startTimestamp"] for b in hour] == [
        "2026-08-03T09:00:00Z",
        "2026-08-03T14:00:00Z",
        "2026-08-03T19:00:00Z",
    ]


def test_a_long_window_has_calendar_month_buckets(emu):
    window = {"startDate": "2026-01-31", "endDate": "2026-12-31"}
    buckets = get(emu, "cost-metric-by-product", **window).json()
    starts = [b["startTimestamp"][:10] for b in buckets]
    assert starts[:3] == ["2026-01-31", "2026-02-28", "2026-03-31"]  # the 31st, else the last
    assert len(buckets) == 11


@pytest.mark.parametrize(
    ("period", "buckets"),
    [
        ("HOUR", 60),
        ("EIGHT_HOURS", 8),
        ("TWENTY_FOUR_HOURS", 24),
        ("SEVEN_DAYS", 7),
        ("THIRTY_DAYS", 30),
        ("TWELVE_MONTHS", 12),
    ],
)
def test_periods_end_now_with_their_bucket_counts(emu, period, buckets):
    answer = get(emu, "total-cost-by-model", period=period).json()
    assert len(answer) == buckets
    end = datetime.fromisoformat(answer[-1]["endTimestamp"])
    assert abs(end - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_the_default_period_is_twelve_months_and_counts_recent_calls(tmp_path):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with Emulator(api_key=KEY, db_path=tmp_path / "e.db") as emu:
        with httpx.Client(headers={"x-api-key": KEY}) as c:
            for i, age in enumerate(
                (timedelta(minutes=30), timedelta(days=3), timedelta(days=400))
            ):
                rec = record(i, timestamp=pd.Timestamp(now - age), cost_usd=1.0 + i)
                assert c.post(emu.completions_url, json=record_to_wire(rec)).status_code == 201
        settings = Settings(KEY, emu.base_url)
        totals = {
            p: query_costs(settings, period=p, team_id="t")["cost_usd"].sum()
            for p in ("HOUR", "SEVEN_DAYS", "TWELVE_MONTHS")
        }
        default = query_costs(settings, team_id="t")["cost_usd"].sum()
    assert totals == {"HOUR": 1.0, "SEVEN_DAYS": 3.0, "TWELVE_MONTHS": 3.0}
    assert default == totals["TWELVE_MONTHS"]  # the 400-day-old call is outside


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"teamId": ""}, "teamId"),
        ({"period": "FORTNIGHT"}, "period"),
        ({"startDate": "2026-08-01"}, "startDate"),
        ({"startDate": "2026-08-02", "endDate": "2026-08-01"}, "endDate"),
        ({"startDate": "yesterday", "endDate": "2026-08-01"}, "startDate"),
        ({"startDate": "1900-01-01", "endDate": "2026-08-01"}, "endDate"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(emu, params, field):
    r = get(emu, "total-cost-by-model", **params)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == field


def test_auth_method_and_route_errors(emu):
    url = emu.url + ROUTE + "total-cost-by-model"
    assert httpx.get(url, params={"teamId": "t"}).status_code == 401
    assert httpx.get(url, params={"teamId": "t"}, headers={"x-api-key": "no"}).status_code == 401
    r = httpx.post(url, params={"teamId": "t"}, headers={"x-api-key": KEY})
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    assert get(emu, "total-cost-by-planet").status_code == 404


def test_query_costs_errors_never_show_the_key(emu):
    wrong = Settings("rev_wrong_" + "x" * 20, emu.base_url)
    with pytest.raises(httpx.HTTPStatusError) as info:
        query_costs(wrong, team_id="t")
    assert "401" in str(info.value) and "rev_wrong_" not in str(info.value)
    assert KEY not in repr(Settings(KEY, emu.base_url))


def test_query_costs_checks_its_arguments(settings, monkeypatch):
    monkeypatch.delenv("REVENIUM_TEAM_ID", raising=False)
    with pytest.raises(ValueError, match="team_id is required"):
        query_costs(settings)
    with pytest.raises(ValueError, match="by='customer'"):
        query_costs(settings, "customer", team_id="t")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="period='WEEK'"):
        query_costs(settings, period="WEEK", team_id="t")  # type: ignore[arg-type]
    monkeypatch.setenv("REVENIUM_TEAM_ID", "from-env")
    assert query_costs(settings).attrs["route"] == "total-cost-by-model"


def test_the_query_counter_counts_answered_queries(emu):
    before = emu.stats()["queries"]
    get(emu, "total-cost-by-model")
    get(emu, "total-cost-by-model", period="NOPE")
    assert emu.stats()["queries"] == before + 1


def test_a_single_bucket_object_is_read_too():
    # revenium-mcp's client reads either a list of buckets or one bucket object
    one = {"groups": [{"groupName": "m", "metrics": [{"metricResult": 1.5}, {"metricResult": 1}]}]}
    assert _rows(one, "model") == [{"start": None, "end": None, "model": "m", "cost": 2.5}]
    with pytest.raises(ValueError, match="not a list"):
        _rows("nope", "model")
