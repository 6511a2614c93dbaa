"""Find every ``metered(...)`` call of the notebooks and build each data set once.

The notebooks are the list: each one writes its data set as ``metered(...)`` (or
``datasets.metered(...)``) with literal arguments or names assigned a literal at the top level
of a code cell (``SEED = 0``). :func:`find_sets` reads every notebook (JSON, code cells, parsed
with :mod:`ast`: nothing is executed), resolves the arguments, fills the defaults of
:func:`~showcase_lib.datasets.metered` and merges identical calls; :func:`warm` builds each set
(a cache hit takes a second). ``showcase datasets warm`` prints the result. A call whose
argument cannot be resolved from the notebook alone stops with :class:`WarmError` naming the
notebook, the cell and the argument: a warm-up that skipped it would leave a notebook to meter
cold in CI.

This module reads notebooks and does not shape data: the cache key leaves it out
(``_cache.NOT_SHAPING``), so editing it never invalidates a data set.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from ._metered import metered

#: The module paths whose ``metered`` attribute is the data-set builder (``import ... as x``).
_MODULES: Final[tuple[str, ...]] = ("showcase_lib.datasets", "showcase_lib.datasets._metered")
#: A line of IPython syntax that :mod:`ast` cannot parse (``%time``, ``!ls``, ``x?``): blanked,
#: so the cell's other lines still parse and line numbers still match the cell.
_MAGIC: Final[re.Pattern[str]] = re.compile(r"^\s*(?:[%!]|\S.*\?\s*$)")
#: Notebook folders skipped by the scan (Jupyter's autosaves, build outputs).
_SKIP_PARTS: Final[frozenset[str]] = frozenset({".ipynb_checkpoints", "_build"})


class WarmError(ValueError):
    """A ``metered(...)`` call whose data set cannot be known without running the notebook.

    Example:
        >>> str(WarmError("nb.ipynb, cell 3, line 1: days=f(x) is not a literal"))
        'nb.ipynb, cell 3, line 1: days=f(x) is not a literal'
    """


@dataclass(frozen=True, slots=True)
class Found:
    """One ``metered(...)`` call of a notebook: where it is and its resolved arguments."""

    notebook: Path
    cell: int  # 1 = the notebook's first cell (Markdown cells count too)
    line: int  # 1 = the cell's first line
    params: tuple[tuple[str, Any], ...]  # every argument of metered(), defaults filled


@dataclass(frozen=True, slots=True)
class DataSet:
    """One data set the notebooks use, and the notebooks (cells) that call it."""

    params: tuple[tuple[str, Any], ...]
    calls: tuple[Found, ...]

    @property
    def notebooks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.notebook.stem for f in self.calls))

    def describe(self) -> str:
        """``steady_growth days=30 customers=60 seed=0`` (scenario first, ``start`` if set)."""
        p = dict(self.params)
        rest = " ".join(
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
            for k, v in p.items()
            if k != "scenario" and v is not None
        )
        return f"{p['scenario']} {rest}"


@dataclass(frozen=True, slots=True)
class Built:
    """What building one data set took."""

    dataset: DataSet
    rows: int
    seconds: float
    cache: Literal["hit", "miss"]


def _defaults() -> dict[str, Any]:
    sig = inspect.signature(metered)
    return {
        name: p.default
        for name, p in sig.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _code_cells(notebook: Path) -> Iterator[tuple[int, str]]:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise WarmError(
            f"{notebook}: not a readable notebook ({type(err).__name__}: {err})"
        ) from err
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            yield number, source if isinstance(source, str) else "".join(source)


def _parse(notebook: Path, number: int, source: str) -> ast.Module:
    lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError as err:
        raise WarmError(
            f"{notebook}, cell {number}, line {err.lineno}: the cell does not parse as Python "
            f"({err.msg}), so its metered(...) calls cannot be read"
        ) from err


class _Scope:
    """The notebook's top-level names, in execution order: literal constants and aliases."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self.computed: dict[str, int] = {}  # name -> line of a non-literal assignment
        self.functions: set[str] = {"metered"}
        self.modules: set[str] = {"datasets"}

    def bind(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            for alias in stmt.names:
                name = alias.asname or alias.name
                if stmt.module in _MODULES and alias.name == "metered":
                    self.functions.add(name)
                elif f"{stmt.module}.{alias.name}" in _MODULES:
                    self.modules.add(name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in _MODULES and alias.asname:
                    self.modules.add(alias.asname)
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    literal = ast.literal_eval(value) if value is not None else None
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    value_ok = False
                else:
                    value_ok = value is not None
                if value_ok:
                    self.constants[target.id] = literal
                    self.computed.pop(target.id, None)
                else:
                    self.constants.pop(target.id, None)
                    self.computed[target.id] = stmt.lineno

    def is_metered(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.functions
        if isinstance(func, ast.Attribute) and func.attr == "metered":
            base = func.value
            if isinstance(base, ast.Name):
                return base.id in self.modules
            return isinstance(base, ast.Attribute) and ast.unparse(base) in _MODULES
        return False

    def resolve(self, node: ast.expr, where: str, name: str) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        text = ast.unparse(node)
        why = "is not a literal or a name assigned a literal at the top level of a code cell"
        if isinstance(node, ast.Name) and node.id in self.computed:
            why = f"is a name assigned a computed value (line {self.computed[node.id]} of its cell)"
        elif isinstance(node, ast.Name):
            why = "is a name not assigned a literal in an earlier top-level statement"
        raise WarmError(
            f"{where}: argument {name}={text} of metered(...) {why}; write the value as a "
            "literal or a top-level constant (NAME = literal) so the warm-up can read it"
        )


def find_calls(notebook: str | Path) -> list[Found]:
    """Every ``metered(...)`` call of one notebook, its arguments resolved and defaults filled.

    Raises :class:`WarmError` for an argument that is neither a literal nor a name assigned a
    literal at the top level of an earlier statement (earlier cells, or earlier in the cell).

    Example:
        >>> import json, tempfile, pathlib
        >>> nb = pathlib.Path(tempfile.mkdtemp()) / "nb.ipynb"
        >>> code = ["DAYS = 30\\n", "sim = metered('steady_growth', days=DAYS, customers=60)"]
        >>> _ = nb.write_text(json.dumps({"cells": [{"cell_type": "code", "source": code}]}))
        >>> dict(find_calls(nb)[0].params)
        {'scenario': 'steady_growth', 'days': 30, 'customers': 60, 'seed': 0, 'start': None}
    """
    notebook = Path(notebook)
    defaults = _defaults()
    scope, found = _Scope(), []
    for number, source in _code_cells(notebook):
        tree = _parse(notebook, number, source)
        for stmt in tree.body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and scope.is_metered(node.func):
                    found.append(_found(scope, node, notebook, number, defaults))
            scope.bind(stmt)
    return found


def _found(
    scope: _Scope, node: ast.Call, notebook: Path, number: int, defaults: dict[str, Any]
) -> Found:
    where = f"{notebook}, cell {number}, line {node.lineno}"
    params = dict(defaults)
    positional = list(defaults)[: len(node.args)]
    if len(node.args) > 1 or any(isinstance(a, ast.Starred) for a in node.args):
        raise WarmError(f"{where}: metered(...) takes the scenario as its only positional argument")
    for name, arg in zip(positional, node.args, strict=True):
        params[name] = scope.resolve(arg, where, name)
    for kw in node.keywords:
        if kw.arg is None:
            raise WarmError(
                f"{where}: metered(**{ast.unparse(kw.value)}) hides its arguments; "
                "write each one as a keyword"
            )
        params[kw.arg] = scope.resolve(kw.value, where, kw.arg)
    return Found(notebook, number, node.lineno, tuple(params.items()))


def _notebooks(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.ipynb") if not _SKIP_PARTS.intersection(p.relative_to(root).parts)
    )


def find_sets(root: str | Path = "notebooks") -> list[DataSet]:
    """The distinct data sets the notebooks under ``root`` call, in order of first use.

    Example:
        >>> import json, tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> cell = {"cell_type": "code", "source": "metered(days=30, customers=60, seed=0)"}
        >>> for name in ("a.ipynb", "b.ipynb"):
        ...     _ = (root / name).write_text(json.dumps({"cells": [cell]}))
        >>> [(s.describe(), s.notebooks) for s in find_sets(root)]
        [('steady_growth days=30 customers=60 seed=0', ('a', 'b'))]
    """
    root = Path(root)
    if not root.is_dir():
        raise WarmError(f"--notebooks {str(root)!r} is not a directory")
    sets: dict[tuple[tuple[str, Any], ...], list[Found]] = {}
    for notebook in _notebooks(root):
        for call in find_calls(notebook):
            key = tuple((k, json.dumps(v, sort_keys=True)) for k, v in call.params)
            sets.setdefault(key, []).append(call)
    return [DataSet(params=calls[0].params, calls=tuple(calls)) for calls in sets.values()]


def warm(sets: Iterable[DataSet]) -> Iterator[Built]:
    """Build each data set (cache hits are instant), yielding what each took as it finishes.

    Example:
        >>> import os, tempfile
        >>> os.environ["SHOWCASE_DATASETS_DIR"] = tempfile.mkdtemp()
        >>> params = (("scenario", "steady_growth"), ("days", 1), ("customers", 2), ("seed", 0))
        >>> built = list(warm([DataSet(params=params, calls=())]))
        >>> built[0].cache, built[0].rows > 0
        ('miss', True)
        >>> del os.environ["SHOWCASE_DATASETS_DIR"]
    """
    for dataset in sets:
        params = dict(dataset.params)
        t0 = time.perf_counter()
        sim = metered(**params)
        seconds = time.perf_counter() - t0
        yield Built(dataset, len(sim.calls), seconds, sim.params["metered"]["cache"])
