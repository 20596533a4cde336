"""The workspace watcher on real files: rename-saves, bursts, a deleted directory, issues."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.tasks.shared_data import make_workspace
from wrapix_core.specs.board import load_board
from wrapix_core.specs.events import (
    IndexChanged,
    IssuesChanged,
    SpecAdded,
    SpecChanged,
    SpecRemoved,
    WatchEvent,
    WatchProblem,
)
from wrapix_core.specs.watcher import WorkspaceWatcher
from wrapix_core.tasks.jsonl_store import JsonlIssues
from wrapix_core.tasks.store import IssueUpdate

TIMEOUT = 10.0


class Events:
    def __init__(self, watcher: WorkspaceWatcher) -> None:
        self.watcher = watcher
        self.queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

    async def pump(self) -> None:
        async for event in self.watcher.events():
            self.queue.put_nowait(event)

    async def next(self) -> WatchEvent:
        return await asyncio.wait_for(self.queue.get(), TIMEOUT)

    async def until(self, wanted: type, name: str | None = None) -> WatchEvent:
        """The next event of type ``wanted`` (for spec ``name``), skipping others."""
        while True:
            event = await self.next()
            spec_name = getattr(getattr(event, "spec", None), "name", getattr(event, "name", None))
            if isinstance(event, wanted) and (name is None or spec_name == name):
                return event

    def drain(self) -> list[WatchEvent]:
        found = []
        while not self.queue.empty():
            found.append(self.queue.get_nowait())
        return found


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[Path, Events]]:
    workspace = make_workspace(tmp_path / "ws")
    board = await load_board(workspace)
    events = Events(WorkspaceWatcher(workspace, board=board))
    task = asyncio.ensure_future(events.pump())
    await asyncio.wait_for(events.watcher.ready.wait(), TIMEOUT)
    assert events.drain() == []  # the board was current: nothing to report
    yield workspace, events
    events.watcher.stop()
    await asyncio.wait_for(task, TIMEOUT)


def rename_save(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


async def test_rename_save_reports_one_change_with_the_new_parse(
        watched: tuple[Path, Events]) -> None:
    workspace, events = watched
    path = workspace / "specs" / "beads.md"
    rename_save(path, path.read_text().replace("- [ ] Issues persist", "- [x] Issues persist"))
    event = await events.until(SpecChanged)
    assert isinstance(event, SpecChanged)
    assert (event.spec.name, event.spec.criteria_done) == ("beads", 1)


async def test_burst_of_saves_ends_with_the_last_content(watched: tuple[Path, Events]) -> None:
    workspace, events = watched
    path = workspace / "specs" / "profiles.md"
    base = path.read_text()
    for number in range(20):
        path.write_text(base + f"\n<!-- save {number} -->\n" + "- [x] tail\n" * number)
    last = None
    while True:
        event = await events.until(SpecChanged, "profiles")
        assert isinstance(event, SpecChanged)
        last = event.spec
        if last.stamp is not None and last.stamp.size == path.stat().st_size:
            break
    assert last is not None and last.title == "Profiles System"


async def test_new_and_removed_specs_and_index(watched: tuple[Path, Events]) -> None:
    workspace, events = watched
    (workspace / "specs" / "new.md").write_text("# New\n")
    added = await events.until(SpecAdded, "new")
    assert isinstance(added, SpecAdded) and added.spec.title == "New"
    (workspace / "specs" / "new.md").unlink()
    assert isinstance(await events.until(SpecRemoved, "new"), SpecRemoved)
    readme = workspace / "specs" / "README.md"
    readme.write_text(readme.read_text().replace("| — | Design", "| — | WIP: Design"))
    changed = await events.until(IndexChanged)
    assert isinstance(changed, IndexChanged) and changed.index is not None


async def test_deleted_and_recreated_specs_directory(watched: tuple[Path, Events]) -> None:
    workspace, events = watched
    specs = workspace / "specs"
    shutil.rmtree(specs)
    removed = set()
    while len(removed) < 8:
        event = await events.until(SpecRemoved)
        assert isinstance(event, SpecRemoved)
        removed.add(event.name)
    specs.mkdir()
    (specs / "again.md").write_text("# Again\n\n## Success Criteria\n- [ ] x\n")
    again = await events.until(SpecAdded, "again")
    assert isinstance(again, SpecAdded) and again.spec.criteria_total == 1
    (specs / "again.md").write_text("# Again 2\n")  # the new directory is watched too
    changed = await events.until(SpecChanged, "again")
    assert isinstance(changed, SpecChanged) and changed.spec.title == "Again 2"


async def test_issue_changes_arrive_with_a_diff(watched: tuple[Path, Events]) -> None:
    workspace, events = watched
    await asyncio.to_thread(JsonlIssues(workspace).update, "frankenredis-420d4",
                            IssueUpdate(status="in_progress"))
    event = await events.until(IssuesChanged)
    assert isinstance(event, IssuesChanged)
    assert event.changed == ("frankenredis-420d4",) and event.added == event.removed == ()
    assert len(event.issues) == 1184


async def test_a_failed_root_watch_leaves_no_watch_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root stream dies while the content stream runs: the content stream goes on and
    is still ended with the watcher (it used to be forgotten, left running)."""
    (tmp_path / "specs").mkdir()
    stops: list[asyncio.Event] = []

    def fake_awatch(*paths: Path, stop_event: asyncio.Event, recursive: bool,
                    **options: object) -> AsyncIterator[set[tuple[int, str]]]:
        stops.append(stop_event)

        async def stream() -> AsyncIterator[set[tuple[int, str]]]:
            if not recursive:
                await asyncio.sleep(0)
                raise RuntimeError("root watch broke")
            await stop_event.wait()
            return
            yield  # an async generator that yields nothing

        return stream()

    monkeypatch.setattr("wrapix_core.specs.watcher.awatch", fake_awatch)
    watcher = WorkspaceWatcher(tmp_path)
    seen: list[WatchEvent] = []

    async def consume() -> None:
        async for event in watcher.events():
            seen.append(event)
            if isinstance(event, WatchProblem):
                watcher.stop()

    await asyncio.wait_for(consume(), TIMEOUT)
    assert [str(event) for event in seen if isinstance(event, WatchProblem)] == \
        [str(WatchProblem(f"watching {tmp_path} failed: root watch broke"))]
    assert len(stops) == 2 and all(stop.is_set() for stop in stops)
