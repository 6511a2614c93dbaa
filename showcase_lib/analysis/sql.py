"""The Part B query patterns as SQL on DuckDB, over a DataFrame or over Parquet files.

Each ``*_sql`` function returns the SQL text of one pattern (print it to teach it); :func:`run`
executes it on a connection from :func:`connect`, which exposes the data as a view ``calls``
-- a registered in-memory frame (zero copy through Arrow) or ``read_parquet(...)`` on a file,
a directory or a glob, so the same query scales past memory. :func:`compare` /
:func:`assert_same` check that pandas (:mod:`~showcase_lib.analysis.timeseries`,
:mod:`~showcase_lib.analysis.aggregations`, :mod:`~showcase_lib.analysis.anomalies`) and
DuckDB give the same answer.

Column and dimension names are checked against the record schema before they are put into
SQL text, and values are rendered as literals, so the printed SQL runs as is.

Example:
    >>> import pandas as pd
    >>> from showcase_lib.analysis import aggregations as agg
    >>> calls = pd.DataFrame({"model": ["a", "a", "b"], "cost_usd": [1.0, 3.0, 10.0],
    ...                       "latency_ms": [100, 300, 50]})
    >>> con = connect(calls)
    >>> print(top_n_sql("model", 1).splitlines()[1])
    SELECT "model", count(*) AS calls, sum("cost_usd") AS total,
    >>> _ = assert_same(agg.top_n(calls, "model", 1), run(con, top_n_sql("model", 1)))
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from showcase_lib.analysis.timeseries import canonical_freq
from showcase_lib.schema import ALL_COLUMNS, ID_COLUMNS

__all__ = [
    "Comparison",
    "aggregate_sql",
    "assert_same",
    "budget_alerts_sql",
    "by_dimension_sql",
    "compare",
    "concentration_sql",
    "connect",
    "cost_matrix_sql",
    "cost_outliers_sql",
    "cusum_sql",
    "distribution_sql",
    "export_csv",
    "growth_rates_sql",
    "month_to_date_sql",
    "percentiles_sql",
    "plan_csv_sql",
    "robust_zscore_sql",
    "rolling_zscore_sql",
    "run",
    "spikes_sql",
    "threshold_alerts_sql",
    "to_long",
    "token_efficiency_sql",
    "top_n_sql",
    "trend_sql",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Macros every connection from :func:`connect` defines. ``utc_trunc(part, ts)`` is
#: ``date_trunc`` in UTC computed on the raw microseconds: the same result as ``date_trunc`` on a
#: ``TIMESTAMPTZ`` with the session in UTC, without the time-zone library (about 7x faster).
MACROS: str = """CREATE OR REPLACE MACRO utc_trunc(part, ts) AS
    make_timestamptz(epoch_us(date_trunc(part, make_timestamp(epoch_us(ts)))));"""
_INTERVAL = {
    "hour": "INTERVAL 1 hour",
    "day": "INTERVAL 1 day",
    "week": "INTERVAL 7 day",
    "month": "INTERVAL 1 month",
}


# --------------------------------------------------------------------------- plumbing
def connect(
    data: pd.DataFrame | str | Path, *, table: str = "calls", threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (session time zone UTC, :data:`MACROS` defined) with the data as
    view ``table``.

    ``data`` is a DataFrame in the record schema (registered through Arrow, no copy of the
    numbers) or the path of a Parquet file, a directory of Parquet files, or a glob.

    Example:
        >>> con = connect(pd.DataFrame({"cost_usd": [1.0, 2.0]}))
        >>> run(con, "SELECT sum(cost_usd) AS s FROM calls")["s"].tolist()
        [3.0]
    """
    import pyarrow as pa

    name = _ident(table)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(MACROS)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if isinstance(data, pd.DataFrame):
        table = pa.Table.from_pandas(data, preserve_index=False)
        # record batches (zero-copy slices) let DuckDB scan the frame on all threads
        con.register(
            name, pa.Table.from_batches(table.to_batches(max_chunksize=1 << 17), table.schema)
        )
    else:
        p = Path(data)
        if p.is_dir():
            source = str(p / "**" / "*.parquet")
        elif p.exists() or any(ch in str(data) for ch in "*?["):
            source = str(data)
        else:
            raise FileNotFoundError(
                f"data={str(data)!r} is neither a DataFrame nor an existing Parquet path"
            )
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_lit(source)})")
    return con


def run(con: duckdb.DuckDBPyConnection | pd.DataFrame | str | Path, sql: str) -> pd.DataFrame:
    """Execute ``sql`` and return a DataFrame (``con`` may also be data for :func:`connect`).

    Example:
        >>> run(pd.DataFrame({"x": [1, 2]}), "SELECT max(x) AS m FROM calls")["m"].tolist()
        [2]
    """
    if not isinstance(con, duckdb.DuckDBPyConnection):
        con = connect(con)
    return con.execute(sql).df()


