"""Tables, charts and report cards in a real browser at a phone's width (390 px).

Headless Chromium from the system's packages (``/usr/bin/chromium``) through Playwright; the
tests are skipped with a message on a machine without either.
"""

from __future__ import annotations

import shutil

import matplotlib

matplotlib.use("Agg")

import pytest

from showcase_lib.report import charts, show
from showcase_lib.report.cards import ReportCards

PHONE = {"width": 390, "height": 844}  # an iPhone 12-15's CSS viewport
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium (apt install chromium)"
)

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    '<body style="margin:8px;font-family:sans-serif">{}</body></html>'
)


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_page(viewport=PHONE)
        yield pg
        browser.close()


def _calls():
    from showcase_lib.simulation import simulate

    return simulate("steady_growth", days=2, customers=5, seed=0).calls


def _overflow(page) -> dict:
    """The page's scroll width, and elements past the screen's right edge that are not inside
    a box that scrolls or clips on its own (a wide table in its scroll box is fine)."""
    return page.evaluate(
        """() => {
            const inBox = e => {
                for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) {
                        return true;
                    }
                }
                return false;
            };
            return {
                page: document.documentElement.scrollWidth,
                wide: [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                    .filter(e => !inBox(e))
                    .map(e => e.tagName + '.' + e.className).slice(0, 5),
            };
        }"""
    )


def test_tables_and_charts_fit_a_phone(page):
    calls = _calls()
    daily = calls.set_index("timestamp")["cost_usd"].resample("6h").sum()
    ax = charts.line(daily, title="Cost per 6 hours", ylabel="Cost (USD)", money=True)
    html = show(calls.head(), caption="The first calls")._repr_html_() + show(ax)._repr_html_()
    page.set_content(PAGE.format(html))
    result = _overflow(page)
    assert result == {"page": 390, "wide": []}
    box = page.evaluate(
        "(() => { const b = document.querySelector('[role=region]');"
        " return [b.clientWidth, b.scrollWidth]; })()"
    )
    assert box[0] <= 390 < box[1]  # the wide table scrolls inside its box
    img = page.evaluate(
        "(() => { const i = document.querySelector('img');"
        " return [i.getBoundingClientRect().width, i.naturalWidth]; })()"
    )
    assert img[0] <= 374 and img[1] >= 2 * img[0]  # shrunk to the screen, still sharp


def test_report_cards_fit_a_phone(page):
    from showcase_lib.analysis.analyzers import analyze

    calls = _calls()
    calls["customer_id"] = calls["customer_id"].astype(str) + "_with_a_very_long_identifier_x"
    result = analyze("understanding", calls, dimensions=("customer_id",))
    name = next(n for n in result.tables if n.startswith("by_"))
    ax = charts.chart(result)
    cards = ReportCards(result, charts=[ax], tables=[name, "daily"])
    for html in (cards.to_html(), PAGE.format(cards.fragment())):
        page.set_content(html)
        assert _overflow(page) == {"page": 390, "wide": []}
