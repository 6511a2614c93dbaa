"""The showcase's one command line: ``showcase report|emulator|backfill|doctor|datasets``.

Installed as ``showcase`` (``[project.scripts]`` in ``pyproject.toml``); ``python -m
showcase_lib``, ``python -m showcase_lib.emulator`` and ``python -m showcase_lib.metering``
are thin delegates to the same argument tree::

    showcase report --scenario viral_spike --out reports/ [--days 30 --customers 100 --seed 0]
    showcase emulator --host 127.0.0.1 --port 8787 --api-key KEY [--db PATH] [fault flags]
    showcase backfill calls.parquet --base-url URL --checkpoint run.ckpt.json
    showcase doctor
    showcase datasets warm [--notebooks notebooks] [--list]

This module is the one place of the library that prints. Each sub-command imports what it
needs when it runs, so ``showcase emulator`` loads the emulator and nothing of the analysis or
tracker stacks. Keys are never printed.

Example:
    >>> main(["report", "--scenario", "seasonal", "--out", "x", "--days", "0"])
    2
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

__all__ = ["main"]

#: The documented environment of the real service (architecture.md, "Defaults"): the tracker
#: and the backfill read these; ``doctor`` reports whether they are set, never their value.
_SERVICE_ENV = ("REVENIUM_METERING_API_KEY", "REVENIUM_METERING_BASE_URL")

#: The emulator's key variable (``showcase_lib.emulator._runner.API_KEY_ENV``; a test keeps them equal).
#: Written out so that building the parser imports no emulator code.
_EMULATOR_KEY_ENV = "SHOWCASE_EMULATOR_API_KEY"

#: The pre-flight's budget for starting an emulator and metering one call (a laptop does it in
#: one to three seconds; ten leaves room for a slow first import, and stays a workshop minute).
_ROUND_TRIP_BUDGET_S = 10.0

#: The oldest Python the book supports (the README's requirement).
_MIN_PYTHON = (3, 10)

#: Distributions whose versions ``doctor`` reports (the book's and the library's key pieces).
_PACKAGES = (
    "showcase_lib",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "genai-prices",
    "httpx",
    "aiohttp",
    "matplotlib",
    "duckdb",
    "statsmodels",
    "openai",
    "anthropic",
    "revenium-python-sdk",
    "opentelemetry-sdk",
    "jupyterlab",
    "jupyter-book",
    "nbmake",
)

#: Detail table shown in each analyzer's Results card of ``showcase report``.
_KEY_TABLES: dict[str, tuple[str, ...]] = {
    "understanding": ("unit_costs", "by_customer_id"),
    "performance": ("sla", "efficiency"),
    "realtime": ("anomalies", "budgets"),
    "optimization": ("opportunities", "right_sizing"),
    "alignment": ("chargeback_organization_id",),
    "profitability": ("by_band", "by_customer"),
    "pricing": ("parameters", "summary"),
    "features": ("by_feature",),
}


class _Scenarios(Sequence[str]):
    """``simulation.SCENARIOS``, imported on first use (so other commands skip the import)."""

    def _names(self) -> tuple[str, ...]:
        from showcase_lib.simulation import SCENARIOS

        return tuple(SCENARIOS)

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, value: object) -> bool:
        return value in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


# --------------------------------------------------------------------------- the tree


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="showcase", description="Revenium FinOps Showcase: helper commands."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_report(sub)
    _add_emulator(sub)
    _add_backfill(sub)
    _add_doctor(sub)
    _add_datasets(sub)
    return parser


def _add_report(sub: Any) -> None:
    rep = sub.add_parser(
        "report",
        help="write one HTML report per analyzer for a simulated scenario",
        description="Simulate a scenario, run the eight analyzers and write one "
        "self-contained HTML report each, plus index.html.",
    )
    rep.add_argument(
        "--scenario",
        required=True,
        choices=_Scenarios(),
        metavar="SCENARIO",
        help="one of: %(choices)s",
    )
    rep.add_argument("--out", required=True, type=Path, help="output folder (created)")
    rep.add_argument("--days", type=int, default=30)
    rep.add_argument("--customers", type=int, default=100)
    rep.add_argument("--seed", type=int, default=0)
    rep.set_defaults(run=_run_report, command_parser=rep)


def _fault_codes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--error-codes {text!r} must be comma-separated integers, e.g. 500,503"
        ) from None


def _outage(text: str) -> Any:
    from pydantic import ValidationError

    from showcase_lib.emulator import Outage

    try:
        start, end = (float(x) for x in text.split(":", 1))
        return Outage(start_s=start, end_s=end)
    except (ValueError, ValidationError) as exc:
        raise argparse.ArgumentTypeError(
            f"--outage {text!r} must be START:END seconds ({exc})"
        ) from None


def _add_emulator(sub: Any) -> None:
    emu = sub.add_parser(
        "emulator",
        help="serve the Revenium-compatible metering API on loopback",
        description="Revenium-compatible metering API emulator. Prints one JSON line when "
        "listening (the key is never printed), then serves until SIGINT/SIGTERM.",
    )
    emu.add_argument(
        "--host", default="127.0.0.1", help="default loopback; anything else is warned about"
    )
    emu.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    emu.add_argument(
        "--api-key-file",
        default=None,
        metavar="PATH",
        help="read the key clients (and the admin routes) must send from this file",
    )
    emu.add_argument(
        "--api-key",
        default=None,
        help=f"the key on the command line, visible in process listings: prefer "
        f"${_EMULATOR_KEY_ENV} or --api-key-file, which win over it",
    )
    emu.add_argument("--db", default=None, help="SQLite store (default: a temp file)")
    emu.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when stdin closes (the parent that started this process gave it a pipe and "
        "died, even by SIGKILL): no orphaned emulator outlives a killed notebook or test",
    )
    limits = emu.add_argument_group("limits (default: the server's own, see ServerOptions)")
    limits.add_argument("--max-body-bytes", type=int, default=None)
    limits.add_argument("--header-timeout-s", type=float, default=None)
    limits.add_argument("--body-timeout-s", type=float, default=None)
    limits.add_argument("--keep-alive-timeout-s", type=float, default=None)
    limits.add_argument("--max-connections", type=int, default=None)
    f = emu.add_argument_group("faults")
    f.add_argument("--faults-json", default=None, help="a FaultConfig as JSON (flags override)")
    f.add_argument("--error-rate", type=float)
    f.add_argument(
        "--error-codes", type=_fault_codes, help="comma-separated 5xx codes, e.g. 500,503"
    )
    f.add_argument("--rate-limit-rate", type=float)
    f.add_argument("--retry-after-s", type=float)
    f.add_argument("--latency-ms", type=float)
    f.add_argument("--latency-jitter-ms", type=float)
    f.add_argument("--hang-rate", type=float)
    f.add_argument("--hang-s", type=float)
    f.add_argument("--drop-rate", type=float)
    f.add_argument("--lost-response-rate", type=float)
    f.add_argument(
        "--outage",
        type=_outage,
        action="append",
        dest="outages",
        help="START:END seconds after start; repeatable",
    )
    f.add_argument("--seed", type=int)
    emu.add_argument("--log-level", default="WARNING")
    emu.set_defaults(run=_run_emulator, command_parser=emu)


def _add_backfill(sub: Any) -> None:
    bf = sub.add_parser(
        "backfill",
        help="send a CSV/Parquet of historical calls to the metering API, resumably",
        description="Backfill historical AI calls. The API key is read from "
        f"${_SERVICE_ENV[0]} only (never a command-line argument: process lists show "
        "arguments). Prints the run's report as one JSON line.",
    )
    bf.add_argument("path", help="a CSV or Parquet file in the record schema")
    bf.add_argument("--base-url", default=None, help=f"default: ${_SERVICE_ENV[1]}")
    bf.add_argument("--checkpoint", default=None, help="resume from / write to this file")
    bf.add_argument("--concurrency", type=int, default=32)
    bf.add_argument("--rate-limit", type=float, default=None, help="requests per second at most")
    bf.add_argument("--chunk-rows", type=int, default=10_000)
    bf.add_argument("--commit-every", type=int, default=2_000)
    bf.add_argument("--max-retries", type=int, default=None)
    bf.add_argument(
        "--close-timeout",
        type=float,
        default=120.0,
        help="seconds to finish delivering (and replaying the spool) at the end",
    )
    bf.add_argument("--progress", action="store_true")
    bf.set_defaults(run=_run_backfill, command_parser=bf)


def _add_doctor(sub: Any) -> None:
    doc = sub.add_parser(
        "doctor",
        help="check this machine: Python, packages, a loopback port, the service settings",
        description="Print the Python version, key package versions, whether a loopback port "
        "can be bound and whether the service's environment variables are set (never their "
        "values). With --round-trip (the workshop's pre-flight, `make preflight`), also start "
        "the local emulator, meter one call through the book's tracker and read it back.",
    )
    doc.add_argument(
        "--round-trip",
        action="store_true",
        help=f"meter one call into a local emulator and read it back (fails after "
        f"{_ROUND_TRIP_BUDGET_S:.0f} s)",
    )
    doc.set_defaults(run=_run_doctor, command_parser=doc)


def _add_datasets(sub: Any) -> None:
    ds = sub.add_parser(
        "datasets",
        help="the metered data sets the notebooks read (warm the cache)",
        description="Work with the metered data sets of showcase_lib.datasets.",
    )
    inner = ds.add_subparsers(dest="datasets_command", required=True, metavar="COMMAND")
    warm = inner.add_parser(
        "warm",
        help="build every data set the notebooks call, so they run from the cache",
        description="Read every notebook under --notebooks (code cells, parsed, not run), find "
        "each metered(...) call, resolve its arguments (literals, or top-level constants of "
        "the notebook), merge identical calls and build each data set once: a miss meters it "
        "cold (about a minute per 100,000 calls), a hit reads the cache. Prints one line per "
        "data set (cache, rows, seconds, parameters, notebooks) and a total. Exit status 2 "
        "when a call cannot be resolved (the message names the notebook, cell and argument).",
    )
    warm.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), help="folder to scan (recursively)"
    )
    warm.add_argument("--list", action="store_true", help="list the data sets found, build nothing")
    warm.set_defaults(run=_run_datasets_warm, command_parser=warm)


# --------------------------------------------------------------------------- report


def _write_reports(
    scenario: str, out: Path, *, days: int = 30, customers: int = 100, seed: int = 0
) -> list[Path]:
    """Simulate ``scenario``, run the eight analyzers, write their reports and an index.

    Returns the written paths (the eight reports, then ``index.html``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from showcase_lib.analysis.analyzers import run_all
    from showcase_lib.pricing import price_table
    from showcase_lib.report.cards import ReportCards, write_index
    from showcase_lib.report.charts import chart
    from showcase_lib.simulation import simulate

    sim = simulate(scenario, days=days, customers=customers, seed=seed)
    results = run_all(sim.calls, sim.customers, price_table())
    source = (
        f"simulate({scenario!r}, days={days}, customers={customers}, seed={seed}): "
        f"{len(sim.calls):,} simulated calls"
    )
    out.mkdir(parents=True, exist_ok=True)
    written, index = [], {}
    for name, result in results.items():
        ax = chart(result)
        cards = ReportCards(
            result,
            charts=[ax] if ax is not None else [],
            tables=_KEY_TABLES.get(name, ()),
            subtitle=f"Scenario {scenario}",
            source=source,
        )
        path = cards.write(out / f"{name}.html")
        plt.close("all")
        written.append(path)
        index[path.name] = result
    written.append(
        write_index(
            out / "index.html", index, title=f"Analyzer reports: {scenario}", subtitle=source
        )
    )
    return written


def _run_report(args: argparse.Namespace) -> int:
    for name, value in (("days", args.days), ("customers", args.customers)):
        if value < 1:
            print(f"error: --{name}={value} must be at least 1", file=sys.stderr)
            return 2
    paths = _write_reports(
        args.scenario, args.out, days=args.days, customers=args.customers, seed=args.seed
    )
    for p in paths:
        print(p)
    return 0


# --------------------------------------------------------------------------- emulator


def _faults_from_args(args: argparse.Namespace) -> Any:
    from showcase_lib.emulator import FaultConfig

    fields = json.loads(args.faults_json) if args.faults_json else {}
    for name in FaultConfig.model_fields:
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    return FaultConfig.model_validate(fields)


def _stop_when_stdin_closes(loop: Any, stop: Any) -> None:
    """Read stdin to its end in a daemon thread, then set ``stop`` (the parent is gone)."""
    import threading

    def watch() -> None:
        with contextlib.suppress(OSError, ValueError):
            while sys.stdin.buffer.read(4096):
                pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch, name="emulator-parent-watch", daemon=True).start()


