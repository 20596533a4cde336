"""`wrapix-notify`: not implemented yet (see the open issues); exits 2 and says so."""

from __future__ import annotations

import sys


def main() -> None:
    print("wrapix-notify: not implemented yet", file=sys.stderr)
    sys.exit(2)