def export_csv(con: duckdb.DuckDBPyConnection, sql: str, path: str | Path) -> Path:
    """Write the result of ``sql`` to CSV with DuckDB's ``COPY ... TO`` (header row, comma).

    Example:
        >>> import tempfile, os
        >>> p = export_csv(connect(pd.DataFrame({"x": [1]})), "SELECT x FROM calls",
        ...                os.path.join(tempfile.mkdtemp(), "x.csv"))
        >>> p.read_text().split()
        ['x', '1']
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql.strip().rstrip(';')}) TO {_lit(str(p))} (HEADER, DELIMITER ',')")
    return p


def _ident(name: str) -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"identifier {name!r} is not a plain column name")
    return name


def _col(name: str) -> str:
    """A record column, double-quoted."""
    if name not in ALL_COLUMNS:
        raise ValueError(
            f"column {name!r} is not a column of the record ({', '.join(ALL_COLUMNS)})"
        )
    return f'"{name}"'


def _dims(by: str | Sequence[str]) -> list[str]:
    dims = [by] if isinstance(by, str) else list(by)
    if not dims:
        raise ValueError("by=[] names no dimension; give a column such as 'model'")
    for d in dims:
        _col(d)
        if d in ID_COLUMNS or d in ("timestamp", "cost_usd"):
            raise ValueError(f"by={d!r} is not a dimension to group on")
    return dims


def _lit(value) -> str:
    """A SQL literal: numbers exactly (repr round-trips a float), strings quoted, timestamps UTC."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            raise ValueError(f"value {v} cannot be a SQL literal")
        return repr(v)
    if isinstance(value, pd.Timestamp):
        ts = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
        return f"TIMESTAMPTZ '{ts.strftime('%Y-%m-%d %H:%M:%S.%f')}+00'"
    return "'" + str(value).replace("'", "''") + "'"


def _period(freq: str) -> tuple[str, str]:
    f = canonical_freq(freq)
    return f, f"utc_trunc('{f}', timestamp)"


def _qname(q: float) -> str:
    return f"p{q * 100:g}".replace(".", "_")


# --------------------------------------------------------------------------- time series
def aggregate_sql(freq: str = "day", by: str | None = None) -> str:
    """Calls, cost and tokens per period (every period of the calendar, empty ones = 0).

    Mirrors :func:`showcase_lib.analysis.timeseries.aggregate`.

    Example:
        >>> "utc_trunc('week', timestamp)" in aggregate_sql("weekly")
        True
    """
    f, trunc = _period(freq)
    dim = f", {_col(by)}" if by else ""
    key = f"period{dim}"
    grid = f"calendar CROSS JOIN (SELECT DISTINCT {_col(by)} FROM base) AS v" if by else "calendar"
    return f"""-- calls, cost and tokens per {f} (UTC){" and " + by if by else ""}; empty periods count 0
WITH base AS (
    SELECT {trunc} AS period{dim},
           count(*) AS calls,
           sum(cost_usd) AS cost_usd,
           sum(input_tokens)::BIGINT AS input_tokens,
           sum(output_tokens)::BIGINT AS output_tokens
    FROM calls
    GROUP BY ALL
),
calendar AS (
    SELECT unnest(generate_series(min(period), max(period), {_INTERVAL[f]})) AS period FROM base
)
SELECT {key},
       coalesce(b.calls, 0) AS calls,
       coalesce(b.cost_usd, 0) AS cost_usd,
       coalesce(b.input_tokens, 0) AS input_tokens,
       coalesce(b.output_tokens, 0) AS output_tokens,
       coalesce(b.input_tokens, 0) + coalesce(b.output_tokens, 0) AS total_tokens
FROM {grid}
LEFT JOIN base AS b USING ({key})
ORDER BY {key}"""


def growth_rates_sql(freq: str = "day", *, complete_only: bool = True) -> str:
    """Cost per period with the change over the previous one (and over 7 days back for daily
    data). Mirrors :func:`showcase_lib.analysis.timeseries.growth_rates`.

    Example:
        >>> "lag(cost_usd, 7)" in growth_rates_sql("day")
        True
    """
    f, _ = _period(freq)
    last_week = (
        ",\n       cost_usd / nullif(lag(cost_usd, 7) OVER w, 0) - 1 AS same_day_last_week"
        if f == "day"
        else ""
    )
    keep = (
        "WHERE period >= (SELECT date_trunc('day', min(timestamp)) FROM calls)\n"
        "  AND period + " + _INTERVAL[f] + " - INTERVAL 1 day"
        " <= (SELECT date_trunc('day', max(timestamp)) FROM calls)"
        if complete_only and f in ("week", "month")
        else ""
    )
    return f"""-- {f}-over-{f} change of cost (a change from 0 is undefined: NULL)
WITH per_period AS (
{_indent(aggregate_sql(f))}
)
SELECT period, cost_usd,
       cost_usd - lag(cost_usd) OVER w AS change,
       cost_usd / nullif(lag(cost_usd) OVER w, 0) - 1 AS growth{last_week}
FROM per_period
{keep}
WINDOW w AS (ORDER BY period)
ORDER BY period"""


def _indent(sql: str, n: int = 4) -> str:
    return "\n".join(" " * n + line for line in sql.splitlines())


