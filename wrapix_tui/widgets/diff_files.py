"""The files of a diff, grouped by part (committed, uncommitted, untracked), each with its
status and +/− counts. Names are the repository's: escaped, never markup.

Not a widget: the list is drawn in the left columns of the
:class:`~wrapix_tui.widgets.diff_view.DiffView` that shows the selected file. Each widget
on a screen costs its mount, styles, layout and compositing on every full frame (a list
widget beside the view was a third of the diff screen's first frame); a pane costs the
segments of the rows on screen. Only visible rows are drawn, each once per width and
cursor state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from wrapix_core.gitdiff.render import STATUS_MARK
from wrapix_tui import format as fmt

if TYPE_CHECKING:
    from wrapix_core.gitdiff.model import FileDiff

PART_TITLES = {"committed": "committed", "uncommitted": "uncommitted",
               "untracked": "untracked"}
_STATUS_STYLE = {"added": Style(color="green"), "deleted": Style(color="red"),
                 "renamed": Style(color="yellow"), "copied": Style(color="yellow"),
                 "modified": Style(), "mode": Style(dim=True)}
_PLAIN, _BOLD, _DIM = Style(), Style(bold=True), Style(dim=True)
_ADDED, _REMOVED = Style(color="green"), Style(color="red")


@dataclass(frozen=True, eq=False)
class FileRow:
    """A file (``index`` in ``Diff.files``) or a part's heading (``index`` None), as
    the pieces of its line: (text, style), the text already inert."""

    key: str
    index: int | None
    parts: tuple[tuple[str, Style], ...]

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.parts)


class FileList:
    """The rows, the cursor (the file shown; headings are stepped over) and the first
    row on screen. ``height`` is set by the view that draws the list."""

    def __init__(self) -> None:
        self.rows: list[FileRow] = []
        self.cursor = 0
        self.top = 0
        self.height = 1
        self.has_focus = False
        """Whether the list is the part of the view keys act on (set by the view)."""
        self._positions: list[int] = []
        """Row of each file, by file index."""
        self._drawn: dict[tuple[int, int, Style, Style | None], list[Segment]] = {}

    def set_files(self, files: list[FileDiff]) -> None:
        """The files of a diff; the cursor stays on the same file index (the list only
        grows while a diff is read) or goes to the first file."""
        selected = self.selected_file
        rows: list[FileRow] = []
        self._positions = []
        part = None
        for index, item in enumerate(files):
            if item.part != part:
                part = item.part
                rows.append(FileRow(f"part-{part}", None,
                                    ((f"── {PART_TITLES[part]} ──", _BOLD),)))
            self._positions.append(len(rows))
            rows.append(FileRow(f"f{index}", index, self.prompt(item)))
        self.rows = rows
        self._drawn.clear()
        if selected is not None and selected < len(self._positions):
            self.cursor = self._positions[selected]
        else:
            self.cursor = self._positions[0] if self._positions else 0
        self.keep_visible()

    @staticmethod
    def prompt(item: FileDiff) -> tuple[tuple[str, Style], ...]:
        parts = [(STATUS_MARK[item.status] + " ", _STATUS_STYLE[item.status])]
        if item.binary:
            parts.append(("bin ", _DIM))
        else:
            parts += [(f"+{item.added}", _ADDED), (f" -{item.removed} ", _REMOVED)]
        if item.old_path and item.old_path != item.path:
            parts.append((fmt.plain(item.old_path, 150) + " → ", _PLAIN))
        parts.append((fmt.plain(item.path, 300), _PLAIN))
        return tuple(parts)

    def row_text(self, row: int) -> str:
        """The plain text of row ``row`` (tests)."""
        return self.rows[row].plain

    @staticmethod
    def part_title(part: str) -> str:
        return PART_TITLES.get(part, part)

    # -- drawing --------------------------------------------------------------------

    def line(self, y: int, width: int, base: Style, cursor: Style,
             blurred: Style) -> list[Segment]:
        """Line ``y`` of the list on screen: segments ``width`` cells wide, the row cut
        with an ellipsis; the cursor row styled ``cursor`` (``blurred`` while the keys
        act on the diff)."""
        index = self.top + y
        if width <= 0:
            return []
        if not 0 <= index < len(self.rows):
            return [Segment(" " * width, base)]
        selected = index == self.cursor
        over = (cursor if self.has_focus else blurred) if selected else None
        key = (index, width, base, over)  # (the styles too: a theme can change)
        drawn = self._drawn.get(key)
        if drawn is not None:
            return drawn
        segments = []
        room = width - 1  # a blank column before the view's separator
        for text, own in self.rows[index].parts:
            style = base + own
            if over is not None:
                style += over
            size = cell_len(text)
            if size > room:
                segments.append(Segment(set_cell_size(text, room - 1) + "…" if room > 0
                                        else "", style))
                room = 0
                break
            segments.append(Segment(text, style))
            room -= size
        fill = base + over if over is not None else base
        segments.append(Segment(" " * (room + 1), fill))
        self._drawn[key] = segments
        return segments

    # -- files ----------------------------------------------------------------------

    @property
    def current(self) -> FileRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def file_at(self, row: int) -> int | None:
        return self.rows[row].index if 0 <= row < len(self.rows) else None

    def first_file(self) -> int | None:
        return 0 if self._positions else None

    def highlight_file(self, index: int) -> None:
        self.cursor = self._positions[index]
        self.keep_visible()

    @property
    def selected_file(self) -> int | None:
        row = self.current
        return None if row is None else row.index

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

    # -- moving -----------------------------------------------------------------------

    def move(self, delta: int) -> None:
        """Move by ``delta`` rows, onto the nearest file that way (headings are skipped)."""
        if not self._positions:
            return
        target = max(0, min(len(self.rows) - 1, self.cursor + delta))
        step = 1 if delta > 0 else -1
        while 0 <= target < len(self.rows) and self.rows[target].index is None:
            target += step
        if not 0 <= target < len(self.rows):  # only headings that way: the file at that end
            target = self._positions[0 if step < 0 else -1]
        self.cursor = target
        self.keep_visible()

    def edge(self, end: bool) -> None:
        if self._positions:
            self.cursor = self._positions[-1 if end else 0]
            self.keep_visible()

    def scroll(self, delta: int) -> None:
        self.top = max(0, min(self.top + delta, len(self.rows) - self.height))

    def keep_visible(self) -> None:
        height = max(1, self.height)
        if self.cursor < self.top:
            self.top = max(0, self.cursor - (1 if self.cursor else 0))
        elif self.cursor >= self.top + height:
            self.top = self.cursor - height + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - height)))
