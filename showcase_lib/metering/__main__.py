"""``python -m showcase_lib.metering backfill PATH --base-url URL --checkpoint FILE``.

A delegate to ``showcase backfill`` (:mod:`showcase_lib.cli`). The API key comes from
``REVENIUM_METERING_API_KEY`` only (never from the command line).
"""

import sys

from showcase_lib.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "backfill":
        sys.stderr.write("usage: python -m showcase_lib.metering backfill PATH [options]\n")
        sys.exit(2)
    sys.exit(main(args))