def month_to_date_sql(asof=None) -> str:
    """Month-to-date vs the same number of days of last month, one row per metric.

    ``asof`` is the exclusive end (default: the end of the last day with data). Mirrors
    :func:`showcase_lib.analysis.timeseries.month_to_date`.

    Example:
        >>> "least(" in month_to_date_sql("2026-02-15")
        True
    """
    end = (
        "date_trunc('day', (SELECT max(timestamp) FROM calls)) + INTERVAL 1 day"
        if asof is None
        else _lit(pd.Timestamp(asof))
    )
    return f"""-- month-to-date vs the same days of the previous month
WITH bounds AS (
    SELECT cur_start, cur_end,
           cur_start - INTERVAL 1 month AS prev_start,
           least(cur_start - INTERVAL 1 month + (cur_end - cur_start), cur_start) AS prev_end
    FROM (SELECT date_trunc('month', e - INTERVAL 1 microsecond) AS cur_start, e AS cur_end
          FROM (SELECT {end} AS e))
),
totals AS (
    SELECT
        sum(cost_usd) FILTER (WHERE timestamp >= cur_start AND timestamp < cur_end) AS cur_cost,
        count(*) FILTER (WHERE timestamp >= cur_start AND timestamp < cur_end) AS cur_calls,
        sum(input_tokens + output_tokens) FILTER (WHERE timestamp >= cur_start AND timestamp < cur_end) AS cur_tokens,
        sum(cost_usd) FILTER (WHERE timestamp >= prev_start AND timestamp < prev_end) AS prev_cost,
        count(*) FILTER (WHERE timestamp >= prev_start AND timestamp < prev_end) AS prev_calls,
        sum(input_tokens + output_tokens) FILTER (WHERE timestamp >= prev_start AND timestamp < prev_end) AS prev_tokens
    FROM calls, bounds
),
metrics AS (
    SELECT 'cost_usd' AS metric, coalesce(cur_cost, 0) AS current, coalesce(prev_cost, 0) AS previous FROM totals
    UNION ALL SELECT 'calls', cur_calls, prev_calls FROM totals
    UNION ALL SELECT 'total_tokens', coalesce(cur_tokens, 0), coalesce(prev_tokens, 0) FROM totals
    UNION ALL SELECT 'avg_cost_per_call', cur_cost / nullif(cur_calls, 0), prev_cost / nullif(prev_calls, 0) FROM totals
)
SELECT metric, current::DOUBLE AS current, previous::DOUBLE AS previous,
       (current - previous)::DOUBLE AS change,
       ((current - previous) / nullif(previous, 0))::DOUBLE AS change_pct
FROM metrics"""


def trend_sql(window: int = 7) -> str:
    """Daily cost with its trailing ``window``-day mean and the least-squares line
    (``regr_slope``/``regr_intercept`` on the day number). Mirrors the ``rolling_mean`` and
    ``linear`` columns of :func:`showcase_lib.analysis.timeseries.trend`.

    Example:
        >>> "regr_slope" in trend_sql()
        True
    """
    w = int(window)
    return f"""-- daily cost, trailing {w}-day mean, and the OLS trend line
WITH daily AS (
{_indent(aggregate_sql("day"))}
),
numbered AS (
    SELECT period, cost_usd AS actual,
           date_diff('day', min(period) OVER (), period)::DOUBLE AS day
    FROM daily
),
fit AS (
    SELECT regr_slope(actual, day) AS slope, regr_intercept(actual, day) AS intercept FROM numbered
)
SELECT period, actual,
       CASE WHEN count(*) OVER w = {w} THEN avg(actual) OVER w END AS rolling_mean,
       intercept + slope * day AS linear
FROM numbered, fit
WINDOW w AS (ORDER BY period ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW)
ORDER BY period"""


# --------------------------------------------------------------------------- aggregations
def percentiles_sql(
    column: str = "latency_ms",
    by: str | Sequence[str] | None = None,
    q: Sequence[float] = (0.5, 0.95, 0.99),
) -> str:
    """Percentiles with linear interpolation (``quantile_cont``), overall or per group.

    Example:
        >>> 'quantile_cont("latency_ms", [0.5, 0.95, 0.99])' in percentiles_sql()
        True
    """
    col = _col(column)
    qs = "[" + ", ".join(repr(float(x)) for x in q) + "]"
    unpack = ", ".join(f"q[{i + 1}] AS {_qname(x)}" for i, x in enumerate(q))
    if by is None:
        return f"SELECT {unpack}\nFROM (SELECT quantile_cont({col}, {qs}) AS q FROM calls)"
    dims = ", ".join(_col(d) for d in _dims(by))
    return (
        f"SELECT {dims}, {unpack}\nFROM (SELECT {dims}, quantile_cont({col}, {qs}) AS q\n"
        f"      FROM calls GROUP BY ALL)\nORDER BY {dims}"
    )


def by_dimension_sql(by: str | Sequence[str], q: Sequence[float] = (0.5, 0.95, 0.99)) -> str:
    """Count, sum, mean, share of cost and p50/p95/p99 of cost and latency per group.

    Mirrors :func:`showcase_lib.analysis.aggregations.by_dimension`. Each column's quantiles
    come from one ``quantile_cont(x, [list])`` call (one sort per group, not one per quantile).

    Example:
        >>> print(by_dimension_sql("model").splitlines()[1])
        SELECT "model",
    """
    dims = ", ".join(_col(d) for d in _dims(by))
    qs = "[" + ", ".join(repr(float(x)) for x in q) + "]"
    unpack = ",\n       ".join(
        f"{p}_q[{i + 1}] AS {p}_{_qname(x)}" for p in ("cost", "latency") for i, x in enumerate(q)
    )
    return f"""-- cost and latency statistics by {", ".join(_dims(by))}
SELECT {dims},
       calls, total_cost, avg_cost,
       total_cost / sum(total_cost) OVER () AS share,
       {unpack}
FROM (
    SELECT {dims},
           count(*) AS calls,
           sum(cost_usd) AS total_cost,
           avg(cost_usd) AS avg_cost,
           quantile_cont(cost_usd, {qs}) AS cost_q,
           quantile_cont(latency_ms, {qs}) AS latency_q
    FROM calls
    GROUP BY ALL
)
ORDER BY total_cost DESC, calls DESC"""


