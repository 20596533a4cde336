"""The Ralph board as rows: specs, and the selected spec's issues grouped by status.

Pure (no Textual): the board pane asks for rows and renders only the ones on screen.
Every row is a small frozen value with a ``key`` (to keep the cursor on it across
updates) and the core object it shows (so an unchanged card or issue — the core reuses
them across incremental updates — is recognised and not re-rendered).

Issue groups, in this order: ready (in the order Ralph takes them), in progress,
blocked (with what blocks each), clarify (waiting for a person), proposed (awaiting
review), other open (deferred, pinned, …), closed (collapsed unless expanded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wrapix_core.tasks.model import CLARIFY_LABEL, PROPOSED_LABEL, is_work

if TYPE_CHECKING:
    from wrapix_core.specs.board import Board, SpecCard
    from wrapix_core.tasks.model import Issue
    from wrapix_core.tasks.readiness import Blocker

ALL = "*"
"""The key of the workspace row (every issue, whichever spec it belongs to)."""

GROUPS: tuple[tuple[str, str], ...] = (
    ("ready", "ready — in the order Ralph takes them"),
    ("in_progress", "in progress"),
    ("blocked", "blocked"),
    ("clarify", "clarify — waiting for your answer"),
    ("proposed", "proposed — awaiting review"),
    ("other", "other open (deferred, pinned, …)"),
    ("closed", "closed"),
)
COLLAPSED_BY_DEFAULT = frozenset({"closed"})


@dataclass(frozen=True)
class SpecRow:
    key: str
    """The spec name, or :data:`ALL`."""
    card: SpecCard | None
    """None for the workspace row."""
    total: int
    ready: int
    clarify: int
    proposed: int


@dataclass(frozen=True)
class GroupRow:
    key: str
    """``group:NAME``."""
    group: str
    label: str
    count: int
    expanded: bool


@dataclass(frozen=True)
class IssueRow:
    key: str
    """The issue id."""
    issue: Issue
    group: str
    position: int
    """1-based place in the ready queue (0 elsewhere)."""
    blockers: tuple[Blocker, ...] = ()
    step: str = ""
    """The state of a parallel loop's step working it (``running``, ``queued``,
    ``landing``, ``conflict``), or ""."""


Row = GroupRow | IssueRow


def spec_rows(board: Board) -> list[SpecRow]:
    """The workspace row, then one row per spec in the board's order."""
    summary = board.issues
    rows = [SpecRow(ALL, None, summary.total, len(summary.ready), len(summary.clarify),
                    summary.awaiting_review)]
    for card in board.cards:
        issues = card.issues
        rows.append(SpecRow(card.name, card, issues.total, len(issues.ready),
                            len(issues.clarify), issues.awaiting_review))
    return rows


def member_ids(board: Board, key: str) -> list[str]:
    """Ids of the issues shown for ``key`` (the spec's epic itself is left out)."""
    if key == ALL:
        return list(board.readiness.by_id)
    card = board.card(key)
    if card is None:
        return []
    members = board.inputs.groups.members(card.name, card.epic)
    return [issue_id for issue_id in members if issue_id != card.epic]


def classify(issue: Issue, board: Board) -> str:
    if issue.is_closed:
        return "closed"
    labels = issue.labels
    if PROPOSED_LABEL in labels:
        return "proposed"
    if CLARIFY_LABEL in labels:
        return "clarify"
    if issue.status == "in_progress":
        return "in_progress"
    readiness = board.readiness
    if readiness.is_ready(issue.id) and is_work(issue):
        return "ready"
    if readiness.is_blocked(issue.id):
        return "blocked"
    return "other"


def issue_rows(board: Board, key: str, expanded: frozenset[str] | set[str] = frozenset(),
               collapsed: frozenset[str] | set[str] = frozenset(),
               steps: Mapping[str, str] | None = None) -> list[Row]:
    """Group headers and issue rows for spec ``key``; empty groups are left out
    (``steps``: issue id → its running step's state, marked on its row).

    A group is shown expanded unless it is collapsed by default (closed) and not in
    ``expanded``, or it is in ``collapsed``.
    """
    readiness = board.readiness
    by_id = readiness.by_id
    marks = steps or {}
    wanted = [by_id[issue_id] for issue_id in member_ids(board, key) if issue_id in by_id]
    buckets: dict[str, list[Issue]] = {name: [] for name, _ in GROUPS}
    for issue in wanted:
        buckets[classify(issue, board)].append(issue)
    member_set = {issue.id for issue in buckets["ready"]}
    ready_order = [issue_id for issue_id in readiness.ready_ids if issue_id in member_set]
    rows: list[Row] = []
    for name, label in GROUPS:
        found = buckets[name]
        if not found:
            continue
        is_open = (name not in COLLAPSED_BY_DEFAULT or name in expanded) \
            and name not in collapsed
        rows.append(GroupRow(f"group:{name}", name, label, len(found), is_open))
        if not is_open:
            continue
        if name == "ready":
            for position, issue_id in enumerate(ready_order, start=1):
                rows.append(IssueRow(issue_id, by_id[issue_id], name, position,
                                     step=marks.get(issue_id, "")))
        elif name == "blocked":
            found.sort(key=_order)
            rows.extend(IssueRow(issue.id, issue, name, 0, readiness.blockers(issue.id),
                                 marks.get(issue.id, "")) for issue in found)
        elif name == "closed":
            found.sort(key=lambda issue: (issue.closed_at, issue.id), reverse=True)
            rows.extend(IssueRow(issue.id, issue, name, 0, step=marks.get(issue.id, ""))
                        for issue in found)
        else:
            found.sort(key=_order)
            rows.extend(IssueRow(issue.id, issue, name, 0, step=marks.get(issue.id, ""))
                        for issue in found)
    return rows


def _order(issue: Issue) -> tuple[int, str, str]:
    return (issue.priority, issue.created_at, issue.id)

