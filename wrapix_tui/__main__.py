"""`wrapix-tui [WORKSPACE]` and `python -m wrapix_tui`."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print("usage: wrapix-tui [WORKSPACE]\n\n"
              "Supervise wrapix sandboxes, notifications and Ralph.")
        return
    workspace = Path(args[0] if args else ".").expanduser().resolve()
    if not workspace.is_dir():
        print(f"wrapix-tui: error: workspace {workspace} is not a directory: "
              "pass an existing directory", file=sys.stderr)
        sys.exit(2)
    from wrapix_tui.app import WrapixApp

    WrapixApp(workspace).run()


if __name__ == "__main__":
    main()
