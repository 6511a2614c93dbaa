"""Time-series query patterns: spend per period, growth, month to date, trends and forecasts.

Results are frames, except :func:`month_end_projection`, which returns a small frozen object
(fields listed on the function).

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 10:00", "2026-01-03 09:00"], utc=True),
    ...                       "cost_usd": [1.0, 2.0], "input_tokens": [10, 20], "output_tokens": [1, 2]})
    >>> aggregate(calls, "day")["cost_usd"].tolist()   # every day of the calendar, empty ones = 0
    [1.0, 0.0, 2.0]
"""

from ._timeseries import (
    ProjectionConfig,
    aggregate,
    forecast,
    growth_rates,
    month_end_projection,
    month_to_date,
    trend,
)

__all__ = [
    "ProjectionConfig",
    "aggregate",
    "forecast",
    "growth_rates",
    "month_end_projection",
    "month_to_date",
    "trend",
]
