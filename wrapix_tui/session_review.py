"""A session as the diff screen's target: its repository and range, and the sessions
core's merge, discard and instruct behind the screen's keys.

The core's calls block (git, podman): each runs in a thread. Before git reads the
session's repository, it is checked for planted git redirection
(:func:`wrapix_core.sessions.gitcmd.check_repository`), as ``wrapix diff`` does. A
session on a host has its work fetched first (:func:`wrapix_core.hosts.remote_session.sync`),
and its discard and instructions go to that host, as the CLI's do.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from wrapix_core.sandbox import naming
from wrapix_tui.screens.diff import DiffTarget

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import ContainerInfo
    from wrapix_core.sessions.model import MergeResult, Session
    from wrapix_core.settings import Settings


def session_of(info: ContainerInfo) -> Session | None:
    """The session a sandbox runs on (its labels name it), or None: not a session, or
    one whose record is gone. Raises nothing a person could not act on."""
    from pathlib import Path

    from wrapix_core.sessions import store
    from wrapix_core.sessions.model import SessionError

    name = info.labels.get(naming.LABEL_SESSION)
    project = info.labels.get(naming.LABEL_PROJECT)
    if not name or not project:
        return None
    try:
        return store.get_session(Path(project), name)
    except (SessionError, ValueError, OSError):
        return None


def target_for(session: Session) -> DiffTarget:
    """The diff screen's target for ``session`` (range resolved in the reading thread)."""
    from wrapix_core.sessions import diff, discard, instruct, merge
    from wrapix_core.sessions.gitcmd import check_repository

    def resolve() -> tuple[str, str]:
        fetched()
        check_repository(session.path, session.name)
        found = diff.diff_range(session)
        return found.base, found.head

    def fetched() -> None:
        """A host's work into the session's copy here (in the calling thread)."""
        if session.host is not None:
            from wrapix_core.hosts.remote_session import sync

            asyncio.run(sync(settings(), session))

    def settings() -> Settings:
        from wrapix_core.settings import load_settings

        return load_settings(session.project)

    def merged(strategy: str) -> MergeResult:
        fetched()
        return merge.merge_session(session, strategy)  # type: ignore[arg-type]

    async def do_merge(strategy: str) -> str:
        done = await asyncio.to_thread(merged, strategy)
        if done.commits == 0:
            return f"{session.name}: nothing to merge ({done.base_ref} already has it)"
        where = " (your checkout was updated)" if done.checkout_updated else ""
        return (f"Merged {session.name} into {done.base_ref} ({done.strategy}, "
                f"{done.commits} commit{'s' if done.commits != 1 else ''}){where}")

    def unlanded() -> list[str]:
        fetched()
        return discard.unlanded(session)

    async def lost() -> list[str]:
        return await asyncio.to_thread(unlanded)

    async def do_discard() -> str:
        if session.host is not None:
            from wrapix_core.hosts.remote_session import discard_on_host

            await discard_on_host(await asyncio.to_thread(settings), session)
        gone = await asyncio.to_thread(discard.discard_session, session, force=True,
                                       podman="podman" if session.host is None else "true")
        said = f" — thrown away: {'; '.join(gone)}" if gone else ""
        return f"Discarded session {session.name}{said}"

    async def do_instruct(text: str, path: str | None, line: int | None) -> str:
        message = instruct.review_comment(text, path=path, line=line)
        options: list[str] = []
        if session.host is not None:
            from wrapix_core.hosts.target import host

            options = host(await asyncio.to_thread(settings), session.host).podman_args()
        await asyncio.to_thread(instruct.send_instruction, session.container, message,
                                options=options)
        return f"Sent to {session.name}'s agent: {instruct.clean(text)[:80]}"

    return DiffTarget(name=session.name, repo=session.path, base=session.base_commit,
                      branch=session.branch, base_label=session.base_ref or "",
                      resolve=resolve, merge=do_merge, discard=do_discard, lost=lost,
                      instruct=do_instruct)
