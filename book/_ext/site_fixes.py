"""Two fixes for the pinned theme stack (jupyter-book 1.0.4, sphinx-book-theme 1.3.0, pydata 0.17.1).

1. Every page carried two inline scripts twice (``const THEBE_JS_URL`` among them, so each page
   threw "Identifier 'THEBE_JS_URL' has already been declared"): sphinx-thebe and
   sphinx-togglebutton add them with ``app.add_js_file(None, body=...)`` after the builder
   exists, and Sphinx 7.4 keeps both the builder's copy (filename ``None``) and the registry's
   (filename ``""``). The page's script and style lists are deduplicated here, keeping the
   first of each, after every other extension has run.
2. The sidebar and contents toggles did nothing: both themes bind their click handlers with
   ``document.querySelector(".primary-toggle")``, the *first* such button on the page, which is
   the navbar's (hidden by the book theme); the visible button in the article header has none.
   ``site-fixes.js`` forwards clicks on the other toggles to the first one.

A browser test (tests/test_site.py) loads the built pages in Chromium and checks both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_STATIC = Path(__file__).resolve().parent.parent / "_static"


def _key(asset: Any) -> tuple[str, str]:
    attrs = getattr(asset, "attributes", {}) or {}
    # The same inline script arrives once with filename None (added to the builder when the
    # extension ran) and once with "" (re-read from Sphinx's registry), so Sphinx's own
    # duplicate check misses it.
    return (getattr(asset, "filename", None) or "", str(attrs.get("body", "")))


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen: set[tuple[str, str]] = set()
        kept = []
        for asset in assets:
            key = _key(asset)
            if key not in seen:
                seen.add(key)
                kept.append(asset)
        context[name] = kept


def _static_path(app: Any) -> None:
    app.config.html_static_path.append(str(_STATIC))


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _static_path)
    app.add_js_file("site-fixes.js", loading_method="defer")
    app.connect("html-page-context", _dedupe, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