async def _serve(server: Any, db_path: str, *, exit_with_parent: bool = False) -> None:
    import asyncio
    import signal

    port = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if exit_with_parent:
        _stop_when_stdin_closes(loop, stop)
    line = {
        "event": "listening",
        "host": server.host,
        "port": port,
        "base_url": f"http://{server.host}:{port}/meter/",
        "db": db_path,
    }
    print(json.dumps(line), flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


#: ServerOptions fields the emulator command sets from flags of the same name.
_EMULATOR_LIMITS = (
    "max_body_bytes",
    "header_timeout_s",
    "body_timeout_s",
    "keep_alive_timeout_s",
    "max_connections",
)


def _emulator_key(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The key from ``--api-key-file``, else the environment, else ``--api-key``; and a
    warning for stderr when the command-line form was given."""
    if args.api_key_file:
        try:
            with open(args.api_key_file, encoding="utf-8") as fh:
                key: str | None = fh.read().strip()
        except OSError as exc:
            args.command_parser.error(f"--api-key-file {args.api_key_file!r}: {exc.strerror}")
        source = "--api-key-file"
    elif os.environ.get(_EMULATOR_KEY_ENV):
        key, source = os.environ[_EMULATOR_KEY_ENV], _EMULATOR_KEY_ENV
    else:
        key, source = args.api_key, "--api-key"
    warning = None
    if args.api_key and source != "--api-key":
        warning = f"warning: --api-key is ignored: the key comes from {source}"
    elif args.api_key:
        warning = (
            "warning: --api-key is visible to every user in the process list; "
            f"set {_EMULATOR_KEY_ENV} or use --api-key-file PATH"
        )
    return key, warning


def _loopback_host(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _run_emulator(args: argparse.Namespace) -> int:
    parser = args.command_parser
    import asyncio
    import logging
    import tempfile

    from pydantic import ValidationError

    from showcase_lib.emulator import EmulatorServer, ServerOptions

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    api_key, warning = _emulator_key(args)
    if not api_key:
        parser.error(f"set {_EMULATOR_KEY_ENV}, or give --api-key-file PATH (or --api-key)")
    if warning:
        print(warning, file=sys.stderr)
    if not _loopback_host(args.host):
        print(
            f"WARNING: --host {args.host} serves beyond loopback: anyone who can reach this "
            "machine can send records to it and, with the key, read every stored body",
            file=sys.stderr,
        )
    try:
        faults = _faults_from_args(args)
    except (ValidationError, ValueError) as exc:
        parser.error(f"bad fault settings: {exc}")
    db_path = args.db or os.path.join(
        tempfile.mkdtemp(prefix="showcase-emulator-"), "emulator.sqlite"
    )
    limits: dict[str, Any] = {
        name: getattr(args, name) for name in _EMULATOR_LIMITS if getattr(args, name) is not None
    }
    options = ServerOptions(host=args.host, port=args.port, **limits)
    server = EmulatorServer(api_key=api_key, db_path=db_path, faults=faults, options=options)
    try:
        asyncio.run(_serve(server, db_path, exit_with_parent=args.exit_with_parent))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


# --------------------------------------------------------------------------- backfill


def _run_backfill(args: argparse.Namespace) -> int:
    parser = args.command_parser
    from showcase_lib.metering import BackfillOptions, Delivery, Settings, backfill

    overrides: dict[str, Any] = {}
    if args.base_url:
        overrides["base_url"] = args.base_url
    if args.max_retries is not None:
        overrides["max_retries"] = args.max_retries
    try:
        settings = Settings.from_env(**overrides)
    except ValueError as exc:
        parser.error(str(exc))
    report = backfill(
        args.path,
        settings,
        checkpoint=args.checkpoint,
        options=BackfillOptions(
            chunk_rows=args.chunk_rows,
            commit_every=args.commit_every,
            progress=args.progress,
            compression_sample=0,
            close_timeout_s=args.close_timeout,
        ),
        delivery=Delivery(concurrency=args.concurrency, rate_limit=args.rate_limit),
    )
    summary = {k: v for k, v in report.as_dict().items() if k != "compression"}
    print(json.dumps(summary), flush=True)
    return 0 if report.completed else 1


# --------------------------------------------------------------------------- doctor


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _loopback_port() -> str:
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return f"ok (bound 127.0.0.1:{s.getsockname()[1]})"
    except OSError as exc:
        return f"FAILED ({exc})"


def _round_trip() -> str:
    """Start an emulator, meter one call through the tracker, read it back; say how long it took."""
    import time

    from showcase_lib.emulator import Emulator
    from showcase_lib.metering import Settings, Tracker

    started = time.perf_counter()
    try:
        with Emulator() as emu:
            tracker = Tracker(Settings(emu.api_key, emu.base_url))
            call_id = tracker.track("openai", "gpt-4o-mini", 12, 3, latency_ms=250)
            stats = tracker.close(timeout=_ROUND_TRIP_BUDGET_S)
            stored = emu.records()["call_id"].tolist()
    except Exception as exc:  # the pre-flight reports any failure as a line, never a traceback
        return f"FAILED ({type(exc).__name__}: {exc})"
    elapsed = time.perf_counter() - started
    if stored != [call_id] or stats.delivered != 1:
        return f"FAILED (stored {len(stored)} record(s), delivered {stats.delivered})"
    if elapsed > _ROUND_TRIP_BUDGET_S:
        return f"FAILED (took {elapsed:.1f} s, budget {_ROUND_TRIP_BUDGET_S:.0f} s)"
    return f"ok (emulator started, 1 call metered and read back in {elapsed:.1f} s)"


def _doctor_lines(*, round_trip: bool = False) -> list[tuple[str, str]]:
    """(label, value) pairs of the doctor's report; values never include a key."""
    import platform

    ok = sys.version_info >= _MIN_PYTHON
    verdict = "" if ok else f"FAILED (needs >= {'.'.join(map(str, _MIN_PYTHON))}) "
    lines = [("python", f"{verdict}{platform.python_version()} ({sys.executable})")]
    lines += [(name, _version(name)) for name in _PACKAGES]
    lines.append(("loopback port", _loopback_port()))
    for name in (*_SERVICE_ENV, _EMULATOR_KEY_ENV):
        lines.append((name, "set" if os.environ.get(name) else "not set"))
    if round_trip:
        lines.append(("emulator round trip", _round_trip()))
    return lines


def _run_doctor(args: argparse.Namespace) -> int:
    lines = _doctor_lines(round_trip=args.round_trip)
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    if all(os.environ.get(n) for n in _SERVICE_ENV):
        print("\nService settings are set: Settings.from_env() reaches the real service.")
    else:
        print("\nService settings are not all set: the notebooks' in-process emulator needs none.")
    broken = [label for label, value in lines if value.startswith("FAILED")]
    broken += [n for n in ("numpy", "pandas", "pydantic") if _version(n) == "not installed"]
    return 1 if broken else 0


# --------------------------------------------------------------------------- datasets
#
# ``showcase datasets warm``: the notebooks are the list of metered data sets. Each notebook
# writes its data set as ``metered(...)`` (or ``datasets.metered(...)``) with literal arguments
# or names assigned a literal at the top level of a code cell (``SEED = 0``). ``_find_sets``
# reads every notebook (JSON, code cells, parsed with ``ast``: nothing is executed), resolves
# the arguments, fills the defaults of ``metered`` and merges identical calls; ``_warm``
# builds each set (a cache hit takes a second). A call whose argument cannot be resolved from
# the notebook alone stops with ``_WarmError`` naming the notebook, the cell and the argument:
# a warm-up that skipped it would leave a notebook to meter cold in CI. This code lives here,
# not in ``showcase_lib.datasets``, because the data sets' cache key hashes that package's
# source: editing the warm-up must not throw every cached data set away.


def _metered_function() -> Any:
    from showcase_lib.datasets import metered

    return metered


#: The module paths whose ``metered`` attribute is the data-set builder (``import ... as x``).
_MODULES: Final[tuple[str, ...]] = ("showcase_lib.datasets",)
#: A line of IPython syntax that :mod:`ast` cannot parse (``%time``, ``!ls``, ``x?``): blanked,
#: so the cell's other lines still parse and line numbers still match the cell.
_MAGIC: Final[re.Pattern[str]] = re.compile(r"^\s*(?:[%!]|\S.*\?\s*$)")
#: Notebook folders skipped by the scan (Jupyter's autosaves, build outputs).
_SKIP_PARTS: Final[frozenset[str]] = frozenset({".ipynb_checkpoints", "_build"})


class _WarmError(ValueError):
    """A ``metered(...)`` call whose data set cannot be known without running the notebook.

    Example:
        >>> str(_WarmError("nb.ipynb, cell 3, line 1: days=f(x) is not a literal"))
        'nb.ipynb, cell 3, line 1: days=f(x) is not a literal'
    """


@dataclass(frozen=True, slots=True)
class _Found:
    """One ``metered(...)`` call of a notebook: where it is and its resolved arguments."""

    notebook: Path
    cell: int  # 1 = the notebook's first cell (Markdown cells count too)
    line: int  # 1 = the cell's first line
    params: tuple[tuple[str, Any], ...]  # every argument of metered(), defaults filled


@dataclass(frozen=True, slots=True)
class _DataSet:
    """One data set the notebooks use, and the notebooks (cells) that call it."""

    params: tuple[tuple[str, Any], ...]
    calls: tuple[_Found, ...]

    @property
    def notebooks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.notebook.stem for f in self.calls))

    def describe(self) -> str:
        """``steady_growth days=30 customers=60 seed=0`` (scenario first, ``start`` if set)."""
        p = dict(self.params)
        rest = " ".join(
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
            for k, v in p.items()
            if k != "scenario" and v is not None
        )
        return f"{p['scenario']} {rest}"


