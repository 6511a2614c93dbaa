"""The one command line (``showcase``): ``report`` writes one self-contained HTML per analyzer
plus an index; every sub-command has help; the delegates share the tree; ``doctor`` reports
without printing a key."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys

import pytest

from showcase_lib.analysis.analyzers import ANALYZERS


def test_report_command_writes_one_file_per_analyzer(tmp_path):
    out = tmp_path / "reports"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "showcase_lib",
            "report",
            "--scenario",
            "viral_spike",
            "--out",
            str(out),
            "--days",
            "14",
            "--customers",
            "12",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == sorted([f"{n}.html" for n in ANALYZERS] + ["index.html"])
    index = (out / "index.html").read_text(encoding="utf-8")
    for n in ANALYZERS:
        html = (out / f"{n}.html").read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and "<style>" in html
        assert "Problem" in html and "Implementation" in html
        assert 'href="http' not in html and 'src="http' not in html
        assert f'href="{n}.html"' in index


def test_report_command_rejects_bad_input(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "showcase_lib",
            "report",
            "--scenario",
            "nope",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0 and "nope" in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "showcase_lib",
            "report",
            "--scenario",
            "seasonal",
            "--out",
            str(tmp_path),
            "--days",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and "--days=0" in proc.stderr


# --- the one tree: every sub-command, its delegates, the doctor ---------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.mark.parametrize("command", ["report", "emulator", "backfill", "doctor"])
def test_each_subcommand_has_help(command):
    from showcase_lib.cli import main

    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0


def test_help_lists_the_four_commands_and_the_scenarios(capsys):
    from showcase_lib.cli import main
    from showcase_lib.simulation import SCENARIOS

    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert all(c in top for c in ("report", "emulator", "backfill", "doctor"))
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    report_help = capsys.readouterr().out
    assert all(s in report_help for s in SCENARIOS)


def test_delegates_share_the_tree():
    for module, prefix in (
        ("showcase_lib", ["doctor", "--help"]),
        ("showcase_lib.emulator", ["--help"]),
        ("showcase_lib.metering", ["backfill", "--help"]),
    ):
        proc = _run("-m", module, *prefix)
        assert proc.returncode == 0, (module, proc.stderr)
        assert proc.stdout.startswith("usage: showcase "), (module, proc.stdout[:80])
    proc = _run("-m", "showcase_lib.metering", "nope")
    assert proc.returncode == 2 and "backfill" in proc.stderr


def test_emulator_help_names_the_emulators_key_variable(capsys):
    from showcase_lib.cli import main
    from showcase_lib.emulator._runner import API_KEY_ENV

    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    assert f"${API_KEY_ENV}" in capsys.readouterr().out


def test_the_emulator_command_loads_no_analysis_or_simulation():
    code = (
        "import sys; from showcase_lib.cli import _parser; "
        "_parser().parse_args(['emulator', '--port', '0']); "
        "print(sorted(m for m in sys.modules if m.startswith('showcase_lib')))"
    )
    loaded = _run("-c", code).stdout
    assert "showcase_lib.simulation" not in loaded and "showcase_lib.analysis" not in loaded


def test_doctor_reports_versions_port_and_settings_without_the_key():
    secret = "hak_doctor_" + "x" * 24
    env = {
        **os.environ,
        "REVENIUM_METERING_API_KEY": secret,
        "REVENIUM_METERING_BASE_URL": "http://127.0.0.1:9/",
    }
    env.pop("SHOWCASE_EMULATOR_API_KEY", None)
    proc = _run("-m", "showcase_lib", "doctor", env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"python  {platform.python_version()}".split()[-1] in out.splitlines()[0]
    lines = dict(line.split(None, 1) for line in out.splitlines() if line.strip() and "  " in line)
    assert lines["pandas"].strip() == importlib.metadata.version("pandas")
    assert lines["loopback"].startswith("port") and "ok (bound 127.0.0.1:" in lines["loopback"]
    assert lines["REVENIUM_METERING_API_KEY"].strip() == "set"
    assert lines["SHOWCASE_EMULATOR_API_KEY"].strip() == "not set"
    assert secret not in out + proc.stderr


def test_backfill_without_a_key_fails_naming_the_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REVENIUM_METERING_API_KEY"}
    path = tmp_path / "calls.csv"
    path.write_text("timestamp\n", encoding="utf-8")
    proc = _run("-m", "showcase_lib", "backfill", str(path), env=env)
    assert proc.returncode == 2 and "REVENIUM_METERING_API_KEY" in proc.stderr


def test_pyproject_declares_the_one_entry_point():
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    pyproject = tomllib.loads(
        (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    )
    assert pyproject["project"]["scripts"] == {"showcase": "showcase_lib.cli:main"}


def _emulator_args(*argv: str):
    from showcase_lib.cli import _parser

    return _parser().parse_args(["emulator", *argv])


def test_emulator_key_prefers_the_file_and_the_environment_and_warns_on_the_flag(
    tmp_path, monkeypatch
):
    from showcase_lib.cli import _emulator_key

    monkeypatch.delenv("SHOWCASE_EMULATOR_API_KEY", raising=False)
    key_file = tmp_path / "key"
    key_file.write_text("rev_from_file\n", encoding="utf-8")
    key, warning = _emulator_key(_emulator_args("--api-key", "rev_flag"))
    assert key == "rev_flag" and "visible" in warning and "process list" in warning
    monkeypatch.setenv("SHOWCASE_EMULATOR_API_KEY", "rev_from_env")
    assert _emulator_key(_emulator_args()) == ("rev_from_env", None)
    key, warning = _emulator_key(_emulator_args("--api-key", "rev_flag"))
    assert key == "rev_from_env" and "ignored" in warning
    key, _ = _emulator_key(_emulator_args("--api-key-file", str(key_file)))
    assert key == "rev_from_file"  # the file wins over the environment
    assert "rev_flag" not in (warning or "")


def test_emulator_binding_beyond_loopback_warns_on_stderr():
    env = {**os.environ, "SHOWCASE_EMULATOR_API_KEY": "rev_cli_warn"}
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning comes, then the bind fails
    proc = _run("-m", "showcase_lib.emulator", "--host", "192.0.2.1", "--port", "0", env=env)
    assert proc.returncode == 2
    assert "WARNING: --host 192.0.2.1 serves beyond loopback" in proc.stderr
    assert "rev_cli_warn" not in proc.stdout + proc.stderr


def test_emulator_missing_key_file_is_a_usage_error(tmp_path):
    proc = _run("-m", "showcase_lib.emulator", "--api-key-file", str(tmp_path / "none"))
    assert proc.returncode == 2 and "--api-key-file" in proc.stderr


def test_preflight_meters_one_call_through_a_local_emulator():
    proc = _run("-m", "showcase_lib", "doctor", "--round-trip")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("emulator round trip"))
    assert "ok (emulator started, 1 call metered and read back in" in line


def test_preflight_fails_past_its_budget(monkeypatch):
    from showcase_lib import cli

    monkeypatch.setattr(cli, "_ROUND_TRIP_BUDGET_S", 0.0)
    verdict = cli._round_trip()
    assert verdict.startswith("FAILED ("), verdict
