"""Reading and writing records: round trips, row-numbered errors, streaming."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from showcase_lib.io import (
    UNATTRIBUTED,
    RecordError,
    iter_calls,
    load_calls,
    load_usage,
    save_calls,
)
from showcase_lib.io import _conform_frame as conform
from showcase_lib.pricing import cost_usd
from showcase_lib.schema import ALL_COLUMNS, CATEGORY_COLUMNS, DTYPES, SERVICE_TIERS, empty_calls
from showcase_lib.simulation import simulate


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    return simulate("runaway_agent", days=4, customers=12, seed=5, loop_hours=0.5).calls


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype({c: str for c in CATEGORY_COLUMNS})


def _schema_ok(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(ALL_COLUMNS)
    for col in ALL_COLUMNS:
        assert df[col].dtype == DTYPES[col], col


def _edit_csv(src: Path, dst: Path, edits: dict[tuple[int, str], str]) -> None:
    """Rewrite cells of a CSV: (data row 1-based, column) -> raw text."""
    lines = src.read_text().splitlines()
    header = lines[0].split(",")
    for (row, col), text in edits.items():
        cells = lines[row].split(",")
        cells[header.index(col)] = text
        lines[row] = ",".join(cells)
    dst.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path, calls, suffix):
    path = tmp_path / f"calls{suffix}"
    save_calls(calls, path)
    back = load_calls(path)
    _schema_ok(back)
    pd.testing.assert_frame_equal(_as_text(back), _as_text(calls), check_exact=False, rtol=1e-12)


def test_csv_timestamps_are_utc_iso_8601(tmp_path, calls):
    path = tmp_path / "c.csv"
    save_calls(calls.head(3), path)
    first = path.read_text().splitlines()[1].split(",")[0]
    assert first.endswith("Z") and "T" in first
    assert pd.Timestamp(first) == calls["timestamp"].iloc[0]


def test_offsets_are_converted_and_naive_means_utc(tmp_path, calls):
    path = tmp_path / "c.csv"
    save_calls(calls.head(3), path)
    _edit_csv(
        path,
        tmp_path / "tz.csv",
        {(1, "timestamp"): "2026-01-01T02:00:00+02:00", (2, "timestamp"): "2026-01-01 03:00:00"},
    )
    back = load_calls(tmp_path / "tz.csv")
    assert back["timestamp"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00Z")
    assert back["timestamp"].iloc[1] == pd.Timestamp("2026-01-01T03:00:00Z")


def test_conform_keeps_a_good_frame(calls):
    out = conform(calls)
    _schema_ok(out)
    pd.testing.assert_frame_equal(out, calls)


def test_conform_types_a_text_frame(calls):
    text = calls.head(50).astype(str)
    out = conform(text)
    _schema_ok(out)
    assert (out["input_tokens"].to_numpy() == calls["input_tokens"].head(50).to_numpy()).all()


class BadCell(NamedTuple):
    """One edited CSV cell and the start of the error it must raise."""

    row: int
    column: str
    raw: str
    expected: str


BAD_CELLS = [
    BadCell(17, "input_tokens", "abc", "row 17, column 'input_tokens': 'abc' is not an integer"),
    BadCell(3, "output_tokens", "12.5", "row 3, column 'output_tokens': '12.5' is not an integer"),
    BadCell(40, "cost_usd", "-0.5", "row 40, column 'cost_usd': '-0.5' is negative"),
    BadCell(8, "latency_ms", "fast", "row 8, column 'latency_ms': 'fast' is not an integer"),
    BadCell(
        5,
        "subscription_tier",
        "Pro",
        "row 5, column 'subscription_tier': 'Pro' is not one of starter, pro, enterprise",
    ),
    BadCell(
        9, "timestamp", "yesterday", "row 9, column 'timestamp': 'yesterday' is not an ISO 8601"
    ),
    BadCell(12, "model", "", "row 12, column 'model': value is missing"),
    BadCell(
        2, "status", "ok", "row 2, column 'status': 'ok' is not one of success, error, timeout"
    ),
    # the two columns a file needs although the wire may omit them (schema: "in files")
    BadCell(6, "cost_usd", "", "row 6, column 'cost_usd': value is missing"),
    BadCell(7, "customer_id", "", "row 7, column 'customer_id': value is missing"),
]


@pytest.mark.parametrize("cell", BAD_CELLS, ids=lambda c: f"{c.column}={c.raw!r}")
def test_errors_name_row_column_and_value(tmp_path, calls, cell):
    good = tmp_path / "good.csv"
    save_calls(calls.head(60), good)
    bad = tmp_path / "bad.csv"
    _edit_csv(good, bad, {(cell.row, cell.column): cell.raw})
    with pytest.raises(RecordError) as info:
        load_calls(bad)
    assert str(info.value).startswith(cell.expected)
    assert (info.value.row, info.value.column) == (cell.row, cell.column)
    assert isinstance(info.value, ValueError)


def test_first_bad_row_is_reported_across_columns(tmp_path, calls):
    good = tmp_path / "good.csv"
    save_calls(calls.head(60), good)
    bad = tmp_path / "bad.csv"
    _edit_csv(good, bad, {(30, "input_tokens"): "x", (20, "environment"): "prod"})
    with pytest.raises(RecordError, match=r"^row 20, column 'environment': 'prod'"):
        load_calls(bad)


def test_optional_values_may_be_missing_but_not_dropped(tmp_path, calls):
    good = tmp_path / "good.csv"
    save_calls(calls.head(10), good)
    holes = tmp_path / "holes.csv"
    _edit_csv(good, holes, {(4, "trace_id"): "", (5, "user_agent"): "", (6, "region"): ""})
    back = load_calls(holes)
    assert len(back) == 10
    assert pd.isna(back["trace_id"].iloc[3]) and pd.isna(back["user_agent"].iloc[4])
    assert pd.isna(back["region"].iloc[5])


def test_missing_columns_are_listed(tmp_path, calls):
    path = tmp_path / "few.csv"
    calls.drop(columns=["model", "cost_usd"]).head(5).to_csv(path, index=False)
    with pytest.raises(
        RecordError, match=r"missing required column\(s\): 'model', 'cost_usd'"
    ) as e:
        load_calls(path)
    assert e.value.columns == ("model", "cost_usd")


def test_extras_are_optional_and_unknown_columns_kept(tmp_path, calls):
    path = tmp_path / "plan.csv"
    plan = calls.drop(columns=["status", "stop_reason", "region"]).head(5).copy()
    plan["team"] = "blue"
    plan.to_csv(path, index=False)
    back = load_calls(path)
    assert list(back.columns) == [*ALL_COLUMNS, "team"]
    assert back["status"].isna().all() and back["status"].dtype == "category"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_iter_calls_chunks_concatenate_to_the_whole(tmp_path, calls, suffix):
    path = tmp_path / f"calls{suffix}"
    save_calls(calls, path)
    chunks = list(iter_calls(path, chunk_rows=1_000))
    assert len(chunks) == -(-len(calls) // 1_000)
    assert all(len(c) <= 1_000 for c in chunks)
    whole = load_calls(path)
    joined = pd.concat(chunks)
    assert joined.index.equals(pd.RangeIndex(len(calls)))
    pd.testing.assert_frame_equal(_as_text(joined), _as_text(whole))
    pd.testing.assert_frame_equal(conform(joined), whole)


def test_iter_calls_row_numbers_count_from_the_file_start(tmp_path, calls):
    good = tmp_path / "good.csv"
    save_calls(calls.head(300), good)
    bad = tmp_path / "bad.csv"
    _edit_csv(good, bad, {(257, "input_tokens"): "many"})
    seen = 0
    with pytest.raises(RecordError, match=r"^row 257, column 'input_tokens': 'many'"):
        for chunk in iter_calls(bad, chunk_rows=100):
            seen += len(chunk)
    assert seen == 200  # the good chunks before the bad one were delivered


def test_parquet_errors_name_the_row(tmp_path, calls):
    df = calls.head(30).astype({"input_tokens": "float64"})
    df.loc[21, "input_tokens"] = 3.5
    path = tmp_path / "bad.parquet"
    df.to_parquet(path, index=False)
    with pytest.raises(RecordError, match=r"^row 22, column 'input_tokens': 3.5 is not an integer"):
        load_calls(path)
    with pytest.raises(RecordError, match=r"^row 22,"):
        list(iter_calls(path, chunk_rows=8))


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"calls\.xlsx"):
        save_calls(empty_calls(), tmp_path / "calls.xlsx")


def test_empty_frame_round_trips(tmp_path):
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"e{suffix}"
        save_calls(empty_calls(), path)
        back = load_calls(path)
        assert len(back) == 0 and list(back.columns) == list(ALL_COLUMNS)


def test_conform_accepts_python_strings_and_objects(calls):
    df = calls.head(20).copy()
    df["call_id"] = df["call_id"].astype("string[python]")
    df["request_id"] = df["request_id"].astype(object)
    df.loc[3, "request_id"] = ""
    out = conform(df)
    _schema_ok(out)
    assert pd.isna(out["request_id"].iloc[3])
    df.loc[4, "call_id"] = pd.NA
    with pytest.raises(RecordError, match=r"^row 5, column 'call_id': value is missing"):
        conform(df)


# ---------------------------------------------------------------------------------------------
# issue 9: hostile input (each test fails on the loader before it)

_INT64_RANGE = "is outside the int64 range (0 .. 9,223,372,036,854,775,807)"
_READERS = {
    "load_calls": load_calls,
    "iter_calls(1)": lambda p: pd.concat(list(iter_calls(p, chunk_rows=1))),
    "iter_calls(2)": lambda p: pd.concat(list(iter_calls(p, chunk_rows=2))),
    "iter_calls(100)": lambda p: pd.concat(list(iter_calls(p, chunk_rows=100))),
}


@pytest.fixture
def good_csv(tmp_path, calls) -> Path:
    path = tmp_path / "good.csv"
    save_calls(calls.head(8), path)
    return path


@pytest.mark.parametrize("reader", _READERS, ids=str)
@pytest.mark.parametrize("raw", [str(10**30), str(2**63), "1e19"])
def test_csv_integers_beyond_int64_are_errors(tmp_path, good_csv, raw, reader):
    bad = tmp_path / "big.csv"
    _edit_csv(good_csv, bad, {(3, "output_tokens"): raw})
    with pytest.raises(RecordError) as info:
        _READERS[reader](bad)
    assert str(info.value) == f"row 3, column 'output_tokens': {raw!r} {_INT64_RANGE} in big.csv"
    assert (info.value.row, info.value.column, info.value.value) == (3, "output_tokens", raw)


def test_int64_limits_load_exactly(tmp_path, good_csv):
    edited = tmp_path / "edge.csv"
    top = str(2**63 - 1)
    beyond_float = str(2**53 + 1)  # a float64 would read 2**53
    edits = {(1, "output_tokens"): "12.0", (2, "output_tokens"): top}
    edits |= {(row, "reasoning_tokens"): "0" for row in (1, 2, 3)}  # a part of output_tokens
    _edit_csv(good_csv, edited, {**edits, (3, "output_tokens"): beyond_float})
    for reader in (load_calls, _READERS["iter_calls(2)"]):
        got = reader(edited)["output_tokens"]
        assert got.dtype == "int64"
        assert got.iloc[:3].tolist() == [12, 2**63 - 1, 2**53 + 1]
    _edit_csv(good_csv, edited, {**edits, (3, "output_tokens"): "9007199254740993.5"})
    with pytest.raises(RecordError, match=r"^row 3, column 'output_tokens': .* is not an integer"):
        load_calls(edited)


class BigParquet(NamedTuple):
    """A Parquet column type and the out-of-range value stored in it."""

    dtype: str
    value: object
    shown: str


@pytest.mark.parametrize(
    "case",
    [
        BigParquet("float64", 1e19, "1e+19"),
        BigParquet("float64", 1e30, "1e+30"),
        BigParquet("uint64", 2**63, str(2**63)),
        BigParquet("object", str(10**30), repr(str(10**30))),
    ],
    ids=lambda c: f"{c.dtype}:{c.shown}",
)
def test_parquet_integers_beyond_int64_are_errors(tmp_path, calls, case):
    df = calls.head(8).copy()
    df["output_tokens"] = df["output_tokens"].astype(case.dtype)
    if case.dtype == "object":
        df["output_tokens"] = df["output_tokens"].astype(str)
    df.loc[2, "output_tokens"] = case.value
    path = tmp_path / "big.parquet"
    df.to_parquet(path, index=False)
    expected = f"row 3, column 'output_tokens': {case.shown} {_INT64_RANGE} in big.parquet"
    for reader in (load_calls, _READERS["iter_calls(2)"]):
        with pytest.raises(RecordError) as info:
            reader(path)
        assert str(info.value) == expected
        assert (info.value.row, info.value.column) == (3, "output_tokens")


@pytest.mark.parametrize("value", [10**30, 2**63, 1e19, -(10**30)])
def test_json_records_beyond_int64_are_errors(calls, value):
    """Records parsed from JSON (Python ints of any size) go through ``conform``."""
    records = json.loads(calls.head(5).to_json(orient="records"))
    records[3]["output_tokens"] = value
    frame = pd.DataFrame(json.loads(json.dumps(records)))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms", utc=True)
    problem = "is negative" if value < 0 else _INT64_RANGE
    with pytest.raises(RecordError) as info:
        conform(frame)
    assert str(info.value) == f"row 4, column 'output_tokens': {value!r} {problem}"
    assert (info.value.row, info.value.column, info.value.value) == (4, "output_tokens", value)


def _with_line(src: Path, dst: Path, row: int, transform: Callable[[str], str]) -> None:
    lines = src.read_text().splitlines()
    lines[row] = transform(lines[row])
    dst.write_text("\n".join(lines) + "\n")


class Misshapen(NamedTuple):
    """A way to break one CSV line and the field count the reader then finds."""

    name: str
    transform: Callable[[str], str]
    found: int


MISSHAPEN = [
    Misshapen("long", lambda line: line + ",surplus", len(ALL_COLUMNS) + 1),
    Misshapen("short", lambda line: line.rsplit(",", 3)[0], len(ALL_COLUMNS) - 3),
]


@pytest.mark.parametrize("reader", _READERS, ids=str)
@pytest.mark.parametrize("case", MISSHAPEN, ids=lambda c: c.name)
def test_rows_with_the_wrong_field_count_are_errors(tmp_path, good_csv, reader, case):
    bad = tmp_path / f"{case.name}.csv"
    _with_line(good_csv, bad, 3, case.transform)
    with pytest.raises(RecordError) as info:
        _READERS[reader](bad)
    expected = f"row 3: expected {len(ALL_COLUMNS)} fields like the header, found {case.found} in {bad.name}"
    assert str(info.value) == expected
    assert info.value.row == 3


def test_field_count_rows_are_counted_as_the_reader_sees_them(tmp_path, good_csv):
    """A quoted line break and a blank line do not shift the row number."""
    lines = good_csv.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("user_agent")] = '"two\nlines"'
    lines[1] = ",".join(cells)
    lines[2] = lines[2] + "\n"  # a blank line after row 2
    lines[5] = lines[5] + ",surplus"
    bad = tmp_path / "multi.csv"
    bad.write_text("\n".join(lines) + "\n")
    for reader in _READERS.values():
        with pytest.raises(
            RecordError,
            match=rf"^row 5: expected {len(ALL_COLUMNS)} fields like the header, found "
            rf"{len(ALL_COLUMNS) + 1}",
        ):
            reader(bad)


def test_a_bad_value_before_a_malformed_row_is_reported_first(tmp_path, good_csv):
    edited = tmp_path / "edited.csv"
    _edit_csv(good_csv, edited, {(2, "input_tokens"): "many"})
    bad = tmp_path / "both.csv"
    _with_line(edited, bad, 6, lambda line: line + ",surplus")
    for reader in _READERS.values():
        with pytest.raises(RecordError, match=r"^row 2, column 'input_tokens': 'many'"):
            reader(bad)


def test_chunks_before_a_malformed_row_are_delivered(tmp_path, calls):
    good = tmp_path / "good.csv"
    save_calls(calls.head(300), good)
    bad = tmp_path / "bad.csv"
    _with_line(good, bad, 257, lambda line: line + ",surplus")
    seen = 0
    with pytest.raises(RecordError, match=rf"^row 257: expected {len(ALL_COLUMNS)} fields"):
        for chunk in iter_calls(bad, chunk_rows=100):
            seen += len(chunk)
    assert seen == 200


_EXPECTED_CSV = "expected a UTF-8 CSV file with a header row"


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  \r\n"], ids=["0 bytes", "newlines", "blank"])
def test_an_empty_csv_file_is_named(tmp_path, content):
    path = tmp_path / "nothing.csv"
    path.write_bytes(content)
    for reader in (load_calls, _READERS["iter_calls(2)"]):
        with pytest.raises(RecordError) as info:
            reader(path)
        assert str(info.value) == f"nothing.csv: the file is empty; {_EXPECTED_CSV}"


@pytest.mark.parametrize(
    ("encoding", "bom", "detected"),
    [
        ("utf-16", True, "the file is UTF-16-LE (it starts with a byte-order mark)"),
        ("utf-16-be", True, "the file is UTF-16-BE (it starts with a byte-order mark)"),
        ("utf-32", True, "the file is UTF-32-LE (it starts with a byte-order mark)"),
        ("utf-16-le", False, "the file holds NUL bytes (at byte 1); it looks like UTF-16-LE text"),
        ("utf-16-be", False, "the file holds NUL bytes (at byte 0); it looks like UTF-16-BE text"),
    ],
)
def test_utf16_and_utf32_files_name_the_encoding(tmp_path, good_csv, encoding, bom, detected):
    text = good_csv.read_text()
    data = text.encode(encoding)
    if bom and encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "wide.csv"
    path.write_bytes(data)
    for reader in (load_calls, _READERS["iter_calls(2)"]):
        with pytest.raises(RecordError) as info:
            reader(path)
        assert str(info.value) == f"wide.csv: {detected}; {_EXPECTED_CSV}"


def test_a_latin1_file_is_named(tmp_path, good_csv):
    path = tmp_path / "latin.csv"
    edited = tmp_path / "edited.csv"
    _edit_csv(good_csv, edited, {(3, "feature_id"): "caf\u00e9"})
    path.write_bytes(edited.read_text().encode("latin-1"))
    for reader in (load_calls, _READERS["iter_calls(2)"]):
        with pytest.raises(RecordError, match=r"^latin\.csv: byte \d+ \(line 4: b'\\xe9") as info:
            reader(path)
        assert _EXPECTED_CSV in str(info.value) and "latin-1" in str(info.value)


def test_latin1_deep_in_a_file_names_row_and_column(tmp_path, calls):
    """Past the first 64 KB the reader itself finds the bad bytes: row and column are named."""
    good = tmp_path / "good.csv"
    save_calls(calls.head(600), good)
    edited = tmp_path / "edited.csv"
    _edit_csv(good, edited, {(550, "feature_id"): "caf\u00e9"})
    path = tmp_path / "deep.csv"
    path.write_bytes(edited.read_text().encode("latin-1"))
    assert path.stat().st_size > 64 * 1024
    for reader in _READERS.values():
        with pytest.raises(RecordError) as info:
            reader(path)
        assert str(info.value).startswith(
            "row 550, column 'feature_id': the text is not valid UTF-8 in deep.csv; "
            + _EXPECTED_CSV
        )
        assert (info.value.row, info.value.column) == (550, "feature_id")


def test_a_utf8_bom_is_fine(tmp_path, good_csv):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + good_csv.read_bytes())
    pd.testing.assert_frame_equal(load_calls(path), load_calls(good_csv))


@pytest.mark.parametrize("content", [b"", b"not parquet at all"], ids=["empty", "garbage"])
def test_an_empty_or_broken_parquet_file_is_named(tmp_path, content):
    path = tmp_path / "broken.parquet"
    path.write_bytes(content)
    for reader in (load_calls, _READERS["iter_calls(2)"]):
        with pytest.raises(
            RecordError, match=r"^broken\.parquet: (the file is empty|not a readable)"
        ):
            reader(path)


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip"])
def test_compressed_csv_still_round_trips(tmp_path, calls, suffix):
    path = tmp_path / f"calls{suffix}"
    save_calls(calls.head(50), path)
    back = load_calls(path)
    pd.testing.assert_frame_equal(back, load_calls(_plain(tmp_path, calls.head(50))))
    assert sum(len(c) for c in iter_calls(path, chunk_rows=7)) == 50


def _plain(tmp_path: Path, df: pd.DataFrame) -> Path:
    path = tmp_path / "plain.csv"
    save_calls(df, path)
    return path


def test_a_header_only_csv_gives_one_empty_chunk(tmp_path):
    path = tmp_path / "header.csv"
    save_calls(empty_calls(), path)
    chunks = list(iter_calls(path, chunk_rows=5))
    assert len(chunks) == 1 and len(chunks[0]) == 0
    _schema_ok(chunks[0])


def test_a_header_without_a_line_break_is_an_empty_file_of_calls(tmp_path):
    path = tmp_path / "header.csv"
    save_calls(empty_calls(), path)
    path.write_text(path.read_text().rstrip("\n"))
    assert len(load_calls(path)) == 0
    assert [len(c) for c in iter_calls(path, chunk_rows=3)] == [0]


# ------------------------------------------------------------------ the 2026 token taxonomy
_TAXONOMY = ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")
_TAXONOMY += ("reasoning_tokens", "service_tier")
#: A file written before issue 10: the plan's 19 columns plus status, stop_reason, region.
_OLD_HEADER = [c for c in ALL_COLUMNS if c not in _TAXONOMY]


def _with_taxonomy(calls: pd.DataFrame) -> pd.DataFrame:
    """The calls with cache reads/writes, reasoning and every tier (inclusive rule kept)."""
    df = calls.copy()
    n = len(df)
    df["cache_read_tokens"] = df["input_tokens"] // 2
    df["cache_write_tokens"] = df["input_tokens"] // 4
    df["cache_write_1h_tokens"] = df["cache_write_tokens"] // 3
    df["reasoning_tokens"] = df["output_tokens"] * (pd.RangeIndex(n) % 2)
    tiers = ["standard", "batch", "flex", "priority"]
    df["service_tier"] = pd.Categorical([tiers[i % 4] for i in range(n)], categories=tiers)
    return df


def test_old_22_column_files_load_with_zeros_and_the_standard_tier(tmp_path, calls):
    """A CSV and a Parquet file in the layout before the token columns existed still load."""
    assert len(_OLD_HEADER) == 22
    old = calls[_OLD_HEADER]
    csv_path, pq_path = tmp_path / "old.csv", tmp_path / "old.parquet"
    old.to_csv(csv_path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    old.to_parquet(pq_path, index=False)
    assert csv_path.read_text().splitlines()[0].split(",") == _OLD_HEADER
    for path in (csv_path, pq_path):
        for back in (load_calls(path), *iter_calls(path, chunk_rows=1000)):
            _schema_ok(back)
            for col in _TAXONOMY[:4]:
                assert (back[col] == 0).all(), (path.name, col)
            assert (back["service_tier"] == "standard").all()
            assert list(back["service_tier"].cat.categories) == list(SERVICE_TIERS)


def test_empty_token_cells_mean_zero_and_standard(tmp_path, calls):
    path = tmp_path / "new.csv"
    save_calls(_with_taxonomy(calls.head(5)), path)
    edited = tmp_path / "edited.csv"
    _edit_csv(path, edited, {(2, "cache_read_tokens"): "", (3, "service_tier"): ""})
    back = load_calls(edited)
    assert back.loc[1, "cache_read_tokens"] == 0
    assert back.loc[2, "service_tier"] == "standard"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_token_columns_round_trip(tmp_path, calls, suffix):
    df = _with_taxonomy(calls)
    assert df["cache_read_tokens"].gt(0).any() and df["reasoning_tokens"].gt(0).any()
    path = tmp_path / f"tax{suffix}"
    save_calls(df, path)
    back = load_calls(path)
    _schema_ok(back)
    for col in _TAXONOMY[:4]:
        assert back[col].tolist() == df[col].tolist(), col
    assert back["service_tier"].astype(str).tolist() == df["service_tier"].astype(str).tolist()


@pytest.mark.parametrize(
    ("cell", "text", "expected"),
    [
        ("cache_read_tokens", "-4", "row 2, column 'cache_read_tokens': '-4' is negative"),
        ("reasoning_tokens", "1.5", "row 2, column 'reasoning_tokens': '1.5' is not an integer"),
        ("cache_write_1h_tokens", "x", "row 2, column 'cache_write_1h_tokens': 'x' is not an"),
        (
            "service_tier",
            "turbo",
            "row 2, column 'service_tier': 'turbo' is not one of standard, batch, flex, priority",
        ),
    ],
)
def test_bad_token_values_are_named(tmp_path, calls, cell, text, expected):
    path = tmp_path / "new.csv"
    save_calls(_with_taxonomy(calls.head(5)), path)
    bad = tmp_path / "bad.csv"
    _edit_csv(path, bad, {(2, cell): text})
    with pytest.raises(RecordError) as info:
        load_calls(bad)
    assert str(info.value).startswith(expected)
    assert (info.value.row, info.value.column) == (2, cell)


@pytest.mark.parametrize(
    ("over", "column", "message"),
    [
        (
            {"cache_read_tokens": 900, "cache_write_tokens": 200},
            "cache_read_tokens",
            "cache_read_tokens + cache_write_tokens = 1100 exceed input_tokens = 1000",
        ),
        (
            {"reasoning_tokens": 60},
            "reasoning_tokens",
            "reasoning_tokens = 60 exceeds output_tokens",
        ),
        (
            {"cache_write_tokens": 10, "cache_write_1h_tokens": 11},
            "cache_write_1h_tokens",
            "cache_write_1h_tokens = 11 exceeds cache_write_tokens = 10",
        ),
    ],
)
def test_the_inclusive_rule_is_checked_with_row_and_column(calls, over, column, message):
    df = _with_taxonomy(calls.head(4))
    df[list(_TAXONOMY[:4])] = 0
    df["input_tokens"], df["output_tokens"] = 1000, 50
    for col, v in over.items():
        df.loc[2, col] = v
    with pytest.raises(RecordError) as info:
        conform(df)
    assert str(info.value).startswith(f"row 3, column {column!r}: {message}")
    assert (info.value.row, info.value.column) == (3, column)


# ---------------------------------------------------------------------------------------------
# load_usage: a usage log with the reader's own columns, and two export formats

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
READER_MAPPING = {
    "timestamp": "time",
    "model": "llm",
    "provider": "vendor",
    "input_tokens": "prompt_tokens",
    "output_tokens": "completion_tokens",
    "customer_id": "customer",
    "feature_id": "feature",
}
MINIMAL = "timestamp,model,input_tokens,output_tokens\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_reader_shaped_log_loads_into_the_record():
    df = load_usage(FIXTURES / "reader_usage.csv", mapping=READER_MAPPING)
    _schema_ok(df)
    raw = pd.read_csv(FIXTURES / "reader_usage.csv")
    assert len(df) == len(raw)
    assert df["model"].astype(str).tolist() == raw["llm"].tolist()
    assert df["input_tokens"].tolist() == raw["prompt_tokens"].tolist()
    assert df["feature_id"].astype(str).tolist() == raw["feature"].tolist()
    # the one call without a customer keeps its spend, under a visible name
    assert df["customer_id"].astype(str).tolist()[6] == UNATTRIBUTED
    # priced by the library, at each call's timestamp
    expected = cost_usd(df[["provider", "model", "input_tokens", "output_tokens", "timestamp"]])
    assert df["cost_usd"].tolist() == pytest.approx(expected.tolist(), abs=1e-12)
    assert round(df["cost_usd"].sum(), 2) == round(expected.sum(), 2)
    # generated ids: unique, and the same on every read
    assert df["call_id"].is_unique
    again = load_usage(FIXTURES / "reader_usage.csv", mapping=READER_MAPPING)
    assert again["call_id"].tolist() == df["call_id"].tolist()
    assert (df["latency_ms"] == 0).all() and (df["service_tier"] == "standard").all()


def test_a_minimal_log_needs_only_time_model_and_tokens(tmp_path):
    # gpt-5.6-luna: $1.00 per million input tokens until 2026-07-29, $0.20 from 2026-07-30
    # (100,000 tokens: below its long-context threshold)
    path = _write(
        tmp_path,
        "usage.csv",
        MINIMAL + "2026-07-01T00:00:00Z,gpt-5.6-luna,100000,0\n"
        "2026-08-01T00:00:00Z,gpt-5.6-luna,100000,0\n",
    )
    df = load_usage(path)
    _schema_ok(df)
    assert df["provider"].astype(str).tolist() == ["openai", "openai"]  # found from the model
    assert df["cost_usd"].round(6).tolist() == [0.1, 0.02]  # the price at each call's time
    with pytest.raises(RecordError, match="missing required column"):
        load_calls(path)  # the record's own reader still wants a complete record


def test_an_unparseable_timestamp_names_row_column_and_value(tmp_path):
    rows = [f"2026-11-02T09:{i:02d}:00Z,gpt-4o-mini,openai,10,5,acme,chat" for i in range(20)]
    rows[16] = "yesterday,gpt-4o-mini,openai,10,5,acme,chat"
    path = _write(
        tmp_path,
        "usage.csv",
        "time,llm,vendor,prompt_tokens,completion_tokens,"
        "customer,feature\n" + "\n".join(rows) + "\n",
    )
    with pytest.raises(RecordError) as err:
        load_usage(path, mapping=READER_MAPPING)
    assert str(err.value).startswith(
        "row 17, column 'time' (the record's timestamp): 'yesterday' is not an ISO 8601 timestamp"
    )
    assert (err.value.row, err.value.column, err.value.value) == (17, "time", "yesterday")


def test_a_bad_count_names_row_column_and_value(tmp_path):
    path = _write(
        tmp_path,
        "usage.jsonl",
        '{"timestamp": "2026-11-02T09:00:00Z", "model": "gpt-4o-mini", '
        '"input_tokens": 10, "output_tokens": 5}\n'
        '{"timestamp": "2026-11-02T09:01:00Z", "model": "gpt-4o-mini", '
        '"input_tokens": -3, "output_tokens": 5}\n',
    )
    with pytest.raises(RecordError, match=r"^row 2, column 'input_tokens': -3") as err:
        load_usage(path)
    assert err.value.row == 2


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"timestmp": "time"},
            "mapping key 'timestmp' is not a column of the record (did you mean 'timestamp'?)",
        ),
        (
            {"timestamp": "tme"},
            "mapping['timestamp'] = 'tme' is not a column of usage.csv (did you mean 'time'?)",
        ),
        (
            {"input_tokens": "tokens", "output_tokens": "tokens"},
            "mapping is ambiguous: 'tokens' is given for both 'input_tokens' and 'output_tokens'",
        ),
        (
            {"model": "llm"},
            "mapping['model'] = 'llm' is ambiguous: usage.csv also has a column named 'model'",
        ),
    ],
)
def test_unknown_or_ambiguous_mapping_is_a_clear_error(tmp_path, mapping, message):
    path = _write(
        tmp_path,
        "usage.csv",
        "time,model,llm,tokens,input_tokens,output_tokens\n"
        "2026-11-02T09:00:00Z,gpt-4o-mini,gpt-4o,10,10,5\n",
    )
    with pytest.raises(ValueError) as err:
        load_usage(path, mapping=mapping)
    assert str(err.value).startswith(message)


def test_missing_required_columns_say_how_to_map_them(tmp_path):
    path = _write(
        tmp_path,
        "usage.csv",
        "when,model,prompt,completion\n2026-11-02T09:00:00Z,gpt-4o-mini,10,5\n",
    )
    with pytest.raises(RecordError) as err:
        load_usage(path)
    assert err.value.columns == ("timestamp", "input_tokens", "output_tokens")
    assert "mapping={'timestamp': 'its column'}" in str(err.value)
    assert "when, model, prompt, completion" in str(err.value)


def test_an_unknown_model_names_its_row(tmp_path):
    text = MINIMAL + "2026-11-02T09:00:00Z,gpt-4o-mini,10,5\n2026-11-02T09:01:00Z,my-llm-7b,10,5\n"
    path = _write(tmp_path, "usage.csv", text)
    with pytest.raises(
        RecordError,
        match=r"^row 2, column 'model': no provider for model "
        r"'my-llm-7b'",
    ):
        load_usage(path)
    # with a provider it is the price that is unknown, still on row 2 ...
    with pytest.raises(
        RecordError,
        match=r"^row 2, column 'model': no price for "
        r"provider='openai', model='my-llm-7b'",
    ):
        load_usage(path, defaults={"provider": "openai"})
    # ... and with the log's own cost it loads
    costed = _write(
        tmp_path,
        "costed.csv",
        "timestamp,model,input_tokens,output_tokens,cost\n"
        "2026-11-02T09:01:00Z,my-llm-7b,10,5,0.01\n",
    )
    df = load_usage(costed, mapping={"cost_usd": "cost"}, defaults={"provider": "local"})
    assert df["cost_usd"].tolist() == [0.01] and df["provider"].astype(str).tolist() == ["local"]


def test_csv_jsonl_and_parquet_logs_load_the_same(tmp_path):
    raw = pd.read_csv(FIXTURES / "reader_usage.csv", dtype={"customer": "string"})
    jsonl = tmp_path / "reader_usage.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({k: (None if pd.isna(v) else v) for k, v in r.items()})
            for r in raw.to_dict("records")
        )
        + "\n"
    )
    parquet = tmp_path / "reader_usage.parquet"
    raw.to_parquet(parquet)
    want = load_usage(FIXTURES / "reader_usage.csv", mapping=READER_MAPPING)
    for path in (jsonl, parquet):
        got = load_usage(path, mapping=READER_MAPPING)
        assert got.drop(columns="call_id").equals(want.drop(columns="call_id")), path.suffix


def test_defaults_fill_absent_tags_and_are_checked(tmp_path):
    path = _write(tmp_path, "usage.csv", MINIMAL + "2026-11-02T09:00:00Z,gpt-4o-mini,10,5\n")
    df = load_usage(path, defaults={"environment": "production", "customer_id": "acme"})
    assert df.loc[0, "environment"] == "production" and df.loc[0, "customer_id"] == "acme"
    with pytest.raises(ValueError, match="defaults key 'enviroment' is not a column"):
        load_usage(path, defaults={"enviroment": "production"})
    with pytest.raises(ValueError, match=r"defaults\['model'\]: model must come from the log"):
        load_usage(path, defaults={"model": "gpt-4o"})
    with pytest.raises(RecordError, match="row 1, column 'environment': 'prod' is not one of"):
        load_usage(path, defaults={"environment": "prod"})
    with pytest.raises(
        ValueError, match="format='openai' is not one of columns, litellm, langfuse"
    ):
        load_usage(path, format="openai")


def test_litellm_spend_logs():
    df = load_usage(FIXTURES / "litellm_spend_logs.json", format="litellm")
    _schema_ok(df)
    assert df["call_id"].tolist() == [f"chatcmpl-7f3a9c21-000{i}" for i in (1, 2, 3)]
    assert df["provider"].astype(str).tolist() == ["openai", "anthropic", "google"]
    assert df["model"].astype(str).tolist()[1] == "claude-sonnet-4-5"  # routing prefix gone
    assert df["cost_usd"].tolist() == [0.00021, 0.0061, 0.0]  # LiteLLM's own spend
    assert df["latency_ms"].tolist() == [900, 4500, 30000]  # duration, else end - start
    assert df["customer_id"].astype(str).tolist() == ["cust-acme", "cust-globex", UNATTRIBUTED]
    assert df["status"].astype(str).tolist() == ["success", "success", "error"]
    assert df["cache_read_tokens"].tolist() == [600, 0, 0]
    assert df["cache_write_tokens"].tolist() == [0, 1024, 0]
    assert df["organization_id"].astype(str).unique().tolist() == ["org-northwind"]
    # the reader's choice overrides the format's: LiteLLM's internal user as the customer
    mine = load_usage(
        FIXTURES / "litellm_spend_logs.json", {"customer_id": "user"}, format="litellm"
    )
    assert mine["customer_id"].astype(str).unique().tolist() == ["default_user_id"]


def test_langfuse_observations():
    df = load_usage(FIXTURES / "langfuse_observations.json", format="langfuse")
    _schema_ok(df)
    assert df["call_id"].tolist() == ["obs-5f1c-0001", "obs-5f1c-0003"]  # the SPAN is no call
    # usage types are disjoint in Langfuse: input = every type naming input
    assert df["input_tokens"].tolist() == [1000, 5000]
    assert df["output_tokens"].tolist() == [100, 640]
    assert df["cache_read_tokens"].tolist() == [600, 3000]
    assert df["cache_write_tokens"].tolist() == [0, 800]
    assert df["latency_ms"].tolist() == [1250, 6000]
    assert df["status"].astype(str).tolist() == ["success", "error"]
    assert df["trace_id"].tolist() == ["trace-a17", "trace-b02"]
    assert df["environment"].isna().tolist() == [False, True]  # Langfuse's "default": none
    # the first keeps Langfuse's cost, the second (none recorded) is priced like any call
    assert df.loc[0, "cost_usd"] == pytest.approx(0.000165)
    expected = cost_usd(df.iloc[[1]])
    assert df.loc[1, "cost_usd"] == pytest.approx(float(expected.iloc[0]))


def test_a_langfuse_error_counts_the_skipped_rows(tmp_path):
    doc = json.loads((FIXTURES / "langfuse_observations.json").read_text())
    doc["data"][2]["usageDetails"]["output"] = "many"
    path = tmp_path / "obs.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(
        RecordError,
        match=r"^row 3, column 'usageDetails.output': 'many' is not "
        r"a count",
    ):
        load_usage(path, format="langfuse")


def test_a_log_in_a_format_without_its_fields_says_which(tmp_path):
    with pytest.raises(RecordError, match=r"missing field.*'request_id'.*LiteLLM"):
        load_usage(FIXTURES / "langfuse_observations.json", format="litellm")


def test_a_jsonl_line_that_is_not_json_names_its_row(tmp_path):
    path = _write(
        tmp_path,
        "usage.jsonl",
        '{"timestamp": "2026-11-02T09:00:00Z", "model": "gpt-4o-mini", "input_tokens": 1, '
        '"output_tokens": 1}\n\n{"timestamp": "2026-11-02T09:01:00Z", "model": \n',
    )
    with pytest.raises(RecordError, match=r"^row 2: not a JSON object") as err:
        load_usage(path)
    assert err.value.row == 2


def test_provider_spellings_become_the_record_slugs(tmp_path):
    path = _write(
        tmp_path,
        "usage.csv",
        "timestamp,provider,model,input_tokens,output_tokens\n"
        "2026-11-02T09:00:00Z,OpenAI,gpt-4o-mini,10,5\n"
        "2026-11-02T09:00:01Z, Anthropic ,claude-haiku-4-5,10,5\n",
    )
    assert load_usage(path)["provider"].astype(str).tolist() == ["openai", "anthropic"]
