"""The files of a diff, grouped by part (committed, uncommitted, untracked), each with its
status and +/− counts. Names are the repository's: escaped, never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wrapix_core.gitdiff.render import STATUS_MARK
from wrapix_tui import format as fmt

if TYPE_CHECKING:
    from wrapix_core.gitdiff.model import FileDiff

PART_TITLES = {"committed": "committed", "uncommitted": "uncommitted",
               "untracked": "untracked"}
_STATUS_STYLE = {"added": "green", "deleted": "red", "renamed": "yellow", "copied": "yellow",
                 "modified": "", "mode": "dim"}


class FileList(OptionList):
    """Option ids are ``f<index>`` (a file of ``Diff.files``) or ``part-<name>`` (a heading)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._positions: list[int] = []
        """Option index of each file, by file index."""
        self._files: dict[int, int] = {}
        """File index of each option index that is a file."""

    def set_files(self, files: list[FileDiff]) -> None:
        options: list[Option] = []
        self._positions, self._files = [], {}
        part = None
        for index, item in enumerate(files):
            if item.part != part:
                part = item.part
                options.append(Option(Text(f"── {PART_TITLES[part]} ──", style="bold"),
                                      id=f"part-{part}", disabled=True))
            self._files[len(options)] = index
            self._positions.append(len(options))
            options.append(Option(self.prompt(item), id=f"f{index}"))
        self.clear_options()
        self.add_options(options)

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

    @staticmethod
    def part_title(part: str) -> str:
        return PART_TITLES.get(part, part)

    def file_at(self, option_index: int) -> int | None:
        return self._files.get(option_index)

    def first_file(self) -> int | None:
        return 0 if self._positions else None

    def highlight_file(self, index: int) -> None:
        self.highlighted = self._positions[index]

    @property
    def selected_file(self) -> int | None:
        return None if self.highlighted is None else self._files.get(self.highlighted)

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
