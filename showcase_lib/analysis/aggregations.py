"""Aggregation query patterns: cost by dimension, percentiles, top N, concentration, distributions.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"model": ["a", "a", "b"], "cost_usd": [1.0, 3.0, 10.0]})
    >>> cost_by(calls, "model")["total_cost"].tolist()
    [10.0, 4.0]
"""

from ._aggregations import (
    by_dimension,
    concentration,
    cost_by,
    distribution,
    lorenz_curve,
    percentiles,
    plan_csv_frame,
    token_efficiency,
    top_n,
    write_plan_csv,
)

__all__ = [
    "by_dimension",
    "concentration",
    "cost_by",
    "distribution",
    "lorenz_curve",
    "percentiles",
    "plan_csv_frame",
    "token_efficiency",
    "top_n",
    "write_plan_csv",
]
