"""SQL of the token-taxonomy patterns: cost by token kind, cache hit rate, reasoning share, tier
mix and the drivers of a cost change. Mirrors ``by_dimension(view="kinds" | "tiers")`` of
:mod:`showcase_lib.analysis.aggregations` and :func:`showcase_lib.analysis.anomalies.drivers`.

The cost by kind is read from the columns ``cost_input ... cost_reasoning`` of the view: register
``calls.join(pricing.cost_breakdown(calls).add_prefix("cost_"))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from showcase_lib.analysis._aggregations import KIND_COSTS, KIND_TOKENS, KINDS

from ._common import _col, _dims, _indent, _lit

#: The drivers in the order of ``anomalies.drivers`` (ties go to the first).
_DRIVERS = ("calls", "input", "cache_read", "cache_write", "output", "reasoning", "price")


def kind_sums_sql(costs: bool = True) -> str:
    """The select list of the token sums (and the cost by kind) of one group.

    Example:
        >>> "::BIGINT AS cache_read_tokens" in kind_sums_sql()
        True
    """
    lines = [f"sum({_col(c)})::BIGINT AS {c}" for c in KIND_TOKENS]
    lines += [f"sum({c}) AS {c}" for c in KIND_COSTS] if costs else []
    return ",\n".join(lines)


def kind_rates_sql() -> str:
    """``cache_hit_rate`` and ``reasoning_share`` from the token sums (NULL on a zero
    denominator).

    Example:
        >>> "nullif(input_tokens, 0)" in kind_rates_sql()
        True
    """
    return (
        "cache_read_tokens / nullif(input_tokens, 0) AS cache_hit_rate,\n"
        "reasoning_tokens / nullif(output_tokens, 0) AS reasoning_share"
    )


def cost_by_kind_sql(by: str | Sequence[str], *, costs: bool = True) -> str:
    """Calls, cost, tokens and cost by token kind, cache hit rate, reasoning share and share of
    the total cost per group, largest total first. Mirrors
    ``aggregations.by_dimension(calls, by, view="kinds")``; ``costs=False`` leaves out the
    ``cost_<kind>`` columns.

    Example:
        >>> print(cost_by_kind_sql("feature_id").splitlines()[0])
        -- cost by token kind, cache hit rate and reasoning share by feature_id
    """
    dims = ", ".join(_col(d) for d in _dims(by))
    kind_costs = "".join(f", {c}" for c in KIND_COSTS) if costs else ""
    return f"""-- cost by token kind, cache hit rate and reasoning share by {", ".join(_dims(by))}
SELECT {dims}, calls, total_cost, {", ".join(KIND_TOKENS)}{kind_costs},
{_indent(kind_rates_sql(), 7)},
       total_cost / sum(total_cost) OVER () AS share
FROM (
    SELECT {dims},
           count(*) AS calls,
           sum(cost_usd) AS total_cost,
{_indent(kind_sums_sql(costs), 11)}
    FROM calls
    GROUP BY ALL
)
ORDER BY total_cost DESC, calls DESC"""


def tier_mix_sql(by: str | Sequence[str] | None = None) -> str:
    """Calls and cost per service tier with the tier's share of its group. Mirrors
    ``aggregations.tier_mix`` (``by_dimension(calls, by, view="tiers")``).

    Example:
        >>> "PARTITION BY \\"model\\"" in tier_mix_sql("model")
        True
    """
    dims = [_col(d) for d in _dims(by)] if by is not None else []
    keys = ", ".join([*dims, '"service_tier"'])
    part = f"PARTITION BY {', '.join(dims)}" if dims else ""
    return f"""-- tier mix{" by " + ", ".join(_dims(by)) if dims else ""}: calls and cost per service tier
SELECT {keys}, calls, total_cost,
       calls / sum(calls) OVER ({part}) AS call_share,
       total_cost / sum(total_cost) OVER ({part}) AS cost_share
