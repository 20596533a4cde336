"""Untrusted text (issue titles and ids, notes, spec text) made safe to print on a terminal.

Issue and spec text is written by agents and other people; printed raw, an escape
sequence in a title could rewrite the screen or the window title, and a lone surrogate
(valid in JSON) could not even be encoded. Plain output goes through :func:`line` (one
line: every unsafe character escaped) or :func:`block` (newlines and tabs kept, other
unsafe characters escaped). Which characters are unsafe, and how they are written, is
:mod:`wrapix_core.notify.sanitize`'s rule (one rule for all untrusted text); here
escapes are always the ``\\xNN`` form. Rich output uses ``rich.text.Text`` instead,
which never interprets markup.
"""

from __future__ import annotations

from wrapix_core.notify.sanitize import escape_char, is_unsafe

_KEEP_IN_BLOCK = frozenset("\n\t")


def line(text: str) -> str:
    """``text`` on one line with every control and format character escaped."""
    if text.isprintable():  # nothing unsafe in it (the common case, in C)
        return text
    return "".join(escape_char(char, named=False) if is_unsafe(char) else char
                   for char in text)


def block(text: str) -> str:
    """``text`` with newlines and tabs kept and other control characters escaped."""
    return "".join(escape_char(char, named=False)
                   if char not in _KEEP_IN_BLOCK and is_unsafe(char) else char
                   for char in text)
