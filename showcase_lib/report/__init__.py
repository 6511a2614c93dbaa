"""Presentation: charts in one house style and HTML report cards. Computes no business numbers.

Two modules: :mod:`.charts` (the house style, the basic charts and :func:`~.charts.chart` for
the book's figures) and :mod:`.cards` (HTML report cards and their index page).

Example:
    >>> from showcase_lib.report import charts
    >>> charts.format_usd(999_999.5)
    '$1.00M'
"""

__all__: list[str] = []  # the package itself exports nothing: import the modules above
