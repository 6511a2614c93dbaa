"""Reading and writing records: round trips, row-numbered errors, streaming."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from showcase_lib.io import RecordError, conform, iter_calls, load_calls, save_calls
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
