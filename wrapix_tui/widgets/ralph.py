"""The Ralph board pane: specs with criteria progress, the selected spec's issues by status,
and Ralph driven from here (next step, supervised loop, stop) with live progress.

- The board is loaded and followed by the
  :class:`~wrapix_tui.widgets.ralph_board.BoardView`, which draws it; each new board
  then reaches this pane (the title, the note, the open screens).
- Runs are a :class:`~wrapix_tui.ralph_run.RalphRun` (plain state) driven in a worker,
  shown by a :class:`~wrapix_tui.widgets.run_panel.RunPanel`. Its approvals are a modal,
  awaited; the stop key answers a pending approval with "stop", or cancels a running
  step (the engine puts its issue back); a quit during a run asks, then stops it the same
  way and waits for that before exiting.
- ``ralph loop --parallel`` runs, from here (the parallel-loop key: ``ralph.parallel``
  issues at once, unattended) or from another terminal, show their running steps: a mark
  on each issue's row, a line each in the run panel
  (:mod:`~wrapix_tui.widgets.ralph_steps`, from Ralph's state, which the watcher follows).
- Every string from issues, specs and the agent is shown as inert text.
"""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import Static

from wrapix_tui import board_model as model
from wrapix_tui import format as fmt
from wrapix_tui.messages import (
    BoardChanged,
    BoardProblem,
    BoardUpdated,
    Problem,
    ProblemSolved,
)
from wrapix_tui.ralph_run import RalphRun
from wrapix_tui.widgets.pane import Pane
from wrapix_tui.widgets.ralph_board import LOADING, BoardView, title_text
from wrapix_tui.widgets.ralph_lists import IssueList, SpecList
from wrapix_tui.widgets.ralph_steps import RunsChanged, Steps
from wrapix_tui.widgets.rowlist import RowList

if TYPE_CHECKING:
    from wrapix_core.ralph.events import Decision, StepProposal
    from wrapix_core.specs.board import Board, SpecCard
    from wrapix_core.tasks.model import Issue
    from wrapix_tui.core import Core
    from wrapix_tui.ralph_control import LabelInfo
    from wrapix_tui.widgets.run_panel import RunPanel

