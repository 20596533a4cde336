"""The Ralph board's view: the spec list, the selected spec's line, a note, the issue list.

It is given each new board (:meth:`BoardView.show`) and redraws only what changed: the
spec rows whose card changed, and the issue list only when issues changed or the
selected spec's card did. The cursor stays on its spec and issue across updates, the
scroll position with it. Every string from issues and specs is shown as inert text.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from wrapix_core.units import plural
from wrapix_tui import board_model as model
from wrapix_tui import format as fmt
from wrapix_tui.widgets.ralph_lists import IssueList, SpecList

if TYPE_CHECKING:
    from wrapix_core.specs.board import Board, SpecCard
    from wrapix_core.tasks.model import Issue

LOADING = Text("Loading the board…", style="dim")


class BoardView(Vertical):
    """The board's lists and lines, drawn for the spec the pane has selected (its
    children are composed by the pane: the note between them is the pane's)."""

    def __init__(self) -> None:
        super().__init__(id="ralph-board")
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

    @property
    def specs(self) -> SpecList:
        return self.query_one("#ralph-specs", SpecList)

    @property
    def issues(self) -> IssueList:
        return self.query_one("#ralph-issues", IssueList)

    # -- a new board, another spec ------------------------------------------------------
    def show(self, board: Board, selected: str, issues_changed: bool) -> str:
        """Show ``board`` for spec ``selected`` (``issues_changed``: the issues, not only
        specs, changed); the spec shown: ``selected``, or every issue if it went away."""
        old, self.board = self.board, board
        self._show_specs(board)
        card = board.card(selected) if selected != model.ALL else None
        self.selected = selected if card is not None else model.ALL
        signature = (self.selected, id(card) if card is not None else id(board.issues))
        if old is None or issues_changed or signature != self._issues_for:
            self._show_issues()
        self._show_info()
        return self.selected

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


def title_text(board: Board | None, running: str | None) -> str:
    """The pane's border title: the board in numbers, and the run going on."""
    if board is None:
        return "Ralph"
    parts = [f"Ralph · {plural(len(board.cards), 'spec')}", f"{len(board.issues.ready)} ready"]
    if board.issues.clarify:
        parts.append(plural(len(board.issues.clarify), "question"))
    if board.issues.awaiting_review:
        parts.append(f"{board.issues.awaiting_review} to review")
    if running:
        parts.append(f"{running} running")
    return " · ".join(parts)
