"""The Ralph board pane: specs with criteria progress, the selected spec's issues by status,
and Ralph driven from here (next step, supervised loop, stop) with live progress.

- The board is the core's :class:`~wrapix_core.specs.board.Board`. It is loaded in a
  worker after the first frame, then the workspace watcher
  (:class:`~wrapix_core.specs.inotify_watch.InotifyWorkspaceWatcher`: inotify read by the
  event loop, nothing polled) feeds it one event at a time; each new board is posted to
  this pane and shown by its :class:`~wrapix_tui.widgets.ralph_board.BoardView`, which
  redraws only what changed.
- Runs are a :class:`~wrapix_tui.ralph_run.RalphRun` (plain state) driven in a worker,
  shown by a :class:`~wrapix_tui.widgets.run_panel.RunPanel`. Its approvals are a modal,
  awaited; the stop key answers a pending approval with "stop", or cancels a running
  step (the engine puts its issue back); a quit during a run asks, then stops it the same
  way and waits for that before exiting.
- Every string from issues, specs and the agent is shown as inert text.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import Static
from textual.worker import Worker

from wrapix_core.errors import WrapixError
from wrapix_tui import board_model as model
from wrapix_tui import format as fmt
from wrapix_tui import worker_failures
from wrapix_tui.messages import BoardChanged, BoardProblem, BoardUpdated, GitChecked
from wrapix_tui.ralph_run import RalphRun
from wrapix_tui.widgets.pane import Pane
from wrapix_tui.widgets.ralph_board import LOADING, BoardView, title_text
from wrapix_tui.widgets.ralph_lists import IssueList, SpecList
from wrapix_tui.widgets.rowlist import RowList
from wrapix_tui.worker_failures import Failure

if TYPE_CHECKING:
    from wrapix_core.ralph.events import Decision, StepProposal
    from wrapix_core.specs.board import Board, SpecCard
    from wrapix_core.tasks.model import Issue
    from wrapix_tui.core import Core
    from wrapix_tui.ralph_control import LabelInfo
    from wrapix_tui.widgets.run_panel import RunPanel

log = logging.getLogger("wrapix.tui.ralph")


class RalphPane(Pane):
    BORDER_TITLE = "Ralph"
    MAIN = "#ralph-specs"
    NOTE = "#ralph-note"
    LOADING = "Still loading…"
    FAILURES: ClassVar[dict[str, Failure]] = {
        "ralph.load": Failure("the board could not be loaded", source="ralph"),
        "ralph.watch": Failure("the board stopped updating", source="ralph"),
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="ralph.open"),
        Binding("s", "step", "Step", id="ralph.step"),
        Binding("l", "loop", "Loop", id="ralph.loop"),
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
    """``step`` or ``loop`` while a run is going on (mirrors :attr:`run`)."""
    stopping: var[bool] = var(False, init=False)
    """A stop was asked and the run is cleaning up (mirrors :attr:`run`)."""

    def __init__(self, workspace: Path) -> None:
        super().__init__("ralph", note=LOADING)
        self.workspace = workspace
        self.run = RalphRun(workspace, self)
        self.watcher: Any = None
        """The workspace watcher once the board is loaded (``watcher.ready``: watching)."""
        self._screen_changed = asyncio.Event()

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(
            self, lambda _screen: self._screen_changed.set())

    def compose(self) -> ComposeResult:
        with BoardView():
            yield SpecList(id="ralph-specs")
            yield Static("", id="ralph-info")
            yield self.compose_note("ralph-note")
            yield IssueList(id="ralph-issues")

    @property
    def board_view(self) -> BoardView:
        return self.query_one(BoardView)

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
        self._load_board()

    @work(exclusive=True, group="ralph.load", exit_on_error=False)
    async def _load_board(self) -> None:
        from wrapix_core.specs.board import load_board
        from wrapix_core.tasks.store import open_store

        try:
            store = await asyncio.to_thread(open_store, self.workspace)
            board = await load_board(self.workspace, store)
        except WrapixError as exc:
            self.post_message(BoardProblem(str(exc), lasting=True))
            return
        self.post_message(BoardChanged(board))
        self._watch_board(board, store)

    @work(exclusive=True, group="ralph.watch", exit_on_error=False)
    async def _watch_board(self, board: Board, store: Any) -> None:
        from wrapix_core.specs.events import GitRedirection, IssuesChanged, WatchProblem
        from wrapix_core.specs.inotify_watch import InotifyWorkspaceWatcher

        # inotify read by the loop: a change wakes it, nothing polls (idle CPU, P8)
        watcher = self.watcher = InotifyWorkspaceWatcher(self.workspace, board=board,
                                                         store=store)
        try:
            async with contextlib.aclosing(watcher.events()) as events:  # type: ignore[type-var]
                async for event in events:
                    if isinstance(event, WatchProblem):
                        self.post_message(BoardProblem(event.message))
                        continue
                    if isinstance(event, GitRedirection):  # live: a sandbox writes .git
                        self.wrapix_app.post_message(GitChecked(
                            str(self.workspace), list(event.findings), thorough=False))
                        continue
                    if isinstance(event, IssuesChanged):  # readiness over every issue
                        board = await asyncio.to_thread(board.apply, event)
                    else:  # one spec or the index: cheap, and on the fast path (P3)
                        board = board.apply(event)
                    self.post_message(BoardChanged(board, event))
        finally:
            watcher.stop()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in loading or watching is logged and posted (a banner), and the note
        says it too."""
        failure = worker_failures.report(self, event, self.FAILURES)
        if failure is not None and event.worker.group in self.FAILURES:
            self.problem = f"{failure.what}: {event.worker.error!r}"

    def on_board_problem(self, message: BoardProblem) -> None:
        if message.lasting:
            self.wrapix_app.post_message(_problem(message.text))
        self.problem = message.text

    def on_board_changed(self, message: BoardChanged) -> None:
        from wrapix_core.specs.events import IssuesChanged

        first = self.board is None
        if self.problem:  # the watcher delivered again: the problem has passed
            self.problem = ""
            self.wrapix_app.post_message(_solved())
        shown = self.board_view.show(message.board, self.selected,
                                     isinstance(message.event, IssuesChanged))
        self.set_reactive(RalphPane.selected, shown)  # its spec may have gone
        self._show_note()
        self.title = title_text(self.board, self.running)
        for screen in self.app.screen_stack:  # the issue detail, the review
            screen.post_message(BoardUpdated(message.board))
        if first:
            # Start-up is over: what exists now (modules, widgets, the first board's tens
            # of thousands of issues) lives long. Keep it out of the cyclic collector's
            # full passes, which otherwise stall the loop ~100 ms now and then. Board data
            # has no reference cycles: it is still freed by reference counting.
            gc.freeze()
            if getattr(self.app, "exit_after_board", False):
                self.call_after_refresh(self.app.exit)  # the board benchmarks end here

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

    def _start(self, mode: str) -> None:
        if not self.ready():
            return
        assert self.core is not None
        if self.running:
            self.app.notify(f"A {self.running} is already running "
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
                            f"{fmt.safe(proposal.issue.id, 60).plain}: it opens when you "
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
        self.app.notify(fmt.safe(text, limit).plain, title=title,
                        severity=severity,  # type: ignore[arg-type]
                        timeout=timeout)

    def watch_running(self, running: str | None) -> None:
        self.title = title_text(self.board, running)
        panel = self._panel(mount=bool(running))
        if panel is not None:
            panel.follow(bool(running))

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
        panel = RunPanel(self.run, lambda: str(self.wrapix_app.key_for("ralph.stop")))
        self.mount(panel)
        return panel

    def action_stop(self) -> None:
        if not self.running:
            self.app.notify("Nothing is running.")
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
            self.app.notify(f"{fmt.safe(issue_id, 60).plain} has no open question.",
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
            self.app.notify(fmt.safe(str(exc), 500).plain, severity="warning", timeout=8)
            return None


def _solved() -> Any:
    from wrapix_tui.messages import ProblemSolved

    return ProblemSolved("ralph")


def _problem(text: str) -> Any:
    from wrapix_tui.messages import Problem

    return Problem(text, source="ralph")
