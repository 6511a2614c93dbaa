"""The built site as readers use it: every page in Chromium at desktop and phone widths.

Runs after the book is built (``make site-test``, part of ``make test``): it needs
``_build/html`` and a Chromium (Debian's ``chromium`` package, driven through Playwright's
CDP client; ``.ci/run`` installs it). Without a browser the tests are skipped with a message
(under CI, where ``.ci/run`` installs one, they fail instead). Checked:

- each page loads without a JavaScript or console error and fetches nothing from outside;
- the sidebar toggle hides the table of contents on a desktop and opens it on a phone, the
  contents button opens the page's outline, the header's icons are drawn and its menus open;
- no page and no report card is wider than a 390 px phone (the widest element is named);
- every internal link, anchor and asset of every built page resolves;
- search finds "idempotency", snippets show the matched text, one hit per page;
- exercises are numbered per notebook; the download menu has no fake ``.pdf`` entry;
- the theme's assets of a page stay under a byte budget (page weight);
- screenshots of the landing page and one notebook per part go to ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("SHOWCASE_SITE_DIR", ROOT / "_build" / "html"))
SCREENSHOTS = Path(os.environ.get("SHOWCASE_SCREENSHOTS_DIR", SITE.parent / "screenshots"))
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# One notebook per part of the book, for the screenshots.
PART_PAGES = {
    "part-a": "notebooks/a_instrumentation/01_async_tracking.html",
    "part-b": "notebooks/b_queries/05_time_series.html",
    "part-c": "notebooks/c_metadata/08_validators.html",
    "part-d": "notebooks/d_scenarios/12_viral_spike.html",
}
# Bytes of theme and search assets (everything but the page's own HTML and images) one page may
# fetch. The pinned themes fetched 2.3 MB, 1.49 MB of it Font Awesome's full icon set and
# 150 kB the search index; without those a page needs about 0.8 MB (mostly the theme's CSS and
# its icon font). The margin absorbs theme patch releases, not a second icon set.
ASSET_BUDGET = 1_000_000


@pytest.fixture(autouse=True, scope="module")
def _built_site() -> None:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site in {SITE}: run `make book` first")


def _pages() -> list[str]:
    """Every page of the table of contents, as a path relative to the site root."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f + ".html" for f in files]


def _notebook_pages() -> list[str]:
    return [p for p in _pages() if p.startswith("notebooks/")]


def _report_cards() -> list[str]:
    """Report cards shipped with the site: HTML files the pages offer as downloads."""
    return sorted(str(p.relative_to(SITE)) for p in (SITE / "_downloads").rglob("*.html"))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    message = "no Chromium on PATH: install Debian's `chromium` package (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test reports failures itself
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser: object, url: str, viewport: dict[str, int]) -> tuple[object, list[str]]:
    page = browser.new_page(viewport=viewport)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")  # reported with its URL below
            and problems.append(f"console error: {m.text}")
        ),
    )
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    site_root = url.split("/", 3)[:3]
    page.on(
        "request",
        lambda r: (
            r.url.split("/", 3)[:3] != site_root
            and not r.url.startswith("data:")
            and problems.append(f"fetched from outside the site: {r.url}")
        ),
    )
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)  # deferred theme scripts
    return page, problems


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_loads_without_errors(site: str, browser: object, viewport: dict) -> None:
    failures = []
    for path in _pages():
        page, problems = _open(browser, site + path, viewport)
        failures += [f"{path}: {p}" for p in problems]
        page.close()
    assert not failures, "\n".join(failures)


def _visible_toggle(page: object, kind: str) -> object:
    toggles = page.locator(f".{kind}-toggle")
    visible = [toggles.nth(i) for i in range(toggles.count()) if toggles.nth(i).is_visible()]
    assert visible, f"no visible .{kind}-toggle button"
    return visible[0]


def test_sidebar_toggle_hides_the_contents_on_a_desktop(site: str, browser: object) -> None:
    page, _ = _open(browser, site + "notebooks/b_queries/07_anomaly_detection.html", DESKTOP)
    sidebar = page.locator("#pst-primary-sidebar")
    assert sidebar.is_visible() and sidebar.bounding_box()["x"] >= 0
    _visible_toggle(page, "primary").click()
    page.wait_for_timeout(500)
    box = sidebar.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, f"sidebar still on screen: {box}"
    _visible_toggle(page, "primary").click()
    page.wait_for_timeout(500)
    assert sidebar.bounding_box()["x"] >= 0, "the second click did not bring the sidebar back"
    page.close()


