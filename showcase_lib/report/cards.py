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

import base64
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from showcase_lib.report.charts import format_usd

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
    """Format one value for display by its unit (usd, pct, count, ms, ratio, ...).

    Text is returned unchanged; NaN shows as "n/a".

    Example:
        >>> _format_value(0.256, "pct"), _format_value(1234.5, "usd"), _format_value(3.0, "ratio")
        ('25.6%', '$1.2K', '3.00x')
        >>> _format_value("unknown", "usd")
        'unknown'
    """
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if unit == "usd":
        return format_usd(v)
    if unit == "pct":
        return f"{v:.1%}"
    if unit == "ms":
        return f"{v:,.0f} ms"
    if unit == "ratio":
        return f"{v:,.2f}x"
    if unit == "tokens":
        return f"{v:,.0f} tokens"
    if unit in ("hours", "minutes"):
        return f"{v:,.1f} {unit}"
    if unit == "points":
        return f"{v:,.1f} pts"
    if unit == "count":
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
    return f"{v:,.4g}"


def _figure_to_base64(fig: Any, *, dpi: int = 110) -> str:
    """Encode a matplotlib Figure (or an Axes' figure) as base64 PNG text.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(); _ = ax.plot([0, 1])
        >>> _figure_to_base64(fig)[:8]
        'iVBORw0K'
        >>> plt.close(fig)
    """
    fig = getattr(fig, "figure", fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass(frozen=True)
class _ChartImage:
    """A chart ready to embed: base64 PNG and its alt text."""

    b64: str
    alt: str

    @classmethod
    def from_figure(cls, fig: Any, alt: str | None = None, *, close: bool = True) -> _ChartImage:
        """Encode ``fig`` (Figure or Axes); alt text defaults to the axes title.

        Example:
            >>> import matplotlib.pyplot as plt
            >>> fig, ax = plt.subplots(); _ = ax.set_title("Cost", loc="left")
            >>> _ChartImage.from_figure(ax).alt
            'Cost'
        """
        figure = getattr(fig, "figure", fig)
        if alt is None:
            titles = [
                t
                for a in figure.axes
                for loc in ("left", "center", "right")
                if (t := a.get_title(loc=loc))
            ]
            alt = "; ".join(titles) or "chart"
        img = cls(_figure_to_base64(figure), alt)
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)
        return img


def _cell(value: Any, column: str) -> dict[str, Any]:
    unit = "count"
    col = column.lower()
    if "usd" in col or col.startswith("cost") or "revenue" in col or "margin_usd" in col:
        unit = "usd"
    elif col.endswith(("pct", "share", "rate", "compliance", "used")) or col == "margin_pct":
        unit = "pct"
    elif col.endswith("_ms"):
        unit = "ms"
    elif col in ("roi", "ratio") or col.endswith("_ratio"):
        unit = "ratio"
    num = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if num and unit == "count" and not float(value).is_integer():
        text = f"{float(value):,.4g}"
    else:
        text = _format_value(value, unit)
    return {"text": text, "num": num}


def _table(name: str, frame: pd.DataFrame, max_rows: int) -> dict[str, Any]:
    shown = frame.head(max_rows)
    columns = [str(c) for c in shown.columns]
    rows = [
        [_cell(v, c) for v, c in zip(row, columns, strict=True)]
        for row in shown.itertuples(index=False, name=None)
    ]
    return {
        "name": name,
        "columns": columns,
        "rows": rows,
        "total": len(frame),
        "truncated": len(frame) > max_rows,
    }


class ReportCards:
    """The four cards of one analyzer or scenario result, as HTML.

    ``charts`` are matplotlib Figures/Axes (or :class:`_ChartImage`); ``tables`` names entries of
    ``result.tables`` to show (first ``MAX_TABLE_ROWS`` rows) in the Results card.

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
        self.charts = [
            c if isinstance(c, _ChartImage) else _ChartImage.from_figure(c) for c in charts
        ]
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
