"""Untrusted text (issue titles, notes, spec text) made safe to print on a terminal.

Issue and spec text is written by agents and other people; printed raw, an escape
sequence in a title could rewrite the screen or the window title. Plain output goes
through :func:`line` (one line: every control character escaped) or :func:`block`
(newlines and tabs kept, other controls escaped). Rich output uses ``rich.text.Text``
instead, which never interprets markup.
"""

from __future__ import annotations

import unicodedata

_KEEP_IN_BLOCK = frozenset("\n\t")


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    # Cc: C0/C1 controls (ESC, CSI, BEL ...); Cf: bidi overrides and other invisible format
    # characters that can make text read differently than it is.
    return unicodedata.category(char) in ("Cc", "Cf")


def line(text: str) -> str:
    """``text`` on one line with every control and format character escaped."""
    if text.isprintable():
        return text
    return "".join(_escape(char) if _unsafe(char) or char in _KEEP_IN_BLOCK else char
                   for char in text)


def block(text: str) -> str:
    """``text`` with newlines and tabs kept and other control characters escaped."""
    return "".join(_escape(char) if _unsafe(char) and char not in _KEEP_IN_BLOCK else char
                   for char in text)
