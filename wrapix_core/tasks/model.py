"""The beads Issue model: a thin typed view over the JSON object bd wrote.

Why not a pydantic model: loading 10,000 issues must cost about what ``json.loads`` costs
(DESIGN §6, P11), and a validating model per line doubles that. An :class:`Issue` wraps the
parsed dict as it is, reads fields through cheap coercing properties (a wrong type falls
back to bd's default instead of failing), and keeps every field it does not know about, so
writing an issue back loses nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

STATUSES = ("open", "in_progress", "blocked", "deferred", "closed", "pinned", "hooked")
"""The statuses DESIGN §3.5 names (bd also knows ``tombstone`` and custom ones; kept as-is)."""

BLOCKING_TYPES = frozenset({"blocks", "conditional-blocks"})
"""Dependency types that keep an issue from being ready while their target is not closed."""

PARENT_CHILD = "parent-child"
"""Dependency type from a child to its parent (epic)."""

CLARIFY_LABEL = "ralph:clarify"
"""An agent asked a question; the issue waits for a person and is never ready."""

PROPOSED_LABEL = "ralph:proposed"
"""Created by ``ralph ready`` and awaiting review; never ready until accepted."""

DEFAULT_PRIORITY = 2
DEFAULT_TYPE = "task"
DEFAULT_DEPENDENCY_TYPE = "blocks"


class Dependency(NamedTuple):
    """``issue_id`` depends on ``depends_on_id`` with relationship ``type``."""

    issue_id: str
    depends_on_id: str
    type: str


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


def coerce_priority(value: object) -> int:
    """bd priority 0-4 from an int, ``"1"`` or ``"P1"``; anything else is bd's default (2)."""
    if isinstance(value, bool):
        return DEFAULT_PRIORITY
    if isinstance(value, int):
        return min(max(value, 0), 4)
    if isinstance(value, float) and value.is_integer():
        return min(max(int(value), 0), 4)
    if isinstance(value, str):
        digits = value.strip().removeprefix("P").removeprefix("p")
        if digits.isdigit():
            return min(int(digits), 4)
    return DEFAULT_PRIORITY


def _dependencies(owner: str, raw: object) -> tuple[Dependency, ...]:
    if not isinstance(raw, list):
        return ()
    found: list[Dependency] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        target = entry.get("depends_on_id")
        if not isinstance(target, str) or not target:
            continue
        source = entry.get("issue_id")
        kind = entry.get("type")
        found.append(Dependency(
            source if isinstance(source, str) and source else owner,
            target,
            kind if isinstance(kind, str) and kind else DEFAULT_DEPENDENCY_TYPE,
        ))
    return tuple(found)


class Issue:
    """One issue. Read-only: changes make a new Issue (:meth:`replace`)."""

    __slots__ = ("_data", "_deps", "_labels")

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self._deps: tuple[Dependency, ...] | None = None
        self._labels: tuple[str, ...] | None = None

    # -- raw access ---------------------------------------------------------------------
    @property
    def data(self) -> Mapping[str, Any]:
        """The object as stored, unknown fields included. Do not mutate it."""
        return self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the stored object, safe to change and serialise."""
        return copy.deepcopy(self._data)

    def replace(self, **changes: Any) -> Issue:
        """A new Issue with ``changes`` applied; a value of None removes the field.

        Field order is kept (changed fields stay where they were, new ones go last), so a
        rewritten line differs from the old one only where it must.
        """
        data = copy.deepcopy(self._data)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return Issue(data)

    # -- fields (DESIGN §3.5) ------------------------------------------------------------
    @property
    def id(self) -> str:
        return _text(self._data.get("id"))

    @property
    def title(self) -> str:
        return _text(self._data.get("title"))

    @property
    def description(self) -> str:
        return _text(self._data.get("description"))

    @property
    def design(self) -> str:
        return _text(self._data.get("design"))

    @property
    def acceptance_criteria(self) -> str:
        return _text(self._data.get("acceptance_criteria"))

    @property
    def notes(self) -> str:
        return _text(self._data.get("notes"))

    @property
    def status(self) -> str:
        """bd's status; a missing one is ``open`` (bd's import default)."""
        return _text(self._data.get("status")) or "open"

    @property
    def priority(self) -> int:
        return coerce_priority(self._data.get("priority", DEFAULT_PRIORITY))

    @property
    def issue_type(self) -> str:
        return _text(self._data.get("issue_type")) or DEFAULT_TYPE

    @property
    def assignee(self) -> str:
        return _text(self._data.get("assignee"))

    @property
    def labels(self) -> tuple[str, ...]:
        if self._labels is None:
            raw = self._data.get("labels")
            self._labels = tuple(label for label in raw if isinstance(label, str)) \
                if isinstance(raw, list) else ()
        return self._labels

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        if self._deps is None:
            self._deps = _dependencies(self.id, self._data.get("dependencies"))
        return self._deps

    @property
    def created_at(self) -> str:
        """Creation time as written; a few real files use ``created`` instead."""
        return _text(self._data.get("created_at") or self._data.get("created"))

    @property
    def updated_at(self) -> str:
        return _text(self._data.get("updated_at") or self._data.get("updated"))

    @property
    def closed_at(self) -> str:
        return _text(self._data.get("closed_at"))

    @property
    def close_reason(self) -> str:
        return _text(self._data.get("close_reason"))

    @property
    def defer_until(self) -> str:
        return _text(self._data.get("defer_until"))

    @property
    def pinned(self) -> bool:
        """Pinned by status or by bd's ``pinned`` flag: context, never work."""
        return self.status == "pinned" or self._data.get("pinned") is True

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    def has_label(self, label: str) -> bool:
        return label in self.labels

    def parents(self) -> Iterator[str]:
        """Ids this issue is a child of (``parent-child`` dependencies)."""
        return (dep.depends_on_id for dep in self.dependencies if dep.type == PARENT_CHILD)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Issue) and self._data == other._data

    def __repr__(self) -> str:
        return f"Issue({self.id!r}, status={self.status!r}, title={self.title[:40]!r})"


def issue_from_json(data: object) -> Issue | None:
    """An Issue for a decoded JSON value, or None when it is not an issue object (no id)."""
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
        return Issue(data)
    return None
