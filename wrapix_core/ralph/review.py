"""The plan review gate: what ``ralph ready`` proposed waits here until a person decides.

``ralph ready`` (with review, the default) labels the epic and every issue it created
``ralph:proposed``; the readiness rule never lets a proposed issue be worked. This
module is what ``ralph review`` and the TUI's review screen both call:

- :func:`pending` — the label's proposed issues in dependency order (an issue after the
  issues it depends on; ties in Ralph's order: priority, age, id), with what each depends
  on and what depends on it;
- :func:`approve`, :func:`edit`, :func:`reject`, :func:`approve_all` — the decisions.

Every decision is appended to the issue's notes as ``Review (WHO, WHEN): WHAT``, so the
history of the plan stays with it. Approving removes ``ralph:proposed`` (and approves the
label's epic with its first approved issue), and clears the flag a rejection left on it.
Rejecting closes the issue with the reason "rejected in review" and *flags* every open
issue that depended on it: ``ralph:clarify`` and a note naming the rejected issue, so a
dependant is never silently unblocked — it
waits in ``ralph msg`` for a person to decide. An edit changes title, description and
priority from one small document (:func:`edit_document` / :func:`parse_edit_document`).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.events import DependencyView
from wrapix_core.ralph.scope import LabelScope, is_epic
from wrapix_core.tasks import timestamps
from wrapix_core.tasks.edits import actor
from wrapix_core.tasks.model import BLOCKING_TYPES, CLARIFY_LABEL, PROPOSED_LABEL, Issue
from wrapix_core.tasks.readiness import ready_order_key
from wrapix_core.tasks.store import IssueUpdate, TaskStore

REJECT_REASON = "rejected in review"


def _note(what: str, who: str | None) -> str:
    return f"Review ({who or actor()}, {timestamps.now()}): {what}"


@dataclass(frozen=True)
class ReviewItem:
    """One proposed issue as the reviewer sees it."""

    issue: Issue
    depends_on: tuple[DependencyView, ...]
    """Its blocking dependencies (proposed or not)."""
    needed_by: tuple[str, ...]
    """Open issues that depend on it (rejecting it flags them)."""
    flagged: bool
    """It carries ``ralph:clarify`` (e.g. something it needed was rejected)."""

    def to_json(self) -> dict[str, Any]:
        issue = self.issue
        return {"id": issue.id, "title": issue.title, "priority": issue.priority,
                "description": issue.description, "status": issue.status,
                "labels": list(issue.labels),
                "depends_on": [{"id": dep.id, "type": dep.type, "status": dep.status,
                                "title": dep.title} for dep in self.depends_on],
                "needed_by": list(self.needed_by), "flagged": self.flagged}


@dataclass(frozen=True)
class ReviewQueue:
    label: str
    items: tuple[ReviewItem, ...]
    epic: Issue | None
    """The label's epic when it is still proposed."""

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "pending": len(self.items),
                "epic": {"id": self.epic.id, "title": self.epic.title} if self.epic else None,
                "items": [item.to_json() for item in self.items]}


def blocking_dependants(issues: Iterable[Issue], issue_id: str) -> list[Issue]:
    """Open issues with a blocking dependency on ``issue_id``."""
    return [issue for issue in issues if not issue.is_closed and any(
        dep.depends_on_id == issue_id and dep.type in BLOCKING_TYPES
        for dep in issue.dependencies)]


def dependency_order(issues: Sequence[Issue]) -> list[Issue]:
    """``issues`` with each one after those of them it depends on; otherwise in Ralph's
    order. Issues caught in a dependency cycle come last, in Ralph's order."""
    by_id = {issue.id: issue for issue in issues}
    waiting = {issue.id: {dep.depends_on_id for dep in issue.dependencies
                          if dep.type in BLOCKING_TYPES and dep.depends_on_id in by_id
                          and dep.depends_on_id != issue.id}
               for issue in issues}
    unlocks: dict[str, list[str]] = {}
    for issue_id, needs in waiting.items():
        for need in needs:
            unlocks.setdefault(need, []).append(issue_id)
    heap = [(ready_order_key(by_id[issue_id]), issue_id)
            for issue_id, needs in waiting.items() if not needs]
    heapq.heapify(heap)
    ordered: list[Issue] = []
    while heap:
        _, issue_id = heapq.heappop(heap)
        ordered.append(by_id[issue_id])
        for after in unlocks.get(issue_id, ()):
            waiting[after].discard(issue_id)
            if not waiting[after]:
                heapq.heappush(heap, (ready_order_key(by_id[after]), after))
    placed = {issue.id for issue in ordered}
    ordered.extend(sorted((issue for issue in issues if issue.id not in placed),
                          key=ready_order_key))
    return ordered


