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
- columns outside the schema are kept, after the schema's columns;
- counts (``input_tokens``, ``output_tokens``, ``latency_ms``) are int64 >= 0: a larger value
  (``1e19``, ``2**63``) is an error, never wrapped, and values beyond a float's 2**53 are read
  exactly;
- a CSV file is UTF-8 (a BOM is fine) with a header row; every row has the header's number of
  fields (more or fewer is an error naming the row); an empty file, a UTF-16/32 file (a BOM or
  NUL bytes reveal it) or one in latin-1 is refused with the file's name and what was expected.
  Arrow parses the CSV (every field as text, one thread, so each row keeps its number).

Example:
    >>> import pandas as pd, tempfile, pathlib
    >>> from showcase_lib.schema import empty_calls
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "calls.csv"
    >>> save_calls(empty_calls(), path)
    >>> load_calls(path).shape[1]
    27
"""

from __future__ import annotations

import bz2
import codecs
import csv
import functools
import gzip
import io
import json
import lzma
import os
import re
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, cast, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from showcase_lib.schema import (
    ALL_COLUMNS,
    CATEGORY_COLUMNS,
    COLUMNS,
    DTYPES,
    FLOAT_COLUMNS,
    INT_COLUMNS,
    RECORD_COLUMNS,
    REQUIRED_COLUMNS,
    TIME_COLUMNS,
)

__all__ = [
    "RecordError",
    "iter_calls",
    "load_calls",
    "load_usage",
    "save_calls",
]

#: Columns whose value may never be missing in a file or frame (from the record's table).
REQUIRED_VALUES: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.required != "no")

#: What an absent column or an empty value means, for the columns that have a default (token
#: kinds: 0, service tier: standard), so files written before those columns existed still load.
DEFAULTS: Final[dict[str, int | str]] = {
    c.name: c.default for c in COLUMNS if c.default is not None
}

#: Columns restricted to a fixed list of values (also their category order).
ENUM_VALUES: Final[dict[str, tuple[str, ...]]] = {c.name: c.values for c in COLUMNS if c.values}

_CSV_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
_PARQUET_SUFFIXES: Final[tuple[str, ...]] = (".parquet", ".pq")
_EXPECTED_CSV: Final[str] = "a UTF-8 CSV file with a header row"
#: Byte-order marks of encodings that are not UTF-8 (UTF-32-LE first: it starts like UTF-16-LE).
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xff\xfe\x00\x00", "UTF-32-LE"),
    (b"\x00\x00\xfe\xff", "UTF-32-BE"),
    (b"\xff\xfe", "UTF-16-LE"),
    (b"\xfe\xff", "UTF-16-BE"),
)
#: Bytes read to check the encoding and parse the header: a 22-column header is ~300 bytes.
_SNIFF_BYTES: Final[int] = 64 * 1024
#: A header row longer than this is not a header (a file of one endless line): stop looking.
_MAX_HEADER_BYTES: Final[int] = 16 * 1024 * 1024
#: Arrow's CSV block: ~4,000 records of ~250 bytes. Memory per block, not per file; larger
#: blocks barely speed up one-thread parsing.
_BLOCK_BYTES: Final[int] = 1 << 20
#: Arrow's (22.x) wording for bad UTF-8 in a field; if it changes, the error still names the
#: file and quotes Arrow, only without row and column.
_ARROW_UTF8_RE: Final[re.Pattern[str]] = re.compile(
    r"column #(?P<column>\d+): Row #(?P<row>\d+): .*invalid UTF8"
)
#: Arrow text becomes pandas' Arrow-backed strings (no copy into Python objects).
_ARROW_TEXT: Final[pd.StringDtype] = pd.StringDtype("pyarrow")
_ARROW_TYPES: Final[dict[pa.DataType, pd.StringDtype]] = {pa.string(): _ARROW_TEXT}
_ISO_FORMAT: Final[str] = "%Y-%m-%dT%H:%M:%S.%fZ"
_OFFSET_RE: Final[str] = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\s*$"
#: The record's counts are int64 (schema dtype); a larger value cannot be stored, only wrapped.
_INT64_MAX: Final[int] = int(np.iinfo(np.int64).max)
_INT64_RANGE: Final[str] = f"(0 .. {_INT64_MAX:,})"  # counts are also >= 0
#: From 2**53 on, a float64 no longer holds every integer: such values are re-read exactly.
_EXACT_FLOAT: Final[float] = 2.0**53


class RecordError(ValueError):
    """A record file or frame breaks the schema. ``row`` is 1-based (header not counted).

    ``column`` and ``value`` name the bad cell; for a CSV row with the wrong number of fields
    ``column`` is None and ``value`` is the row's text; ``columns`` lists missing columns.

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
        text = s.astype(_ARROW_TEXT)
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


def _exact_integer(value: Any) -> int | None:
    """The exact integer a raw value spells, or None when it spells no integer."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _integer_values(
    s: pd.Series, num: pd.Series, values: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact int64 values: (values, too big for int64, not an integer after all).

    ``values`` (float64) decides everything a float decides exactly; a raw value whose float is
    at or beyond ``_EXACT_FLOAT`` is re-read from the raw text or object (a rare, slow path), so
    ``9007199254740993`` stays itself and ``1e30`` is caught, not wrapped to -2**63.
    """
    too_big = np.zeros(len(s), dtype=bool)
    not_integer = np.zeros(len(s), dtype=bool)
    if pd.api.types.is_integer_dtype(num.dtype):
        if pd.api.types.is_unsigned_integer_dtype(num.dtype):
            raw = num.to_numpy(dtype="uint64", na_value=0)
            too_big = candidates & (raw > _INT64_MAX)
            return np.where(too_big, 0, raw).astype("int64"), too_big, not_integer
        return num.to_numpy(dtype="int64", na_value=0), too_big, not_integer
    with np.errstate(invalid="ignore"):
        big = candidates & (np.abs(values) >= _EXACT_FLOAT)
        out = np.where(big | ~candidates, 0, values).astype("int64")
    for pos in np.flatnonzero(big):
        exact = _exact_integer(s.iloc[pos]) if not _is_float(s.iloc[pos]) else int(values[pos])
        if exact is None:
            not_integer[pos] = True
        elif exact > _INT64_MAX:
            too_big[pos] = True
        elif exact >= 0:  # a negative value is reported as negative
            out[pos] = exact
    return out, too_big, not_integer


