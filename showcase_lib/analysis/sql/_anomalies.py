"""SQL of the anomaly patterns; mirrors :mod:`showcase_lib.analysis.anomalies`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from showcase_lib.analysis._timeseries import bucket
from showcase_lib.analysis.anomalies import DetectorConfig

from ._common import _col, _dims, _indent, _interval, _lit, _period

#: The value a detector watches, per (period, entity) row of ``per`` (``p``) joined to the
#: calendar (``c``, ``e``): ``DetectorConfig.metric``. The two ratios keep the previous
#: period's value where a period has no calls (``IGNORE NULLS``), 0 before the first call.
_METRIC_SQL = {
    "cost_usd": "coalesce(p.cost, 0)",
    "calls": "coalesce(p.calls, 0)::DOUBLE",
    "cost_per_call": "p.cost / p.calls",
    "calls_per_request": "p.calls / p.requests",
}


def cost_matrix_sql(
    by: str | None = "customer_id", freq: str = "day", metric: str = "cost_usd"
) -> str:
    """Cost and calls per (period, entity), zero-filled over the calendar x entities grid,
    with a period number ``t``. The long form of
    :func:`showcase_lib.analysis.anomalies.cost_matrix` (``metric="cost_usd"`` and ``"calls"``);
    with another ``metric`` of ``DetectorConfig`` the ``cost`` column holds that metric.

    Example:
        >>> "CROSS JOIN" in cost_matrix_sql()
        True
        >>> "IGNORE NULLS" in cost_matrix_sql(metric="cost_per_call")
        True
    """
    f, trunc = _period(freq)
    ent = f"{_col(_dims(by)[0])}::VARCHAR" if by else "'total'"
    if metric not in _METRIC_SQL:
        raise ValueError(f"metric={metric!r} is not one of {', '.join(_METRIC_SQL)}")
    value = _METRIC_SQL[metric]
    if metric in ("cost_per_call", "calls_per_request"):
        value = (
            f"coalesce(last_value({value} IGNORE NULLS) OVER (PARTITION BY e.entity "
            "ORDER BY c.period ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0)"
        )
    requests = ", count(DISTINCT request_id) AS requests" if metric == "calls_per_request" else ""
    return f"""WITH per AS (
    SELECT {trunc} AS period, {ent} AS entity, sum(cost_usd) AS cost, count(*) AS calls{requests}
    FROM calls GROUP BY ALL
),
calendar AS (
    SELECT s.period  -- every period from the first to the last (an unnest in FROM: portable)
    FROM (SELECT min(period) AS lo, max(period) AS hi FROM per) AS b
    CROSS JOIN unnest(generate_series(b.lo, b.hi, {_interval(f)})) AS s(period)
)
SELECT c.period, e.entity, {value} AS cost, coalesce(p.calls, 0)::DOUBLE AS calls,
       (row_number() OVER (PARTITION BY e.entity ORDER BY c.period) - 1) AS t
FROM calendar AS c
CROSS JOIN (SELECT DISTINCT entity FROM per) AS e
LEFT JOIN per AS p ON p.period = c.period AND p.entity = e.entity"""


def rolling_zscore_sql(
    by: str | None = "customer_id", freq: str = "day", window: int = 14, min_periods: int = 7
) -> str:
    """z-score of each period's cost against the mean and std of the previous ``window``
    periods (window excludes the current row). Mirrors
    :func:`showcase_lib.analysis.anomalies.score` (``"rolling"``) on the cost matrix.

    Example:
        >>> "1 PRECEDING" in rolling_zscore_sql()
        True
    """
    w, mp = int(window), int(min_periods)
    frame = f"PARTITION BY entity ORDER BY period ROWS BETWEEN {w} PRECEDING AND 1 PRECEDING"
    return f"""-- rolling z-score: (cost - mean of previous {w}) / std of previous {w}
WITH m AS (
{_indent(cost_matrix_sql(by, freq))}
)
SELECT period, entity, cost,
       CASE WHEN count(cost) OVER ({frame}) >= {mp} AND stddev_samp(cost) OVER ({frame}) > 0
            THEN (cost - avg(cost) OVER ({frame})) / stddev_samp(cost) OVER ({frame}) END AS z
