"""``showcase datasets warm``: the notebooks are the list of metered data sets.

The finder reads notebooks (code cells, :mod:`ast`, nothing run), resolves each
``metered(...)`` call's arguments from literals and top-level constants, merges identical calls
and builds each set; an argument it cannot resolve stops it, naming notebook, cell and
argument.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from showcase_lib.cli import _find_calls as find_calls
from showcase_lib.cli import _find_sets as find_sets
from showcase_lib.cli import _WarmError as WarmError
from showcase_lib.cli import main
from showcase_lib.datasets import _cache

REPO = Path(__file__).resolve().parents[1]
#: The parts whose notebooks read metered data (Decision 1 of this wave: Parts B-D).
METERED_PARTS = ("b_queries", "c_metadata", "d_scenarios")


def _notebook(path: Path, *cells: tuple[str, str]) -> Path:
    """Write a notebook of (cell_type, source) cells, sources as lists of lines (nbformat 4)."""
    doc = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": kind,
                "metadata": {},
                "source": src.splitlines(keepends=True),
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for kind, src in cells
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


CONSTANTS = "%matplotlib inline\nimport pandas as pd\nSEED = 0\nDAYS: int = 30\nSCENARIO = 'runaway_agent'\n"


def test_it_finds_literal_and_constant_arguments(tmp_path):
    nb = _notebook(
        tmp_path / "05_x.ipynb",
        ("markdown", "# Title with metered(days=1) in prose: not code"),
        ("code", CONSTANTS),
        (
            "code",
            "from showcase_lib.datasets import metered\nsim = metered('steady_growth', days=DAYS, customers=60, seed=SEED)\n",
        ),
        (
            "code",
            "from showcase_lib import datasets as ds\nother = ds.metered(SCENARIO, days=3, customers=10, seed=5, loop_day=1)\n",
        ),
    )
    calls = find_calls(nb)
    assert [(c.cell, c.line) for c in calls] == [(3, 2), (4, 2)]
    assert dict(calls[0].params) == {
        "scenario": "steady_growth",
        "days": 30,
        "customers": 60,
        "seed": 0,
        "start": None,
    }
    assert dict(calls[1].params) == {
        "scenario": "runaway_agent",
        "days": 3,
        "customers": 10,
        "seed": 5,
        "start": None,
        "loop_day": 1,
    }


def test_identical_calls_are_one_data_set_defaults_included(tmp_path):
    _notebook(
        tmp_path / "a" / "06_a.ipynb",
        ("code", "metered('steady_growth', days=30, customers=60, seed=0)"),
    )
    _notebook(
        tmp_path / "b" / "07_b.ipynb", ("code", "N = 60\nsim = datasets.metered(customers=N)\n")
    )
    _notebook(
        tmp_path / "b" / ".ipynb_checkpoints" / "07_b-checkpoint.ipynb", ("code", "metered(days=1)")
    )
    sets = find_sets(tmp_path)
    assert len(sets) == 1  # same parameters once the defaults are filled; checkpoints skipped
    assert sets[0].notebooks == ("06_a", "07_b")
    assert sets[0].describe() == "steady_growth days=30 customers=60 seed=0"


@pytest.mark.parametrize(
    ("code", "argument", "reason"),
    [
        (
            "sim = metered('steady_growth', days=30, customers=len(ids))",
            "customers=len(ids)",
            "not a literal",
        ),
        ("N = compute()\nsim = metered(customers=N)", "customers=N", "computed value"),
        ("sim = metered(customers=LATER)\nLATER = 5", "customers=LATER", "not assigned a literal"),
        ("N = 5\nN += 1\nsim = metered(customers=N)", "customers=N", "computed value"),
    ],
)
def test_a_computed_argument_names_notebook_cell_and_argument(tmp_path, code, argument, reason):
    nb = _notebook(
        tmp_path / "12_y.ipynb", ("markdown", "intro"), ("code", "x = 1"), ("code", code)
    )
    with pytest.raises(WarmError) as err:
        find_calls(nb)
    message = str(err.value)
    assert "12_y.ipynb, cell 3" in message and argument in message and reason in message


def test_splats_and_extra_positionals_are_refused(tmp_path):
    nb = _notebook(tmp_path / "z.ipynb", ("code", "P = {}\nmetered(**P)"))
    with pytest.raises(WarmError, match=r"metered\(\*\*P\) hides its arguments"):
        find_calls(nb)
    nb = _notebook(tmp_path / "z.ipynb", ("code", "metered('steady_growth', 30)"))
    with pytest.raises(WarmError, match="only positional argument"):
        find_calls(nb)


def test_the_command_lists_and_reports_errors(tmp_path, capsys):
    _notebook(tmp_path / "ok.ipynb", ("code", "metered('seasonal', days=2, customers=3, seed=1)"))
    assert main(["datasets", "warm", "--notebooks", str(tmp_path), "--list"]) == 0
    out = capsys.readouterr().out
    assert "1 data set(s)" in out and "seasonal days=2 customers=3 seed=1  <- ok" in out
    _notebook(tmp_path / "bad.ipynb", ("code", "metered(days=DAYS)"))
    assert main(["datasets", "warm", "--notebooks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.ipynb, cell 1, line 1" in err and "days=DAYS" in err
    assert main(["datasets", "warm", "--notebooks", str(tmp_path / "missing")]) == 2


def test_the_command_builds_each_set_then_hits_the_cache(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(_cache.CACHE_ENV, str(tmp_path / "cache"))
    code = "SEED = 2\nsim = metered('steady_growth', days=1, customers=2, seed=SEED)"
    _notebook(tmp_path / "nb" / "one.ipynb", ("code", code))
    _notebook(tmp_path / "nb" / "two.ipynb", ("code", code))
    assert main(["datasets", "warm", "--notebooks", str(tmp_path / "nb")]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[1].split()[0] == "miss" and first[1].endswith("<- one, two")
    assert first[-1].startswith("total: 1 data set(s),") and "1 metered cold" in first[-1]
    assert main(["datasets", "warm", "--notebooks", str(tmp_path / "nb")]) == 0
    second = capsys.readouterr().out.splitlines()
    assert second[1].split()[0] == "hit" and second[1].split()[1] == first[1].split()[1]  # rows
    assert "0 metered cold" in second[-1]


def test_the_warm_up_is_outside_the_cache_key():
    # the finder lives in cli.py, which the data sets' key does not hash: editing the warm-up
    # keeps every cached data set
    assert not any(m.startswith("cli") for m in _cache.SHAPING_MODULES)
    assert not (REPO / "showcase_lib" / "datasets" / "_warm.py").exists()


def test_every_notebook_of_parts_b_to_d_calls_metered_and_resolves():
    notebooks = sorted(
        p for part in METERED_PARTS for p in (REPO / "notebooks" / part).glob("*.ipynb")
    )
    assert len(notebooks) == 9
    missing = [p.name for p in notebooks if not find_calls(p)]  # find_calls raises if unresolved
    assert missing == [], f"these notebooks call no metered(...): {missing}"
    assert find_sets(REPO / "notebooks")  # the whole folder resolves, Part A included
