"""The workshop page's agendas add up, and each links only notebooks that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "book" / "workshop.md").read_text()
_WORDS = {"two hours": 120, "three and a half hours": 210, "seven hours": 420}


def _agendas() -> dict[str, list[list[str]]]:
    agendas: dict[str, list[list[str]]] = {}
    for block in re.split(r"(?m)^## ", PAGE)[1:]:
        heading, _, body = block.partition("\n")
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")]
            for line in body.splitlines()
            if line.startswith("| ") and re.match(r"\|\s*\d", line)
        ]
        if rows:
            agendas[heading.strip()] = rows
    return agendas


def test_there_are_three_agendas():
    assert len(_agendas()) == 3, list(_agendas())


def test_each_agenda_adds_up_to_its_length():
    for heading, rows in _agendas().items():
        total = next(v for words, v in _WORDS.items() if words in heading.lower())
        start = 0
        for row in rows:
            span, length = row[1], int(row[2])
            a, b = (int(x) for x in span.split("-"))
            assert a == start, f"{heading}: slot {row[0]} starts at {a}, expected {start}"
            assert b - a == length, f"{heading}: slot {row[0]} spans {span} but says {length}"
            start = b
        assert start == total, f"{heading}: slots end at {start}, the agenda is {total} minutes"


def test_linked_notebooks_exist_and_their_slot_lines_agree():
    for target in re.findall(r"\]\(\.\./(notebooks/[^)]+\.ipynb)\)", PAGE):
        assert (ROOT / target).exists(), target
    rows = {row[0]: row[1] for row in next(iter(_agendas().values()))}
    for nb in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for slot, span in re.findall(
            r"Workshop slot\*\*: (\d) \((?:Part \w, )?minutes (\d+-\d+)\)", nb.read_text()
        ):
            assert rows.get(slot) == span, (
                f"{nb.name} says slot {slot} is {span}; the page says {rows.get(slot)}"
            )


def test_setup_is_make_setup_and_preflight():
    assert "make setup" in PAGE and "make preflight" in PAGE
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"(?m)^preflight:", makefile) and "doctor --round-trip" in makefile
