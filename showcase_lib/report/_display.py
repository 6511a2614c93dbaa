"""One display layer for the book's tables and charts: :data:`show`.

``show(frame)`` formats every column by its name and dtype (money, percentages, counts, dates,
durations, other numbers with three significant digits; NaN as an en dash) and renders an HTML
table in its own box that scrolls sideways, so a wide table never widens the page; it also has
a plain-text form. ``show(fig_or_axes, alt=...)`` renders a chart as a 2x PNG with its alt text
and closes the figure, so Jupyter does not draw it a second time. The same formatting rules are
methods of ``show`` for prose: ``show.money``, ``show.pct``, ``show.count``, ``show.number``,
``show.duration`` and ``show.when``.

Example:
    >>> import pandas as pd
    >>> table = show(pd.DataFrame({"model": ["gpt-4o"], "cost_usd": [1234.5], "calls": [97483]}))
    >>> print(table)
    model    cost_usd   calls
    gpt-4o  $1,234.50  97,483
    >>> show.money(0.000103), show.pct(0.824), show.count(97483.0)
    ('$0.000103', '82.4%', '97,483')
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal, TypedDict, Unpack

import numpy as np
import pandas as pd

__all__: list[str] = []  # private module: the package exports ``show``

#: The en dash that stands for a missing value (NaN, None, NaT) in every table and text.
MISSING: Final = "\u2013"

#: Rows shown when ``max_rows`` is not given: about two screens of a phone, and long enough
#: for a month of daily rows; a longer frame shows its first rows and says how many there are.
DEFAULT_MAX_ROWS: Final = 30

#: A chart's CSS size is matplotlib's screen size (100 px per inch of ``figsize``) ...
CSS_PX_PER_INCH: Final = 100
#: ... drawn with 2 device pixels per CSS pixel (200 dpi), as phones and "retina" laptops
#: show them, so text stays sharp; 3x would add half the bytes again for little gain.
PIXEL_RATIO: Final = 2

Kind = Literal["money", "pct", "count", "number", "duration", "when", "text"]
_NUMERIC_KINDS: Final = frozenset({"money", "pct", "count", "number", "duration"})

#: Words of a column name (split at ``_``, spaces and dots) that choose its format.
_MONEY_WORDS: Final = frozenset({"cost", "costs", "price", "spend", "revenue"})
_MONEY_UNITS: Final = frozenset({"usd", "fee", "fees"})
_PCT_WORDS: Final = frozenset(
    {"share", "pct", "rate", "margin", "precision", "recall", "percent", "growth"}
)
_COUNT_ANY: Final = frozenset({"tokens", "token", "count"})
#: Integer columns that are labels, not amounts: no thousands separator (``2026``, a seed).
_LABEL_INTS: Final = frozenset({"id", "year", "seed", "port", "version"})


# -- formatting of single values -----------------------------------------------------------
def _missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA.

    Example:
        >>> _missing(None), _missing(float("nan")), _missing(pd.NaT), _missing(0)
        (True, True, True, False)
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def _infinite(v: float) -> str | None:
    return ("\u221e" if v > 0 else "-\u221e") if math.isinf(v) else None


def _significant(a: float, digits: int = 3) -> str:
    """``a`` (>= 0) in fixed notation with ``digits`` significant digits, thousands separated.

    Example:
        >>> _significant(6.521038), _significant(0.107527), _significant(99.96)
        ('6.52', '0.108', '100')
    """
    if a == 0:
        return "0"
    exponent = math.floor(math.log10(a))
    decimals = max(digits - 1 - exponent, 0)
    text = f"{a:,.{decimals}f}"
    if decimals and float(text.replace(",", "")) >= 10 ** (exponent + 1):  # 99.96 -> 100.0
        text = f"{a:,.{decimals - 1}f}"
    return text


def _sign(v: float, text: str) -> str:
    """A minus only when the shown text is not zero (no ``-0.00``)."""
    return "-" + text if v < 0 and any(c in "123456789" for c in text) else text


def _money(value: Any) -> str:
    """Dollars: cents from $1 up (``$1,234.56``), three significant digits below (per call).

    Example:
        >>> _money(1234.564), _money(0.000103), _money(-12), _money(0.5), _money(-0.0)
        ('$1,234.56', '$0.000103', '-$12.00', '$0.50', '$0.00')
    """
    if _missing(value):
        return MISSING
    v = float(value)
    if (inf := _infinite(v)) is not None:
        return inf
    a = abs(v)
    if a >= 1 or a == 0:
        text = f"{a:,.2f}"
    else:
        text = _significant(a)
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0").ljust(2, "0")  # $0.500 -> $0.50, but $0.0123 keeps its digits
        text = f"{whole}.{frac}"
    return _sign(v, "$" + text)


def _pct(value: Any) -> str:
    """A fraction (0..1) as a percentage with one decimal; two significant digits below 0.1%.

    Example:
        >>> _pct(0.824), _pct(0.40), _pct(0.00004), _pct(-0.00001), _pct(1.5)
        ('82.4%', '40.0%', '0.004%', '-0.001%', '150.0%')
    """
    if _missing(value):
        return MISSING
    v = float(value) * 100
    if (inf := _infinite(v)) is not None:
        return inf
    a = abs(v)
    text = f"{a:,.1f}" if a >= 0.1 or a == 0 else _significant(a, 2).rstrip("0")
    return _sign(v, text + "%")


def _count(value: Any) -> str:
    """A whole number with thousands separators (a float count is rounded).

    Example:
        >>> _count(97483.0), _count(1234567), _count(-3)
        ('97,483', '1,234,567', '-3')
    """
    if _missing(value):
        return MISSING
    v = float(value)
    if (inf := _infinite(v)) is not None:
        return inf
    return f"{round(v):,}"


def _number(value: Any) -> str:
    """Any other number: three significant digits in fixed notation; from 100 up, whole.

    Numbers below a millionth use scientific notation (they have no readable fixed form).

    Example:
        >>> _number(6.521038297), _number(1533.498124), _number(0.107527), _number(-0.0001)
        ('6.52', '1,533', '0.108', '-0.000100')
        >>> _number(9.1e-13), _number(0), _number(3)
        ('9.10e-13', '0', '3')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    v = float(value)
    if (inf := _infinite(v)) is not None:
        return inf
    a = abs(v)
    if a >= 100:
        text = f"{a:,.0f}"
    elif a >= 1e-6 or a == 0:
        text = _significant(a)
    else:
        text = f"{a:.2e}"
    return _sign(v, text)


