"""The Inbox pane: notifications newest first, live, with read state.

Fed by :func:`wrapix_core.notify.follow.follow_inbox` (a file follower, plus the hosted
daemon's ``subscribe()`` stream when this app hosts it). Titles and messages come from
inside sandboxes: they are shown only through :func:`wrapix_tui.format.safe`.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable

from wrapix_core.errors import WrapixError
from wrapix_tui import format as fmt
from wrapix_tui.inbox_model import Changes, InboxModel
from wrapix_tui.messages import (
    AnswerQuestion,
    InboxChanged,
    InboxCounts,
    JumpToSandbox,
    Problem,
)
from wrapix_tui.widgets.pane import Pane
from wrapix_tui.worker_failures import Failure

if TYPE_CHECKING:
    from wrapix_core.notify.inbox import Entry
    from wrapix_core.settings import Settings

COLUMNS = (("unread", " "), ("title", "title"), ("message", "message"),
           ("sandbox", "sandbox"), ("age", "age"), ("popup", "popup"))
FILE_STEP = 10
"""watchfiles step (ms) for the inbox file when another process's daemon writes it."""
FILE_STEP_HOSTED = 50
"""The same when this app hosts the daemon (new entries come from memory)."""
AGE_INTERVAL = 15.0
"""Seconds between age updates of visible rows (ages are shown in minutes or coarser)."""
POPUP_STYLE = {"shown": "", "suppressed": "dim", "skipped": "dim"}


