"""Which issues belong to a Ralph label, and what is next among them.

An issue belongs to label L when it carries ``rl-L`` (or ``spec-L`` / ``spec:L``), is the
label's epic, or descends from one of those through ``parent-child`` (see
:mod:`wrapix_core.specs.membership`). Epics are containers: never worked, closed when
their last child closes. Work is taken in the readiness rule's order (priority, then
oldest, then id).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from wrapix_core.specs.membership import IssueGroups
from wrapix_core.tasks.model import CLARIFY_LABEL, PARENT_CHILD, PROPOSED_LABEL, Issue
from wrapix_core.tasks.readiness import Readiness, compute_readiness
from wrapix_core.units import plural


def issue_label(label: str) -> str:
    """The label Ralph puts on a label's issues."""
    return f"rl-{label}"


def is_epic(issue: Issue) -> bool:
    return issue.issue_type == "epic"


@dataclass(frozen=True)
class LabelScope:
    """One snapshot of the issues, seen from one label."""

    label: str
    readiness: Readiness
    member_ids: tuple[str, ...]
    epic: str | None

    @classmethod
    def build(cls, issues: Sequence[Issue], label: str, epic: str | None = None,
              readiness: Readiness | None = None) -> LabelScope:
        snapshot = tuple(issues)
        computed = readiness or compute_readiness(snapshot)
        groups = IssueGroups(snapshot)
        members = tuple(groups.members(label, epic))
        if epic is None:
            epic = next((issue_id for issue_id in members
                         if is_epic(computed.by_id[issue_id])), None)
        return cls(label, computed, members, epic)

    @property
    def by_id(self) -> dict[str, Issue]:
        return dict(self.readiness.by_id)

    def issues(self) -> list[Issue]:
        by_id = self.readiness.by_id
        return [by_id[issue_id] for issue_id in self.member_ids if issue_id in by_id]

    def work(self) -> list[Issue]:
        """Members that are work (not epics)."""
        return [issue for issue in self.issues() if not is_epic(issue)]

    def epics(self) -> list[Issue]:
        return [issue for issue in self.issues() if is_epic(issue)]

    def open_work(self) -> list[Issue]:
        return [issue for issue in self.work() if not issue.is_closed]

    def ready(self, skip: Collection[str] = ()) -> list[Issue]:
        """Ready work of the label in the order Ralph takes it."""
        members = set(self.member_ids)
        by_id = self.readiness.by_id
        return [by_id[issue_id] for issue_id in self.readiness.ready_ids
                if issue_id in members and issue_id not in skip
                and not is_epic(by_id[issue_id])]

    def proposed(self) -> list[Issue]:
        return [issue for issue in self.issues()
                if not issue.is_closed and PROPOSED_LABEL in issue.labels]

    def clarify(self) -> list[Issue]:
        return [issue for issue in self.open_work() if CLARIFY_LABEL in issue.labels]

    def in_progress(self) -> list[Issue]:
        return [issue for issue in self.open_work() if issue.status == "in_progress"]

    def blocked(self) -> list[Issue]:
        return [issue for issue in self.open_work() if self.readiness.is_blocked(issue.id)
                and CLARIFY_LABEL not in issue.labels and PROPOSED_LABEL not in issue.labels]

    def children(self, parent_id: str) -> list[Issue]:
        return [issue for issue in self.readiness.by_id.values()
                if any(dep.type == PARENT_CHILD and dep.depends_on_id == parent_id
                       for dep in issue.dependencies)]

    def finished_epics(self) -> list[Issue]:
        """Open epics of the label whose children are all closed (and that have some)."""
        done: list[Issue] = []
        for epic in self.epics():
            if epic.is_closed:
                continue
            children = self.children(epic.id)
            if children and all(child.is_closed for child in children):
                done.append(epic)
        return done

    def why_stuck(self) -> tuple[str, str]:
        """(reason, what to do) when open work exists and none is ready."""
        reasons: list[str] = []
        hints: list[str] = []
        proposed = [issue for issue in self.open_work() if PROPOSED_LABEL in issue.labels]
        if proposed:
            reasons.append(f"{_n(len(proposed))} await{'s' if len(proposed) == 1 else ''} "
                           f"review: ralph review {self.label}")
            hints.append(f"`ralph review {self.label}`")
        clarify = self.clarify()
        if clarify:
            reasons.append(f"{_n(len(clarify))} wait{'s' if len(clarify) == 1 else ''} for "
                           f"an answer ({', '.join(issue.id for issue in clarify[:5])})")
            hints.append("`ralph msg`")
        busy = self.in_progress()
        if busy:
            reasons.append(f"{_n(len(busy))} in progress "
                           f"({', '.join(issue.id for issue in busy[:5])})")
            hints.append("`ralph status` shows who works them")
        blocked = self.blocked()
        if blocked:
            reasons.append(f"{_n(len(blocked))} blocked by dependencies")
            hints.append("`wrapix tasks show ID` shows the blockers")
        other = len(self.open_work()) - len(proposed) - len(clarify) - len(busy) - len(blocked)
        if other > 0 and not reasons:
            reasons.append(f"{_n(other)} not ready (deferred or another status)")
        return "; ".join(reasons), ", ".join(hints)


def _n(count: int) -> str:
    return plural(count, "issue")
