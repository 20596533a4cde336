"""What a session changed: base...session, committed and uncommitted work apart.

``committed`` is the session branch against its merge base with the base branch (what a
merge would bring, like ``git diff base...wrapix/NAME``); ``uncommitted`` is the
session's work tree against its ``HEAD`` (staged and unstaged; untracked files listed
by name). Both are plain ``git diff`` text, computed in the session's repository with the
hostile-repository options of :mod:`.gitcmd` (no external diff, no textconv). The diff
screen parses the same ranges (:func:`ranges`) with :mod:`wrapix_core.gitdiff`.
"""

from __future__ import annotations

from dataclasses import dataclass

from wrapix_core.sessions import gitcmd
from wrapix_core.sessions.model import Session, SessionError
from wrapix_core.sessions.stats import base_tip, session_head, uncommitted

_OPTIONS = ("--no-ext-diff", "--no-textconv", "--no-color", "--no-renames")


@dataclass(frozen=True)
class DiffRange:
    """``git diff base head`` in ``repo`` (the session's repository); ``head`` None: the
    work tree."""

    base: str
    head: str | None


@dataclass(frozen=True)
class SessionDiff:
    committed: str
    uncommitted: str
    untracked: tuple[str, ...]
    range: DiffRange


def ranges(session: Session) -> tuple[DiffRange, DiffRange]:
    """(committed: merge base → branch, uncommitted: HEAD → work tree)."""
    head = session_head(session)
    if head is None:
        raise SessionError(f"the branch {session.branch} is gone from session {session.name}",
                           "look in the session's repository: "
                           f"`git -C {session.path} branch`")
    target = base_tip(session) or session.base_commit
    merge_base = gitcmd.rev(gitcmd.session(session.path, "merge-base", target, head,
                                           check=False)) or session.base_commit
    return DiffRange(merge_base, head), DiffRange("HEAD", None)


def session_diff(session: Session, *, stat: bool = False) -> SessionDiff:
    committed_range, _ = ranges(session)
    shape = ("--stat=120",) if stat else ("--patch",)
    committed = gitcmd.session(session.path, "diff", *_OPTIONS, *shape,
                               committed_range.base, str(committed_range.head)).stdout
    work = gitcmd.session(session.path, "diff", *_OPTIONS, *shape, "HEAD",
                          check=False).stdout
    tracked_changes = set(gitcmd.session(session.path, "diff", "--name-only", "-z", "HEAD",
                                         check=False).stdout.split("\0"))
    untracked = tuple(path for path in uncommitted(session) if path not in tracked_changes)
    return SessionDiff(committed, work, untracked, committed_range)
