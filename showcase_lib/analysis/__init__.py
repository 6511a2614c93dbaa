"""Analysis of AI-call records: returns data, never prints or draws.

The public names live in the modules, one per concern: :mod:`.timeseries`,
:mod:`.aggregations` and :mod:`.anomalies` (the Part B query patterns), :mod:`.sql` (the same
patterns on DuckDB), :mod:`.analyzers` (the eight analyzers), :mod:`.scenarios` (Part D) and
:mod:`.evaluation` (the only place a simulation's ground truth enters). Everything here takes
records and parameters: prices come in as a price table frame or as the ``cost_<kind>`` columns
the caller joins (``pricing.cost_breakdown(calls, at=...)``), never from the catalog.

Example:
    >>> from showcase_lib.analysis import anomalies, timeseries
    >>> "detect" in anomalies.__all__ and "aggregate" in timeseries.__all__
    True
"""

__all__: list[str] = []  # the package itself exports nothing: import the modules above
