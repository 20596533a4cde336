"""One issue in full: description and notes as markdown (from untrusted text), its
dependencies both ways, labels, and the latest step log when Ralph worked on it.

It follows the board (:class:`~wrapix_tui.messages.BoardUpdated`): when the issue changes
on disk, the screen shows the new version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from wrapix_core.units import plural
from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.untrusted import SafeMarkdown

if TYPE_CHECKING:
    from wrapix_core.specs.board import Board
    from wrapix_core.tasks.model import Issue
    from wrapix_tui.messages import BoardUpdated

LOG_LINES = 40


def dependency_lines(board: Board, issue: Issue) -> Text:
    """What ``issue`` depends on (with status) and what depends on it."""
    by_id = board.readiness.by_id
    text = Text()
    deps = issue.dependencies
    text.append("depends on  ", style="bold")
    if not deps:
        text.append("nothing", style="dim")
    for dep in deps:
        target = by_id.get(dep.depends_on_id)
        text.append("\n  ")
        text.append(fmt.safe(dep.type, 30, style="dim"))
        text.append(" ")
        text.append(fmt.safe(dep.depends_on_id, 60, style="bold"))
        status = target.status if target is not None else "missing"
        text.append(f" ({fmt.plain(status, 20)}) ",  # a status is free text
                    style="green" if status == "closed" else "yellow")
        if target is not None:
            text.append(fmt.safe(target.title, 120))
    dependants = [(other, dep.type) for other in by_id.values() for dep in other.dependencies
                  if dep.depends_on_id == issue.id]
    text.append("\nneeded by   ", style="bold")
    if not dependants:
        text.append("nothing", style="dim")
    for other, kind in dependants[:50]:
        text.append("\n  ")
        text.append(fmt.safe(kind, 30, style="dim"))
        text.append(" ")
        text.append(fmt.safe(other.id, 60, style="bold"))
        text.append(f" ({fmt.plain(other.status, 20)}) ", style="dim")
        text.append(fmt.safe(other.title, 120))
    if len(dependants) > 50:
        text.append(f"\n  … and {len(dependants) - 50} more", style="dim")
    blockers = board.readiness.blockers(issue.id)
    if blockers:
        text.append("\nblocked by  ", style="bold red")
        text.append(", ".join(f"{'parent ' if b.kind == 'parent' else ''}{fmt.plain(b.id)}"
                              f" ({fmt.plain(b.status, 20)})" for b in blockers),
                    style="red")
    return text


def header_text(issue: Issue) -> Text:
    text = Text()
    text.append(fmt.safe(issue.id, 60, style="bold"))
    text.append(f"  P{issue.priority} ")
    text.append(fmt.safe(issue.issue_type, 20, style="dim"))
    text.append("  ")
    text.append(fmt.safe(issue.status, 20, style="bold yellow" if not issue.is_closed
                         else "green"))
    text.append("\n")
    text.append(fmt.safe(issue.title, 300, style="bold"))
    if issue.labels:
        text.append("\nlabels  ", style="dim")
        text.append(", ".join(fmt.plain(label, 60) for label in issue.labels))
    when = [f"created {issue.created_at}"] if issue.created_at else []
    if issue.updated_at:
        when.append(f"updated {issue.updated_at}")
    if issue.closed_at:
        when.append(f"closed {issue.closed_at}")
    if issue.close_reason:
        when.append(f"reason: {issue.close_reason}")
    if issue.assignee:
        when.append(f"assignee {issue.assignee}")
    if when:
        text.append("\n")
        text.append(fmt.safe(" · ".join(when), 400, style="dim"))
    return text


class IssueScreen(Screen[None]):
    CSS_PATH = stylesheet("ralph.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="issue.close"),
        Binding("c", "answer", "Answer", id="issue.answer"),
    ]

    def __init__(self, workspace: Path, board: Board, issue_id: str) -> None:
        super().__init__(id="issue-screen")
        self.workspace = workspace
        self.board = board
        self.issue_id = issue_id
        self.issue = board.readiness.by_id.get(issue_id)

    def compose(self) -> ComposeResult:
        yield Label(Text("Issue · ") + fmt.safe(self.issue_id, 60), id="issue-title",
                    classes="screen-title")
        with VerticalScroll(id="issue-body"):
            yield Static("", id="issue-header")
            yield Static("", id="issue-deps", classes="section")
            yield Label(Text("Description", style="bold"), classes="heading")
            yield SafeMarkdown("", empty="*(no description)*", id="issue-description")
            yield Label(Text("Notes", style="bold"), classes="heading")
            yield SafeMarkdown("", empty="*(no notes)*", id="issue-notes")
            yield Label(Text("Step log", style="bold"), classes="heading")
            yield Static(Text("looking for a step log…", style="dim"), id="issue-log")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        self._read_log()
        self.query_one("#issue-body").focus()

    def _show(self) -> None:
        issue = self.issue
        if issue is None:
            self.query_one("#issue-header", Static).update(
                Text(f"{self.issue_id} is not among the issues any more.", style="red"))
            return
        self.query_one("#issue-header", Static).update(header_text(issue))
        self.query_one("#issue-deps", Static).update(dependency_lines(self.board, issue))
        description = issue.description
        for title, extra in (("Design", issue.design),
                             ("Acceptance criteria", issue.acceptance_criteria)):
            if extra.strip():
                description += f"\n\n**{title}**\n\n{extra}"
        self.query_one("#issue-description", SafeMarkdown).set_text(description)
        self.query_one("#issue-notes", SafeMarkdown).set_text(issue.notes)

    def on_board_updated(self, message: BoardUpdated) -> None:
        """The board changed: redraw only when this issue did."""
        self.board = board = message.board
        issue = board.readiness.by_id.get(self.issue_id)
        if issue is not self.issue and issue != self.issue:
            self.issue = issue
            self._show()
            self._read_log()
            self.refresh_bindings()  # a question may have come or gone

    @work(thread=True, exclusive=True, group="issue.log")
    def _read_log(self) -> None:
        from wrapix_core.ralph import logs
        from wrapix_core.ralph.state import ralph_paths

        paths = ralph_paths(self.workspace)
        found = logs.list_logs(paths, self.issue_id)
        if not found:
            text = Text("no step log (Ralph has not worked on this issue here)", style="dim")
        else:
            latest = found[-1]
            try:
                lines = logs.render(logs.read_lines(latest, paths.anchor))[-LOG_LINES:]
            except Exception as exc:
                text = Text(f"cannot read {latest}: {exc}", style="red")
            else:
                text = Text(f"{paths.in_workspace(latest)} (last {plural(len(lines), 'line')})\n",
                            style="dim")
                for line in lines:
                    text.append(fmt.safe(line, 400))
                    text.append("\n")
        self.app.call_from_thread(self.query_one("#issue-log", Static).update, text)

    def has_question(self) -> bool:
        issue = self.issue
        return issue is not None and "ralph:clarify" in issue.labels and not issue.is_closed

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """"Answer" is offered (and shown in the footer) only while there is a question."""
        return self.has_question() if action == "answer" else True

    def action_answer(self) -> None:
        from wrapix_tui.screens.clarify import ClarifyScreen

        if self.issue is None or not self.has_question():
            self.app.notify("This issue has no open question.")
            return
        self.app.push_screen(ClarifyScreen(self.workspace, self.issue))

    def action_close(self) -> None:
        self.dismiss(None)