async def pending(store: TaskStore, label: str, epic: str | None = None) -> ReviewQueue:
    """The label's proposed issues (epics aside) in dependency order."""
    issues = await store.list_issues()
    scope = LabelScope.build(issues, label, epic)
    by_id = scope.by_id
    proposed = [issue for issue in scope.proposed() if not is_epic(issue)]
    items = []
    for issue in dependency_order(proposed):
        depends = tuple(DependencyView.of(dep, by_id) for dep in issue.dependencies
                        if dep.type in BLOCKING_TYPES)
        needed = tuple(other.id for other in blocking_dependants(issues, issue.id))
        items.append(ReviewItem(issue, depends, needed, CLARIFY_LABEL in issue.labels))
    epic_issue = by_id.get(scope.epic) if scope.epic else None
    proposed_epic = epic_issue if epic_issue is not None and not epic_issue.is_closed \
        and PROPOSED_LABEL in epic_issue.labels else None
    return ReviewQueue(label, tuple(items), proposed_epic)


def _check_proposed(issue: Issue) -> None:
    if issue.is_closed:
        raise RalphError(f"{issue.id} is closed; there is nothing to review",
                         "`ralph review --json` lists what awaits review")
    if PROPOSED_LABEL not in issue.labels:
        raise RalphError(f"{issue.id} is not proposed (already reviewed, or not from "
                         "`ralph ready`)", "`ralph review --json` lists what awaits review")


async def _approve_epics(store: TaskStore, issue: Issue, who: str | None) -> list[str]:
    approved: list[str] = []
    for parent_id in issue.parents():
        parent = await store.show(parent_id)
        if is_epic(parent) and PROPOSED_LABEL in parent.labels and not parent.is_closed:
            await store.update(parent_id, IssueUpdate(
                remove_labels=(PROPOSED_LABEL,),
                append_notes=_note(f"approved (with {issue.id}, its first approved issue)",
                                   who)))
            approved.append(parent_id)
    return approved


async def approve(store: TaskStore, issue_id: str, who: str | None = None,
                  how: str = "approved") -> Issue:
    """Accept a proposed issue: the loop may take it from now on."""
    issue = await store.show(issue_id)
    _check_proposed(issue)
    flagged = CLARIFY_LABEL in issue.labels
    # A proposed issue is never worked, so its flag can only come from review (something
    # it depended on was rejected): approving it is the person's answer.
    updated = await store.update(issue_id, IssueUpdate(
        remove_labels=(PROPOSED_LABEL, *((CLARIFY_LABEL,) if flagged else ())),
        append_notes=_note(how + ("; the flag from the rejection is cleared" if flagged
                                  else ""), who)))
    await _approve_epics(store, updated, who)
    return updated


async def approve_all(store: TaskStore, label: str, who: str | None = None,
                      epic: str | None = None) -> list[str]:
    """Approve every pending issue of ``label``; returns their ids in review order."""
    queue = await pending(store, label, epic)
    done = []
    for item in queue.items:
        await approve(store, item.issue.id, who, "approved (approve all)")
        done.append(item.issue.id)
    return done


@dataclass(frozen=True)
class ReviewEdit:
    """What an edit may change."""

    title: str
    priority: int
    description: str


_TITLE = re.compile(r"^title:\s*(.*)$", re.IGNORECASE)
_PRIORITY = re.compile(r"^priority:\s*[pP]?\s*(\S*)\s*$", re.IGNORECASE)


def edit_document(issue: Issue) -> str:
    """The small document ``$EDITOR`` shows for an edit."""
    return (f"# Review edit of {issue.id}. Lines starting with '#' above the title are "
            "ignored.\n"
            "# Keep 'Title:' and 'Priority:' (0 critical ... 4 backlog); everything after "
            "the first blank line is the description.\n"
            f"Title: {issue.title}\n"
            f"Priority: {issue.priority}\n"
            "\n"
            f"{issue.description.rstrip()}\n")