def _plain(x: float) -> str:
    """Up to three significant digits, trailing zeros dropped: 2.5, 45, 0.35."""
    text = _significant(x)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _duration(value: Any) -> str:
    """A duration in words: a Timedelta, or a number of seconds.

    Below a second in ms, below a minute in seconds (3 significant digits), below ten minutes in
    minutes and seconds, below three hours in minutes, then hours, then days.

    Example:
        >>> _duration(pd.Timedelta("3 days 07:51:12.893")), _duration(104 * 60), _duration(2.5)
        ('3 d 7 h 51 min', '104 min', '2.5 s')
        >>> _duration(0.35), _duration(150), _duration(pd.Timedelta(hours=7, minutes=5))
        ('350 ms', '2 min 30 s', '7 h 5 min')
        >>> _duration(pd.Timedelta(days=2)), _duration(-90)
        ('2 d', '-1 min 30 s')
    """
    if _missing(value):
        return MISSING
    seconds = (
        pd.Timedelta(value).total_seconds()
        if isinstance(value, (pd.Timedelta, timedelta, np.timedelta64))
        else float(value)
    )
    if (inf := _infinite(seconds)) is not None:
        return inf
    sign, s = ("-" if seconds < 0 else ""), abs(seconds)
    if s == 0:
        return "0 s"
    if s < 1:
        return f"{sign}{_plain(s * 1000)} ms"
    if s < 60:
        return f"{sign}{_plain(s)} s"
    if s < 600:
        m, rest = divmod(round(s), 60)
        return f"{sign}{m} min" + (f" {rest} s" if rest else "")
    minutes = round(s / 60)
    if minutes < 180:
        return f"{sign}{minutes} min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "min")) if n]
    return sign + " ".join(parts)


