"""Transitional import path: ``emulator/__main__.py`` still imports from here.

Import ``FaultConfig`` and ``Outage`` from ``showcase_lib.emulator``; this module goes once
the command line imports from the package.

Example:
    >>> from showcase_lib.emulator import FaultConfig
    >>> FaultConfig(error_rate=0.1).error_rate
    0.1
"""

from showcase_lib.emulator._faults import FaultConfig, Outage

__all__ = ["FaultConfig", "Outage"]
