"""SQL of the time-series patterns; mirrors :mod:`showcase_lib.analysis.timeseries`."""

from __future__ import annotations

import pandas as pd

from showcase_lib.analysis._aggregations import KIND_COSTS

from ._common import _col, _indent, _interval, _lit, _period
from ._kinds import kind_rates_sql, kind_sums_sql


def aggregate_sql(
    freq: str = "day", by: str | None = None, *, kinds: bool = False, costs: bool = True
) -> str:
    """Calls, cost and tokens per period (every period of the calendar, empty ones = 0).

    Mirrors :func:`showcase_lib.analysis.timeseries.aggregate`; ``kinds=True`` adds the token
    taxonomy (cache reads and writes, reasoning, the cost by kind unless ``costs=False``, the
    cache hit rate and the reasoning share, NULL in empty periods).

    Example:
        >>> "utc_trunc('week', timestamp)" in aggregate_sql("weekly")
        True
        >>> "cache_hit_rate" in aggregate_sql("day", kinds=True)
        True
    """
    if kinds:
        return _aggregate_kinds_sql(freq, by, costs)
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
    SELECT s.period  -- every period from the first to the last (an unnest in FROM: portable)
    FROM (SELECT min(period) AS lo, max(period) AS hi FROM base) AS b
    CROSS JOIN unnest(generate_series(b.lo, b.hi, {_interval(f)})) AS s(period)
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


def _aggregate_kinds_sql(freq: str, by: str | None, costs: bool) -> str:
    f, trunc = _period(freq)
    dim = f", {_col(by)}" if by else ""
    key = f"period{dim}"
    grid = f"calendar CROSS JOIN (SELECT DISTINCT {_col(by)} FROM base) AS v" if by else "calendar"
    extra = ["cache_read_tokens", "cache_write_tokens", "reasoning_tokens"]
    filled = ",\n".join(
        f"coalesce(b.{c}, 0) AS {c}"
        for c in ["calls", "cost_usd", "input_tokens", "output_tokens", *extra]
        + (list(KIND_COSTS) if costs else [])
    )
    return f"""-- calls, cost and every token kind per {f} (UTC){" and " + by if by else ""}; empty periods count 0
WITH base AS (
    SELECT {trunc} AS period{dim},
           count(*) AS calls,
           sum(cost_usd) AS cost_usd,
{_indent(kind_sums_sql(costs), 11)}
    FROM calls
    GROUP BY ALL
),
calendar AS (
    SELECT s.period  -- every period from the first to the last (an unnest in FROM: portable)
    FROM (SELECT min(period) AS lo, max(period) AS hi FROM base) AS b
    CROSS JOIN unnest(generate_series(b.lo, b.hi, {_interval(f)})) AS s(period)
),
filled AS (
    SELECT {key},
{_indent(filled, 11)}
    FROM {grid}
    LEFT JOIN base AS b USING ({key})
)
SELECT *, input_tokens + output_tokens AS total_tokens,
{_indent(kind_rates_sql(), 7)}
FROM filled
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
        ",\n       cost_usd / nullif(lag(cost_usd, 7) OVER (ORDER BY period), 0) - 1 AS same_day_last_week"
        if f == "day"
        else ""
    )
    keep = (
        "WHERE period >= (SELECT date_trunc('day', min(timestamp)) FROM calls)\n"
        "  AND period + " + _interval(f) + " - INTERVAL 1 day"
        " <= (SELECT date_trunc('day', max(timestamp)) FROM calls)"
        if complete_only and f in ("week", "month")
        else ""
    )
    return f"""-- {f}-over-{f} change of cost (a change from 0 is undefined: NULL)
WITH per_period AS (
{_indent(aggregate_sql(f))}
)
SELECT period, cost_usd,
       cost_usd - lag(cost_usd) OVER (ORDER BY period) AS change,
       cost_usd / nullif(lag(cost_usd) OVER (ORDER BY period), 0) - 1 AS growth{last_week}
FROM per_period
{keep}
ORDER BY period"""


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
    frame = f"ORDER BY period ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW"  # inline: named windows do not transpile everywhere
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
       CASE WHEN count(*) OVER ({frame}) = {w} THEN avg(actual) OVER ({frame}) END AS rolling_mean,
       intercept + slope * day AS linear
FROM numbered, fit
ORDER BY period"""
