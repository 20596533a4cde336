"""Before each supervised step: the issue, its spec and dependencies; approve, skip, stop,
or approve all remaining. The engine waits for the answer (nothing runs without one):
:meth:`ApprovalScreen.ask` pushes the modal and waits for its dismissal."""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from wrapix_core.ralph.events import Decision
from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.untrusted import SafeMarkdown

if TYPE_CHECKING:
    from textual.app import App

    from wrapix_core.ralph.events import StepProposal


class ApprovalScreen(ModalScreen[Decision | None]):
    CSS_PATH: ClassVar[list[str | PurePath]] = [stylesheet("modals.tcss"), stylesheet("ralph.tcss")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide('approve')", "Approve", id="approval.approve"),
        Binding("s", "decide('skip')", "Skip", id="approval.skip"),
        Binding("a", "decide('approve-all')", "Approve all", id="approval.all"),
        Binding("x,escape", "decide('stop')", "Stop", id="approval.stop"),
    ]

    def __init__(self, proposal: StepProposal) -> None:
        super().__init__(classes="modal")
        self.proposal = proposal
        self.decision: Decision | None = None
        self._answer: asyncio.Future[Decision | None] | None = None

    async def ask(self, app: App[Any]) -> Decision | None:
        """Push this modal and wait for the decision (from a worker); None when the modal
        went away without one."""
        self._answer = app.push_screen(self, wait_for_dismiss=True)
        return await self._answer

    def compose(self) -> ComposeResult:
        proposal = self.proposal
        issue = proposal.issue
        with Vertical(id="dialog", classes="approval"):
            head = Text(f"Step {proposal.number} · ", style="bold")
            head.append(fmt.safe(proposal.label, 60, style="bold"))
            head.append(f" · {proposal.ready} ready", style="dim")
            yield Label(head, classes="title")
            spec = Text("spec  ", style="dim")
            spec.append(fmt.safe(proposal.spec_title, 120))
            spec.append("  ")
            spec.append(fmt.safe(proposal.spec_path, 120, style="dim"))
            yield Static(spec)
            title = Text()
            title.append(fmt.safe(issue.id, 60, style="bold"))
            title.append(f"  P{issue.priority}  ")
            title.append(fmt.safe(issue.title, 300, style="bold"))
            yield Static(title, id="approval-issue")
            yield Static(self._dependencies(), id="approval-deps")
            with VerticalScroll(id="approval-body"):
                yield SafeMarkdown(issue.description, empty="*(no description)*",
                                   id="approval-description")
            with Horizontal(id="buttons"):
                yield Button("Approve (y)", id="approve", variant="primary")
                yield Button("Skip (s)", id="skip")
                yield Button("Approve all (a)", id="approve-all")
                yield Button("Stop (x)", id="stop", variant="error")

    def _dependencies(self) -> Text:
        deps = self.proposal.issue.dependencies
        text = Text("depends on  ", style="dim")
        if not deps:
            text.append("nothing", style="dim")
        for index, dep in enumerate(deps):
            if index:
                text.append("\n            ")
            text.append(fmt.safe(dep.type, 30, style="dim"))
            text.append(" ")
            text.append(fmt.safe(dep.id, 60, style="bold"))
            text.append(f" ({fmt.plain(dep.status, 20)}) ",
                        style="green" if dep.status == "closed" else "yellow")
            text.append(fmt.safe(dep.title, 120))
        return text

    def on_mount(self) -> None:
        self.query_one("#approve", Button).focus()

    def action_decide(self, decision: str) -> None:
        self.decision = Decision(decision)
        self.dismiss(self.decision)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id:
            self.action_decide(event.button.id)

    def on_unmount(self) -> None:
        """Removed without a dismissal (popped from elsewhere), the answer would never
        come: it is None, never "wait for ever"."""
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(None)
