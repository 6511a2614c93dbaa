"""HTML report cards: Problem, Solution, Results (before/after) and Implementation.

Cards render what an analyzer (or a scenario) returned -- an analyzer result of
:mod:`showcase_lib.analysis.analyzers` or :mod:`showcase_lib.analysis.scenarios` -- and compute no business
numbers: they only format values for display. Templates live in ``templates/`` next to this
module, are loaded from the package (not the working directory) and are rendered by Jinja2 with
autoescaping on, so user data such as a customer id containing ``<script>`` shows as text.

A :class:`ReportCards` displays inline in a notebook (``_repr_html_``) and writes a
self-contained HTML file (inline CSS, charts embedded as base64 PNG).

Example:
    >>> import pandas as pd
    >>> from showcase_lib.analysis.analyzers import analyze
    >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
    ...     "provider": "openai", "model": "gpt-4o", "customer_id": ["<b>a</b>", "b"],
    ...     "cost_usd": [1.0, 3.0], "input_tokens": 100, "output_tokens": 10})
    >>> r = analyze("understanding", calls, dimensions=("customer_id",))
    >>> html = ReportCards(r, tables=["by_customer_id"]).to_html()
    >>> "&lt;b&gt;a&lt;/b&gt;" in html and "<b>a</b>" not in html
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from showcase_lib.report._display import (
    MISSING,
    _auto_alt,
    _build_table,
    _Chart,
    _count,
    _default_alt,
    _figure_of,
    _money,
    _number,
    _pct,
    _render_chart,
    _when,
)

__all__ = ["ReportCards", "write_index"]

#: Rows of a detail table shown in the Results card: a dozen fit one screen of a phone.
MAX_TABLE_ROWS = 12


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The Jinja2 _environment: templates from the package, autoescaping on for .html.

    Example:
        >>> _environment().autoescape("report.html")
        True
    """
    return Environment(
        loader=PackageLoader("showcase_lib.report", "templates"),
        autoescape=select_autoescape(["html", "htm", "xml", "css"], default=True),
        trim_blocks=False,
        lstrip_blocks=False,
    )


