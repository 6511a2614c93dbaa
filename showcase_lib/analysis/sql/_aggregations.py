"""SQL of the aggregation patterns; mirrors :mod:`showcase_lib.analysis.aggregations`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ._common import _col, _dims, _indent, _lit, _qname


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
WITH bins AS (  -- a VALUES list named in FROM: column lists on a CTE do not carry over to every warehouse
    SELECT * FROM (VALUES {rows}) AS v(i, "left", "right")
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
