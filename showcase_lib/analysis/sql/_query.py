"""One entry point for the SQL text of every pattern, by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal, get_args

from ._aggregations import (
    by_dimension_sql,
    concentration_sql,
    distribution_sql,
    percentiles_sql,
    plan_csv_sql,
    token_efficiency_sql,
    top_n_sql,
)
from ._anomalies import (
    budget_alerts_sql,
    cost_matrix_sql,
    cost_outliers_sql,
    cusum_sql,
    robust_zscore_sql,
    rolling_zscore_sql,
    spikes_sql,
    threshold_alerts_sql,
)
from ._kinds import cost_by_kind_sql, drivers_sql, tier_mix_sql
from ._timeseries import aggregate_sql, growth_rates_sql, month_to_date_sql, trend_sql

#: The pattern names, each named after the pandas function it mirrors.
Pattern = Literal[
    # time series (showcase_lib.analysis.timeseries)
    "aggregate",
    "growth_rates",
    "month_to_date",
    "trend",
    # aggregations (showcase_lib.analysis.aggregations)
    "percentiles",
    "by_dimension",
    "top_n",
    "concentration",
    "token_efficiency",
    "distribution",
    "plan_csv",
    "cost_by_kind",
    "tier_mix",
    # anomalies (showcase_lib.analysis.anomalies)
    "cost_matrix",
    "rolling_zscore",
    "robust_zscore",
    "spikes",
    "cusum",
    "threshold_alerts",
    "budget_alerts",
    "cost_outliers",
    "drivers",
]

_BUILDERS: Final[dict[str, Callable[..., str]]] = {
    "aggregate": aggregate_sql,
    "growth_rates": growth_rates_sql,
    "month_to_date": month_to_date_sql,
    "trend": trend_sql,
    "percentiles": percentiles_sql,
    "by_dimension": by_dimension_sql,
    "top_n": top_n_sql,
    "concentration": concentration_sql,
    "token_efficiency": token_efficiency_sql,
    "distribution": distribution_sql,
    "plan_csv": plan_csv_sql,
    "cost_matrix": cost_matrix_sql,
    "rolling_zscore": rolling_zscore_sql,
    "robust_zscore": robust_zscore_sql,
    "spikes": spikes_sql,
    "cusum": cusum_sql,
    "threshold_alerts": threshold_alerts_sql,
    "budget_alerts": budget_alerts_sql,
    "cost_outliers": cost_outliers_sql,
    "cost_by_kind": cost_by_kind_sql,
    "tier_mix": tier_mix_sql,
    "drivers": drivers_sql,
}
assert set(_BUILDERS) == set(get_args(Pattern)), "every pattern name has one builder"


def query(pattern: Pattern, *args: object, **params: object) -> str:
    """The SQL text of one pattern, with the same parameters as the pandas function it mirrors.

    Time series: ``aggregate(freq, by, kinds=, costs=)``, ``growth_rates(freq,
    complete_only=)``, ``month_to_date(asof)``, ``trend(window)``. Aggregations:
    ``percentiles(column, q, by=)``, ``by_dimension(by, q)``, ``top_n(by, n, metric)``,
    ``concentration(by, top)``, ``token_efficiency(by)``, ``distribution(column, edges)``,
    ``plan_csv(dimension, value)``, ``cost_by_kind(by, costs=)`` (``by_dimension(view="kinds")``),
    ``tier_mix(by)`` (``view="tiers"``).
    Anomalies: ``cost_matrix(by, freq)``, ``rolling_zscore(by, freq, window, min_periods)``,
    ``robust_zscore(...)`` (same), ``spikes(config)`` and ``cusum(config)`` (a
    ``DetectorConfig``), ``threshold_alerts(threshold, by, freq)``,
    ``budget_alerts(budgets, by=, levels=, freq=)``, ``cost_outliers(by, threshold=, ...)``,
    ``drivers(current, previous, by)`` (what moved a cost: calls, a token kind, the price).

    Example:
        >>> print(query("trend", 7).splitlines()[0])
        -- daily cost, trailing 7-day mean, and the OLS trend line
        >>> query("tend")
        Traceback (most recent call last):
        ...
        ValueError: pattern='tend' is not one of aggregate, budget_alerts, by_dimension, concentration, cost_by_kind, cost_matrix, cost_outliers, cusum, distribution, drivers, growth_rates, month_to_date, percentiles, plan_csv, robust_zscore, rolling_zscore, spikes, threshold_alerts, tier_mix, token_efficiency, top_n, trend
    """
    build = _BUILDERS.get(pattern)
    if build is None:
        raise ValueError(f"pattern={pattern!r} is not one of {', '.join(sorted(_BUILDERS))}")
    return build(*args, **params)
