"""The watcher's state stream (Ralph's ``state/``, where parallel loops record their
running steps): changes there are reported by name, also when the directory is made
after the watch started; a link there is never watched through."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.specs.test_watcher_git import TIMEOUT, watching
from wrapix_core.specs.events import StateChanged, WatchEvent
from wrapix_core.specs.inotify_watch import InotifyWorkspaceWatcher
from wrapix_core.specs.watcher import WorkspaceWatcher


async def names_until(queue: asyncio.Queue[WatchEvent], name: str) -> None:
    """Wait for a StateChanged naming ``name``."""
    while True:
        event = await asyncio.wait_for(queue.get(), TIMEOUT)
        if isinstance(event, StateChanged) and name in event.names:
            return


@pytest.mark.parametrize("kind", [WorkspaceWatcher, InotifyWorkspaceWatcher])
async def test_state_files_are_reported_by_name(tmp_path: Path,
                                                kind: type[WorkspaceWatcher]) -> None:
    workspace = tmp_path / "ws"
    state = workspace / ".wrapix" / "ralph" / "state"
    state.mkdir(parents=True)
    async with watching(kind(workspace, state=state)) as queue:
        first = await asyncio.wait_for(queue.get(), TIMEOUT)
        assert first == StateChanged()  # the start: read everything once
        (state / "parallel-1.run.json").write_text("{}")
        await names_until(queue, "parallel-1.run.json")
        (state / "parallel-1.run.json").unlink()
        await names_until(queue, "parallel-1.run.json")


async def test_a_state_directory_made_later_is_watched(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    state = workspace / ".wrapix" / "ralph" / "state"
    async with watching(InotifyWorkspaceWatcher(workspace, state=state)) as queue:
        assert await asyncio.wait_for(queue.get(), TIMEOUT) == StateChanged()
        state.mkdir(parents=True)  # `ralph start`
        while await asyncio.wait_for(queue.get(), TIMEOUT) != StateChanged():
            pass
        (state / "parallel-7.run.json").write_text("{}")
        await names_until(queue, "parallel-7.run.json")


async def test_a_link_in_the_way_is_not_watched(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "state").mkdir(parents=True)
    (workspace / ".wrapix").mkdir(parents=True)
    (workspace / ".wrapix" / "ralph").symlink_to(elsewhere)
    watcher = InotifyWorkspaceWatcher(workspace, state=workspace / ".wrapix/ralph/state")
    async with watching(watcher) as queue:
        assert await asyncio.wait_for(queue.get(), TIMEOUT) == StateChanged()
        assert watcher._state_at is None and watcher._state is None  # nothing through it
