"""The files of a diff, grouped by part (committed, uncommitted, untracked), each with its
status and +/− counts. Names are the repository's: escaped, never markup.

A :class:`~wrapix_tui.widgets.rowlist.RowList` (only the rows on screen are drawn): the
diff screen's first frame must not pay for measuring and styling every option, as an
``OptionList`` of 40 files did (most of that frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.strip import Strip

from wrapix_core.gitdiff.render import STATUS_MARK
from wrapix_tui import format as fmt
from wrapix_tui.widgets.rowlist import RowList

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


class FileList(RowList[FileRow]):
    """The cursor row is the file shown; headings are stepped over."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Show", show=False, id="diff.files.select"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._positions: list[int] = []
        """Row of each file, by file index."""

    def set_files(self, files: list[FileDiff]) -> None:
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
        self.set_rows(rows)

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

    def render_row(self, row: FileRow, width: int) -> Text:
        text = Text(no_wrap=True, end="")
        for part, style in row.parts:
            text.append(part, style)
        return text

    def _render_strip(self, row: FileRow, width: int, base: Style, selected: bool,
                      focused: bool) -> Strip:
        """The row's segments made directly (no ``Text`` to lay out: the diff screen's
        first frame draws every row of the list), cut with an ellipsis at ``width``."""
        self.renders += 1
        over = None
        if selected:
            over = self.get_component_rich_style(
                "rowlist--cursor" if focused else "rowlist--cursor-blurred")
        segments = []
        room = width
        for text, style in row.parts:
            style = base + style
            if over is not None:
                style += over
            size = cell_len(text)
            if size > room:
                text = set_cell_size(text, room - 1) + "…" if room > 0 else ""
                segments.append(Segment(text, style))
                room = 0
                break
            segments.append(Segment(text, style))
            room -= size
        if room > 0:
            segments.append(Segment(" " * room, base + over if over is not None else base))
        return Strip(segments, width)

    def row_text(self, row: int) -> str:
        """The plain text of row ``row`` (tests)."""
        return self.rows[row].plain

    @staticmethod
    def part_title(part: str) -> str:
        return PART_TITLES.get(part, part)

    # -- files ----------------------------------------------------------------------

    def file_at(self, row: int) -> int | None:
        return self.rows[row].index if 0 <= row < len(self.rows) else None

    def first_file(self) -> int | None:
        return 0 if self._positions else None

    def highlight_file(self, index: int) -> None:
        self.cursor = self._positions[index]

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

    # -- keys -----------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        """Move by ``delta`` rows, onto the nearest file that way (headings are skipped)."""
        if not self._positions:
            return
        target = max(0, min(len(self.rows) - 1, self.cursor + delta))
        step = 1 if delta > 0 else -1
        while 0 <= target < len(self.rows) and self.rows[target].index is None:
            target += step
        if not 0 <= target < len(self.rows):  # only headings that way: the file at that end
            target = self._positions[0 if step < 0 else -1]
        if target != self.cursor:
            self.cursor = target

    def action_edge(self, direction: int) -> None:
        if self._positions:
            self.cursor = self._positions[0 if direction < 0 else -1]

    def action_select(self) -> None:
        row = self.current
        if row is not None and row.index is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: Any) -> None:
        if self.file_at(self.scroll_offset.y + event.y) is None:
            event.stop()  # a heading: nothing to show
            return
        super().on_click(event)