def top_n_sql(by: str = "customer_id", n: int = 10, metric: str = "cost_usd") -> str:
    """The ``n`` largest groups by total ``metric`` with rank, share and cumulative share.

    Mirrors :func:`showcase_lib.analysis.aggregations.top_n`.

    Example:
        >>> top_n_sql("model", 3).rstrip().endswith("LIMIT 3")
        True
    """
    d, m = _col(_dims(by)[0]), _col(metric)
    if int(n) < 1:
        raise ValueError(f"n={n} must be at least 1")
    return f"""-- top {int(n)} {by} by total {metric}
SELECT {d}, count(*) AS calls, sum({m}) AS total,
       row_number() OVER (ORDER BY sum({m}) DESC, count(*) DESC)::DOUBLE AS rank,
       sum({m}) / sum(sum({m})) OVER () AS share,
       sum(sum({m})) OVER (ORDER BY sum({m}) DESC, count(*) DESC ROWS UNBOUNDED PRECEDING)
           / sum(sum({m})) OVER () AS cumulative_share
FROM calls
GROUP BY ALL
ORDER BY rank
LIMIT {int(n)}"""


def concentration_sql(
    by: str = "customer_id", metric: str = "cost_usd", top: Sequence[float] = (0.1, 0.2)
) -> str:
    """Entities, total, Gini, share of the top 10%/20% and entities making 80% of spend.

    Mirrors :func:`showcase_lib.analysis.aggregations.concentration`.

    Example:
        >>> "AS gini" in concentration_sql()
        True
    """
    d, m = _col(_dims(by)[0]), _col(metric)
    tops = ",\n       ".join(
        f"sum(x) FILTER (WHERE desc_rank <= ceil({float(s)!r} * n - 1e-9)) / any_value(tot)"
        f" AS top_{s * 100:g}pct_share"
        for s in top
    )
    return f"""-- how concentrated spend is across {by} (Pareto, Gini)
WITH per_entity AS (
    SELECT {d}, sum({m}) AS x FROM calls GROUP BY ALL
),
ranked AS (
    SELECT x,
           row_number() OVER (ORDER BY x) AS asc_rank,
           row_number() OVER (ORDER BY x DESC) AS desc_rank,
           count(*) OVER () AS n,
           sum(x) OVER () AS tot,
           sum(x) OVER (ORDER BY x DESC ROWS UNBOUNDED PRECEDING) AS cum
    FROM per_entity
)
SELECT any_value(n)::DOUBLE AS entities,
       any_value(tot) AS total,
       2 * sum(asc_rank * x) / (any_value(n) * any_value(tot)) - (any_value(n) + 1) / any_value(n) AS gini,
       {tops},
       (1 + count(*) FILTER (WHERE cum / tot < 0.8 - 1e-12))::DOUBLE AS entities_for_80pct
FROM ranked"""


def token_efficiency_sql(by: str | Sequence[str] = ("model",)) -> str:
    """Cost per 1K tokens, output/input ratio, tokens and cost per call per group.

    Mirrors :func:`showcase_lib.analysis.aggregations.token_efficiency`.

    Example:
        >>> "cost_per_1k_tokens" in token_efficiency_sql(["model", "task_type"])
        True
    """
    dims = ", ".join(_col(d) for d in _dims(by))
    return f"""-- token efficiency by {", ".join(_dims(by))}
SELECT {dims},
       count(*) AS calls,
       sum(input_tokens)::BIGINT AS input_tokens,
       sum(output_tokens)::BIGINT AS output_tokens,
       sum(cost_usd) AS total_cost,
       sum(cost_usd) / nullif(sum(input_tokens + output_tokens), 0) * 1000 AS cost_per_1k_tokens,
       sum(output_tokens) / nullif(sum(input_tokens), 0) AS output_input_ratio,
       sum(input_tokens + output_tokens) / count(*) AS tokens_per_call,
       sum(cost_usd) / count(*) AS cost_per_call
FROM calls
GROUP BY ALL
ORDER BY cost_per_1k_tokens"""


def distribution_sql(column: str, edges: Sequence[float]) -> str:
    """Histogram of ``column`` on explicit bin edges (``[left, right)``, the last bin closed,
    as numpy does). Pass the edges of :func:`showcase_lib.analysis.aggregations.distribution`.

    Example:
        >>> "cumulative_share" in distribution_sql("cost_usd", [0.0, 1.0, 2.0])
        True
    """
    col = _col(column)
    e = [float(x) for x in edges]
    if len(e) < 2 or any(b <= a for a, b in itertools.pairwise(e)):
        raise ValueError(f"edges={e[:5]}... must be at least two increasing numbers")
    rows = ",\n        ".join(
        f"({i}, {a!r}, {b!r})" for i, (a, b) in enumerate(itertools.pairwise(e))
    )
    return f"""-- histogram of {column}: bin i holds left_i <= x < right_i (the last bin also x = right);
-- the nested CASE is a binary search over the edges (5 comparisons for 20 bins, not 20)
WITH bins(i, "left", "right") AS (
    VALUES {rows}
),
binned AS (
    SELECT {_bin_search(0, len(e) - 2, e)} AS i, count(*) AS count
    FROM (SELECT {col} AS x FROM calls WHERE {col} >= {e[0]!r} AND {col} <= {e[-1]!r})
    GROUP BY 1
),
counted AS (
    SELECT i, "left", "right", coalesce(count, 0) AS count FROM bins LEFT JOIN binned USING (i)
)
SELECT "left", "right", count,
       count / sum(count) OVER () AS share,
       sum(count) OVER (ORDER BY i) / sum(count) OVER () AS cumulative_share
FROM counted
ORDER BY "left\""""


def _bin_search(lo: int, hi: int, edges: list[float]) -> str:
    """Nested CASE returning the bin (lo..hi) of ``x``: a binary search over the edges."""
    if lo == hi:
        return str(lo)
    mid = (lo + hi + 1) // 2
    return (
        f"CASE WHEN x < {edges[mid]!r} THEN {_bin_search(lo, mid - 1, edges)} "
        f"ELSE {_bin_search(mid, hi, edges)} END"
    )