FROM m
ORDER BY period, entity"""


def _robust_cte(
    by: str | None, freq: str, window: int, min_periods: int, metric: str = "cost_usd"
) -> str:
    """CTEs ``m`` (the matrix of ``metric``) and ``scored``: per (period, entity) the trailing
    median and MAD-based scale of the metric and of calls, and whether the entity is
    established."""
    w, mp = int(window), int(min_periods)
    return f"""m AS (
{_indent(cost_matrix_sql(by, freq, metric))}
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
    :func:`showcase_lib.analysis.anomalies.score` (``"robust"``) on the cost matrix.

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


def spikes_sql(config: DetectorConfig | None = None) -> str:
    """The spike rule: robust score above ``threshold`` AND ``min_ratio`` x expected AND
    ``min_abs`` above it, confirmed by calls, for established entities. Mirrors
    ``spike_alerts(spike_scores(...))`` of :mod:`showcase_lib.analysis.anomalies` with the
    same :class:`~showcase_lib.analysis.anomalies.DetectorConfig`.

    Example:
        >>> "calls_ratio >=" in spikes_sql()
        True
    """
    cfg = config or DetectorConfig()
    by, freq, window, min_periods = cfg.by, cfg.freq, cfg.window, cfg.min_periods
    confirm, min_abs, require_history = cfg.confirm, cfg.min_abs, cfg.require_history
    t, r = float(cfg.threshold), float(cfg.min_ratio)
    if cfg.metric != "cost_usd":  # as alerts(): confirming is for spend, ratios have no floor
        confirm = None
        min_abs = 0.0 if cfg.metric in ("cost_per_call", "calls_per_request") else min_abs
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
WITH {_robust_cte(by, freq, window, min_periods, cfg.metric)},
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


def cusum_sql(config: DetectorConfig | None = None) -> str:
    """Upper CUSUM of clipped robust scores in closed form (window functions only):
    ``S = C - least(0, min(C) so far)`` with ``C`` the running sum of ``least(z, clip) - k``
    (``cusum_clip``, ``cusum_k`` of the config); ``alarm`` marks the first period of each
    excursion above ``cusum_h``. Mirrors
    ``cusum(shift_scores(cost_matrix(calls)))`` of :mod:`showcase_lib.analysis.anomalies`
    (``anomalies.score(m, "cusum")``, the statistic behind the shift rule).

    Example:
        >>> "least(0, min(c)" in cusum_sql()
        True
    """
    cfg = config or DetectorConfig()
    by, freq, window, min_periods = cfg.by, cfg.freq, cfg.window, cfg.min_periods
    k, clip, h = cfg.cusum_k, cfg.cusum_clip, cfg.cusum_h
    return f"""-- CUSUM of clipped robust scores: a sustained shift, not one spike
WITH {_robust_cte(by, freq, window, min_periods, cfg.metric)},
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

    Mirrors ``anomalies.alerts(calls, "threshold", limit=...)``.

    Example:
        >>> "excess" in threshold_alerts_sql(100.0)
        True
    """
    if isinstance(threshold, Mapping):
        rows = ", ".join(f"({_lit(str(k))}, {float(v)!r})" for k, v in threshold.items())
        thr = f"thresholds AS (SELECT * FROM (VALUES {rows}) AS v(entity, threshold)),\n"
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
    budget. Mirrors ``anomalies.alerts(calls, "budget", limit=...)``.

    Two steps keep it fast on big tables: daily totals find the day of each crossing, then a
    running sum over that day's calls only (ordered by timestamp, then call id) finds the call.
    Each call is keyed by its column as stored and its UTC day; the text of the entity and
    the period are computed on the daily totals only (not cast for every call).

    Example:
        >>> "ROWS UNBOUNDED PRECEDING" in budget_alerts_sql(100.0)
        True
    """
    f, trunc = _period(freq)
    key = _col(_dims(by)[0]) if by else "'total'"
    c_key = f"c.{_col(_dims(by)[0])}" if by else "'total'"
    # a period of whole days is a function of the day: computed per (entity, day), not per call
    whole_days = f in ("day", "week", "month") or (
        bucket(f).width is not None and bucket(f).width % pd.Timedelta(days=1) == pd.Timedelta(0)
    )
    period_of = trunc.replace("timestamp", "day") if whole_days else "period"
    per_call_period = "" if whole_days else f", {trunc} AS period"
    if isinstance(budgets, Mapping):
        rows = ", ".join(f"({_lit(str(k))}, {float(v)!r})" for k, v in budgets.items())
        bud, join = (
            f"budgets AS (SELECT * FROM (VALUES {rows}) AS v(entity, budget)),\n",
            "JOIN budgets USING (entity)",
        )
    else:
        bud, join = "", f"CROSS JOIN (SELECT {float(budgets)!r} AS budget)"
    lv = ", ".join(f"({float(x)!r})" for x in levels)
    return f"""-- budget alerts: when period-to-date spend first crossed each level
WITH {bud}levels AS (SELECT * FROM (VALUES {lv}) AS v(level)),
per_day AS (  -- spend per entity (as stored) and UTC day
    SELECT {key} AS key, utc_trunc('day', timestamp) AS day{per_call_period},
           sum(cost_usd) AS cost
    FROM calls GROUP BY ALL
),
daily AS (  -- step 1: running total within the period, on the daily rows
    SELECT key, entity, period, day, cost,
           sum(cost) OVER (PARTITION BY key, period ORDER BY day) AS cum_day
    FROM (SELECT key, key::VARCHAR AS entity, day, cost, {period_of} AS period FROM per_day) AS d
),
crossing_day AS (  -- the first day each level was reached, and the spend before that day
    SELECT key, entity, period, level, budget,
           min(day) AS day, arg_min(cum_day - cost, day) AS before
    FROM daily {join} JOIN levels ON cum_day >= level * budget
    GROUP BY key, entity, period, level, budget
),
running AS (  -- step 2: running total over that day's calls only
    SELECT d.entity, d.period, d.level, d.budget, c.timestamp, c.call_id,
           d.before + sum(c.cost_usd) OVER (PARTITION BY d.entity, d.period, d.level
                                            ORDER BY c.timestamp, c.call_id
                                            ROWS UNBOUNDED PRECEDING) AS cum
    FROM calls AS c
    JOIN crossing_day AS d ON {c_key} = d.key
                          AND utc_trunc('day', c.timestamp) = d.day
)
SELECT entity, period, level, budget,
       min(timestamp) AS crossed_at,  -- the first call at or over the level:
       arg_min(cum, (timestamp, call_id)) AS spend_at_crossing  -- (min_by in warehouses)
FROM running
WHERE cum >= level * budget
GROUP BY entity, period, level, budget
ORDER BY entity, period, level"""


def cost_outliers_sql(
    by: str | Sequence[str] = ("model", "task_type"), threshold: float = 3.5, min_group: int = 20
) -> str:
    """Calls whose log cost is a robust outlier within their group (same model and task).

    Mirrors :func:`showcase_lib.analysis.anomalies.cost_outliers`, with the columns that name
    and explain a call (``call_id``, the group, ``cost_usd``, ``group_median_cost, score,
    cost_ratio``) rather than every column of the record: on Parquet each column read is that
    column of every row group (join the result back on ``call_id`` for more). The group
    statistics are two small aggregates; the calls are scanned once more against one cost per
    group (the score test turned into a cost: no logarithm per call), and only the few calls
    over it are scored. That pass joins the calls to the narrowest table it can (the group
    and its cost), so DuckDB builds its hash table on the groups even when it cannot tell how
    many calls there are (a registered frame is estimated at one row).

    Example:
        >>> "ln(cost_usd)" in cost_outliers_sql()
        True
    """
    dims = _dims(by)
    g = ", ".join(_col(d) for d in dims)
    shown = ", ".join(f"calls.{_col(c)}" for c in dict.fromkeys(["call_id", *dims, "cost_usd"]))
    logc = "CASE WHEN cost_usd > 0 THEN ln(cost_usd) END"
    t = float(threshold)
    return f"""-- per-call cost outliers: modified z-score of log(cost) within ({", ".join(dims)})
WITH center AS (  -- median and MAD of log cost per group, in one pass
    SELECT {g}, median({logc}) AS med, mad({logc}) AS mad, count(*) AS n FROM calls GROUP BY ALL
),
flat AS (  -- groups whose MAD is 0 fall back to the mean absolute deviation (rare: a second pass)
    SELECT {g}, avg(abs({logc} - c.med)) AS meanad
    FROM calls JOIN (SELECT {g}, med FROM center WHERE mad = 0) AS c USING ({g}) GROUP BY ALL
),
stats AS (
    SELECT {g}, med, exp(med) AS group_median_cost,
           CASE WHEN mad > 0 THEN mad / 0.6745 ELSE 1.253314 * meanad END AS scale
    FROM center LEFT JOIN flat USING ({g})
    WHERE n >= {int(min_group)}
),
cutoff AS (  -- the score test as a cost per group: cheap to apply to every call
    SELECT {g}, exp(med + {t!r} * scale) * (1 - 1e-12) AS min_cost FROM stats WHERE scale > 0
),
candidates AS (  -- the calls at or over their group's cost (a few per thousand)
    SELECT {shown}
    FROM calls JOIN cutoff AS s USING ({g})
    WHERE calls.cost_usd >= s.min_cost
)
SELECT c.*, s.group_median_cost,
       (ln(c.cost_usd) - s.med) / s.scale AS score,
       c.cost_usd / s.group_median_cost AS cost_ratio
FROM candidates AS c JOIN stats AS s USING ({g})
WHERE (ln(c.cost_usd) - s.med) / s.scale > {t!r}
ORDER BY score DESC"""
