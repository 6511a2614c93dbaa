"""Chart helpers with one house style, used by every notebook.

Every chart has a title, labelled axes with units, and currency ticks where money is shown.
Functions take data that is already computed (by ``showcase_lib.analysis`` or
``showcase_lib.metadata``) and return the matplotlib ``Axes`` so a notebook can add to it:
:func:`line` and :func:`bar` for any series, :func:`hline` / :func:`vline` for markers,
:func:`side_by_side` for "without / with Revenium" pairs, and :func:`chart` for the book's
figures (one ``kind`` per figure, or an analyzer result's summary chart).

Example:
    >>> import pandas as pd
    >>> from showcase_lib.report import charts
    >>> s = pd.Series([1.0, 2.5], index=pd.to_datetime(["2026-01-01", "2026-01-02"]))
    >>> ax = charts.line(s, title="Daily cost", ylabel="Cost (USD)", money=True)
    >>> ax.get_title(loc="left")
    'Daily cost'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypedDict, Unpack

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from showcase_lib.report._display import _describe

__all__ = [
    "COLORS",
    "bar",
    "chart",
    "format_usd",
    "hline",
    "line",
    "side_by_side",
    "vline",
]


@dataclass(frozen=True, slots=True)
class _Colors:
    """The house colours: one object, so the public surface carries one name for all of them.

    Example:
        >>> COLORS.accent, COLORS.palette[0]
        ('#D55E00', '#0072B2')
    """

    #: Colour-blind safe, Okabe-Ito order.
    palette: tuple[str, ...] = (
        "#0072B2",
        "#E69F00",
        "#009E73",
        "#D55E00",
        "#CC79A7",
        "#56B4E9",
        "#F0E442",
        "#000000",
    )
    accent: str = "#D55E00"  # anomalies, alerts, "without"
    good: str = "#009E73"  # "with", savings
    muted: str = "#999999"  # bands, baselines


#: The house colours: ``COLORS.palette`` (the colour cycle), ``.accent`` (alerts, "without"),
#: ``.good`` ("with", savings) and ``.muted`` (bands, baselines).
COLORS: Final = _Colors()
# Old spellings, kept importable (not listed in __all__) until the notebooks use COLORS:
# charts.PALETTE -> charts.COLORS.palette, ACCENT -> COLORS.accent, GOOD -> COLORS.good.
PALETTE: Final = COLORS.palette
ACCENT: Final = COLORS.accent
GOOD: Final = COLORS.good
MUTED: Final = COLORS.muted

#: Money display tiers, smallest first: (upper bound, divisor, suffix, decimals). Three
#: significant digits from a million up; the thousands keep one decimal below $10K and none above,
#: cents below $1 get four decimals (a call costs fractions of a cent).
_TIERS: Final[tuple[tuple[float, float, str, int], ...]] = (
    (1.0, 1.0, "", 4),
    (1e3, 1.0, "", 2),
    (1e4, 1e3, "K", 1),
    (1e6, 1e3, "K", 0),
    (1e7, 1e6, "M", 2),
    (1e8, 1e6, "M", 1),
    (1e9, 1e6, "M", 0),
    (1e10, 1e9, "B", 2),
    (1e11, 1e9, "B", 1),
    (float("inf"), 1e9, "B", 0),
)

#: The house style. Charts are shown at their CSS size (100 px per inch: 640 px wide) on a
#: desktop and shrink to ~360 px on a phone (x0.56), so text is set large: 12 pt is 17 CSS px,
#: still ~9 px on a phone (the 10 pt at 900 px of before came out at 5 px).
_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    # saved files for high-density screens (phones are 2-3x); notebooks get 2x PNGs ("retina")
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 13.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.frameon": False,
    "axes.prop_cycle": mpl.cycler(color=list(COLORS.palette)),
    "font.size": 12,
    # dates: few ticks, each written once ("Feb", "08", "15"), not "2026-02-08" crowded in a row
    "date.converter": "concise",
}


def _apply_style() -> None:
    """Apply the house style to matplotlib globally (idempotent).

    Example:
        >>> _apply_style()
    """
    mpl.rcParams.update(_STYLE)
    _retina_inline()


def _retina_inline() -> None:
    """In a notebook, draw inline charts as 2x PNGs (sharp on phones and high-density screens)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing is drawn inline
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def format_usd(value: float, decimals: int | None = None, *, signed: bool = False) -> str:
    """Format a dollar amount for axes and prose: $0.0123, $12.50, $1.2K, $12K, $1.00M.

    The tier is chosen *after* rounding, so an amount that rounds up to the next tier moves to
    it: ``999_999.5`` is ``$1.00M``, never ``$1000K``. ``decimals`` overrides the tier's;
    ``signed`` writes a ``+`` before a positive amount (a change, a margin lift).

    Example:
        >>> format_usd(1234.5), format_usd(999_999.5), format_usd(-2_500_000)
        ('$1.2K', '$1.00M', '-$2.50M')
        >>> format_usd(0.01234), format_usd(0), format_usd(10_390.2, signed=True)
        ('$0.0123', '$0.00', '+$10K')
    """
    a = abs(float(value))
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    if a == 0:
        return f"${0:.{2 if decimals is None else decimals}f}"
    tier = next(k for k, (upper, *_rest) in enumerate(_TIERS) if a < upper)
    while True:
        upper, div, suffix, digits = _TIERS[tier]
        d = digits if decimals is None else decimals
        text = f"{a / div:,.{d}f}"
        if float(text.replace(",", "")) * div < upper or tier + 1 == len(_TIERS):
            return f"{sign}${text}{suffix}"
        tier += 1  # rounding reached the next tier's range: show it there