def _time_format(values: pd.Series) -> str:
    """The strftime pattern for a datetime column: date only when every value is midnight,
    seconds only when some value has them, never fractions of a second.

    Example:
        >>> _time_format(pd.Series(pd.to_datetime(["2026-02-10", "2026-02-11"])))
        '%Y-%m-%d'
        >>> _time_format(pd.Series(pd.to_datetime(["2026-02-10 11:20:57.919"])))
        '%Y-%m-%d %H:%M:%S'
    """
    t = pd.Series(pd.to_datetime(values)).dropna()
    if t.empty:
        return "%Y-%m-%d"
    if t.dt.tz is not None:
        t = t.dt.tz_localize(None)
    if (t == t.dt.normalize()).all():
        return "%Y-%m-%d"
    if (t == t.dt.floor("min")).all():
        return "%Y-%m-%d %H:%M"
    return "%Y-%m-%d %H:%M:%S"


def _when(value: Any) -> str:
    """A timestamp for prose: the date alone at midnight, minutes (seconds when needed), and
    the time zone's name when it has one.

    Example:
        >>> _when(pd.Timestamp("2026-02-10", tz="UTC"))
        '2026-02-10'
        >>> _when(pd.Timestamp("2026-02-10 11:20:57.919", tz="UTC"))
        '2026-02-10 11:20:57 UTC'
        >>> _when(pd.Timestamp("2026-02-10 11:20"))
        '2026-02-10 11:20'
    """
    if _missing(value):
        return MISSING
    ts = pd.Timestamp(value)
    pattern = _time_format(pd.Series([ts]))
    zone = f" {ts.tzname()}" if ts.tzinfo is not None and pattern != "%Y-%m-%d" else ""
    return ts.strftime(pattern) + zone


def _text(value: Any) -> str:
    if _missing(value):
        return MISSING
    if isinstance(value, (float, np.floating)):
        return _number(value)
    return str(value)


_FORMATTERS: Final[dict[str, Callable[[Any], str]]] = {
    "money": _money,
    "pct": _pct,
    "count": _count,
    "number": _number,
    "duration": _duration,
    "text": _text,
}


# -- choosing a column's format ----------------------------------------------------------
def _words(name: object) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", str(name).lower()) if w]


def _kind_by_name(name: object) -> Kind | None:
    """The format a column's name asks for (None: decide by dtype).

    Example:
        >>> [_kind_by_name(n) for n in ("cost_usd", "avg_cost_per_call", "margin_usd", "fee")]
        ['money', 'money', 'money', 'money']
        >>> [_kind_by_name(n) for n in ("cost_share", "margin", "catch_rate", "recall")]
        ['pct', 'pct', 'pct', 'pct']
        >>> [_kind_by_name(n) for n in ("calls", "n_customers", "input_tokens", "feedback")]
        ['count', 'count', 'count', None]
    """
    words = _words(name)
    if not words:
        return None
    if _MONEY_UNITS & set(words):  # a unit wins: margin_usd is dollars
        return "money"
    if _PCT_WORDS & set(words):  # then a ratio: cost_share is a share of the cost
        return "pct"
    if _MONEY_WORDS & set(words):
        return "money"
    if words == ["calls"] or words[0] == "n" or _COUNT_ANY & set(words):
        return "count"
    return None


def _kind(name: object, values: pd.Series) -> Kind | Literal["when"]:
    """The format of one column: by dtype for dates, durations and text, else by name.

    Example:
        >>> _kind("x", pd.Series([1, 2])), _kind("year", pd.Series([2026])), _kind("x", pd.Series([0.5]))
        ('count', 'text', 'number')
        >>> _kind("day", pd.Series(pd.to_datetime(["2026-01-01"]))), _kind("cost_usd", pd.Series(["a"]))
        ('when', 'text')
    """
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "when"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred in ("datetime", "datetime64"):
            return "when"
        if inferred in ("timedelta", "timedelta64"):
            return "duration"
        return "text"
    by_name = _kind_by_name(name)
    if by_name is not None:
        return by_name
    if pd.api.types.is_integer_dtype(dtype):
        words = _words(name)
        return "text" if words and (words[-1] in _LABEL_INTS) else "count"
    return "number"


def _format_column(values: pd.Series, kind: str) -> list[str]:
    if kind == "when":
        t = pd.Series(pd.to_datetime(values))
        pattern = _time_format(t)
        return [MISSING if _missing(v) else v.strftime(pattern) for v in t]
    formatter = _FORMATTERS[kind]
    return [formatter(v) for v in values]


