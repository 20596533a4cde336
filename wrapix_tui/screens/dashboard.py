"""The one dashboard: header, banner, the four panes, footer; routes messages between panes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer

from wrapix_tui.messages import AnswerQuestion, InboxCounts, JumpToSandbox
from wrapix_tui.widgets.banner import Banner
from wrapix_tui.widgets.builder import BuilderPane
from wrapix_tui.widgets.header import StatusHeader
from wrapix_tui.widgets.inbox import InboxPane
from wrapix_tui.widgets.pane import Pane
from wrapix_tui.widgets.ralph import RalphPane
from wrapix_tui.widgets.sandboxes import SandboxesPane

if TYPE_CHECKING:
    from wrapix_tui.core import Core
    from wrapix_tui.events_hub import EventHub

PANES = ("sandboxes", "inbox", "builder", "ralph")
SHORT_BELOW = 20
"""Rows under which the dashboard shows one pane at a time: a pane squeezed to nothing
would still take the focus (Tab) without being seen."""


class DashboardScreen(Screen[None]):
    AUTO_FOCUS = "#sandbox-table"
    # Textual declares breakpoints as instance variables (no ClassVar allowed)
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"), (100, "-wide")]
    # Too short for four panes: one at a time (the shown one), 1-4 switch.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_BELOW, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "focus_pane('sandboxes')", "Sandboxes", show=False, id="pane.sandboxes"),
        Binding("2", "focus_pane('inbox')", "Inbox", show=False, id="pane.inbox"),
        Binding("3", "focus_pane('builder')", "Builder", show=False, id="pane.builder"),
        Binding("4", "focus_pane('ralph')", "Ralph", show=False, id="pane.ralph"),
        Binding("z", "toggle_maximize", "Zoom", id="pane.maximize"),
    ]

    def __init__(self, workspace: Path) -> None:
        super().__init__(id="dashboard")
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.workspace)
        yield Banner()
        with Grid(id="panes"):
            yield SandboxesPane()
            yield RalphPane(self.workspace)
            yield InboxPane()
            yield BuilderPane()
        yield Footer()

    def on_mount(self) -> None:
        self.show_pane("sandboxes")

    @property
    def sandboxes(self) -> SandboxesPane:
        return self.query_one(SandboxesPane)

    @property
    def inbox(self) -> InboxPane:
        return self.query_one(InboxPane)

    @property
    def builder(self) -> BuilderPane:
        return self.query_one(BuilderPane)

    @property
    def ralph(self) -> RalphPane:
        return self.query_one(RalphPane)

    @property
    def banner(self) -> Banner:
        return self.query_one(Banner)

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    def start(self, core: Core, hub: EventHub) -> None:
        self.sandboxes.start(core, hub)
        self.builder.start(core, hub)
        self.ralph.load(core)

    # -- panes ----------------------------------------------------------------------

    def show_pane(self, pane: str) -> None:
        """The pane shown when the terminal is too short for all four (``-short``)."""
        for name in PANES:
            self.query_one(f"#{name}").set_class(name == pane, "-shown")

    def action_focus_pane(self, pane: str) -> None:
        self.show_pane(pane)
        widget = self.query_one(f"#{pane}", Pane)
        if self.maximized is not None and self.maximized is not widget:
            self.maximize(widget, container=False)
        widget.focus_main()

    def action_toggle_maximize(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        pane = next((node for node in (focused, *(focused.ancestors if focused else ()))
                     if getattr(node, "id", None) in PANES), None)
        if pane is not None:
            self.maximize(pane, container=False)

    # -- messages between panes -----------------------------------------------------

    def on_inbox_counts(self, message: InboxCounts) -> None:
        self.sandboxes.set_counts(message.counts)

    def on_jump_to_sandbox(self, message: JumpToSandbox) -> None:
        if self.maximized is not None:
            self.minimize()
        self.show_pane("sandboxes")
        if not self.sandboxes.select(message.name):
            self.app.notify(f"Sandbox {message.name} is not there any more.",
                            severity="warning")

    def on_answer_question(self, message: AnswerQuestion) -> None:
        self.show_pane("ralph")
        self.ralph.answer(message.issue_id)