def plan_csv_sql(dimension: str | Sequence[str], value: str | None = None) -> str:
    """The showcase plan's CSV rows ``dimension,value,count,avg_cost,total_cost``.

    Mirrors :func:`showcase_lib.analysis.aggregations.plan_csv_frame` (both readings).

    Example:
        >>> plan_csv_sql("customer_id", "subscription_tier").splitlines()[1]
        'SELECT "customer_id"::VARCHAR AS dimension, "subscription_tier"::VARCHAR AS value,'
    """
    if value is not None:
        if not isinstance(dimension, str):
            raise ValueError(f"dimension={dimension!r} must be one column when value is given")
        d, v = _col(_dims(dimension)[0]), _col(_dims(value)[0])
        return f"""-- the showcase plan's CSV: one row per ({dimension}, {value})
SELECT {d}::VARCHAR AS dimension, {v}::VARCHAR AS value,
       count(*) AS count, avg(cost_usd) AS avg_cost, sum(cost_usd) AS total_cost
FROM calls
GROUP BY ALL
ORDER BY total_cost DESC, count DESC"""
    parts = []
    for i, dim in enumerate(_dims(dimension)):
        parts.append(f"""SELECT {i} AS ord, {_lit(dim)} AS dimension, {_col(dim)}::VARCHAR AS value,
       count(*) AS count, avg(cost_usd) AS avg_cost, sum(cost_usd) AS total_cost
FROM calls GROUP BY ALL""")
    union = "\nUNION ALL\n".join(parts)
    return f"""-- the showcase plan's CSV: one row per (dimension name, value)
SELECT dimension, value, count, avg_cost, total_cost
FROM (
{_indent(union)}
)
ORDER BY ord, total_cost DESC, count DESC"""


# --------------------------------------------------------------------------- anomalies
def cost_matrix_sql(by: str | None = "customer_id", freq: str = "day") -> str:
    """Cost and calls per (period, entity), zero-filled over the calendar x entities grid,
    with a period number ``t``. The long form of
    :func:`showcase_lib.analysis.anomalies.cost_matrix` (``metric="cost_usd"`` and ``"calls"``).

    Example:
        >>> "CROSS JOIN" in cost_matrix_sql()
        True
    """
    f, trunc = _period(freq)
    ent = f"{_col(_dims(by)[0])}::VARCHAR" if by else "'total'"
    return f"""WITH per AS (
    SELECT {trunc} AS period, {ent} AS entity, sum(cost_usd) AS cost, count(*) AS calls
    FROM calls GROUP BY ALL
),
calendar AS (
    SELECT unnest(generate_series(min(period), max(period), {_INTERVAL[f]})) AS period FROM per
)
SELECT c.period, e.entity, coalesce(p.cost, 0) AS cost, coalesce(p.calls, 0)::DOUBLE AS calls,
       (row_number() OVER (PARTITION BY e.entity ORDER BY c.period) - 1) AS t
FROM calendar AS c
CROSS JOIN (SELECT DISTINCT entity FROM per) AS e
LEFT JOIN per AS p ON p.period = c.period AND p.entity = e.entity"""


def rolling_zscore_sql(
    by: str | None = "customer_id", freq: str = "day", window: int = 14, min_periods: int = 7
) -> str:
    """z-score of each period's cost against the mean and std of the previous ``window``
    periods (window excludes the current row). Mirrors
    :func:`showcase_lib.analysis.anomalies.rolling_zscore` on the cost matrix.

    Example:
        >>> "1 PRECEDING" in rolling_zscore_sql()
        True
    """
    w, mp = int(window), int(min_periods)
    return f"""-- rolling z-score: (cost - mean of previous {w}) / std of previous {w}
WITH m AS (
{_indent(cost_matrix_sql(by, freq))}
)
SELECT period, entity, cost,
       CASE WHEN count(cost) OVER w >= {mp} AND stddev_samp(cost) OVER w > 0
            THEN (cost - avg(cost) OVER w) / stddev_samp(cost) OVER w END AS z
FROM m
WINDOW w AS (PARTITION BY entity ORDER BY period ROWS BETWEEN {w} PRECEDING AND 1 PRECEDING)
ORDER BY period, entity"""


def _robust_cte(by: str | None, freq: str, window: int, min_periods: int) -> str:
    """CTEs ``m`` (the matrix) and ``scored``: per (period, entity) the trailing median and
    MAD-based scale of cost and of calls, and whether the entity is established."""
    w, mp = int(window), int(min_periods)
    return f"""m AS (
{_indent(cost_matrix_sql(by, freq))}
),
past AS (  -- each period paired with the previous {w} periods of the same entity
    SELECT a.entity, a.period, b.cost AS past_cost, b.calls AS past_calls
    FROM m AS a JOIN m AS b ON a.entity = b.entity AND b.t BETWEEN a.t - {w} AND a.t - 1
),
center AS (
    SELECT entity, period, median(past_cost) AS med_cost, median(past_calls) AS med_calls,
           count(*) AS n, min(past_cost) AS min_cost
    FROM past GROUP BY entity, period
),
spread AS (
    SELECT p.entity, p.period,
           median(abs(p.past_cost - c.med_cost)) AS mad_cost,
           avg(abs(p.past_cost - c.med_cost)) AS meanad_cost,
           median(abs(p.past_calls - c.med_calls)) AS mad_calls,
           avg(abs(p.past_calls - c.med_calls)) AS meanad_calls
    FROM past AS p JOIN center AS c USING (entity, period)
    GROUP BY p.entity, p.period
),
scored AS (
    SELECT m.period, m.entity, m.t, m.cost, m.calls,
           CASE WHEN c.n >= {mp} THEN c.med_cost END AS expected,
           CASE WHEN s.mad_cost > 0 THEN s.mad_cost / 0.6745 ELSE 1.253314 * s.meanad_cost END AS scale,
           CASE WHEN c.n >= {mp} THEN c.med_calls END AS expected_calls,
           CASE WHEN s.mad_calls > 0 THEN s.mad_calls / 0.6745 ELSE 1.253314 * s.meanad_calls END AS calls_scale,
           coalesce(c.n >= {mp} AND c.min_cost > 0, FALSE) AS established
    FROM m
    LEFT JOIN center AS c USING (entity, period)
    LEFT JOIN spread AS s USING (entity, period)
)"""


