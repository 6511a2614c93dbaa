"""The built site as readers use it: every page in Chromium at desktop and phone widths.

Runs after the book is built (``make site-test``, part of ``make test``): it needs
``_build/html`` and a Chromium (Debian's ``chromium`` package, driven through Playwright's
CDP client; ``.ci/run`` installs it). Each page must load without a JavaScript error or a
console error and fetch nothing from outside the site; the sidebar toggle must hide the table
of contents on a desktop and open it on a phone, and the contents button must open the page's
outline on a phone.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("SHOWCASE_SITE_DIR", ROOT / "_build" / "html"))
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


def _pages() -> list[str]:
    """Every page of the table of contents, as a path relative to the site root."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f + ".html" for f in files]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.fail("no Chromium on PATH: install Debian's `chromium` package (.ci/run does)")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test reports failures itself
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site in {SITE}: run `make book` first")
    handler = functools.partial(_Quiet, directory=str(SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
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
