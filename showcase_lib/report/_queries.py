"""Charts of Part B (time series, aggregations, anomalies) in the house style.

Each function takes results already computed by :mod:`showcase_lib.analysis` and returns the
matplotlib ``Axes``; nothing here computes a business number.

Example:
    >>> import pandas as pd
    >>> from showcase_lib.report import charts
    >>> curve = pd.DataFrame({"entity_share": [0, 0.5, 1], "cost_share": [0, 0.2, 1]})
    >>> charts.chart(curve, "lorenz", gini=0.3).get_title(loc="left")
    'Lorenz curve of spend across customers'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from showcase_lib.report import charts

__all__ = [
    "expected_band",
    "histogram",
    "lorenz",
    "month_end",
    "pareto",
    "trend",
]


def trend(
    frame: pd.DataFrame, *, title: str = "Daily cost and its trend", ax: Axes | None = None
) -> Axes:
    """Daily cost with the trailing mean, the OLS line and the STL trend (the output of
    :func:`showcase_lib.analysis.timeseries.trend`).

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=3, tz="UTC")
        >>> f = pd.DataFrame({"actual": [1.0, 2, 3], "rolling_mean": [None, 1.5, 2.5],
        ...                   "linear": [1.0, 2, 3], "stl_trend": [None] * 3}, index=idx)
        >>> trend(f).get_ylabel()
        'Cost (USD per day)'
    """
    ax = charts._new_axes(title, "Date (UTC)", "Cost (USD per day)", money=True, ax=ax)
    ax.plot(
        frame.index,
        frame["actual"],
        color=charts.COLORS.muted,
        marker="o",
        ms=3,
        lw=1,
        label="daily cost",
    )
    labels = {"rolling_mean": "7-day mean", "linear": "linear fit", "stl_trend": "STL trend"}
    for i, (col, label) in enumerate(labels.items()):
        if col in frame and frame[col].notna().any():
            ax.plot(frame.index, frame[col], color=charts.COLORS.palette[i], lw=2, label=label)
    ax.legend()
    return ax


def month_end(
    path: pd.DataFrame,
    budget: float,
    *,
    level: float = 0.9,
    title: str = "Month-to-date spend and its projection",
    ax: Axes | None = None,
) -> Axes:
    """Cumulative spend this month (actual), the projected mean and its interval to the end
    of the month, and the budget line (``MonthEndProjection.path``).

    Example:
        >>> idx = pd.date_range("2026-02-01", periods=4, tz="UTC")
        >>> p = pd.DataFrame({"actual": [1.0, 2.0, None, None], "mean": [None, None, 3.0, 4.0],
        ...                   "lower": [None, None, 2.8, 3.5], "upper": [None, None, 3.2, 4.5]}, index=idx)
        >>> month_end(p, budget=4.2).get_xlabel()
        'Date (UTC)'
    """
    ax = charts._new_axes(
        title, "Date (UTC)", "Cumulative cost this month (USD)", money=True, ax=ax
    )
    actual = path["actual"].dropna()
    ax.plot(actual.index, actual, color=charts.COLORS.palette[0], lw=2.2, label="actual")
    fut = path[["mean", "lower", "upper"]].dropna()
    if len(fut) and len(actual):  # start the projection where the actual line ends
        last = pd.DataFrame(
            {"mean": actual.iloc[-1], "lower": actual.iloc[-1], "upper": actual.iloc[-1]},
            index=actual.index[-1:],
        )
        fut = pd.concat([last, fut])
    if len(fut):
        ax.plot(
            fut.index,
            fut["mean"],
            color=charts.COLORS.palette[0],
            lw=1.8,
            ls="--",
            label="projection",
        )
        charts._band(ax, fut.index, fut["lower"], fut["upper"], label=f"{level:.0%} interval")
    charts.hline(ax, budget, label=f"budget {charts.format_usd(budget)}")
    ax.legend(loc="upper left")
    return ax


def lorenz(
    curve: pd.DataFrame | pd.Series,
    *,
    gini: float | None = None,
    title: str = "Lorenz curve of spend across customers",
    ax: Axes | None = None,
) -> Axes:
    """The Lorenz curve against the line of equality: ``curve`` holds its points
    (``entity_share, cost_share``) or is the spend per entity, whose cumulative shares
    (smallest first) are the points.

    Example:
        >>> lorenz(pd.Series({"a": 1.0, "b": 3.0})).get_xlabel()
        'Share of customers (smallest first)'
    """
    if isinstance(curve, pd.Series):
        x = np.sort(curve.to_numpy(dtype=float))
        curve = pd.DataFrame(
            {
                "entity_share": np.arange(len(x) + 1) / max(len(x), 1),
                "cost_share": np.concatenate([[0.0], np.cumsum(x)]) / (x.sum() or 1.0),
            }
        )
    ax = charts._new_axes(title, "Share of customers (smallest first)", "Share of spend", ax=ax)
    ax.plot([0, 1], [0, 1], color=charts.COLORS.muted, ls="--", label="equal spend")
    label = "actual" if gini is None else f"actual (Gini {gini:.2f})"
    ax.plot(
        curve["entity_share"],
        curve["cost_share"],
        color=charts.COLORS.palette[0],
        lw=2,
        label=label,
    )
    ax.fill_between(
        curve["entity_share"],
        curve["cost_share"],
        curve["entity_share"],
        color=charts.COLORS.palette[0],
        alpha=0.1,
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    return ax


def pareto(
    top: pd.DataFrame, *, title: str = "Top customers by spend", ax: Axes | None = None
) -> Axes:
    """Bars of the top entities' totals with their cumulative share on a second axis
    (the output of ``aggregations.top_n``).

    Example:
        >>> t = pd.DataFrame({"total": [5.0, 3.0], "cumulative_share": [0.5, 0.8]}, index=["a", "b"])
        >>> pareto(t).get_ylabel()
        'Cost (USD)'
    """
    ax = charts._new_axes(title, "Customer", "Cost (USD)", money=True, ax=ax)
    labels = [str(i) for i in top.index]
    ax.bar(labels, top["total"], color=charts.COLORS.palette[0])
    ax.tick_params(axis="x", rotation=60)
    ax.grid(axis="x", visible=False)
    right = ax.twinx()
    right.plot(labels, top["cumulative_share"], color=charts.COLORS.accent, marker="o", lw=1.5)
    right.set_ylim(0, 1.05)
    right.set_ylabel("Cumulative share of all spend")
    right.spines["right"].set_visible(True)
    right.grid(False)
    return ax


def histogram(
    dist: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    money: bool = True,
    log: bool = True,
) -> Axes:
    """Bars of a binned distribution (``aggregations.distribution``): share of calls per bin,
    on a log x-axis by default (costs span orders of magnitude).

    Example:
        >>> d = pd.DataFrame({"left": [0.001, 0.01], "right": [0.01, 0.1], "share": [0.4, 0.6]})
        >>> histogram(d, title="t", xlabel="Cost per call (USD)").get_ylabel()
        'Share of calls'
    """
    ax = charts._new_axes(title, xlabel, "Share of calls")
    ax.bar(
        dist["left"],
        dist["share"],
        width=dist["right"] - dist["left"],
        align="edge",
        color=charts.COLORS.palette[0],
        edgecolor="white",
        linewidth=0.5,
    )
    if log:
        ax.set_xscale("log")
    if money:  # plain $0.0001 ... $1 labels: format_usd would round the small ones to $0.0000
        ax.xaxis.set_major_formatter(lambda v, _pos: f"${v:g}")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.grid(axis="x", visible=False)
    return ax


def expected_band(
    band: pd.DataFrame,
    *,
    title: str,
    onset=None,
    ax: Axes | None = None,
    ylabel: str = "Cost (USD per day)",
) -> Axes:
    """One series with its expected value, the band of normal and the flagged points (the
    output of ``anomalies.expected_band``), and optionally the true onset.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=2, tz="UTC")
        >>> b = pd.DataFrame({"actual": [1.0, 9.0], "expected": [1.0, 1.0], "lower": [0.5, 0.5],
        ...                   "upper": [1.5, 1.5], "is_anomaly": [False, True]}, index=idx)
        >>> expected_band(b, title="t").get_title(loc="left")
        't'
    """
    ax = charts._new_axes(title, "Date (UTC)", ylabel, money=True, ax=ax)
    charts._band(ax, band.index, band["lower"], band["upper"], label="expected range")
    ax.plot(
        band.index, band["expected"], color=charts.COLORS.muted, lw=1.5, label="expected (median)"
    )
    ax.plot(
        band.index,
        band["actual"],
        color=charts.COLORS.palette[0],
        lw=1.8,
        marker="o",
        ms=3,
        label="actual",
    )
    flagged = band[band["is_anomaly"]]
    if len(flagged):
        charts._mark(ax, flagged.index, flagged["actual"], label="flagged")
    if onset is not None:
        charts.vline(ax, onset, label="true onset", color=charts.COLORS.accent)
    ax.legend(loc="upper left")
    return ax


def _anomaly_timeline(
    matrix: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    entities: Sequence[str] | None = None,
    title: str = "Detected anomalies",
    ax: Axes | None = None,
) -> Axes:
    """Daily spend of a few entities with each detected anomaly window shaded.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=3, tz="UTC")
        >>> m = pd.DataFrame({"a": [1.0, 5.0, 1.0]}, index=idx)
        >>> an = pd.DataFrame({"entity": ["a"], "start": [idx[1]], "end": [idx[2]], "kind": ["spike"]})
        >>> _anomaly_timeline(m, an).get_title(loc="left")
        'Detected anomalies'
    """
    ax = charts._new_axes(title, "Date (UTC)", "Cost (USD per day)", money=True, ax=ax)
    names = list(entities) if entities is not None else list(dict.fromkeys(anomalies["entity"]))
    for i, name in enumerate(names):
        ax.plot(
            matrix.index,
            matrix[name],
            color=charts.COLORS.palette[i % len(charts.COLORS.palette)],
            lw=1.6,
            label=str(name),
        )
    for row in anomalies.itertuples(index=False):
        if row.entity in names:
            ax.axvspan(row.start, row.end, color=charts.COLORS.accent, alpha=0.12, lw=0)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.legend(loc="upper left")
    return ax