def _is_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating))


def _arrow_number(s: pd.Series, integer: bool) -> pd.Series | None:
    """Arrow's strict cast of Arrow text (the CSV path): None when any value fails it."""
    try:
        converted = pc.cast(pa.array(s.array), pa.int64() if integer else pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # the general path finds and names the bad value
    return pd.Series(converted.to_numpy(), index=s.index)


def _check_number(col: str, s: pd.Series, integer: bool) -> tuple[pd.Series, _Problem | None]:
    what = "an integer" if integer else "a number"
    miss = _missing(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s, _problem(~miss, s, lambda v: f"{v!r} is not {what}")
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s if pd.api.types.is_integer_dtype(s.dtype) else s.astype("float64")
        not_number = np.zeros(len(s), dtype=bool)
    else:
        num = _arrow_number(s, integer) if s.dtype == _ARROW_TEXT and not miss.any() else None
        if num is None:
            num = pd.to_numeric(s.where(~miss) if miss.any() else s, errors="coerce")
        not_number = num.isna().to_numpy() & ~miss
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values)
        bad_value = ~miss & ~not_number & ~finite
        fractional = ~miss & finite & (np.mod(values, 1) != 0) if integer else np.zeros_like(miss)
        negative = ~miss & finite & (values < 0)
    too_big = np.zeros_like(miss)
    if integer:
        ints, too_big, not_integer = _integer_values(s, num, values, ~miss & finite & ~fractional)
        fractional |= not_integer
    problem = _first(
        _missing_problem(col, s, miss),
        _problem(not_number | bad_value | fractional, s, lambda v: f"{v!r} is not {what}"),
        _problem(negative, s, lambda v: f"{v!r} is negative"),
        _problem(too_big, s, lambda v: f"{v!r} is outside the int64 range {_INT64_RANGE}"),
    )
    if problem is not None or miss.any():
        return s, problem
    if integer:
        return pd.Series(ints, index=s.index), None
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
    text = s.astype(_ARROW_TEXT).where(~miss)
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
    labels = pa.array(list(dtype.categories), type=pa.string())
    codes = pc.index_in(pa.array(text.array), value_set=labels).fill_null(-1)
    return pd.Series(pd.Categorical.from_codes(codes.to_numpy(), dtype=dtype), index=s.index), None


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


def _default_column(col: str, index: pd.Index) -> pd.Series:
    """The column ``col`` holding its default on every row."""
    default = DEFAULTS[col]
    if col in ENUM_VALUES:
        cats = pd.CategoricalDtype(list(ENUM_VALUES[col]))
        codes = np.full(len(index), ENUM_VALUES[col].index(str(default)), dtype=np.int8)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=cats), index=index)
    return pd.Series(np.full(len(index), default, dtype=DTYPES[col]), index=index)


#: The inclusive rule (``showcase_lib.schema``): each whole counts its parts, so the parts may
#: never exceed it. (whole, its parts, why), checked once every column has been converted.
_INCLUSIVE: Final[tuple[tuple[str, tuple[str, ...], str], ...]] = (
    (
        "input_tokens",
        ("cache_read_tokens", "cache_write_tokens"),
        "input_tokens counts the cache reads and writes",
    ),
    ("output_tokens", ("reasoning_tokens",), "output_tokens counts the reasoning tokens"),
    (
        "cache_write_tokens",
        ("cache_write_1h_tokens",),
        "the 1-hour writes are a share of all cache writes",
    ),
)


def _inclusive_problems(out: dict[str, pd.Series]) -> list[tuple[_Problem, str]]:
    """Rows whose token kinds exceed the count that includes them (first row per rule)."""
    problems = []
    for whole, parts, why in _INCLUSIVE:
        if any(out[c].dtype != "int64" for c in (whole, *parts)):
            continue  # a missing value was reported (or the column is all missing)
        total = out[whole].to_numpy()
        part = sum(out[c].to_numpy() for c in parts)
        bad = np.flatnonzero(part > total)
        if len(bad):
            pos = int(bad[0])
            verb = "exceed" if len(parts) > 1 else "exceeds"
            message = (
                f"{' + '.join(parts)} = {int(part[pos])} {verb} {whole} = {int(total[pos])} "
                f"(inclusive rule: {why})"
            )
            problems.append(((pos, message, int(part[pos]), len(bad)), parts[0]))
    return problems


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
        if col not in df.columns and col in DEFAULTS:  # a column newer than the file
            out[col] = _default_column(col, df.index)
            continue
        if col not in df.columns:  # optional extra: all missing
            dtype = pd.CategoricalDtype(list(ENUM_VALUES[col])) if col in ENUM_VALUES else None
            out[col] = pd.Series(
                pd.Categorical([None] * len(df), dtype=dtype or pd.CategoricalDtype([])),
                index=df.index,
            )
            continue
        s = df[col]
        if col in DEFAULTS:
            miss = _missing(s)
            if miss.any():
                s = s.astype(object).where(~miss, DEFAULTS[col])
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
    if not problems:
        problems = _inclusive_problems(out)
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


def _conform_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Check an in-memory frame against the record schema and return it with schema dtypes.

    Same rules as ``load_calls``; row numbers count the frame's rows from 1.

    Example:
        >>> import pandas as pd
        >>> from showcase_lib.schema import empty_calls
        >>> bad = empty_calls().drop(columns=["model"])
        >>> try:
        ...     _conform_frame(bad)
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


