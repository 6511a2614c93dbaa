"""Fixes for the pinned theme stack (jupyter-book 1.0.4, sphinx-book-theme 1.3.0, pydata 0.17.1).

1. Every page carried two inline scripts twice (``const THEBE_JS_URL`` among them, so each page
   threw "Identifier 'THEBE_JS_URL' has already been declared"): sphinx-thebe and
   sphinx-togglebutton add them with ``app.add_js_file(None, body=...)`` after the builder
   exists, and Sphinx 7.4 keeps both the builder's copy (filename ``None``) and the registry's
   (filename ``""``). The page's script and style lists are deduplicated here, keeping the
   first of each, after every other extension has run.
2. The sidebar and contents toggles did nothing: both themes bind their click handlers with
   ``document.querySelector(".primary-toggle")``, the *first* such button on the page, which is
   the navbar's (hidden by the book theme); the visible button in the article header has none.
   ``site-fixes.js`` forwards clicks on the other toggles to the first one. The same file fixes
   the search page's snippets and duplicate hits (see its comments).
3. Nothing may widen a page on a phone: ``site.css`` lets wide code, output, tables, URLs and
   images scroll or wrap inside their own box.
4. Page weight: pydata-sphinx-theme loads Font Awesome's whole icon set as a 1.49 MB script on
   every page to draw about 15 icons. After the build, that script is replaced by one holding
   only the icons the built pages name (found by reading them), drawn as inline SVG the same way.
   The theme also loads the full search index (``searchindex.js``) on every page for a
   search-as-you-type box this book does not enable; ``templates/layout.html`` keeps it on the
   search page only.
5. The ``.pdf`` entry of the download menu only opened the print dialog; it is dropped (the
   ``.ipynb`` and ``.md`` downloads stay). Exercises are numbered per notebook (Exercise 1, 2 in
   each), not across the book.

A browser test (tests/site/test_site.py) loads the built pages in Chromium and checks each.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_STATIC = _HERE.parent / "_static"
_TEMPLATES = _HERE / "templates"

# Font Awesome's bundle registers each style's icons with `d("fab", p)` (brands), `d("far", p)`
# (regular) and `d("fas", p)` (solid), in that order, right after the style's icon table `p`.
_PACK_ENDS = (("brands", 'd("fab",p)'), ("regular", 'd("far",p)'), ("solid", 'd("fas",p)'))
# One icon in the bundle: name (quoted when it has a dash): [width, height, [aliases], "unicode",
# "svg path"]. Duotone icons (a list of paths) are not in the free set.
_ICON = re.compile(
    r'(?:"(?P<q>[a-z0-9-]+)"|\b(?P<b>[a-z][a-z0-9]*)):\[(?P<w>\d+),(?P<h>\d+),'
    r'\[(?P<aliases>[^\]]*)\],"[0-9a-f]+","(?P<path>[^"]+)"\]'
)
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
_FA_NAME = re.compile(r"\bfa-([a-z0-9-]+)")
_STYLE_OF_PREFIX = {
    "fa-solid": "solid",
    "fas": "solid",
    "fa-regular": "regular",
    "far": "regular",
    "fa-brands": "brands",
    "fab": "brands",
}


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


def _drop_print_button(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Remove the download menu's ``.pdf`` entry (it only calls ``window.print()``)."""
    for button in context.get("header_buttons") or []:
        if button.get("label") == "download-buttons":
            button["buttons"] = [
                b for b in button["buttons"] if b.get("label") != "download-pdf-button"
            ]


def _number_exercises_per_document(app: Any, env: Any) -> list[str]:
    """Renumber sphinx-exercise's exercises 1, 2, ... within each document.

    Sphinx numbers enumerable nodes across the whole book when the table of contents is not
    section-numbered (05 had Exercises 9 and 10). Runs after Sphinx assigned the numbers.
    """
    for numbers in env.toc_fignumbers.values():
        exercises = numbers.get("exercise")
        if exercises:
            ordered = sorted(exercises, key=lambda ident: exercises[ident])
            numbers["exercise"] = {ident: (i,) for i, ident in enumerate(ordered, start=1)}
    return []


