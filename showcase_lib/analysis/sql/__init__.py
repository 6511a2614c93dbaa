"""The Part B query patterns as SQL on DuckDB, over a DataFrame or over Parquet files.

One module per pandas module it mirrors: time series (:mod:`~showcase_lib.analysis.timeseries`),
aggregations (:mod:`~showcase_lib.analysis.aggregations`) and anomalies
(:mod:`~showcase_lib.analysis.anomalies`). Each ``*_sql`` function returns the SQL text of one
pattern (print it to teach it); :func:`run` executes it on a connection from :func:`connect`,
which exposes the data as a view ``calls`` -- a registered in-memory frame (zero copy through
Arrow) or ``read_parquet(...)`` on a file, a directory or a glob, so the same query scales past
memory. :func:`assert_same` checks with ``pandas.testing.assert_frame_equal`` that pandas and
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
    >>> assert_same(agg.top_n(calls, "model", 1), run(con, top_n_sql("model", 1)))
    1
"""

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
    cost_outliers_sql,
    cusum_sql,
    robust_zscore_sql,
    rolling_zscore_sql,
    spikes_sql,
    threshold_alerts_sql,
)
from ._common import connect, export_csv, run
from ._compare import assert_same, to_long
from ._timeseries import aggregate_sql, growth_rates_sql, month_to_date_sql, trend_sql

__all__ = [
    "aggregate_sql",
    "assert_same",
    "budget_alerts_sql",
    "by_dimension_sql",
    "concentration_sql",
    "connect",
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
