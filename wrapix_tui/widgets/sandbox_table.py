"""The sandbox table: rows diffed into a DataTable, never rebuilt.

:meth:`SandboxTable.show` adds, removes and updates only the cells that changed. Cells
that change by themselves (uptime, CPU, memory: :data:`VOLATILE`) are updated only for
rows on screen (and for the sort column); an off-screen row catches up when it is
scrolled into view (the pane shows the rows again on scroll). A column is re-measured
only when a cell outgrows it. :meth:`SandboxTable.cell` reads a cell as drawn (tests).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from wrapix_tui.sandbox_rows import COLUMNS, SandboxRow

VOLATILE = frozenset({"uptime", "cpu", "mem"})
"""Columns whose cells change by themselves (time passing, stats samples)."""

INDEX = {key: index for index, (key, _label) in enumerate(COLUMNS)}


class SandboxTable(DataTable[Any]):
    def __init__(self) -> None:
        super().__init__(id="sandbox-table", cursor_type="row")
        self._cells: dict[str, tuple[Any, ...]] = {}
        """The cells drawn per name, in the order the rows were added."""
        self._inputs: dict[str, SandboxRow] = {}
        """The row each name's cells were last built from."""
        self._sort_values: dict[str, Any] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    # -- reading ------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The names shown, in the order their rows were added (not the sort order)."""
        return list(self._cells)

    def shows(self, name: str) -> bool:
        return name in self._cells

    def cell(self, name: str, column: str) -> Any:
        """The cell of ``name`` in ``column`` (a key of :data:`COLUMNS`) as drawn: a
        ``str`` or a :class:`~rich.text.Text`; KeyError if the row is not shown."""
        return self._cells[name][INDEX[column]]

    def current(self) -> str | None:
        """The name under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(row_key.value)

    def visible_range(self) -> tuple[int, int]:
        """The row indexes on screen: ``first <= index < last``."""
        first = int(self.scroll_offset.y)
        header = 1 if self.show_header else 0
        return first, first + max(0, self.scrollable_content_region.height - header)

    def visible_names(self) -> list[str]:
        first, last = self.visible_range()
        return [str(row.key.value) for row in self.ordered_rows[first:last]]

    # -- moving -------------------------------------------------------------------------

    def move_to(self, name: str) -> None:
        self.move_cursor(row=self.get_row_index(name), animate=False)

    def move_down(self) -> None:
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1, animate=False)

    # -- drawing ------------------------------------------------------------------------

    def show(self, rows: list[SandboxRow], sort_column: str, sort_reverse: bool) -> None:
        """Diff ``rows`` against the table (see the module docstring)."""
        wanted = {row.name for row in rows}
        for name in [name for name in self._cells if name not in wanted]:
            self.remove_row(name)
            del self._cells[name]
            self._inputs.pop(name, None)
        resort = False
        sort_index = INDEX[sort_column]
        self._sort_values = {row.name: row.sort_value(sort_column) for row in rows}
        first, last = self.visible_range()
        volatile_sort = sort_column in VOLATILE
        inputs = self._inputs
        for row in rows:
            old = self._cells.get(row.name)
            before = inputs.get(row.name)
            if (old is not None and before is not None and not volatile_sort
                    and before.info is row.info and before.counts == row.counts
                    and before.denied == row.denied
                    and before.proxy_down == row.proxy_down
                    and before.marked == row.marked and before.pending == row.pending
                    and not first <= self.get_row_index(row.name) < last):
                continue  # off screen and only time or stats moved: nothing to build
            inputs[row.name] = row
            cells = row.cells()
            if old is None:
                self.add_row(*cells, key=row.name)
                resort = True
                self._cells[row.name] = cells
                continue
            changed = [index for index in range(len(COLUMNS)) if cells[index] != old[index]]
            if not changed:
                continue
            if all(COLUMNS[index][0] in VOLATILE and index != sort_index
                   for index in changed) and not first <= self.get_row_index(row.name) < last:
                continue  # off screen: drawn when it scrolls into view
            for index in changed:
                key = COLUMNS[index][0]
                value = cells[index]
                width = value.cell_len if isinstance(value, Text) else cell_len(str(value))
                grows = width > self.columns[ColumnKey(key)].content_width
                self.update_cell(row.name, key, value, update_width=grows)
                resort = resort or index == sort_index
            self._cells[row.name] = cells
        if resort:
            self.apply_sort(sort_reverse)

    def apply_sort(self, reverse: bool) -> None:
        """Order the rows by the sort values of the last :meth:`show`; the cursor stays
        on its sandbox."""
        values = self._sort_values

        def key(mark_cell: Any) -> Any:
            name = mark_cell.key
            return (values.get(name), name)

        cursor = self.current()
        self.sort("mark", key=key, reverse=reverse)
        if cursor is not None and cursor in self._cells:
            self.move_to(cursor)
