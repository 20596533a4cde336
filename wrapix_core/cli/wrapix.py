"""`wrapix`: not implemented yet (the sandbox engine is being built); exits 2 and says so."""

from __future__ import annotations

import sys


def main() -> None:
    print("wrapix: not implemented yet", file=sys.stderr)
    sys.exit(2)
