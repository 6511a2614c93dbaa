"""Transitional import path and call form for ``emulator/__main__.py``.

The command line still builds ``EmulatorServer(api_key=..., db_path=..., faults=..., host=...,
port=..., max_body_bytes=...)``; the server now takes those three listening settings as one
``ServerOptions``. This module keeps the old call working until the command line is merged;
then it goes (import ``EmulatorServer`` and ``ServerOptions`` from ``showcase_lib.emulator``).

Example:
    >>> EmulatorServer(api_key="k", db_path="e.db", port=8787).port
    8787
"""

from __future__ import annotations

from typing import Any

from showcase_lib.emulator import _server
from showcase_lib.emulator._faults import FaultConfig
from showcase_lib.emulator._server import DEFAULT_MAX_BODY_BYTES, ServerOptions

__all__ = ["DEFAULT_MAX_BODY_BYTES", "EmulatorServer"]


class EmulatorServer(_server.EmulatorServer):
    """``showcase_lib.emulator.EmulatorServer`` with the old keyword form (transitional).

    Example:
        >>> EmulatorServer(api_key="k", db_path="e.db", host="127.0.0.1").host
        '127.0.0.1'
    """

    def __init__(  # noqa: PLR0913 -- the call emulator/__main__.py makes, until the CLI merge
        self,
        *,
        api_key: str,
        db_path: str,
        faults: FaultConfig | dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ):
        options = ServerOptions(host=host, port=port, max_body_bytes=max_body_bytes)
        super().__init__(api_key=api_key, db_path=db_path, faults=faults, options=options)
