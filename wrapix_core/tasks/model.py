"""The beads Issue model: a thin typed view over the JSON object bd wrote.

Why not a pydantic model: loading 10,000 issues must cost about what ``json.loads`` costs
(P11, docs/architecture.md), and a validating model per line doubles that. An
:class:`Issue` wraps the parsed dict as it is, reads fields through cheap coercing
properties (a wrong type falls back to bd's default instead of failing), and keeps every
field it does not know about, so writing an issue back loses nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from sys import intern
from typing import Any, NamedTuple

STATUSES = ("open", "in_progress", "blocked", "deferred", "closed", "pinned", "hooked")
"""The statuses of the beads model (bd also knows ``tombstone`` and custom ones; kept as-is)."""

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
    """One issue. Read-only: changes make a new Issue (:meth:`replace`).

    The fields readiness and boards use for every issue are decoded once, into slots. An
    issue read from a file (``raw``: its line) keeps nothing else: its title, creation
    and close times are read from the line when first asked for (only the rows on screen
    and the ready queue need them), descriptions, notes and the rest each time. So 10,000
    real issues take ~3 MiB instead of ~38 MiB of dicts (P10, docs/architecture.md). Issues made
    here keep their dict.
    """

    __slots__ = ("_closed_at", "_created", "_data", "_defer", "_deps", "_deps_value", "_id",
                 "_labels", "_pinned", "_priority", "_raw", "_status",
                 "_title", "_type")

    def __init__(self, data: dict[str, Any], raw: bytes | None = None) -> None:
        get = data.get
        self._id = _text(get("id"))
        # Titles and times are shown and sorted by for the rows on screen only: read
        # from the line when first asked for, then kept.
        self._title: str | None = None if raw is not None else _text(get("title"))
        self._status = intern(_text(get("status")) or "open")
        self._priority = coerce_priority(get("priority", DEFAULT_PRIORITY))
        self._type = intern(_text(get("issue_type")) or DEFAULT_TYPE)
        self._created: str | None = None if raw is not None else \
            _text(get("created_at") or get("created"))
        self._closed_at: str | None = None if raw is not None else _text(get("closed_at"))
        self._defer = _text(get("defer_until"))
        self._pinned = get("pinned") is True
        labels = get("labels")  # few distinct values, on many issues: shared
        self._labels = tuple(intern(label) for label in labels if isinstance(label, str)) \
            if isinstance(labels, list) and labels else ()
        self._deps_value = get("dependencies")  # few issues have any: parsed when asked
        self._deps: tuple[Dependency, ...] | None = None
        self._raw = raw
        self._data = data if raw is None else None

    # -- raw access ---------------------------------------------------------------------
    @property
    def data(self) -> Mapping[str, Any]:
        """The object as stored, unknown fields included. Do not mutate it."""
        return self._data if self._data is not None else self._decoded()

    def _decoded(self) -> dict[str, Any]:
        """A new dict from the line this issue was read from."""
        assert self._raw is not None
        decoded: dict[str, Any] = json.loads(self._raw)
        return decoded

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the stored object, safe to change and serialise."""
        return copy.deepcopy(self._data) if self._data is not None else self._decoded()

    def replace(self, **changes: Any) -> Issue:
        """A new Issue with ``changes`` applied; a value of None removes the field.

        Field order is kept (changed fields stay where they were, new ones go last), so a
        rewritten line differs from the old one only where it must.
        """
        data = self.to_dict()
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return Issue(data)

    # -- fields (the beads model) --------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def title(self) -> str:
        if self._title is None:
            self._title = _text(self.get("title"))
        return self._title

    @property
    def description(self) -> str:
        return _text(self.get("description"))

    @property
    def design(self) -> str:
        return _text(self.get("design"))

    @property
    def acceptance_criteria(self) -> str:
        return _text(self.get("acceptance_criteria"))

    @property
    def notes(self) -> str:
        return _text(self.get("notes"))

    @property
    def status(self) -> str:
        return self._status

    @property
    def priority(self) -> int:
        return self._priority

    @property
    def issue_type(self) -> str:
        return self._type

    @property
    def assignee(self) -> str:
        return _text(self.get("assignee"))

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        if self._deps is None:
            self._deps = _dependencies(self._id, self._deps_value)
        return self._deps

    @property
    def created_at(self) -> str:
        """Creation time as written; a few real files use ``created`` instead."""
        if self._created is None:
            data = self.data
            self._created = _text(data.get("created_at") or data.get("created"))
        return self._created

    @property
    def updated_at(self) -> str:
        data = self.data
        return _text(data.get("updated_at") or data.get("updated"))

    @property
    def closed_at(self) -> str:
        if self._closed_at is None:
            self._closed_at = _text(self.get("closed_at"))
        return self._closed_at

    @property
    def close_reason(self) -> str:
        return _text(self.get("close_reason"))

    @property
    def defer_until(self) -> str:
        return self._defer

    @property
    def pinned(self) -> bool:
        """Pinned by status or by bd's ``pinned`` flag: context, never work."""
        return self._status == "pinned" or self._pinned

    @property
    def is_closed(self) -> bool:
        return self._status == "closed"

    def has_label(self, label: str) -> bool:
        return label in self.labels

    def parents(self) -> Iterator[str]:
        """Ids this issue is a child of (``parent-child`` dependencies)."""
        return (dep.depends_on_id for dep in self.dependencies if dep.type == PARENT_CHILD)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Issue):
            return False
        if self._raw is not None and self._raw == other._raw:
            return True  # the same line: the same object
        return self.data == other.data

    def __repr__(self) -> str:
        return f"Issue({self.id!r}, status={self.status!r}, title={self.title[:40]!r})"


def issue_from_json(data: object, raw: bytes | None = None) -> Issue | None:
    """An Issue for a decoded JSON value, or None when it is not an issue object (no id).
    ``raw`` is the line it was decoded from, when it came from a file (see :class:`Issue`)."""
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
        return Issue(data, raw)
    return None


def is_work(issue: Issue) -> bool:
    """Whether a ready ``issue`` is in the queue Ralph takes work from: epics are ready
    in beads' sense but never worked (the board's header, its ready group and
    ``ralph board --json`` all count by this)."""
    return issue.issue_type != "epic"
