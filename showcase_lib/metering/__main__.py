"""``python -m showcase_lib.metering backfill PATH --base-url URL --checkpoint FILE``.

The API key comes from ``REVENIUM_METERING_API_KEY`` only (never from the command line).
"""

import sys

from showcase_lib.metering.batch import main

if __name__ == "__main__":  # pragma: no cover
    args = sys.argv[1:]
    if not args or args[0] != "backfill":
        sys.stderr.write("usage: python -m showcase_lib.metering backfill PATH [options]\n")
        raise SystemExit(2)
    raise SystemExit(main(args[1:]))
