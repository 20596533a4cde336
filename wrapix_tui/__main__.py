"""`wrapix-tui [WORKSPACE]` and `python -m wrapix_tui`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

EXIT_AFTER_FIRST_FRAME = "WRAPIX_TUI_EXIT_AFTER_FIRST_FRAME"
"""Set to 1 to exit right after the first full frame (the start-up benchmark)."""
EXIT_AFTER_BOARD = "WRAPIX_TUI_EXIT_AFTER_BOARD"
"""Set to 1 to exit once the Ralph board is loaded and drawn (the P2/P10 benchmarks)."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print("usage: wrapix-tui [WORKSPACE]\n\n"
              "Supervise wrapix sandboxes, notifications and Ralph. Press ? for the keys.")
        return
    workspace = Path(args[0] if args else ".").expanduser().resolve()
    if not workspace.is_dir():
        print(f"wrapix-tui: error: workspace {workspace} is not a directory: "
              "pass an existing directory", file=sys.stderr)
        sys.exit(2)
    from wrapix_tui.app import WrapixApp

    WrapixApp(workspace, exit_after_first_frame=os.environ.get(EXIT_AFTER_FIRST_FRAME) == "1",
              exit_after_board=os.environ.get(EXIT_AFTER_BOARD) == "1").run()


if __name__ == "__main__":
    main()
