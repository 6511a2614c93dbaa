"""Read and write AI-call records (CSV or Parquet) in the record schema, with row-numbered errors.

Bad input is never dropped or silently coerced: the first problem raises ``RecordError`` naming
the data row (1-based, the header is not counted: row 1 is the first record in the file), the
column and the value, e.g. ``row 17, column 'input_tokens': 'abc' is not an integer``.

Conventions:
- timestamps are ISO 8601; an offset or ``Z`` is honoured, a timestamp without one is read as
  UTC; files are written in UTC (``2026-01-01T09:30:00.250000Z``);
- an empty CSV field is a missing value. Missing values are allowed except in
  ``REQUIRED_VALUES``: the columns the record's table (``showcase_lib.schema.COLUMNS``) marks
  required ``"always"`` (a call cannot be metered without them; the wire requires the same
  seven) or ``"in files"`` (``cost_usd`` and ``customer_id``: the wire may omit them, but
  every analysis sums cost by customer, so a file for analysis must carry both);
  the extras (status, stop_reason, region) may be absent as columns;
- enumerated columns (subscription_tier, environment, status, stop_reason) must hold one of the
  schema's values, exactly (case-sensitive);
- columns outside the schema are kept, after the schema's columns.

Example:
    >>> import pandas as pd, tempfile, pathlib
    >>> from showcase_lib.schema import empty_calls
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "calls.csv"
    >>> save_calls(empty_calls(), path)
    >>> load_calls(path).shape[1]
    22
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from showcase_lib.schema import (
    ALL_COLUMNS,
    CATEGORY_COLUMNS,
    COLUMNS,
    DTYPES,
    FLOAT_COLUMNS,
    INT_COLUMNS,
    REQUIRED_COLUMNS,
    TIME_COLUMNS,
)

__all__ = [
    "RecordError",
    "conform",
    "iter_calls",
    "load_calls",
    "save_calls",
]

#: Columns whose value may never be missing in a file or frame (from the record's table).
REQUIRED_VALUES: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.required != "no")

#: Columns restricted to a fixed list of values (also their category order).
ENUM_VALUES: Final[dict[str, tuple[str, ...]]] = {c.name: c.values for c in COLUMNS if c.values}

_CSV_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
_PARQUET_SUFFIXES: Final[tuple[str, ...]] = (".parquet", ".pq")
_ISO_FORMAT: Final[str] = "%Y-%m-%dT%H:%M:%S.%fZ"
_OFFSET_RE: Final[str] = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\s*$"


class RecordError(ValueError):
    """A record file or frame breaks the schema. ``row`` is 1-based (header not counted).

    Example:
        >>> err = RecordError("row 3, column 'model': value is missing", row=3, column="model")
        >>> err.row, err.column
        (3, 'model')
    """

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        columns: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.row = row
        self.column = column
        self.value = value
        self.columns = columns


# ---------------------------------------------------------------------------------------------
# column checks: each returns (converted column, first problem or None)
# a problem is (position, message, raw value, number of bad values in the column)

_Problem = tuple[int, str, Any, int]


def _problem(mask: np.ndarray, raw: pd.Series, describe: Any) -> _Problem | None:
    bad = np.flatnonzero(mask)
    if len(bad) == 0:
        return None
    pos = int(bad[0])
    value = raw.iloc[pos]
    if isinstance(value, np.generic):
        value = value.item()
    return pos, describe(value), value, len(bad)


def _missing(s: pd.Series) -> np.ndarray:
    """Missing values: NA, or an empty string."""
    miss = s.isna().to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        empty = pc.equal(pa.chunked_array(pa.array(s.array)), "").fill_null(False)
        miss |= empty.to_numpy()
    elif isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if (cats == "").any():
            miss |= (s == "").to_numpy(dtype=bool, na_value=False)
    elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        miss |= (s == "").to_numpy(dtype=bool, na_value=False)
    return miss


def _first(*problems: _Problem | None) -> _Problem | None:
    found = [p for p in problems if p is not None]
    return min(found, key=lambda p: p[0]) if found else None


def _missing_problem(col: str, s: pd.Series, miss: np.ndarray) -> _Problem | None:
    if col not in REQUIRED_VALUES:
        return None
    return _problem(miss, s, lambda v: "value is missing")


def _check_time(col: str, s: pd.Series) -> tuple[pd.Series, _Problem | None]:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        conv = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        conv = s.dt.tz_localize("UTC")
    else:
        miss = _missing(s)
        text = s.astype("string")
        numeric = pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
        text = text.where(~miss)
        # parse offset-carrying and naive timestamps apart: pandas would otherwise apply the
        # first value's offset to naive ones
        aware = text.str.contains(_OFFSET_RE, regex=True).fillna(False).to_numpy(dtype=bool)
        conv = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
        for part in (aware, ~aware & ~miss):
            if part.any():
                conv[part] = pd.to_datetime(
                    text[part], utc=True, format="ISO8601", errors="coerce"
                ).astype("datetime64[ns, UTC]")
        bad = (conv.isna().to_numpy() | numeric) & ~miss
        return conv, _first(
            _missing_problem(col, s, miss),
            _problem(bad, s, lambda v: f"{v!r} is not an ISO 8601 timestamp"),
        )
    conv = conv.astype("datetime64[ns, UTC]")
    return conv, _missing_problem(col, s, conv.isna().to_numpy())


def _check_number(col: str, s: pd.Series, integer: bool) -> tuple[pd.Series, _Problem | None]:
    what = "an integer" if integer else "a number"
    miss = _missing(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s, _problem(~miss, s, lambda v: f"{v!r} is not {what}")
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s.astype("float64") if not pd.api.types.is_integer_dtype(s.dtype) else s
        not_number = np.zeros(len(s), dtype=bool)
    else:
        num = pd.to_numeric(s.where(~miss), errors="coerce")
        not_number = num.isna().to_numpy() & ~miss
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values)
        bad_value = ~miss & ~not_number & ~finite
        fractional = ~miss & finite & (np.mod(values, 1) != 0) if integer else np.zeros_like(miss)
        negative = ~miss & finite & (values < 0)
    problem = _first(
        _missing_problem(col, s, miss),
        _problem(not_number | bad_value | fractional, s, lambda v: f"{v!r} is not {what}"),
        _problem(negative, s, lambda v: f"{v!r} is negative"),
    )
    if problem is not None or miss.any():
        return s, problem
    if integer:
        if pd.api.types.is_integer_dtype(num.dtype) and not isinstance(
            num.dtype, pd.api.extensions.ExtensionDtype
        ):
            return num.astype("int64", copy=False), None
        return pd.Series(values.astype("int64"), index=s.index), None
    return pd.Series(values, index=s.index), None


def _check_category(col: str, s: pd.Series) -> tuple[pd.Series, _Problem | None]:
    allowed = ENUM_VALUES.get(col)
    if isinstance(s.dtype, pd.CategoricalDtype) and (s.cat.categories == "").any():
        s = s.cat.remove_categories([""])  # an empty label is a missing value
    miss = _missing(s)
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if allowed is not None and not set(cats.astype(str)) <= set(allowed):
            unknown = [c for c in cats if str(c) not in allowed]
            bad = s.isin(unknown).to_numpy()
            return s, _first(
                _missing_problem(col, s, miss),
                _problem(bad, s, lambda v: f"{v!r} is not one of {', '.join(allowed)}"),
            )
        if not (cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype)):
            s = s.cat.rename_categories(cats.astype(str))
        if allowed is not None and list(s.cat.categories) != list(allowed):
            s = s.cat.set_categories(list(allowed))
        return s, _missing_problem(col, s, miss)
    text = s.astype("string").where(~miss)
    if allowed is not None:
        bad = ~miss & ~text.isin(allowed).fillna(False).to_numpy(dtype=bool)
        problem = _first(
            _missing_problem(col, s, miss),
            _problem(bad, s, lambda v: f"{v!r} is not one of {', '.join(allowed)}"),
        )
        if problem is not None:
            return s, problem
        dtype = pd.CategoricalDtype(list(allowed))
    else:
        problem = _missing_problem(col, s, miss)
        if problem is not None:
            return s, problem
        dtype = pd.CategoricalDtype(sorted(text.dropna().unique()))
    values = text.to_numpy(dtype=object, na_value=None)
    return pd.Series(pd.Categorical(values, dtype=dtype), index=s.index), None


def _check_id(col: str, s: pd.Series) -> tuple[pd.Series, _Problem | None]:
    miss = _missing(s)
    problem = _missing_problem(col, s, miss)
    if problem is not None:
        return s, problem
    if s.dtype == DTYPES[col] and not miss.any():
        return s, None
    conv = s.astype("string[pyarrow]")
    if miss.any():
        conv = conv.where(~miss)
    return conv, None


def _conform(df: pd.DataFrame, *, row_offset: int = 0, source: str = "frame") -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise RecordError(
            f"{source}: missing required column(s): {', '.join(repr(c) for c in missing)}",
            columns=tuple(missing),
        )
    out: dict[str, pd.Series] = {}
    problems: list[tuple[_Problem, str]] = []
    for col in ALL_COLUMNS:
        if col not in df.columns:  # optional extra: all missing
            dtype = pd.CategoricalDtype(list(ENUM_VALUES[col])) if col in ENUM_VALUES else None
            out[col] = pd.Series(
                pd.Categorical([None] * len(df), dtype=dtype or pd.CategoricalDtype([])),
                index=df.index,
            )
            continue
        s = df[col]
        if col in TIME_COLUMNS:
            conv, prob = _check_time(col, s)
        elif col in INT_COLUMNS:
            conv, prob = _check_number(col, s, integer=True)
        elif col in FLOAT_COLUMNS:
            conv, prob = _check_number(col, s, integer=False)
        elif col in CATEGORY_COLUMNS:
            conv, prob = _check_category(col, s)
        else:
            conv, prob = _check_id(col, s)
        if prob is not None:
            problems.append((prob, col))
        out[col] = conv
    if problems:
        (pos, message, value, count), col = min(problems, key=lambda pc: pc[0][0])
        row = row_offset + pos + 1
        more = f" ({count - 1} more bad value(s) in this column)" if count > 1 else ""
        where = "" if source == "frame" else f" in {source}"
        raise RecordError(
            f"row {row}, column {col!r}: {message}{more}{where}", row=row, column=col, value=value
        )
    extra = [c for c in df.columns if c not in ALL_COLUMNS]
    frame = pd.DataFrame(out, columns=list(ALL_COLUMNS), copy=False)
    for c in extra:
        frame[c] = df[c].to_numpy()
    return frame


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Check an in-memory frame against the record schema and return it with schema dtypes.

    Same rules as ``load_calls``; row numbers count the frame's rows from 1.

    Example:
        >>> import pandas as pd
        >>> from showcase_lib.schema import empty_calls
        >>> bad = empty_calls().drop(columns=["model"])
        >>> try:
        ...     conform(bad)
        ... except RecordError as e:
        ...     print(e)
        frame: missing required column(s): 'model'
    """
    return _conform(df.reset_index(drop=True))


