"""Typed changes the workspace watcher reports (and :meth:`Board.apply` consumes).

Each event carries the new parsed state, so a consumer never reads files itself. Issue
changes carry the whole new list plus which ids were added, changed and removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wrapix_core.sandbox.gitguard import Finding
from wrapix_core.specs.model import Spec, SpecIndex
from wrapix_core.tasks.model import Issue


@dataclass(frozen=True)
class SpecAdded:
    spec: Spec


@dataclass(frozen=True)
class SpecChanged:
    spec: Spec


@dataclass(frozen=True)
class SpecRemoved:
    name: str
    path: Path


@dataclass(frozen=True)
class IndexChanged:
    """``specs/README.md`` changed; ``index`` is None when it was removed."""

    index: SpecIndex | None


@dataclass(frozen=True)
class IssuesChanged:
    issues: tuple[Issue, ...]
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """What is wrong in the issue store now (unparseable lines, ...)."""


@dataclass(frozen=True)
class WatchProblem:
    """Something the watcher could not do (the store failed, a watch broke); it goes on."""

    message: str


@dataclass(frozen=True)
class GitRedirection:
    """What :func:`wrapix_core.sandbox.gitguard.quick` finds in the workspace's ``.git``
    now (reported when it changes; empty: what was reported is gone)."""

    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class StateChanged:
    """Files changed in the extra state directory the watcher was given (Ralph's
    ``state/``: the running steps of parallel loops). ``names``: the entries that changed;
    empty when anything may have (the directory came, went or the watch started). The
    consumer reads what it needs; nothing here is parsed."""

    names: tuple[str, ...] = ()


WatchEvent = (SpecAdded | SpecChanged | SpecRemoved | IndexChanged | IssuesChanged
              | WatchProblem | GitRedirection | StateChanged)
