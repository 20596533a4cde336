"""The built-in JSONL store: edits, verbatim lines, ids, locking across processes."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
from pathlib import Path

import pytest

from tests.tasks.capped import run_capped
from wrapix_core.tasks import ids
from wrapix_core.tasks.jsonl_store import JsonlIssues, JsonlStore
from wrapix_core.tasks.store import InvalidValue, IssueNotFound, IssueUpdate, NewIssue
from wrapix_core.tasks.workspace import init_workspace, issue_prefix

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")


def test_init_creates_config_once_and_never_overwrites(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    config = tmp_path / ".beads" / "config.yaml"
    assert "issue-prefix: wx" in config.read_text()
    config.write_text("issue-prefix: mine\n")
    init_workspace(tmp_path, "other")
    assert config.read_text() == "issue-prefix: mine\n"
    assert issue_prefix(tmp_path) == "mine"
    assert (tmp_path / ".beads" / "issues.jsonl").read_bytes() == b""


def test_prefix_falls_back_to_existing_ids_then_directory(tmp_path: Path) -> None:
    work = tmp_path / "My Project"
    work.mkdir()
    assert issue_prefix(work) == "my-project"
    assert issue_prefix(work, ["bd-1", "bd-2.1", "zz-9"]) == "bd"


def test_create_update_close_dep_label(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    store = JsonlIssues(tmp_path)
    epic = store.create(NewIssue("Epic", issue_type="epic", priority=1))
    child = store.create(NewIssue("Child", parent=epic.id, labels=("a", "a", "b")))
    assert re.fullmatch(r"wx-[0-9a-z]{4}", epic.id)
    assert child.id == f"{epic.id}.1"
    assert child.labels == ("a", "b")
    assert child.dependencies[0].type == "parent-child"
    assert STAMP.fullmatch(child.created_at) and child.created_at == child.updated_at
    updated = store.update(child.id, IssueUpdate(status="in_progress", notes="n1",
                                                 append_notes="q?", remove_labels=("a",),
                                                 add_labels=("c",), priority=0))
    assert (updated.status, updated.notes, updated.labels, updated.priority) == \
        ("in_progress", "n1\n\nq?", ("b", "c"), 0)
    closed = store.close(child.id, "done")
    assert (closed.status, closed.close_reason) == ("closed", "done")
    assert STAMP.fullmatch(closed.closed_at)
    reopened = store.update(child.id, IssueUpdate(status="open"))
    assert "closed_at" not in reopened.data
    other = store.create(NewIssue("Other"))
    with_dep = store.add_dependency(other.id, epic.id, "blocks")
    assert store.add_dependency(other.id, epic.id, "blocks") == with_dep  # idempotent
    assert JsonlIssues(tmp_path).get(other.id) == with_dep  # a fresh reader sees it


def test_errors_name_the_problem(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    store = JsonlIssues(tmp_path)
    with pytest.raises(IssueNotFound):
        store.update("wx-none", IssueUpdate(status="closed"))
    with pytest.raises(IssueNotFound):
        store.create(NewIssue("x", deps=(("blocks", "wx-none"),)))
    with pytest.raises(InvalidValue):
        IssueUpdate(status="done")
    with pytest.raises(InvalidValue):
        NewIssue("x", priority=7)
    with pytest.raises(InvalidValue):
        NewIssue("  ")
    issue = store.create(NewIssue("x"))
    with pytest.raises(InvalidValue):
        store.add_dependency(issue.id, issue.id)


def test_unparseable_lines_stay_verbatim_and_in_place(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    path = tmp_path / ".beads" / "issues.jsonl"
    garbage = [b"{not json", b"\xff\xfe bad utf8", b"[1, 2]", b"", b'{"title": "no id"}']
    good = b'{"id": "wx-1", "title": "One", "status": "open", "custom": {"k": 1}}'
    path.write_bytes(b"\r\n".join([garbage[0], good, *garbage[1:]]) + b"\r\n")
    store = JsonlIssues(tmp_path)
    document = store.document()
    assert [problem.line for problem in document.problems] == [1, 3, 4, 6]
    store.update("wx-1", IssueUpdate(notes="hi"))
    lines = path.read_bytes().split(b"\n")
    assert lines[0] == garbage[0] + b"\r"
    assert lines[2:6] == [g + b"\r" for g in garbage[1:]]
    rewritten = json.loads(lines[1])
    assert rewritten["custom"] == {"k": 1} and rewritten["notes"] == "hi"
    assert lines[1].startswith(b'{"id": "wx-1", ') and lines[1].endswith(b"\r")


def test_reload_skipped_while_file_unchanged(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    store = JsonlIssues(tmp_path)
    store.create(NewIssue("one"))
    first = store.document()
    assert store.document() is first
    JsonlIssues(tmp_path).create(NewIssue("two"))  # another writer
    assert len(store.document()) == 2


def test_ids_are_unique_and_grow() -> None:
    assert ids.base36(35, 3) == "00z"
    taken = {f"wx-{ids.base36(n, 1)}" for n in range(36)}
    assert ids.new_id("wx", taken) not in taken
    assert ids.child_id("wx-a", ["wx-a.1", "wx-a.7", "wx-ab.9"]) == "wx-a.8"


def _writer(workspace: str, name: str, count: int) -> None:
    store = JsonlIssues(Path(workspace))
    for number in range(count):
        issue = store.create(NewIssue(f"{name} {number}", labels=(name,)))
        store.update(issue.id, IssueUpdate(notes=f"note {number}"))


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), name, 40))
               for name in ("left", "right")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    issues = JsonlIssues(tmp_path).issues()
    assert len(issues) == 80
    assert sorted(issue.title for issue in issues) == sorted(
        f"{name} {number}" for name in ("left", "right") for number in range(40))
    assert all(issue.notes.startswith("note ") for issue in issues)
    assert JsonlIssues(tmp_path).document().problems == ()


async def test_async_store_and_ready(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    store = JsonlStore(tmp_path)
    blocker = await store.create(NewIssue("blocker", priority=3))
    blocked = await store.create(NewIssue("blocked", priority=0, deps=(("blocks", blocker.id),)))
    assert [issue.id for issue in await store.ready()] == [blocker.id]
    await store.close(blocker.id)
    assert [issue.id for issue in await store.ready()] == [blocked.id]
    results = await asyncio.gather(*(store.create(NewIssue(f"n{n}")) for n in range(10)))
    assert len({issue.id for issue in results}) == 10
    assert len(await store.list_issues()) == 12


def test_a_write_keeps_the_files_permissions(tmp_path: Path) -> None:
    init_workspace(tmp_path, "wx")
    path = tmp_path / ".beads" / "issues.jsonl"
    path.chmod(0o600)
    JsonlIssues(tmp_path).create(NewIssue("private"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_links_to_devices_and_fifos_are_errors_not_hangs(tmp_path: Path) -> None:
    """A cloned .beads/ may link issues.jsonl to /dev/zero or hold a FIFO config: a clear
    error each, never a read without end or a wait. Run apart, with a memory cap."""
    beads = tmp_path / ".beads"
    beads.mkdir()
    (beads / "issues.jsonl").symlink_to("/dev/zero")
    os.mkfifo(beads / "config.yaml")
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from wrapix_core.errors import WrapixError\n"
            "from wrapix_core.tasks.jsonl_store import JsonlIssues\n"
            "from wrapix_core.tasks.workspace import read_config\n"
            "for read in (JsonlIssues(Path(sys.argv[1])).issues,\n"
            "             lambda: read_config(Path(sys.argv[1]))):\n"
            "    try:\n"
            "        read()\n"
            "    except WrapixError as error:\n"
            "        print(error)\n")
    link, fifo = run_capped(code, str(tmp_path))
    assert link.startswith(f"{beads / 'issues.jsonl'} is a symbolic link; wrapix does not "
                           "follow links in the workspace")
    assert fifo == (f"{beads / 'config.yaml'} is not a regular file: replace it with a "
                    "regular file, or remove it")
