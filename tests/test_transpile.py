"""Every SQL twin transpiles to BigQuery, Snowflake and Spark SQL with sqlglot, and the text
read back into DuckDB gives the same answer as the original (issue 14).

The round trip (DuckDB -> warehouse dialect -> DuckDB) is the check a laptop can run: it proves
sqlglot understood every construct and wrote something it can read again with the same meaning.
It does not run the warehouse text on a warehouse (none here); the book says what to review.
"""

from __future__ import annotations

import warnings
from typing import get_args

import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from showcase_lib.analysis import sql
from showcase_lib.analysis.sql._query import Pattern
from showcase_lib.pricing import cost_breakdown
from showcase_lib.simulation import simulate

DIALECTS = ("bigquery", "snowflake", "spark")

# Twins whose calendar (every period from the first to the last, empty ones too) is an
# ``unnest(generate_series(...))``, found in their own SQL text: sqlglot 30.30 writes it for
# Snowflake as ``TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(...)))`` but cannot read that text
# back into DuckDB, so their Snowflake round trip is a strict expected failure (the forward text
# is checked).


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    c = simulate("incidents_2026", days=30, customers=30, seed=3, calls_per_day=400).calls
    kinds = cost_breakdown(c).drop(columns="total").add_prefix("cost_")
    return pd.concat([c, kinds], axis=1)


def twins(calls: pd.DataFrame) -> dict[str, tuple[str, dict]]:
    """name -> (SQL text, assert_same options) for every pattern of ``sql.query``."""
    fees = {c: 20.0 for c in calls["customer_id"].cat.categories[:10]}
    day0 = calls["timestamp"].min().floor("D")
    this_week = (day0 + pd.Timedelta(days=21), day0 + pd.Timedelta(days=28))
    before = (day0 + pd.Timedelta(days=7), day0 + pd.Timedelta(days=21))
    edges = list(np.geomspace(calls["cost_usd"].min() + 1e-9, calls["cost_usd"].max(), 11))
    edges[0] = float(calls["cost_usd"].min())
    q = sql.query
    return {
        "aggregate_day": (q("aggregate", "day"), {}),
        "aggregate_kinds": (q("aggregate", "day", kinds=True), {}),
        "growth_rates": (q("growth_rates", "week"), {}),
        "month_to_date": (q("month_to_date"), {}),
        "trend": (q("trend", 7), {}),
        "percentiles": (q("percentiles", "latency_ms", by="model"), {}),
        "by_dimension": (q("by_dimension", "customer_id"), {}),
        "top_n": (q("top_n", "customer_id", 10), {}),
        "concentration": (q("concentration"), {}),
        "token_efficiency": (q("token_efficiency", ["model", "task_type"]), {}),
        "distribution": (q("distribution", "cost_usd", edges), {"keys": ["left"]}),
        "plan_csv": (q("plan_csv", "customer_id", "subscription_tier"), {}),
        "cost_by_kind": (q("cost_by_kind", "feature_id"), {}),
        "tier_mix": (q("tier_mix", "feature_id"), {}),
        "cost_matrix": (q("cost_matrix"), {}),
        "rolling_zscore": (q("rolling_zscore"), {}),
        "robust_zscore": (q("robust_zscore"), {}),
        "spikes": (q("spikes"), {}),
        "cusum": (q("cusum"), {}),
        "threshold_alerts": (q("threshold_alerts", 5.0), {}),
        "budget_alerts": (q("budget_alerts", fees), {}),
        "cost_outliers": (q("cost_outliers"), {"keys": ["call_id"]}),
        "drivers": (q("drivers", this_week, before, "customer_id"), {}),
    }


#: Every pattern of ``sql.query``, read from its type (a new pattern without a twin below fails
#: with a KeyError instead of going untested); ``aggregate`` twice: plain and by token kind.
NAMES = sorted(
    name
    for pattern in get_args(Pattern)
    for name in (("aggregate_day", "aggregate_kinds") if pattern == "aggregate" else (pattern,))
)


def transpile(text: str, read: str, write: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (out,) = sqlglot.transpile(
            text, read=read, write=write, unsupported_level=ErrorLevel.IGNORE
        )
    return out


def portable(text: str) -> str:
    """The DuckDB text with its one macro expanded: ``utc_trunc`` (DuckDB's fast path for
    ``date_trunc`` in UTC, see ``sql._common.MACROS``) becomes ``date_trunc``, which every
    warehouse has (BigQuery ``TIMESTAMP_TRUNC``); the same periods in a UTC session."""
    return text.replace("utc_trunc(", "date_trunc(")


def to_warehouse(text: str, dialect: str) -> str:
    """The warehouse text: :func:`portable`, transpiled; weeks stay ISO weeks (Monday) in
    BigQuery, whose ``WEEK`` starts on Sunday (sqlglot 30.30 writes ``WEEK`` for DuckDB's
    ISO ``week``)."""
    out = transpile(portable(text), "duckdb", dialect)
    return out.replace(", WEEK)", ", ISOWEEK)") if dialect == "bigquery" else out


def test_bigquery_weeks_start_on_monday():
    assert "ISOWEEK" in to_warehouse("SELECT date_trunc('week', timestamp) FROM calls", "bigquery")


def test_every_pattern_is_covered(calls):
    from showcase_lib.analysis.sql._query import _BUILDERS

    assert set(twins(calls)) == set(NAMES)
    patterns = {"aggregate" if n.startswith("aggregate") else n for n in NAMES}
    assert patterns == set(_BUILDERS)


def test_the_macro_does_not_reach_the_warehouse(calls):
    text, _ = twins(calls)["aggregate_day"]
    assert "utc_trunc" in text
    out = transpile(portable(text), "duckdb", "bigquery")
    assert "utc_trunc" not in out.lower()
    assert "TIMESTAMP_TRUNC" in out


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", NAMES)
def test_twin_transpiles_and_round_trips(calls, name, dialect, request):
    text, options = twins(calls)[name]
    out = to_warehouse(text, dialect)
    assert out.strip() and out != text
    if dialect == "snowflake" and "generate_series" in text.lower():
        request.applymarker(
            pytest.mark.xfail(reason="sqlglot cannot read its Snowflake FLATTEN back", strict=True)
        )
    con = sql.connect(calls)
    expected = con.execute(text).df()
    got = con.execute(transpile(out, dialect, "duckdb")).df()
    sql.assert_same(expected, got, rtol=1e-9, **options)