def robust_zscore_sql(
    by: str | None = "customer_id", freq: str = "day", window: int = 14, min_periods: int = 7
) -> str:
    """Modified z-score ``0.6745 (cost - median) / MAD`` against the previous ``window``
    periods (mean absolute deviation when MAD is 0). Mirrors
    :func:`showcase_lib.analysis.anomalies.robust_zscore` on the cost matrix.

    Example:
        >>> "0.6745" in robust_zscore_sql()
        True
    """
    return f"""-- robust (modified) z-score against the trailing median and MAD
WITH {_robust_cte(by, freq, window, min_periods)}
SELECT period, entity, cost, expected,
       CASE WHEN scale > 0 AND expected IS NOT NULL THEN (cost - expected) / scale END AS z
FROM scored
ORDER BY period, entity"""


def _score(value: str, expected: str, scale: str) -> str:
    return (
        f"CASE WHEN {scale} > 0 THEN ({value} - {expected}) / {scale} "
        f"WHEN {value} > {expected} THEN 'Infinity'::DOUBLE END"
    )


def _ratio(value: str, expected: str) -> str:
    return (
        f"CASE WHEN {expected} > 0 THEN {value} / {expected} "
        f"WHEN {value} > 0 THEN 'Infinity'::DOUBLE END"
    )


def spikes_sql(
    by: str | None = "customer_id",
    freq: str = "day",
    *,
    window: int = 14,
    min_periods: int = 7,
    threshold: float = 3.5,
    min_ratio: float = 5.0,
    min_abs: float = 2.0,
    confirm: str | None = "calls",
    require_history: bool = True,
) -> str:
    """The spike rule: robust score above ``threshold`` AND ``min_ratio`` x expected AND
    ``min_abs`` above it, confirmed by calls, for established entities. Mirrors
    :func:`showcase_lib.analysis.anomalies.flag_spikes`.

    Example:
        >>> "calls_ratio >=" in spikes_sql()
        True
    """
    t, r = float(threshold), float(min_ratio)
    calls_cols = (
        f""",
           calls, expected_calls,
           {_score("calls", "expected_calls", "calls_scale")} AS calls_score,
           {_ratio("calls", "expected_calls")} AS calls_ratio"""
        if confirm
        else ""
    )
    calls_rule = f"\n  AND calls_score > {t!r} AND calls_ratio >= {r!r}" if confirm else ""
    history = "\n  AND established" if require_history else ""
    return f"""-- spikes: statistical AND relative AND material{" AND confirmed by calls" if confirm else ""}
WITH {_robust_cte(by, freq, window, min_periods)},
flagged AS (
    SELECT period, entity, cost AS actual, expected,
           {_score("cost", "expected", "scale")} AS score,
           {_ratio("cost", "expected")} AS ratio{calls_cols},
           established
    FROM scored
    WHERE expected IS NOT NULL
)
SELECT * EXCLUDE (established) FROM flagged
WHERE score > {t!r} AND ratio >= {r!r} AND actual - expected >= {float(min_abs)!r}{calls_rule}{history}
ORDER BY period, entity"""


def cusum_sql(
    by: str | None = "customer_id",
    freq: str = "day",
    *,
    window: int = 14,
    min_periods: int = 7,
    k: float = 0.5,
    clip: float = 3.0,
    h: float = 8.0,
) -> str:
    """Upper CUSUM of clipped robust scores in closed form (window functions only):
    ``S = C - least(0, min(C) so far)`` with ``C`` the running sum of ``least(z, clip) - k``;
    ``alarm`` marks the first period of each excursion above ``h``. Mirrors
    ``cusum(shift_scores(cost_matrix(calls)))`` of :mod:`showcase_lib.analysis.anomalies`
    (the statistic behind :func:`~showcase_lib.analysis.anomalies.behaviour_changes`).

    Example:
        >>> "least(0, min(c)" in cusum_sql()
        True
    """
    return f"""-- CUSUM of clipped robust scores: a sustained shift, not one spike
WITH {_robust_cte(by, freq, window, min_periods)},
z AS (
    SELECT period, entity, t, cost,
           CASE WHEN expected IS NULL THEN 0
                WHEN scale > 0 THEN (cost - expected) / scale
                WHEN cost > expected THEN {float(clip)!r} ELSE 0 END AS z
    FROM scored
),
c AS (
    SELECT *, sum(least(z, {float(clip)!r}) - {float(k)!r}) OVER (PARTITION BY entity ORDER BY t) AS c
    FROM z
),
s AS (
    SELECT period, entity, t, cost, z,
           c - least(0, min(c) OVER (PARTITION BY entity ORDER BY t)) AS cusum
    FROM c
)
SELECT period, entity, cost, z, cusum,
       cusum > {float(h)!r} AND coalesce(lag(cusum) OVER (PARTITION BY entity ORDER BY t), 0) <= {float(h)!r} AS alarm
FROM s
ORDER BY period, entity"""