@contextmanager
def _open_bytes(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed by suffix (the CSV suffixes ``_CSV_SUFFIXES`` allows)."""
    name = str(path).lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise RecordError(
                    f"{Path(path).name}: a zip archive must hold exactly one CSV file, "
                    f"it holds {len(members)}"
                )
            with archive.open(members[0]) as fh:
                yield cast("BinaryIO", fh)
        return
    opener: Any = open
    for suffix, module in ((".gz", gzip), (".bz2", bz2), (".xz", lzma)):
        if name.endswith(suffix):
            opener = module.open
    with opener(path, "rb") as fh:
        yield fh


def _not_csv(source: str, problem: str) -> RecordError:
    return RecordError(f"{source}: {problem}; expected {_EXPECTED_CSV}")


def _sniff_encoding(head: bytes, source: str) -> None:
    """Refuse what is plainly not UTF-8 text, naming the encoding a BOM or NUL bytes reveal."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            raise _not_csv(source, f"the file is {encoding} (it starts with a byte-order mark)")
    nul = head.find(b"\x00")
    if nul >= 0:
        even = head[0::2].count(0) > head[1::2].count(0)  # UTF-16-BE puts NUL first (ASCII text)
        guess = "UTF-16-BE" if even else "UTF-16-LE"
        raise _not_csv(
            source, f"the file holds NUL bytes (at byte {nul}); it looks like {guess} text"
        )


def _not_utf8(source: str, data: bytes, err: UnicodeDecodeError) -> RecordError:
    line = data.count(b"\n", 0, err.start) + 1
    bad = data[err.start : err.start + 8]
    return RecordError(
        f"{source}: byte {err.start} (line {line}: {bad!r}) is not valid UTF-8; expected "
        f"{_EXPECTED_CSV} (is it latin-1 or Windows-1252? re-save it as UTF-8)",
        value=bad,
    )


def _csv_header(path: str | os.PathLike[str], source: str) -> tuple[list[str], bool]:
    """The header row's column names and whether a line break follows (else: no records).

    Checks first that the file starts as UTF-8 CSV text.
    """
    with _open_bytes(path) as fh:
        head = fh.read(_SNIFF_BYTES)
        while head and b"\n" not in head and len(head) < _MAX_HEADER_BYTES:
            more = fh.read(_SNIFF_BYTES)
            if not more:
                break
            head += more
    if not head.strip(b" \t\r\n"):
        raise _not_csv(source, "the file is empty")
    _sniff_encoding(head, source)
    try:  # the head may end inside a character: decode incrementally, not finally
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as err:
        raise _not_utf8(source, head, err) from None
    names = next((row for row in csv.reader(io.StringIO(text)) if row), [])
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _not_csv(source, f"column name(s) repeated in the header: {dupes!r}")
    return names, b"\n" in head or b"\r" in head


def _malformed_row(row: pcsv.InvalidRow, source: str) -> RecordError:
    number = row.number - 1 if row.number else None  # Arrow counts the header as row 1
    return RecordError(
        f"row {number}: expected {row.expected_columns} fields like the header, "
        f"found {row.actual_columns} in {source}",
        row=number,
        value=row.text,
    )


def _arrow_csv_error(err: pa.ArrowInvalid, names: list[str], source: str) -> RecordError:
    found = _ARROW_UTF8_RE.search(str(err))
    if found is None:
        return _not_csv(source, f"it cannot be read as CSV ({err})")
    column, row = names[int(found["column"])], int(found["row"]) - 1
    return RecordError(
        f"row {row}, column {column!r}: the text is not valid UTF-8 in {source}; expected "
        f"{_EXPECTED_CSV} (is it latin-1 or Windows-1252? re-save it as UTF-8)",
        row=row,
        column=column,
    )


def _csv_batches(path: str | os.PathLike[str], source: str) -> Iterator[pa.RecordBatch]:
    """Every record of a CSV file as text, in Arrow batches; a malformed row raises.

    Arrow reads every field as a string (nothing inferred, nothing turned into a null: the
    checks decide) in one thread, so it can report each row's number. A row with too many or
    too few fields stops the read: the rows before it are yielded first, then ``RecordError``.
    """
    names, rows_follow = _csv_header(path, source)
    if not rows_follow:  # a header without even a line break: Arrow would call it empty
        return
    with _open_bytes(path) as fh:
        yield from _arrow_csv(fh, names, source)


def _arrow_csv(fh: BinaryIO, names: list[str], source: str) -> Iterator[pa.RecordBatch]:
    malformed: list[pcsv.InvalidRow] = []

    def on_malformed(row: pcsv.InvalidRow) -> str:
        malformed.append(row)
        return "skip"  # keep the rows before it; the read stops after this batch

    try:
        reader = pcsv.open_csv(
            fh,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_malformed),
            convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
        if reader.schema.names != names or {f.type for f in reader.schema} - {pa.string()}:
            raise _not_csv(source, f"its header row reads two ways ({reader.schema.names!r})")
        seen = 0
        for batch in reader:
            if malformed:
                before = (malformed[0].number or 2) - 2 - seen  # number: known with one thread
                yield batch.slice(0, max(before, 0))
                raise _malformed_row(malformed[0], source)
            seen += batch.num_rows
            yield batch
    except pa.ArrowInvalid as err:
        raise _arrow_csv_error(err, names, source) from None


def _parquet_file(path: str | os.PathLike[str], source: str) -> Any:
    import pyarrow.parquet as pq

    if Path(path).stat().st_size == 0:
        raise RecordError(f"{source}: the file is empty; expected a Parquet file")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise RecordError(f"{source}: not a readable Parquet file ({err})") from None


def _to_frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_ARROW_TYPES.get)


def _csv_frames(
    path: str | os.PathLike[str], source: str, chunk_rows: int | None
) -> Iterator[pd.DataFrame]:
    """Checked frames of ``chunk_rows`` records (None: one frame), numbered from the file start.

    When a malformed row stops the read, the records before it are checked first, so a bad
    value earlier in the file is reported before the malformed row.
    """
    batches = _csv_batches(path, source)
    buffer: list[pa.RecordBatch] = []
    buffered = offset = 0
    while True:
        try:
            batch = next(batches, None)
        except RecordError:
            if buffered:  # an earlier bad value is reported first
                _chunk(_to_frame(pa.Table.from_batches(buffer)), offset, source)
            raise
        if batch is None:
            break
        buffer.append(batch)
        buffered += batch.num_rows
        while chunk_rows is not None and buffered >= chunk_rows:
            table = pa.Table.from_batches(buffer)
            yield _chunk(_to_frame(table.slice(0, chunk_rows)), offset, source)
            offset += chunk_rows
            buffer, buffered = table.slice(chunk_rows).to_batches(), buffered - chunk_rows
    if buffered or offset == 0:
        names = buffer[0].schema.names if buffer else _csv_header(path, source)[0]
        schema = pa.schema([(n, pa.string()) for n in names])  # also for a header-only file
        yield _chunk(_to_frame(pa.Table.from_batches(buffer, schema=schema)), offset, source)