class InboxPane(Pane):
    MAIN = "#inbox-table"
    NOTE = "#inbox-note"
    FAILURES: ClassVar[dict[str, Failure]] = {
        "inbox.follow": Failure("the inbox stopped updating", source="inbox")}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "jump", "Go to sandbox", id="inbox.jump"),
        Binding("r", "mark_read", "Mark read", id="inbox.read"),
        Binding("R", "mark_all_read", "All read", id="inbox.read_all"),
    ]

    unread: reactive[int] = reactive(0)
    """Unread notifications (the title says how many)."""

    def __init__(self) -> None:
        super().__init__("inbox", note="Starting the notification inbox…")
        self.model = InboxModel()
        self.settings: Settings | None = None
        self.following = False
        self._pending = Changes()
        self._render_scheduled = False
        self._shown: dict[int, tuple[Any, ...]] = {}
        self._store: Any = None
        self.shown_at: dict[int, float] = {}
        """perf_counter() when each entry's row was first drawn (the P5 benchmark)."""

    def compose(self) -> ComposeResult:
        yield DataTable(id="inbox-table", cursor_type="row")
        yield self.compose_note("inbox-note")

    def on_mount(self) -> None:
        table = self.table
        for key, label in COLUMNS:
            width = {"title": 24, "message": 40}.get(key)
            table.add_column(label, key=key, width=width)
        self.set_interval(AGE_INTERVAL, self._update_ages)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#inbox-table", DataTable)

    # -- following ------------------------------------------------------------------

    @work(exclusive=True, group="inbox.follow", exit_on_error=False)
    async def follow(self, settings: Settings, live: AsyncIterator[Any] | None) -> None:
        """The inbox file (and the hosted daemon's live stream), until the app ends."""
        from wrapix_core.notify.follow import follow_inbox
        from wrapix_core.notify.inbox import InboxStore

        self.settings = settings
        self._store = InboxStore(limit=settings.notify.inbox_limit)
        try:
            # Hosting the daemon, new entries arrive from memory; the file is watched only
            # for read marks from other tools, so its watcher may wake less often (idle
            # CPU: ~0.4% of a core at watchfiles' 10 ms step, ~0.1% at 50 ms).
            step = FILE_STEP_HOSTED if live is not None else FILE_STEP
            async with contextlib.aclosing(follow_inbox(self._store, live=live,
                                                        step_ms=step)) as events:
                self.following = True
                async for event in events:
                    self.post_message(InboxChanged([event]))
        except WrapixError as exc:
            self.post_message(Problem(exc, source="inbox"))
        finally:
            self.following = False

    def on_inbox_changed(self, message: InboxChanged) -> None:
        """Fold at once; draw once per burst (the callback runs after queued messages)."""
        changes = self.model.apply(message.events)
        pending = self._pending
        if changes.reset:
            self._pending = pending = Changes(reset=True)
        else:
            pending.added |= changes.added
            pending.updated |= changes.updated - pending.added
            pending.dropped |= changes.dropped
            pending.added -= changes.dropped
        if not self._render_scheduled:
            self._render_scheduled = True
            self.call_later(self._render_pending)

    def _render_pending(self) -> None:
        self._render_scheduled = False
        changes, self._pending = self._pending, Changes()
        table = self.table
        now = self.wrapix_app.now()
        if changes.reset:
            cursor = self.current()
            table.clear()
            self._shown.clear()
            for ident in sorted(self.model.entries, reverse=True):
                self._add(ident, now)
            if cursor is not None and cursor in self._shown:
                table.move_cursor(row=table.get_row_index(str(cursor)), animate=False)
        else:
            for ident in changes.dropped:
                if self._shown.pop(ident, None) is not None:
                    table.remove_row(str(ident))
            for ident in changes.updated:
                self._update(ident, now)
            if changes.added:
                for ident in sorted(changes.added):
                    if ident in self.model.entries and ident not in self._shown:
                        self._add(ident, now)
                self._sort()
                self.call_after_refresh(self._stamp, sorted(changes.added))
        self._after_change()

    def _stamp(self, idents: list[int]) -> None:
        now = time.perf_counter()
        for ident in idents:
            self.shown_at.setdefault(ident, now)
        if len(self.shown_at) > 1000:  # only recent ones matter
            for ident in sorted(self.shown_at)[:500]:
                del self.shown_at[ident]

    def shown(self) -> list[int]:
        """The ids of the notifications shown (in the order their rows were added)."""
        return list(self._shown)

    def cell(self, ident: int, column: str) -> Any:
        """The cell of notification ``ident`` in ``column`` (a key of :data:`COLUMNS`)
        as drawn; KeyError if it is not shown."""
        return self._shown[ident][[key for key, _label in COLUMNS].index(column)]

    def _cells(self, entry: Entry, now: datetime) -> tuple[Any, ...]:
        unread = not entry.read
        style = "bold" if unread else ""
        return (
            fmt.Keyed("●" if unread else "", entry.id, style="bold yellow"),
            fmt.safe(entry.title, 120, style=style),
            fmt.safe(entry.message, 200),
            fmt.safe(entry.sandbox or "-", 63),
            fmt.coarse_age((now - entry.time).total_seconds()),
            Text(entry.popup, style=POPUP_STYLE.get(entry.popup, "")),
        )

    def _add(self, ident: int, now: datetime) -> None:
        cells = self._cells(self.model.entries[ident], now)
        self.table.add_row(*cells, key=str(ident))
        self._shown[ident] = cells

    def _update(self, ident: int, now: datetime) -> None:
        entry = self.model.entries.get(ident)
        old = self._shown.get(ident)
        if entry is None or old is None:
            return
        cells = self._cells(entry, now)
        for index, (key, _label) in enumerate(COLUMNS):
            if cells[index] != old[index]:
                self.table.update_cell(str(ident), key, cells[index], update_width=True)
        self._shown[ident] = cells

    def _sort(self) -> None:
        """Newest first. A cursor on the top row stays on top (on the newest); elsewhere
        it stays on its notification."""
        at_top = self.table.cursor_row == 0
        cursor = None if at_top else self.current()
        self.table.sort("unread", key=lambda cell: cell.key, reverse=True)
        if at_top:
            self.table.move_cursor(row=0, animate=False)
        elif cursor is not None and cursor in self._shown:
            self.table.move_cursor(row=self.table.get_row_index(str(cursor)), animate=False)

    def _update_ages(self) -> None:
        """Ages of the rows on screen only, and only when someone can see them."""
        app = self.wrapix_app
        if app.suspended or not app.app_focus or app.screen is not self.screen:
            return
        table = self.table
        now = app.now()
        first = int(table.scroll_offset.y)
        for row in table.ordered_rows[first:first + table.scrollable_content_region.height]:
            self._update(int(row.key.value or 0), now)

    def _after_change(self) -> None:
        self.unread = self.model.unread
        # Nothing to scroll to while empty: no scrollbar under the column headers.
        self.table.styles.overflow_x = "auto" if self.model.entries else "hidden"
        self.note = None if self.model.entries else (
            "No notifications yet. Agents in sandboxes send them when they wait for you "
            "(wrapix-notify).")
        self.post_message(InboxCounts(self.model.counts()))

    def watch_unread(self, unread: int) -> None:
        self.title = f"Inbox ({unread} unread)" if unread else "Inbox"
        self.set_class(bool(unread), "-unread")

    # -- selection and actions ------------------------------------------------------

    def current(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(str(row_key.value))

    @on(DataTable.RowSelected, "#inbox-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        """Enter: select the notification's sandbox (and count it as read)."""
        ident = self.current()
        if ident is None:
            return
        entry = self.model.entries.get(ident)
        if entry is None:
            return
        if not entry.read:
            self._mark([ident])
        question = _question_of(entry)
        if question is not None:  # Ralph asks: answer it (the same modal as the board's)
            self.post_message(AnswerQuestion(question))
            return
        if entry.sandbox:
            self.post_message(JumpToSandbox(entry.sandbox))
        else:
            self.app.notify("This notification names no sandbox.", severity="warning")

    def action_mark_read(self) -> None:
        ident = self.current()
        if ident is None:
            return
        self._mark([ident])
        table = self.table
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def action_mark_all_read(self) -> None:
        if not self.model.unread_ids():
            self.app.notify("Nothing unread.")
            return
        self._mark(None)

    def _mark(self, ids: list[int] | None) -> None:
        """Show it read now; the store's read record follows (and confirms) in a thread."""
        targets = ids if ids is not None else self.model.unread_ids()
        changed = Changes(updated={i for i in targets if self.model.mark_read_locally(i)})
        if changed:
            self._pending.updated |= changed.updated
            if not self._render_scheduled:
                self._render_scheduled = True
                self.call_later(self._render_pending)
        self._write_read(ids)

    @work(thread=True, group="inbox.write")
    def _write_read(self, ids: list[int] | None) -> None:
        store = self._store
        if store is None:
            return
        try:
            if ids is None:
                store.mark_all_read()
            else:
                store.mark_read(ids, missing_ok=True)
        except WrapixError as exc:
            self.post_message(Problem(exc))


_QUESTION_TITLE = re.compile(r"^Ralph: (\S+) has a question$")


def _question_of(entry: Entry) -> str | None:
    """The issue id of a Ralph question notification (``kind`` ralph-clarify)."""
    if entry.kind != "ralph-clarify":
        return None
    match = _QUESTION_TITLE.match(entry.title)
    return match.group(1) if match else None
