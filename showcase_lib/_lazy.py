"""numpy and pandas imported on first use, for the modules the emulator's server also loads.

``showcase_lib.wire`` (the server validates bodies through it) and ``showcase_lib.pricing``
(the server prices bodies one at a time through ``price`` and ``CATALOG``) must not load
pandas and numpy at import: they would more than double the server's start-up time. Their
vectorised functions use ``np`` / ``pd`` as usual; the first attribute access imports the real
module and binds it in the caller's namespace in place of the stand-in, so later calls pay
nothing. A library-internal helper (top-level private module), not part of the public surface.
"""

from __future__ import annotations

import importlib
from typing import Any


class OnFirstUse:
    """Stands for ``module`` as the global ``alias`` of ``namespace`` until first used."""

    def __init__(self, module: str, alias: str, namespace: dict[str, Any]):
        self._module, self._alias, self._namespace = module, alias, namespace

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._module)
        self._namespace[self._alias] = module
        return getattr(module, attr)
