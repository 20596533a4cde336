"""A diff's files (on the left) and one file's diff, drawn line by line: only the rows
on screen are ever styled.

A :class:`~textual.scroll_view.ScrollView` with ``render_line``: a 10,000-line file costs
its rows (numbered a hunk at a time, when first drawn) and the styling of the 40 on
screen, never 10,000 widgets or one 10,000-line renderable. Syntax highlighting (a
Pygments lexer chosen by the file's name) is lexed between frames for the rows shown and
the next page, cached, and dropped when the file changes.

The text is the repository's (an agent wrote it): every line goes through
:func:`~wrapix_core.notify.sanitize.display_text` (escapes and control characters shown,
not obeyed) and is drawn as segments, never parsed as markup.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click, MouseScrollDown, MouseScrollUp
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wrapix_core.notify.sanitize import display_text
from wrapix_tui.widgets.diff_files import FileList

log = logging.getLogger("wrapix.tui.diff")

if TYPE_CHECKING:
    from wrapix_core.gitdiff.model import FileDiff, Row

LINE_LIMIT = 2000
"""Characters of a line shown at most (minified files have megabyte lines)."""
TAB = 4
LIST_SHARE, LIST_MIN, LIST_MAX = 0.36, 24, 60
"""The file list's share of the width, and its bounds in columns."""
SEPARATOR = "▕"
PAN = 8
"""Columns a sideways scroll moves."""
AHEAD = 1
"""Pages below the screen coloured ahead (between frames), so paging finds them ready:
one is enough at a key repeat's pace (a page lexes in a few milliseconds), and more
would pile work on the frames just after a file is shown."""
CACHE_PAGES = 7
"""Styled rows kept, in screen heights (the window around the screen stays)."""
CHUNK = 12
"""Rows lexed between two yields to the event loop (about a millisecond's work)."""
_LEXED = ("add", "del", "context")

_BG = {"add": Style(bgcolor="#12351c"), "del": Style(bgcolor="#3d1418")}
_SIGN = {"add": "+", "del": "-", "context": " "}
_SIGN_STYLE = {"add": Style(color="green", bold=True), "del": Style(color="red", bold=True)}
_HUNK = Style(color="cyan", bold=True)
_NOTE = Style(color="bright_black", italic=True)
_GUTTER = Style(color="bright_black")
_CURSOR = Style(reverse=True)
_NONE = Style()


def _text(row: Row) -> str:
    """A row's text as drawn: tabs expanded, escapes shown, length bounded."""
    return display_text(row.text.expandtabs(TAB), LINE_LIMIT)


_LEXERS: dict[str, Any] = {}
"""Lexers by file name pattern, made ready (their rules compiled) by :func:`_warm`."""


def _lexer_key(path: str) -> str:
    """Files share a lexer by suffix (a long or missing one: by the whole name)."""
    name = path.rsplit("/", 1)[-1]
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    return f"x.{suffix}" if suffix and len(suffix) <= 10 else name


def _lexer(path: str) -> Any:
    """A ready Pygments lexer for ``path`` (by its name only; content is never sniffed),
    or None; call :func:`_warm` first."""
    return _LEXERS.get(_lexer_key(path))


def _warm(path: str) -> None:
    """Find ``path``'s lexer and compile its rules (an import and tens of milliseconds
    the first time for each kind of file: run in a thread, not between two frames)."""
    from pygments.lexers import get_lexer_for_filename  # type: ignore[import-untyped]
    from pygments.util import ClassNotFound  # type: ignore[import-untyped]

    key = _lexer_key(path)
    if key in _LEXERS:
        return
    try:
        lexer = get_lexer_for_filename(key, stripnl=False, ensurenl=False, stripall=False)
        list(lexer.get_tokens("x"))
    except ClassNotFound:
        lexer = None
    _theme()
    if len(_LEXERS) >= 64:
        _LEXERS.clear()
    _LEXERS[key] = lexer


@functools.cache
def _theme() -> Any:
    from rich.syntax import PygmentsSyntaxTheme

    return PygmentsSyntaxTheme("monokai")


