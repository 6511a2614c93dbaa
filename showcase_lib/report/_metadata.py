"""Charts of Part C (metadata), in the house style of :mod:`showcase_lib.report.charts`.

Each helper takes a table already computed by :mod:`showcase_lib.metadata` and returns the
matplotlib ``Axes``.

Example:
    >>> import pandas as pd
    >>> t = pd.DataFrame({"kind": ["enum_case", "well_formed_but_wrong"],
    ...                   "catch_rate": [1.0, 0.0], "schema_catchable": [True, False]})
    >>> catch_rate_by_kind(t).get_title(loc="left")
    'Catch rate per kind of mistake'
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from showcase_lib.report import charts

__all__ = ["cardinality_growth", "catch_rate_by_kind", "groupby_cost"]


def catch_rate_by_kind(
    by_kind: pd.DataFrame, *, title: str = "Catch rate per kind of mistake", ax: Axes | None = None
) -> Axes:
    """Horizontal bars of the catch rate per mistake kind, each labelled with its rate; kinds
    no schema can catch in the accent colour (a 0% bar shows as a tick in that colour).

    Example:
        >>> t = pd.DataFrame({"kind": ["a"], "catch_rate": [0.5], "schema_catchable": [True]})
        >>> catch_rate_by_kind(t).get_xlabel()
        'Share of mistakes caught (%)'
    """
    s = pd.Series(by_kind["catch_rate"].to_numpy(), index=by_kind["kind"])
    colors = [
        charts.COLORS.palette[0] if c else charts.COLORS.accent for c in by_kind["schema_catchable"]
    ]
    ax = charts.bar(
        s,
        title=title,
        xlabel="Share of mistakes caught (%)",
        ylabel="Kind of mistake",
        color=colors,
        pct=True,
        annotate=True,
        ax=ax,
    )
    ax.set_xlim(0, 1.18)  # room for the "100%" labels at the bars' ends
    return ax


def groupby_cost(
    table: pd.DataFrame,
    *,
    title: str = "Cost of a report as a tag's cardinality grows",
    ax: Axes | None = None,
) -> Axes:
    """Log-log chart of group-by time and report size against the tag's distinct values.

    Example:
        >>> t = pd.DataFrame({"cardinality": [10, 100], "seconds": [0.001, 0.002],
        ...                   "result_rows": [10, 100]})
        >>> groupby_cost(t).get_xscale()
        'log'
    """
    ax = charts._new_axes(
        title, "Distinct values of the tag (log scale)", "Group-by time (ms, log scale)", ax=ax
    )
    ax.loglog(
        table["cardinality"],
        table["seconds"] * 1e3,
        marker="o",
        color=charts.COLORS.palette[0],
        label="group-by time (ms)",
    )
    right = ax.twinx()
    right.loglog(
        table["cardinality"],
        table["result_rows"],
        marker="s",
        linestyle="--",
        color=charts.COLORS.accent,
        label="report rows",
    )
    right.set_ylabel("Rows in the report (log scale)")
    right.spines["top"].set_visible(False)
    right.grid(False)
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper left")
    return ax


def cardinality_growth(
    growth: Mapping[str, pd.DataFrame],
    *,
    title: str = "Distinct values seen so far, per field",
    ax: Axes | None = None,
) -> Axes:
    """Cumulative distinct values per day for several fields (from ``cardinality_growth``).

    Example:
        >>> g = pd.DataFrame({"period": pd.to_datetime(["2026-01-01", "2026-01-02"]),
        ...                   "unique_to_date": [1, 3]})
        >>> cardinality_growth({"feature_id": g}).get_ylabel()
        'Distinct values (log scale)'
    """
    ax = charts._new_axes(title, "Date (UTC)", "Distinct values (log scale)", ax=ax)
    for name, g in growth.items():
        ax.plot(g["period"], g["unique_to_date"], marker=".", label=name)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    ax.legend()
    ax.tick_params(axis="x", rotation=30)
    return ax
