"""The untrusted-text rule's old home: it lives in :mod:`wrapix_core.untrusted` (it serves
tasks, the CLI and the TUI as much as notifications). These names stay for code written
before the move; import from :mod:`wrapix_core.untrusted`.
"""

from wrapix_core.untrusted import (
    ANSI_SEQUENCE,
    ELLIPSIS,
    display_text,
    escape_char,
    is_unsafe,
    output_lines,
)

__all__ = ["ANSI_SEQUENCE", "ELLIPSIS", "display_text", "escape_char", "is_unsafe",
           "output_lines"]
