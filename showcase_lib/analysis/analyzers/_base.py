"""What every analyzer returns: a result with tables, headline metrics and a story.

An analyzer is a plain function ``analyze_<name>(calls, ...) -> <Name>Result``. Each result is an
:class:`AnalysisResult`: tables (DataFrames), headline :class:`Metric` values, a before/after
comparison ("Without Revenium" vs "With Revenium"), the :class:`ReveniumValue` (which metadata
made the analysis possible and what a team without it would do instead) and a :class:`Story`
(problem, solution and implementation steps) that ``showcase_lib.report.cards`` renders without
computing anything.

Example:
    >>> m = Metric("Total AI cost", 1234.5, "usd")
    >>> m.unit
    'usd'
    >>> v = ReveniumValue(metadata=("customer_id",), enables="cost per customer",
    ...                   without="split the invoice by hand")
    >>> v.metadata
    ('customer_id',)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

#: Units the report knows how to format.
Unit = Literal["usd", "pct", "count", "ms", "ratio", "tokens", "hours", "minutes", "points", "text"]

#: Days in a billing month used to turn any period into a monthly figure.
DAYS_PER_MONTH = 30.0


@dataclass(frozen=True)
class Metric:
    """One headline number with its unit (``pct`` values are fractions: 0.25 means 25%).

    Example:
        >>> Metric("Share unallocated", 0.25, "pct").value
        0.25
    """

    label: str
    value: float | str
    unit: Unit = "count"
    note: str = ""


@dataclass(frozen=True)
class Step:
    """One implementation step: a title, a sentence and a code snippet (Python).

    Example:
        >>> Step("Tag calls", "Send customer_id with every call.", "track(customer_id='c1')").title
        'Tag calls'
    """

    title: str
    text: str
    code: str = ""


@dataclass(frozen=True)
class Story:
    """The narrative of a report: problem, solution and implementation steps.

    Example:
        >>> Story(problem="p", solution="s").steps
        ()
    """

    problem: str
    solution: str
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class ReveniumValue:
    """Why the analysis needs metered metadata.

    ``metadata`` lists the record fields that made it possible, ``enables`` says what they give,
    ``without`` what a team without per-call metadata would have to do instead.

    Example:
        >>> ReveniumValue(("feature_id",), "cost per feature", "guess from logs").enables
        'cost per feature'
    """

    metadata: tuple[str, ...]
    enables: str
    without: str


@dataclass
class AnalysisResult:
    """Common shape of every analyzer (and scenario) result.

    ``comparison`` has columns ``aspect, without_revenium, with_revenium, unit``; values are
    numbers or short text. ``tables`` holds the analyzer's detailed DataFrames by name.

    Example:
        >>> r = AnalysisResult(name="x", title="X")
        >>> r.metric("missing") is None
        True
    """

    name: str
    title: str
    headline: list[Metric] = field(default_factory=list)
    comparison: pd.DataFrame = field(default_factory=lambda: comparison_frame([]))
    findings: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    revenium_value: ReveniumValue | None = None
    story: Story | None = None
    parameters: dict[str, object] = field(default_factory=dict)

    def metric(self, label: str) -> Metric | None:
        """Return the headline metric called ``label`` (or ``None``).

        Example:
            >>> AnalysisResult("x", "X", headline=[Metric("a", 1.0)]).metric("a").value
            1.0
        """
        return next((m for m in self.headline if m.label == label), None)


R = TypeVar("R", bound=AnalysisResult)


def build_result(
    cls: type[R],
    *,
    name: str,
    title: str,
    tables: Mapping[str, pd.DataFrame] | None = None,
    **parts: Any,
) -> R:
    """Assemble an analyzer's result, the one place every analyzer's output is put together.

    ``comparison`` may be given as ``(aspect, without, with, unit)`` rows (they become
    :func:`comparison_frame`); a field of ``cls`` named like one of ``tables`` and not given in
    ``parts`` is filled from that table, so a frame is written once.

    Example:
        >>> @dataclasses.dataclass
        ... class Demo(AnalysisResult):
        ...     summary: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
        >>> r = build_result(Demo, name="demo", title="Demo", tables={"summary": pd.DataFrame({"a": [1]})},
        ...                  comparison=[("Cost", "unknown", 1.0, "usd")])
        >>> r.summary is r.tables["summary"], r.comparison.shape
        (True, (1, 4))
    """
    given = dict(parts)
    comparison = given.get("comparison")
    if comparison is not None and not isinstance(comparison, pd.DataFrame):
        given["comparison"] = comparison_frame(comparison)
    tabs = dict(tables or {})
    names = {f.name for f in dataclasses.fields(cls)}
    for key, table in tabs.items():
        if key in names and key not in given:
            given[key] = table
    return cls(name=name, title=title, tables=tabs, **given)


def comparison_frame(rows: Iterable[tuple[str, object, object, str]]) -> pd.DataFrame:
    """Build a before/after table from ``(aspect, without, with, unit)`` tuples.

    Example:
        >>> comparison_frame([("Cost per customer", "unknown", 12.5, "usd")]).shape
        (1, 4)
    """
    return pd.DataFrame(list(rows), columns=["aspect", "without_revenium", "with_revenium", "unit"])


def require_columns(calls: pd.DataFrame, columns: Sequence[str], *, who: str) -> None:
    """Raise ``ValueError`` naming the first missing column.

    Example:
        >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], who="demo")
    """
    missing = [c for c in columns if c not in calls.columns]
    if missing:
        raise ValueError(
            f"{who}: column {missing[0]!r} is missing from calls "
            f"(has {', '.join(map(str, calls.columns))})"
        )


def require_rows(calls: pd.DataFrame, *, who: str) -> None:
    """Raise ``ValueError`` when ``calls`` is empty.

    Example:
        >>> require_rows(pd.DataFrame({"a": [1]}), who="demo")
    """
    if len(calls) == 0:
        raise ValueError(f"{who}: calls has 0 rows; nothing to analyse")


def period_days(calls: pd.DataFrame) -> float:
    """Length of the period covered by ``calls`` in days (whole days, at least 1).

    Counts calendar days from the first to the last call's UTC date, inclusive.

    Example:
        >>> ts = pd.to_datetime(["2026-01-01 10:00", "2026-01-30 09:00"], utc=True)
        >>> period_days(pd.DataFrame({"timestamp": ts}))
        30.0
    """
    ts = calls["timestamp"]
    first, last = _first_last(ts)
    return float(max(1, (last.normalize() - first.normalize()).days + 1))


def _first_last(ts: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(ts.min(), ts.max())``; for a datetime column without NaT, by numpy's min and max of
    the stored values (pandas builds a missing-value mask for each, ~60 ms at 10M calls)."""
    values = getattr(ts.array, "_ndarray", None)
    if ts.dtype.kind == "M" and values is not None and len(values):
        lo, hi = values.min(), values.max()
        if not (np.isnat(lo) or np.isnat(hi)):
            tz = getattr(ts.dtype, "tz", None)
            first, last = pd.Timestamp(lo), pd.Timestamp(hi)
            if tz is not None:
                first, last = (
                    first.tz_localize("UTC").tz_convert(tz),
                    last.tz_localize("UTC").tz_convert(tz),
                )
            return first, last
    return ts.min(), ts.max()


