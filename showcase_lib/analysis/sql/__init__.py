"""The Part B query patterns as SQL on DuckDB, over a DataFrame or over Parquet files.

One private module per pandas module it mirrors: time series
(:mod:`~showcase_lib.analysis.timeseries`), aggregations
(:mod:`~showcase_lib.analysis.aggregations`) and anomalies
(:mod:`~showcase_lib.analysis.anomalies`). :func:`query` returns the SQL text of one pattern by
name (print it to teach it); run it with DuckDB's own ``con.execute(text).df()`` on a
connection from :func:`connect`, which exposes the data as a view ``calls`` -- a registered
in-memory frame (zero copy through Arrow) or ``read_parquet(...)`` on a file, a directory or a
glob, so the same query scales past memory (``COPY (text) TO 'out.csv' (HEADER)`` writes a
result to CSV). :func:`assert_same` checks with ``pandas.testing.assert_frame_equal`` that
pandas and DuckDB give the same answer.

Column and dimension names are checked against the record schema before they are put into
SQL text, and values are rendered as literals, so the printed SQL runs as is.

Example:
    >>> import pandas as pd
    >>> from showcase_lib.analysis import aggregations as agg
    >>> calls = pd.DataFrame({"model": ["a", "a", "b"], "cost_usd": [1.0, 3.0, 10.0],
    ...                       "latency_ms": [100, 300, 50]})
    >>> con = connect(calls)
    >>> print(query("top_n", "model", 1).splitlines()[1])
    SELECT "model", count(*) AS calls, sum("cost_usd") AS total,
    >>> assert_same(agg.top_n(calls, "model", 1), con.execute(query("top_n", "model", 1)).df())
    1
"""

from ._common import connect
from ._compare import assert_same
from ._query import query

__all__ = ["assert_same", "connect", "query"]
