"""JupyterLab as a reading surface: a Lab server over the repository, as `make lab` starts it.

The test starts ``jupyter lab`` itself (a free loopback port, a random token, its own settings,
workspace and runtime folders) and talks to it like Lab's front end does: the contents API for
files, the sessions API for kernels and the kernel's websocket for running cells. Checked:

- Lab's root is the repository, so every relative link in the notebooks' Markdown opens a file;
- jupyterlab-myst is loaded, and in the browser the exercises and solutions of a notebook render
  as exercises (not as raw ```{exercise-start} text);
- one notebook per part runs cell by cell without an error, the report card that notebook 11
  links with {download} exists afterwards, and no kernel is left behind.

Skipped with the reason when Lab is not installed or cannot start (part of ``make site-test``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
# One notebook per part, the quicker ones (each runs in 5-20 s on a quiet laptop).
ONE_PER_PART = [
    "notebooks/a_instrumentation/02_metadata_tagging.ipynb",
    "notebooks/b_queries/06_aggregations.ipynb",
    "notebooks/c_metadata/08_validators.ipynb",
    "notebooks/d_scenarios/11_model_comparison.ipynb",
]
# A cell may take this long (the slowest cells meter a month of calls from a cold cache).
CELL_TIMEOUT_S = 240
START_TIMEOUT_S = 90  # a cold Lab start on a busy 2-core machine takes 10-30 s
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")


@dataclass(frozen=True, slots=True)
class Lab:
    """A running Lab server: its base URL and token."""

    url: str
    token: str

    def get(self, path: str) -> tuple[int, object]:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}
        )
        return self._send(request)

    def send(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        return self._send(request)

    @staticmethod
    def _send(request: urllib.request.Request) -> tuple[int, object]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        kind = response.headers.get("Content-Type", "")
        return status, json.loads(raw) if raw and "json" in kind else raw.decode(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    pytest.importorskip(
        "websocket", reason="websocket-client (a jupyter-server dependency) missing"
    )
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell, not only those scrolled into view, so the browser check sees them all
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.allow_root=True", "--ServerApp.port_retries=0",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]  # fmt: skip
    log = (home / "lab.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if server.get("/api/status")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            tail = (home / "lab.log").read_text()[-1500:]
            pytest.skip(f"JupyterLab did not start within {START_TIMEOUT_S} s:\n{tail}")
        time.sleep(0.5)
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def _markdown_links(notebook: Path) -> list[str]:
    links = []
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for m in MARKDOWN_LINK.finditer("".join(cell["source"])):
                links.append(m.group(1) or m.group(2))
    return links


def test_lab_serves_the_repository_with_myst_rendering(lab: Lab) -> None:
    status, listing = lab.get("/api/contents/")
    assert status == 200, listing
    names = {item["name"] for item in listing["content"]}
    assert {"book", "notebooks", "showcase_lib"} <= names, names
    status, page = lab.get("/lab")
    assert status == 200
    assert '"name": "jupyterlab-myst"' in page, "jupyterlab-myst is not loaded (requirements.txt)"


def test_every_relative_link_in_the_notebooks_opens_in_lab(lab: Lab) -> None:
    assert len(NOTEBOOKS) >= 13
    broken, checked = [], 0
    for notebook in NOTEBOOKS:
        for link in _markdown_links(notebook):
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # another site, or an anchor on the same page
            target = (notebook.parent / unquote(parts.path)).resolve()
            if "_out" in target.parts:
                continue  # a report card the notebook writes when it runs: checked below
            relative = target.relative_to(ROOT).as_posix()
            status, _ = lab.get(f"/api/contents/{quote(relative)}?content=0")
            checked += 1
            if status != 200:
                broken.append(f"{notebook.name}: {link} -> HTTP {status}")
    assert checked >= 10, f"only {checked} relative links found"
    assert not broken, "\n".join(broken)


def _run_cells(lab: Lab, kernel_id: str, notebook: dict) -> list[str]:
    """Run every code cell through the kernel's websocket; return the errors."""
    import websocket

    session = uuid.uuid4().hex
    ws = websocket.create_connection(
        f"{lab.url.replace('http', 'ws')}/api/kernels/{kernel_id}/channels?session_id={session}",
        header=[f"Authorization: token {lab.token}"],
        timeout=CELL_TIMEOUT_S,
    )
    errors = []
    try:
        for index, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] != "code":
                continue
            msg_id = uuid.uuid4().hex
            ws.send(
                json.dumps({
                    "header": {"msg_id": msg_id, "session": session, "username": "test",
                               "msg_type": "execute_request", "version": "5.3"},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": "".join(cell["source"]), "silent": False,
                                "store_history": True, "user_expressions": {},
                                "allow_stdin": False, "stop_on_error": True},
                })
            )  # fmt: skip
            while True:
                message = json.loads(ws.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["header"]["msg_type"]
                if kind == "error":
                    content = message["content"]
                    errors.append(f"cell {index}: {content['ename']}: {content['evalue']}")
                if kind == "execute_reply":
                    break
            if errors:
                break
    finally:
        ws.close()
    return errors


@pytest.mark.parametrize("path", ONE_PER_PART, ids=lambda p: Path(p).stem[:2])
def test_one_notebook_per_part_runs_in_lab(lab: Lab, path: str) -> None:
    status, model = lab.get(f"/api/contents/{quote(path)}")
    assert status == 200 and model["type"] == "notebook", model
    status, session = lab.send(
        "POST",
        "/api/sessions",
        {"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": "python3"}},
    )
    assert status == 201, session
    try:
        errors = _run_cells(lab, session["kernel"]["id"], model["content"])
    finally:
        lab.send("DELETE", f"/api/sessions/{session['id']}")
    assert not errors, f"{path} failed in Lab:\n" + "\n".join(errors)
    folder = Path(path).parent
    for link in _download_links(path):  # the report cards the notebook just wrote
        card = (folder / urlsplit(link).path).as_posix()
        assert lab.get(f"/api/contents/{quote(card)}?content=0")[0] == 200, f"no {card} in Lab"
    deadline = time.monotonic() + 20
    while lab.get("/api/kernels")[1] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert lab.get("/api/kernels")[1] == [], "a kernel was left running"


