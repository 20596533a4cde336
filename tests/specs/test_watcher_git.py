"""The workspace watcher's git stream: git redirection planted while a sandbox runs is
reported at once (issue 13), named by file, and reported gone once it is moved aside."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.gitplant import make_repo
from wrapix_core.sandbox import gitguard
from wrapix_core.specs.events import GitRedirection, WatchEvent
from wrapix_core.specs.inotify_watch import InotifyWorkspaceWatcher
from wrapix_core.specs.watcher import WorkspaceWatcher

TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def watching(watcher: WorkspaceWatcher) -> AsyncIterator[asyncio.Queue[WatchEvent]]:
    """``watcher``'s events in a queue, once it is ready."""
    queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

    async def pump() -> None:
        async for event in watcher.events():
            queue.put_nowait(event)

    task = asyncio.ensure_future(pump())
    await asyncio.wait_for(watcher.ready.wait(), TIMEOUT)
    try:
        yield queue
    finally:
        watcher.stop()
        await asyncio.wait_for(task, TIMEOUT)


@pytest.fixture(params=[WorkspaceWatcher, InotifyWorkspaceWatcher])
async def watched(request: pytest.FixtureRequest, tmp_path: Path
                  ) -> AsyncIterator[tuple[Path, asyncio.Queue[WatchEvent]]]:
    workspace = make_repo(tmp_path / "ws")
    async with watching(request.param(workspace)) as queue:
        yield workspace, queue


async def next_git(queue: asyncio.Queue[WatchEvent]) -> GitRedirection:
    while True:
        event = await asyncio.wait_for(queue.get(), TIMEOUT)
        if isinstance(event, GitRedirection):
            return event


async def test_planted_commondir_and_worktree_are_reported_live(
        watched: tuple[Path, asyncio.Queue[WatchEvent]]) -> None:
    workspace, queue = watched
    assert queue.empty()  # a clean repository: nothing said
    (workspace / ".git" / "index").touch()  # git's own busy writes: still nothing
    (workspace / ".git" / "commondir").write_text("c\n")
    event = await next_git(queue)
    assert [f.path for f in event.findings] == [".git/commondir"]
    gitguard.neutralise(str(workspace), list(event.findings))
    assert (await next_git(queue)).findings == ()
    # .git/worktrees appears later: its entries are watched from then on.
    (workspace / ".git" / "worktrees" / "w").mkdir(parents=True)
    await asyncio.sleep(0.2)
    (workspace / ".git" / "worktrees" / "w" / "commondir").write_text("../../c\n")
    assert [f.path for f in (await next_git(queue)).findings] == [
        ".git/worktrees/w/commondir"]


async def test_a_repository_made_after_the_start_is_watched(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with watching(InotifyWorkspaceWatcher(workspace)) as queue:
        make_repo(workspace)
        await asyncio.sleep(0.2)
        (workspace / ".git" / "commondir").write_text("c\n")
        assert [f.path for f in (await next_git(queue)).findings] == [".git/commondir"]
