"""Connections, execution and the safe SQL-text helpers every query module uses."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from showcase_lib.analysis._timeseries import bucket, canonical_freq
from showcase_lib.schema import ALL_COLUMNS, ID_COLUMNS

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Macros every connection from :func:`connect` defines. ``utc_trunc(part, ts)`` is
#: ``date_trunc`` in UTC computed on the raw microseconds: the same result as ``date_trunc`` on a
#: ``TIMESTAMPTZ`` with the session in UTC, without the time-zone library (about 7x faster).
#: An hour and a day are fixed numbers of microseconds in UTC, so those two are integer
#: arithmetic (about 0.2 s less per 10M calls; the CASE on the literal ``part`` is folded when
#: the query is planned), weeks and months go through ``date_trunc``.
MACROS: str = """CREATE OR REPLACE MACRO utc_trunc(part, ts) AS CASE part
    WHEN 'hour' THEN make_timestamptz(epoch_us(ts) // 3600000000 * 3600000000)
    WHEN 'day' THEN make_timestamptz(epoch_us(ts) // 86400000000 * 86400000000)
    ELSE make_timestamptz(epoch_us(date_trunc(part, make_timestamp(epoch_us(ts))))) END;"""
#: Optimizers turned off on a connection over a DataFrame (see :func:`connect`).
FRAME_DISABLED_OPTIMIZERS: tuple[str, ...] = ("filter_pushdown", "join_filter_pushdown")
_INTERVAL = {
    "hour": "INTERVAL 1 hour",
    "day": "INTERVAL 1 day",
    "week": "INTERVAL 7 day",
    "month": "INTERVAL 1 month",
}


def connect(
    data: pd.DataFrame | str | Path, *, table: str = "calls", threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (session time zone UTC, :data:`MACROS` defined) with the data as
    view ``table``.

    ``data`` is a DataFrame in the record schema (registered through Arrow, no copy of the
    numbers) or the path of a Parquet file, a directory of Parquet files, or a glob.

    Example:
        >>> con = connect(pd.DataFrame({"cost_usd": [1.0, 2.0]}))
        >>> run(con, "SELECT sum(cost_usd) AS s FROM calls")["s"].tolist()
        [3.0]
    """
    import pyarrow as pa

    name = _ident(table)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(MACROS)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if isinstance(data, pd.DataFrame):
        # A filter pushed into a registered Arrow table is evaluated by pyarrow's dataset
        # scanner, which filters and copies every batch before DuckDB sees it: at 10M calls
        # that doubled the per-call cost outliers and the histogram. DuckDB filters the
        # batches faster itself, so over a frame no filter (constant or from a join's build
        # side) is pushed into the scan. Parquet connections keep both (row-group pruning).
        con.execute(f"SET disabled_optimizers = {_lit(','.join(FRAME_DISABLED_OPTIMIZERS))}")
        table = pa.Table.from_pandas(data, preserve_index=False)
        # record batches (zero-copy slices) let DuckDB scan the frame on all threads
        con.register(
            name, pa.Table.from_batches(table.to_batches(max_chunksize=1 << 17), table.schema)
        )
    else:
        p = Path(data)
        if p.is_dir():
            source = str(p / "**" / "*.parquet")
        elif p.exists() or any(ch in str(data) for ch in "*?["):
            source = str(data)
        else:
            raise FileNotFoundError(
                f"data={str(data)!r} is neither a DataFrame nor an existing Parquet path"
            )
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_lit(source)})")
    return con


def run(con: duckdb.DuckDBPyConnection | pd.DataFrame | str | Path, sql: str) -> pd.DataFrame:
    """Execute ``sql`` and return a DataFrame (``con`` may also be data for :func:`connect`).

    Example:
        >>> run(pd.DataFrame({"x": [1, 2]}), "SELECT max(x) AS m FROM calls")["m"].tolist()
        [2]
    """
    if not isinstance(con, duckdb.DuckDBPyConnection):
        con = connect(con)
    return con.execute(sql).df()


def export_csv(con: duckdb.DuckDBPyConnection, sql: str, path: str | Path) -> Path:
    """Write the result of ``sql`` to CSV with DuckDB's ``COPY ... TO`` (header row, comma).

    Example:
        >>> import tempfile, os
        >>> p = export_csv(connect(pd.DataFrame({"x": [1]})), "SELECT x FROM calls",
        ...                os.path.join(tempfile.mkdtemp(), "x.csv"))
        >>> p.read_text().split()
        ['x', '1']
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql.strip().rstrip(';')}) TO {_lit(str(p))} (HEADER, DELIMITER ',')")
    return p


def _ident(name: str) -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"identifier {name!r} is not a plain column name")
    return name


def _col(name: str) -> str:
    """A record column, double-quoted."""
    if name not in ALL_COLUMNS:
        raise ValueError(
            f"column {name!r} is not a column of the record ({', '.join(ALL_COLUMNS)})"
        )
    return f'"{name}"'


def _dims(by: str | Sequence[str]) -> list[str]:
    dims = [by] if isinstance(by, str) else list(by)
    if not dims:
        raise ValueError("by=[] names no dimension; give a column such as 'model'")
    for d in dims:
        _col(d)
        if d in ID_COLUMNS or d in ("timestamp", "cost_usd"):
            raise ValueError(f"by={d!r} is not a dimension to group on")
    return dims


def _lit(value) -> str:
    """A SQL literal: numbers exactly (repr round-trips a float), strings quoted, timestamps UTC."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            raise ValueError(f"value {v} cannot be a SQL literal")
        return repr(v)
    if isinstance(value, pd.Timestamp):
        ts = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
        return f"TIMESTAMPTZ '{ts.strftime('%Y-%m-%d %H:%M:%S.%f')}+00'"
    return "'" + str(value).replace("'", "''") + "'"


def _period(freq: str) -> tuple[str, str]:
    """(name, SQL expression of each call's bucket start): calendar periods by ``utc_trunc``,
    any other fixed bucket (``"5min"``, ``"6h"``, ``"2D"``) counted from the Unix epoch as
    pandas' ``Timestamp.floor`` counts it."""
    f = canonical_freq(freq)
    if f in ("hour", "day", "week", "month"):
        return f, f"utc_trunc('{f}', timestamp)"
    width = bucket(f).width
    if width is None:  # a calendar multiple such as "3MS": no fixed width to count in
        raise ValueError(f"freq={freq!r}: the SQL twins take fixed buckets or hour/day/week/month")
    us = int(width / pd.Timedelta(microseconds=1))
    return f, f"make_timestamptz((epoch_us(timestamp) // {us}) * {us})"


def _interval(freq: str) -> str:
    """The SQL interval of one bucket (``INTERVAL 1 day``, ``INTERVAL 300 second``)."""
    f = canonical_freq(freq)
    if f in _INTERVAL:
        return _INTERVAL[f]
    return f"INTERVAL {int(bucket(f).width.total_seconds())} second"


def _qname(q: float) -> str:
    return f"p{q * 100:g}".replace(".", "_")


def _indent(sql: str, n: int = 4) -> str:
    return "\n".join(" " * n + line for line in sql.splitlines())
