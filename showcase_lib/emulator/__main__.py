"""Command line: ``python -m showcase_lib.emulator --host 127.0.0.1 --port 8787 --api-key KEY``.

Prints one JSON line when listening (``{"event": "listening", "base_url": ..., "port": ...}``;
the key is never printed), then serves until SIGINT/SIGTERM, flushing the store on the way out.
The key comes from ``--api-key`` or, if absent, the ``SHOWCASE_EMULATOR_API_KEY`` environment
variable (which keeps it out of process listings).

Example:
    python -m showcase_lib.emulator --port 8787 --api-key rev_local_test --db /tmp/emu.sqlite \\
        --error-rate 0.05 --rate-limit-rate 0.02 --retry-after-s 1 --outage 30:40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence

from pydantic import ValidationError

from showcase_lib.emulator.faults import FaultConfig, Outage
from showcase_lib.emulator.runner import API_KEY_ENV
from showcase_lib.emulator.server import DEFAULT_MAX_BODY_BYTES, EmulatorServer


def _outage(text: str) -> Outage:
    try:
        start, end = (float(x) for x in text.split(":", 1))
        return Outage(start_s=start, end_s=end)
    except (ValueError, ValidationError) as exc:
        raise argparse.ArgumentTypeError(
            f"--outage {text!r} must be START:END seconds ({exc})"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m showcase_lib.emulator",
        description="Revenium-compatible metering API emulator.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    p.add_argument("--api-key", default=None, help=f"default: ${API_KEY_ENV}")
    p.add_argument("--db", default=None, help="SQLite store (default: a temp file)")
    p.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    f = p.add_argument_group("faults")
    f.add_argument("--faults-json", default=None, help="a FaultConfig as JSON (flags override)")
    f.add_argument("--error-rate", type=float)
    f.add_argument(
        "--error-codes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="comma-separated 5xx codes, e.g. 500,503",
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
    p.add_argument("--log-level", default="WARNING")
    return p


def faults_from_args(args: argparse.Namespace) -> FaultConfig:
    fields = json.loads(args.faults_json) if args.faults_json else {}
    for name in FaultConfig.model_fields:
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    return FaultConfig.model_validate(fields)


async def serve(server: EmulatorServer, db_path: str) -> None:
    port = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    line = {
        "event": "listening",
        "host": server.host,
        "port": port,
        "base_url": f"http://{server.host}:{port}/meter/",
        "db": db_path,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    if not api_key:
        parser.error(f"give --api-key or set {API_KEY_ENV}")
    try:
        faults = faults_from_args(args)
    except (ValidationError, ValueError) as exc:
        parser.error(f"bad fault settings: {exc}")
    db_path = args.db or os.path.join(
        tempfile.mkdtemp(prefix="showcase-emulator-"), "emulator.sqlite"
    )
    server = EmulatorServer(
        api_key=api_key,
        db_path=db_path,
        faults=faults,
        host=args.host,
        port=args.port,
        max_body_bytes=args.max_body_bytes,
    )
    try:
        asyncio.run(serve(server, db_path))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        sys.stderr.write(f"cannot listen on {args.host}:{args.port}: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