def _format_value(value: Any, unit: str = "count") -> str:
    """Format one value for display by its unit (usd, pct, count, ms, ratio, ...), with the
    rules of :data:`~showcase_lib.report.show` (``$1,234.56``, ``82.4%``, ``97,483``).

    Text is returned unchanged; NaN and None show as an en dash, as in tables.

    Example:
        >>> _format_value(0.256, "pct"), _format_value(1234.5, "usd"), _format_value(3.0, "ratio")
        ('25.6%', '$1,234.50', '3.00x')
        >>> _format_value(0.000103, "usd"), _format_value("unknown", "usd")
        ('$0.000103', 'unknown')
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp):
        return _when(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    units = {
        "usd": _money,
        "pct": _pct,
        "count": lambda x: _count(x) if float(x).is_integer() else _number(x),
        "ms": lambda x: f"{_count(x)} ms",
        "ratio": lambda x: f"{x:,.2f}x",
        "tokens": lambda x: f"{_count(x)} tokens",
        "hours": lambda x: f"{x:,.1f} hours",
        "minutes": lambda x: f"{x:,.1f} minutes",
        "points": lambda x: f"{x:,.1f} pts",
    }
    return units.get(unit, _number)(v)


@dataclass(frozen=True)
class _ChartImage:
    """A chart ready to embed: a 2x PNG (``data_uri``), its CSS size and alt text.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(); _ = ax.set_title("Cost", loc="left")
        >>> _ = ax.plot([1, 2, 3], [1.0, 3.0, 2.0])
        >>> _ChartImage.from_figure(ax).alt
        'Cost: 1.00 at 1 to 2.00 at 3, highest 3.00 at 2.'
    """

    data_uri: str
    alt: str
    width: int
    height: int

    @classmethod
    def from_chart(cls, chart: _Chart) -> _ChartImage:
        """From what ``show(fig, alt=...)`` returned."""
        return cls(chart.data_uri, chart.alt, chart.width, chart.height)

    @classmethod
    def from_figure(cls, fig: Any, alt: str | None = None, *, close: bool = True) -> _ChartImage:
        """Encode ``fig`` (Figure or Axes). The alt text is ``alt``, else the one ``show``
        would use (a chart helper's description), else a description of what is drawn.
        """
        figure = _figure_of(fig)
        text = alt or _default_alt(fig) or (_auto_alt(figure) if figure is not None else "")
        return cls.from_chart(_render_chart(fig, text or "chart", close=close))


def _table(name: str, frame: pd.DataFrame, max_rows: int) -> dict[str, Any]:
    """A detail table for the template: formatted exactly as ``show(frame)`` formats it.

    Example:
        >>> t = _table("by_customer", pd.DataFrame({"cost_usd": [0.000103], "calls": [1200]}), 12)
        >>> t["columns"], [[c["text"] for c in row] for row in t["rows"]]
        (['cost_usd', 'calls'], [['$0.000103', '1,200']])
    """
    built = _build_table(frame, {"max_rows": max_rows})
    n_rows = len(built.columns[0].cells) if built.columns else 0
    return {
        "name": name,
        "columns": [c.header for c in built.columns],
        "rows": [
            [{"text": c.cells[i], "num": c.numeric} for c in built.columns] for i in range(n_rows)
        ],
        "total": len(frame),
        "truncated": len(frame) > max_rows,
    }


class ReportCards:
    """The four cards of one analyzer or scenario result, as HTML.

    ``charts`` are what ``show(fig, alt=...)`` returned, or matplotlib Figures/Axes (their alt
    text is then the one ``show`` would use); ``tables`` names entries of ``result.tables`` to
    show (first ``MAX_TABLE_ROWS`` rows, formatted as ``show`` formats them) in the Results card.

    Example:
        >>> from types import SimpleNamespace
        >>> cards = ReportCards(SimpleNamespace(name="x", title="X", tables={}))
        >>> "Implementation" in cards._repr_html_()
        True
    """

    def __init__(
        self,
        result: Any,
        *,
        charts: Iterable[Any] = (),
        tables: Sequence[str] = (),
        subtitle: str = "",
        source: str = "the records passed to the analyzer",
    ) -> None:
        self.result = result
        self.charts = [_chart_image(c) for c in charts]
        self.table_names = list(tables)
        self.subtitle = subtitle
        self.source = source
        self.max_rows = MAX_TABLE_ROWS

    # -- the view model: formatting only --------------------------------------------------
    def context(self) -> dict[str, Any]:
        """What the templates receive (all values already formatted as text).

        Example:
            >>> from types import SimpleNamespace
            >>> ReportCards(SimpleNamespace(name="x", title="X", tables={})).context()["title"]
            'X'
        """
        r = self.result
        story = getattr(r, "story", None)
        comparison = getattr(r, "comparison", pd.DataFrame())
        rows = [
            {
                "aspect": str(row.aspect),
                "without": _format_value(row.without_revenium, str(row.unit)),
                "with_": _format_value(row.with_revenium, str(row.unit)),
            }
            for row in comparison.itertuples(index=False)
        ]
        tables = [
            _table(n, r.tables[n], self.max_rows)
            for n in self.table_names
            if n in getattr(r, "tables", {})
        ]
        params = getattr(r, "parameters", {}) or {}
        return {
            "title": r.title,
            "subtitle": self.subtitle,
            "source": self.source,
            "problem": story.problem if story else "",
            "solution": story.solution if story else "",
            "steps": list(story.steps) if story else [],
            "metrics": [
                {"label": m.label, "text": _format_value(m.value, m.unit), "note": m.note}
                for m in getattr(r, "headline", [])
            ],
            "value": getattr(r, "revenium_value", None),
            "comparison": rows,
            "findings": list(getattr(r, "findings", [])),
            "charts": self.charts,
            "tables": tables,
            "parameters": [(str(k), _param_text(v)) for k, v in params.items()],
        }

    # -- rendering ---------------------------------------------------------------------------
    def fragment(self) -> str:
        """The cards as an HTML fragment with its own ``<style>`` (for notebooks)."""
        return _environment().get_template("fragment.html").render(r=self.context())

    def _repr_html_(self) -> str:
        return self.fragment()

    def to_html(self) -> str:
        """A complete, self-contained HTML document (inline CSS and images)."""
        return _environment().get_template("report.html").render(r=self.context())

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path`` (parent folders created); returns the path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_html(), encoding="utf-8")
        return p


def _chart_image(chart: Any) -> _ChartImage:
    if isinstance(chart, _ChartImage):
        return chart
    if isinstance(chart, _Chart):
        return _ChartImage.from_chart(chart)
    return _ChartImage.from_figure(chart)


def _param_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_param_text(v)}" for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return ", ".join(_param_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class _IndexEntry:
    """One line of an index page: link, title and a one-line headline.

    Example:
        >>> _IndexEntry(href="realtime.html", title="Real-time", summary="3 anomalies").href
        'realtime.html'
    """

    href: str
    title: str
    summary: str = ""


def _render_index(entries: Sequence[_IndexEntry], *, title: str, subtitle: str = "") -> str:
    """A self-contained index page linking the reports.

    Example:
        >>> "a.html" in _render_index([_IndexEntry("a.html", "A")], title="Reports")
        True
    """
    return (
        _environment()
        .get_template("index.html")
        .render(entries=entries, title=title, subtitle=subtitle)
    )


def write_index(
    path: str | Path,
    reports: Mapping[str, Any],
    *,
    title: str,
    subtitle: str = "",
) -> Path:
    """Write an index page linking the reports to ``path``; returns the path.

    ``reports`` maps each report's file name (relative to the index) to the result it shows;
    each line carries the result's title and its first two headline metrics. Text is escaped.

    Example:
        >>> import tempfile, pathlib
        >>> from types import SimpleNamespace
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "index.html"
        >>> p = write_index(out, {"a.html": SimpleNamespace(title="<A>", headline=[])}, title="Reports")
        >>> "&lt;A&gt;" in p.read_text()
        True
    """
    entries = [
        _IndexEntry(
            str(href),
            str(getattr(result, "title", href)),
            "; ".join(
                f"{m.label}: {_format_value(m.value, m.unit)}"
                for m in list(getattr(result, "headline", []))[:2]
            ),
        )
        for href, result in reports.items()
    ]
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(_render_index(entries, title=title, subtitle=subtitle), encoding="utf-8")
    return p
