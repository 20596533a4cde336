"""The inotify-fed workspace watcher the board uses: the same events as the awatch one."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wrapix_core.specs.events import (
    IssuesChanged,
    SpecAdded,
    SpecChanged,
    SpecRemoved,
    WatchEvent,
)
from wrapix_core.specs.inotify_watch import InotifyWorkspaceWatcher, inotify_available

pytestmark = pytest.mark.skipif(not inotify_available(), reason="needs Linux inotify")


async def next_event(events: AsyncIterator[WatchEvent], kind: type,
                     timeout: float = 5.0) -> WatchEvent:
    async def find() -> WatchEvent:
        async for event in events:
            if isinstance(event, kind):
                return event
        raise AssertionError("the watcher stopped")
    return await asyncio.wait_for(find(), timeout)


def save(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


async def test_specs_issues_and_directories_come_and_go(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "alpha.md").write_text("# Alpha\n")
    watcher = InotifyWorkspaceWatcher(tmp_path)
    events = watcher.events()
    try:
        added = await next_event(events, SpecAdded)  # the initial scan
        assert isinstance(added, SpecAdded) and added.spec.name == "alpha"
        save(tmp_path / "specs" / "alpha.md", "# Alpha v2\n")
        changed = await next_event(events, SpecChanged)
        assert isinstance(changed, SpecChanged) and changed.spec.title == "Alpha v2"
        (tmp_path / "specs" / "beta.md").write_text("# Beta\n")
        added = await next_event(events, SpecAdded)
        assert isinstance(added, SpecAdded) and added.spec.name == "beta"
        (tmp_path / "specs" / "beta.md").unlink()
        removed = await next_event(events, SpecRemoved)
        assert isinstance(removed, SpecRemoved) and removed.name == "beta"
        # .beads/ appears (a root event), then its issues change (a content event).
        (tmp_path / ".beads").mkdir()
        (tmp_path / ".beads" / "issues.jsonl").write_text(
            '{"id": "x-1", "title": "One", "status": "open"}\n')
        issues = await next_event(events, IssuesChanged)
        assert isinstance(issues, IssuesChanged) and [i.id for i in issues.issues] == ["x-1"]
        # specs/ replaced wholesale: the old specs go, the new ones come.
        shutil.rmtree(tmp_path / "specs")
        removed = await next_event(events, SpecRemoved)
        assert isinstance(removed, SpecRemoved) and removed.name == "alpha"
        (tmp_path / "specs").mkdir()
        (tmp_path / "specs" / "gamma.md").write_text("# Gamma\n")
        added = await next_event(events, SpecAdded)
        assert isinstance(added, SpecAdded) and added.spec.name == "gamma"
    finally:
        watcher.stop()
        await events.aclose()  # type: ignore[attr-defined]
