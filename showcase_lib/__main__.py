"""``python -m showcase_lib COMMAND ...``: the same tree as the ``showcase`` command.

See :mod:`showcase_lib.cli` (``report``, ``emulator``, ``backfill``, ``doctor``).
"""

import sys

from showcase_lib.cli import main

if __name__ == "__main__":
    sys.exit(main())
