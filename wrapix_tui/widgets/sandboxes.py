"""The Sandboxes pane: live rows from the runtime's event stream, stats for visible rows.

- Rows come from ``events()`` (via the app's :class:`~wrapix_tui.events_hub.EventHub`):
  each event is applied to its row at once, and a burst of events is followed by one
  listing (coalesced: at most one ``podman ps`` per :data:`COALESCE` window, never two at
  the same time). Nothing is polled.
- Stats are the one sampled thing: visible running rows only, at most every
  :data:`STATS_INTERVAL` seconds, skipped while the app is suspended, unfocused, behind a
  modal or this pane is hidden. The sampler reschedules itself only after it finishes.
- Only cells that changed are updated; the table is never rebuilt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import naming
from wrapix_tui import sandbox_rows
from wrapix_tui.messages import (
    ContainerChanged,
    ContainersListed,
    EventStream,
    GitChecked,
    Problem,
    ProblemSolved,
    RuntimeState,
    StatsSampled,
)
from wrapix_tui.sandbox_rows import COLUMNS, SORTABLE, Counts
from wrapix_tui.widgets.pane import Pane
from wrapix_tui.worker_failures import Failure

if TYPE_CHECKING:
    from textual.widgets import Input

    from wrapix_core.sandbox.runtime import ContainerInfo, ContainerStats
    from wrapix_tui.core import Core
    from wrapix_tui.events_hub import EventHub

log = logging.getLogger("wrapix.tui.sandboxes")

COALESCE = 0.1
"""Seconds to gather a burst of events into one listing."""
STATS_INTERVAL = 2.0
EGRESS_INTERVAL = STATS_INTERVAL
"""How long the egress proxies' refusal counts and liveness are reused between reads."""
IDLE_STATS_INTERVAL = 10.0
"""Seconds between stats samples while idle (nobody is at the keyboard: the numbers
still move, just less often; the first key brings the 2 s pace back at once)."""
VOLATILE = frozenset({"uptime", "cpu", "mem"})
"""Columns whose cells change by themselves (time passing, stats samples)."""

VERBS = {
    "stop": ("Stop", "stopping"),
    "restart": ("Restart", "restarting"),
    "remove": ("Remove", "removing"),
}