# -- tables --------------------------------------------------------------------------------
class _ShowOptions(TypedDict, total=False):
    """Keywords of :data:`show` (a typed option group: a typo fails at the call).

    Example:
        >>> options: _ShowOptions = {"money": ["fee"], "caption": "Fees"}
        >>> sorted(options)
        ['caption', 'money']
    """

    money: Sequence[str]  # columns shown as dollars
    pct: Sequence[str]  # columns of fractions shown as percentages
    counts: Sequence[str]  # columns shown as whole numbers with separators
    durations: Sequence[str]  # columns of seconds (or timedeltas) shown in words
    text: Sequence[str]  # columns shown as they are (ids, labels)
    caption: str  # a line above the table (and the box's accessible name)
    max_rows: int  # rows shown (default DEFAULT_MAX_ROWS); the caption says how many exist
    index: bool  # show the index (default: only when it is named or not plain numbers)
    alt: str  # charts only: the image's alt text (required)


_KIND_OPTIONS: Final[dict[str, Kind]] = {
    "money": "money",
    "pct": "pct",
    "counts": "count",
    "durations": "duration",
    "text": "text",
}

_TABLE_STYLE: Final = (
    "border-collapse:collapse;font-size:0.9em;line-height:1.35;"
    "font-variant-numeric:tabular-nums;margin:0;width:auto"
)
_CELL_STYLE: Final = "padding:3px 10px;border-bottom:1px solid #e4e7eb;vertical-align:top"
#: The scroll box: as wide as its container at most, scrolling sideways by itself, keyboard
#: focusable (a scrollable region must be reachable without a mouse, WCAG 2.1.1).
_BOX_STYLE: Final = "overflow-x:auto;max-width:100%;margin:0.4em 0 1em"


def _label(column: object) -> str:
    if isinstance(column, tuple):
        return " / ".join(str(c) for c in column if str(c))
    return "" if column is None else str(column)


def _meaningful_index(index: pd.Index) -> bool:
    """An index is worth showing when it is named or holds more than row numbers.

    Example:
        >>> _meaningful_index(pd.RangeIndex(3)), _meaningful_index(pd.Index([4, 9]))
        (False, False)
        >>> _meaningful_index(pd.Index(["a"])), _meaningful_index(pd.Index([1], name="hour"))
        (True, True)
    """
    if any(n is not None for n in index.names):
        return True
    return not pd.api.types.is_integer_dtype(index.dtype)


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    cells: list[str]
    numeric: bool
    is_index: bool = False


@dataclass(frozen=True, slots=True)
class _Table:
    """A formatted table: HTML in a sideways-scrolling box, and plain text.

    Example:
        >>> t = show(pd.DataFrame({"n_calls": [1200]}), caption="Calls")
        >>> "overflow-x:auto" in t._repr_html_(), str(t).splitlines()
        (True, ['Calls', 'n_calls', '  1,200'])
    """

    columns: tuple[_Column, ...]
    caption: str
    note: str

    def _repr_html_(self) -> str:
        esc = html.escape
        name = esc(self.caption or "table", quote=True)
        head = "".join(
            f'<th scope="col" style="{_CELL_STYLE};text-align:{_align(c)};'
            f'border-bottom:2px solid #9aa5b1;white-space:nowrap">{esc(c.header)}</th>'
            for c in self.columns
        )
        n_rows = len(self.columns[0].cells) if self.columns else 0
        body = []
        for i in range(n_rows):
            cells = []
            for c in self.columns:
                tag = "th" if c.is_index else "td"
                scope = ' scope="row"' if c.is_index else ""
                wrap = ";white-space:nowrap" if c.numeric else ""
                weight = ";font-weight:600" if c.is_index else ""
                cells.append(
                    f'<{tag}{scope} style="{_CELL_STYLE};text-align:{_align(c)}{wrap}{weight}">'
                    f"{esc(c.cells[i])}</{tag}>"
                )
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = (
            f'<div style="font-weight:600;margin:0.2em 0">{esc(self.caption)}</div>'
            if self.caption
            else ""
        )
        note = (
            f'<div style="font-size:0.85em;color:#52606d;margin-top:0.2em">{esc(self.note)}</div>'
            if self.note
            else ""
        )
        return (
            f'<div class="sl-show sl-table">{caption}'
            f'<div role="region" aria-label="{name}" tabindex="0" style="{_BOX_STYLE}">'
            f'<table style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>{note}</div>"
        )

    def __str__(self) -> str:
        widths = [max([len(c.header)] + [len(x) for x in c.cells]) for c in self.columns]
        lines = [self.caption] if self.caption else []

        def row(values: Iterable[str]) -> str:
            parts = [
                v.rjust(w) if c.numeric else v.ljust(w)
                for v, w, c in zip(values, widths, self.columns, strict=True)
            ]
            return "  ".join(parts).rstrip()

        lines.append(row(c.header for c in self.columns))
        n_rows = len(self.columns[0].cells) if self.columns else 0
        lines.extend(row(c.cells[i] for c in self.columns) for i in range(n_rows))
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _align(column: _Column) -> str:
    return "right" if column.numeric else "left"