def _icon_table(bundle: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """Every icon of Font Awesome's bundle: style -> name (and alias) -> (width, height, path)."""
    table: dict[str, dict[str, tuple[int, int, str]]] = {}
    start = 0
    for style, marker in _PACK_ENDS:
        end = bundle.index(marker, start)
        icons: dict[str, tuple[int, int, str]] = {}
        for m in _ICON.finditer(bundle, start, end):
            icon = (int(m["w"]), int(m["h"]), m["path"])
            icons[m["q"] or m["b"]] = icon
            for alias in re.findall(r'"([a-z0-9-]+)"', m["aliases"]):
                icons.setdefault(alias, icon)
        table[style] = icons
        start = end
    return table


def _icons_named(outdir: Path) -> set[tuple[str, str]]:
    """(style, name) of every Font Awesome icon the built pages and scripts name."""
    used: set[tuple[str, str]] = set()
    texts = [p.read_text(errors="replace") for p in outdir.rglob("*.html")]
    texts += [
        p.read_text(errors="replace")
        for p in (outdir / "_static").rglob("*.js")
        if p.name != "fontawesome.js"
    ]
    for text in texts:
        for attr in _CLASS_ATTR.findall(text) + re.findall(r"['\"](fa-[^'\"]*)['\"]", text):
            tokens = attr.split()
            style = next((_STYLE_OF_PREFIX[t] for t in tokens if t in _STYLE_OF_PREFIX), "solid")
            used.update((style, m) for t in tokens for m in _FA_NAME.findall(t))
    return used


_ICONS_JS = """\
/*! Only the Font Awesome icons this book's pages use (written by book/_ext/site_fixes.py
 * from the theme's bundle, which is 1.49 MB).
{license} */
(() => {{
  const ICONS = {icons};
  const STYLES = {{ "fa-solid": "solid", fas: "solid", "fa-regular": "regular", far: "regular",
                   "fa-brands": "brands", fab: "brands" }};
  const NS = "http://www.w3.org/2000/svg";
  const draw = (el) => {{
    const classes = Array.from(el.classList);
    const style = classes.map((c) => STYLES[c]).find(Boolean) || "solid";
    const name = classes.find((c) => c.startsWith("fa-") && ICONS[style + " " + c.slice(3)]);
    if (!name) return;
    const [w, h, d] = ICONS[style + " " + name.slice(3)];
    const svg = document.createElementNS(NS, "svg");
    for (const c of classes) svg.classList.add(c);
    svg.classList.add("svg-inline--fa");
    svg.setAttribute("viewBox", `0 0 ${{w}} ${{h}}`);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("role", "img");
    for (const a of el.attributes) if (a.name !== "class") svg.setAttribute(a.name, a.value);
    const path = document.createElementNS(NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", d);
    svg.appendChild(path);
    el.replaceWith(svg);
  }};
  const SELECTOR = "i[class*='fa-'], span[class*='fa-']";
  const drawAll = (root) => root.querySelectorAll(SELECTOR).forEach(draw);
  const start = () => {{
    drawAll(document);
    new MutationObserver((changes) => {{
      for (const change of changes)
        for (const node of change.addedNodes)
          if (node.nodeType === 1) {{
            if (node.matches(SELECTOR)) draw(node);
            else drawAll(node);
          }}
    }}).observe(document.body, {{ childList: true, subtree: true }});
  }};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}})();
"""


def _slim_fontawesome(app: Any, exception: Exception | None) -> None:
    """Replace the theme's 1.49 MB icon bundle with the icons the built pages use."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "scripts" / "fontawesome.js"
    if not target.exists():
        return
    import pydata_sphinx_theme

    scripts = Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static/scripts"
    table = _icon_table((scripts / "fontawesome.js").read_text())
    icons = {
        f"{style} {name}": table[style][name]
        for style, name in sorted(_icons_named(Path(app.outdir)))
        if name in table.get(style, {})
    }
    license_text = (scripts / "fontawesome.js.LICENSE.txt").read_text().strip()
    license_text = license_text.removeprefix("/*!").removesuffix("*/").rstrip()
    target.write_text(
        _ICONS_JS.format(license=license_text, icons=json.dumps(icons, separators=(",", ":")))
    )
    # The source map described the bundle, not this file.
    (target.parent / "fontawesome.js.map").unlink(missing_ok=True)


def _static_path(app: Any) -> None:
    app.config.html_static_path.append(str(_STATIC))


def _templates_path(app: Any, config: Any) -> None:
    config.templates_path.append(str(_TEMPLATES))


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _templates_path)
    app.connect("builder-inited", _static_path)
    app.add_css_file("site.css")
    app.add_js_file("site-fixes.js", loading_method="defer")
    app.connect("html-page-context", _dedupe, priority=999)
    app.connect("html-page-context", _drop_print_button, priority=999)
    # after Sphinx's TocTreeCollector (priority 500) assigned the book-wide numbers
    app.connect("env-get-updated", _number_exercises_per_document, priority=900)
    app.connect("build-finished", _slim_fontawesome)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
