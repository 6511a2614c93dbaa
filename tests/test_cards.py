"""Report cards: render what results hold, escape user data, self-contained files."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from showcase_lib.analysis.analyzers._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    comparison_frame,
)
from showcase_lib.report import charts
from showcase_lib.report.cards import (
    ReportCards,
    _environment,
    _format_value,
    _IndexEntry,
    _render_index,
    write_index,
)

EVIL = '<script>alert("x")</script>'


def _result() -> AnalysisResult:
    return AnalysisResult(
        name="profitability",
        title="Customer profitability",
        headline=[Metric("Monthly loss", 1234.5, "usd"), Metric("Worst customer", EVIL, "text")],
        comparison=comparison_frame(
            [("Unprofitable customers", "unknown", 3.0, "count"), ("Margin", 0.25, 0.5, "pct")]
        ),
        findings=[f"Customer {EVIL} loses money."],
        tables={
            "by_customer": pd.DataFrame(
                {"customer_id": [EVIL, "cust_2"], "margin_usd": [-5.0, 10.0]}
            )
        },
        revenium_value=ReveniumValue(("customer_id",), "margin per customer", "guess"),
        story=Story(
            problem=f"{EVIL} is unprofitable",
            solution="tag calls",
            steps=(Step("Tag", "send it", f"track(customer_id='{EVIL}')"),),
        ),
        parameters={"bands": (("strong", 0.7),)},
    )


def test_user_data_is_escaped_everywhere():
    html = ReportCards(_result(), tables=["by_customer"]).to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # in the problem text, a headline tile, a finding, a table cell and the code step
    assert html.count("&lt;script&gt;") >= 5


def test_the_four_cards_render_the_result_values():
    html = ReportCards(_result()).fragment()
    for card in ("Problem", "Solution", "Results", "Implementation"):
        assert f'<span class="rv-badge">{card}</span>' in html
    assert "$1,234.50" in html  # the metric, formatted as show() formats money, not recomputed
    assert "25.0%" in html and "50.0%" in html  # both sides of the comparison
    assert "unknown" in html and "Without Revenium" in html and "With Revenium" in html
    assert "customer_id" in html  # the Revenium-value metadata chip


def test_repr_html_is_the_fragment_and_has_inline_style():
    cards = ReportCards(_result())
    frag = cards._repr_html_()
    assert frag.lstrip().startswith("<style>") and "<html" not in frag


def test_written_file_is_self_contained_with_embedded_chart(tmp_path):
    ax = charts.bar(
        pd.Series({"a": 1.0, "b": 2.0}), title="Margin by customer", xlabel="USD", ylabel="Customer"
    )
    path = ReportCards(_result(), charts=[ax]).write(tmp_path / "sub" / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', html)
    # the alt text show() would give it: computed from the bars drawn
    assert 'alt="Margin by customer (USD by Customer): a 1.00, b 2.00."' in html
    assert not re.search(r'(src|href)="(https?:|//)', html)  # nothing fetched from outside
    assert "<link" not in html and "<script" not in html


def test_index_escapes_titles():
    html = _render_index([_IndexEntry("a.html", EVIL, "x")], title="Reports")
    assert "<script>" not in html and 'href="a.html"' in html


def test_autoescape_is_on_and_templates_come_from_the_package():
    env = _environment()
    assert env.autoescape("report.html") is True
    assert {"report.html", "fragment.html", "index.html"} <= set(env.list_templates())


def test_format_value_units():
    assert _format_value(0.5, "pct") == "50.0%"
    assert _format_value(float("nan"), "usd") == "\u2013"  # an en dash, as in show() tables
    assert _format_value(1500.0, "ms") == "1,500 ms"
    assert _format_value(12.0, "count") == "12"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "$0.00"),
        (0.01234, "$0.0123"),
        (0.99996, "$1.00"),  # rounds up to a dollar: shown as one
        (999.99, "$999.99"),
        (999.999, "$1.0K"),  # never "$1,000.00"
        (1234.5, "$1.2K"),
        (9_999.95, "$10K"),  # never "$10.0K"
        (12_345, "$12K"),
        (999_499, "$999K"),
        (999_999.5, "$1.00M"),  # regression (issue 8): was "$1000K"
        (2_500_000, "$2.50M"),
        (99_999_999, "$100M"),
        (999_999_999.5, "$1.00B"),  # was "$1000.0M"
        (-999_999.5, "-$1.00M"),  # was "-$1000K"
        (-1234.5, "-$1.2K"),
    ],
)
def test_format_usd_moves_to_the_next_unit_when_rounding_reaches_it(value, text):
    assert charts.format_usd(value) == text


def test_format_usd_never_shows_four_digits_before_a_unit():
    for exp in range(3, 12):
        for v in (10**exp - 0.5, 10**exp - 0.005, -(10**exp) + 0.5):
            t = charts.format_usd(v)
            digits = t.lstrip("-$").rstrip("KMB").split(".")[0].replace(",", "")
            assert len(digits) <= 3 or t[-1] not in "KMB", (v, t)


def test_write_index_links_each_result_with_its_headline(tmp_path):
    page = write_index(
        tmp_path / "index.html", {"profitability.html": _result()}, title="Reports"
    ).read_text(encoding="utf-8")
    assert 'href="profitability.html"' in page and "Customer profitability" in page
    assert "Monthly loss: $1,234.50" in page  # the first two headline metrics, formatted
    assert EVIL not in page and "&lt;script&gt;" in page


def test_chart_dispatches_by_kind_and_by_result():
    top = pd.DataFrame(
        {"total": [5.0, 3.0], "cumulative_share": [0.5, 0.8]},
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    assert charts.chart(top, "pareto", title="Top").get_title(loc="left") == "Top"
    curve = charts.chart(pd.Series({"a": 1.0, "b": 3.0}), "lorenz", gini=0.25)
    xs, ys = curve.lines[1].get_data()
    assert list(xs) == [0.0, 0.5, 1.0] and list(ys) == [0.0, 0.25, 1.0]
    ax = charts.chart((100.0, 40.0), "without_with", title="Cost", ylabel="USD")
    assert len(ax.patches) == 2
    assert charts.chart(AnalysisResult("unknown", "U")) is None
    with pytest.raises(ValueError, match="kind='pie'"):
        charts.chart(top, "pie")
    matplotlib.pyplot.close("all")


def _contrast(fg: str, bg: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_card_badges_pass_wcag_aa_contrast():
    """White badge text on each section colour needs >= 4.5:1 (WCAG 2.x AA, normal text)."""
    import re
    from pathlib import Path

    css = (
        Path(__file__).resolve().parents[1] / "showcase_lib/report/templates/style.css"
    ).read_text()
    badges = re.findall(r"\.rv-(\w+) \.rv-badge \{ background: (#[0-9A-Fa-f]{6}); \}", css)
    assert len(badges) == 4, badges
    low = {name: round(_contrast("#ffffff", colour), 2) for name, colour in badges}
    assert all(v >= 4.5 for v in low.values()), low


def test_card_grid_fits_a_phone():
    """A fixed 440 px grid minimum cut text mid-word on a 390 px screen."""
    from pathlib import Path

    css = (
        Path(__file__).resolve().parents[1] / "showcase_lib/report/templates/style.css"
    ).read_text()
    assert "minmax(min(100%," in css


def test_cards_take_show_charts_and_format_like_show():
    from showcase_lib.report import show

    ax = charts.bar(pd.Series({"a": 1.0}), title="t", xlabel="USD", ylabel="")
    chart = show(ax, alt='Customer "a" spent $1.00')
    html = ReportCards(_result(), charts=[chart], tables=["by_customer"]).to_html()
    assert 'alt="Customer &#34;a&#34; spent $1.00"' in html
    assert f'width="{chart.width}" height="{chart.height}"' in html  # sized: sharp, no reflow
    assert "-$5.00" in html and "$10.00" in html  # margin_usd as show() writes money
    assert html.count('class="rv-scroll"') >= 2  # each table scrolls in its own box