FROM (
    SELECT {keys}, count(*) AS calls, sum(cost_usd) AS total_cost
    FROM calls
    GROUP BY ALL
)
ORDER BY {keys}"""


def _window(w: tuple) -> str:
    start, end = (pd.Timestamp(x) for x in w)
    return f"timestamp >= {_lit(start)} AND timestamp < {_lit(end)}"


def drivers_sql(current: tuple, previous: tuple, by: str | None = None) -> str:
    """The change of cost from ``previous`` to ``current`` split into calls, each token kind
    and the price, per value of ``by``. Mirrors :func:`showcase_lib.analysis.anomalies.drivers`
    (the ``cost_<kind>`` columns hold the cost at fixed prices; the previous window is scaled
    to the current one's length).

    Example:
        >>> q = drivers_sql(("2026-02-01", "2026-02-08"), ("2026-01-25", "2026-02-01"))
        >>> "list_position" in q and "AS price" in q
        True
    """
    cur_w, prev_w = (
        tuple(
            pd.Timestamp(x).tz_localize("UTC")
            if pd.Timestamp(x).tzinfo is None
            else pd.Timestamp(x)
            for x in w
        )
        for w in (current, previous)
    )
    for name, (s, e) in (("current", cur_w), ("previous", prev_w)):
        if e <= s:
            raise ValueError(f"{name}=({s}, {e}) is empty: end must be after start")
    scale = repr(float((cur_w[1] - cur_w[0]) / (prev_w[1] - prev_w[0])))
    dim = _col(_dims(by)[0]) if by else None
    cur, prev = _window(cur_w), _window(prev_w)
    sums = ["cost_usd", *KIND_TOKENS, *KIND_COSTS]
    # one pass over the calls: each call is labelled with its window once and summed per
    # (entity, window) with plain sums; the two windows are then put side by side on the
    # grouped rows (a FILTER per sum on every call would test the window 24 times a call)
    per_window = ",\n".join(["count(*) AS n"] + [f"sum({c}) AS {c}" for c in sums])
    select = ",\n".join(
        [
            "coalesce(sum(n) FILTER (WHERE w = 'c'), 0)::DOUBLE AS n_c",
            f"{scale} * coalesce(sum(n) FILTER (WHERE w = 'b'), 0) AS n_b",
        ]
        + [f"sum({c}) FILTER (WHERE w = 'c')::DOUBLE AS {c}_c" for c in sums]
        + [f"{scale} * coalesce(sum({c}) FILTER (WHERE w = 'b'), 0) AS {c}_b" for c in sums]
    )
    entity = f"CAST({dim} AS VARCHAR)" if by else "'total'"
    grouped = f"{dim}, " if by else ""
    fb = " + ".join(f"cost_{k}_b" for k in KINDS)
    fc = " + ".join(f"coalesce(cost_{k}_c, 0)" for k in KINDS)
    per_call = ",\n".join(
        f"CASE WHEN n_{w} > 0 THEN coalesce(cost_{k}_{w}, 0) / n_{w} ELSE 0 END AS p{w}_{k}"
        for w in ("b", "c")
        for k in KINDS
    )
    unit = ",\n".join(
        f"CASE WHEN n_b > 0 THEN n_c * (pc_{k} - pb_{k}) ELSE 0 END AS u_{k}" for k in KINDS
    )
    in_b = "pb_input + pb_cache_read + pb_cache_write"
    share = (
        "coalesce(abs({t}_c / nullif(input_tokens_c, 0) - {t}_b / nullif(input_tokens_b, 0)), 0)"
    )
    contrib = ", ".join(_DRIVERS)
    names = "[" + ", ".join(f"'{d}'" for d in _DRIVERS) + "]"
    return f"""-- what moved the cost of each {by or "total"}: calls, token kinds or the price
WITH windows AS (  -- per {by or "total"} and window: calls and sums, in one pass
    SELECT {grouped}CASE WHEN {cur} THEN 'c' ELSE 'b' END AS w,
{_indent(per_window, 11)}
    FROM calls
    WHERE ({cur}) OR ({prev})
    GROUP BY ALL
),
sums AS (  -- the current ('c') and previous ('b', scaled to the current length) side by side
    SELECT {entity} AS entity,
{_indent(select, 11)}
    FROM windows
    GROUP BY ALL
),
per_call AS (
    SELECT *,
           coalesce(cost_usd_c, 0) AS a_c, cost_usd_b AS a_b,
           {fc} AS f_c,
           {fb} AS f_b,
           CASE WHEN n_b > 0 THEN input_tokens_b / n_b ELSE 0 END AS t_b,
           CASE WHEN n_c > 0 THEN coalesce(input_tokens_c, 0) / n_c ELSE 0 END AS t_c,
           {share.format(t="cache_read_tokens")} AS moved_read,
           {share.format(t="cache_write_tokens")} AS moved_write,
{_indent(per_call, 11)}
    FROM sums
),
unit AS (
    SELECT *,
{_indent(unit, 11)}
    FROM per_call
),
parts AS (
    SELECT entity, a_b AS previous, a_c AS current, a_c - a_b AS change,
           CASE WHEN n_b > 0 THEN (n_c - n_b) * (pb_input + pb_cache_read + pb_cache_write
                                                 + pb_output + pb_reasoning)
                ELSE f_c - f_b END AS calls,
           CASE WHEN n_b > 0 AND t_b > 0 THEN n_c * (t_c / t_b - 1) * ({in_b})
                ELSE u_input + u_cache_read + u_cache_write END AS input,
           u_input + u_cache_read + u_cache_write AS input_side,
           moved_read >= moved_write AS reads,
           u_output AS output, u_reasoning AS reasoning,
           (a_c - f_c) - (a_b - f_b) AS price
    FROM unit
),
split AS (
    SELECT entity, previous, current, change, calls, input,
           CASE WHEN reads THEN input_side - input ELSE 0 END AS cache_read,
           CASE WHEN reads THEN 0 ELSE input_side - input END AS cache_write,
           output, reasoning, price
    FROM parts
)
SELECT entity AS {_col(by) if by else "entity"}, previous, current, change, {contrib},
       change - price AS usage,
       {names}[list_position(
           list_transform([{contrib}], x -> x * CASE WHEN change < 0 THEN -1 ELSE 1 END),
           list_max(list_transform([{contrib}], x -> x * CASE WHEN change < 0 THEN -1 ELSE 1 END))
       )] AS driver
FROM split
ORDER BY entity"""
