"""What a session is, what is known about its branch, and how sessions fail."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from wrapix_core.errors import WrapixError

BRANCH_PREFIX = "wrapix/"
"""Every session's branch is ``wrapix/NAME`` (in the session's own repository)."""
HIDDEN_REFS = "refs/wrapix/sessions"
"""In the project: ``<HIDDEN_REFS>/NAME/base`` keeps the session's base commit alive
(the session borrows its objects), ``<HIDDEN_REFS>/NAME/head`` is the branch as the last
merge fetched it. Never under ``refs/heads``: the user's branches stay as they are."""
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}\Z")
"""A session name: it names a branch, a directory and (as a suffix) a container."""

Strategy = Literal["merge", "squash", "rebase", "ff-only"]
STRATEGIES: tuple[Strategy, ...] = ("merge", "squash", "rebase", "ff-only")


class SessionError(WrapixError):
    """A session cannot be created, found or used as asked; nothing was changed."""


class SessionNotFound(SessionError):
    """No session of that name exists for the project."""


class MergeRefused(SessionError):
    """Landing a session was refused; the user's checkout, index and branches are exactly
    as they were. ``files`` are the paths in the way (conflicts, dirty files)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, *,
                 files: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.files = files


def check_name(name: str) -> str:
    """``name`` if it is a valid session name, else a :class:`SessionError` saying why."""
    if not NAME.match(name):
        raise SessionError(f"session name {name!r} is not valid",
                           "use 1-40 lowercase letters, digits, '-' or '_', starting with a "
                           "letter or digit")
    return name


@dataclass(frozen=True)
class Session:
    """A session as recorded by the host (``<NAME>.json`` beside its repository, never in
    a place a sandbox can write)."""

    name: str
    project: Path
    """The user's checkout (the work tree of the project repository)."""
    path: Path
    """The session's own repository and work tree (the sandbox's workspace)."""
    base_ref: str | None
    """The branch the session lands on (``main``); None when it was made from a commit
    that no branch named (it can then be diffed, not merged)."""
    base_commit: str
    """The commit the session's branch started from."""
    objects: Path
    """The project's object directory, borrowed read-only through alternates (mounted
    read-only at the same path in the sandbox, so that the path means the same inside)."""
    created: float = 0.0
    merged_head: str | None = None
    """The session's head commit when it was last landed (squash and rebase land other
    commits, so ancestry alone cannot tell)."""
    host: str | None = None
    """The host its sandbox runs on (``[hosts.NAME]``); None: this machine. The work is
    then in ``remote_path`` there, and ``path`` is its copy here, brought up to date by
    :func:`wrapix_core.hosts.remote_session.sync` before it is read."""
    remote_path: str | None = None

    @property
    def branch(self) -> str:
        return f"{BRANCH_PREFIX}{self.name}"

    @property
    def container(self) -> str:
        """The sandbox running on this session."""
        from wrapix_core.sandbox import naming

        return naming.container_name(self.project, suffix=f"s-{self.name}")

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.update(project=str(self.project), path=str(self.path),
                    objects=str(self.objects), branch=self.branch, container=self.container)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Session:
        def text(key: str) -> str:
            value = data.get(key)
            if not isinstance(value, str):
                raise ValueError(f"{key} is not a string")
            return value

        base_ref = data.get("base_ref")
        merged = data.get("merged_head")
        created = data.get("created", 0.0)
        host = data.get("host")
        remote = data.get("remote_path")
        return cls(name=check_name(text("name")), project=Path(text("project")),
                   path=Path(text("path")),
                   base_ref=base_ref if isinstance(base_ref, str) else None,
                   base_commit=text("base_commit"), objects=Path(text("objects")),
                   created=float(created) if isinstance(created, int | float) else 0.0,
                   merged_head=merged if isinstance(merged, str) else None,
                   host=host if isinstance(host, str) else None,
                   remote_path=remote if isinstance(remote, str) else None)


@dataclass(frozen=True)
class SessionStats:
    """A session's branch against its base, now. Computed without touching the user's
    checkout (:func:`wrapix_core.sessions.stats.session_stats`)."""

    head: str | None
    """The session branch's commit (None: the branch is gone from the session)."""
    base_tip: str | None
    """The base branch's commit in the project now (None: no such branch any more)."""
    ahead: int = 0
    """Commits on the session branch that the base does not have."""
    behind: int = 0
    """Commits on the base since the session's merge base."""
    files: int = 0
    """Files changed by the committed work (merge base...head)."""
    added: int = 0
    removed: int = 0
    uncommitted: tuple[str, ...] = ()
    """Paths with uncommitted changes in the session's work tree (untracked included)."""
    uncommitted_added: int = 0
    uncommitted_removed: int = 0
    merges_cleanly: bool | None = None
    """Whether the branch merges into the base now without conflicts (None: nothing to
    merge, or no base branch)."""
    conflicts: tuple[str, ...] = ()
    merged: bool = False
    """Everything committed is already landed on the base."""
    problems: tuple[str, ...] = field(default_factory=tuple)
    """What could not be found out, said for people."""

    @property
    def dirty(self) -> bool:
        return bool(self.uncommitted)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.update(uncommitted=list(self.uncommitted), conflicts=list(self.conflicts),
                    problems=list(self.problems), dirty=self.dirty)
        return data


@dataclass(frozen=True)
class MergeResult:
    """What ``wrapix merge`` did."""

    session: str
    strategy: Strategy
    base_ref: str
    old: str
    """The base branch's commit before."""
    new: str
    """The base branch's commit after."""
    checkout_updated: bool
    """The base branch is the user's current branch: its work tree and index moved too."""
    commits: int
    """Session commits landed."""
