"""Part D charts: one summary chart per analyzer result, and the scenario charts of notebooks
11-13 (sensitivity, spike timeline, pricing), drawn through :func:`.charts.chart`. House style
from :mod:`.charts`; every function takes computed data and returns the matplotlib ``Axes``.

Example:
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(name="pricing", title="Pricing", tables={"summary": pd.DataFrame({
    ...     "model": ["flat", "tiered"], "monthly_margin_usd": [10.0, 12.0]})})
    >>> chart_for(r).get_title(loc="left")
    'Monthly gross margin by pricing model'
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from showcase_lib.report import charts
from showcase_lib.report.charts import COLORS

__all__ = [
    "ab_test_chart",
    "chart_for",
    "close_all",
    "grouped_bars",
    "model_savings_sensitivity",
    "pricing_margin_sensitivity",
    "spike_timeline",
    "without_with_bars",
]


def _date_axis(ax: Axes) -> Axes:
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return ax


def _top(frame: pd.DataFrame, key: str, value: str, n: int = 10) -> pd.Series:
    return frame.set_index(key)[value].astype(float).head(n)


def chart_for(result) -> Axes | None:
    """The summary chart of an analyzer result (by ``result.name``), or None if it has none.

    Example:
        >>> from types import SimpleNamespace
        >>> chart_for(SimpleNamespace(name="unknown", tables={})) is None
        True
    """
    t = result.tables
    name = result.name
    if name == "understanding" and "daily" in t:
        daily = t["daily"].set_index(t["daily"].columns[0])["cost_usd"].rename("actual")
        ax = charts.line(daily, title="Daily AI cost and forecast", ylabel="Cost (USD)", money=True)
        _date_axis(ax)
        fc = getattr(result, "forecast", None)
        if fc is not None and len(fc):
            ax.plot(fc.index, fc["forecast"], color=COLORS.accent, linestyle="--", label="forecast")
            charts._band(ax, fc.index, fc["lower"], fc["upper"])
            ax.legend()
        return ax
    if name == "performance" and "efficiency" in t:
        s = _top(
            t["efficiency"].sort_values("cost_per_success_usd", ascending=False),
            "model",
            "cost_per_success_usd",
            12,
        )
        return charts.bar(
            s,
            title="Cost per successful call by model",
            xlabel="Cost per successful call (USD)",
            ylabel="Model",
            money=True,
        )
    if name == "realtime" and "budgets" in t:
        s = _top(t["budgets"], t["budgets"].columns[0], "used", 10) * 100
        ax = charts.bar(
            s,
            title="Month-to-date budget used, top customers",
            xlabel="Budget used (%)",
            ylabel="Customer",
            color=[COLORS.accent if v >= 100 else COLORS.palette[0] for v in s.to_numpy()],
        )
        ax.axvline(100, color=COLORS.accent, linestyle=":", linewidth=1.2)
        return ax
    if name == "optimization" and "opportunities" in t:
        s = _top(t["opportunities"], "lever", "monthly_saving_usd")
        return charts.bar(
            s,
            title="Monthly savings by lever",
            xlabel="Saving (USD per month)",
            ylabel="Lever",
            money=True,
            color=COLORS.good,
            annotate=True,
        )
    if name == "alignment":
        key = next((k for k in t if k.startswith("chargeback_")), None)
        if key is None:
            return None
        frame = t[key]
        dim = frame.columns[0]
        s = frame.set_index(dim)["even_split_error_usd"].sort_values().head(10)
        return charts.bar(
            s,
            title=f"Even split minus fair chargeback, by {dim}",
            xlabel="Over (+) / under (-) charged (USD)",
            ylabel=dim,
            money=True,
            color=[COLORS.good if v >= 0 else COLORS.accent for v in s.to_numpy()[::-1]][::-1],
        )
    if name == "profitability" and "by_customer" in t:
        s = _top(t["by_customer"], "customer_id", "margin_usd", 10)
        return charts.bar(
            s,
            title="Lowest-margin customers (period)",
            xlabel="Gross margin (USD)",
            ylabel="Customer",
            money=True,
            color=[COLORS.accent if v < 0 else COLORS.palette[0] for v in s.to_numpy()],
        )
    if name == "pricing" and "summary" in t:
        s = _top(t["summary"], "model", "monthly_margin_usd")
        return charts.bar(
            s,
            title="Monthly gross margin by pricing model",
            xlabel="Gross margin (USD per month)",
            ylabel="Pricing model",
            money=True,
            annotate=True,
        )
    if name == "features" and "by_feature" in t:
        s = _top(t["by_feature"], "feature_id", "roi", 16)
        return charts.bar(
            s,
            title="Return on AI cost by feature",
            xlabel="(Attributed revenue - AI cost) / AI cost",
            ylabel="Feature",
            color=[COLORS.accent if v < 0 else COLORS.palette[0] for v in s.to_numpy()],
        )
    return None


def without_with_bars(
    without: float,
    with_: float,
    *,
    title: str,
    ylabel: str,
    money: bool = True,
) -> Axes:
    """Two bars, "Without Revenium" vs "With Revenium", annotated.

    Example:
        >>> without_with_bars(100.0, 40.0, title="Monthly cost", ylabel="USD").get_title(loc="left")
        'Monthly cost'
    """
    s = pd.Series([without, with_], index=["Without Revenium", "With Revenium"])
    return charts.bar(
        s,
        title=title,
        xlabel="",
        ylabel=ylabel,
        money=money,
        horizontal=False,
        color=[COLORS.accent, COLORS.good],
        annotate=True,
    )


def model_savings_sensitivity(
    table: pd.DataFrame,
    *,
    title: str = "Fleet saving vs share of simple traffic",
    mark_x: float | None = None,
) -> Axes:
    """One line per candidate model: fleet saving (%) against the share of simple traffic
    (``table`` is ``model_comparison(...).sensitivity``).

    Example:
        >>> t = pd.DataFrame({"simple_share": [0.2, 0.5] * 2, "fleet_saving_pct": [0.1, 0.3, 0.2, 0.5],
        ...                   "candidate_model": ["a", "a", "b", "b"]})
        >>> len(model_savings_sensitivity(t).get_lines())
        2
    """
    ax = charts._new_axes(title, "Share of traffic that is simple (%)", "Fleet saving (%)")
    by = "candidate_model"
    for name, g in table.groupby(by, sort=False):
        ax.plot(g["simple_share"] * 100, g["fleet_saving_pct"] * 100, marker="o", label=str(name))
    if mark_x is not None:
        charts.vline(ax, mark_x * 100, label="this fleet")
    ax.legend(title=by.replace("_", " "))
    return ax


def spike_timeline(
    spend: pd.DataFrame,
    *,
    onset=None,
    alert=None,
    title: str = "Spiking customer: spend per bucket",
    ylabel: str = "Spend per bucket (USD)",
) -> Axes:
    """Spend of one customer per bucket, actual vs contained, with onset and alert markers.

    ``spend`` has a time index and columns ``actual`` and ``contained`` (USD per bucket).

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC")
        >>> s = pd.DataFrame({"actual": [1.0, 5.0, 5.0], "contained": [1.0, 2.0, 2.0]}, index=idx)
        >>> len(spike_timeline(s, onset=idx[1], alert=idx[2]).get_lines()) >= 2
        True
    """
    ax = charts._new_axes(title, "Time (UTC)", ylabel, money=True)
    _date_axis(ax)
    ax.plot(spend.index, spend["actual"], color=COLORS.accent, label="without Revenium (actual)")
    if "contained" in spend:
        ax.plot(
            spend.index, spend["contained"], color=COLORS.good, label="with Revenium (rate-limited)"
        )
        ax.fill_between(
            spend.index,
            spend["contained"],
            spend["actual"],
            color=COLORS.accent,
            alpha=0.12,
            linewidth=0,
            label="prevented spend",
        )
    if onset is not None:
        charts.vline(ax, onset, label="spike onset", color=COLORS.muted)
    if alert is not None:
        charts.vline(ax, alert, label="alert", color=COLORS.palette[0], style="-")
    ax.legend(loc="upper left")
    return ax


def pricing_margin_sensitivity(
    table: pd.DataFrame,
    *,
    target_margin: float | None = None,
    target_label: str = "target margin",
    title: str = "Monthly margin vs price level",
) -> Axes:
    """Monthly margin of each pricing model against the price multiplier (markup on cost).

    ``table`` is ``pricing_strategy(...).sensitivity``.

    Example:
        >>> t = pd.DataFrame({"markup": [2, 3, 2, 3], "model": ["a", "a", "b", "b"],
        ...                   "monthly_margin_usd": [1.0, 2.0, 1.5, 1.5]})
        >>> len(pricing_margin_sensitivity(t).get_lines())
        2
    """
    ax = charts._new_axes(
        title,
        "Price level (multiple of blended AI cost per 1K tokens)",
        "Gross margin (USD per month)",
        money=True,
    )
    for name, g in table.groupby("model", sort=False):
        ax.plot(g["markup"], g["monthly_margin_usd"], marker="o", label=str(name))
    if target_margin is not None:
        charts.hline(ax, target_margin, label=target_label, color=COLORS.muted)
    ax.legend()
    return ax


def close_all() -> None:
    """Close every open figure (used by the report command between analyzers).

    Example:
        >>> close_all()
    """
    plt.close("all")


def ab_test_chart(
    ab: pd.DataFrame, *, title: str = "A/B test: quality difference vs baseline"
) -> Axes:
    """Difference in (simulated) quality per candidate with its confidence interval and the
    guardrail; green when the whole interval clears it.

    ``ab`` has columns candidate_model, diff, ci_low, ci_high, guardrail, passed.

    Example:
        >>> ab = pd.DataFrame({"candidate_model": ["a"], "diff": [-1.0], "ci_low": [-2.0],
        ...                    "ci_high": [0.0], "guardrail": [-3.0], "passed": [True]})
        >>> ab_test_chart(ab).get_xlabel()
        'Quality difference, candidate - baseline (points)'
    """
    ax = charts._new_axes(
        title, "Quality difference, candidate - baseline (points)", "Candidate model"
    )
    y = list(range(len(ab)))[::-1]
    for yi, row in zip(y, ab.itertuples(index=False), strict=True):
        color = COLORS.good if row.passed else COLORS.accent
        ax.errorbar(
            row.diff,
            yi,
            xerr=[[row.diff - row.ci_low], [row.ci_high - row.diff]],
            fmt="o",
            color=color,
            capsize=4,
        )
    ax.set_yticks(y, [str(m) for m in ab["candidate_model"]])
    charts.vline(ax, float(ab["guardrail"].iloc[0]), label="guardrail", color=COLORS.accent)
    charts.vline(ax, 0.0, label="no difference", color=COLORS.muted)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left")
    return ax


def grouped_bars(
    frame: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, money: bool = False
) -> Axes:
    """Vertical bars grouped by the index, one colour per column (e.g. tier x pricing model).

    Example:
        >>> f = pd.DataFrame({"flat": [1.0, 2.0], "tiered": [1.5, 1.0]}, index=["pro", "starter"])
        >>> len(grouped_bars(f, title="t", xlabel="x", ylabel="y").patches)
        4
    """
    ax = charts._new_axes(title, xlabel, ylabel, money=money)
    n = len(frame.columns)
    width = 0.8 / max(n, 1)
    x = range(len(frame.index))
    for i, col in enumerate(frame.columns):
        ax.bar(
            [xi + (i - (n - 1) / 2) * width for xi in x],
            frame[col].to_numpy(),
            width,
            label=str(col),
            color=COLORS.palette[i % len(COLORS.palette)],
        )
    ax.set_xticks(list(x), [str(v) for v in frame.index])
    ax.grid(axis="x", visible=False)
    ax.legend()
    return ax
