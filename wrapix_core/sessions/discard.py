"""Dropping a session: its sandbox stopped and removed, its repository and work tree
deleted, its hidden refs in the project and its record gone.

Work that is not on the base yet (commits not landed, uncommitted changes) is not thrown
away unless asked (``force``); :func:`unlanded` says what would be lost.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from wrapix_core import proc
from wrapix_core.sessions import gitcmd, store
from wrapix_core.sessions.model import HIDDEN_REFS, Session, SessionError
from wrapix_core.sessions.stats import session_stats


def unlanded(session: Session) -> list[str]:
    """What discarding would lose, for people (empty: nothing)."""
    stats = session_stats(session)
    lost: list[str] = []
    if stats.head is not None and not stats.merged:
        lost.append(f"{stats.ahead} commit(s) not merged into "
                    f"{session.base_ref or session.base_commit[:12]}")
    if stats.uncommitted:
        lost.append(f"uncommitted changes in {len(stats.uncommitted)} file(s)")
    return lost


def remove_tree(path: Path) -> None:
    """Delete ``path`` whole, also where the agent took away write permission (links are
    removed, never followed)."""
    def retry(function: Callable[..., object], failed: str, _info: object) -> None:
        parent = os.path.dirname(failed)
        if not os.path.islink(parent):
            os.chmod(parent, 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, 0o700)
        function(failed)

    try:
        shutil.rmtree(path, onerror=retry)
    except OSError as error:
        raise SessionError(f"could not remove {path}: {error.strerror}",
                           "remove it yourself, then run `wrapix discard` again") from None


def stop_sandbox(session: Session, podman: str = "podman", timeout: float = 60.0) -> bool:
    """Remove the session's sandbox if there is one; True when one was removed."""
    try:
        done = proc.run_sync([podman, "rm", "-f", "-t", "5", session.container],
                             timeout=timeout, check=False)
    except proc.CommandNotFound:
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def discard_session(session: Session, *, force: bool = False,
                    podman: str = "podman") -> list[str]:
    """Discard ``session``; returns what was lost (when ``force``). Without ``force``,
    unlanded work is a :class:`SessionError` naming it, and nothing is touched."""
    lost = unlanded(session)
    if lost and not force:
        raise SessionError(f"session {session.name} has work that is not merged: "
                           f"{'; '.join(lost)}",
                           f"merge it (`wrapix merge {session.name}`), or pass --force to "
                           "throw it away")
    stop_sandbox(session, podman)
    for ref in ("base", "head"):
        gitcmd.project(session.project, "update-ref", "-d",
                       f"{HIDDEN_REFS}/{session.name}/{ref}", check=False)
    remove_tree(session.path)
    store.record_file(session.project, session.name).unlink(missing_ok=True)
    return lost