@pytest.mark.parametrize(
    ("kind", "dialog", "links"),
    [
        ("primary", "#pst-primary-sidebar-modal", 13),
        ("secondary", "#pst-secondary-sidebar-modal", 2),
    ],
    ids=["table-of-contents", "page-outline"],
)
def test_phone_buttons_open_the_navigation(
    site: str, browser: object, kind: str, dialog: str, links: int
) -> None:
    page, _ = _open(browser, site + "notebooks/b_queries/07_anomaly_detection.html", PHONE)
    _visible_toggle(page, kind).click()
    page.wait_for_timeout(500)
    modal = page.locator(dialog)
    assert modal.evaluate("d => d.open"), f"{dialog} did not open"
    shown = [a for a in modal.locator("a").all() if a.is_visible()]
    assert len(shown) >= links, f"{dialog} shows {len(shown)} links, expected >= {links}"
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert not modal.evaluate("d => d.open"), "Escape did not close the navigation"
    page.close()


# --- icons and header buttons ------------------------------------------------------------------

_ICONS = """() => {
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const header = document.querySelectorAll(".bd-header-article .btn, .navbar-header-items .btn");
  return {
    buttons: Array.from(header).filter(shown).map((b) => ({
      label: b.getAttribute("aria-label") || b.title || b.textContent.trim(),
      icon: Array.from(b.querySelectorAll("svg")).some(shown),
    })),
    undrawn: Array.from(document.querySelectorAll("i[class*='fa-']")).filter(shown)
      .map((i) => i.className),
  };
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_header_icons_are_drawn(site: str, browser: object, viewport: dict) -> None:
    page, problems = _open(
        browser, site + "notebooks/b_queries/07_anomaly_detection.html", viewport
    )
    found = page.evaluate(_ICONS)
    assert len(found["buttons"]) >= 3, f"header buttons: {found['buttons']}"
    blank = [b["label"] for b in found["buttons"] if not b["icon"]]
    assert not blank, f"header buttons without a drawn icon: {blank}"
    assert not found["undrawn"], f"icons left as empty <i>: {found['undrawn']}"
    assert not problems, problems
    page.close()


def test_download_menu_offers_real_files_only(site: str, browser: object) -> None:
    page, _ = _open(browser, site + "notebooks/b_queries/05_time_series.html", DESKTOP)
    page.locator(".dropdown-download-buttons > button").click()
    page.wait_for_timeout(300)
    items = page.locator(
        ".dropdown-download-buttons .dropdown-menu a, "
        ".dropdown-download-buttons .dropdown-menu button"
    )
    entries = {items.nth(i).inner_text().strip(): items.nth(i) for i in range(items.count())}
    assert ".ipynb" in entries, f"download menu: {list(entries)}"
    assert entries[".ipynb"].is_visible()
    assert ".pdf" not in entries, "the .pdf entry only opens the print dialog"
    page.close()


def test_theme_switch_changes_the_colour_mode(site: str, browser: object) -> None:
    page, _ = _open(browser, site + "book/intro.html", DESKTOP)
    before = page.evaluate("document.documentElement.dataset.mode")
    page.locator(".theme-switch-button").first.click()
    page.wait_for_timeout(200)
    after = page.evaluate("document.documentElement.dataset.mode")
    assert before != after, f"theme switch left the mode at {before!r}"
    page.close()


# --- no page wider than a phone ----------------------------------------------------------------

# Returns null when the page fits, else the page width and the element that sticks out furthest
# (the innermost one among ties), not counting content clipped or scrolled by a box of its own.
_OVERFLOW = """() => {
  const vw = document.documentElement.clientWidth;
  const width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  if (width <= vw) return null;
  // clipped or scrolled by a box of its own, fixed to the screen (off-canvas drawers) or hidden
  const contained = (el) => {
    const own = getComputedStyle(el);
    if (own.visibility === "hidden" || own.position === "fixed") return true;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.position === "fixed") return true;
      if (style.overflowX !== "visible" && p.getBoundingClientRect().right <= vw + 1) return true;
    }
    return false;
  };
  let worst = null;
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 1 || contained(el)) continue;
    if (!worst || r.right > worst.right + 0.5 ||
        (Math.abs(r.right - worst.right) <= 0.5 && worst.el.contains(el))) {
      worst = { el, right: r.right };
    }
  }
  // and text that runs out of its box (a long word): the box whose content reaches furthest
  for (const el of document.body.querySelectorAll("*")) {
    if (el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1 || contained(el)) continue;
    if (getComputedStyle(el).overflowX !== "visible") continue;
    const right = el.getBoundingClientRect().left + el.scrollWidth;
    if (right > vw + 1 && (!worst || right > worst.right + 0.5 ||
        (Math.abs(right - worst.right) <= 0.5 && worst.el.contains(el)))) {
      worst = { el, right };
    }
  }
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim())
      name += "." + el.className.trim().split(/\\s+/).slice(0, 3).join(".");
    const section = el.closest("section[id]");
    const text = (el.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 60);
    return name + (section ? ` in section #${section.id}` : "") + (text ? ` ("${text}")` : "");
  };
  return { width, vw, element: worst ? describe(worst.el) : "(none found)",
           right: worst ? Math.round(worst.right) : null };
}"""


def _overflow(browser: object, url: str) -> tuple[dict | None, list[str]]:
    page, problems = _open(browser, url, PHONE)
    found = page.evaluate(_OVERFLOW)
    page.close()
    return found, problems


def _describe(path: str, found: dict) -> str:
    return (
        f"{path}: {found['width']} px wide on a {found['vw']} px screen; widest: "
        f"{found['element']} reaching {found['right']} px"
    )


def test_no_page_is_wider_than_a_phone(site: str, browser: object) -> None:
    failures = []
    for path in [*_pages(), "search.html", "genindex.html"]:
        found, _ = _overflow(browser, site + path)
        if found:
            failures.append(_describe(path, found))
    assert not failures, "\n".join(failures)


def test_report_cards_fit_a_phone(site: str, browser: object) -> None:
    cards = _report_cards()
    # notebooks 11, 12 and 13 write their report cards and offer them with {download}
    assert len(cards) >= 3, f"expected the report cards of 11-13 in {SITE / '_downloads'}: {cards}"
    failures = []
    for path in cards:
        found, problems = _overflow(browser, site + path)
        if found:
            failures.append(_describe(path, found))
        failures += [f"{path}: {p}" for p in problems]
    assert not failures, "\n".join(failures)


# --- links and assets --------------------------------------------------------------------------


class _Refs(HTMLParser):
    """The ids a page defines and the URLs it links to or loads."""

    ATTRS: ClassVar[frozenset[str]] = frozenset({"href", "src", "poster", "data"})

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name in self.ATTRS and tag != "base":
                self.urls.append((tag, value))
            elif name == "srcset":
                self.urls += [(tag, part.split()[0]) for part in value.split(",") if part.strip()]


@functools.cache
def _parsed(path: Path) -> _Refs:
    refs = _Refs()
    refs.feed(path.read_text(errors="replace"))
    return refs


def _broken_refs(html: Path) -> list[str]:
    page_url = "/" + str(html.relative_to(SITE))
    broken = []
    for tag, url in _parsed(html).urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("#", "javascript:")) or not url:
            if url.startswith("#") and len(url) > 1 and unquote(url[1:]) not in _parsed(html).ids:
                broken.append(f"<{tag}> {url}: no such anchor on the page")
            continue  # other sites are not this test's business (nothing is fetched from them)
        target_url = urlsplit(urljoin(page_url, url))
        target = SITE / unquote(target_url.path).lstrip("/")
        if target_url.path.endswith("/"):
            target = target / "index.html"
        if not target.exists():
            broken.append(f"<{tag}> {url}: {target.relative_to(SITE)} does not exist")
        elif (
            target.suffix == ".html"
            and target_url.fragment
            and unquote(target_url.fragment) not in _parsed(target).ids
        ):
            broken.append(f"<{tag}> {url}: no #{target_url.fragment} in {target.name}")
    return broken


def test_every_internal_link_and_asset_resolves() -> None:
    # _static holds the themes' Jinja macro files (*.html), not pages
    pages = sorted(p for p in SITE.rglob("*.html") if "_static" not in p.relative_to(SITE).parts)
    assert len(pages) >= len(_pages()), f"only {len(pages)} HTML files in {SITE}"
    failures = []
    for html in pages:
        failures += [f"{html.relative_to(SITE)}: {b}" for b in _broken_refs(html)]
    assert not failures, f"{len(failures)} broken:\n" + "\n".join(failures[:60])


def test_every_asset_is_served(site: str) -> None:
    """Each local stylesheet, script and image a TOC page loads answers HTTP 200."""
    import urllib.request

    urls = set()
    for path in _pages():
        for tag, url in _parsed(SITE / path).urls:
            if tag in ("script", "img", "link", "source") and not urlsplit(url).scheme:
                urls.add(urljoin(site + path, url).split("#")[0])
    failures = []
    for url in sorted(urls):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status != 200:
                    failures.append(f"HTTP {response.status}: {url}")
        except OSError as error:
            failures.append(f"{url}: {error}")
    assert not failures, "\n".join(failures)


# --- search ------------------------------------------------------------------------------------


def _search(browser: object, site: str, query: str) -> list[dict[str, str]]:
    page, problems = _open(browser, f"{site}search.html?q={query}", DESKTOP)
    page.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary') || {}).innerText",
        timeout=20_000,
    )
    page.wait_for_timeout(1500)  # each hit fetches its page for the snippet
    hits = page.evaluate(
        """() => Array.from(document.querySelectorAll('#search-results ul.search > li')).map(
             (li) => ({ href: li.querySelector('a').getAttribute('href'),
                        title: li.querySelector('a').innerText,
                        snippet: (li.querySelector('p.context') || {}).innerText || '' }))"""
    )
    page.close()
    assert not problems, problems
    return hits


def test_search_finds_idempotency(site: str, browser: object) -> None:
    hits = _search(browser, site, "idempotency")
    assert hits, "search for 'idempotency' found nothing"
    assert any("idempoten" in h["snippet"].lower() for h in hits), hits


def test_search_snippets_show_the_match_once_per_page(site: str, browser: object) -> None:
    hits = _search(browser, site, "anomaly")
    assert len(hits) >= 3, hits
    pages = [h["href"].split("#")[0] for h in hits]
    twice = sorted({p for p in pages if pages.count(p) > 1})
    assert not twice, f"pages listed more than once: {twice}"
    blind = [
        f"{h['title']}: {h['snippet']!r}" for h in hits if "anomal" not in h["snippet"].lower()
    ]
    assert not blind, "snippets without the searched word:\n" + "\n".join(blind)


# --- exercises ---------------------------------------------------------------------------------


def test_exercises_are_numbered_per_notebook() -> None:
    exercise = re.compile(r'<span class="caption-number">Exercise (\d+)\s*</span>')
    solution = re.compile(r"Solution to<a [^>]*>\s*Exercise (\d+)</a>")
    wrong = {}
    for path in _notebook_pages():
        html = (SITE / path).read_text()
        numbers = [int(n) for n in exercise.findall(html)]
        solved = [int(n) for n in solution.findall(html)]
        if numbers != list(range(1, len(numbers) + 1)) or not set(solved) <= set(numbers):
            wrong[path] = {"exercises": numbers, "solutions": solved}
    assert not wrong, f"exercise numbers per page (expected 1, 2, ...): {wrong}"


# --- page weight -------------------------------------------------------------------------------


def _asset_bytes(browser: object, url: str) -> tuple[int, dict[str, int]]:
    page = browser.new_page(viewport=DESKTOP)
    sizes: dict[str, int] = {}

    def record(request: object) -> None:
        response = request.response()
        if response is not None and request.resource_type not in ("document", "image"):
            sizes[request.url.split("?")[0]] = len(response.body())

    page.on("requestfinished", record)
    page.goto(url, wait_until="networkidle")
    page.close()
    return sum(sizes.values()), sizes


@pytest.mark.parametrize(
    "path", ["book/intro.html", "notebooks/b_queries/07_anomaly_detection.html"]
)
def test_page_weight_stays_under_budget(site: str, browser: object, path: str) -> None:
    total, sizes = _asset_bytes(browser, site + path)
    biggest = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    listing = ", ".join(f"{url.rsplit('/', 1)[-1]} {n:,}" for url, n in biggest)
    assert total <= ASSET_BUDGET, (
        f"{path}: {total:,} bytes of assets (budget {ASSET_BUDGET:,}): {listing}"
    )


# --- screenshots (CI artefacts) ----------------------------------------------------------------


def test_screenshots_of_the_landing_page_and_one_notebook_per_part(
    site: str, browser: object
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = {"landing": "index.html", **PART_PAGES}
    written = []
    for name, path in shots.items():
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page, _ = _open(browser, site + path, viewport)
            target = SCREENSHOTS / f"{name}-{label}.png"
            page.screenshot(path=str(target), full_page=name == "landing")
            page.close()
            assert target.stat().st_size > 10_000, f"{target} looks empty"
            written.append(target)
    assert len(written) == 2 * len(shots)
