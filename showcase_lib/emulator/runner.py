"""Transitional import path: ``emulator/__main__.py`` still imports ``API_KEY_ENV`` from here.

This module goes once the command line imports from ``showcase_lib.emulator._runner`` (its
own package) or reads the name below.

Example:
    >>> API_KEY_ENV
    'SHOWCASE_EMULATOR_API_KEY'
"""

from showcase_lib.emulator._runner import API_KEY_ENV

__all__ = ["API_KEY_ENV"]