@dataclass(frozen=True, slots=True)
class _Built:
    """What building one data set took."""

    dataset: _DataSet
    rows: int
    seconds: float
    cache: Literal["hit", "miss"]


def _metered_defaults() -> dict[str, Any]:
    sig = inspect.signature(_metered_function())
    return {
        name: p.default
        for name, p in sig.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _code_cells(notebook: Path) -> Iterator[tuple[int, str]]:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise _WarmError(
            f"{notebook}: not a readable notebook ({type(err).__name__}: {err})"
        ) from err
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            yield number, source if isinstance(source, str) else "".join(source)


def _parse(notebook: Path, number: int, source: str) -> ast.Module:
    lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError as err:
        raise _WarmError(
            f"{notebook}, cell {number}, line {err.lineno}: the cell does not parse as Python "
            f"({err.msg}), so its metered(...) calls cannot be read"
        ) from err


class _Scope:
    """The notebook's top-level names, in execution order: literal constants and aliases."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self.computed: dict[str, int] = {}  # name -> line of a non-literal assignment
        self.functions: set[str] = {"metered"}
        self.modules: set[str] = {"datasets"}

    def bind(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            for alias in stmt.names:
                name = alias.asname or alias.name
                if stmt.module in _MODULES and alias.name == "metered":
                    self.functions.add(name)
                elif f"{stmt.module}.{alias.name}" in _MODULES:
                    self.modules.add(name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in _MODULES and alias.asname:
                    self.modules.add(alias.asname)
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    literal = ast.literal_eval(value) if value is not None else None
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    value_ok = False
                else:
                    value_ok = value is not None
                if value_ok:
                    self.constants[target.id] = literal
                    self.computed.pop(target.id, None)
                else:
                    self.constants.pop(target.id, None)
                    self.computed[target.id] = stmt.lineno

    def is_metered(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.functions
        if isinstance(func, ast.Attribute) and func.attr == "metered":
            base = func.value
            if isinstance(base, ast.Name):
                return base.id in self.modules
            return isinstance(base, ast.Attribute) and ast.unparse(base) in _MODULES
        return False

    def resolve(self, node: ast.expr, where: str, name: str) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        text = ast.unparse(node)
        why = "is not a literal or a name assigned a literal at the top level of a code cell"
        if isinstance(node, ast.Name) and node.id in self.computed:
            why = f"is a name assigned a computed value (line {self.computed[node.id]} of its cell)"
        elif isinstance(node, ast.Name):
            why = "is a name not assigned a literal in an earlier top-level statement"
        raise _WarmError(
            f"{where}: argument {name}={text} of metered(...) {why}; write the value as a "
            "literal or a top-level constant (NAME = literal) so the warm-up can read it"
        )


def _find_calls(notebook: str | Path) -> list[_Found]:
    """Every ``metered(...)`` call of one notebook, its arguments resolved and defaults filled.

    Raises :class:`_WarmError` for an argument that is neither a literal nor a name assigned a
    literal at the top level of an earlier statement (earlier cells, or earlier in the cell).

    Example:
        >>> import json, tempfile, pathlib
        >>> nb = pathlib.Path(tempfile.mkdtemp()) / "nb.ipynb"
        >>> code = ["DAYS = 30\\n", "sim = metered('steady_growth', days=DAYS, customers=60)"]
        >>> _ = nb.write_text(json.dumps({"cells": [{"cell_type": "code", "source": code}]}))
        >>> dict(_find_calls(nb)[0].params)
        {'scenario': 'steady_growth', 'days': 30, 'customers': 60, 'seed': 0, 'start': None}
    """
    notebook = Path(notebook)
    defaults = _metered_defaults()
    scope, found = _Scope(), []
    for number, source in _code_cells(notebook):
        tree = _parse(notebook, number, source)
        for stmt in tree.body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and scope.is_metered(node.func):
                    found.append(_found(scope, node, notebook, number, defaults))
            scope.bind(stmt)
    return found


def _found(
    scope: _Scope, node: ast.Call, notebook: Path, number: int, defaults: dict[str, Any]
) -> _Found:
    where = f"{notebook}, cell {number}, line {node.lineno}"
    params = dict(defaults)
    positional = list(defaults)[: len(node.args)]
    if len(node.args) > 1 or any(isinstance(a, ast.Starred) for a in node.args):
        raise _WarmError(
            f"{where}: metered(...) takes the scenario as its only positional argument"
        )
    for name, arg in zip(positional, node.args, strict=True):
        params[name] = scope.resolve(arg, where, name)
    for kw in node.keywords:
        if kw.arg is None:
            raise _WarmError(
                f"{where}: metered(**{ast.unparse(kw.value)}) hides its arguments; "
                "write each one as a keyword"
            )
        params[kw.arg] = scope.resolve(kw.value, where, kw.arg)
    return _Found(notebook, number, node.lineno, tuple(params.items()))


def _notebook_paths(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.ipynb") if not _SKIP_PARTS.intersection(p.relative_to(root).parts)
    )


def _find_sets(root: str | Path = "notebooks") -> list[_DataSet]:
    """The distinct data sets the notebooks under ``root`` call, in order of first use.

    Example:
        >>> import json, tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> cell = {"cell_type": "code", "source": "metered(days=30, customers=60, seed=0)"}
        >>> for name in ("a.ipynb", "b.ipynb"):
        ...     _ = (root / name).write_text(json.dumps({"cells": [cell]}))
        >>> [(s.describe(), s.notebooks) for s in _find_sets(root)]
        [('steady_growth days=30 customers=60 seed=0', ('a', 'b'))]
    """
    root = Path(root)
    if not root.is_dir():
        raise _WarmError(f"--notebooks {str(root)!r} is not a directory")
    sets: dict[tuple[tuple[str, Any], ...], list[_Found]] = {}
    for notebook in _notebook_paths(root):
        for call in _find_calls(notebook):
            key = tuple((k, json.dumps(v, sort_keys=True)) for k, v in call.params)
            sets.setdefault(key, []).append(call)
    return [_DataSet(params=calls[0].params, calls=tuple(calls)) for calls in sets.values()]


def _warm(sets: Iterable[_DataSet]) -> Iterator[_Built]:
    """Build each data set (cache hits are instant), yielding what each took as it finishes.

    Example:
        >>> import os, tempfile
        >>> os.environ["SHOWCASE_DATASETS_DIR"] = tempfile.mkdtemp()
        >>> params = (("scenario", "steady_growth"), ("days", 1), ("customers", 2), ("seed", 0))
        >>> built = list(_warm([_DataSet(params=params, calls=())]))
        >>> built[0].cache, built[0].rows > 0
        ('miss', True)
        >>> del os.environ["SHOWCASE_DATASETS_DIR"]
    """
    for dataset in sets:
        params = dict(dataset.params)
        t0 = time.perf_counter()
        sim = _metered_function()(**params)
        seconds = time.perf_counter() - t0
        yield _Built(dataset, len(sim.calls), seconds, sim.params["metered"]["cache"])


def _run_datasets_warm(args: argparse.Namespace) -> int:
    try:
        sets = _find_sets(args.notebooks)
    except _WarmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(sets)} data set(s) called by the notebooks under {args.notebooks}", flush=True)
    if args.list:
        for ds in sets:
            print(f"  {ds.describe()}  <- {', '.join(ds.notebooks)}")
        return 0
    started, rows, misses = time.perf_counter(), 0, 0
    for built in _warm(sets):
        rows += built.rows
        misses += built.cache == "miss"
        print(
            f"  {built.cache:<4} {built.rows:>9,} rows {built.seconds:>7.1f} s  "
            f"{built.dataset.describe()}  <- {', '.join(built.dataset.notebooks)}",
            flush=True,
        )
    total = time.perf_counter() - started
    print(
        f"total: {len(sets)} data set(s), {rows:,} rows, {misses} metered cold, {total:.1f} s",
        flush=True,
    )
    return 0


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``showcase`` command; returns the exit status (``argparse`` errors exit 2).

    Example:
        >>> main(["doctor"]) in (0, 1)  # doctest: +ELLIPSIS
        python ...
        True
    """
    args = _parser().parse_args(argv)
    return int(args.run(args))
