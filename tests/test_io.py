"""Reading and writing records: round trips, row-numbered errors, streaming."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from showcase_lib.io import RecordError, conform, iter_calls, load_calls, save_calls
from showcase_lib.schema import ALL_COLUMNS, CATEGORY_COLUMNS, DTYPES, empty_calls
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