def threshold_alerts_sql(
    threshold: float | Mapping[str, float], by: str | None = "customer_id", freq: str = "day"
) -> str:
    """Periods where an entity's spend exceeds a fixed threshold (one, or one per entity).

    Mirrors :func:`showcase_lib.analysis.anomalies.threshold_alerts` on the cost matrix.

    Example:
        >>> "excess" in threshold_alerts_sql(100.0)
        True
    """
    if isinstance(threshold, Mapping):
        rows = ", ".join(f"({_lit(str(k))}, {float(v)!r})" for k, v in threshold.items())
        thr = f"thresholds(entity, threshold) AS (VALUES {rows}),\n"
        join = "JOIN thresholds USING (entity)"
    else:
        thr, join = "", f"CROSS JOIN (SELECT {float(threshold)!r} AS threshold)"
    return f"""-- threshold alerts
WITH {thr}m AS (
{_indent(cost_matrix_sql(by, freq))}
)
SELECT period, entity, cost AS actual, threshold, cost - threshold AS excess
FROM m {join}
WHERE cost > threshold
ORDER BY period, entity"""


def budget_alerts_sql(
    budgets: float | Mapping[str, float],
    by: str | None = "customer_id",
    levels: Sequence[float] = (0.5, 0.8, 1.0),
    freq: str = "month",
) -> str:
    """First call at which each entity's period-to-date spend crossed each share of its
    budget. Mirrors :func:`showcase_lib.analysis.anomalies.budget_alerts`.

    Two steps keep it fast on big tables: daily totals find the day of each crossing, then a
    running sum over that day's calls only (ordered by timestamp, then call id) finds the call.

    Example:
        >>> "ROWS UNBOUNDED PRECEDING" in budget_alerts_sql(100.0)
        True
    """
    _f, trunc = _period(freq)
    ent = f"{_col(_dims(by)[0])}::VARCHAR" if by else "'total'"
    c_ent = f"c.{_col(_dims(by)[0])}::VARCHAR" if by else "'total'"
    if isinstance(budgets, Mapping):
        rows = ", ".join(f"({_lit(str(k))}, {float(v)!r})" for k, v in budgets.items())
        bud, join = f"budgets(entity, budget) AS (VALUES {rows}),\n", "JOIN budgets USING (entity)"
    else:
        bud, join = "", f"CROSS JOIN (SELECT {float(budgets)!r} AS budget)"
    lv = ", ".join(f"({float(x)!r})" for x in levels)
    return f"""-- budget alerts: when period-to-date spend first crossed each level
WITH {bud}levels(level) AS (VALUES {lv}),
daily AS (  -- step 1: spend per entity and day, running total within the period
    SELECT entity, period, day, cost,
           sum(cost) OVER (PARTITION BY entity, period ORDER BY day) AS cum_day
    FROM (SELECT {ent} AS entity, {trunc} AS period, utc_trunc('day', timestamp) AS day,
                 sum(cost_usd) AS cost
          FROM calls GROUP BY ALL)
),
crossing_day AS (  -- the first day each level was reached, and the spend before that day
    SELECT entity, period, level, budget,
           min(day) AS day, arg_min(cum_day - cost, day) AS before
    FROM daily {join} JOIN levels ON cum_day >= level * budget
    GROUP BY entity, period, level, budget
),
running AS (  -- step 2: running total over that day's calls only
    SELECT d.entity, d.period, d.level, d.budget, c.timestamp, c.call_id,
           d.before + sum(c.cost_usd) OVER (PARTITION BY d.entity, d.period, d.level
                                            ORDER BY c.timestamp, c.call_id
                                            ROWS UNBOUNDED PRECEDING) AS cum
    FROM calls AS c
    JOIN crossing_day AS d ON {c_ent} = d.entity
                          AND utc_trunc('day', c.timestamp) = d.day
)
SELECT entity, period, level, budget,
       first(timestamp ORDER BY timestamp, call_id) AS crossed_at,
       first(cum ORDER BY timestamp, call_id) AS spend_at_crossing
FROM running
WHERE cum >= level * budget
GROUP BY entity, period, level, budget
ORDER BY entity, period, level"""


def cost_outliers_sql(
    by: str | Sequence[str] = ("model", "task_type"), threshold: float = 3.5, min_group: int = 20
) -> str:
    """Calls whose log cost is a robust outlier within their group (same model and task).

    Mirrors :func:`showcase_lib.analysis.anomalies.cost_outliers`. The group statistics are
    two small aggregates; the calls are scanned once more to score and filter them.

    Example:
        >>> "ln(cost_usd)" in cost_outliers_sql()
        True
    """
    dims = _dims(by)
    g = ", ".join(_col(d) for d in dims)
    logc = "CASE WHEN cost_usd > 0 THEN ln(cost_usd) END"
    return f"""-- per-call cost outliers: modified z-score of log(cost) within ({", ".join(dims)})
WITH center AS (  -- median and MAD of log cost per group, in one pass
    SELECT {g}, median({logc}) AS med, mad({logc}) AS mad, count(*) AS n FROM calls GROUP BY ALL
),
flat AS (  -- groups whose MAD is 0 fall back to the mean absolute deviation (rare: a second pass)
    SELECT {g}, avg(abs({logc} - c.med)) AS meanad
    FROM calls JOIN (SELECT * FROM center WHERE mad = 0) AS c USING ({g}) GROUP BY ALL
),
stats AS (
    SELECT {g}, med, exp(med) AS group_median_cost,
           CASE WHEN mad > 0 THEN mad / 0.6745 ELSE 1.253314 * meanad END AS scale
    FROM center LEFT JOIN flat USING ({g})
    WHERE n >= {int(min_group)}
),
cutoff AS (  -- the score test as a cost per group: cheap to apply to every call
    SELECT *, exp(med + {float(threshold)!r} * scale) AS min_cost FROM stats WHERE scale > 0
)
SELECT calls.*, s.group_median_cost,
       (ln(cost_usd) - s.med) / s.scale AS score,
       cost_usd / s.group_median_cost AS cost_ratio
FROM calls JOIN cutoff AS s USING ({g})
WHERE cost_usd >= s.min_cost * (1 - 1e-12)
  AND (ln(cost_usd) - s.med) / s.scale > {float(threshold)!r}
ORDER BY score DESC"""


