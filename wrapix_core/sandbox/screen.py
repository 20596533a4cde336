"""The last lines a sandbox *drew*, not the last lines it wrote.

``podman logs --tail N`` counts newlines, and a full-screen agent (Claude Code) moves its
cursor and redraws instead of writing lines: its last N "lines" are a few escape-laden
fragments, or nothing. Here its recent output is played into a small terminal emulator
(pyte) and what the screen then shows, with the lines that scrolled off above it, is
returned, each line made inert by the rule ``wrapix logs`` and the TUI's logs screen share
(:func:`wrapix_core.untrusted.display_text`: no escape sequence reaches the person's
terminal, other controls are shown as escapes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING

from wrapix_core.untrusted import display_text, escape_char, is_unsafe

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import Runtime

COLUMNS = 200
"""Wider than most terminals: a program that addresses the screen draws the same
wherever its lines end, and long log lines are not cut."""
ROWS = 60
KEEP_BYTES = 1 << 20
"""The newest output played (a full-screen program redraws within far less)."""
LINE_LIMIT = 4000


def drawn_lines(output: str, count: int, *, columns: int = COLUMNS, rows: int = ROWS
                ) -> list[str]:
    """The last ``count`` lines a terminal shows after ``output`` (lines that scrolled off
    the top included), blank lines at the end dropped, each line inert."""
    if count <= 0:
        return []
    import pyte

    screen = pyte.HistoryScreen(columns, rows, history=count + rows)
    stream = pyte.Stream(screen)
    # Invisible characters other than controls (bidi overrides, zero-width ones) are
    # made visible before the emulator sees them (it would drop or combine them);
    # controls are its to interpret, and whatever else remains, display_text escapes.
    stream.feed("".join(escape_char(char) if is_unsafe(char) and not char < "\xa0"
                        else char for char in output))
    scrolled = ["".join(line[x].data for x in range(columns)) for line in screen.history.top]
    lines = [line.rstrip() for line in (*scrolled, *screen.display)]
    while lines and not lines[-1]:
        lines.pop()
    return [display_text(line, LINE_LIMIT) for line in lines[-count:]]


async def drawn_tail(runtime: Runtime, name: str, count: int) -> list[str]:
    """The last ``count`` lines sandbox ``name`` drew (see :func:`drawn_lines`), from
    its newest :data:`KEEP_BYTES` of output."""
    kept: deque[str] = deque()
    size = 0
    async with contextlib.aclosing(runtime.logs(name)) as lines:
        async for line in lines:
            kept.append(line)
            size += len(line) + 1
            while size > KEEP_BYTES and len(kept) > 1:
                size -= len(kept.popleft()) + 1
    # Each line ended in a newline on the sandbox's terminal, which made it "\r\n".
    return await asyncio.to_thread(drawn_lines, "\r\n".join(kept), count)