def _download_links(path: str) -> list[str]:
    pattern = re.compile(r"\{download\}`[^`<]*<([^>`]+)>`")
    text = "".join("".join(c["source"]) for c in json.loads((ROOT / path).read_text())["cells"])
    return pattern.findall(text)


def test_report_card_links_are_written_where_lab_opens_them(lab: Lab) -> None:
    """The {download} targets of 11-13 are files beside the notebook, so Lab opens them."""
    links = {p: _download_links(p) for p in (n.relative_to(ROOT).as_posix() for n in NOTEBOOKS)}
    cards = [(p, link) for p, found in links.items() for link in found]
    assert len(cards) >= 3, links
    assert all(not urlsplit(link).scheme and not link.startswith("/") for _, link in cards), cards


def test_exercises_render_as_exercises_in_lab(lab: Lab) -> None:
    browser_path = next(
        (p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None
    )
    if browser_path is None:
        pytest.skip("no Chromium on PATH: install Debian's `chromium` package (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = "notebooks/b_queries/05_time_series.ipynb"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}", wait_until="load")
        page.wait_for_function(
            """() => Array.from(document.querySelectorAll('.jp-MarkdownCell'))
                 .some((c) => c.innerText.includes('Exercise 2'))""",
            timeout=120_000,
        )
        page.wait_for_timeout(1500)
        texts = page.evaluate(
            "() => Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown,"
            " .jp-MarkdownCell .myst')).map((c) => c.innerText)"
        )
        browser.close()
    shown = "\n".join(texts)
    assert "Exercise 1" in shown and "Solution to" in shown, shown[-2000:]
    assert "{exercise-start}" not in shown and ":label:" not in shown, "raw MyST shown in Lab"