# ---------------------------------------------------------------------------------------------
# files


def _kind(path: str | os.PathLike[str]) -> str:
    name = str(path).lower()
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    raise ValueError(
        f"path {str(path)!r}: unknown file type; use one of "
        f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)}"
    )


def _read_csv_kwargs() -> dict[str, Any]:
    # every field as text, nothing turned into NaN behind our back: the checks decide
    return {"dtype": str, "keep_default_na": False, "na_values": [], "encoding": "utf-8"}


def load_calls(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file of calls, check every row, return it in the record schema.

    Raises ``RecordError`` for a missing required column or the first bad value (row, column,
    value). Row 1 is the first record after the header.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.csv"
        >>> _ = p.write_text("timestamp,call_id\\n2026-01-01T00:00:00Z,c1\\n")
        >>> try:
        ...     load_calls(p)
        ... except RecordError as e:
        ...     print(e.columns[:2])
        ('provider', 'model')
    """
    kind = _kind(path)
    source = Path(path).name
    df = pd.read_csv(path, **_read_csv_kwargs()) if kind == "csv" else pd.read_parquet(path)
    return _conform(df, source=source)


def iter_calls(path: str | os.PathLike[str], chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """Stream a CSV or Parquet file in chunks of at most ``chunk_rows`` records (constant memory).

    Each chunk is checked like ``load_calls``; row numbers in errors count from the start of the
    file, not of the chunk. Chunks carry a RangeIndex continuing across chunks.

    Example:
        >>> import tempfile, pathlib
        >>> from showcase_lib.simulation import simulate
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "calls.parquet"
        >>> save_calls(simulate(days=1, customers=3).calls, p)
        >>> sum(len(c) for c in iter_calls(p, chunk_rows=10)) == len(load_calls(p))
        True
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows={chunk_rows!r} must be at least 1")
    kind = _kind(path)
    source = Path(path).name
    offset = 0
    if kind == "csv":
        with pd.read_csv(path, chunksize=chunk_rows, **_read_csv_kwargs()) as reader:
            for chunk in reader:
                yield _chunk(chunk, offset, source)
                offset += len(chunk)
        return
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in pf.schema_arrow.names]
    if missing:
        raise RecordError(
            f"{source}: missing required column(s): {', '.join(repr(c) for c in missing)}",
            columns=tuple(missing),
        )
    for batch in pf.iter_batches(batch_size=chunk_rows):
        chunk = batch.to_pandas()
        yield _chunk(chunk, offset, source)
        offset += len(chunk)


def _chunk(chunk: pd.DataFrame, offset: int, source: str) -> pd.DataFrame:
    chunk = chunk.reset_index(drop=True)
    out = _conform(chunk, row_offset=offset, source=source)
    out.index = pd.RangeIndex(offset, offset + len(out))
    return out


def save_calls(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Check ``df`` and write it as CSV or Parquet (chosen by the suffix).

    CSV timestamps are written as UTC ISO 8601 with a ``Z``; Parquet keeps the dtypes
    (categories as dictionaries, ids as Arrow strings).

    Example:
        >>> import tempfile, pathlib
        >>> from showcase_lib.schema import empty_calls
        >>> save_calls(empty_calls(), pathlib.Path(tempfile.mkdtemp()) / "x.parquet")
    """
    kind = _kind(path)
    frame = conform(df)
    if kind == "csv":
        frame.to_csv(path, index=False, date_format=_ISO_FORMAT)
    else:
        frame.to_parquet(path, index=False, engine="pyarrow")
