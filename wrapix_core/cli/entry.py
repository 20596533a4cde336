"""The `wrapix` console script: the launch fast path first, the full CLI otherwise.

Imports nothing but the standard library until it knows it needs the full CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    from wrapix_core.cli.commands import is_launch

    if is_launch(args):
        from wrapix_core.cli.fastlaunch import run_fast

        code = run_fast(args)
        if code is not None:
            sys.exit(code)
    from wrapix_core.cli.wrapix import main as full

    full()
