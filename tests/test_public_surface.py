"""The library's public surface is a decision: listed here, small, documented, and kept private inside.

Rules (httpx's layout): a module is public when no part of its dotted path starts with ``_``;
each public module declares ``__all__``; every function or class defined in a public module
and not starting with ``_`` is listed there; every listed function or class has a docstring
with an example. Library modules, notebooks and benchmarks import no private name from outside
their own package (tests may reach into a package's private modules to test them); a
top-level private module such as ``showcase_lib._lazy`` is a helper of the whole library.
Run ``python tests/test_public_surface.py`` to print the surface.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import showcase_lib

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).with_name("public_surface.txt")
#: The issue's target: fewer than 150 distinct public objects across the library.
MAX_PUBLIC = 150


def _public_modules() -> list[str]:
    names = ["showcase_lib"]
    for m in pkgutil.walk_packages(showcase_lib.__path__, "showcase_lib."):
        parts = m.name.split(".")[1:]
        if any(p.startswith("_") for p in parts):
            continue
        names.append(m.name)
    return sorted(names)


def surface() -> dict[str, list[str]]:
    """Public module -> its ``__all__``."""
    out = {}
    for name in _public_modules():
        mod = importlib.import_module(name)
        out[name] = sorted(getattr(mod, "__all__", []))
    return out


def distinct_objects(surf: dict[str, list[str]]) -> dict[int, str]:
    seen: dict[int, str] = {}
    for mod, names in surf.items():
        module = importlib.import_module(mod)
        for n in names:
            obj = getattr(module, n)
            key = id(obj) if not isinstance(obj, (str, int, float, bool)) else hash((mod, n))
            seen.setdefault(key, f"{mod}.{n}")
    return seen


def listing() -> str:
    surf = surface()
    objs = distinct_objects(surf)
    return "\n".join(sorted(objs.values())) + "\n"


def test_every_public_module_declares_all():
    missing = [m for m in _public_modules() if not hasattr(importlib.import_module(m), "__all__")]
    assert not missing, f"public modules without __all__: {missing}"


def test_public_names_defined_in_a_module_are_listed():
    stray = []
    for name in _public_modules():
        mod = importlib.import_module(name)
        listed = set(getattr(mod, "__all__", []))
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or attr in listed:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name:
                stray.append(f"{name}.{attr}")
    assert not stray, f"public-looking names missing from __all__ (list or make private): {stray}"


def test_surface_is_small():
    objs = distinct_objects(surface())
    assert len(objs) < MAX_PUBLIC, f"{len(objs)} public objects (target < {MAX_PUBLIC})"


def test_every_public_function_and_class_has_an_example():
    lacking = []
    for name in _public_modules():
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            doc = inspect.getdoc(obj) or ""
            if isinstance(obj, type) and issubclass(obj, BaseException):
                ok = bool(doc)
            else:
                ok = ">>>" in doc or "Example" in doc
            if not ok:
                lacking.append(f"{name}.{attr}")
    assert not lacking, f"public names without a docstring example: {sorted(set(lacking))}"


def test_surface_matches_the_listing():
    """A change to the public surface is deliberate: update tests/public_surface.txt with it."""
    assert listing() == SNAPSHOT.read_text(encoding="utf-8"), (
        "public surface changed; run `python tests/test_public_surface.py > tests/public_surface.txt`"
    )


_PRIVATE_IMPORT = re.compile(
    r"^(?:from\s+(showcase_lib[\w.]*)\s+import\s+(.+)|import\s+(showcase_lib[\w.]*))"
)


def _private_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) for each import of a private module or a private name."""
    found = []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("showcase_lib")
        ):
            for alias in node.names:
                found.append((node.module, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("showcase_lib"):
                    found.append((alias.name, ""))
    return [
        (m, n)
        for m, n in found
        if any(p.startswith("_") for p in m.split(".")[1:]) or (n.startswith("_") and n != "*")
    ]


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _library_helper(module: str) -> bool:
    """A top-level private module (``showcase_lib._lazy``): internal to the whole library, like
    httpx's ``httpx._utils``, so any library module may import it (notebooks and benchmarks
    may not)."""
    parts = module.split(".")
    return len(parts) == 2 and parts[1].startswith("_")


def _notebook_code(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return (
        "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        .replace("\n%", "\n#%")
        .replace("\n!", "\n#!")
    )


def test_no_private_import_across_packages():
    bad = []
    for path in sorted((ROOT / "showcase_lib").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        importer = ".".join(rel.parts)
        for mod, name in _private_imports(path.read_text(encoding="utf-8")):
            if _package_of(mod) != _package_of(importer) and not _library_helper(mod):
                bad.append(f"{path.relative_to(ROOT)}: {mod} {name}")
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for mod, name in _private_imports(path.read_text(encoding="utf-8")):
            bad.append(f"{path.relative_to(ROOT)}: {mod} {name}")
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for mod, name in _private_imports(_notebook_code(path)):
            bad.append(f"{path.relative_to(ROOT)}: {mod} {name}")
    assert not bad, "imports of private names from outside their package:\n" + "\n".join(bad)


if __name__ == "__main__":
    print(listing(), end="")
