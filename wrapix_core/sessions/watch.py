"""Keeping sessions' statistics live from file and ref changes, never by polling git.

One ``watchfiles`` stream (inotify) over the project's sessions directory — every
session's work tree and repository, and the records that say which sessions exist — and
over the project's git directory (a moved base branch changes every session's figures).
Changes are gathered for ``debounce_ms``; then only the sessions they touched are
recomputed (:func:`wrapix_core.sessions.stats.session_stats`, in a thread), and each
yields a :class:`SessionUpdate`. Object writes and reflogs are ignored: a commit also
moves a ref, which is what counts.

Usage (the TUI)::

    async for update in watch_stats(project, stop_event=stop):
        rows.update(update.name, update.session, update.stats)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from wrapix_core import paths
from wrapix_core.sessions import gitcmd, store
from wrapix_core.sessions.model import Session, SessionError, SessionStats
from wrapix_core.sessions.stats import session_stats

DEBOUNCE_MS = 200
_IGNORED = ("/.git/objects/", "/.git/logs/")
_PROJECT_GIT = ("HEAD", "packed-refs", "refs")


@dataclass(frozen=True)
class SessionUpdate:
    """Session ``name`` changed: its record and new statistics (both None: it is gone)."""

    name: str
    session: Session | None
    stats: SessionStats | None


def git_dir(project: Path) -> Path:
    done = gitcmd.project(project, "rev-parse", "--path-format=absolute",
                          "--git-common-dir")
    return Path(done.stdout.strip())


def relevant(path: str, project_git: Path) -> bool:
    """Whether a change at ``path`` can move a session's statistics."""
    if any(part in path for part in _IGNORED):
        return False
    if path.startswith(f"{project_git}/"):
        rel = path[len(str(project_git)) + 1:]
        return rel.split("/", 1)[0] in _PROJECT_GIT
    return True


def affected(changed: set[str], sessions_dir: Path, project_git: Path) -> set[str] | None:
    """Names of the sessions the changed paths belong to; None: all of them (the
    project's refs moved)."""
    names: set[str] = set()
    for path in changed:
        if path.startswith(f"{project_git}/"):
            return None
        if path.startswith(f"{sessions_dir}/"):
            first = path[len(str(sessions_dir)) + 1:].split("/", 1)[0]
            names.add(first.removesuffix(store.RECORD_SUFFIX))
    return names


def _update(project: Path, name: str) -> SessionUpdate:
    try:
        session = store.get_session(project, name)
    except SessionError:
        return SessionUpdate(name, None, None)
    return SessionUpdate(name, session, session_stats(session))


async def snapshot(project: Path) -> list[SessionUpdate]:
    """Every session of ``project`` with its statistics now."""
    sessions = await asyncio.to_thread(store.list_sessions, project)
    return [SessionUpdate(session.name, session,
                          await asyncio.to_thread(session_stats, session))
            for session in sessions]


async def _pump(queue: asyncio.Queue[set[str] | None], roots: list[Path],
                project_git: Path, debounce_ms: int, stop: asyncio.Event) -> None:
    from watchfiles import awatch

    def keep(_change: object, path: str) -> bool:
        return relevant(path, project_git)

    try:
        async for batch in awatch(*roots, watch_filter=keep, debounce=debounce_ms, step=20,
                                  stop_event=stop, rust_timeout=1_000):
            queue.put_nowait({path for _, path in batch})
    finally:
        queue.put_nowait(None)


async def watch_stats(project: Path, *, stop_event: asyncio.Event | None = None,
                      debounce_ms: int = DEBOUNCE_MS,
                      initial: bool = True) -> AsyncIterator[SessionUpdate]:
    """Updates for ``project``'s sessions: all of them first (``initial``), then each
    session whose files or refs changed. Ends when ``stop_event`` is set. The watch is in
    place before the first figures are computed, so no change in between is missed."""
    sessions_dir = paths.ensure_private_dir(store.project_dir(project))
    project_git = await asyncio.to_thread(git_dir, project)
    stop = stop_event or asyncio.Event()
    queue: asyncio.Queue[set[str] | None] = asyncio.Queue()
    task = asyncio.ensure_future(_pump(queue, [sessions_dir, project_git], project_git,
                                       debounce_ms, stop))
    # awatch sets its inotify watches on its first step, before it first awaits (as in
    # wrapix_core.specs.watcher): two passes of the loop let that step run.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    known: set[str] = set()
    try:
        if initial:
            for update in await snapshot(project):
                known.add(update.name)
                yield update
        while (changed := await queue.get()) is not None:
            names = affected(changed, sessions_dir, project_git)
            if names is None:
                names = known | {session.name for session in
                                 await asyncio.to_thread(store.list_sessions, project)}
            for name in sorted(name for name in names if not name.startswith(".")):
                update = await asyncio.to_thread(_update, project, name)
                if update.session is None and name not in known:
                    continue
                (known.add if update.session is not None else known.discard)(name)
                yield update
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
