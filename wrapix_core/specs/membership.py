"""Which issues belong to which spec.

An issue belongs to spec NAME when it is the spec's epic (the index's Beads column, or an
epic Ralph recorded), carries one of the labels ``rl-NAME``, ``spec-NAME``, ``spec:NAME``,
or descends from such an issue through ``parent-child`` dependencies. :class:`IssueGroups`
indexes one snapshot of issues once, so finding a spec's members costs only its members.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from wrapix_core.tasks.model import Issue


def spec_labels(name: str) -> tuple[str, ...]:
    """The labels that tie an issue to spec ``name``."""
    return (f"rl-{name}", f"spec-{name}", f"spec:{name}")


class IssueGroups:
    """Labels and parent-child children of one snapshot of issues, indexed."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        by_label: dict[str, list[str]] = {}
        children: dict[str, list[str]] = {}
        ids: set[str] = set()
        for issue in issues:
            ids.add(issue.id)
            for label in issue.labels:
                by_label.setdefault(label, []).append(issue.id)
            for parent in issue.parents():
                children.setdefault(parent, []).append(issue.id)
        self._by_label = by_label
        self._children = children
        self._ids = ids

    def labelled(self, name: str) -> list[str]:
        found: list[str] = []
        for label in spec_labels(name):
            found.extend(self._by_label.get(label, ()))
        return found

    def members(self, name: str, epic: str | None) -> list[str]:
        """Ids of the spec's issues: epic, labelled issues, and all their descendants."""
        roots = self.labelled(name)
        if epic is not None and epic in self._ids:
            roots.append(epic)
        seen: dict[str, None] = {}
        queue = deque(roots)
        while queue:
            issue_id = queue.popleft()
            if issue_id in seen:
                continue
            seen[issue_id] = None
            queue.extend(self._children.get(issue_id, ()))
        return list(seen)
