"""The Sandboxes pane: live rows from the runtime's event stream, stats for visible rows.

- Rows come from ``events()`` (via the app's :class:`~wrapix_tui.events_hub.EventHub`):
  each event is applied to its row at once, and a burst of events is followed by one
  listing (coalesced: at most one ``podman ps`` per :data:`COALESCE` window, never two at
  the same time). Nothing is polled.
- Stats are the one sampled thing (:class:`~wrapix_tui.widgets.sandbox_stats.StatsSampler`):
  visible running rows only, every few seconds, and only while someone can see them.
- What the pane knows is a :class:`~wrapix_tui.sandbox_state.SandboxState`; the view
  (filter, sort, all containers or sandboxes only) is reactives of the pane; the table
  (:class:`~wrapix_tui.widgets.sandbox_table.SandboxTable`) updates only cells that
  changed; the keys' actions are :class:`~wrapix_tui.widgets.sandbox_actions.SandboxActions`,
  remote hosts' rows and health line :class:`~wrapix_tui.widgets.sandbox_hosts.SandboxHosts`.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import naming
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
from wrapix_tui.sandbox_rows import SORTABLE, Counts
from wrapix_tui.sandbox_state import SandboxState
from wrapix_tui.widgets.sandbox_hosts import SandboxHosts
from wrapix_tui.widgets.sandbox_stats import StatsSampler
from wrapix_tui.widgets.sandbox_table import SandboxTable
from wrapix_tui.worker_failures import Failure

if TYPE_CHECKING:
    from textual.widgets import Input

    from wrapix_tui.core import Core
    from wrapix_tui.events_hub import EventHub

log = logging.getLogger("wrapix.tui.sandboxes")

COALESCE = 0.1
"""Seconds to gather a burst of events into one listing."""


class SandboxesPane(SandboxHosts):
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
        Binding("D", "diff", "Diff", show=False, id="sandbox.diff"),
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

    show_all: reactive[bool] = reactive(False, init=False)
    """Every container, not only the wrapix sandboxes that run (or ran while watched)."""
    filter_text: reactive[str] = reactive("", init=False)
    sort_column: reactive[str] = reactive("name", init=False)
    sort_reverse: reactive[bool] = reactive(False, init=False)

    def __init__(self) -> None:
        super().__init__("sandboxes", note="Connecting to the container runtime…")
        self.hub: EventHub | None = None
        self.state = SandboxState()
        self._refresh_timer: Any = None
        self._listing = False
        self._dirty = False
        self.stats = StatsSampler(self)
        self._select_when_shown: str | None = None
        self._render_scheduled = False

    # -- composition ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SandboxTable()
        yield self.compose_note("sandbox-note")

    def on_mount(self) -> None:
        self._describe()
        self.watch(self.table, "scroll_y", self._table_scrolled, init=False)
        self.wrapix_app.woke_signal.subscribe(self, lambda _: self.stats.wake())

    # -- starting -------------------------------------------------------------------

    def start(self, core: Core, hub: EventHub) -> None:
        self.core, self.hub = core, hub
        self._probe()
        self._watch_events()
        self.stats.schedule()
        if core.settings.hosts:
            self._watch_hosts(core)

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
        except WrapixError as exc:
            self.runtime_error = exc
            self.post_message(RuntimeState(f"{runtime.name}: not answering", False))
            self.post_message(Problem(exc, source="podman"))
        else:
            self.runtime_error = None
            rootless = " rootless" if caps.rootless else ""
            self.post_message(RuntimeState(f"{runtime.name} {caps.version}{rootless}", True))
            self.post_message(ProblemSolved("podman"))

    def watch_runtime_error(self) -> None:
        self._describe()

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
        if self.state.apply_event(event):
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

    @property
    def refresh_pending(self) -> bool:
        """A listing is asked for or under way."""
        return self._listing or self._refresh_timer is not None

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
        self.state.apply_listing(message.containers)
        self.render_rows()
        if self.state.session_projects() - self.state.watched_projects:
            from wrapix_tui.widgets.session_watch import watch_sessions

            watch_sessions(self)

    def set_counts(self, counts: dict[str, Counts]) -> None:
        if self.state.set_counts(counts):
            self.render_rows()

    def refresh_egress(self) -> None:
        """Read the egress proxies' state again now, and show it."""
        self.state.forget_egress()
        self.render_rows()

    # -- stats ----------------------------------------------------------------------

    def on_stats_sampled(self, message: StatsSampled) -> None:
        self.state.apply_stats(message.stats)
        self.render_rows()

    # -- the view -------------------------------------------------------------------

    def render_rows(self) -> None:
        """The state's rows for this view into the table (only what changed is drawn)."""
        table = self.table
        table.show(self.state.rows(now=self.wrapix_app.now(), show_all=self.show_all,
                                   filter_text=self.filter_text),
                   self.sort_column, self.sort_reverse)
        if self._select_when_shown is not None and table.shows(self._select_when_shown):
            self.select(self._select_when_shown)
            self._select_when_shown = None
        self._describe()

    def watch_show_all(self) -> None:
        self.render_rows()

    def watch_filter_text(self) -> None:
        self.render_rows()

    def watch_sort_column(self) -> None:
        self.render_rows()
        self.table.apply_sort(self.sort_reverse)

    def watch_sort_reverse(self) -> None:
        self.table.apply_sort(self.sort_reverse)
        self._describe()

    def _table_scrolled(self) -> None:
        if not self._render_scheduled:
            self._render_scheduled = True
            self.call_later(self._render_after_scroll)

    def _render_after_scroll(self) -> None:
        self._render_scheduled = False
        self.render_rows()

    def _describe(self) -> None:
        """Title and note for what is shown now (drawn only when they change)."""
        shown = len(self.table.names())
        parts = [f"Sandboxes ({shown})"]
        if self.show_all:
            parts.append("all containers")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.state.marked:
            parts.append(f"{len(self.state.marked)} marked")
        arrow = "↓" if self.sort_reverse else "↑"
        parts.append(f"by {self.sort_column} {arrow}")
        self.title = " · ".join(parts)
        app = self.wrapix_app
        text = ""
        if self.runtime_error is not None:
            text = str(self.runtime_error)
        elif not self.state.listed:
            text = "Listing containers…"
        elif not shown:
            if self.filter_text:
                text = f"Nothing matches “{self.filter_text}”."
            else:
                text = (f"No running wrapix sandboxes. Press {app.key_for('sandbox.new')} to "
                        f"start one; {app.key_for('sandbox.toggle_all')} shows stopped ones "
                        "and other containers.")
        self.note = text
        self.note_error = self.runtime_error is not None

    # -- selection ------------------------------------------------------------------

    def select(self, name: str) -> bool:
        """Put the cursor on ``name``, showing it if the filter or view hid it."""
        if not self.table.shows(name) and name in self.state.containers:
            self.filter_text = ""
            self.show_all = True
            self._close_filter()
            self.render_rows()
        if not self.table.shows(name):
            return False
        self.table.move_to(name)
        self.focus_main()
        return True

    def select_when_shown(self, name: str) -> None:
        if not self.select(name):
            self._select_when_shown = name

    # -- view keys ------------------------------------------------------------------

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all

    def action_sort(self, column: str | None = None) -> None:
        if column is None:
            index = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
            column = SORTABLE[(index + 1) % len(SORTABLE)]
        elif column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
            return
        self.set_reactive(SandboxesPane.sort_reverse, False)  # sorted once, by the column
        self.sort_column = column

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse

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
        self.focus_main()
