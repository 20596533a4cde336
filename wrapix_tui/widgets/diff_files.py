"""The files of a diff, grouped by part (committed, uncommitted, untracked), each with its
status and +/− counts. Names are the repository's: escaped, never markup.

A :class:`~wrapix_tui.widgets.rowlist.RowList` (only the rows on screen are drawn): the
diff screen's first frame must not pay for measuring and styling every option, as an
``OptionList`` of 40 files did (most of that frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from wrapix_core.gitdiff.render import STATUS_MARK
from wrapix_tui import format as fmt
from wrapix_tui.widgets.rowlist import RowList

if TYPE_CHECKING:
    from wrapix_core.gitdiff.model import FileDiff

PART_TITLES = {"committed": "committed", "uncommitted": "uncommitted",
               "untracked": "untracked"}
_STATUS_STYLE = {"added": "green", "deleted": "red", "renamed": "yellow", "copied": "yellow",
                 "modified": "", "mode": "dim"}


@dataclass(frozen=True, eq=False)
class FileRow:
    """A file (``index`` in ``Diff.files``) or a part's heading (``index`` None)."""

    key: str
    index: int | None
    text: Text


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
                                    Text(f"── {PART_TITLES[part]} ──", style="bold")))
            self._positions.append(len(rows))
            rows.append(FileRow(f"f{index}", index, self.prompt(item)))
        self.set_rows(rows)

    @staticmethod
    def prompt(item: FileDiff) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(STATUS_MARK[item.status] + " ", style=_STATUS_STYLE[item.status])
        if item.binary:
            text.append("bin ", style="dim")
        else:
            text.append(f"+{item.added}", style="green")
            text.append(f" -{item.removed} ", style="red")
        name = fmt.safe(item.path, 300)
        if item.old_path and item.old_path != item.path:
            name = fmt.safe(item.old_path, 150) + Text(" → ") + name
        return text + name

    def render_row(self, row: FileRow, width: int) -> Text:
        return row.text.copy()  # the caller truncates it in place

    def row_text(self, row: int) -> str:
        """The plain text of row ``row`` (tests)."""
        return self.rows[row].text.plain

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