def load_calls(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file of calls, check every row, return it in the record schema.

    Raises ``RecordError`` for a missing required column, the first bad value (row, column,
    value), a CSV row whose field count differs from the header's, and a file that is empty or
    not UTF-8 CSV / Parquet. Row 1 is the first record after the header.

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
    if kind == "csv":
        return next(_csv_frames(path, source, chunk_rows=None)).reset_index(drop=True)
    _parquet_file(path, source)  # a clear error for an empty or broken file
    return _conform(pd.read_parquet(path), source=source)


def iter_calls(path: str | os.PathLike[str], chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """Stream a CSV or Parquet file in chunks of at most ``chunk_rows`` records (constant memory).

    Each chunk is checked like ``load_calls``; row numbers in errors count from the start of the
    file, not of the chunk. Chunks carry a RangeIndex continuing across chunks. A CSV file with
    a header and no records gives one empty chunk.

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
    if kind == "csv":
        yield from _csv_frames(path, source, chunk_rows)
        return
    pf = _parquet_file(path, source)
    missing = [c for c in REQUIRED_COLUMNS if c not in pf.schema_arrow.names]
    if missing:
        raise RecordError(
            f"{source}: missing required column(s): {', '.join(repr(c) for c in missing)}",
            columns=tuple(missing),
        )
    offset = 0
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
    frame = _conform_frame(df)
    if kind == "csv":
        frame.to_csv(path, index=False, date_format=_ISO_FORMAT)
    else:
        frame.to_parquet(path, index=False, engine="pyarrow")


# ---------------------------------------------------------------------------------------------
# usage logs: the reader's own columns (or a known export format) -> the record

#: The export formats ``load_usage`` reads besides a log with the reader's own columns.
UsageFormat = Literal["columns", "litellm", "langfuse"]
#: The columns a usage log must give (directly, through ``mapping`` or a format's reader);
#: everything else has a default or is computed.
USAGE_REQUIRED: Final[tuple[str, ...]] = ("timestamp", "model", "input_tokens", "output_tokens")
#: The customer of a call whose log names none: a visible value, so the spend stays in every
#: total and shows up as one "customer" to attribute, rather than vanishing from a group-by.
UNATTRIBUTED: Final[str] = "unattributed"
#: latency_ms when the log has neither a duration nor an end time (the record needs a count).
UNKNOWN_LATENCY_MS: Final[int] = 0
#: Namespace of the call ids generated for a log without ids (fixed: the same file gives the
#: same ids on every read, so an analysis or a metering run can be repeated).
USAGE_ID_NAMESPACE: Final[uuid.UUID] = uuid.UUID("2b7c1e4a-93d5-5f0b-8a61-4c0e9d2f7b35")
_JSONL_SUFFIXES: Final[tuple[str, ...]] = (".jsonl", ".ndjson", ".jsonl.gz")
_JSON_SUFFIXES: Final[tuple[str, ...]] = (".json", ".json.gz")
#: Provider ids of genai-prices (which finds a model's provider) -> the record's slugs.
_GENAI_TO_SLUG: Final[dict[str, str]] = {"aws": "aws-bedrock", "azure": "azure-openai"}
#: LiteLLM's ``custom_llm_provider`` values that are not the record's slug
#: (docs.litellm.ai/docs/providers: the provider prefixes of model names).
_LITELLM_PROVIDERS: Final[dict[str, str]] = {
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "sagemaker": "aws-bedrock",
    "azure": "azure-openai",
    "azure_ai": "azure-openai",
    "azure_text": "azure-openai",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "gemini": "google",
    "text-completion-openai": "openai",
    "cohere_chat": "cohere",
}


def _usage_kind(path: str | os.PathLike[str]) -> str:
    name = str(path).lower()
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(_JSON_SUFFIXES):
        return "json"
    try:
        return _kind(path)
    except ValueError:
        raise ValueError(
            f"path {str(path)!r}: unknown file type; use one of "
            f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES + _JSONL_SUFFIXES + _JSON_SUFFIXES)}"
        ) from None


def _read_text(path: str | os.PathLike[str]) -> str:
    opener: Any = gzip.open if str(path).lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _not_utf8(Path(path).name, data, err) from None


def _json_rows(path: str | os.PathLike[str], kind: str, source: str) -> list[Any]:
    """The records of a JSON Lines file (one object a line) or a JSON file (an array, or an
    API page ``{"data": [...]}``); a line that is not a JSON object names its row."""
    text = _read_text(path)
    if kind == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise RecordError(f"{source}: not valid JSON (line {err.lineno}: {err.msg})") from None
        rows = doc.get("data") if isinstance(doc, dict) else doc
        if not isinstance(rows, list):
            raise RecordError(
                f"{source}: expected a JSON array of records or an object with a 'data' array"
            )
    else:
        rows = []
        for line in text.splitlines():
            if not line.strip():
                continue  # a trailing or blank line is no record
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise RecordError(
                    f"row {len(rows) + 1}: not a JSON object ({err.msg}) in {source}",
                    row=len(rows) + 1,
                    value=line[:200],
                ) from None
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise RecordError(
                f"row {i}: expected a JSON object, got {type(row).__name__} in {source}",
                row=i,
                value=row,
            )
    return rows


def _read_usage_table(path: str | os.PathLike[str], source: str) -> pd.DataFrame:
    """The log as it is: the reader's columns, CSV fields as text, JSON values as parsed."""
    kind = _usage_kind(path)
    if kind == "csv":
        names, rows_follow = _csv_header(path, source)
        schema = pa.schema([(n, pa.string()) for n in names])
        batches = list(_csv_batches(path, source)) if rows_follow else []
        return _to_frame(pa.Table.from_batches(batches, schema=schema))
    if kind == "parquet":
        _parquet_file(path, source)
        return pd.read_parquet(path)
    return pd.DataFrame.from_records(_json_rows(path, kind, source))


def _closest(name: str, choices: Any) -> str:
    import difflib

    near = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _check_mapping(mapping: Mapping[str, str], columns: pd.Index, source: str) -> None:
    """Keys are record columns, values the log's columns, each used once."""
    for key, value in mapping.items():
        if key not in ALL_COLUMNS:
            raise ValueError(
                f"mapping key {key!r} is not a column of the record{_closest(key, ALL_COLUMNS)}; "
                f"keys are the record's columns ({', '.join(ALL_COLUMNS)}), values the log's"
            )
        if value not in columns:
            raise ValueError(
                f"mapping[{key!r}] = {value!r} is not a column of {source}"
                f"{_closest(value, columns)}; its columns: {', '.join(map(str, columns))}"
            )
    used: dict[str, str] = {}
    for key, value in mapping.items():
        if value in used:
            raise ValueError(
                f"mapping is ambiguous: {value!r} is given for both {used[value]!r} and {key!r}"
            )
        used[value] = key
    for key, value in mapping.items():
        if key in columns and key != value and key not in mapping.values():
            raise ValueError(
                f"mapping[{key!r}] = {value!r} is ambiguous: {source} also has a column named "
                f"{key!r}; map that one elsewhere or drop it"
            )


def _apply_mapping(
    raw: pd.DataFrame, mapping: Mapping[str, str] | None, source: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The log with record column names; returns it and record column -> the log's name."""
    mapping = dict(mapping or {})
    _check_mapping(mapping, raw.columns, source)
    frame = raw.rename(columns={v: k for k, v in mapping.items()})
    names = {k: v for k, v in mapping.items() if k != v}
    return frame, names


def _slug(provider: pd.Series, aliases: Mapping[str, str]) -> pd.Series:
    text = provider.astype("string").str.strip().str.lower()
    return text.replace(dict(aliases))


@functools.lru_cache(maxsize=512)
def _provider_of(model: str) -> str | None:
    """The provider genai-prices finds for a model name (None when it knows none)."""
    import genai_prices

    try:
        found = genai_prices.calc_price(genai_prices.Usage(input_tokens=0), model)
    except LookupError:
        return None
    return _GENAI_TO_SLUG.get(found.provider.id, found.provider.id)


def _fill_provider(
    frame: pd.DataFrame, rows: np.ndarray, names: Mapping[str, str], source: str
) -> None:
    models = frame["model"].astype("string")
    if "provider" in frame.columns:
        # the record's slugs are lower case ("OpenAI" -> "openai"), as genai-prices' ids
        provider = _slug(frame["provider"], _GENAI_TO_SLUG)
        provider = provider.where(provider != "")
    else:
        provider = pd.Series(pd.NA, index=frame.index, dtype="string")
    todo = provider.isna() & models.notna() & (models != "")
    for model in models[todo].unique():
        found = _provider_of(str(model))
        if found is None:
            pos = int(np.flatnonzero((models == model).to_numpy(dtype=bool, na_value=False))[0])
            column = names.get("model", "model")
            raise RecordError(
                f"row {rows[pos]}, column {column!r}: no provider for model {model!r} "
                f"(genai-prices knows no model of that name); add a provider column "
                f"(mapping={{'provider': ...}}) or defaults={{'provider': ...}} in {source}",
                row=int(rows[pos]),
                column=column,
                value=str(model),
            )
        provider[todo & (models == model)] = found
    frame["provider"] = provider


def _generated_ids(frame: pd.DataFrame, rows: np.ndarray, source: str) -> list[str]:
    """One id per row: ``uuid5(namespace, file name, row, timestamp, model)``: the same log
    gives the same ids, two rows or two files never share one."""
    stamps = frame["timestamp"].astype("string").fillna("").tolist()
    models = frame["model"].astype("string").fillna("").tolist()
    return [
        str(uuid.uuid5(USAGE_ID_NAMESPACE, f"{source}\x00{row}\x00{ts}\x00{model}"))
        for row, ts, model in zip(rows.tolist(), stamps, models, strict=True)
    ]


def _renamed(err: RecordError, rows: np.ndarray, names: Mapping[str, str]) -> RecordError:
    """``err`` with the log's row number and column name (the record's name in brackets)."""
    message = str(err)
    row, column = err.row, err.column
    if err.row is not None and 1 <= err.row <= len(rows):
        row = int(rows[err.row - 1])
        message = message.replace(f"row {err.row}", f"row {row}", 1)
    if column is not None and column in names:
        message = message.replace(
            f"column {column!r}", f"column {names[column]!r} (the record's {column})", 1
        )
        column = names[column]
    return RecordError(message, row=row, column=column, value=err.value, columns=err.columns)


def _price_usage(
    frame: pd.DataFrame, rows: np.ndarray, names: Mapping[str, str], source: str
) -> np.ndarray:
    """Each call priced at its timestamp (``showcase_lib.pricing``); an unknown model names
    the first row that has it."""
    from showcase_lib.pricing import UnknownModelError, cost_usd

    cost = np.full(len(frame), np.nan)
    groups = frame.groupby(["provider", "model"], observed=True, sort=False).indices
    for (_provider, model), idx in groups.items():
        try:
            cost[idx] = cost_usd(frame.iloc[idx]).to_numpy()
        except UnknownModelError as err:
            pos = int(idx.min())
            column = names.get("model", "model")
            raise RecordError(
                f"row {rows[pos]}, column {column!r}: {err}; give the log's cost "
                f"(mapping={{'cost_usd': ...}}) or a model name genai-prices knows, in {source}",
                row=int(rows[pos]),
                column=column,
                value=str(model),
            ) from None
    return cost


def _usage_record(
    frame: pd.DataFrame,
    rows: np.ndarray,
    names: Mapping[str, str],
    defaults: Mapping[str, Any],
    source: str,
) -> pd.DataFrame:
    """Fill what the log may leave out, check every value, price what carries no cost."""
    missing = [c for c in USAGE_REQUIRED if c not in frame.columns]
    if missing:
        raise RecordError(
            f"{source}: missing required column(s): {', '.join(repr(c) for c in missing)}; "
            f"map the log's own names with mapping={{{missing[0]!r}: 'its column'}} "
            f"(its columns: {', '.join(map(str, frame.columns))})",
            columns=tuple(missing),
        )
    frame = frame.reset_index(drop=True).copy()
    for col, value in defaults.items():
        if col not in frame.columns:
            frame[col] = value
        else:
            frame[col] = frame[col].astype(object).where(~_missing(frame[col]), value)
    _fill_provider(frame, rows, names, source)
    if "customer_id" not in frame.columns:
        frame["customer_id"] = UNATTRIBUTED
    else:
        frame["customer_id"] = (
            frame["customer_id"].astype(object).where(~_missing(frame["customer_id"]), UNATTRIBUTED)
        )
    if "latency_ms" not in frame.columns:
        frame["latency_ms"] = UNKNOWN_LATENCY_MS
    if "call_id" not in frame.columns:
        frame["call_id"] = _generated_ids(frame, rows, source)
    for col in RECORD_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.NA  # an optional tag the log does not have
    if "cost_usd" not in frame.columns:
        frame["cost_usd"] = np.nan
    unpriced = _missing(frame["cost_usd"])  # a call without a cost is priced
    frame["cost_usd"] = frame["cost_usd"].astype(object).where(~unpriced, 0.0)  # checked first
    try:
        out = _conform(frame, source=source)
    except RecordError as err:
        raise _renamed(err, rows, names) from None
    if unpriced.any():
        todo = np.flatnonzero(unpriced)
        prices = _price_usage(out.iloc[todo], rows[todo], names, source)
        out.loc[out.index[todo], "cost_usd"] = prices
    return out


def load_usage(
    path: str | os.PathLike[str],
    mapping: Mapping[str, str] | None = None,
    *,
    format: UsageFormat = "columns",
    defaults: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a usage log (CSV, JSON Lines, JSON or Parquet) into the record schema.

    ``format="columns"`` (default): a log with the reader's own column names. It needs a
    timestamp, a model and the input and output token counts; ``mapping`` maps record columns
    to the log's (``{"timestamp": "created_at", "input_tokens": "prompt_tokens"}``); a log
    column already named like a record column needs no entry. Any other record column can be
    mapped too (provider, cost_usd, latency_ms, customer_id and the other tags, the cache and
    reasoning counts, under the record's inclusive rule). What the log leaves out is filled:

    - ``provider``: found from the model name by genai-prices (or from ``defaults``);
    - ``call_id``: generated, deterministic (a UUID v5 of the file name, row, timestamp and
      model: the same file gives the same ids);
    - ``cost_usd``: when the log has no cost column, each call is priced with
      :mod:`showcase_lib.pricing` at its own timestamp (cache, reasoning and tier included);
    - ``customer_id``: ``"unattributed"`` (``UNATTRIBUTED``) where the log names none;
      ``latency_ms``: 0 when unknown; the optional tags: missing; token kinds: 0;
    - ``defaults``: a value per record column for a column the log lacks (or its empty cells).

    ``format="litellm"`` reads LiteLLM's spend logs, ``format="langfuse"`` Langfuse's
    observations (see ``_from_litellm`` and ``_from_langfuse`` for the documented shapes);
    ``mapping`` then overrides their choices (``{"customer_id": "user"}``).

    Raises ``RecordError`` naming the row (1 = the first record), the log's column and the
    value (``row 17, column 'created_at' (the record's timestamp): 'yesterday' is not an ISO
    8601 timestamp``), and ``ValueError`` for a mapping key that is no record column, a value
    that is no column of the log, or an ambiguous mapping.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "usage.csv"
        >>> _ = p.write_text("created_at,model_name,prompt_tokens,completion_tokens\\n"
        ...                  "2026-11-15T12:00:00Z,gpt-5.5,1000,100\\n")
        >>> df = load_usage(p, mapping={"timestamp": "created_at", "model": "model_name",
        ...     "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens"})
        >>> df.loc[0, ["provider", "customer_id"]].tolist(), round(float(df.loc[0, "cost_usd"]), 6)
        (['openai', 'unattributed'], 0.008)
        >>> load_usage(p, mapping={"timestmp": "created_at"})
        Traceback (most recent call last):
        ...
        ValueError: mapping key 'timestmp' is not a column of the record (did you mean 'timestamp'?); keys are the record's columns (timestamp, call_id, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, customer_id, subscription_tier, organization_id, product_id, feature_id, task_type, environment, request_id, trace_id, user_agent, session_id, status, stop_reason, region, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, service_tier), values the log's
    """
    if format not in get_args(UsageFormat):
        raise ValueError(f"format={format!r} is not one of {', '.join(get_args(UsageFormat))}")
    defaults = dict(defaults or {})
    for key in defaults:
        if key not in ALL_COLUMNS:
            raise ValueError(
                f"defaults key {key!r} is not a column of the record{_closest(key, ALL_COLUMNS)}"
            )
        if key in USAGE_REQUIRED or key == "call_id":
            raise ValueError(f"defaults[{key!r}]: {key} must come from the log, not a default")
    source = Path(path).name
    raw = _read_usage_table(path, source)
    if format == "columns":
        frame, names = _apply_mapping(raw, mapping, source)
        rows = np.arange(1, len(raw) + 1)
    else:
        reader = _from_litellm if format == "litellm" else _from_langfuse
        frame, kept, names = reader(raw, source)
        rows = kept + 1
        for key, value in dict(mapping or {}).items():  # the reader's own choices, overridden
            _check_mapping({key: value}, raw.columns, source)
            frame[key] = raw[value].to_numpy()[kept]
            names[key] = value
    return _usage_record(frame, rows, names, defaults, source)


# ---------------------------------------------------------------------------------------------
# two export formats, each from its documented shape


def _json_cell(value: Any, row: int, field: str, source: str) -> dict[str, Any]:
    """A nested object: a dict (JSON), a JSON text (CSV, Parquet) or empty."""
    if isinstance(value, dict):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    raise RecordError(
        f"row {row}, column {field!r}: {str(value)[:80]!r} is not a JSON object in {source}",
        row=row,
        column=field,
        value=value,
    )


def _count(value: Any, row: int, field: str, source: str) -> int:
    number = _exact_integer(value) if value is not None else 0
    if number is None or number < 0:
        raise RecordError(
            f"row {row}, column {field!r}: {value!r} is not a count (an integer >= 0) in {source}",
            row=row,
            column=field,
            value=value,
        )
    return number


def _need(raw: pd.DataFrame, fields: tuple[str, ...], what: str, source: str) -> None:
    missing = [f for f in fields if f not in raw.columns]
    if missing:
        raise RecordError(
            f"{source}: missing field(s) {', '.join(repr(f) for f in missing)} of {what}; "
            f"its fields: {', '.join(map(str, raw.columns))}",
            columns=tuple(missing),
        )


def _duration_ms(raw: pd.DataFrame, start: str, end: str) -> pd.Series | None:
    if end not in raw.columns:
        return None
    t0 = pd.to_datetime(raw[start], utc=True, errors="coerce", format="ISO8601")
    t1 = pd.to_datetime(raw[end], utc=True, errors="coerce", format="ISO8601")
    return ((t1 - t0) / pd.Timedelta(milliseconds=1)).round()


def _present(raw: pd.DataFrame, field: str) -> bool:
    return field in raw.columns and not raw[field].isna().all()


def _from_litellm(
    raw: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, np.ndarray, dict[str, str]]:
    """LiteLLM's spend logs: one row per request through the LiteLLM proxy.

    The shape is the proxy's ``LiteLLM_SpendLogs`` table (BerriAI/litellm ``schema.prisma``:
    request_id, call_type, spend, prompt_tokens, completion_tokens, startTime, endTime,
    request_duration_ms, model, custom_llm_provider, user, metadata, end_user, session_id,
    status, ...) as ``GET /spend/logs`` returns it (a JSON list; docs.litellm.ai/docs/proxy/
    cost_tracking) or as a CSV/Parquet dump of the table. Mapped: request_id -> call_id,
    startTime -> timestamp, model (without a ``provider/`` prefix), custom_llm_provider ->
    provider (bedrock -> aws-bedrock, vertex_ai and gemini -> google, azure -> azure-openai),
    prompt_tokens / completion_tokens (OpenAI's convention: prompt_tokens include the cached
    ones) -> input / output tokens, spend (LiteLLM's own cost, USD) -> cost_usd,
    request_duration_ms (else endTime - startTime) -> latency_ms, end_user (the customer the
    app passed as ``user``) -> customer_id, organization_id, session_id, status (success /
    failure -> success / error), and from ``metadata.usage_object`` the cache reads
    (prompt_tokens_details.cached_tokens), cache writes (cache_creation_input_tokens, or
    prompt_tokens_details.cache_creation_tokens / cache_write_tokens) and reasoning tokens
    (completion_tokens_details.reasoning_tokens) when the proxy logged them.
    """
    _need(
        raw,
        ("request_id", "startTime", "model", "prompt_tokens", "completion_tokens"),
        "a LiteLLM spend log (LiteLLM_SpendLogs)",
        source,
    )
    n = len(raw)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    names = {
        "call_id": "request_id",
        "timestamp": "startTime",
        "model": "model",
        "input_tokens": "prompt_tokens",
        "output_tokens": "completion_tokens",
    }
    out["call_id"] = raw["request_id"].to_numpy()
    out["timestamp"] = raw["startTime"].to_numpy()
    model = raw["model"].astype("string")
    if "custom_llm_provider" in raw.columns:
        llm = raw["custom_llm_provider"].astype("string").str.strip()
        model = pd.Series(  # "anthropic/claude-..." -> "claude-...": LiteLLM's routing prefix
            [
                m[len(p) + 1 :] if isinstance(m, str) and p and m.startswith(p + "/") else m
                for m, p in zip(model.tolist(), llm.fillna("").tolist(), strict=True)
            ],
            dtype="string",
        )
        out["provider"] = _slug(llm.where(llm != ""), _LITELLM_PROVIDERS).to_numpy()
        names["provider"] = "custom_llm_provider"
    out["model"] = model.to_numpy()
    out["input_tokens"] = raw["prompt_tokens"].to_numpy()
    out["output_tokens"] = raw["completion_tokens"].to_numpy()
    if "spend" in raw.columns:
        out["cost_usd"] = raw["spend"].to_numpy()
        names["cost_usd"] = "spend"
    latency = raw["request_duration_ms"] if _present(raw, "request_duration_ms") else None
    duration = _duration_ms(raw, "startTime", "endTime")
    if latency is not None and duration is not None:
        latency = latency.where(latency.notna(), duration)
    latency = latency if latency is not None else duration
    if latency is not None:
        out["latency_ms"] = latency.to_numpy()
        names["latency_ms"] = "request_duration_ms"
    for field, column in (
        ("end_user", "customer_id"),
        ("organization_id", "organization_id"),
        ("session_id", "session_id"),
    ):
        if field in raw.columns:
            out[column] = raw[field].to_numpy()
            names[column] = field
    if "status" in raw.columns:
        status = raw["status"].astype("string").str.lower()
        out["status"] = status.replace({"failure": "error"}).to_numpy()
        names["status"] = "status"
    if "metadata" in raw.columns:
        kinds = _litellm_token_kinds(raw["metadata"], source)
        for column, values in kinds.items():
            out[column] = values
            names[column] = f"metadata.usage_object ({column})"
    return out, np.arange(n), names


def _litellm_token_kinds(metadata: pd.Series, source: str) -> dict[str, list[int]]:
    reads, writes, reasoning = [], [], []
    for i, cell in enumerate(metadata.tolist(), start=1):
        usage = _json_cell(
            _json_cell(cell, i, "metadata", source).get("usage_object"),
            i,
            "metadata.usage_object",
            source,
        )
        prompt = usage.get("prompt_tokens_details") or {}
        completion = usage.get("completion_tokens_details") or {}
        write = usage.get("cache_creation_input_tokens")
        if write is None:
            write = prompt.get("cache_creation_tokens", prompt.get("cache_write_tokens"))
        reads.append(_count(prompt.get("cached_tokens"), i, "metadata.usage_object", source))
        writes.append(_count(write, i, "metadata.usage_object", source))
        reasoning.append(
            _count(completion.get("reasoning_tokens"), i, "metadata.usage_object", source)
        )
    return {"cache_read_tokens": reads, "cache_write_tokens": writes, "reasoning_tokens": reasoning}


#: Langfuse observation types that are model calls (the others are spans, events, tools ...).
_LANGFUSE_CALLS: Final[tuple[str, ...]] = ("GENERATION", "EMBEDDING")


def _from_langfuse(
    raw: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, np.ndarray, dict[str, str]]:
    """Langfuse's observations: the generations of its traces.

    The shape is the public API's ``ObservationsView`` (``GET /api/public/observations``, a
    page ``{"data": [...], "meta": ...}``; OpenAPI spec cloud.langfuse.com/generated/api/
    openapi.yml): id, traceId, type, startTime, endTime, model, usageDetails, costDetails,
    latency (seconds), level, environment, ... Only GENERATION and EMBEDDING rows are model
    calls; the other types (SPAN, EVENT, TOOL ...) are skipped, and row numbers in errors still
    count every row of the file. Mapped: id -> call_id, traceId -> trace_id, startTime ->
    timestamp, model; usageDetails holds disjoint usage types whose sum is the total
    (langfuse.com/docs/model-usage-and-cost: "all usage types that include the string input"
    are input, likewise output), so input_tokens is the sum of the keys containing ``input``
    and output_tokens of those containing ``output`` (``total`` left out), cache reads the keys
    with ``cache_read`` or ``cached``, cache writes ``cache_creation`` / ``cache_write``,
    reasoning ``reasoning`` (the legacy ``usage`` object or promptTokens / completionTokens when
    usageDetails is absent); costDetails.total (else calculatedTotalCost) -> cost_usd (a
    generation without one is priced like any call without a cost); latency (else endTime -
    startTime) -> latency_ms; level ERROR -> status error (else success); environment
    (Langfuse's ``default`` means none); userId and sessionId when an export carries them
    (they live on the trace).
    """
    _need(raw, ("id", "startTime", "model"), "a Langfuse observation (ObservationsView)", source)
    kept = np.arange(len(raw))
    if "type" in raw.columns:
        kept = np.flatnonzero(
            raw["type"]
            .astype("string")
            .str.upper()
            .isin(_LANGFUSE_CALLS)
            .to_numpy(dtype=bool, na_value=False)
        )
    obs = raw.iloc[kept].reset_index(drop=True)
    out = pd.DataFrame(index=pd.RangeIndex(len(obs)))
    names = {"call_id": "id", "timestamp": "startTime", "model": "model"}
    out["call_id"] = obs["id"].to_numpy()
    out["timestamp"] = obs["startTime"].to_numpy()
    out["model"] = obs["model"].to_numpy()
    tokens = _langfuse_tokens(obs, kept, source)
    for column, values in tokens.items():
        out[column] = values
        names[column] = "usageDetails"
    cost = pd.Series(np.nan, index=out.index)
    for field in ("calculatedTotalCost", "totalCost"):
        if field in obs.columns:
            cost = cost.where(cost.notna(), pd.to_numeric(obs[field], errors="coerce"))
    if "costDetails" in obs.columns:
        totals = [
            _json_cell(c, int(r) + 1, "costDetails", source).get("total")
            for c, r in zip(obs["costDetails"].tolist(), kept, strict=True)
        ]
        detail = pd.to_numeric(pd.Series(totals, index=out.index, dtype=object), errors="coerce")
        cost = detail.where(detail.notna(), cost)
    out["cost_usd"] = cost.to_numpy()
    names["cost_usd"] = "costDetails"
    latency = None
    if _present(obs, "latency"):
        latency = (pd.to_numeric(obs["latency"], errors="coerce") * 1000).round()
    duration = _duration_ms(obs, "startTime", "endTime")
    if latency is not None and duration is not None:
        latency = latency.where(latency.notna(), duration)
    latency = latency if latency is not None else duration
    if latency is not None:
        out["latency_ms"] = latency.to_numpy()
        names["latency_ms"] = "latency"
    if "traceId" in obs.columns:
        out["trace_id"] = obs["traceId"].to_numpy()
        names["trace_id"] = "traceId"
    for field, column in (("userId", "customer_id"), ("sessionId", "session_id")):
        if field in obs.columns:
            out[column] = obs[field].to_numpy()
            names[column] = field
    if "level" in obs.columns:
        error = obs["level"].astype("string").str.upper() == "ERROR"
        out["status"] = np.where(error.to_numpy(dtype=bool, na_value=False), "error", "success")
    if "environment" in obs.columns:
        env = obs["environment"].astype("string")
        out["environment"] = env.where(env != "default").to_numpy()
        names["environment"] = "environment"
    return out, kept, names


def _langfuse_tokens(obs: pd.DataFrame, kept: np.ndarray, source: str) -> dict[str, list[int]]:
    cols: dict[str, list[int]] = {
        c: []
        for c in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        )
    }
    details = obs["usageDetails"].tolist() if "usageDetails" in obs.columns else [None] * len(obs)
    legacy = obs["usage"].tolist() if "usage" in obs.columns else [None] * len(obs)
    for pos, (detail, old) in enumerate(zip(details, legacy, strict=True)):
        row = int(kept[pos]) + 1
        usage = _json_cell(detail, row, "usageDetails", source)
        field = "usageDetails"
        if not usage:
            usage = {
                k: v
                for k, v in _json_cell(old, row, "usage", source).items()
                if k in ("input", "output") and v is not None
            }
            field = "usage"
        if not usage:
            usage = {
                k: obs.iloc[pos][f]
                for k, f in (("input", "promptTokens"), ("output", "completionTokens"))
                if f in obs.columns
            }
            field = "promptTokens / completionTokens"
        counts = {
            k: _count(v, row, f"{field}.{k}", source)
            for k, v in usage.items()
            if k != "total" and v is not None
        }
        cols["input_tokens"].append(sum(v for k, v in counts.items() if "input" in k))
        cols["output_tokens"].append(sum(v for k, v in counts.items() if "output" in k))
        cols["cache_read_tokens"].append(
            sum(v for k, v in counts.items() if "cache_read" in k or "cached" in k)
        )
        cols["cache_write_tokens"].append(
            sum(v for k, v in counts.items() if "cache_creation" in k or "cache_write" in k)
        )
        cols["reasoning_tokens"].append(sum(v for k, v in counts.items() if "reasoning" in k))
    return cols
