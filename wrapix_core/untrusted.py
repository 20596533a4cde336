"""Showing untrusted text safely: one rule for every place that shows it.

Notification titles and messages, issue titles and notes, spec text, file names, diff
contents and a sandbox's log all come from inside a sandbox or from other people: they
may hold ANSI escapes, control characters, bidi overrides, lone surrogates, Rich markup
or megabytes of text. Stores keep them faithfully; anything that *shows* them goes
through here first:

- :func:`display_text`: one bounded line, every invisible or terminal-controlling
  character made visible as an escape (the inbox, the TUI, desktop popups);
- :func:`line` and :func:`block`: plain CLI output, unbounded, ``\\xNN`` escapes
  (:func:`block` keeps newlines and tabs);
- :func:`output_lines`: a terminal program's output (escape sequences dropped).

The result is plain text. The TUI must still render it as text, not markup
(``rich.text.Text(value)``, or ``markup=False``); ``escape_markup=True`` additionally
escapes Rich markup for widgets that insist on parsing it.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Controls, format characters (bidi overrides, zero-width), surrogates, private-use,
unassigned, and line/paragraph separators."""

ANSI_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
"""Terminal escape sequences: CSI (colours, cursor moves), OSC (window title, clipboard,
hyperlinks) and the two-character ESC forms."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def is_unsafe(char: str) -> bool:
    """Whether ``char`` must not reach a terminal raw: it could control the terminal,
    hide or reorder text, or not even encode (a lone surrogate)."""
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def escape_char(char: str, *, named: bool = True) -> str:
    """``char`` as a visible escape: ``\\n``, ``\\e`` ... when ``named``, else ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN``."""
    if named:
        short = _NAMED.get(char)
        if short is not None:
            return short
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def display_text(text: str, limit: int = 200, *, escape_markup: bool = False) -> str:
    """``text`` with unsafe characters shown as escapes, at most ``limit`` characters.

    Newlines become ``\\n`` (one entry stays on one line), ESC becomes ``\\e``, other
    controls ``\\xNN``/``\\uNNNN``. Longer results end in ``…``. ``limit`` counts
    characters after escaping, so the output is bounded whatever the input.
    ``escape_markup`` then escapes Rich markup (which may add a few backslashes).
    """
    if limit < 1:
        return ""
    if text.isascii() and text.isprintable():  # the common case: nothing to escape
        result = text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
        if escape_markup:
            from rich.markup import escape

            result = escape(result)
        return result
    out: list[str] = []
    size = 0
    # Never look at more input than could possibly be shown.
    for char in text[: limit + 1]:
        piece = escape_char(char) if is_unsafe(char) else char
        out.append(piece)
        size += len(piece)
        if size > limit:
            break
    result = "".join(out)
    if size > limit:
        result = result[: limit - 1] + ELLIPSIS
    if escape_markup:
        from rich.markup import escape  # only the TUI asks for this; keep the CLI light

        result = escape(result)
    return result


def output_lines(line: str, limit: int = 4000) -> list[str]:
    """One line of a terminal program's output (a sandbox's log) as inert display lines:
    escape sequences dropped (colours with them), other controls shown as escapes, each
    at most ``limit`` characters. A carriage return starts a new display line (a
    terminal would overwrite, but in a log what came before it, e.g. a command's output
    before the next prompt, matters more)."""
    parts = [ANSI_SEQUENCE.sub("", part) for part in line.rstrip("\r\n").split("\r")]
    kept = [part for part in parts if part.strip()] or [""]
    return [display_text(part.expandtabs(), limit) for part in kept]


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
