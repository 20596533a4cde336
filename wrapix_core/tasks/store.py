"""What the Ralph engine, the TUI and ``wrapix tasks`` ask of an issue store.

Two implementations: :class:`~wrapix_core.tasks.bd_store.BdStore` (the ``bd`` CLI, when it
is installed and the workspace uses it) and :class:`~wrapix_core.tasks.jsonl_store.JsonlStore`
(the built-in store on ``.beads/issues.jsonl``). :func:`open_store` picks one. All methods
are async: the engine and the TUI run on asyncio.
"""

from __future__ import annotations

import re
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from wrapix_core.errors import WrapixError
from wrapix_core.tasks.model import DEFAULT_DEPENDENCY_TYPE, DEFAULT_PRIORITY, STATUSES, Issue
from wrapix_core.tasks.readiness import Readiness, compute_readiness
from wrapix_core.tasks.workspace import is_bd_workspace

_TYPE_RE = re.compile(r"[a-z][a-z0-9_-]{0,49}")


class IssueNotFound(WrapixError):
    """No issue with that id in this workspace."""

    def __init__(self, issue_id: str, where: Path | str) -> None:
        super().__init__(f"issue {issue_id} not found in {where}",
                         "`wrapix tasks list --all` shows the ids", exit_code=1)
        self.issue_id = issue_id


class InvalidValue(WrapixError):
    """A field value a person or agent gave is not acceptable (exit 2: nothing changed)."""


def check_priority(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        raise InvalidValue(f"priority {value!r} is not 0-4", "0 is critical, 4 is backlog")
    return value


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise InvalidValue(f"status {value!r} is not one of {', '.join(STATUSES)}")
    return value


def check_type(value: str, what: str = "issue type") -> str:
    if not _TYPE_RE.fullmatch(value):
        raise InvalidValue(f"{what} {value!r} is not a lowercase word",
                           "e.g. task, bug, feature, epic, chore, docs")
    return value


@dataclass(frozen=True)
class NewIssue:
    """An issue to create. ``deps`` are ``(type, depends_on_id)`` pairs; ``parent`` makes
    the new issue a child (``parent-child``) of that id, with a dotted id like bd's."""

    title: str
    issue_type: str = "task"
    priority: int = DEFAULT_PRIORITY
    description: str = ""
    labels: tuple[str, ...] = ()
    deps: tuple[tuple[str, str], ...] = ()
    parent: str | None = None
    design: str = ""
    acceptance_criteria: str = ""
    notes: str = ""
    assignee: str = ""

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise InvalidValue("an issue needs a title", "give --title TEXT")
        if len(self.title) > 500:
            raise InvalidValue(f"title is {len(self.title)} characters; at most 500")
        check_type(self.issue_type)
        check_priority(self.priority)
        for kind, _target in self.deps:
            check_type(kind, "dependency type")


@dataclass(frozen=True)
class IssueUpdate:
    """Changes to one issue; None (or empty) leaves a field as it is."""

    status: str | None = None
    priority: int | None = None
    title: str | None = None
    description: str | None = None
    notes: str | None = None
    append_notes: str | None = None
    assignee: str | None = None
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status is not None:
            check_status(self.status)
        if self.priority is not None:
            check_priority(self.priority)
        if self.title is not None and not self.title.strip():
            raise InvalidValue("a title cannot be empty")

    def is_empty(self) -> bool:
        return self == IssueUpdate()


@dataclass(frozen=True)
class StoreInfo:
    """Which store serves a workspace, for messages and ``--json`` output."""

    kind: Literal["bd", "jsonl"]
    workspace: Path
    detail: str = field(default="")


class TaskStore(ABC):
    """An issue store for one workspace."""

    workspace: Path
    kind: Literal["bd", "jsonl"]

    @abstractmethod
    async def list_issues(self) -> list[Issue]:
        """Every issue, closed ones included, in storage order."""

    @abstractmethod
    async def show(self, issue_id: str) -> Issue:
        """One issue; raises :class:`IssueNotFound`."""

    @abstractmethod
    async def create(self, new: NewIssue) -> Issue:
        """Create an issue and return it as stored."""

    @abstractmethod
    async def update(self, issue_id: str, change: IssueUpdate) -> Issue:
        """Apply ``change`` and return the issue as stored."""

    @abstractmethod
    async def close(self, issue_id: str, reason: str | None = None) -> Issue:
        """Close an issue with an optional reason."""

    @abstractmethod
    async def add_dependency(self, issue_id: str, depends_on_id: str,
                             dep_type: str = DEFAULT_DEPENDENCY_TYPE) -> Issue:
        """Make ``issue_id`` depend on ``depends_on_id``; return the dependent issue."""

    async def list_with_problems(self) -> tuple[list[Issue], tuple[str, ...]]:
        """:meth:`list_issues` plus what is wrong in the store (lines of the file that
        are not issues, ...), each as one readable line, from the same read."""
        return await self.list_issues(), ()

    async def readiness(self, now: float | None = None) -> Readiness:
        """The readiness rule over all issues (one store read)."""
        return compute_readiness(await self.list_issues(), now)

    async def ready(self) -> list[Issue]:
        """Ready issues in the order Ralph takes them."""
        return (await self.readiness()).ready_issues()

    def info(self) -> StoreInfo:
        return StoreInfo(self.kind, self.workspace)


def open_store(workspace: Path, backend: Literal["auto", "bd", "jsonl"] = "auto",
               *, bd: str = "bd") -> TaskStore:
    """The store for ``workspace``: ``bd`` when it is on PATH and the workspace is a bd
    workspace (``.beads/`` with bd's database or metadata), else the built-in JSONL store."""
    from wrapix_core.tasks.bd_store import BdStore
    from wrapix_core.tasks.jsonl_store import JsonlStore

    if backend == "bd" or (backend == "auto" and shutil.which(bd) is not None
                           and is_bd_workspace(workspace)):
        return BdStore(workspace, bd=bd)
    return JsonlStore(workspace)