def parse_edit_document(text: str) -> ReviewEdit:
    """The edit a document asks for; :class:`RalphError` saying which line is wrong."""
    lines = text.splitlines()
    index = 0
    while index < len(lines) and (not lines[index].strip()
                                  or lines[index].lstrip().startswith("#")):
        index += 1
    title_match = _TITLE.match(lines[index]) if index < len(lines) else None
    if title_match is None:
        raise RalphError(f"line {index + 1}: expected 'Title: …'",
                         "keep the Title and Priority lines at the top")
    title = title_match.group(1).strip()
    if not title:
        raise RalphError(f"line {index + 1}: the title is empty")
    if len(title) > 500:
        raise RalphError(f"line {index + 1}: the title is {len(title)} characters; at most 500")
    index += 1
    priority_match = _PRIORITY.match(lines[index]) if index < len(lines) else None
    if priority_match is None:
        raise RalphError(f"line {index + 1}: expected 'Priority: N' (0-4)")
    value = priority_match.group(1)
    if not value.isdigit() or not 0 <= int(value) <= 4:
        raise RalphError(f"line {index + 1}: priority {value!r} is not 0-4",
                         "0 is critical, 4 is backlog")
    index += 1
    if index < len(lines) and lines[index].strip():
        raise RalphError(f"line {index + 1}: expected a blank line before the description")
    description = "\n".join(lines[index + 1:]).strip("\n").rstrip()
    return ReviewEdit(title, int(value), description)


def _changes(issue: Issue, change: ReviewEdit) -> list[str]:
    said: list[str] = []
    if change.title != issue.title:
        said.append(f"title {issue.title!r} → {change.title!r}")
    if change.priority != issue.priority:
        said.append(f"priority P{issue.priority} → P{change.priority}")
    if change.description.strip() != issue.description.strip():
        said.append("description changed")
    return said


async def edit(store: TaskStore, issue_id: str, change: ReviewEdit,
               who: str | None = None) -> Issue:
    """Apply an edit to a proposed issue (it stays proposed until approved)."""
    issue = await store.show(issue_id)
    _check_proposed(issue)
    said = _changes(issue, change)
    if not said:
        return issue
    return await store.update(issue_id, IssueUpdate(
        title=change.title, priority=change.priority, description=change.description,
        append_notes=_note("edited: " + "; ".join(said), who)))


@dataclass(frozen=True)
class Rejected:
    issue: Issue
    flagged: tuple[str, ...]
    """Open issues that depended on it, now waiting for a person (``ralph:clarify``)."""
    epic_closed: str | None = None


async def reject(store: TaskStore, issue_id: str, who: str | None = None) -> Rejected:
    """Close a proposed issue as rejected; flag what depended on it."""
    issue = await store.show(issue_id)
    _check_proposed(issue)
    await store.update(issue_id, IssueUpdate(remove_labels=(PROPOSED_LABEL,),
                                             append_notes=_note("rejected", who)))
    closed = await store.close(issue_id, REJECT_REASON)
    issues = await store.list_issues()
    flagged: list[str] = []
    for dependant in blocking_dependants(issues, issue_id):
        await store.update(dependant.id, IssueUpdate(
            add_labels=(CLARIFY_LABEL,),
            append_notes=_note(f"{issue_id} ({issue.title}), which this issue depends on, "
                               "was rejected. Does this issue still make sense without it? "
                               "Answer with `ralph msg`, or edit or reject it in review.",
                               who)))
        flagged.append(dependant.id)
    epic_closed = None
    for parent_id in issue.parents():
        siblings = [other for other in issues
                    if parent_id in set(other.parents())]
        parent = next((other for other in issues if other.id == parent_id), None)
        if parent is not None and is_epic(parent) and not parent.is_closed \
                and PROPOSED_LABEL in parent.labels \
                and all(other.is_closed and other.close_reason == REJECT_REASON
                        for other in siblings):
            await store.update(parent_id, IssueUpdate(
                remove_labels=(PROPOSED_LABEL,),
                append_notes=_note("rejected: every issue of the epic was rejected", who)))
            await store.close(parent_id, REJECT_REASON)
            epic_closed = parent_id
    return Rejected(closed, tuple(flagged), epic_closed)