def _build_table(data: pd.DataFrame | pd.Series, options: _ShowOptions) -> _Table:
    frame = (
        data.to_frame(name=data.name if data.name is not None else "value")
        if isinstance(data, pd.Series)
        else data
    )
    overrides: dict[str, Kind] = {}
    for key, kind in _KIND_OPTIONS.items():
        for column in options.get(key, ()):
            known = [str(c) for c in frame.columns] + [str(n) for n in frame.index.names]
            if str(column) not in known:
                raise ValueError(f"{key}={column!r} is not a column; columns: {known}")
            overrides[str(column)] = kind
    max_rows = int(options.get("max_rows", DEFAULT_MAX_ROWS))
    if max_rows < 1:
        raise ValueError(f"max_rows={max_rows} must be at least 1")
    shown = frame.head(max_rows)
    columns: list[_Column] = []
    with_index = options.get("index", _meaningful_index(frame.index))
    if with_index:
        for level, name in enumerate(shown.index.names):
            values = pd.Series(shown.index.get_level_values(level), index=None)
            columns.append(_column(name, values, overrides, is_index=True))
    for name in shown.columns:
        columns.append(_column(name, shown[name].reset_index(drop=True), overrides))
    note = ""
    if len(frame) > max_rows:
        note = f"First {_count(max_rows)} of {_count(len(frame))} rows."
    elif frame.empty:
        note = "No rows."
    return _Table(tuple(columns), str(options.get("caption", "")), note)


def _column(
    name: object, values: pd.Series, overrides: dict[str, Kind], *, is_index: bool = False
) -> _Column:
    label = _label(name)
    kind = overrides.get(label) or _kind(name, values)
    if kind == "when":
        tz = getattr(values.dtype, "tz", None)
        if tz is not None:
            label = f"{label} ({tz})".strip()
    cells = _format_column(values, kind)
    return _Column(label, cells, kind in _NUMERIC_KINDS, is_index)


# -- charts --------------------------------------------------------------------------------
#: Default alt text a chart helper computed from the data it drew, per figure (weak: a
#: closed and forgotten figure leaves nothing behind).
_DESCRIBED: Final[weakref.WeakKeyDictionary[Any, str]] = weakref.WeakKeyDictionary()


def _figure_of(obj: Any) -> Any:
    """The matplotlib Figure of a Figure, an Axes, or a sequence/array of Axes (else None)."""
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return None
    if isinstance(obj, np.ndarray):
        obj = obj.ravel().tolist()
    if isinstance(obj, (list, tuple)) and obj:
        obj = obj[0]
    if hasattr(obj, "savefig") and hasattr(obj, "axes"):
        return obj
    figure = getattr(obj, "figure", None)
    while figure is not None and not hasattr(figure, "savefig"):  # a SubFigure: its parent
        figure = getattr(figure, "figure", None)
    return figure


def _describe(obj: Any, alt: str | None = None) -> Any:
    """Give ``obj``'s figure a default alt text; returns ``obj``.

    The house chart helpers call it: with ``alt`` a sentence they computed, or with None to
    have :func:`_auto_alt` describe the figure from what is drawn on it when it is shown
    (so what a notebook adds later is described too). ``show(ax, alt=...)`` still wins.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots()
        >>> _ = _describe(ax, "A line that rises.")
        >>> show(ax).alt
        'A line that rises.'
    """
    figure = _figure_of(obj)
    if figure is not None:
        _DESCRIBED[figure] = alt or ""
    return obj


