"""``python -m showcase_lib.emulator --host H --port P --api-key K [--db PATH] [fault flags]``.

A delegate to ``showcase emulator`` (:mod:`showcase_lib.cli`): same flags, same output (one
JSON line when listening; the key is never printed).
"""

import sys

from showcase_lib.cli import main

if __name__ == "__main__":
    sys.exit(main(["emulator", *sys.argv[1:]]))