def _usd_axis(ax: Axes, axis: str = "y") -> Axes:
    """Format the ticks of ``axis`` ("x" or "y") as dollars.

    Example:
        >>> fig, ax = plt.subplots(); _ = _usd_axis(ax); plt.close(fig)
    """
    fmt = FuncFormatter(lambda v, _pos: format_usd(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def _new_axes(
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    money: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Create (or dress) an Axes with title and axis labels in the house style.

    Example:
        >>> ax = _new_axes("Cost by day", "Date (UTC)", "Cost (USD)", money=True)
        >>> ax.get_xlabel()
        'Date (UTC)'
    """
    _apply_style()
    if ax is None:
        _, ax = plt.subplots()
    _describe(ax)  # show(ax) describes what is drawn, unless given alt=
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if money:
        _usd_axis(ax)
    return ax


def line(
    data: pd.Series | pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    xlabel: str = "Date (UTC)",
    money: bool = False,
    **kwargs,
) -> Axes:
    """Line chart of a Series or of each column of a DataFrame against its index (``kwargs``
    go to ``Axes.plot``, e.g. ``marker="o"``).

    Example:
        >>> s = pd.Series([1, 2], index=[0, 1])
        >>> line(s, title="t", ylabel="y", xlabel="x").get_ylabel()
        'y'
    """
    ax = _new_axes(title, xlabel, ylabel, money=money)
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    for col in frame.columns:
        ax.plot(frame.index, frame[col], label=str(col), **kwargs)
    if frame.shape[1] > 1:
        ax.legend()
    return ax


class _BarStyle(TypedDict, total=False):
    """Options of :func:`bar`, all optional keywords (a typed option group: a typo fails).

    Example:
        >>> style: _BarStyle = {"money": True, "annotate": True}
        >>> sorted(style)
        ['annotate', 'money']
    """

    money: bool  # dollar ticks and labels (default False)
    pct: bool  # the values are fractions: percent ticks and labels (default False)
    horizontal: bool  # horizontal bars, largest on top (default True)
    color: str | Sequence[str]  # one colour, or one per row of data, in its order (default
    # COLORS.palette[0])
    annotate: bool  # write each value at its bar's end (default False)
    ax: Axes  # draw on this Axes (default a new figure)


#: Ticks on a bar chart's value axis: at most this many, so dollar labels ("$12.5K") do not
#: run into each other when the chart is one panel of two (12's side-by-side chart).
_VALUE_TICKS: Final = 5


def _value_text(v: float, *, money: bool, pct: bool) -> str:
    """A bar's label: compact dollars, a percentage, or three significant digits.

    Example:
        >>> _value_text(1234.5, money=True, pct=False), _value_text(0.0, money=False, pct=True)
        ('$1.2K', '0%')
    """
    if money:
        return format_usd(v)
    if pct:
        return f"{v:.0%}" if round(v * 100, 1).is_integer() else f"{v:.1%}"
    return f"{v:,.3g}"


def bar(
    data: pd.Series, *, title: str, xlabel: str, ylabel: str, **style: Unpack[_BarStyle]
) -> Axes:
    """Bar chart of a Series (index = labels). Horizontal by default, largest on top.

    A bar of zero length still shows: a marker in its colour at the axis, and (with
    ``annotate``) its value, so "0%" reads as a result, not as a missing bar.

    Example:
        >>> s = pd.Series({"a": 3.0, "b": 1.0})
        >>> bar(s, title="t", xlabel="Cost (USD)", ylabel="Model", money=True).get_title(loc="left")
        't'
        >>> ax = bar(s, title="t", xlabel="x", ylabel="y", color=["red", "blue"])
        >>> [p.get_facecolor()[:3] for p in ax.patches]  # "b" drawn first, at the bottom
        [(0.0, 0.0, 1.0), (1.0, 0.0, 0.0)]
    """
    unknown = sorted(set(style) - set(_BarStyle.__annotations__))
    if unknown:
        raise TypeError(
            f"bar() got unknown option(s) {unknown}; known: {sorted(_BarStyle.__annotations__)}"
        )
    money, pct = style.get("money", False), style.get("pct", False)
    horizontal = style.get("horizontal", True)
    color, annotate = style.get("color") or COLORS.palette[0], style.get("annotate", False)
    ax = _new_axes(title, xlabel, ylabel, ax=style.get("ax"))
    labels = [str(i) for i in data.index]
    values = data.to_numpy(dtype=float)
    colors = [color] * len(values) if isinstance(color, str) else list(color)
    if len(colors) != len(values):
        raise ValueError(f"color= has {len(colors)} colours for {len(values)} bars")
    if horizontal:  # largest on top: draw the last row first (its colour with it)
        labels, values, colors = labels[::-1], values[::-1], colors[::-1]
    positions = range(len(values))
    value_axis = ax.xaxis if horizontal else ax.yaxis
    if horizontal:
        ax.barh(labels, values, color=colors)
        ax.grid(axis="y", visible=False)
    else:
        ax.bar(labels, values, color=colors)
        ax.grid(axis="x", visible=False)
        ax.tick_params(axis="x", rotation=30)
    value_axis.set_major_locator(MaxNLocator(nbins=_VALUE_TICKS))
    if money:
        _usd_axis(ax, "x" if horizontal else "y")
    elif pct:
        value_axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    zeros = [(i, c) for i, v, c in zip(positions, values, colors, strict=False) if v == 0]
    for i, c in zeros:  # an empty bar: a visible tick at zero in the bar's colour
        marker = "|" if horizontal else "_"
        xy = (0, i) if horizontal else (i, 0)
        ax.plot(*xy, marker=marker, color=c, markersize=14, markeredgewidth=3, zorder=4)
    if annotate:
        for i, v in enumerate(values):
            text = _value_text(float(v), money=money, pct=pct)
            if horizontal:
                ax.annotate(text, (v, i), xytext=(4, 0), textcoords="offset points", va="center")
            else:
                ax.annotate(text, (i, v), xytext=(0, 3), textcoords="offset points", ha="center")
        _room_for_labels(ax, horizontal=horizontal)
    return ax


def _room_for_labels(ax: Axes, *, horizontal: bool, share: float = 0.18) -> None:
    """Widen the value axis by ``share`` of its span, so labels at bar ends stay inside.

    Example:
        >>> fig, ax = plt.subplots(); _ = ax.barh([0], [10.0])
        >>> _room_for_labels(ax, horizontal=True); bool(ax.get_xlim()[1] > 10.5)
        True
        >>> plt.close(fig)
    """
    low, high = ax.get_xlim() if horizontal else ax.get_ylim()
    scale = ax.get_xscale() if horizontal else ax.get_yscale()
    if scale == "log" and low > 0:
        high = high * (high / low) ** share
    else:
        high = high + (high - low) * share
    (ax.set_xlim if horizontal else ax.set_ylim)(low, high)


def _band(
    ax: Axes,
    index: pd.Index,
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    label: str = "prediction interval",
) -> Axes:
    """Shade an interval (forecast or expected range) on an existing Axes.

    Example:
        >>> ax = _new_axes("t", "x", "y")
        >>> _ = _band(ax, pd.Index([0, 1]), [0, 0], [1, 1])
    """
    ax.fill_between(index, lower, upper, color=COLORS.muted, alpha=0.25, label=label, linewidth=0)
    return ax


def _mark(
    ax: Axes, x: Sequence, y: Sequence[float], *, label: str = "anomaly", color: str = COLORS.accent
) -> Axes:
    """Mark points (anomalies, alerts) on an existing Axes.

    Example:
        >>> ax = _new_axes("t", "x", "y")
        >>> _ = _mark(ax, [0], [1.0])
    """
    ax.scatter(list(x), list(y), color=color, zorder=5, s=40, label=label)
    return ax


def vline(ax: Axes, x, *, label: str, color: str = COLORS.muted, style: str = "--") -> Axes:
    """Draw a labelled vertical marker (an onset, a migration date, a budget day).

    Example:
        >>> ax = _new_axes("t", "x", "y")
        >>> _ = vline(ax, 1, label="onset")
    """
    ax.axvline(x, color=color, linestyle=style, linewidth=1.2, label=label)
    return ax


def hline(ax: Axes, y: float, *, label: str, color: str = COLORS.accent, style: str = ":") -> Axes:
    """Draw a labelled horizontal marker (a budget, a threshold, an SLA).

    Example:
        >>> ax = _new_axes("t", "x", "y")
        >>> _ = hline(ax, 1.0, label="budget")
    """
    ax.axhline(y, color=color, linestyle=style, linewidth=1.2, label=label)
    return ax


#: Widest figure, in inches (CSS px / 100): a 9.6 in figure shrinks to ~360 px on a phone
#: (x0.375), which keeps 12 pt text at ~6 px; an 11 in one (the old default) left it at 5 px.
_MAX_WIDTH_IN: Final = 9.6


def side_by_side(
    titles: Mapping[str, str] | Sequence[str], *, figsize: tuple[float, float] = (9.6, 3.8)
) -> list[Axes]:
    """Create a row of Axes for "Without Revenium" / "With Revenium" comparisons.

    The width is capped at 9.6 inches so the text stays readable when a phone shrinks the
    image; ``show(axes, alt=...)`` (or ``show(axes)``, which describes both panels) shows it.

    Example:
        >>> axes = side_by_side(["Without Revenium", "With Revenium"], figsize=(11, 3.6))
        >>> len(axes), axes[0].figure.get_size_inches().tolist()
        (2, [9.6, 3.6])
    """
    _apply_style()
    names = list(titles.values() if isinstance(titles, Mapping) else titles)
    size = (min(float(figsize[0]), _MAX_WIDTH_IN), float(figsize[1]))
    fig, axes = plt.subplots(1, len(names), figsize=size, squeeze=False)
    _describe(fig)
    for ax, name in zip(axes[0], names, strict=True):
        ax.set_title(name)
    fig.tight_layout()
    return list(axes[0])


#: The book's figures :func:`chart` draws, by the data each one takes.
ChartKind = Literal[
    # Part B (analysis results)
    "trend",
    "month_end",
    "lorenz",
    "pareto",
    "histogram",
    "expected_band",
    # Part D (scenario results)
    "ab_test",
    "savings_sensitivity",
    "spike_timeline",
    "margin_sensitivity",
    "grouped_bars",
    "without_with",
    # Part A (metering measurements)
    "breaker",
    "latency",
    "retry_delays",
    # Part C (metadata tables)
    "catch_rate",
    "groupby_cost",
    "cardinality",
]


def _figures() -> dict[str, Callable[..., Any]]:
    from . import _metadata, _metering, _queries, _scenarios

    return {
        "trend": _queries.trend,
        "month_end": _queries.month_end,
        "lorenz": _queries.lorenz,
        "pareto": _queries.pareto,
        "histogram": _queries.histogram,
        "expected_band": _queries.expected_band,
        "ab_test": _scenarios.ab_test_chart,
        "savings_sensitivity": _scenarios.model_savings_sensitivity,
        "spike_timeline": _scenarios.spike_timeline,
        "margin_sensitivity": _scenarios.pricing_margin_sensitivity,
        "grouped_bars": _scenarios.grouped_bars,
        "without_with": lambda pair, **kw: _scenarios.without_with_bars(*pair, **kw),
        "breaker": _metering.state_and_backlog,
        "latency": _metering.latency_bars,
        "retry_delays": _metering.delays_chart,
        "catch_rate": _metadata.catch_rate_by_kind,
        "groupby_cost": _metadata.groupby_cost,
        "cardinality": _metadata.cardinality_growth,
    }


def chart(data: Any, kind: ChartKind | None = None, /, **options: Any) -> Any:
    """Draw one of the book's figures from computed ``data``; returns its ``Axes``.

    With ``kind=None`` ``data`` is an analyzer or scenario result and the chart is its summary
    chart (None when it has none). Otherwise ``kind`` names the figure, ``options`` its
    keywords (all take ``title=`` and ``alt=``, the alt text :data:`~showcase_lib.report.show`
    uses; without it ``show`` describes the chart from the data drawn on it):

    =====================  =================================================================
    kind                   data, options
    =====================  =================================================================
    ``trend``              ``timeseries.trend`` frame
    ``month_end``          a projection's ``path``; ``budget=``, ``level=``
    ``lorenz``             spend per entity (a Series) or the curve's points; ``gini=``
    ``pareto``             ``aggregations.top_n`` frame
    ``histogram``          ``aggregations.distribution`` frame; ``xlabel=``, ``log=``
    ``expected_band``      ``anomalies.expected_band`` frame; ``onset=``
    ``ab_test``            a comparison's ``ab_tests``
    ``savings_sensitivity``  a comparison's ``sensitivity``; ``mark_x=``
    ``spike_timeline``     spend per bucket without/with the limit; ``onset=``, ``alert=``
    ``margin_sensitivity``   a pricing strategy's ``sensitivity``; ``target_margin=``
    ``grouped_bars``       a frame, one group per row; ``xlabel=``, ``ylabel=``, ``money=``
    ``without_with``       ``(without, with)`` amounts; ``ylabel=`` (two bars)
    ``breaker``            a delivery timeline (state, queue, backlog); ``marks=``,
                           ``transitions=`` (returns two Axes)
    ``latency``            overhead per call (``p50_us, p99_us``); ``columns=``
    ``retry_delays``       the retry schedule's delays
    ``catch_rate``         catch rate per kind of mistake
    ``groupby_cost``       cost of a group-by as a tag's cardinality grows
    ``cardinality``        distinct values seen so far, per field (a mapping of frames)
    =====================  =================================================================

    Example:
        >>> import pandas as pd
        >>> top = pd.DataFrame({"total": [5.0, 3.0], "cumulative_share": [0.5, 0.8]},
        ...                    index=pd.Index(["a", "b"], name="customer_id"))
        >>> ax = chart(top, "pareto", title="Top 2")
        >>> ax.get_title(loc="left")
        'Top 2'
        >>> from showcase_lib.report import show
        >>> show(ax).alt.startswith("Top 2 (Cost (USD) by Customer): a $5.00, b $3.00")
        True
        >>> chart(top, "pie")
        Traceback (most recent call last):
        ...
        ValueError: kind='pie' is not one of ['trend', 'month_end', 'lorenz', 'pareto', 'histogram', 'expected_band', 'ab_test', 'savings_sensitivity', 'spike_timeline', 'margin_sensitivity', 'grouped_bars', 'without_with', 'breaker', 'latency', 'retry_delays', 'catch_rate', 'groupby_cost', 'cardinality']
    """
    alt = options.pop("alt", None)
    if kind is None:
        from ._scenarios import chart_for

        drawn = chart_for(data)
    else:
        figures = _figures()
        if kind not in figures:
            raise ValueError(f"kind={kind!r} is not one of {list(figures)}")
        drawn = figures[kind](data, **options)
    return drawn if drawn is None else _describe(drawn, alt)