def _default_alt(obj: Any) -> str:
    """The alt text the chart helpers give ``obj`` (empty when no helper drew it).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(); _default_alt(ax)
        ''
        >>> plt.close(fig)
    """
    figure = _figure_of(obj)
    if figure is None or figure not in _DESCRIBED:
        return ""
    return _DESCRIBED[figure] or _auto_alt(figure)


#: Series described per panel in an automatic alt text; more are counted, not described.
_MAX_SERIES: Final = 4


def _axis_text(axis: Any) -> Callable[[Any], str]:
    """How to write a value of ``axis`` in words: its tick formatter when it is the house's
    (dollars, percent), dates as dates, other numbers with three significant digits."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    formatter = axis.get_major_formatter()
    by_label = _kind_by_name(axis.get_label_text())

    def text(v: Any) -> str:
        if isinstance(v, (str, np.str_)):
            return str(v)
        if isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "isoformat"):
            return _when(v)
        if isinstance(formatter, (FuncFormatter, PercentFormatter)):
            return str(formatter(float(v), None))
        if by_label == "pct" and abs(float(v)) <= 1:  # "Cumulative share" drawn as 0..1
            return _pct(v)
        return _number(v)

    return text


def _title(ax: Any) -> str:
    return next((t for loc in ("left", "center", "right") if (t := ax.get_title(loc=loc))), "")


def _series_sentences(ax: Any) -> list[str]:
    xt, yt = _axis_text(ax.xaxis), _axis_text(ax.yaxis)
    out = []
    lines = [
        ln
        for ln in ax.get_lines()
        if ln.get_transform() is ax.transData and len(np.atleast_1d(ln.get_xdata())) > 1
    ]  # data series: not axhline/axvline markers, not the one-point ticks of empty bars
    for ln in lines[:_MAX_SERIES]:
        x = list(pd.Series(np.atleast_1d(ln.get_xdata(orig=True))))
        y = np.asarray(ln.get_ydata(orig=True), dtype=float)
        if not np.isfinite(y).any():
            continue
        top = int(np.nanargmax(y))
        label = ln.get_label()
        named = len(lines) > 1 and label and not label.startswith("_")
        name = f"{label}: " if named else ""
        out.append(
            f"{name}{yt(y[0])} at {xt(x[0])} to {yt(y[-1])} at {xt(x[-1])}, "
            f"highest {yt(y[top])} at {xt(x[top])}"
        )
    if len(lines) > _MAX_SERIES:
        out.append(f"and {len(lines) - _MAX_SERIES} more lines")
    for ln in ax.get_lines():  # markers: a budget line, an onset
        xs, ys = np.atleast_1d(ln.get_xdata()), np.atleast_1d(ln.get_ydata())
        label = ln.get_label()
        if ln.get_transform() is not ax.transData and len(xs) == 2 and not label.startswith("_"):
            if xs[0] == xs[1]:
                out.append(f"{label} marked at {xt(ln.get_xdata(orig=True)[0])}")
            elif ys[0] == ys[1]:
                out.append(f"{label} marked at {yt(ys[0])}")
    for container in ax.containers:
        out.extend(_bar_sentence(ax, container))
    return out


def _bar_sentence(ax: Any, container: Any) -> list[str]:
    from matplotlib.container import BarContainer

    if not isinstance(container, BarContainer) or not len(container.patches):
        return []
    horizontal = getattr(container, "orientation", "vertical") == "horizontal"
    values = np.asarray(container.datavalues, dtype=float)
    category_axis = ax.yaxis if horizontal else ax.xaxis
    ticks = {
        round(float(t.get_position()[1 if horizontal else 0]), 6): t.get_text()
        for t in category_axis.get_ticklabels()
    }
    names = []
    for patch in container.patches:
        centre = (
            patch.get_y() + patch.get_height() / 2
            if horizontal
            else (patch.get_x() + patch.get_width() / 2)
        )
        names.append(ticks.get(round(centre, 6)) or _number(centre))
    vt = _axis_text(ax.xaxis if horizontal else ax.yaxis)
    label = container.get_label()
    prefix = f"{label}: " if label and not label.startswith("_") else ""
    pairs = list(zip(names, values, strict=True))
    if horizontal:
        pairs = pairs[::-1]  # read top to bottom
    if len(pairs) <= _MAX_SERIES:
        return [prefix + ", ".join(f"{n} {vt(v)}" for n, v in pairs)]
    hi = max(pairs, key=lambda p: p[1])
    lo = min(pairs, key=lambda p: p[1])
    return [f"{prefix}{len(pairs)} bars, highest {hi[0]} {vt(hi[1])}, lowest {lo[0]} {vt(lo[1])}"]


def _auto_alt(figure: Any) -> str:
    """Describe a figure from what is drawn on it: per panel its title, axes and series.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots()
        >>> _ = ax.plot([1, 2, 3], [5.0, 9.0, 7.0], label="calls"); _ = ax.set_title("Calls")
        >>> _ = ax.set_xlabel("Day"); _ = ax.set_ylabel("Calls per day")
        >>> _auto_alt(fig)
        'Calls (Calls per day by Day): 5.00 at 1 to 7.00 at 3, highest 9.00 at 2.'
        >>> plt.close(fig)
    """
    figure.draw_without_rendering()  # tick labels exist only once the figure is laid out
    panels = []
    for ax in figure.axes:
        title, xl, yl = _title(ax), ax.get_xlabel(), ax.get_ylabel()
        if any(getattr(c, "orientation", "") == "horizontal" for c in ax.containers):
            xl, yl = yl, xl  # horizontal bars: the value is on x
        axes_text = f"{yl} by {xl}" if xl and yl else (yl or xl)
        head = f"{title} ({axes_text})" if title and axes_text else (title or axes_text)
        body = "; ".join(_series_sentences(ax))
        if head or body:
            panels.append(f"{head}: {body}" if head and body else (head or body))
    return " ".join(p.rstrip(".") + "." for p in panels) or ""


@dataclass(frozen=True, slots=True)
class _Chart:
    """A chart as a high-density PNG with alt text (the figure is already closed).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(figsize=(4, 2)); _ = ax.plot([0, 1])
        >>> c = show(fig, alt="A line from 0 to 1.")
        >>> c.width <= 400 and c.height <= 200, 'alt="A line from 0 to 1."' in c._repr_html_()
        (True, True)
    """

    png: bytes
    width: int  # CSS pixels; the image has PIXEL_RATIO times as many
    height: int
    alt: str

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI (for self-contained HTML)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def _repr_html_(self) -> str:
        return (
            f'<img class="sl-show sl-chart" src="{self.data_uri}" '
            f'alt="{html.escape(self.alt, quote=True)}" width="{self.width}" '
            f'height="{self.height}" style="max-width:100%;height:auto;display:block">'
        )

    def __repr__(self) -> str:
        return f"Chart ({self.width}x{self.height}): {self.alt}"


def _render_chart(obj: Any, alt: str, *, close: bool = True) -> _Chart:
    figure = _figure_of(obj)
    if figure is None:
        raise TypeError(f"not a chart: {type(obj).__name__} (pass a Figure or Axes)")
    text = " ".join(str(alt or _default_alt(obj)).split())
    if not text:
        raise ValueError(
            "alt='' : a chart needs alt text that says what it shows, e.g. "
            'show(ax, alt=f"Daily spend rose from {show.money(a)} to {show.money(b)}")'
        )
    buf = io.BytesIO()
    dpi = CSS_PX_PER_INCH * PIXEL_RATIO
    figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    png = buf.getvalue()
    width, height = _png_size(png)
    return _Chart(png, round(width / PIXEL_RATIO), round(height / PIXEL_RATIO), text)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk.

    Example:
        >>> _png_size(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\x00\\x00\\x00\\rIHDR" + (300).to_bytes(4, "big") + (2).to_bytes(4, "big"))
        (300, 2)
    """
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# -- the public entry point ----------------------------------------------------------------
class _Show:
    """Display a table or a chart the book's way; also the formatting rules for prose.

    ``show(frame_or_series, **options)`` returns a table that renders as HTML in a box that
    scrolls sideways (never wider than the page) and prints as aligned text. Columns are
    formatted by name, then dtype, unless a keyword names them:

    ====================================  ==================================  ===============
    column                                 shown as                           example
    ====================================  ==================================  ===============
    ``*_usd``, ``cost*``, ``price*``,      money (``money=[...]``)            ``$1,234.56``,
    ``spend*``, ``revenue*``, ``*fee*``                                       ``$0.000103``
    ``*share*``, ``*_pct``, ``*rate*``,    percent of a fraction (``pct=``)   ``82.4%``
    ``*margin*``, precision, recall
    integers, ``calls``, ``n_*``,          count (``counts=``)                ``97,483``
    ``*_count``, ``*tokens*``
    datetimes                              date, minutes, seconds if needed   ``2026-02-10``
    timedeltas (or ``durations=``)         words                              ``104 min``
    other floats                           3 significant digits               ``6.52``
    NaN, None, NaT                         en dash                            ``–``
    ====================================  ==================================  ===============

    ``text=[...]`` shows columns as they are; ``caption=``, ``max_rows=`` (default 30) and
    ``index=`` (default: shown when named or not plain row numbers) complete the options.

    ``show(fig_or_axes, alt="...")`` returns the chart as a 2x PNG ``<img>`` with that alt text
    and closes the figure. Alt text is required (a chart helper of :mod:`.charts` may supply
    one computed from its data); write it from the data with an f-string.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"customer_id": ["c1", "c2"], "spend": [1234.5, 0.000103],
        ...                       "cost_share": [0.824, 0.176], "calls": [97483, 12]})
        >>> print(show(frame, caption="Spend by customer"))
        Spend by customer
        customer_id      spend  cost_share   calls
        c1           $1,234.50       82.4%  97,483
        c2           $0.000103       17.6%      12
        >>> print(show(pd.DataFrame({"fee_waived": [0.25], "elapsed_s": [6.52]}),
        ...            pct=["fee_waived"], durations=["elapsed_s"]))
        fee_waived  elapsed_s
             25.0%     6.52 s
    """

    __slots__ = ()

    def __call__(self, obj: Any, /, **options: Unpack[_ShowOptions]) -> _Table | _Chart:
        unknown = sorted(set(options) - set(_ShowOptions.__annotations__))
        if unknown:
            raise TypeError(
                f"show() got unknown option(s) {unknown}; known: "
                f"{sorted(_ShowOptions.__annotations__)}"
            )
        if isinstance(obj, (pd.DataFrame, pd.Series)):
            if "alt" in options:
                raise TypeError("alt= is for charts; a table takes caption=")
            return _build_table(obj, options)
        if _figure_of(obj) is not None:
            extra = sorted(set(options) - {"alt"})
            if extra:
                raise TypeError(f"a chart takes only alt=, not {extra}")
            return _render_chart(obj, options.get("alt", ""))
        raise TypeError(
            f"show() takes a DataFrame, a Series, a Figure or Axes, not {type(obj).__name__}"
        )

    def __repr__(self) -> str:
        return "showcase_lib.report.show"

    @staticmethod
    def money(value: float) -> str:
        """Dollars as in tables: ``$1,234.56``; three significant digits below $1.

        Example:
            >>> show.money(1234.564), show.money(0.000103), show.money(-12)
            ('$1,234.56', '$0.000103', '-$12.00')
        """
        return _money(value)

    @staticmethod
    def pct(value: float) -> str:
        """A fraction as a percentage: ``0.824`` -> ``82.4%``.

        Example:
            >>> show.pct(0.824), show.pct(0.4)
            ('82.4%', '40.0%')
        """
        return _pct(value)

    @staticmethod
    def count(value: float) -> str:
        """A whole number with separators.

        Example:
            >>> show.count(97483.0)
            '97,483'
        """
        return _count(value)

    @staticmethod
    def number(value: float) -> str:
        """Any other number: three significant digits, whole from 100 up.

        Example:
            >>> show.number(6.521038297000018), show.number(1533.498124769558)
            ('6.52', '1,533')
        """
        return _number(value)

    @staticmethod
    def duration(value: Any) -> str:
        """A Timedelta (or seconds) in words.

        Example:
            >>> show.duration(pd.Timedelta("3 days 07:51:12.893")), show.duration(2.5)
            ('3 d 7 h 51 min', '2.5 s')
        """
        return _duration(value)

    @staticmethod
    def when(value: Any) -> str:
        """A timestamp: the date at midnight, else minutes (seconds when needed) and the zone.

        Example:
            >>> show.when(pd.Timestamp("2026-02-10 11:20:57.919", tz="UTC"))
            '2026-02-10 11:20:57 UTC'
        """
        return _when(value)


#: The one display entry point (an instance, so the formatting rules ride along as methods).
show: Final = _Show()
