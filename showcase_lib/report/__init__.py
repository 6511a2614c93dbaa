"""Presentation: charts in one house style and HTML report cards. Computes no business numbers.

Modules: :mod:`.charts` (the house style and the basic charts), :mod:`.queries_charts` (Part B),
:mod:`.scenario_charts` (Part D and the analyzers), :mod:`.metering_charts` (Part A),
:mod:`.metadata_charts` (Part C) and :mod:`.cards` (HTML report cards).

Example:
    >>> from showcase_lib.report import charts
    >>> charts.format_usd(999_999.5)
    '$1.00M'
"""

__all__: list[str] = []  # the package itself exports nothing: import the modules above
