"""``python -m showcase_lib report`` writes one self-contained HTML per analyzer + an index."""

from __future__ import annotations

import subprocess
import sys

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
