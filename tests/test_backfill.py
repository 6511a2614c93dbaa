"""Backfill: constant-memory streaming, resume after interruption (graceful or kill -9), keys."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from showcase_lib.emulator import Emulator
from showcase_lib.io import save_calls
from showcase_lib.metering import (
    BackfillOptions,
    Delivery,
    Settings,
    backfill,
    idempotency_key_for,
)
from showcase_lib.metering._backfill import Checkpoint, compression_stats
from showcase_lib.simulation import simulate

QUIET = BackfillOptions(progress=False)


@pytest.fixture(scope="module")
def calls_file(tmp_path_factory):
    calls = simulate("steady_growth", days=3, customers=10, seed=5).calls
    path = tmp_path_factory.mktemp("bf") / "calls.parquet"
    save_calls(calls, path)
    return path, calls


def test_keys_are_deterministic_per_call():
    assert idempotency_key_for("call_1") == idempotency_key_for("call_1")
    assert idempotency_key_for("call_1") != idempotency_key_for("call_2")


def test_backfill_resumes_after_an_interruption_without_double_counting(calls_file, tmp_path):
    path, calls = calls_file
    n = len(calls)
    ckpt = tmp_path / "run.ckpt.json"
    with Emulator() as emu:
        s = Settings(emu.api_key, emu.base_url)
        opts = BackfillOptions(chunk_rows=500, commit_every=100, progress=False)
        first = backfill(
            path,
            s,
            checkpoint=ckpt,
            options=dataclasses.replace(opts, stop_after=n // 3),
            delivery=Delivery(concurrency=8),
        )
        assert first.interrupted and not first.completed
        assert first.submitted == n // 3 and first.rows_committed == n // 3
        assert Checkpoint(ckpt).load()["rows_committed"] == n // 3
        assert len(emu.records()) == n // 3
        second = backfill(
            path,
            s,
            checkpoint=ckpt,
            options=opts,
            delivery=Delivery(concurrency=8, rate_limit=5_000),
        )
        assert second.resumed_from == n // 3 and second.completed
        assert second.submitted == n - n // 3 and second.delivered == second.submitted
        state = Checkpoint(ckpt).load()
        assert state["rows_committed"] == n and state["done"]
        df = emu.records()
        assert len(df) == df["call_id"].nunique() == n
        assert set(df["call_id"]) == set(calls["call_id"])
        # a repeat of the whole file stores nothing new (same derived keys)
        again = backfill(path, s, options=opts)
        assert again.delivered == n
        assert len(emu.records()) == n
        assert emu.stats()["duplicates"] >= n


def test_checkpoint_of_another_file_is_refused(calls_file, tmp_path):
    path, _ = calls_file
    ckpt = Checkpoint(tmp_path / "c.json")
    ckpt.save("/elsewhere/other.parquet", 123, rows_committed=10)
    with pytest.raises(ValueError, match=r"is for source='/elsewhere/other\.parquet'"):
        backfill(path, Settings("k", "http://127.0.0.1:9"), checkpoint=ckpt.path, options=QUIET)


def test_backfill_from_csv_reports_compression(calls_file, tmp_path):
    _, calls = calls_file
    small = calls.head(600)
    path = tmp_path / "calls.csv"
    save_calls(small, path)
    with Emulator() as emu:
        r = backfill(
            path,
            Settings(emu.api_key, emu.base_url),
            options=BackfillOptions(progress=False, chunk_rows=200),
        )
        assert r.rows_total == 600 and r.completed and r.delivered == 600
        assert r.requests == 600  # one record per POST: the API has no batch endpoint
        c = r.compression
        assert c["records"] == 600 and c["raw_bytes"] > c["gzip_bytes"] > 0
        assert c["batch_ratio"] > c["per_request_ratio"] > 1
        assert len(emu.records()) == 600


def test_compression_stats_counts_bytes():
    bodies = [json.dumps({"i": i, "model": "gpt-4o-mini"}).encode() for i in range(10)]
    s = compression_stats(bodies, batch_size=4)
    assert s["records"] == 10 and s["raw_bytes"] == sum(map(len, bodies))


@pytest.mark.slow
def test_backfill_killed_with_sigkill_resumes_exactly_once(calls_file, tmp_path):
    path, calls = calls_file
    n = len(calls)
    ckpt = tmp_path / "kill.ckpt.json"
    with Emulator() as emu:
        emu.set_faults(latency_ms=2, lost_response_rate=0.05, seed=2)
        env = dict(os.environ, REVENIUM_METERING_API_KEY=emu.api_key)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "showcase_lib.metering",
                "backfill",
                str(path),
                "--base-url",
                emu.base_url,
                "--checkpoint",
                str(ckpt),
                "--concurrency",
                "4",
                "--commit-every",
                "100",
                "--chunk-rows",
                "1000",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                state = Checkpoint(ckpt).load() if ckpt.exists() else None
                if state and state["rows_committed"] >= n // 4:
                    break
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        committed = Checkpoint(ckpt).load()["rows_committed"]
        assert 0 < committed < n
        emu.set_faults(None)
        r = backfill(path, Settings(emu.api_key, emu.base_url), checkpoint=ckpt, options=QUIET)
        assert r.resumed_from == committed and r.completed
        df = emu.records()
        assert len(df) == df["call_id"].nunique() == n


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_backfill_carries_the_token_kinds_and_the_tier(calls_file, tmp_path, suffix):
    """A file with cache reads and writes, reasoning and tiers arrives with all of them."""
    _, calls = calls_file
    df = calls.head(120).copy()
    df["cache_read_tokens"] = df["input_tokens"] // 2
    df["cache_write_tokens"] = df["input_tokens"] // 5
    df["cache_write_1h_tokens"] = df["cache_write_tokens"] // 2
    df["reasoning_tokens"] = df["output_tokens"] // 3
    df["service_tier"] = (["standard", "batch", "flex", "priority"] * 30)[: len(df)]
    path = tmp_path / f"tax{suffix}"
    save_calls(df, path)
    with Emulator() as emu:
        r = backfill(path, Settings(emu.api_key, emu.base_url), options=QUIET)
        assert r.completed and r.delivered == len(df)
        back = emu.records().set_index("call_id").loc[df["call_id"]]
    for col in ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"):
        assert back[col].tolist() == df[col].tolist(), col
    assert back["reasoning_tokens"].tolist() == df["reasoning_tokens"].tolist()
    assert back["service_tier"].astype(str).tolist() == list(df["service_tier"])
