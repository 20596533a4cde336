"""The live Ralph board: the spec list, the selected spec's line, a note, the issue list.

The board is the core's :class:`~wrapix_core.specs.board.Board`, loaded in a worker after
the first frame; then the workspace watcher
(:class:`~wrapix_core.specs.inotify_watch.InotifyWorkspaceWatcher`: inotify read by the
event loop, nothing polled) feeds it one event at a time. Each new board is posted as a
:class:`~wrapix_tui.messages.BoardChanged`, which bubbles to the pane: it has it shown
here (:meth:`BoardView.show`) with its title and note, in one frame. Only what changed
is redrawn: the spec rows whose card changed, and the issue
list only when issues changed or the selected spec's card did. The cursor stays on its
spec and issue across updates, the scroll position with it. Every string from issues and
specs is shown as inert text.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import Worker

from wrapix_core.errors import WrapixError
from wrapix_core.units import plural
from wrapix_tui import board_model as model
from wrapix_tui import format as fmt
from wrapix_tui import worker_failures
from wrapix_tui.messages import BoardChanged, BoardProblem, GitChecked
from wrapix_tui.widgets.ralph_lists import IssueList, SpecList
from wrapix_tui.worker_failures import Failure

if TYPE_CHECKING:
    from wrapix_core.specs.board import Board, SpecCard
    from wrapix_core.tasks.model import Issue

LOADING = Text("Loading the board…", style="dim")


class BoardView(Vertical):
    """The board's lists and lines, drawn for the spec the pane has selected (its
    children are composed by the pane: the note between them is the pane's)."""

    FAILURES: ClassVar[dict[str, Failure]] = {
        "ralph.load": Failure("the board could not be loaded", source="ralph"),
        "ralph.watch": Failure("the board stopped updating", source="ralph"),
    }

    def __init__(self, workspace: Path) -> None:
        super().__init__(id="ralph-board")
        self.workspace = workspace
        self.watcher: Any = None
        """The workspace watcher once the board is loaded (``watcher.ready``: watching)."""
        self.board: Board | None = None
        self.selected = model.ALL
        """The spec shown (the pane's :attr:`~wrapix_tui.widgets.ralph.RalphPane.selected`)."""
        self.expanded: set[str] = set()
        self.collapsed: set[str] = set()
        self.shown_at: dict[str, float] = {}
        """perf_counter() when each spec's row was last updated on screen (benchmarks)."""
        self._spec_rows: dict[str, model.SpecRow] = {}
        self._issue_rows: dict[str, model.Row] = {}
        self._issues_for: tuple[str, int] | None = None
        self._info: Text | None = None
        self.marks: dict[str, str] = {}
        """Issue id → the state of the parallel step working it (marked on its row)."""

    @property
    def specs(self) -> SpecList:
        return self.query_one("#ralph-specs", SpecList)

    @property
    def issues(self) -> IssueList:
        return self.query_one("#ralph-issues", IssueList)

    # -- load, then follow the watcher ---------------------------------------------------
    def load(self) -> None:
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
        from wrapix_core.ralph.state import ralph_paths
        from wrapix_core.specs.events import (
            GitRedirection,
            IssuesChanged,
            StateChanged,
            WatchProblem,
        )
        from wrapix_core.specs.inotify_watch import InotifyWorkspaceWatcher
        from wrapix_tui.widgets.ralph_steps import RunsChanged, read_if_changed

        # inotify read by the loop: a change wakes it, nothing polls (idle CPU, P8);
        # Ralph's state/ too: the running steps of parallel loops (ralph_steps)
        paths = ralph_paths(self.workspace)
        watcher = self.watcher = InotifyWorkspaceWatcher(
            self.workspace, board=board, store=store, state=paths.state_dir,
            state_anchor=paths.anchor)
        try:
            async with contextlib.aclosing(watcher.events()) as events:  # type: ignore[type-var]
                async for event in events:
                    if isinstance(event, StateChanged):
                        runs = await read_if_changed(paths, event)
                        if runs is not None:
                            self.post_message(RunsChanged(runs))
                        continue
                    if isinstance(event, WatchProblem):
                        self.post_message(BoardProblem(event.message))
                        continue
                    if isinstance(event, GitRedirection):  # live: a sandbox writes .git
                        self.app.post_message(GitChecked(
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
        """A bug in loading or watching: logged, posted (a banner), and in the note."""
        failure = worker_failures.report(self, event, self.FAILURES)
        if failure is not None:
            self.post_message(BoardProblem(f"{failure.what}: {event.worker.error!r}"))

    # -- a new board, another spec ------------------------------------------------------
    def show(self, board: Board, issues_changed: bool) -> None:
        """Show ``board`` (``issues_changed``: the issues, not only specs, changed); if
        the selected spec went away, every issue."""
        old, self.board = self.board, board
        self._show_specs(board)
        card = board.card(self.selected) if self.selected != model.ALL else None
        if card is None:
            self.selected = model.ALL
        signature = (self.selected, id(card) if card is not None else id(board.issues))
        if old is None or issues_changed or signature != self._issues_for:
            self._show_issues()
        self._show_info()

    def set_marks(self, marks: dict[str, str]) -> None:
        """The issues parallel steps work now: their rows are marked (redrawn on change)."""
        if marks != self.marks:
            self.marks = marks
            self._show_issues()

    def select(self, selected: str) -> None:
        """Show spec ``selected`` (:data:`~wrapix_tui.board_model.ALL`: every issue)."""
        self.selected = selected
        self._show_issues()
        self._show_info()

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
        for row in model.issue_rows(board, self.selected, self.expanded, self.collapsed,
                                    self.marks):
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
        if board is None:
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
        parts += [f"{count} {fmt.plain(status.replace('_', ' '), 20)}"  # free text
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
            self.query_one("#ralph-info", Static).update(text)

    def note_text(self, problem: str) -> Text | None:
        """The note under the lists: the problem, why they are empty, or None."""
        if problem:
            return Text("! ", style="bold red") + fmt.safe(problem, 300)
        board = self.board
        if board is None:
            return LOADING
        if not self.issues.rows:
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

    # -- groups and selection -------------------------------------------------------------
    def toggle(self, row: model.GroupRow) -> None:
        """Expand a collapsed group, collapse an expanded one."""
        name = row.group
        if row.expanded:
            self.collapsed.add(name)
            self.expanded.discard(name)
        else:
            self.expanded.add(name)
            self.collapsed.discard(name)
        self._show_issues()

    def selected_issue(self) -> Issue | None:
        row = self.issues.current
        return row.issue if isinstance(row, model.IssueRow) else None

    def selected_card(self) -> SpecCard | None:
        """The card of the spec shown (None for every issue, or before the board)."""
        if self.board is None or self.selected == model.ALL:
            return None
        return self.board.card(self.selected)

    def spec_row(self, key: str) -> model.SpecRow | None:
        """The row shown for spec ``key`` (the same object while it is unchanged)."""
        return self._spec_rows.get(key)


def title_text(board: Board | None, running: str | None, steps: int = 0) -> str:
    """The pane's border title: the board in numbers, and the run going on (``steps``:
    the parallel loops' running steps, from any terminal)."""
    if board is None:
        return "Ralph"
    parts = [f"Ralph · {plural(len(board.cards), 'spec')}", f"{len(board.issues.ready)} ready"]
    if board.issues.clarify:
        parts.append(plural(len(board.issues.clarify), "question"))
    if board.issues.awaiting_review:
        parts.append(f"{board.issues.awaiting_review} to review")
    if steps:
        parts.append(f"{steps} running")
    elif running:
        parts.append(f"{running} running")
    return " · ".join(parts)
