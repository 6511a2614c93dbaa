"""The backfill's command line, kept at this path for ``python -m showcase_lib.metering``.

The backfill itself is :func:`showcase_lib.metering.backfill`; this module only parses the
command line (the key comes from ``REVENIUM_METERING_API_KEY``, never from an argument).

Example::

    REVENIUM_METERING_API_KEY=... python -m showcase_lib.metering backfill calls.parquet \\
        --base-url http://127.0.0.1:8787 --checkpoint run.ckpt.json
"""

from showcase_lib.metering._backfill import main

__all__ = ["main"]
