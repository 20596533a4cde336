"""BdStore against a stand-in `bd` on PATH (the real bd cannot be installed here: its npm
package downloads a prebuilt binary). The stand-in speaks bd's --json shapes as bd's
source defines them; these tests check the argv the store sends and how it reads them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from wrapix_core import proc
from wrapix_core.tasks.bd_store import BdStore
from wrapix_core.tasks.jsonl_store import JsonlStore
from wrapix_core.tasks.model import Dependency
from wrapix_core.tasks.store import IssueNotFound, IssueUpdate, NewIssue, open_store

STANDIN = Path(__file__).parent / "bd_standin" / "bd"


@pytest.fixture
def bd_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(STANDIN, bin_dir / "bd")
    (bin_dir / "bd").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("BD_STANDIN_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("BD_STANDIN_LOG", str(tmp_path / "argv.log"))
    workspace = tmp_path / "ws"
    (workspace / ".beads").mkdir(parents=True)
    (workspace / ".beads" / "metadata.json").write_text('{"database": "dolt"}')
    return workspace


def _argv_log(workspace: Path) -> list[list[str]]:
    return [json.loads(line) for line in
            (workspace.parent / "argv.log").read_text().splitlines()]


def test_auto_detection(bd_workspace: Path, tmp_path: Path) -> None:
    assert isinstance(open_store(bd_workspace), BdStore)
    plain = tmp_path / "plain"
    (plain / ".beads").mkdir(parents=True)
    assert isinstance(open_store(plain), JsonlStore)  # bd on PATH, but not a bd workspace
    assert isinstance(open_store(bd_workspace, bd="no-such-bd"), JsonlStore)


async def test_full_cycle_through_bd(bd_workspace: Path) -> None:
    store = open_store(bd_workspace)
    epic = await store.create(NewIssue("-starts with a dash", issue_type="epic", priority=1))
    child = await store.create(NewIssue("child", parent=epic.id, labels=("rl-x",),
                                        notes="first note"))
    assert child.dependencies == (Dependency(child.id, epic.id, "parent-child"),)
    assert child.notes == "first note"
    updated = await store.update(child.id, IssueUpdate(status="in_progress",
                                                       append_notes="second",
                                                       add_labels=("ralph:clarify",)))
    assert updated.notes == "first note\n\nsecond"
    assert "ralph:clarify" in updated.labels
    blocker = await store.create(NewIssue("blocker"))
    await store.add_dependency(epic.id, blocker.id)
    assert [issue.id for issue in await store.ready()] == [blocker.id]
    await store.close(blocker.id, "done")
    assert [issue.id for issue in await store.ready()] == [epic.id]
    with pytest.raises(IssueNotFound):
        await store.show("bd-999")
    argv = _argv_log(bd_workspace)
    assert all("--json" in call for call in argv)
    assert ["create", "--title=-starts with a dash", "--type=epic", "--priority=1", "--json"] \
        in argv
    assert ["label", "add", "--json", "--", child.id, "ralph:clarify"] in argv
    assert ["list", "--all", "--limit", "0", "--json"] in argv


async def test_list_through_daemon_fetches_dependency_records(
        bd_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BdStore(bd_workspace)
    first = await store.create(NewIssue("first"))
    second = await store.create(NewIssue("second", deps=(("blocks", first.id),)))
    monkeypatch.setenv("BD_STANDIN_DAEMON", "1")
    issues = {issue.id: issue for issue in await store.list_issues()}
    assert issues[second.id].dependencies == (Dependency(second.id, first.id, "blocks"),)
    assert ["show", second.id, "--json"] in _argv_log(bd_workspace)


async def test_garbage_output_and_timeouts_are_errors(bd_workspace: Path) -> None:
    script = bd_workspace.parent / "bin" / "bd"
    script.write_text("#!/bin/sh\necho 'not json at all'\n")
    with pytest.raises(Exception, match="not JSON"):
        await BdStore(bd_workspace).list_issues()
    script.write_text("#!/bin/sh\nexec sleep 30\n")
    with pytest.raises(proc.CommandTimeout):
        await BdStore(bd_workspace, timeout=0.5).list_issues()