class DiffView(ScrollView, can_focus=True):
    """The files of a diff (the :class:`~wrapix_tui.widgets.diff_files.FileList` drawn in
    the left columns) and the rows of the one shown, with a cursor row (what a comment
    is about). Keys act on the diff, or on the list after ``tab``; the scroll offset and
    bar are the diff's, the list scrolls on its own."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diffview--list-cursor", "diffview--list-cursor-blurred", "diffview--separator"}
    DEFAULT_CSS = """
    DiffView > .diffview--list-cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    DiffView > .diffview--list-cursor-blurred {
        background: $block-cursor-blurred-background;
    }
    DiffView > .diffview--separator {
        color: $panel-lighten-2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch", "Files/diff", show=False, id="diff.switch"),
        Binding("enter", "select", "Show", show=False, id="diff.files.select"),
        Binding("down,j", "move(1)", "Down", show=False, id="diff.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="diff.up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="diff.page_down"),
        Binding("pageup,b", "page(-1)", "Page up", show=False, id="diff.page_up"),
        Binding("home,g", "edge(False)", "Top", show=False, id="diff.top"),
        Binding("end,G", "edge(True)", "Bottom", show=False, id="diff.bottom"),
        Binding("right,l", "pan(1)", "Right", show=False, id="diff.right"),
        Binding("left,h", "pan(-1)", "Left", show=False, id="diff.left"),
    ]

    class CursorMoved(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    class FileHighlighted(Message):
        """The list's cursor moved onto file ``index`` (of ``Diff.files``)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class FileSelected(FileHighlighted):
        """File ``index`` was chosen in the list (enter, a click): keys go to the diff."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._base = Style()
        self.files = FileList()
        self.list_active = False
        """Whether keys act on the file list (else on the diff)."""
        self._list_styles = (Style(), Style(), Style())
        self.file: FileDiff | None = None
        self.rows: Sequence[Row] = []
        self.cursor = 0
        self._digits = 4
        self._lexer: bool | None = None
        """False once known that this file gets no syntax colours."""
        self._wanted: dict[int, tuple[str, str]] = {}
        """Rows drawn plain, waiting for their colours: index -> (kind, escaped text)."""
        self._highlighting = False
        self._cache: dict[int, list[Segment]] = {}
        self.shown_at = 0.0
        """perf_counter() when the file shown was first drawn (benchmarks, tests)."""
        self._fresh = False
        self.painted_at = 0.0
        """perf_counter() when a row was last drawn (benchmarks)."""

    # -- content --------------------------------------------------------------------

    def show(self, file: FileDiff | None, cursor: int = 0) -> None:
        """Show ``file`` (None: nothing) with the cursor on row ``cursor``."""
        self.file = file
        self.rows = file.rows if file is not None else []
        self._cache.clear()
        self._wanted = {}
        self._lexer = None if file is not None and not file.binary else False
        top = max((max(h.old_start + h.old_count, h.new_start + h.new_count)
                   for h in file.hunks), default=1) if file is not None else 1
        self._digits = max(3, len(str(top)))
        self.cursor = min(max(cursor, 0), max(len(self.rows) - 1, 0))
        self._set_virtual_size()
        self.scroll_to(0, max(0, self.cursor - self.size.height // 3), animate=False,
                       immediate=True)
        self._fresh = True
        self.refresh()

    def set_files(self, files: list[FileDiff]) -> None:
        """The diff's files, for the list (see :meth:`FileList.set_files`)."""
        self.files.set_files(files)
        self._refresh_list()

    def _set_virtual_size(self) -> None:
        longest = self.file.width if self.file is not None else 0
        width = self._gutter_width + min(longest + longest // 4, LINE_LIMIT) + 1
        self.virtual_size = Size(self.list_width + 1 + width, len(self.rows))

    def on_resize(self) -> None:
        files = self.files
        files.height = max(1, self.size.height)
        if files.cursor < files.height:  # the first page holds it: from the top (a heading)
            files.top = 0
        files.keep_visible()
        self._set_virtual_size()

    @property
    def list_width(self) -> int:
        """Columns of the file list (its blank edge included; the separator follows)."""
        width = self.size.width
        return max(0, min(max(LIST_MIN, round(width * LIST_SHARE)), LIST_MAX,
                          width - LIST_MIN))

    @property
    def _gutter_width(self) -> int:
        return 2 * self._digits + 4

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- drawing --------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per paint, not per line
        self._list_styles = (self.get_component_rich_style("diffview--list-cursor"),
                             self.get_component_rich_style("diffview--list-cursor-blurred"),
                             self._base + self.get_component_rich_style("diffview--separator"))
        self.files.height = max(1, self.size.height)
        self.files.has_focus = self.list_active and self.has_focus
        strips = super().render_lines(crop)
        if self._lexer is not False and not self._highlighting and (
                self._wanted or self._behind()):
            self._highlighting = True  # the rows drawn plain, then the next pages
            self.run_worker(self._colour(), group="diff.colour")
        return strips

    def _window(self) -> range:
        """Rows kept coloured: a page above the screen, the screen, AHEAD pages below."""
        top, height = round(self.scroll_y), max(1, self.size.height)
        return range(max(0, top - height), min(len(self.rows), top + (AHEAD + 1) * height))

    def _behind(self) -> bool:
        """Whether rows near the screen's edges still lack their colours."""
        window = self._window()
        return any(0 <= index < len(self.rows) and index not in self._cache
                   and self.rows[index].kind in _LEXED
                   for index in (window.start, window.stop - 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base
        listed = self.list_width
        cursor, blurred, separator = self._list_styles
        line = [*self.files.line(y, listed, base, cursor, blurred)]  # (kept: not extended)
        line.append(Segment(SEPARATOR, separator))
        line.extend(self._diff_line(y, width - listed - 1))
        strip = Strip(line, width)
        self.painted_at = time.perf_counter()
        if self._fresh and self.file is not None and y == self.size.height - 1:
            self._fresh = False
            self.shown_at = self.painted_at
        return strip

    def _diff_line(self, y: int, width: int) -> list[Segment]:
        """Line ``y`` of the diff: segments ``width`` cells wide."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        base = self._base
        if width <= 0:
            return []
        if index >= len(self.rows):
            return [Segment(" " * width, base)]
        row = self.rows[index]
        segments = self._cache.get(index)
        if segments is None:
            segments = self._plain(index, row)
        # the widget's colours under the row's own (rows carry none where they have no
        # colour of their own)
        line = self._gutter(row, index == self.cursor)
        size = len(line[0].text) + len(line[1].text)  # digits and signs: ASCII
        for segment in segments:
            line.append(Segment(segment.text, base + segment.style
                                if segment.style is not None else base))
            size += cell_len(segment.text)
        if scroll_x == 0 and size <= width:
            if size < width:
                line.append(Segment(" " * (width - size), base))
            return line
        return list(Strip(line, size).crop_extend(scroll_x, scroll_x + width, base))

    def _gutter(self, row: Row, cursor: bool) -> list[Segment]:
        digits = self._digits
        old = "" if row.old is None else str(row.old)
        new = "" if row.new is None else str(row.new)
        base = self._base
        style = base + (_GUTTER + _CURSOR if cursor else _GUTTER)
        sign = _SIGN.get(row.kind, " ")
        return [Segment(f"{old:>{digits}} {new:>{digits}} ", style),
                Segment(f"{sign} ", base + _SIGN_STYLE.get(row.kind, _GUTTER)
                        + _BG.get(row.kind, _NONE))]

    def _plain(self, index: int, row: Row) -> list[Segment]:
        """The row without syntax colours; kept when it never gets any, otherwise drawn
        now and coloured after the frame (the frame never waits for a lexer)."""
        text = _text(row)
        if row.kind == "hunk":
            segments = [Segment(text, _HUNK)]
        elif row.kind in ("note", "header"):
            segments = [Segment(text, _NOTE)]
        else:
            segments = [Segment(text, _BG.get(row.kind))]
            if self._lexer is not False:  # coloured after this frame (render_lines)
                self._wanted[index] = (row.kind, text)
                return segments
        self._remember(index, segments)
        return segments

    def _remember(self, index: int, segments: list[Segment]) -> None:
        if len(self._cache) >= CACHE_PAGES * max(1, self.size.height):
            window = self._window()  # bounded: what is near the screen stays
            self._cache = {row: kept for row, kept in self._cache.items() if row in window}
        self._cache[index] = segments

    async def _colour(self) -> None:
        """Colour the rows drawn plain, then the rows near the screen, a few at a time on
        the UI thread, yielding between chunks: a frame or a key waits for one chunk at
        most (a lexing thread would hold the GIL the frames need for 5 ms at a time).
        The screen is redrawn once the rows on it have their colours."""
        try:
            while True:  # the file shown now (another may be shown between chunks)
                file = self.file
                if file is None or self._lexer is False:
                    break
                if _lexer_key(file.path) not in _LEXERS:
                    await asyncio.to_thread(_warm, file.path)
                    continue
                chunk = self._next_chunk()
                if not chunk:
                    break
                done, has_lexer = self._lex_rows(file, chunk)
                top, height = round(self.scroll_y), self.size.height
                redraw = False  # only rows on screen that were drawn plain need it
                for index, segments in done.items():
                    self._remember(index, segments)
                    if self._wanted.pop(index, None) is not None:
                        redraw = redraw or top <= index < top + height
                if not has_lexer:
                    self._lexer = False
                if redraw and not any(top <= index < top + height for index in self._wanted):
                    self.refresh()  # the rows on screen are all coloured now
                await asyncio.sleep(0)
        finally:
            self._highlighting = False

    def _next_chunk(self) -> dict[int, tuple[str, str]]:
        """Up to CHUNK rows to colour: those drawn plain first, then the window's."""
        chunk = dict(itertools.islice(self._wanted.items(), CHUNK))
        if len(chunk) < CHUNK:
            rows = self.rows
            window = self._window()
            top = round(self.scroll_y)  # the screen and below first, the page above last
            for index in itertools.chain(range(max(top, window.start), window.stop),
                                         range(window.start, max(top, window.start))):
                if index not in self._cache and index not in chunk \
                        and rows[index].kind in _LEXED:
                    chunk[index] = (rows[index].kind, _text(rows[index]))
                    if len(chunk) == CHUNK:
                        break
        return chunk

    def _lex_rows(self, file: FileDiff, wanted: dict[int, tuple[str, str]]
                  ) -> tuple[dict[int, list[Segment]], bool]:
        lexer = _lexer(file.path)
        theme = _theme()
        done: dict[int, list[Segment]] = {}
        for index, (kind, text) in wanted.items():
            background = _BG.get(kind)
            if lexer is None:
                done[index] = [Segment(text, background)]
                continue
            segments = []
            try:
                for token, value in lexer.get_tokens(text):
                    if value:
                        style = theme.get_style_for_token(token)
                        segments.append(Segment(value.replace("\n", ""),
                                                style + background if background else style))
            except Exception:  # a lexer's bug: the row stays uncoloured, the app stays up
                log.exception("highlighting %s failed", file.path)
                segments = [Segment(text, background)]
            done[index] = segments
        return done, lexer is not None

    # -- moving ---------------------------------------------------------------------

    def move_to(self, row: int, *, top: bool = False) -> None:
        """Put the cursor on ``row`` and bring it into view (at the top with ``top``)."""
        if not self.rows:
            return
        old = self.cursor
        self.cursor = min(max(row, 0), len(self.rows) - 1)
        height = max(1, self.size.height)
        scroll_y = round(self.scroll_y)
        if top:
            self.scroll_to(y=max(0, self.cursor - 1), animate=False, immediate=True)
        elif self.cursor < scroll_y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= scroll_y + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self._refresh_row(old)
        self._refresh_row(self.cursor)
        if old != self.cursor:
            self.post_message(self.CursorMoved(self.cursor))

    def _refresh_row(self, row: int) -> None:
        scroll_y = round(self.scroll_y)
        if scroll_y <= row < scroll_y + self.size.height:
            self.refresh(Region(0, row - scroll_y, self.size.width, 1))

    def action_move(self, step: int) -> None:
        if self.list_active:
            self._list(lambda: self.files.move(step))
        else:
            self.move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        if self.list_active:
            self._list(lambda: self.files.move(step * max(1, self.files.height - 1)))
            return
        height = max(1, self.size.height - 1)
        self.scroll_to(y=round(self.scroll_y) + step * height, animate=False, immediate=True)
        self.move_to(self.cursor + step * height)

    def action_pan(self, step: int) -> None:
        """Long lines: scroll sideways (there is no horizontal scroll bar to drag)."""
        self.scroll_to(x=max(0, round(self.scroll_x) + step * PAN), animate=False,
                       immediate=True)

    def action_edge(self, end: bool) -> None:
        if self.list_active:
            self._list(lambda: self.files.edge(end))
        else:
            self.move_to(len(self.rows) - 1 if end else 0)

    def action_switch(self) -> None:
        """Keys to the file list, or back to the diff."""
        self.list_active = not self.list_active
        self._refresh_list()

    def action_select(self) -> None:
        index = self.files.selected_file
        if self.list_active and index is not None:
            self.list_active = False
            self._refresh_list()
            self.post_message(self.FileSelected(index))

    def _list(self, move: Callable[[], None]) -> None:
        """Move in the list; the file under its cursor is announced (and shown)."""
        before = self.files.cursor
        move()
        self._refresh_list()
        index = self.files.selected_file
        if self.files.cursor != before and index is not None:
            self.post_message(self.FileHighlighted(index))

    def _refresh_list(self) -> None:
        self.refresh(Region(0, 0, self.list_width + 1, max(1, self.size.height)))

    def on_focus(self) -> None:
        self._refresh_list()

    def on_blur(self) -> None:
        self._refresh_list()

    def on_click(self, event: Click) -> None:
        if event.x <= self.list_width:  # the list: a file shows, a heading does nothing
            row = self.files.top + event.y
            index = self.files.file_at(row)
            if index is not None:
                self.files.cursor = row
                self._refresh_list()
                self.post_message(self.FileSelected(index))
        elif self.rows:
            self.move_to(round(self.scroll_y) + event.y)

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        if event.x <= self.list_width:
            event.prevent_default()
            self.files.scroll(3)
            self._refresh_list()

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        if event.x <= self.list_width:
            event.prevent_default()
            self.files.scroll(-3)
            self._refresh_list()

    def hunk_rows(self) -> list[int]:
        return [hunk.row for hunk in self.file.hunks] if self.file is not None else []
