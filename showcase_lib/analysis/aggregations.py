"""Aggregation query patterns: statistics by dimension, percentiles, top N, concentration,
distributions and the showcase plan's CSV shape.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"model": ["a", "a", "b"], "cost_usd": [1.0, 3.0, 10.0]})
    >>> by_dimension(calls, "model", view="cost")["total_cost"].tolist()
    [10.0, 4.0]
"""

from ._aggregations import (
    by_dimension,
    concentration,
    distribution,
    percentiles,
    plan_csv,
    top_n,
)

__all__ = [
    "by_dimension",
    "concentration",
    "distribution",
    "percentiles",
    "plan_csv",
    "top_n",
]
