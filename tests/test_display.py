"""The display layer: every formatting rule, escaping, the scroll box, text, charts."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from showcase_lib.report import show
from showcase_lib.report._display import _png_size

DASH = "\u2013"


def cells(table, header):
    return next(c.cells for c in table.columns if c.header == header)


# -- money ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.564, "$1,234.56"),
        (1_234_567.891, "$1,234,567.89"),
        (0.000103, "$0.000103"),  # a per-call cost keeps 3 significant digits
        (0.0123456, "$0.0123"),
        (0.5, "$0.50"),
        (-12, "-$12.00"),
        (-0.0, "$0.00"),  # never -$0.00
        (0, "$0.00"),
        (float("nan"), DASH),
        (None, DASH),
    ],
)
def test_money(value, text):
    assert show.money(value) == text


def test_money_columns_by_name():
    names = ["cost_usd", "avg_cost_per_call", "price", "spend", "revenue", "margin_usd", "fee"]
    t = show(pd.DataFrame({n: [0.000103] for n in names}))
    assert [c.cells for c in t.columns] == [["$0.000103"]] * len(names)


# -- percentages ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.824, "82.4%"),
        (0.40, "40.0%"),
        (1.5, "150.0%"),
        (0.00004, "0.004%"),
        (-1e-9, "-0.0000001%"),
    ],
)
def test_pct(value, text):
    assert show.pct(value) == text


def test_pct_no_negative_zero_and_names():
    t = show(
        pd.DataFrame(
            {
                "cost_share": [0.8241],  # a share of the cost, not dollars
                "error_pct": [0.25],
                "catch_rate": [0.0],
                "margin": [-0.0],
                "precision": [1.0],
                "recall": [0.5],
            }
        )
    )
    assert [c.cells[0] for c in t.columns] == ["82.4%", "25.0%", "0.0%", "0.0%", "100.0%", "50.0%"]


def test_no_scientific_notation_for_shares():
    # 12 showed 8.24e-01 and 06 8.2553e-05
    t = show(pd.DataFrame({"share": [0.824, 8.2553e-05]}))
    assert cells(t, "share") == ["82.4%", "0.0083%"]


# -- counts --------------------------------------------------------------------------------
def test_counts_by_dtype_and_name():
    t = show(
        pd.DataFrame(
            {
                "anything": np.array([97483, 12], dtype="int64"),
                "calls": [97483.0, 12.0],  # a float count: no .00 (was 97,483.00)
                "n_customers": [60.0, 1.0],
                "error_count": [3.0, 0.0],
                "input_tokens": [1_234_567.0, np.nan],
                "year": [2026, 2027],  # a label: no separator
            }
        )
    )
    assert cells(t, "anything") == ["97,483", "12"]
    assert cells(t, "calls") == ["97,483", "12"]
    assert cells(t, "n_customers") == ["60", "1"]
    assert cells(t, "error_count") == ["3", "0"]
    assert cells(t, "input_tokens") == ["1,234,567", DASH]
    assert cells(t, "year") == ["2026", "2027"]
    assert show.count(97483.0) == "97,483"


def test_nullable_integers():
    t = show(pd.DataFrame({"x": pd.array([1200, None], dtype="Int64")}))
    assert cells(t, "x") == ["1,200", DASH]


# -- timestamps ----------------------------------------------------------------------------
def test_midnight_timestamps_show_the_date_only():
    days = pd.date_range("2026-02-10", periods=2, freq="D", tz="UTC")
    t = show(pd.DataFrame({"day": days, "cost_usd": [1.0, 2.0]}))
    assert cells(t, "day (UTC)") == ["2026-02-10", "2026-02-11"]
    assert "+00:00" not in str(t) and "00:00:00" not in str(t)


def test_times_without_seconds_or_microseconds():
    t = show(pd.DataFrame({"ts": pd.to_datetime(["2026-02-10 11:20", "2026-02-10 12:05"])}))
    assert cells(t, "ts") == ["2026-02-10 11:20", "2026-02-10 12:05"]
    t = show(
        pd.DataFrame(
            {
                "ts": pd.to_datetime(
                    ["2026-02-10 11:20:57.919", "2026-02-10 12:00"], utc=True, format="mixed"
                )
            }
        )
    )
    assert cells(t, "ts (UTC)") == ["2026-02-10 11:20:57", "2026-02-10 12:00:00"]
    assert ".919" not in str(t) and "+00:00" not in t._repr_html_()


def test_when_for_prose():
    assert show.when(pd.Timestamp("2026-02-10", tz="UTC")) == "2026-02-10"
    assert show.when(pd.Timestamp("2026-02-10 11:20:57.919", tz="UTC")) == "2026-02-10 11:20:57 UTC"
    assert show.when(pd.NaT) == DASH


def test_datetime_index_named_is_shown():
    s = pd.Series(
        [1.0, 2.5],
        index=pd.date_range("2026-01-01", periods=2, tz="UTC", name="day"),
        name="cost_usd",
    )
    assert str(show(s)).splitlines() == [
        "day (UTC)   cost_usd",
        "2026-01-01     $1.00",
        "2026-01-02     $2.50",
    ]


# -- durations -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (pd.Timedelta("3 days 07:51:12.893"), "3 d 7 h 51 min"),
        (pd.Timedelta(minutes=104), "104 min"),
        (2.5, "2.5 s"),
        (0.35, "350 ms"),
        (150, "2 min 30 s"),
        (pd.Timedelta(hours=7, minutes=5), "7 h 5 min"),
        (pd.Timedelta(days=2), "2 d"),
        (0, "0 s"),
        (pd.NaT, DASH),
    ],
)
def test_duration(value, text):
    assert show.duration(value) == text


def test_timedelta_column_in_words():
    t = show(pd.DataFrame({"time_to_detect": pd.to_timedelta(["3 days 07:51:12.893", "104 min"])}))
    assert cells(t, "time_to_detect") == ["3 d 7 h 51 min", "104 min"]


# -- other numbers -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (6.521038297000018, "6.52"),  # 04's elapsed_s
        (1533.498124769558, "1,533"),  # 04's records_per_s
        (0.107527, "0.108"),  # 08
        (-0.0001, "-0.000100"),
        (-1e-15, "-1.00e-15"),
        (0.0, "0"),
    ],
)
def test_number(value, text):
    assert show.number(value) == text


def test_other_floats_three_significant_digits_and_nan():
    t = show(pd.DataFrame({"elapsed_s": [6.521038297000018, np.nan], "ratio": [3.0, np.inf]}))
    assert cells(t, "elapsed_s") == ["6.52", DASH]
    assert cells(t, "ratio") == ["3.00", "\u221e"]


# -- overrides and options -----------------------------------------------------------------
def test_keyword_overrides():
    frame = pd.DataFrame({"a": [0.25], "b": [1234.0], "c": [5.0], "d": [90.0], "cost_usd": [7]})
    t = show(frame, pct=["a"], money=["b"], counts=["c"], durations=["d"], text=["cost_usd"])
    assert [c.cells[0] for c in t.columns] == ["25.0%", "$1,234.00", "5", "1 min 30 s", "7"]


def test_unknown_column_and_option_fail_clearly():
    with pytest.raises(ValueError, match=r"money='fees' is not a column"):
        show(pd.DataFrame({"fee": [1.0]}), money=["fees"])
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['captoin'\]"):
        show(pd.DataFrame({"fee": [1.0]}), captoin="x")
    with pytest.raises(TypeError, match="alt= is for charts"):
        show(pd.DataFrame({"fee": [1.0]}), alt="x")
    with pytest.raises(TypeError, match="not list"):
        show([1, 2])


def test_max_rows_and_caption():
    frame = pd.DataFrame({"calls": range(100)})
    t = show(frame, caption="Calls per hour", max_rows=5)
    text = str(t).splitlines()
    assert text[0] == "Calls per hour" and text[-1] == "First 5 of 100 rows."
    assert len(text) == 1 + 1 + 5 + 1
    html = t._repr_html_()
    assert html.count("<tr>") == 6 and "First 5 of 100 rows." in html
    assert len(show(pd.DataFrame({"x": range(100)}))._repr_html_().split("<tr>")) == 1 + 1 + 30


def test_index_only_when_meaningful():
    frame = pd.DataFrame({"cost_usd": [1.0, 2.0]})
    assert str(show(frame)).splitlines()[0].strip() == "cost_usd"  # RangeIndex hidden
    filtered = pd.DataFrame({"cost_usd": [1.0, 2.0]}, index=[7, 42])
    assert "42" not in str(show(filtered))  # leftover row numbers hidden
    named = frame.rename_axis("customer_id")
    assert str(show(named)).splitlines()[0].split() == ["customer_id", "cost_usd"]
    labels = pd.DataFrame({"cost_usd": [1.0]}, index=["gpt-4o"])
    assert "gpt-4o" in str(show(labels))
    assert "gpt-4o" not in str(show(labels, index=False))
    html = show(named)._repr_html_()
    assert '<th scope="row"' in html


def test_series():
    s = pd.Series([0.5, 0.25], index=pd.Index(["a", "b"], name="tier"), name="share")
    assert str(show(s)).splitlines() == ["tier  share", "a     50.0%", "b     25.0%"]
    assert "dtype" not in str(show(s))
    unnamed = pd.Series([1.5, 2.0])
    assert str(show(unnamed)).splitlines() == ["value", " 1.50", " 2.00"]


def test_empty_frame():
    t = show(
        pd.DataFrame({"cost_usd": pd.Series([], dtype=float), "model": pd.Series([], dtype=str)})
    )
    assert str(t).splitlines() == ["cost_usd  model", "No rows."]
    assert "<tbody></tbody>" in t._repr_html_()
    assert str(show(pd.DataFrame())) == "\nNo rows."


def test_multiindex_columns_and_rows():
    frame = pd.DataFrame(
        [[1.0, 0.5]],
        columns=pd.MultiIndex.from_tuples([("cost_usd", "sum"), ("cost_share", "")]),
        index=pd.MultiIndex.from_tuples([("acme", "gpt-4o")], names=["customer_id", "model"]),
    )
    header = str(show(frame)).splitlines()[0].split()
    assert header[:2] == ["customer_id", "model"]


# -- HTML: escaping and the scroll box -----------------------------------------------------
def test_every_value_is_escaped():
    frame = pd.DataFrame({"<b>col</b>": ["<script>alert(1)</script>"], "n": [1]})
    frame.index = pd.Index(["<i>x</i>"], name='a"b')
    html = show(frame, caption="<em>cap</em>")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html and "<i>" not in html and "<em>" not in html
    assert 'aria-label="&lt;em&gt;cap&lt;/em&gt;"' in html


def test_html_scrolls_sideways_in_its_own_box():
    wide = pd.DataFrame({f"column_{i}_usd": [1234.5] for i in range(40)})
    html = show(wide)._repr_html_()
    box = re.search(r'<div role="region"[^>]*style="([^"]*)"', html)
    assert box and "overflow-x:auto" in box.group(1) and "max-width:100%" in box.group(1)
    assert 'tabindex="0"' in html  # a keyboard can scroll it
    assert "<style" not in html  # inline only: works in Lab and in the book without CSS


def test_numbers_right_aligned_text_left():
    html = show(pd.DataFrame({"model": ["a"], "cost_usd": [1.0]}))._repr_html_()
    tds = re.findall(r"<td style=\"([^\"]*)\">", html)
    assert "text-align:left" in tds[0] and "text-align:right" in tds[1]


# -- charts --------------------------------------------------------------------------------
@pytest.fixture
def fig_ax():
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_title("Daily cost")
    yield fig, ax
    plt.close(fig)


@pytest.mark.parametrize("alt", [None, "", "   "])
def test_chart_alt_required(fig_ax, alt):
    _, ax = fig_ax
    with pytest.raises(ValueError, match="alt text"):
        show(ax) if alt is None else show(ax, alt=alt)


def test_chart_is_closed_and_high_density(fig_ax):
    fig, ax = fig_ax
    assert plt.fignum_exists(fig.number)
    chart = show(ax, alt="Cost rose from $1 to $3 then fell to $2.")
    assert not plt.fignum_exists(fig.number)  # Jupyter will not draw it a second time
    width, height = _png_size(chart.png)
    # 2 device pixels per CSS pixel (the attributes round odd sizes)
    assert abs(width - 2 * chart.width) <= 1 and abs(height - 2 * chart.height) <= 1
    assert chart.width > 300
    html = chart._repr_html_()
    assert f'width="{chart.width}"' in html and f'height="{chart.height}"' in html
    assert "max-width:100%" in html and "height:auto" in html  # shrinks on a phone
    assert html.startswith("<img") and 'src="data:image/png;base64,' in html
    assert repr(chart).endswith("Cost rose from $1 to $3 then fell to $2.")


def test_chart_alt_is_escaped(fig_ax):
    fig, _ = fig_ax
    html = show(fig, alt='Spend "<script>" & more')._repr_html_()
    assert 'alt="Spend &quot;&lt;script&gt;&quot; &amp; more"' in html


def test_chart_from_a_list_of_axes():
    fig, axes = plt.subplots(1, 2)
    chart = show(list(axes), alt="Two panels.")
    assert chart.alt == "Two panels." and not plt.fignum_exists(fig.number)
    fig, axes = plt.subplots(2, 2)
    assert show(axes, alt="Four panels.").alt == "Four panels."


def test_chart_takes_only_alt(fig_ax):
    _, ax = fig_ax
    with pytest.raises(TypeError, match="only alt="):
        show(ax, alt="x", caption="y")
