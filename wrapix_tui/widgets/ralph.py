"""The Ralph board pane: specs with criteria progress, the selected spec's issues by status,
and Ralph driven from here (next step, supervised loop, stop) with live progress.

- The board is the core's :class:`~wrapix_core.specs.board.Board`. It is loaded in a
  worker after the first frame, then the workspace watcher
  (:class:`~wrapix_core.specs.inotify_watch.InotifyWorkspaceWatcher`: inotify read by the
  event loop, nothing polled) feeds it one event at a time; each new board is posted to
  this pane, which redraws only what changed: the spec rows whose card changed, and the
  issue list only when issues changed or the selected spec's card did.
- Both lists render only the rows on screen (:class:`~wrapix_tui.widgets.rowlist.RowList`);
  the cursor stays on its spec and issue across updates, the scroll position with it.
- Runs use the core's :class:`~wrapix_core.ralph.engine.Engine` in an async worker with
  an approval callback that waits for the approval modal; the stop key answers a pending
  approval with "stop", or cancels a running step (the engine puts its issue back); a
  quit during a run asks, then stops it the same way and waits for that before exiting.
- Every string from issues, specs and the agent is shown as inert text.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from wrapix_core.errors import WrapixError
from wrapix_core.units import plural
from wrapix_tui import board_model as model
from wrapix_tui import format as fmt
from wrapix_tui.messages import (
    BoardChanged,
    BoardProblem,
    GitChecked,
    RalphEvent,
    RalphOutput,
    RalphRunEnded,
)
from wrapix_tui.widgets.rowlist import RowList

if TYPE_CHECKING:
    from wrapix_core.ralph.events import Decision, OutputTail, StepProposal, StepResult
    from wrapix_core.specs.board import Board, SpecCard
    from wrapix_core.tasks.model import Issue
    from wrapix_tui.app import WrapixApp
    from wrapix_tui.core import Core
    from wrapix_tui.ralph_control import LabelInfo

log = logging.getLogger("wrapix.tui.ralph")

TAIL_LINES = 4
"""Agent output lines shown under the running issue."""
OUTPUT_FLUSH = 0.1
"""Seconds to gather agent output into one redraw."""
RESULT_LINES = 8

STATUS_STYLE = {"open": "", "in_progress": "bold yellow", "blocked": "red",
                "closed": "dim green", "deferred": "dim", "pinned": "dim"}
GROUP_STYLE = {"ready": "bold green", "in_progress": "bold yellow", "blocked": "bold red",
               "clarify": "bold magenta", "proposed": "bold cyan", "other": "bold",
               "closed": "bold dim"}
PRIORITY_STYLE = {0: "bold red", 1: "bold yellow", 2: "", 3: "dim", 4: "dim"}


def progress_bar(done: int, total: int, width: int = 8) -> Text:
    if total <= 0:
        return Text("·" * width, style="dim")
    filled = round(width * done / total)
    bar = Text("█" * filled, style="green")
    bar.append("░" * (width - filled), style="dim")
    return bar


class SpecList(RowList[model.SpecRow]):
    def render_row(self, row: model.SpecRow, width: int) -> Text:
        text = Text()
        card = row.card
        if card is None:
            text.append("all issues".ljust(18), style="bold")
            text.append(" " * 14)
        else:
            name = fmt.safe(card.name, 60, style="" if card.present else "dim strike")
            name.truncate(18, overflow="ellipsis", pad=True)
            text.append(name)
            text.append(" ")
            text.append(progress_bar(card.criteria_done, card.criteria_total))
            text.append(f" {card.criteria_done}/{card.criteria_total}".ljust(6))
        text.append(f"{row.total:>5} ")
        text.append(f"{row.ready:>3} ready", style="green" if row.ready else "dim")
        if row.clarify:
            text.append(f"  ?{row.clarify}", style="bold magenta")
        if row.proposed:
            text.append(f"  ◇{row.proposed}", style="bold cyan")
        if card is not None:
            if card.state:
                text.append(f"  {card.state}", style="bold yellow" if card.state == "WIP"
                            else "bold cyan")
            if card.epic:
                text.append("  ")
                text.append(fmt.safe(card.epic, 40, style="dim"))
            ann = card.annotations
            if ann.verify or ann.judge:
                text.append(f"  v{ann.verify} j{ann.judge}", style="dim")
            if card.problems:
                text.append("  !", style="bold red")
        return text


class IssueList(RowList[model.Row]):
    def render_row(self, row: model.Row, width: int) -> Text:
        if isinstance(row, model.GroupRow):
            mark = "▾" if row.expanded else "▸"
            text = Text(f"{mark} ", style=GROUP_STYLE.get(row.group, "bold"))
            text.append(row.label.upper() if row.group != "closed" else "closed",
                        style=GROUP_STYLE.get(row.group, "bold"))
            text.append(f" ({row.count})", style="dim")
            if not row.expanded:
                text.append("  enter shows them", style="dim")
            return text
        issue = row.issue
        text = Text("  ")
        text.append(f"{row.position:>2}. " if row.position else "    ", style="green")
        text.append(fmt.safe(issue.id, 40, style="bold" if row.group != "closed" else "dim"))
        text.append(f" P{issue.priority}", style=PRIORITY_STYLE.get(issue.priority, ""))
        text.append(" ")
        text.append(fmt.safe(issue.issue_type, 10, style="dim"))
        text.append(" ")
        if "ralph:proposed" in issue.labels:
            text.append("◇ ", style="bold cyan")
        if row.blockers:  # before the title: it is what the group is about
            text.append("⟵ ", style="red")
            for index, blocker in enumerate(row.blockers[:3]):
                if index:
                    text.append(", ", style="red")
                if blocker.kind == "parent":
                    text.append("parent ", style="red")
                text.append(fmt.safe(blocker.id, 40, style="red"))
                text.append(" (", style="dim")
                text.append(fmt.safe(blocker.status, 20, style="dim"))
                text.append(")", style="dim")
            text.append("  ")
        text.append(fmt.safe(issue.title, 200, style="dim" if row.group == "closed" else ""))
        return text


class RalphPane(Vertical):
    ALLOW_MAXIMIZE = True
    BORDER_TITLE = "Ralph"

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

    def __init__(self, workspace: Path) -> None:
        super().__init__(id="ralph", classes="pane")
        self.workspace = workspace
        self.core: Core | None = None
        self.board: Board | None = None
        self.selected = model.ALL
        self.expanded: set[str] = set()
        self.collapsed: set[str] = set()
        self.problem = ""
        self.shown_at: dict[str, float] = {}
        """perf_counter() when each spec's row was last updated on screen (benchmarks)."""
        self.running: str | None = None
        """``step`` or ``loop`` while a run is going on."""
        self.run_label: str | None = None
        self.stopping = False
        """The stop key was pressed: the run is cancelled once, then left to clean up."""
        self.current: Any = None
        """The StepStarted of the step running now."""
        self.command: Any = None
        """The CommandStarted of the check or hook running now, and when it started."""
        self._command_at = 0.0
        self._ended = asyncio.Event()
        """Set while no run is going on (a quit waits for it after stopping one)."""
        self._ended.set()
        self.results: list[str] = []
        self.tail: OutputTail | None = None
        self._tail_lock = threading.Lock()
        self._output_timer: Any = None
        self._clock: Any = None
        self._approval: Any = None
        self._asking: StepProposal | None = None
        """The step waiting for an answer (its modal may wait for the board)."""
        self._screen_changed = asyncio.Event()
        self._spec_rows: dict[str, model.SpecRow] = {}
        self._issue_rows: dict[str, model.Row] = {}
        self._issues_for: tuple[str, int] | None = None
        self.watcher: Any = None
        self._info: Text | None = None
        self._note: Text | None = Text("Loading the board…", style="dim")
        """What the note shows now (as composed)."""
        """The workspace watcher once the board is loaded (``watcher.ready``: watching)."""

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(
            self, lambda _screen: self._screen_changed.set())

    def compose(self) -> ComposeResult:
        yield SpecList(id="ralph-specs")
        yield Static("", id="ralph-info")
        yield Static(self._note or "", id="ralph-note")
        yield IssueList(id="ralph-issues")

    @property
    def specs(self) -> SpecList:
        return self.query_one("#ralph-specs", SpecList)

    @property
    def issues(self) -> IssueList:
        return self.query_one("#ralph-issues", IssueList)

    @property
    def wrapix_app(self) -> WrapixApp:
        return self.app  # type: ignore[return-value]

    def focus_main(self) -> None:
        self.screen.set_focus(self.specs)

    # -- the board: load, then follow the watcher ---------------------------------------
    def load(self, core: Core | None = None) -> None:
        self.core = core
        self._watch_board()

    @work(exclusive=True, group="ralph.board")
    async def _watch_board(self) -> None:
        import asyncio

        from wrapix_core.specs.events import GitRedirection, IssuesChanged, WatchProblem
        from wrapix_core.specs.inotify_watch import InotifyWorkspaceWatcher
        from wrapix_core.tasks.store import open_store

        try:
            store = await asyncio.to_thread(open_store, self.workspace)
            board = await asyncio.to_thread(_load_board, self.workspace, store)
        except WrapixError as exc:
            self.post_message(BoardProblem(str(exc), lasting=True))
            return
        except Exception as exc:
            log.exception("loading the Ralph board failed")
            self.post_message(BoardProblem(f"the board could not be loaded: {exc!r}", True))
            return
        self.post_message(BoardChanged(board))
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
        except Exception as exc:
            log.exception("watching the workspace failed")
            self.post_message(BoardProblem(f"the board stopped updating: {exc!r}", True))
        finally:
            watcher.stop()

    def on_board_problem(self, message: BoardProblem) -> None:
        self.problem = message.text
        if message.lasting:
            self.wrapix_app.post_message(_problem(message.text))
        self._update_note()

    def on_board_changed(self, message: BoardChanged) -> None:
        from wrapix_core.specs.events import IssuesChanged

        old, board = self.board, message.board
        self.board = board
        if self.problem:  # the watcher delivered again: what went wrong has passed
            self.problem = ""
            self.wrapix_app.post_message(_solved())
        self._show_specs(board)
        card = board.card(self.selected) if self.selected != model.ALL else None
        if self.selected != model.ALL and card is None:
            self.selected = model.ALL
        signature = (self.selected, id(card) if card is not None else id(board.issues))
        if old is None or isinstance(message.event, IssuesChanged) \
                or signature != self._issues_for:
            self._show_issues()
        self._show_info()
        self._update_title()
        self._update_note()
        self._refresh_open_screens(board, message.event)
        if old is None:
            # Start-up is over: what exists now (modules, widgets, the first board's tens
            # of thousands of issues) lives long. Keep it out of the cyclic collector's
            # full passes, which otherwise stall the loop ~100 ms now and then. Board data
            # has no reference cycles: it is still freed by reference counting.
            gc.freeze()
        if old is None and getattr(self.app, "exit_after_board", False):
            self.call_after_refresh(self.app.exit)  # the board benchmarks end here

    def _show_specs(self, board: Board) -> None:
        rows = []
        fresh: dict[str, model.SpecRow] = {}
        changed: list[str] = []
        for row in model.spec_rows(board):
            old = self._spec_rows.get(row.key)
            if old is not None and old.card is row.card and old == row:
                row = old  # unchanged: its rendered line is reused
            else:
                changed.append(row.key)
            fresh[row.key] = row
            rows.append(row)
        self._spec_rows = fresh
        self.specs.set_rows(rows)
        if changed:
            self.call_after_refresh(self._stamp, changed)

    def _stamp(self, names: list[str]) -> None:
        now = time.perf_counter()
        for name in names:
            self.shown_at[name] = now

    def _show_issues(self) -> None:
        board = self.board
        if board is None:
            return
        card = board.card(self.selected) if self.selected != model.ALL else None
        self._issues_for = (self.selected, id(card) if card is not None else id(board.issues))
        rows = []
        fresh: dict[str, model.Row] = {}
        for row in model.issue_rows(board, self.selected, self.expanded, self.collapsed):
            old = self._issue_rows.get(row.key)
            if old is not None and old == row and (
                    not isinstance(row, model.IssueRow)
                    or (isinstance(old, model.IssueRow) and old.issue is row.issue)):
                row = old
            fresh[row.key] = row
            rows.append(row)
        self._issue_rows = fresh
        self.issues.set_rows(rows)

    def _show_info(self) -> None:
        board = self.board
        info = self.query_one("#ralph-info", Static)
        if board is None:
            info.update("")
            return
        text = Text()
        card = board.card(self.selected) if self.selected != model.ALL else None
        summary = card.issues if card is not None else board.issues
        if card is None:
            text.append("All issues", style="bold")
        else:
            text.append(fmt.safe(card.title or card.name, 120, style="bold"))
            text.append("  ")
            text.append(fmt.safe(f"specs/{card.file}", 80, style="dim"))
            if card.epic:
                text.append("  epic ")
                text.append(fmt.safe(card.epic, 40))
        counts = summary.by_status
        parts = [plural(summary.total, "issue"), f"{len(summary.ready)} ready"]
        parts += [f"{count} {fmt.safe(status.replace('_', ' '), 20).plain}"  # free text
                  for status, count in counts.items() if status not in ("open",) and count]
        if summary.clarify:
            parts.append(f"{len(summary.clarify)} ? to answer")
        if summary.awaiting_review:
            parts.append(f"{summary.awaiting_review} to review")
        text.append("\n")
        text.append(" · ".join(parts), style="dim")
        if card is not None and card.criteria_total:
            ann = card.annotations
            text.append(f" · criteria {card.criteria_done}/{card.criteria_total} (verify "
                        f"{ann.verify}, judge {ann.judge}, {ann.unannotated} bare)",
                        style="dim")
        problems = list(card.problems) if card is not None else list(board.problems)
        if problems:
            text.append("\n")
            text.append("! ", style="bold red")
            text.append(fmt.safe(problems[0], 200, style="red"))
            if len(problems) > 1:
                text.append(f" (+{len(problems) - 1} more)", style="dim")
        if text != self._info:  # an update lays the pane out again: only on change
            self._info = text
            info.update(text)

    def _update_title(self) -> None:
        board = self.board
        if board is None:
            self.border_title = Text("Ralph")
            return
        parts = [f"Ralph · {plural(len(board.cards), 'spec')}",
                 f"{len(board.issues.ready)} ready"]
        if board.issues.clarify:
            count = len(board.issues.clarify)
            parts.append(plural(count, "question"))
        if board.issues.awaiting_review:
            parts.append(f"{board.issues.awaiting_review} to review")
        if self.running:
            parts.append(f"{self.running} running")
        self.border_title = Text(" · ".join(parts))

    def _update_note(self) -> None:
        text = self._note_text()
        if text == self._note:
            return
        self._note = text
        note = self.query_one("#ralph-note", Static)
        note.display = text is not None
        if text is not None:
            note.update(text)

    def _note_text(self) -> Text | None:
        if self.board is None and not self.problem:
            return Text("Loading the board…", style="dim")
        if self.problem:
            return Text("! ", style="bold red") + fmt.safe(self.problem, 300)
        if not self.issues.rows:
            board = self.board
            assert board is not None
            if not board.cards and not board.issues.total:
                hint = ("No specs or issues here yet. `ralph start LABEL` begins one; "
                        "specs/ and .beads/ are watched, so they appear as they are written.")
            elif self.selected == model.ALL:
                hint = "No issues yet: `ralph ready LABEL` turns a spec into issues."
            else:
                hint = (f"No issues for this spec yet: `ralph ready {self.selected}` turns it "
                        "into issues.")
            return Text(hint, style="dim")
        return None

    # -- selection --------------------------------------------------------------------
    @on(RowList.Highlighted, "#ralph-specs")
    def _spec_highlighted(self, event: RowList.Highlighted) -> None:
        key = event.row.key
        if key != self.selected:
            self.selected = key
            self._show_issues()
            self._show_info()
            self._update_note()

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
            name = row.group
            if row.expanded:
                self.collapsed.add(name)
                self.expanded.discard(name)
            else:
                self.expanded.add(name)
                self.collapsed.discard(name)
            self._show_issues()
            return
        from wrapix_tui.screens.issue import IssueScreen

        if self.board is not None:
            self.app.push_screen(IssueScreen(self.workspace, self.board, row.issue.id))

    def selected_issue(self) -> Issue | None:
        row = self.issues.current
        return row.issue if isinstance(row, model.IssueRow) else None

    def selected_card(self) -> SpecCard | None:
        if self.board is None or self.selected == model.ALL:
            return None
        return self.board.card(self.selected)

    def _refresh_open_screens(self, board: Board, event: Any) -> None:
        for screen in self.app.screen_stack:
            update = getattr(screen, "board_changed", None)
            if update is not None:
                update(board)

    # -- driving Ralph ------------------------------------------------------------------
    def _ready(self) -> bool:
        if self.core is None or self.board is None:
            self.app.notify("Still loading…", severity="warning", markup=False)
            return False
        return True

    def action_step(self) -> None:
        self._start("step")

    def action_loop(self) -> None:
        self._start("loop")

    def _start(self, mode: str) -> None:
        if not self._ready():
            return
        if self.running:
            self.app.notify(f"A {self.running} is already running "
                            f"({self.wrapix_app.key_for('ralph.stop')} stops it).",
                            severity="warning", markup=False)
            return
        info = self._selected_label()
        if info is None:
            return
        self.running = mode
        self._ended.clear()
        self.run_label = info.label
        self.current = None
        self.results = []
        self._run_panel().display = True
        self._update_title()
        self._show_run()
        self._clock = self.set_interval(1.0, self._show_run)
        self._run(mode, info)

    @work(exclusive=True, group="ralph.run")
    async def _run(self, mode: str, info: LabelInfo) -> None:
        from wrapix_core.ralph.engine import Engine
        from wrapix_core.ralph.events import OutputTail

        assert self.core is not None
        with self._tail_lock:
            self.tail = OutputTail(limit=50)
        error = ""
        stopped = False
        try:
            engine = Engine(self.workspace, settings=self.core.settings,
                            on_event=self._on_engine_event)
            if mode == "step":
                await engine.step(info.label, approve=self._approve)
            else:
                await engine.loop(info.label, approve=self._approve)
        except WrapixError as exc:
            error = str(exc)
        except BaseException as exc:
            import asyncio

            if isinstance(exc, asyncio.CancelledError):
                stopped = True
                self.post_message(RalphRunEnded(stopped=True))
                raise
            log.exception("the Ralph run failed")
            error = f"the run failed: {exc!r}"
        self.post_message(RalphRunEnded(error, stopped))

    async def _approve(self, proposal: StepProposal) -> Decision:
        """The engine's approval callback: a modal, awaited; nothing runs without it.

        The modal opens only over the board: over another screen (an answer being typed,
        an issue being read) its keys would take the person's keystrokes as decisions.
        A modal that goes away without an answer means stop, never "wait for ever".
        """
        from wrapix_core.ralph.events import Decision
        from wrapix_tui.screens.approval import ApprovalScreen

        self._asking = proposal
        self._show_run()
        try:
            if self.app.screen is not self.screen:
                self.app.notify(f"Ralph waits for your approval of "
                                f"{fmt.safe(proposal.issue.id, 60).plain}: it opens when you "
                                "are back on the board.", timeout=8, markup=False)
                while self.app.screen is not self.screen:
                    self._screen_changed.clear()
                    await self._screen_changed.wait()
            answer: asyncio.Future[Decision | None] = asyncio.get_running_loop().create_future()

            def answered(decision: Decision | None) -> None:
                if not answer.done():
                    answer.set_result(decision)

            screen = ApprovalScreen(proposal, on_gone=answered)
            self._approval = screen
            self.app.push_screen(screen, answered)
            decision = await answer
        finally:
            self._approval = self._asking = None
        chosen = decision if decision is not None else Decision.STOP
        if chosen == Decision.SKIP:
            self._add_result(f"· skipped {proposal.issue.id}", "dim")
        return chosen

    def _on_engine_event(self, event: Any) -> None:
        """Called by the engine, in order; agent output is coalesced into one redraw."""
        from wrapix_core.ralph.events import AgentLine, CommandLine

        if isinstance(event, AgentLine | CommandLine):
            with self._tail_lock:
                if self.tail is not None:
                    self.tail.add(event)
            if self._output_timer is None:
                self._output_timer = self.set_timer(OUTPUT_FLUSH, self._flush_output)
            return
        self.post_message(RalphEvent(event))

    def _flush_output(self) -> None:
        self._output_timer = None
        self.post_message(RalphOutput())

    def on_ralph_output(self, message: RalphOutput) -> None:
        self._show_run()

    def on_ralph_event(self, message: RalphEvent) -> None:
        from wrapix_core.ralph.events import (
            AttemptFailed,
            CommandEnded,
            CommandStarted,
            LoopEnded,
            Note,
            StepEnded,
            StepStarted,
        )
        from wrapix_tui.ralph_control import command_ended_line, command_started_line

        event = message.event
        if isinstance(event, StepStarted):
            self.current = event
            with self._tail_lock:
                if self.tail is not None and event.attempt == 1:
                    self.tail.lines.clear()
        elif isinstance(event, AttemptFailed):
            self._add_result(f"✗ {event.issue_id} attempt {event.attempt} failed: "
                             f"{event.reason}", "red")
        elif isinstance(event, StepEnded):
            self._step_ended(event.result)
        elif isinstance(event, CommandStarted):
            self.command, self._command_at = event, time.time()
            self._add_result(command_started_line(event), "cyan")
        elif isinstance(event, CommandEnded):
            self.command = None
            self._add_result(*command_ended_line(event))
        elif isinstance(event, LoopEnded):
            summary = event.result.summary()
            style = "bold red" if event.result.exit_code == 1 else "bold"
            for line in summary:
                self._add_result(line, style)
        elif isinstance(event, Note):
            self.app.notify(fmt.safe(event.message, 300).plain,
                            severity="warning" if event.level == "warning" else "information",
                            markup=False)
        self._show_run()

    def _step_ended(self, result: StepResult) -> None:
        from wrapix_tui.ralph_control import notification_for, result_line

        self.current = None
        outcome = str(result.outcome)
        style = {"completed": "green", "clarify": "magenta", "failed": "red",
                 "stuck": "yellow", "stopped": "yellow"}.get(outcome, "dim")
        line = result_line(result)
        self._add_result(line, style)
        if outcome in ("completed", "clarify", "failed", "stuck"):
            severity = {"failed": "error", "stuck": "warning"}.get(outcome, "information")
            self.app.notify(fmt.safe(line, 300).plain, title="Ralph", severity=severity,  # type: ignore[arg-type]
                            timeout=8, markup=False)
        note = notification_for(result)
        if note is not None:
            self._send_notification(*note)

    @work(group="ralph.notify")
    async def _send_notification(self, title: str, message: str) -> None:
        from wrapix_core.ralph import clarify
        from wrapix_tui.ralph_control import NOTIFY_KIND

        await clarify.notify(title, message, kind=NOTIFY_KIND)

    def _add_result(self, line: str, style: str) -> None:
        self.results.append(f"{style}\x00{line}")
        del self.results[:-RESULT_LINES]
        self._show_run()

    def on_ralph_run_ended(self, message: RalphRunEnded) -> None:
        if message.error:
            self._add_result(f"✗ {message.error}", "red")
            self.app.notify(fmt.safe(message.error, 500).plain, severity="error", timeout=10,
                            markup=False)
        elif message.stopped:
            self._add_result("■ stopped (the running step's issue was put back)", "yellow")
        self.running = None
        self.stopping = False
        self.current = self.command = None
        if self._clock is not None:
            self._clock.stop()
            self._clock = None
        self._update_title()
        self._show_run()
        self._ended.set()

    def action_stop(self) -> None:
        if not self.running:
            self.app.notify("Nothing is running.", markup=False)
            return
        if self.stopping:  # a second cancel would cut short the engine's clean-up
            self.app.notify("Stopping: the running step's issue is being put back…",
                            markup=False)
            return
        self.stop_run()

    def stop_run(self) -> None:
        """Stop the run: a pending approval is answered "stop", a running step is
        cancelled once (the engine then puts its issue back, clears its running record
        and frees its lock)."""
        from wrapix_core.ralph.events import Decision

        if not self.running or self.stopping:
            return
        if self._approval is not None and self.app.screen is self._approval:
            self._approval.dismiss(Decision.STOP)
            return
        self.stopping = True
        for worker in self.workers:
            if worker.group == "ralph.run":
                worker.cancel()
        self._show_run()

    async def stop_and_wait(self, timeout: float) -> bool:
        """Stop the run and wait for its clean-up; False if it outlasts ``timeout``."""
        self.stop_run()
        try:
            await asyncio.wait_for(self._ended.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def run_summary(self) -> str | None:
        """What a quit would stop, in a sentence; None when nothing runs."""
        if not self.running:
            return None
        if self.current is not None:
            what = fmt.safe(self.current.issue.id, 40).plain
        elif self._asking is not None:
            what = f"waiting for your approval of {fmt.safe(self._asking.issue.id, 40).plain}"
        else:
            what = f"label {fmt.safe(self.run_label, 40).plain}"
        return f"A Ralph {self.running} is running ({what})."

    def _run_panel(self) -> Static:
        panels = self.query("#ralph-run")
        if panels:
            return panels.first(Static)
        panel = Static("", id="ralph-run")
        self.mount(panel)
        return panel

    def _show_run(self) -> None:
        panels = self.query("#ralph-run")
        if not panels:
            return
        text = Text()
        if self.running:
            text.append(f" {self.running} ", style="bold reverse green")
            text.append(f" {self.run_label} ", style="bold")
            current = self.current
            if current is not None:
                elapsed = max(0.0, time.time() - current.started)
                text.append(fmt.safe(current.issue.id, 40, style="bold"))
                text.append(" ")
                text.append(fmt.safe(current.issue.title, 80))
                text.append(f"  {fmt.age(elapsed)}", style="yellow")
                if current.attempt > 1:
                    text.append(f"  attempt {current.attempt}/{current.attempts}",
                                style="red")
                text.append(f"  {current.where}", style="dim")
                if self.command is not None:
                    text.append(f"\n ▷ {self.command.kind} ", style="bold cyan")
                    text.append(fmt.safe(self.command.name, 80, style="bold"))
                    text.append(f"  {fmt.age(max(0.0, time.time() - self._command_at))}",
                                style="yellow")
            elif self.command is not None:
                text.append(f"{self.command.kind} ", style="bold cyan")
                text.append(fmt.safe(self.command.name, 80, style="bold"))
            elif self._asking is not None:
                text.append("waiting for your approval of ", style="yellow")
                text.append(fmt.safe(self._asking.issue.id, 40, style="bold yellow"))
            else:
                text.append("choosing the next issue…", style="dim")
            if self.stopping:
                text.append("   stopping…", style="bold yellow")
            else:
                text.append(f"   {self.wrapix_app.key_for('ralph.stop')} stops", style="dim")
            with self._tail_lock:
                lines = list(self.tail.lines[-TAIL_LINES:]) if self.tail else []
            for line in (line for line in lines if line.strip()):
                text.append("\n │ ", style="dim")
                text.append(fmt.safe(line, 300, style="dim"))
        else:
            text.append(" last run ", style="bold reverse")
            if self.run_label:
                text.append(f" {self.run_label}", style="bold")
        for entry in self.results:
            style, _, line = entry.partition("\x00")
            text.append("\n ")
            text.append(fmt.safe(line, 300, style=style))
        panels.first(Static).update(text)

    # -- clarify and review ------------------------------------------------------------
    def action_answer(self) -> None:
        if not self._ready():
            return
        assert self.board is not None
        issue = self.selected_issue()
        if issue is None or "ralph:clarify" not in issue.labels or issue.is_closed:
            card = self.selected_card()
            summary = card.issues if card is not None else self.board.issues
            if not summary.clarify:
                self.app.notify("No question waits for an answer here.", markup=False)
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
            self.app.notify("Still loading the board…", severity="warning", markup=False)
            return
        issue = self.board.readiness.by_id.get(issue_id)
        if issue is None or "ralph:clarify" not in issue.labels or issue.is_closed:
            self.app.notify(f"{fmt.safe(issue_id, 60).plain} has no open question.",
                            severity="warning", markup=False)
            return
        self.app.push_screen(ClarifyScreen(self.workspace, issue))

    def action_review(self) -> None:
        if not self._ready():
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
            self.app.notify(fmt.safe(str(exc), 500).plain, severity="warning", timeout=8,
                            markup=False)
            return None


def _load_board(workspace: Path, store: Any) -> Board:
    """Read specs, index and issues into a Board (blocking: call from a thread)."""
    import asyncio

    from wrapix_core.specs.board import load_board

    return asyncio.run(load_board(workspace, store))


def _solved() -> Any:
    from wrapix_tui.messages import ProblemSolved

    return ProblemSolved("ralph")


def _problem(text: str) -> Any:
    from wrapix_tui.messages import Problem

    return Problem(text, source="ralph")
