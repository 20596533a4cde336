"""The readiness rule: which issues an agent may take next, and why not the others
(docs/architecture.md, Issues and specs).

An issue is **ready** when its status is ``open``, it is not pinned, not deferred into the
future, has no ``blocks``/``conditional-blocks`` dependency on an issue that is not closed,
no ancestor through ``parent-child`` is blocked, and it carries neither ``ralph:clarify``
nor ``ralph:proposed``. A parent counts as blocked when it has such an open blocker or its
status is ``blocked`` (a closed issue is never blocked); blocking flows down to every
descendant. Other dependency types
(``related``, ``discovered-from``, ...) never block, and a dependency on an issue that does
not exist is reported in :attr:`Readiness.missing` rather than blocking (as bd does).

Everything is computed once per snapshot in time linear in issues + dependencies: one
pass over dependencies, then one breadth-first walk from the blocked issues down to their
descendants (a visited set makes parent cycles harmless).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wrapix_core.tasks import timestamps
from wrapix_core.tasks.model import (
    BLOCKING_TYPES,
    CLARIFY_LABEL,
    PARENT_CHILD,
    PROPOSED_LABEL,
    Issue,
)


@dataclass(frozen=True)
class MissingDependency:
    """``issue_id`` depends on ``depends_on_id``, which is not among the issues."""

    issue_id: str
    depends_on_id: str
    type: str


@dataclass(frozen=True)
class Blocker:
    """Something that keeps an issue from being ready.

    ``kind`` is ``dependency`` (a blocking dependency on ``id``, not closed) or ``parent``
    (the ancestor ``id`` through which blocking reached this issue).
    """

    kind: str
    id: str
    status: str


def ready_order_key(issue: Issue) -> tuple[int, float, str]:
    """The order Ralph takes ready work in: priority, then oldest first, then id."""
    created = timestamps.parse(issue.created_at)
    return (issue.priority, created if created is not None else float("inf"), issue.id)


class Readiness:
    """Ready set and blocking facts for one snapshot of issues."""

    def __init__(self, issues: Iterable[Issue], now: float | None = None) -> None:
        moment = time.time() if now is None else now
        by_id: dict[str, Issue] = {}
        for issue in issues:
            by_id[issue.id] = issue
        self.by_id: Mapping[str, Issue] = by_id
        self.now = moment

        open_blockers: dict[str, list[str]] = {}
        children: dict[str, list[str]] = {}
        missing: list[MissingDependency] = []
        for issue in by_id.values():
            for dep in issue.dependencies:
                target = by_id.get(dep.depends_on_id)
                if target is None:
                    missing.append(MissingDependency(issue.id, dep.depends_on_id, dep.type))
                elif dep.type in BLOCKING_TYPES:
                    if not target.is_closed:
                        open_blockers.setdefault(issue.id, []).append(target.id)
                elif dep.type == PARENT_CHILD and dep.depends_on_id != issue.id:
                    children.setdefault(target.id, []).append(issue.id)
        self._open_blockers = open_blockers
        self.missing: tuple[MissingDependency, ...] = tuple(missing)

        # Breadth-first from every directly blocked issue down to its descendants.
        blocked_via: dict[str, str | None] = {}
        queue: deque[str] = deque()
        for issue_id, issue in by_id.items():
            if not issue.is_closed and (issue_id in open_blockers or issue.status == "blocked"):
                blocked_via[issue_id] = None
                queue.append(issue_id)
        while queue:
            parent = queue.popleft()
            for child in children.get(parent, ()):
                if child not in blocked_via:
                    blocked_via[child] = parent
                    queue.append(child)
        self._blocked_via = blocked_via

        invalid_defer: list[str] = []
        ready = [issue for issue in by_id.values()
                 if self._ready(issue, invalid_defer)]
        ready.sort(key=ready_order_key)
        self.ready_ids: tuple[str, ...] = tuple(issue.id for issue in ready)
        self._ready_set = frozenset(self.ready_ids)
        self.invalid_defer_until: tuple[str, ...] = tuple(invalid_defer)
        """Ids whose ``defer_until`` is not a time (treated as not deferred)."""

    def _ready(self, issue: Issue, invalid_defer: list[str]) -> bool:
        if issue.status != "open" or issue.pinned or issue.id in self._blocked_via:
            return False
        labels = issue.labels
        if CLARIFY_LABEL in labels or PROPOSED_LABEL in labels:
            return False
        defer = issue.defer_until
        if defer:
            until = timestamps.parse(defer)
            if until is None:
                invalid_defer.append(issue.id)
            elif until > self.now:
                return False
        return True

    def is_ready(self, issue_id: str) -> bool:
        return issue_id in self._ready_set

    def is_blocked(self, issue_id: str) -> bool:
        """Blocked by a dependency, its own ``blocked`` status, or a blocked ancestor."""
        return issue_id in self._blocked_via

    def ready_issues(self) -> list[Issue]:
        """Ready issues in the order Ralph takes them."""
        return [self.by_id[issue_id] for issue_id in self.ready_ids]

    def blockers(self, issue_id: str) -> tuple[Blocker, ...]:
        """What blocks ``issue_id``: open blocking dependencies, then the blocked ancestor."""
        found = [Blocker("dependency", target, self.by_id[target].status)
                 for target in self._open_blockers.get(issue_id, ())]
        via = self._blocked_via.get(issue_id)
        if via is not None:
            found.append(Blocker("parent", via, self.by_id[via].status))
        return tuple(found)


def compute_readiness(issues: Iterable[Issue], now: float | None = None) -> Readiness:
    """Readiness of ``issues`` at ``now`` (seconds since the epoch; default: the current time)."""
    return Readiness(issues, now)
