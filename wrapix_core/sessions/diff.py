"""What a session changed: base...session, committed and uncommitted work apart.

The range is the session branch against the base branch as it is now, three dots (what a
merge would bring: from their merge base to the branch), then the session's work tree
against its ``HEAD`` (uncommitted) and its untracked files. The parsing and the inert
rendering are :mod:`wrapix_core.gitdiff`'s; this module says which commits, and first
checks the session's repository for planted git redirection
(:func:`wrapix_core.sandbox.gitguard.quick`), because those git calls find the repository
the usual way.
"""

from __future__ import annotations

from dataclasses import dataclass

from wrapix_core.sessions.gitcmd import check_repository
from wrapix_core.sessions.model import Session, SessionError
from wrapix_core.sessions.stats import base_tip, session_head

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wrapix_core.gitdiff.model import Diff


@dataclass(frozen=True)
class DiffRange:
    """``git diff base...head`` in the session's repository (``session.path``)."""

    base: str
    head: str


def diff_range(session: Session) -> DiffRange:
    """The committed range of ``session`` (raises when its branch is gone)."""
    head = session_head(session)
    if head is None:
        raise SessionError(f"the branch {session.branch} is gone from session {session.name}",
                           f"look in the session's repository: `git -C {session.path} "
                           "branch`")
    return DiffRange(base_tip(session) or session.base_commit, head)


async def load(session: Session, *, work: bool = True) -> Diff:
    """The session's diff as :class:`wrapix_core.gitdiff.model.Diff` (committed, then
    uncommitted and untracked with ``work``)."""
    import asyncio

    from wrapix_core.gitdiff import source

    await asyncio.to_thread(check_repository, session.path, session.name)
    found = await asyncio.to_thread(diff_range, session)
    return await source.load(session.path, found.base, found.head, work=work)
