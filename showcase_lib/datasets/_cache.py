"""Where metered data sets are cached, and under which key.

A data set is a directory ``<cache>/<scenario>-<key>/`` holding ``calls.parquet``,
``incidents.parquet``, ``customers.parquet`` and ``meta.json`` (the parameters, the key's
parts and what the metering run measured). It is written into a temporary sibling directory
and renamed into place, so a reader never sees half a data set. The key hashes every
parameter, the library's version, the record's schema, genai-prices' version and the source
of the modules that shape the data (simulation, wire mapping, io, metering, emulator, this
package): a change to any of them is a different data set, never a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import pandas as pd

import showcase_lib
from showcase_lib.schema import COLUMNS

#: The environment variable that moves the cache (for CI, a shared disk, or a clean slate).
CACHE_ENV: Final[str] = "SHOWCASE_DATASETS_DIR"
#: Bumped when the layout of a cached data set changes (old entries are then ignored).
LAYOUT_VERSION: Final[int] = 1
#: 16 hex digits (64 bits) of SHA-256: no collision among any number of data sets a reader
#: could build, and a directory name short enough to read.
KEY_HEX_DIGITS: Final[int] = 16
#: The modules whose code decides what a metered data set holds (paths below showcase_lib).
SHAPING_MODULES: Final[tuple[str, ...]] = (
    "simulation",
    "metering",
    "emulator",
    "datasets",
    "schema.py",
    "wire.py",
    "io.py",
    "pricing.py",
)
_FILES: Final[tuple[str, ...]] = ("calls", "incidents", "customers")


def cache_dir() -> Path:
    """The cache directory: ``$SHOWCASE_DATASETS_DIR``, else the user's cache directory.

    ``$XDG_CACHE_HOME/showcase_lib/datasets`` (``~/.cache/...`` by default): outside the
    repository, so no data set is ever committed by accident.

    Example:
        >>> import os
        >>> os.environ[CACHE_ENV] = "/tmp/showcase-datasets-doc"
        >>> str(cache_dir())
        '/tmp/showcase-datasets-doc'
        >>> del os.environ[CACHE_ENV]
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "showcase_lib" / "datasets"


def _library_version() -> str:
    try:
        return metadata.version("showcase_lib")
    except metadata.PackageNotFoundError:  # run from a checkout without an install
        return "unknown"


def _genai_prices_version() -> str:
    try:
        return metadata.version("genai-prices")
    except metadata.PackageNotFoundError:
        return "unknown"


def _schema_hash() -> str:
    text = repr(
        [(c.name, c.dtype, c.kind, c.wire, c.required, c.values, c.default) for c in COLUMNS]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_HEX_DIGITS]


def _code_hash() -> str:
    root = Path(showcase_lib.__file__).parent
    digest = hashlib.sha256()
    for name in SHAPING_MODULES:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:KEY_HEX_DIGITS]


def _plain(value: Any) -> Any:
    """A parameter as JSON can hold it (numpy scalars, timestamps: their text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached data set: its directory and the key's parts.

    Example:
        >>> e = entry_for({"scenario": "steady_growth", "days": 2, "customers": 5, "seed": 0})
        >>> e.path.name.startswith("steady_growth-"), len(e.key)
        (True, 16)
    """

    path: Path
    key: str
    parts: dict[str, Any]

    def file(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    def exists(self) -> bool:
        return (self.path / "meta.json").is_file()


def entry_for(params: dict[str, Any]) -> Entry:
    """The cache entry of a data set built from ``params`` (the call's own arguments)."""
    parts = {
        "params": _plain(params),
        "layout": LAYOUT_VERSION,
        "showcase_lib": _library_version(),
        "schema": _schema_hash(),
        "genai_prices": _genai_prices_version(),
        "code": _code_hash(),
    }
    key = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:KEY_HEX_DIGITS]
    scenario = str(params.get("scenario", "dataset"))
    return Entry(path=cache_dir() / f"{scenario}-{key}", key=key, parts=parts)


def read_entry(entry: Entry) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The incidents, the customers and the metadata of a cached data set (raises on any
    damage); the calls are read by the caller, through the record's own loader."""
    meta = json.loads((entry.path / "meta.json").read_text())
    if meta.get("key") != entry.key:
        raise ValueError(f"meta.json holds key {meta.get('key')!r}, expected {entry.key!r}")
    frames = {name: pd.read_parquet(entry.file(name)) for name in _FILES if name != "calls"}
    check_rows(meta, frames)
    return frames, meta


def check_rows(meta: dict[str, Any], frames: dict[str, pd.DataFrame]) -> None:
    """Each frame holds the rows ``meta.json`` recorded (a truncated file is damage)."""
    rows = meta.get("rows", {})
    for name, frame in frames.items():
        if len(frame) != rows.get(name):
            raise ValueError(
                f"{name}.parquet holds {len(frame)} rows, meta.json says {rows.get(name)}"
            )


def write_entry(entry: Entry, frames: dict[str, pd.DataFrame], meta: dict[str, Any]) -> None:
    """Write a data set atomically: a temporary sibling directory, then one rename."""
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.path.name}-", dir=entry.path.parent))
    try:
        for name in _FILES:
            frames[name].to_parquet(tmp / f"{name}.parquet", index=False, engine="pyarrow")
        full = {**meta, "key": entry.key, "key_parts": entry.parts}
        full["rows"] = {name: len(frames[name]) for name in _FILES}
        (tmp / "meta.json").write_text(json.dumps(_plain(full), indent=1))
        if entry.path.exists():  # a damaged entry being rebuilt
            shutil.rmtree(entry.path)
        os.replace(tmp, entry.path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
