"""Chart helpers with one house style, used by every notebook.

Every chart has a title, labelled axes with units, and currency ticks where money is shown.
Functions take data that is already computed (by ``showcase_lib.analysis``) and return the
matplotlib ``Axes`` so a notebook can add to it.

Example:
    >>> import pandas as pd
    >>> from showcase_lib.report import charts
    >>> s = pd.Series([1.0, 2.5], index=pd.to_datetime(["2026-01-01", "2026-01-02"]))
    >>> ax = charts.line(s, title="Daily cost", ylabel="Cost (USD)", money=True)
    >>> ax.get_title(loc="left")
    'Daily cost'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

#: The house palette (colour-blind safe, Okabe-Ito order).
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
ACCENT = "#D55E00"  # anomalies, alerts, "without"
GOOD = "#009E73"  # "with", savings
MUTED = "#999999"  # bands, baselines

_STYLE = {
    "figure.figsize": (9.0, 4.2),
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 11,
    "legend.frameon": False,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "font.size": 10,
}


def apply_style() -> None:
    """Apply the house style to matplotlib globally (idempotent).

    Example:
        >>> apply_style()
    """
    mpl.rcParams.update(_STYLE)


def format_usd(value: float, decimals: int | None = None) -> str:
    """Format a dollar amount for axes and prose: $1.2K, $3.4M, $0.0123.

    Example:
        >>> format_usd(1234.5)
        '$1.2K'
        >>> format_usd(0.01234)
        '$0.0123'
    """
    a = abs(value)
    sign = "-" if value < 0 else ""
    if a >= 1e6:
        return f"{sign}${a / 1e6:.{1 if decimals is None else decimals}f}M"
    if a >= 1e4:
        return f"{sign}${a / 1e3:.{0 if decimals is None else decimals}f}K"
    if a >= 1e3:
        return f"{sign}${a / 1e3:.{1 if decimals is None else decimals}f}K"
    if a >= 1 or a == 0:
        return f"{sign}${a:,.{2 if decimals is None else decimals}f}"
    return f"{sign}${a:.{4 if decimals is None else decimals}f}"


def usd_axis(ax: Axes, axis: str = "y") -> Axes:
    """Format the ticks of ``axis`` ("x" or "y") as dollars.

    Example:
        >>> fig, ax = plt.subplots(); _ = usd_axis(ax); plt.close(fig)
    """
    fmt = FuncFormatter(lambda v, _pos: format_usd(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def new_axes(
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    money: bool = False,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Create (or dress) an Axes with title and axis labels in the house style.

    Example:
        >>> ax = new_axes("Cost by day", "Date (UTC)", "Cost (USD)", money=True)
        >>> ax.get_xlabel()
        'Date (UTC)'
    """
    apply_style()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if money:
        usd_axis(ax)
    return ax


def line(
    data: pd.Series | pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    xlabel: str = "Date (UTC)",
    money: bool = False,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Line chart of a Series or of each column of a DataFrame against its index.

    Example:
        >>> s = pd.Series([1, 2], index=[0, 1])
        >>> line(s, title="t", ylabel="y", xlabel="x").get_ylabel()
        'y'
    """
    ax = new_axes(title, xlabel, ylabel, money=money, ax=ax)
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    for col in frame.columns:
        ax.plot(frame.index, frame[col], label=str(col), **kwargs)
    if frame.shape[1] > 1:
        ax.legend()
    return ax


def bar(
    data: pd.Series,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    money: bool = False,
    horizontal: bool = True,
    color: str | Sequence[str] | None = None,
    annotate: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Bar chart of a Series (index = labels). Horizontal by default, largest on top.

    Example:
        >>> s = pd.Series({"a": 3.0, "b": 1.0})
        >>> bar(s, title="t", xlabel="Cost (USD)", ylabel="Model", money=True).get_title(loc="left")
        't'
    """
    ax = new_axes(title, xlabel, ylabel, ax=ax)
    labels = [str(i) for i in data.index]
    if horizontal:
        ax.barh(labels[::-1], data.to_numpy()[::-1], color=color or PALETTE[0])
        if money:
            usd_axis(ax, "x")
        ax.grid(axis="y", visible=False)
    else:
        ax.bar(labels, data.to_numpy(), color=color or PALETTE[0])
        if money:
            usd_axis(ax, "y")
        ax.grid(axis="x", visible=False)
        ax.tick_params(axis="x", rotation=30)
    if annotate:
        values = data.to_numpy()[::-1] if horizontal else data.to_numpy()
        for i, v in enumerate(values):
            text = format_usd(float(v)) if money else f"{v:,.3g}"
            if horizontal:
                ax.annotate(text, (v, i), xytext=(3, 0), textcoords="offset points", va="center")
            else:
                ax.annotate(text, (i, v), xytext=(0, 3), textcoords="offset points", ha="center")
    return ax


def band(
    ax: Axes,
    index: pd.Index,
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    label: str = "prediction interval",
) -> Axes:
    """Shade an interval (forecast or expected range) on an existing Axes.

    Example:
        >>> ax = new_axes("t", "x", "y")
        >>> _ = band(ax, pd.Index([0, 1]), [0, 0], [1, 1])
    """
    ax.fill_between(index, lower, upper, color=MUTED, alpha=0.25, label=label, linewidth=0)
    return ax


def mark(
    ax: Axes, x: Sequence, y: Sequence[float], *, label: str = "anomaly", color: str = ACCENT
) -> Axes:
    """Mark points (anomalies, alerts) on an existing Axes.

    Example:
        >>> ax = new_axes("t", "x", "y")
        >>> _ = mark(ax, [0], [1.0])
    """
    ax.scatter(list(x), list(y), color=color, zorder=5, s=40, label=label)
    return ax


def vline(ax: Axes, x, *, label: str, color: str = MUTED, style: str = "--") -> Axes:
    """Draw a labelled vertical marker (an onset, a migration date, a budget day).

    Example:
        >>> ax = new_axes("t", "x", "y")
        >>> _ = vline(ax, 1, label="onset")
    """
    ax.axvline(x, color=color, linestyle=style, linewidth=1.2, label=label)
    return ax


def hline(ax: Axes, y: float, *, label: str, color: str = ACCENT, style: str = ":") -> Axes:
    """Draw a labelled horizontal marker (a budget, a threshold, an SLA).

    Example:
        >>> ax = new_axes("t", "x", "y")
        >>> _ = hline(ax, 1.0, label="budget")
    """
    ax.axhline(y, color=color, linestyle=style, linewidth=1.2, label=label)
    return ax


def side_by_side(titles: Mapping[str, str] | Sequence[str], *, figsize=(11.0, 4.0)) -> list[Axes]:
    """Create a row of Axes for "Without Revenium" / "With Revenium" comparisons.

    Example:
        >>> axes = side_by_side(["Without Revenium", "With Revenium"])
        >>> len(axes)
        2
    """
    apply_style()
    names = list(titles.values() if isinstance(titles, Mapping) else titles)
    fig, axes = plt.subplots(1, len(names), figsize=figsize, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        ax.set_title(name)
    fig.tight_layout()
    return list(axes[0])
