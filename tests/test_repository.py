"""Checks of the repository itself: the table of contents, notebook hygiene and shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))


def _toc_files(node) -> list[str]:
    files: list[str] = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for value in node.values():
            files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


def _resolve(entry: str) -> Path | None:
    for suffix in ("", ".md", ".ipynb"):
        candidate = ROOT / f"{entry}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def test_toc_lists_only_existing_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = _toc_files(toc)
    assert entries, "the table of contents is empty"
    missing = [e for e in entries if _resolve(e) is None]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"


def test_every_notebook_is_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {_resolve(e) for e in _toc_files(toc)}
    orphans = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if p not in listed]
    assert not orphans, f"notebooks missing from _toc.yml: {orphans}"


def test_notebooks_are_numbered_in_reading_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers), f"duplicate notebook numbers: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_house_shape(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    # a "# comment" in a fenced code block is no title (directives such as ```{exercise} stay)
    prose = re.sub(r"^```[^\S\n]*(?:[\w+-]+)?\n.*?^```", "", markdown, flags=re.S | re.M)
    h1 = re.findall(r"^# ", prose, flags=re.M)
    assert len(h1) == 1, f"{path.name}: expected exactly one H1 title, found {len(h1)}"
    for heading in (
        "## Overview",
        "## Prerequisites",
        "## Imports",
        "## Exercises",
        "## Summary",
        "## Resources",
    ):
        assert re.search(rf"^{re.escape(heading)}", markdown, flags=re.M), (
            f"{path.name}: missing section {heading!r}"
        )
    assert markdown.count("{exercise-start}") >= 2, f"{path.name}: fewer than two exercises"
    assert markdown.count("{solution-start}") >= 2, f"{path.name}: exercises need solutions"
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert re.search(r"^\s*assert ", code, flags=re.M), f"{path.name}: no assert on a result"


def test_every_requirement_parses_and_is_pinned():
    """Each line of requirements.txt is one valid requirement pinned with ==."""
    from packaging.requirements import Requirement

    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line == "-e .":
            continue
        req = Requirement(line)  # raises on "a==1b==2" and other broken lines
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not pinned with ==: {line!r}"
        names.append(req.name.lower())
    assert len(names) == len(set(names)), "a package is listed twice"