# --------------------------------------------------------------------------- comparison
@dataclass
class Comparison:
    """Outcome of :func:`compare`: truthy when both results agree."""

    ok: bool
    rows: int
    columns: list[str]
    max_abs_diff: float = 0.0
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


def _normalise(frame: pd.DataFrame | pd.Series, like: pd.DataFrame | None = None) -> pd.DataFrame:
    if isinstance(frame, pd.Series):
        if like is not None and set(map(str, frame.index)) <= set(like.columns):
            return frame.to_frame().T.reset_index(drop=True)
        frame = frame.to_frame()
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()
    else:
        frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _key(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        d = pd.to_datetime(s, utc=True)
        return pd.Series(
            d.dt.tz_convert("UTC").astype("datetime64[ns, UTC]").to_numpy(), index=s.index
        )
    return s.astype(str)


def compare(
    expected: pd.DataFrame | pd.Series,
    actual: pd.DataFrame,
    *,
    keys: Sequence[str] | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-9,
) -> Comparison:
    """Compare a pandas result with a DuckDB result, ignoring row order and index placement.

    ``expected``'s named index becomes columns; every column of ``expected`` must exist in
    ``actual``. Key columns (default: the non-numeric ones) are matched after sorting;
    numbers must agree within ``rtol``/``atol`` (NaN equals NaN/NULL), other values exactly.

    Example:
        >>> a = pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0]}).set_index("k")
        >>> b = pd.DataFrame({"k": ["y", "x"], "v": [2.0, 1.0 + 1e-12]})
        >>> bool(compare(a, b))
        True
    """
    e = _normalise(expected, actual)
    a = _normalise(actual)
    problems: list[str] = []
    missing = [c for c in e.columns if c not in a.columns]
    if missing:
        return Comparison(
            False,
            len(e),
            list(e.columns),
            problems=[f"columns {missing} missing from the SQL result"],
        )
    a = a[list(e.columns)]
    if len(e) != len(a):
        problems.append(f"row counts differ: pandas {len(e)}, SQL {len(a)}")
        return Comparison(False, len(e), list(e.columns), problems=problems)
    numeric = [
        c
        for c in e.columns
        if pd.api.types.is_numeric_dtype(e[c]) and not pd.api.types.is_bool_dtype(e[c])
    ]
    keys = list(keys) if keys is not None else [c for c in e.columns if c not in numeric]
    if keys:
        ek = pd.DataFrame({k: _key(e[k]) for k in keys})
        ak = pd.DataFrame({k: _key(a[k]) for k in keys})
        e = e.loc[ek.sort_values(keys, kind="mergesort").index].reset_index(drop=True)
        a = a.loc[ak.sort_values(keys, kind="mergesort").index].reset_index(drop=True)
    worst = 0.0
    for c in e.columns:
        if c in numeric:
            x = pd.to_numeric(e[c], errors="coerce").to_numpy(dtype=float)
            y = pd.to_numeric(a[c], errors="coerce").to_numpy(dtype=float)
            close = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
            both_inf = np.isinf(x) & np.isinf(y) & (np.sign(x) == np.sign(y))
            bad = ~(close | both_inf)
            finite = np.isfinite(x) & np.isfinite(y)
            if finite.any():
                worst = max(worst, float(np.max(np.abs(x[finite] - y[finite]))))
            if bad.any():
                i = int(np.argmax(bad))
                problems.append(
                    f"column {c!r}: {int(bad.sum())} values differ (row {i}: pandas {x[i]!r}, SQL {y[i]!r})"
                )
        else:
            x, y = _key(e[c]), _key(a[c])
            bad = ~((x == y) | (x.isna() & y.isna()))
            if bad.any():
                i = int(np.argmax(bad.to_numpy()))
                problems.append(
                    f"column {c!r}: {int(bad.sum())} values differ (row {i}: pandas {x.iloc[i]!r}, SQL {y.iloc[i]!r})"
                )
    return Comparison(not problems, len(e), list(e.columns), worst, problems)


def to_long(matrix: pd.DataFrame, name: str) -> pd.DataFrame:
    """A (periods x entities) matrix as long rows ``period, entity, <name>`` (NaN kept), the
    shape the SQL versions of the anomaly scores return.

    Example:
        >>> m = pd.DataFrame({"a": [1.0]}, index=pd.Index([0], name="period"))
        >>> to_long(m, "z").values.tolist()
        [[0, 'a', 1.0]]
    """
    out = matrix.stack(future_stack=True).rename(name).reset_index()
    out.columns = ["period", "entity", name]
    out["entity"] = out["entity"].astype(str)
    return out


def assert_same(expected: pd.DataFrame | pd.Series, actual: pd.DataFrame, **kwargs) -> Comparison:
    """:func:`compare`, raising ``AssertionError`` with the differences when they disagree.

    Example:
        >>> assert_same(pd.Series({"a": 1.0}), pd.DataFrame({"a": [1.0]})).rows
        1
    """
    result = compare(expected, actual, **kwargs)
    if not result:
        raise AssertionError("pandas and DuckDB disagree: " + "; ".join(result.problems))
    return result
