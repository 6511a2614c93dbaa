"""Chart helpers: readable when shrunk to a phone, no empty bars, no overlaps, computed alt."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.dates import ConciseDateFormatter

from showcase_lib.report import charts, show
from showcase_lib.report._display import _png_size

PHONE_PX = 360  # a 390 px phone less the page's margins


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _smallest_text_on_phone(fig) -> float:
    """CSS px of the smallest text once the image is shrunk to PHONE_PX wide."""
    fig.draw_without_rendering()
    width_px = fig.get_size_inches()[0] * 100
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    points_to_css = 100 / 72
    return min(sizes) * points_to_css * min(1.0, PHONE_PX / width_px)


def test_house_charts_stay_readable_on_a_phone():
    s = pd.Series([1.0, 2.5, 2.0], index=pd.date_range("2026-01-01", periods=3, tz="UTC"))
    ax = charts.line(s, title="Daily cost", ylabel="Cost (USD)", money=True)
    # was 10 pt at 900 px wide: 5.5 px on a phone
    assert _smallest_text_on_phone(ax.figure) >= 8.5


def test_side_by_side_width_is_capped():
    axes = charts.side_by_side(["Without Revenium", "With Revenium"], figsize=(11, 3.6))
    assert axes[0].figure.get_size_inches()[0] <= 9.6


def test_dates_use_few_concise_ticks():
    axes = charts.side_by_side(["Without", "With"])
    hours = pd.date_range("2026-02-01", periods=24 * 14, freq="h", tz="UTC")
    for ax in axes:
        ax.plot(hours, np.arange(len(hours)))
    fig = axes[0].figure
    fig.draw_without_rendering()
    assert isinstance(axes[0].xaxis.get_major_formatter(), ConciseDateFormatter)
    labels = [t.get_text() for t in axes[0].get_xticklabels() if t.get_text()]
    assert len(labels) <= 8 and all(len(text) <= 6 for text in labels)


def test_money_bars_have_few_value_ticks_in_a_panel():
    # 12's side-by-side chart crowded its dollar ticks
    axes = charts.side_by_side(["Without", "With"], figsize=(11, 3.6))
    paid = pd.Series({"cust_0007": 12_345.67})
    charts.bar(
        paid, title="Without", xlabel="USD", ylabel="", money=True, annotate=True, ax=axes[0]
    )
    axes[0].figure.draw_without_rendering()
    ticks = [t for t in axes[0].get_xticklabels() if t.get_text()]
    assert len(ticks) <= 6
    boxes = [t.get_window_extent() for t in ticks]
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))  # no overlap


def test_zero_bars_are_visible_and_labelled():
    # 08's catch-rate chart drew nothing for 0% while the text spoke of orange bars
    table = pd.DataFrame(
        {
            "kind": ["enum_case", "well_formed_but_wrong", "typo"],
            "catch_rate": [1.0, 0.0, 0.5],
            "schema_catchable": [True, False, True],
        }
    )
    ax = charts.chart(table, "catch_rate")
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(markers) == 1
    assert matplotlib.colors.to_hex(markers[0].get_color()) == charts.COLORS.accent.lower()
    texts = {t.get_text() for t in ax.texts}
    assert {"100%", "0%", "50%"} <= texts


def test_bar_colours_follow_the_data_order():
    # horizontal bars are drawn bottom-up; a colour per row used to land on the wrong bar
    s = pd.Series({"loss": -5.0, "profit": 3.0})
    ax = charts.bar(s, title="t", xlabel="x", ylabel="y", color=["red", "blue"])
    by_value = {p.get_width(): matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert by_value == {-5.0: "#ff0000", 3.0: "#0000ff"}
    with pytest.raises(ValueError, match="2 colours for 3 bars"):
        charts.bar(pd.Series([1.0, 2.0, 3.0]), title="t", xlabel="x", ylabel="y", color=["r", "b"])


def test_latency_legend_does_not_cover_the_labels():
    # in 01 the legend covered the "1,984.4 us" label
    table = pd.DataFrame(
        {"p50_us": [1984.4, 3.1], "p99_us": [4100.0, 9.5]},
        index=["Without: blocking POST per call", "With: Tracker.track()"],
    )
    ax = charts.chart(table, "latency")
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    axes_box = ax.get_window_extent(renderer)
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert not box.overlaps(legend), text.get_text()
        assert box.x1 <= axes_box.x1 + 1, f"{text.get_text()} runs out of the axes"


def test_chart_alt_option_and_computed_default():
    top = pd.DataFrame(
        {"total": [5.0, 3.0], "cumulative_share": [0.5, 0.8]},
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    ax = charts.chart(top, "pareto", title="Top 2", alt="Customer a spends most: $5.00.")
    assert show(ax).alt == "Customer a spends most: $5.00."
    auto = show(charts.chart(top, "pareto", title="Top 2")).alt
    assert "a $5.00" in auto and "b $3.00" in auto and "80.0%" in auto


def test_line_alt_says_range_peak_and_markers():
    s = pd.Series([1.0, 2.5, 2.0], index=pd.date_range("2026-01-01", periods=3, tz="UTC"))
    ax = charts.line(s, title="Daily cost", ylabel="Cost (USD)", money=True)
    charts.hline(ax, 2.2, label="budget")
    alt = show(ax).alt
    assert alt == (
        "Daily cost (Cost (USD) by Date (UTC)): $1.00 at 2026-01-01 to $2.00 at 2026-01-03, "
        "highest $2.50 at 2026-01-02; budget marked at $2.20."
    )


def test_side_by_side_alt_describes_both_panels():
    axes = charts.side_by_side(["Without Revenium", "With Revenium"])
    charts.bar(
        pd.Series({"x": 10.0}), title="Without", xlabel="USD", ylabel="", money=True, ax=axes[0]
    )
    charts.bar(pd.Series({"x": 4.0}), title="With", xlabel="USD", ylabel="", money=True, ax=axes[1])
    alt = show(axes).alt
    assert "Without (USD): x $10.0" in alt and "With (USD): x $4.00" in alt


def test_a_figure_not_made_by_the_helpers_needs_alt():
    _fig, ax = plt.subplots()
    ax.plot([0, 1])
    with pytest.raises(ValueError, match="alt text"):
        show(ax)


def test_every_book_figure_renders_sharp_with_alt():
    top = pd.DataFrame(
        {"total": [5.0, 3.0], "cumulative_share": [0.5, 0.8]},
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    chart = show(charts.chart(top, "pareto"))
    w, _h = _png_size(chart.png)
    assert w >= 2 * chart.width - 1 and chart.alt
