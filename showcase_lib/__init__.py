"""Revenium FinOps Showcase helper library.

Import what you need from its packages: ``schema`` and ``wire`` (the record and its Revenium
wire form), ``io``, ``pricing``, ``simulation``, ``metering``, ``emulator``, ``metadata``,
``analysis`` and ``report``. The command line is ``showcase`` (:mod:`showcase_lib.cli`).

Example:
    >>> from showcase_lib.schema import ALL_COLUMNS
    >>> ALL_COLUMNS[0]
    'timestamp'
"""

__all__: list[str] = []