class RalphPane(Pane):
    BORDER_TITLE = "Ralph"
    MAIN = "#ralph-specs"
    NOTE = "#ralph-note"
    LOADING = "Still loading…"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="ralph.open"),
        Binding("s", "step", "Step", id="ralph.step"),
        Binding("l", "loop", "Loop", id="ralph.loop"),
        Binding("L", "parallel", "Parallel loop", id="ralph.parallel"),
        Binding("x", "stop", "Stop run", id="ralph.stop"),
        Binding("c", "answer", "Answer", id="ralph.answer"),
        Binding("v", "review", "Review", id="ralph.review"),
        Binding("left", "focus_list('specs')", "Specs", show=False, id="ralph.specs"),
        Binding("right", "focus_list('issues')", "Issues", show=False, id="ralph.issues"),
    ]

    selected: var[str] = var(model.ALL, init=False)
    """The key of the highlighted spec row (:data:`~wrapix_tui.board_model.ALL`: every
    issue)."""
    problem: var[str] = var("", init=False)
    """Why the board could not be loaded or stopped updating ("" when all is well)."""
    running: var[str | None] = var(None, init=False)
    """``step``, ``loop`` or ``parallel`` while a run is going on (mirrors :attr:`run`)."""
    stopping: var[bool] = var(False, init=False)
    """A stop was asked and the run is cleaning up (mirrors :attr:`run`)."""

    def __init__(self, workspace: Path) -> None:
        super().__init__("ralph", note=LOADING)
        self.workspace = workspace
        self.run = RalphRun(workspace, self)
        self.steps = Steps()
        """The parallel loops' running steps (this TUI's and other terminals')."""
        self.board_view = BoardView(workspace)
        """The board's lists (a reference: a run may end while the app is closing)."""
        self._screen_changed = asyncio.Event()

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(
            self, lambda _screen: self._screen_changed.set())

    def compose(self) -> ComposeResult:
        with self.board_view:
            yield SpecList(id="ralph-specs")
            yield Static("", id="ralph-info")
            yield self.compose_note("ralph-note")
            yield IssueList(id="ralph-issues")

    @property
    def specs(self) -> SpecList:
        return self.board_view.specs

    @property
    def issues(self) -> IssueList:
        return self.board_view.issues

    @property
    def board(self) -> Board | None:
        return self.board_view.board

    def loaded(self) -> bool:
        return self.core is not None and self.board is not None

    # -- the board: load, then follow the watcher ---------------------------------------
    def load(self, core: Core | None = None) -> None:
        self.core = core
        self.board_view.load()

    def on_board_problem(self, message: BoardProblem) -> None:
        if message.lasting:
            self.wrapix_app.post_message(Problem(message.text, source="ralph"))
        self.problem = message.text

    def on_board_changed(self, message: BoardChanged) -> None:
        """A new board (from the board view's worker): the lists, the title, the note and
        the open screens follow, in the same frame."""
        from wrapix_core.specs.events import IssuesChanged

        if self.problem:  # the watcher delivered again: the problem has passed
            self.problem = ""
            self.wrapix_app.post_message(ProblemSolved("ralph"))
        self.board_view.show(message.board, isinstance(message.event, IssuesChanged))
        self.set_reactive(RalphPane.selected, self.board_view.selected)  # it may have gone
        self._show_note()
        self.title = title_text(self.board, self.running, self.steps.running())
        if self.steps.update(self.board):  # an issue it names came (or went)
            self._show_steps()
        for screen in self.app.screen_stack:  # the issue detail, the review
            screen.post_message(BoardUpdated(message.board))
        if message.event is None:  # the first board
            # Start-up is over: what exists now (modules, widgets, the first board's tens
            # of thousands of issues) lives long. Keep it out of the cyclic collector's
            # full passes, which otherwise stall the loop ~100 ms now and then. Board data
            # has no reference cycles: it is still freed by reference counting.
            gc.freeze()
            if getattr(self.app, "exit_after_board", False):
                self.call_after_refresh(self.app.exit)  # the board benchmarks end here

    def on_runs_changed(self, message: RunsChanged) -> None:
        """Parallel loops' steps changed (the watcher saw Ralph's state change)."""
        if self.steps.update(self.board, message.read):
            self._show_steps()

    def _show_steps(self) -> None:
        self.board_view.set_marks(self.steps.marks())
        self.title = title_text(self.board, self.running, self.steps.running())
        panel = self._panel(mount=bool(self.steps.runs))
        if panel is not None:
            panel.follow(bool(self.running or self.steps.runs))

    def watch_selected(self, selected: str) -> None:
        self.board_view.select(selected)
        self._show_note()

    def watch_problem(self) -> None:
        self._show_note()

    def _show_note(self) -> None:
        self.note = self.board_view.note_text(self.problem)

    # -- selection --------------------------------------------------------------------
    @on(RowList.Highlighted, "#ralph-specs")
    def _spec_highlighted(self, event: RowList.Highlighted) -> None:
        self.selected = event.row.key  # the same key again: no redraw (a var compares)

    @on(RowList.Selected, "#ralph-issues")
    def _issue_clicked(self, event: RowList.Selected) -> None:
        self._open(event.row)

    def action_focus_list(self, which: str) -> None:
        target = self.specs if which == "specs" else self.issues
        self.screen.set_focus(target)

    def action_open(self) -> None:
        focused = self.screen.focused
        if focused is self.specs:
            self.screen.set_focus(self.issues)
            return
        row = self.issues.current
        if row is not None:
            self._open(row)

    def _open(self, row: model.Row) -> None:
        if isinstance(row, model.GroupRow):
            self.board_view.toggle(row)
            return
        from wrapix_tui.screens.issue import IssueScreen

        if self.board is not None:
            self.app.push_screen(IssueScreen(self.workspace, self.board, row.issue.id))

    def selected_issue(self) -> Issue | None:
        return self.board_view.selected_issue()

    def selected_card(self) -> SpecCard | None:
        return self.board_view.selected_card()

    # -- driving Ralph ------------------------------------------------------------------
    def action_step(self) -> None:
        self._start("step")

    def action_loop(self) -> None:
        self._start("loop")

    def action_parallel(self) -> None:
        self._start("parallel")

    def _start(self, mode: str) -> None:
        if not self.ready():
            return
        assert self.core is not None
        if self.running:
            self.app.notify(f"A {self.run.what} is already running "
                            f"({self.wrapix_app.key_for('ralph.stop')} stops it).",
                            severity="warning")
            return
        info = self._selected_label()
        if info is None:
            return
        driving = self.run.start(mode, info.label, self.core.settings, self._approve)
        self.run_worker(driving, group="ralph.run", exclusive=True)

    async def _approve(self, proposal: StepProposal) -> Decision | None:
        """The run's approver: a modal, awaited (None: it went away unanswered).

        The modal opens only over the board: over another screen (an answer being typed,
        an issue being read) its keys would take the person's keystrokes as decisions.
        """
        from wrapix_tui.screens.approval import ApprovalScreen

        if self.app.screen is not self.screen:
            self.app.notify(f"Ralph waits for your approval of "
                            f"{fmt.plain(proposal.issue.id, 60)}: it opens when you "
                            "are back on the board.", timeout=8)
            while self.app.screen is not self.screen:
                self._screen_changed.clear()
                await self._screen_changed.wait()
        return await ApprovalScreen(proposal).ask(self.app)

    # RunView: the run tells the pane what changed
    def run_changed(self, output_only: bool) -> None:
        panel = self._panel()
        if output_only:
            if panel is not None:
                panel.changed(output_only=True)
            return
        was = (self.running, self.stopping)
        self.running, self.stopping = self.run.mode, self.run.stopping
        if panel is not None and was == (self.running, self.stopping):
            panel.changed()  # else the watchers have redrawn it

    def say(self, text: str, severity: str = "information", title: str = "",
            timeout: float | None = None, limit: int = 300) -> None:
        self.app.notify(fmt.plain(text, limit), title=title,
                        severity=severity,  # type: ignore[arg-type]
                        timeout=timeout)

    def watch_running(self, running: str | None) -> None:
        self.title = title_text(self.board, running, self.steps.running())
        panel = self._panel(mount=bool(running))
        if panel is not None:
            panel.follow(bool(running or self.steps.runs))

    def watch_stopping(self) -> None:
        panel = self._panel()
        if panel is not None:
            panel.redraw()

    def _panel(self, mount: bool = False) -> RunPanel | None:
        """The run panel; mounted with the first run (``mount``), else None before it."""
        from wrapix_tui.widgets.run_panel import RunPanel

        found = self.query(RunPanel)
        if found:
            return found.first()
        if not mount:
            return None
        panel = RunPanel(self.run, lambda: str(self.wrapix_app.key_for("ralph.stop")),
                         self.steps)
        self.mount(panel)
        return panel

    def action_stop(self) -> None:
        if not self.running:
            others = self.steps.others(os.getpid())
            self.app.notify(f"Nothing of this TUI is running; the parallel loop of pid "
                            f"{others[0].pid} is another terminal's: stop it there."
                            if others else "Nothing is running.")
            return
        if self.stopping:  # a second cancel would cut short the engine's clean-up
            self.app.notify("Stopping: the running step's issue is being put back…")
            return
        self.stop_run()

    def stop_run(self) -> None:
        """Stop the run: a pending approval on screen is answered "stop", else the run is
        cancelled once (see :meth:`RalphRun.stop`)."""
        from wrapix_core.ralph.events import Decision
        from wrapix_tui.screens.approval import ApprovalScreen

        if not self.run.running or self.run.stopping:
            return
        screen = self.app.screen
        if self.run.asking is not None and isinstance(screen, ApprovalScreen) \
                and screen.proposal is self.run.asking:
            screen.dismiss(Decision.STOP)
            return
        self.run.stop()

    async def stop_and_wait(self, timeout: float) -> bool:
        """Stop the run and wait for its clean-up; False if it outlasts ``timeout``."""
        self.stop_run()
        return await self.run.wait(timeout)

    def run_summary(self) -> str | None:
        """What a quit would stop, in a sentence; None when nothing runs."""
        return self.run.summary()

    # -- clarify and review ------------------------------------------------------------
    def action_answer(self) -> None:
        if not self.ready():
            return
        assert self.board is not None
        issue = self.selected_issue()
        if issue is None or "ralph:clarify" not in issue.labels or issue.is_closed:
            card = self.selected_card()
            summary = card.issues if card is not None else self.board.issues
            if not summary.clarify:
                self.app.notify("No question waits for an answer here.")
                return
            found = self.board.readiness.by_id.get(summary.clarify[0].id)
            if found is None:
                return
            issue = found
        self.answer(issue.id)

    def answer(self, issue_id: str) -> None:
        """Open the clarify modal for ``issue_id`` (from the board or the inbox)."""
        from wrapix_tui.screens.clarify import ClarifyScreen

        if self.board is None:
            self.app.notify("Still loading the board…", severity="warning")
            return
        issue = self.board.readiness.by_id.get(issue_id)
        if issue is None or "ralph:clarify" not in issue.labels or issue.is_closed:
            self.app.notify(f"{fmt.plain(issue_id, 60)} has no open question.",
                            severity="warning")
            return
        self.app.push_screen(ClarifyScreen(self.workspace, issue))

    def action_review(self) -> None:
        if not self.ready():
            return
        from wrapix_tui.screens.review import ReviewScreen

        info = self._selected_label()
        if info is None:
            return
        self.app.push_screen(ReviewScreen(self.workspace, info.label, info.epic))

    def _selected_label(self) -> LabelInfo | None:
        """The Ralph label of the selected spec, or None after saying why there is none."""
        from wrapix_tui.ralph_control import NoLabel, label_for

        try:
            return label_for(self.workspace, self.selected_card())
        except NoLabel as exc:
            self.app.notify(fmt.plain(str(exc), 500), severity="warning", timeout=8)
            return None