def monthly_factor(calls: pd.DataFrame) -> float:
    """Multiply a period total by this to get a monthly (30-day) figure.

    Example:
        >>> ts = pd.to_datetime(["2026-01-01", "2026-01-15"], utc=True)
        >>> monthly_factor(pd.DataFrame({"timestamp": ts}))
        2.0
    """
    return DAYS_PER_MONTH / period_days(calls)


def label_missing(values: pd.Series, label: str = "(untagged)") -> pd.Series:
    """Return ``values`` as strings with missing/empty values replaced by ``label``.

    Example:
        >>> label_missing(pd.Series(["a", None, ""])).tolist()
        ['a', '(untagged)', '(untagged)']
    """
    out = values.astype("object")
    empty = out.isna() | (out.astype(str).str.strip() == "")
    return out.where(~empty, label).astype(str)


def safe_div(num: float | np.ndarray | pd.Series, den: float | np.ndarray | pd.Series):
    """Divide, giving NaN where the denominator is zero (no warnings).

    Example:
        >>> float(safe_div(1.0, 0.0)) != float(safe_div(1.0, 0.0))  # NaN
        True
    """
    if isinstance(num, pd.Series) or isinstance(den, pd.Series):
        den_s = den if isinstance(den, pd.Series) else pd.Series(den, index=num.index)
        return num / den_s.where(den_s != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.true_divide(num, den)
    return (
        np.where(np.asarray(den) == 0, np.nan, result)
        if np.ndim(result)
        else (float("nan") if den == 0 else float(result))
    )


def signed_usd(value: float, decimals: int = 0) -> str:
    """Format a dollar change with its sign before the currency symbol.

    Example:
        >>> signed_usd(-8224.93), signed_usd(10390.2), signed_usd(0.5, 2)
        ('-$8,225', '+$10,390', '+$0.50')
    """
    sign = "-" if value < 0 else "+"
    return f"{sign}${abs(value):,.{decimals}f}"
