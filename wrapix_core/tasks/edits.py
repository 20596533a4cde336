"""Pure edits of issues: what create, update, close and dep add do to the stored object.

Kept apart from the file handling so both the JSONL store and tests use the same rules:
timestamps in bd's form, ``closed_at`` present exactly when the status is closed (bd's
invariant), labels kept unique and in order, dependency records shaped like bd's.
"""

from __future__ import annotations

import os
from typing import Any

from wrapix_core.tasks import timestamps
from wrapix_core.tasks.model import PARENT_CHILD, Issue
from wrapix_core.tasks.store import IssueUpdate, NewIssue

DEFAULT_CLOSE_REASON = "Closed"


def actor() -> str:
    """Who makes a change, as bd records it (``BD_ACTOR``, else the login name)."""
    return os.environ.get("BD_ACTOR") or os.environ.get("USER") or "wrapix"


def dependency_record(issue_id: str, depends_on_id: str, dep_type: str,
                      when: str) -> dict[str, Any]:
    return {"issue_id": issue_id, "depends_on_id": depends_on_id, "type": dep_type,
            "created_at": when, "created_by": actor()}


def new_issue(new: NewIssue, issue_id: str, when: str | None = None) -> Issue:
    """The stored object for a new issue, with bd's field order and empty fields omitted."""
    stamp = when or timestamps.now()
    data: dict[str, Any] = {"id": issue_id, "title": new.title}
    for key, value in (("description", new.description), ("design", new.design),
                       ("acceptance_criteria", new.acceptance_criteria),
                       ("notes", new.notes)):
        if value:
            data[key] = value
    data.update(status="open", priority=new.priority, issue_type=new.issue_type)
    if new.assignee:
        data["assignee"] = new.assignee
    data.update(created_at=stamp, created_by=actor(), updated_at=stamp)
    labels = list(dict.fromkeys(label for label in new.labels if label))
    if labels:
        data["labels"] = labels
    deps = [(PARENT_CHILD, new.parent)] if new.parent else []
    deps += [pair for pair in new.deps if pair not in deps]
    if deps:
        data["dependencies"] = [dependency_record(issue_id, target, kind, stamp)
                                for kind, target in deps]
    return Issue(data)


def _status_fields(issue: Issue, status: str, stamp: str) -> dict[str, Any]:
    if status == "closed":
        return {"status": status, "closed_at": issue.closed_at or stamp}
    return {"status": status, "closed_at": None}


def apply_update(issue: Issue, change: IssueUpdate, when: str | None = None) -> Issue:
    """``issue`` with ``change`` applied and ``updated_at`` set (unchanged when it is empty)."""
    if change.is_empty():
        return issue
    stamp = when or timestamps.now()
    fields: dict[str, Any] = {}
    if change.status is not None and change.status != issue.status:
        fields.update(_status_fields(issue, change.status, stamp))
    if change.priority is not None:
        fields["priority"] = change.priority
    if change.title is not None:
        fields["title"] = change.title
    if change.description is not None:
        fields["description"] = change.description
    notes = issue.notes if change.notes is None else change.notes
    if change.append_notes:
        notes = f"{notes}\n\n{change.append_notes}" if notes else change.append_notes
    if notes != issue.notes:
        fields["notes"] = notes or None
    if change.assignee is not None:
        fields["assignee"] = change.assignee or None
    if change.add_labels or change.remove_labels:
        removed = set(change.remove_labels)
        labels = [label for label in dict.fromkeys((*issue.labels, *change.add_labels))
                  if label and label not in removed]
        fields["labels"] = labels or None
    fields["updated_at"] = stamp
    return issue.replace(**fields)


def close(issue: Issue, reason: str | None = None, when: str | None = None) -> Issue:
    stamp = when or timestamps.now()
    return issue.replace(status="closed", closed_at=stamp, updated_at=stamp,
                         close_reason=reason or DEFAULT_CLOSE_REASON)


def add_dependency(issue: Issue, depends_on_id: str, dep_type: str,
                   when: str | None = None) -> Issue:
    """``issue`` with one more dependency (unchanged when the same one exists)."""
    if any(dep.depends_on_id == depends_on_id and dep.type == dep_type
           for dep in issue.dependencies):
        return issue
    stamp = when or timestamps.now()
    existing = issue.get("dependencies")
    records = list(existing) if isinstance(existing, list) else []
    records.append(dependency_record(issue.id, depends_on_id, dep_type, stamp))
    return issue.replace(dependencies=records, updated_at=stamp)
