"""The files of a diff, grouped by part (committed, uncommitted, untracked), each with its
status and +/− counts. Names are the repository's: escaped, never markup.

Drawn line by line from segments made once per file (a ``ScrollView`` with
``render_line``): the diff screen's first frame must not pay for a widget per option or
for measuring each option's wrapped height (an ``OptionList`` of 40 files cost most of
that frame).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wrapix_core.gitdiff.render import STATUS_MARK
from wrapix_core.notify.sanitize import display_text

if TYPE_CHECKING:
    from wrapix_core.gitdiff.model import FileDiff

PART_TITLES = {"committed": "committed", "uncommitted": "uncommitted",
               "untracked": "untracked"}
_STATUS_STYLE = {"added": Style(color="green"), "deleted": Style(color="red"),
                 "renamed": Style(color="yellow"), "copied": Style(color="yellow"),
                 "modified": Style(), "mode": Style(dim=True)}
_HEADING = Style(bold=True)
_ADDED = Style(color="green")
_REMOVED = Style(color="red")
_DIM = Style(dim=True)
_CURSOR = Style(reverse=True)
_CURSOR_BLURRED = Style(bold=True, bgcolor="grey23")


class FileList(ScrollView, can_focus=True):
    """One row per file (``file_at(row)`` gives its index in ``Diff.files``) under a
    heading row per part; the highlighted row is the file shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False, id="diff.files.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="diff.files.up"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="diff.files.page_down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="diff.files.page_up"),
        Binding("home", "edge(False)", "First", show=False, id="diff.files.first"),
        Binding("end", "edge(True)", "Last", show=False, id="diff.files.last"),
        Binding("enter", "select", "Show", show=False, id="diff.files.select"),
    ]

    class Highlighted(Message):
        """The person moved to another file (by key or click)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Selected(Message):
        """``enter`` (or a click) on a file: show it and go to its diff."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._base = Style()
        self._rows: list[tuple[int | None, list[Segment]]] = []
        """(file index or None for a heading, the row's segments)."""
        self._positions: list[int] = []
        """Row of each file, by file index."""
        self.highlighted: int | None = None
        """The highlighted row."""

    def set_files(self, files: list[FileDiff]) -> None:
        rows: list[tuple[int | None, list[Segment]]] = []
        self._positions = []
        part = None
        for index, item in enumerate(files):
            if item.part != part:
                part = item.part
                rows.append((None, [Segment(f"── {PART_TITLES[part]} ──", _HEADING)]))
            self._positions.append(len(rows))
            rows.append((index, self.prompt(item)))
        self._rows = rows
        self.highlighted = None
        width = max((sum(len(segment.text) for segment in row) for _, row in rows), default=0)
        self.virtual_size = Size(width + 1, len(rows))
        self.refresh()

    @staticmethod
    def prompt(item: FileDiff) -> list[Segment]:
        """Status, +/− (or ``bin``) and the name (``old → new`` for a rename), escaped."""
        segments = [Segment(STATUS_MARK[item.status] + " ", _STATUS_STYLE[item.status])]
        if item.binary:
            segments.append(Segment("bin ", _DIM))
        else:
            segments.append(Segment(f"+{item.added}", _ADDED))
            segments.append(Segment(f" -{item.removed} ", _REMOVED))
        name = display_text(item.path, 300)
        if item.old_path and item.old_path != item.path:
            name = f"{display_text(item.old_path, 150)} → {name}"
        segments.append(Segment(name))
        return segments

    def row_text(self, row: int) -> str:
        """The plain text of row ``row`` (tests)."""
        return "".join(segment.text for segment in self._rows[row][1])

    @staticmethod
    def part_title(part: str) -> str:
        return PART_TITLES.get(part, part)

    # -- drawing --------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per paint, not per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self._base
        if index >= len(self._rows):
            return Strip.blank(width, base)
        segments = self._rows[index][1]
        if index == self.highlighted:
            cursor = _CURSOR if self.has_focus else _CURSOR_BLURRED
            segments = [Segment(segment.text, (segment.style or Style()) + cursor)
                        for segment in segments]
            segments.append(Segment(" " * width, cursor))
        return Strip(segments).apply_style(base).crop_extend(scroll_x, scroll_x + width, base)

    def _refresh_row(self, row: int | None) -> None:
        if row is None:
            return
        scroll_y = round(self.scroll_y)
        if scroll_y <= row < scroll_y + self.size.height:
            self.refresh(Region(0, row - scroll_y, self.size.width, 1))

    def on_focus(self) -> None:
        self._refresh_row(self.highlighted)

    def on_blur(self) -> None:
        self._refresh_row(self.highlighted)

    # -- files ----------------------------------------------------------------------

    def file_at(self, row: int) -> int | None:
        return self._rows[row][0] if 0 <= row < len(self._rows) else None

    def first_file(self) -> int | None:
        return 0 if self._positions else None

    def highlight_file(self, index: int) -> None:
        old, self.highlighted = self.highlighted, self._positions[index]
        self._refresh_row(old)
        row = self.highlighted
        scroll_y = round(self.scroll_y)
        height = max(1, self.size.height)
        if row < scroll_y:
            self.scroll_to(y=max(0, row - 1), animate=False, immediate=True)
        elif row >= scroll_y + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        self._refresh_row(row)

    @property
    def selected_file(self) -> int | None:
        return None if self.highlighted is None else self.file_at(self.highlighted)

    def step_file(self, step: int) -> int | None:
        """Highlight the next (``step`` 1) or previous (-1) file; its index, or None at an end."""
        current = self.selected_file
        if current is None:
            return None
        index = current + step
        if not 0 <= index < len(self._positions):
            return None
        self.highlight_file(index)
        return index

    # -- keys and mouse -------------------------------------------------------------

    def _go(self, index: int) -> None:
        index = min(max(index, 0), len(self._positions) - 1)
        if index != self.selected_file:
            self.highlight_file(index)
            self.post_message(self.Highlighted(index))

    def action_move(self, step: int) -> None:
        current = self.selected_file
        if current is not None:
            self._go(current + step)

    def action_edge(self, end: bool) -> None:
        if self._positions:
            self._go(len(self._positions) - 1 if end else 0)

    def action_select(self) -> None:
        current = self.selected_file
        if current is not None:
            self.post_message(self.Selected(current))

    def on_click(self, event: events.Click) -> None:
        index = self.file_at(round(self.scroll_y) + event.y)
        if index is not None:
            event.stop()
            self._go(index)
            self.post_message(self.Selected(index))
