"""The emulator loads no client stack: importing it, or starting its server, in a fresh
interpreter leaves httpx, tenacity, aiohttp and the tracker (``showcase_lib.metering``) out
of ``sys.modules``. Before issue 8 the wire lived in ``metering`` and importing the emulator
loaded all of them (~1 s of imports in the server process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
{code}
loaded = sorted(m for m in sys.modules
                if m.split(".")[0] in ("httpx", "tenacity", "aiohttp")
                or m == "showcase_lib.metering" or m.startswith("showcase_lib.metering."))
heavy = sorted(m for m in ("pandas", "numpy") if m in sys.modules)
print(json.dumps([loaded, heavy]))
"""


def _run(code: str) -> tuple[list[str], list[str], str]:
    """After running ``code`` in a fresh interpreter: the client-stack modules loaded, which
    of pandas/numpy are loaded, and stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    loaded, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded, heavy, out.stdout


def _loaded_after(code: str) -> list[str]:
    return _run(code)[0]


@pytest.mark.parametrize(
    "code",
    [
        "import showcase_lib.emulator",
        "import showcase_lib.emulator.__main__",
        "import showcase_lib.wire",
    ],
)
def test_importing_the_emulator_loads_no_client_stack(code):
    assert _loaded_after(code) == []


def test_a_running_server_loads_no_client_stack():
    code = """
import urllib.request
from showcase_lib.emulator import Emulator
with Emulator() as emu:
    assert urllib.request.urlopen(emu.url + "_emulator/health").status == 200
    emu.stats(); emu.records(); emu.set_faults(error_rate=0.0)
"""
    assert _loaded_after(code) == []


def test_the_server_process_loads_no_client_stack(tmp_path):
    """``python -m showcase_lib.emulator`` itself, checked from inside the process, after it
    stored a completion without a cost and priced it for its cost read-out."""
    code = """
import json, runpy, socket, sys, threading, os, signal, time, urllib.request
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
BODY = {{"transactionId": "t1", "provider": "OpenAI", "model": "gpt-5.5",
    "inputTokenCount": 1000, "outputTokenCount": 100, "totalTokenCount": 1100,
    "requestTime": "2026-11-15T12:00:00Z", "responseTime": "2026-11-15T12:00:01Z",
    "completionStartTime": "2026-11-15T12:00:01Z", "requestDuration": 1000,
    "stopReason": "END", "costType": "AI", "isStreamed": False}}
def call(path, data=None):
    req = urllib.request.Request(f"http://127.0.0.1:{{port}}/" + path, data=data,
        headers={{"x-api-key": "rev_test_key", "Content-Type": "application/json"}})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())
def stop():
    for _ in range(100):
        try:
            call("_emulator/health")
            break
        except OSError:
            time.sleep(0.05)
    call("meter/v2/ai/completions", json.dumps(BODY).encode())
    cost = call("_emulator/costs")[0]
    print(json.dumps({{"priced": [cost["source"], round(cost["total"], 6)]}}))
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=stop, daemon=True).start()
sys.argv = ["x", "--port", str(port), "--api-key", "rev_test_key", "--db", {!r}]
try:
    runpy.run_module("showcase_lib.emulator", run_name="__main__")
except SystemExit:
    pass
""".format(str(tmp_path / "e.sqlite"))
    loaded, heavy, stdout = _run(code)
    assert '"event": "listening"' in stdout  # the server did start
    assert '{"priced": ["genai-prices", 0.008]}' in stdout  # 1000 x $5 + 100 x $30 per MTok
    assert loaded == []
    # the server only validates bodies: it does not even need pandas (only the mappers do)
    assert heavy == []


def test_pricing_imports_and_prices_one_model_without_pandas():
    """The emulator resolves record names through ``showcase_lib.pricing`` (``CATALOG``,
    ``price``): importing it, and pricing a retired model, must not load pandas or numpy."""
    code = """
import showcase_lib.pricing as p
from showcase_lib.emulator._pricing import price_body
assert p.price("anthropic", "claude-instant-1.2").input_usd_per_mtok == 0.8
body = {"transactionId": "t", "provider": "Anthropic", "model": "claude-instant-1.2",
        "inputTokenCount": 1000, "outputTokenCount": 100, "requestTime": "2026-11-15T12:00:00Z"}
print(price_body(body)["source"])
"""
    loaded, heavy, stdout = _run(code)
    assert "retired-model table" in stdout
    assert (loaded, heavy) == ([], [])


def test_a_process_emulator_stops_when_its_parent_is_killed(tmp_path):
    """A notebook kernel or test killed by SIGKILL must not leave its emulator running."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "from showcase_lib.emulator import Emulator\n"
        "import sys, time\n"
        "emu = Emulator(process=True).start()\n"
        "print(emu.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    # a SIGKILLed parent cannot remove its emulator's temp folder: keep it in pytest's tmp_path
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # reap it if it became our zombie (it is re-parented to init otherwise)
        time.sleep(0.2)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError(f"emulator process {child} outlived its killed parent")


def test_an_emulator_never_closed_leaves_no_temp_dir():
    """A notebook that starts an emulator and never closes it must not litter /tmp."""
    import subprocess
    import sys

    script = (
        "from showcase_lib.emulator import Emulator\n"
        "emu = Emulator(process=True).start()\n"
        "print(emu.db_path, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    db = out.stdout.strip()
    assert db.endswith("emulator.sqlite"), out.stderr
    import os

    assert not os.path.exists(os.path.dirname(db)), f"{os.path.dirname(db)} left behind"


def test_a_process_emulator_on_a_callers_store_removes_its_log_on_close(tmp_path):
    from showcase_lib.emulator import Emulator

    with Emulator(db_path=tmp_path / "store.sqlite", process=True) as emu:
        log = emu.log_path
        assert log is not None and os.path.exists(log)
    assert not os.path.exists(log), f"{log} left behind"
    assert (tmp_path / "store.sqlite").exists()  # the caller's store stays