class SandboxesPane(Pane):
    BORDER_TITLE = "Sandboxes"
    MAIN = "#sandbox-table"
    NOTE = "#sandbox-note"
    FAILURES: ClassVar[dict[str, Failure]] = {
        "sandboxes.list": Failure("listing containers failed")}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new", "New", id="sandbox.new"),
        Binding("a", "attach", "Attach", id="sandbox.attach"),
        Binding("s", "shell", "Shell", id="sandbox.shell"),
        Binding("l", "logs", "Logs", id="sandbox.logs"),
        Binding("x", "stop", "Stop", id="sandbox.stop"),
        Binding("r", "restart", "Restart", id="sandbox.restart"),
        Binding("d", "remove", "Remove", id="sandbox.remove"),
        Binding("space", "mark", "Mark", show=False, id="sandbox.mark"),
        Binding("slash", "filter", "Filter", id="sandbox.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="sandbox.clear_filter"),
        Binding("o", "sort", "Sort", show=False, id="sandbox.sort"),
        Binding("O", "reverse", "Reverse sort", show=False, id="sandbox.reverse"),
        Binding("A", "toggle_all", "All", id="sandbox.toggle_all"),
        Binding("e", "egress", "Egress", show=False, id="sandbox.egress"),
    ]

    def __init__(self) -> None:
        super().__init__("sandboxes", note="Connecting to the container runtime…")
        self.hub: EventHub | None = None
        self.containers: dict[str, ContainerInfo] = {}
        self.stats: dict[str, ContainerStats] = {}
        self.counts: dict[str, Counts] = {}
        self.marked: set[str] = set()
        self.pending: dict[str, str] = {}
        self.seen_running: set[str] = set()
        self.show_all = False
        self.filter_text = ""
        self.sort_column = "name"
        self.sort_reverse = False
        self.listed = False
        self.runtime_error: WrapixError | None = None
        self._cells: dict[str, tuple[Any, ...]] = {}
        self._refresh_timer: Any = None
        self._listing = False
        self._dirty = False
        self._stats_timer: Any = None
        self._select_when_shown: str | None = None
        self._sort_values: dict[str, Any] = {}
        self._render_scheduled = False
        self._inputs: dict[str, sandbox_rows.SandboxRow] = {}
        """The row each name's cells were last built from."""
        self._egress: tuple[dict[str, int], set[str]] | None = None
        self._egress_read = 0.0

    # -- composition ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        table: DataTable[Any] = DataTable(id="sandbox-table", cursor_type="row")
        yield table
        yield self.compose_note("sandbox-note")

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.table.add_column(label, key=key)
        self._update_title()
        self.watch(self.table, "scroll_y", self._table_scrolled, init=False)
        self.wrapix_app.woke_signal.subscribe(self, lambda _: self.wake())

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#sandbox-table", DataTable)

    # -- starting -------------------------------------------------------------------

    def start(self, core: Core, hub: EventHub) -> None:
        self.core, self.hub = core, hub
        self._probe()
        self._watch_events()
        self._schedule_stats()

    @work(exclusive=True, group="sandboxes.probe")
    async def _probe(self) -> None:
        """Ask the runtime what it is; Podman missing is said here, not as a crash."""
        from wrapix_core.sandbox.errors import RuntimeMissing

        assert self.core is not None
        runtime = self.core.runtime
        try:
            caps = await runtime.caps()
        except RuntimeMissing as exc:
            self.runtime_error = exc
            self.post_message(RuntimeState(f"{runtime.name}: not installed", False))
            self._update_note()
        except WrapixError as exc:
            self.runtime_error = exc
            self.post_message(RuntimeState(f"{runtime.name}: not answering", False))
            self.post_message(Problem(exc, source="podman"))
            self._update_note()
        else:
            self.runtime_error = None
            rootless = " rootless" if caps.rootless else ""
            self.post_message(RuntimeState(f"{runtime.name} {caps.version}{rootless}", True))
            self.post_message(ProblemSolved("podman"))
            self._update_note()

    @work(exclusive=True, group="sandboxes.events")
    async def _watch_events(self) -> None:
        from wrapix_core.sandbox.runtime import RuntimeEvent

        assert self.hub is not None
        async with contextlib.aclosing(self.hub.subscribe()) as items:
            async for item in items:
                if isinstance(item, RuntimeEvent):
                    self.post_message(ContainerChanged(item))
                else:
                    self.post_message(EventStream(item))

    # -- live data ------------------------------------------------------------------

    def on_event_stream(self, message: EventStream) -> None:
        status = message.status
        if status.connected:
            self.post_message(ProblemSolved("events"))
            self.request_refresh(0)
            if self.runtime_error is not None:
                self._probe()  # it answers again: say so in the header
            return
        from wrapix_core.sandbox.errors import RuntimeMissing

        if isinstance(self.runtime_error, RuntimeMissing):
            return  # the pane already says how to install it
        retry = f"; retrying in {status.retry_in:g}s" if status.retry_in else ""
        self.post_message(Problem(f"lost the container event stream ({status.error}){retry}",
                                  source="events"))

    def on_container_changed(self, message: ContainerChanged) -> None:
        event = message.event
        if event.action == "died" and event.labels.get(naming.LABEL_SANDBOX) == "1":
            workspace = event.labels.get(naming.LABEL_WORKSPACE)
            if workspace:
                self._check_git(workspace, event.name)
        if sandbox_rows.EVENT_STATE.get(event.action) == "running":
            self.seen_running.add(event.name)
        if sandbox_rows.apply_event(self.containers, event):
            self.render_rows()
        self.request_refresh()

    @work(thread=True, group="sandboxes.gitguard")
    def _check_git(self, workspace: str, name: str) -> None:
        """A sandbox stopped: did it plant something that redirects the host's git?"""
        import os

        from wrapix_core.sandbox import gitguard

        if os.path.isdir(workspace):
            self.wrapix_app.post_message(GitChecked(workspace, gitguard.scan(workspace),
                                                    thorough=True, sandbox=name))

    def request_refresh(self, delay: float = COALESCE) -> None:
        """A listing soon: one per burst of events, never two at once."""
        self._dirty = True
        if self._listing or self._refresh_timer is not None or self.core is None:
            return
        self._refresh_timer = self.set_timer(max(delay, 0.01), self._list)

    @work(exclusive=True, group="sandboxes.list", exit_on_error=False)
    async def _list(self) -> None:
        assert self.core is not None
        self._refresh_timer = None
        self._listing, self._dirty = True, False
        try:
            containers = await self.core.runtime.containers(all=True, sandboxes_only=False)
        except WrapixError as exc:
            self.post_message(Problem(exc, source="podman"))
        else:
            self.post_message(ContainersListed(containers))
        finally:
            self._listing = False
            if self._dirty:
                self.request_refresh()

    def on_containers_listed(self, message: ContainersListed) -> None:
        self.containers = {info.name: info for info in message.containers}
        self.seen_running.update(info.name for info in message.containers if info.running)
        self.listed = True
        self._egress = None
        for name in list(self.stats):
            if name not in self.containers or not self.containers[name].running:
                del self.stats[name]
        self.render_rows()

    def set_counts(self, counts: dict[str, Counts]) -> None:
        if counts != self.counts:
            self.counts = counts
            self.render_rows()

    # -- stats ----------------------------------------------------------------------

    def _schedule_stats(self) -> None:
        idle = self.wrapix_app.idle()
        self._stats_timer = self.set_timer(IDLE_STATS_INTERVAL if idle else STATS_INTERVAL,
                                           self._sample_stats)

    def wake(self) -> None:
        """Input after an idle spell: the next sample comes at the active pace."""
        timer = self._stats_timer
        if timer is not None and not any(worker.group == "sandboxes.stats" and
                                         worker.is_running for worker in self.workers):
            timer.stop()
            self._stats_timer = self.set_timer(0.2, self._sample_stats)

    def stats_paused(self) -> bool:
        """Why sample what nobody can see?"""
        app = self.wrapix_app
        return (app.suspended or not app.app_focus or app.screen is not self.screen
                or not self.display
                or self.screen.maximized not in (None, self))

    def visible_running(self) -> list[str]:
        table = self.table
        if not table.row_count:
            return []
        header = 1 if table.show_header else 0
        first = int(table.scroll_offset.y)
        count = max(0, table.scrollable_content_region.height - header)
        names = []
        for row in table.ordered_rows[first:first + count]:
            name = str(row.key.value)
            info = self.containers.get(name)
            if info is not None and info.running and name not in self.pending:
                names.append(name)
        return names

    @work(exclusive=True, group="sandboxes.stats")
    async def _sample_stats(self) -> None:
        try:
            if self.core is None or self.stats_paused():
                return
            names = self.visible_running()
            if not names:
                return
            try:
                stats = await self.core.runtime.stats(names)
            except WrapixError as exc:
                log.debug("stats failed: %s", exc)  # cells keep "-"; not worth a toast every 2 s
                return
            self.post_message(StatsSampled(stats))
        except Exception:
            log.exception("sampling stats failed")
        finally:
            self._schedule_stats()

    def on_stats_sampled(self, message: StatsSampled) -> None:
        for item in message.stats:
            self.stats[item.name] = item
        self.render_rows()

    # -- rendering ------------------------------------------------------------------

    def egress(self) -> tuple[dict[str, int], set[str]]:
        """``(refusals, proxies gone)`` of the running allowlist sandboxes, read from disk
        at most every :data:`EGRESS_INTERVAL` seconds (and after each listing): the rows
        are rebuilt on every stats sample and every key typed in the filter."""
        now = time.monotonic()
        if self._egress is None or now - self._egress_read >= EGRESS_INTERVAL:
            from wrapix_core.egress import control
            from wrapix_core.egress import log as denial_log

            limited = [name for name, info in self.containers.items()
                       if info.labels.get(naming.LABEL_NETWORK) == "allowlist"
                       and info.running]
            self._egress = ({name: denial_log.count(name) for name in limited},
                            {name for name in limited if control.pid(name) is None})
            self._egress_read = now
        return self._egress

    def refresh_egress(self) -> None:
        """Read the egress proxies' state again now, and show it."""
        self._egress = None
        self.render_rows()

    def rows(self) -> list[sandbox_rows.SandboxRow]:
        denied, down = self.egress()
        return sandbox_rows.build_rows(
            self.containers.values(), stats=self.stats, counts=self.counts,
            marked=self.marked, pending=self.pending, now=self.wrapix_app.now(),
            show_all=self.show_all, seen_running=self.seen_running,
            filter_text=self.filter_text, denied=denied, proxy_down=down)

    def render_rows(self) -> None:
        """Diff the rows against the table: add, remove, and update changed cells only.

        Cells that change by themselves (uptime, CPU, memory) are updated only for rows
        on screen (and for the sort column); an off-screen row catches up when it is
        scrolled into view. A column is re-measured only when a cell outgrows it."""
        table = self.table
        rows = self.rows()
        wanted = {row.name for row in rows}
        for name in [name for name in self._cells if name not in wanted]:
            table.remove_row(name)
            del self._cells[name]
            self._inputs.pop(name, None)
        resort = False
        sort_index = next(i for i, (key, _) in enumerate(COLUMNS) if key == self.sort_column)
        self._sort_values = {row.name: row.sort_value(self.sort_column) for row in rows}
        first, last = self._visible_rows()
        volatile_sort = self.sort_column in VOLATILE
        inputs = self._inputs
        for row in rows:
            old = self._cells.get(row.name)
            before = inputs.get(row.name)
            if (old is not None and before is not None and not volatile_sort
                    and before.info is row.info and before.counts == row.counts
                    and before.denied == row.denied
                    and before.proxy_down == row.proxy_down
                    and before.marked == row.marked and before.pending == row.pending
                    and not first <= table.get_row_index(row.name) < last):
                continue  # off screen and only time or stats moved: nothing to build
            inputs[row.name] = row
            cells = row.cells()
            if old is None:
                table.add_row(*cells, key=row.name)
                resort = True
                self._cells[row.name] = cells
                continue
            changed = [index for index in range(len(COLUMNS)) if cells[index] != old[index]]
            if not changed:
                continue
            if all(COLUMNS[index][0] in VOLATILE and index != sort_index
                   for index in changed) and not first <= table.get_row_index(row.name) < last:
                continue  # off screen: drawn when it scrolls into view
            for index in changed:
                key = COLUMNS[index][0]
                value = cells[index]
                width = value.cell_len if isinstance(value, Text) else cell_len(str(value))
                grows = width > table.columns[ColumnKey(key)].content_width
                table.update_cell(row.name, key, cells[index], update_width=grows)
                resort = resort or index == sort_index
            self._cells[row.name] = cells
        if resort:
            self._apply_sort()
        if self._select_when_shown in self._cells:
            self.select(self._select_when_shown)
            self._select_when_shown = None
        self._update_title()
        self._update_note()

    def _visible_rows(self) -> tuple[int, int]:
        table = self.table
        first = int(table.scroll_offset.y)
        header = 1 if table.show_header else 0
        return first, first + max(0, table.scrollable_content_region.height - header)

    def _table_scrolled(self) -> None:
        if not self._render_scheduled:
            self._render_scheduled = True
            self.call_later(self._render_after_scroll)

    def _render_after_scroll(self) -> None:
        self._render_scheduled = False
        self.render_rows()

    def _apply_sort(self) -> None:
        values = self._sort_values

        def key(mark_cell: Any) -> Any:
            name = mark_cell.key
            return (values.get(name), name)

        cursor = self.current()
        self.table.sort("mark", key=key, reverse=self.sort_reverse)
        if cursor is not None and cursor in self._cells:
            self.table.move_cursor(row=self.table.get_row_index(cursor), animate=False)

    def _update_title(self) -> None:
        parts = [f"Sandboxes ({len(self._cells)})"]
        if self.show_all:
            parts.append("all containers")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        arrow = "↓" if self.sort_reverse else "↑"
        parts.append(f"by {self.sort_column} {arrow}")
        self.title = " · ".join(parts)

    def _update_note(self) -> None:
        app = self.wrapix_app
        text = ""
        if self.runtime_error is not None:
            text = str(self.runtime_error)
        elif not self.listed:
            text = "Listing containers…"
        elif not self._cells:
            if self.filter_text:
                text = f"Nothing matches “{self.filter_text}”."
            else:
                text = (f"No running wrapix sandboxes. Press {app.key_for('sandbox.new')} to "
                        f"start one; {app.key_for('sandbox.toggle_all')} shows stopped ones "
                        "and other containers.")
        self.note = text
        self.note_error = self.runtime_error is not None

    # -- selection ------------------------------------------------------------------

    def current(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)

    def targets(self) -> list[str]:
        """Marked rows if any, else the row under the cursor."""
        marked = [name for name in self._cells if name in self.marked]
        if marked:
            return marked
        current = self.current()
        return [current] if current else []

    def select(self, name: str) -> bool:
        """Put the cursor on ``name``, showing it if the filter or view hid it."""
        if name not in self._cells and name in self.containers:
            self.filter_text = ""
            self.show_all = True
            self._close_filter()
            self.render_rows()
        if name not in self._cells:
            return False
        self.table.move_cursor(row=self.table.get_row_index(name), animate=False)
        self.focus_main()
        return True

    def select_when_shown(self, name: str) -> None:
        if not self.select(name):
            self._select_when_shown = name

    def _require(self) -> list[str]:
        names = self.targets()
        if not names:
            self.app.notify("No sandbox selected.", severity="warning")
        return names

    # -- actions --------------------------------------------------------------------

    def action_new(self) -> None:
        if not self.ready():
            return
        from wrapix_tui.screens.new_sandbox import NewSandboxScreen

        assert self.core is not None

        def launched(name: str | None) -> None:
            if name:
                self.app.notify(f"Started {name}.")
                self.select_when_shown(name)
                self.request_refresh(0)

        self.app.push_screen(NewSandboxScreen(self.core), launched)

    def _running_target(self) -> str | None:
        names = self._require()
        if not names:
            return None
        name = names[0] if not self.marked else (self.current() or names[0])
        info = self.containers.get(name)
        if info is None or not info.running:
            self.app.notify(f"{name} is not running; restart it first "
                            f"({self.wrapix_app.key_for('sandbox.restart')}).",
                            severity="warning")
            return None
        return name

    def action_attach(self) -> None:
        if not self.ready() or (name := self._running_target()) is None:
            return
        assert self.core is not None
        keys = self.core.settings.sandbox.detach_keys
        argv = self.core.runtime.attach_argv(name, keys)
        self.wrapix_app.hand_over(argv, f"wrapix: attached to {name}; detach with {keys} "
                                        "(the agent keeps running)",
                                  done=f"Detached from {name}.", redraw=True,
                                  running=self.core.runtime.running_argv(name))
        self.request_refresh(0)

    def action_shell(self) -> None:
        if not self.ready() or (name := self._running_target()) is None:
            return
        assert self.core is not None
        argv = self.core.runtime.shell_argv(name)
        self.wrapix_app.hand_over(argv, f"wrapix: shell in {name}; `exit` returns to wrapix-tui",
                                  done=f"Left the shell in {name}.",
                                  running=self.core.runtime.running_argv(name))
        self.request_refresh(0)

    def action_logs(self) -> None:
        if not self.ready():
            return
        names = self._require()
        if not names:
            return
        from wrapix_tui.screens.logs import LogsScreen

        assert self.core is not None
        name = self.current() or names[0]
        self.app.push_screen(LogsScreen(self.core.runtime, name))

    def action_egress(self) -> None:
        """The hosts the selected allowlist sandbox was refused; allow one for it now, or
        in its project's wrapix.toml (which then needs trusting again)."""
        names = self._require()
        if not names:
            return
        name = self.current() or names[0]
        info = self.containers.get(name)
        if info is None or info.labels.get(naming.LABEL_NETWORK) != "allowlist":
            self.app.notify(f"{name} is not an allowlist sandbox.", severity="warning")
            return
        from wrapix_core.egress import log as denial_log
        from wrapix_tui.screens.egress import EgressScreen

        hosts = list(dict.fromkeys(str(record["host"]) for record in
                                   reversed(denial_log.read(name))))
        if not hosts:
            self.app.notify(f"{name} has been refused nothing.")
            return

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._allow(name, info.workspace, *answer)

        self.app.push_screen(EgressScreen(name, hosts), chosen)

    def _allow(self, name: str, workspace: str, host: str, where: str) -> None:
        from pathlib import Path

        from wrapix_core.egress import allow

        try:
            if where == "project":
                path = allow.allow_in_project(Path(workspace), host)
                self.app.notify(f"Added {host} to {path}; trust it again (`wrapix trust`) "
                                "before the next launch.")
            else:
                allow.allow_now(name, host)
                self.app.notify(f"{name} may reach {host} now.")
        except WrapixError as exc:
            self.app.notify(str(exc), severity="error")
        self.render_rows()

    def action_stop(self) -> None:
        self._confirm("stop")

    def action_restart(self) -> None:
        self._confirm("restart")

    def action_remove(self) -> None:
        self._confirm("remove")

    def _confirm(self, verb: str) -> None:
        if not self.ready():
            return
        names = self._require()
        if not names:
            return
        from wrapix_tui.screens.confirm import ConfirmScreen

        title, _ = VERBS[verb]
        lines = []
        for name in names:
            info = self.containers.get(name)
            state = info.state if info else "unknown"
            extra = ""
            if verb == "remove" and info is not None and info.running:
                extra = " — running: it is stopped first"
            elif verb == "stop" and info is not None and not info.running:
                extra = " — not running"
            lines.append(f"{name} ({state}){extra}")
        what = f"{len(names)} sandboxes" if len(names) > 1 else names[0]

        def answered(yes: bool | None) -> None:
            if yes:
                self._operate(verb, names)

        self.app.push_screen(ConfirmScreen(f"{title} {what}?", lines, title, verb=verb),
                             answered)

    @work(group="sandboxes.ops")
    async def _operate(self, verb: str, names: list[str]) -> None:
        assert self.core is not None
        runtime = self.core.runtime
        _title, progressive = VERBS[verb]
        for name in names:
            self.pending[name] = progressive
        self.marked.difference_update(names)
        self.render_rows()

        async def one(name: str) -> None:
            if verb == "stop":
                await runtime.stop(name)
            elif verb == "restart":
                await runtime.restart(name)
            else:
                info = self.containers.get(name)
                await runtime.remove(name, force=bool(info and info.running))

        results = await asyncio.gather(*(one(name) for name in names), return_exceptions=True)
        for name, result in zip(names, results, strict=True):
            self.pending.pop(name, None)
            if isinstance(result, WrapixError):
                self.post_message(Problem(result))
            elif isinstance(result, BaseException):
                log.error("%s %s failed", verb, name, exc_info=result)
                self.post_message(Problem(f"{verb} {name} failed: {result!r}"))
        succeeded = [name for name, result in zip(names, results, strict=True)
                     if not isinstance(result, BaseException)]
        if succeeded:
            past = {"stop": "Stopped", "restart": "Restarted", "remove": "Removed"}[verb]
            self.app.notify(f"{past} {', '.join(succeeded)}.")
        self.render_rows()
        self.request_refresh(0)

    def action_mark(self) -> None:
        name = self.current()
        if name is None:
            return
        self.marked.symmetric_difference_update({name})
        self.render_rows()
        table = self.table
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.render_rows()

    def action_sort(self, column: str | None = None) -> None:
        if column is None:
            index = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
            column = SORTABLE[(index + 1) % len(SORTABLE)]
            self.sort_reverse = False
        elif column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.sort_column = column
        self.render_rows()
        self._apply_sort()
        self._update_title()

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._apply_sort()
        self._update_title()

    @on(DataTable.HeaderSelected, "#sandbox-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        if column in SORTABLE:
            self.action_sort(column)

    # -- filter ---------------------------------------------------------------------

    def action_filter(self) -> None:
        """Show the filter input (mounted on first use: it is hidden until then)."""
        from textual.widgets import Input

        bars = self.query("#sandbox-filter")
        if bars:
            bar = bars.first(Input)
        else:
            bar = Input(value=self.filter_text, placeholder="filter: name, profile, "
                        "workspace, state — enter keeps it, esc clears it", id="sandbox-filter",
                        classes="filter")
            self.mount(bar, before=self.table)
        bar.display = True
        bar.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "sandbox-filter":
            self.filter_text = event.value.strip()
            self.render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "sandbox-filter":
            if not self.filter_text:
                self._close_filter()
            self.focus_main()

    def _close_filter(self) -> None:
        for bar in self.query("#sandbox-filter"):
            bar.value = ""  # type: ignore[attr-defined]
            bar.display = False

    def action_clear_filter(self) -> None:
        """Esc clears the filter; without one it falls through (e.g. to un-maximise)."""
        bar_open = any(bar.display for bar in self.query("#sandbox-filter"))
        if not self.filter_text and not bar_open:
            raise SkipAction()
        self.filter_text = ""
        self._close_filter()
        self.render_rows()
        self.focus_main()
