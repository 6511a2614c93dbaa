"""Presentation: one display layer, charts in one house style and HTML report cards.

:data:`show` displays a table (money, percentages, counts, dates and durations formatted by
column, in a box that scrolls sideways) or a chart (a sharp image with alt text); its methods
format single values for prose. Two modules complete the package: :mod:`.charts` (the house
style, the basic charts and :func:`~.charts.chart` for the book's figures) and :mod:`.cards`
(HTML report cards and their index page). Computes no business numbers.

Example:
    >>> import pandas as pd
    >>> from showcase_lib.report import show
    >>> print(show(pd.Series([0.824, 0.176], index=pd.Index(["a", "b"], name="tier"), name="share")))
    tier  share
    a     82.4%
    b     17.6%
    >>> show.money(0.000103)
    '$0.000103'
"""

from showcase_lib.report._display import show

__all__ = ["show"]
