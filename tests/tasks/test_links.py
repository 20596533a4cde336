"""The issue store never follows a link an agent planted in ``.beads/`` (issue 13 items 3
and 10): refused with a clear error naming it, nothing read or written outside, no
traceback; interrupted writes leave nothing behind; every issue is listed or warned about.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import script
from wrapix_core import workspace_fs
from wrapix_core.tasks.jsonl_store import JsonlIssues
from wrapix_core.tasks.store import NewIssue

SECRET = b"-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n"


def tasks(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script("wrapix"), "tasks", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A directory standing in for the host outside the workspace (``~/.ssh``)."""
    directory = tmp_path / "host"
    directory.mkdir()
    (directory / "id_ed25519").write_bytes(SECRET)
    return directory


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    (directory / ".beads").mkdir(parents=True)
    (directory / ".beads" / "issues.jsonl").write_text("")
    return directory


def test_issues_file_linked_to_a_host_file_is_refused(workspace: Path, host: Path) -> None:
    issues = workspace / ".beads" / "issues.jsonl"
    issues.unlink()
    issues.symlink_to(host / "id_ed25519")
    for args in (("create", "x"), ("list",), ("ready",)):
        done = tasks(workspace, *args)
        assert done.returncode == 2, done
        assert "Traceback" not in done.stderr
        assert f"{issues} is a symbolic link" in done.stderr
        assert "BEGIN OPENSSH" not in done.stdout + done.stderr
    assert issues.is_symlink()  # not replaced by a copy of the key plus an issue
    assert (host / "id_ed25519").read_bytes() == SECRET
    assert snapshot(host) == {"id_ed25519": SECRET}


def test_beads_directory_linked_to_a_host_directory_is_refused(tmp_path: Path,
                                                               host: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".beads").symlink_to(host)
    for args in (("create", "x"), ("init",), ("list",)):
        done = tasks(workspace, *args)
        assert done.returncode == 2, done
        assert "Traceback" not in done.stderr
        assert f"{workspace / '.beads'} is a symbolic link" in done.stderr
    assert snapshot(host) == {"id_ed25519": SECRET}  # no config.yaml, issues, lock


def test_lock_file_link_is_a_clean_error_never_created_through(workspace: Path,
                                                               host: Path) -> None:
    lock = workspace / ".beads" / "issues.jsonl.lock"
    lock.symlink_to(host / "created-through-the-link")
    done = tasks(workspace, "create", "x")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done
    assert f"{lock} is a symbolic link" in done.stderr
    assert not (host / "created-through-the-link").exists()
    lock.unlink()
    lock.symlink_to(host / "id_ed25519")
    assert tasks(workspace, "create", "x").returncode == 2
    assert (host / "id_ed25519").read_bytes() == SECRET  # not truncated by the lock's open


def test_interrupted_writes_are_cleaned_up_and_ignored(workspace: Path) -> None:
    beads = workspace / ".beads"
    for number in range(3):  # what `kill -9` during a write leaves behind
        (beads / f".issues.jsonl.dead{number}.tmp").write_bytes(b"x" * 1000)
    JsonlIssues(workspace).create(NewIssue(title="after the kill"))
    assert not list(beads.glob(".issues.jsonl.*.tmp"))
    assert ".*.tmp" in (beads / ".gitignore").read_text().splitlines()
    (beads / ".gitignore").write_text("own-entry")  # someone's own ignore file: appended to
    (beads / ".issues.jsonl.again.tmp").write_bytes(b"x")
    JsonlIssues(workspace).create(NewIssue(title="again"))
    assert (beads / ".gitignore").read_text() == "own-entry\n.*.tmp\n"


def test_a_new_beads_directory_ignores_locks_and_temporary_files(tmp_path: Path) -> None:
    assert tasks(tmp_path, "create", "first").returncode == 0
    ignored = (tmp_path / ".beads" / ".gitignore").read_text().splitlines()
    assert "*.lock" in ignored and ".*.tmp" in ignored


def test_temporary_file_link_is_removed_not_followed(workspace: Path, host: Path) -> None:
    (workspace / ".beads" / ".issues.jsonl.x.tmp").symlink_to(host / "id_ed25519")
    JsonlIssues(workspace).create(NewIssue(title="x"))
    assert not (workspace / ".beads" / ".issues.jsonl.x.tmp").is_symlink()
    assert snapshot(host) == {"id_ed25519": SECRET}


def test_kill_during_a_write_leaves_no_growing_temporary_files(workspace: Path) -> None:
    """A writer killed with SIGKILL mid-write, again and again: at most the last one's
    temporary file is there, and the next write removes it."""
    beads = workspace / ".beads"
    big = json.dumps({"id": "wx-big", "title": "x" * 2_000_000}) + "\n"
    (beads / "issues.jsonl").write_text(big * 5)
    code = ("import sys\nfrom pathlib import Path\n"
            "from wrapix_core.tasks.jsonl_store import JsonlIssues\n"
            "from wrapix_core.tasks.store import NewIssue\n"
            "while True:\n"
            "    JsonlIssues(Path(sys.argv[1])).create(NewIssue(title='t'))\n")
    import sys
    import time

    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", code, str(workspace)])
        deadline = time.monotonic() + 20
        while not list(beads.glob(".issues.jsonl.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.001)
        child.kill()
        child.wait(timeout=10)
        assert len(list(beads.glob(".issues.jsonl.*.tmp"))) <= 1
    JsonlIssues(workspace).create(NewIssue(title="clean"))
    assert not list(beads.glob(".issues.jsonl.*.tmp"))


def test_an_issue_on_a_bom_prefixed_first_line_is_listed(workspace: Path) -> None:
    issues = workspace / ".beads" / "issues.jsonl"
    issues.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "wx-a1", "title": "first"}).encode()
                       + b"\n" + json.dumps({"id": "wx-b2", "title": "second"}).encode() + b"\n")
    done = tasks(workspace, "list", "--json")
    assert [item["id"] for item in json.loads(done.stdout)] == ["wx-a1", "wx-b2"]
    assert done.stderr == ""
    assert tasks(workspace, "update", "wx-a1", "--status", "in_progress").returncode == 0
    data = issues.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf{") and b'"in_progress"' in data.split(b"\n")[0]


def test_unreadable_lines_are_warned_about_wherever_issues_are_listed(workspace: Path) -> None:
    (workspace / ".beads" / "issues.jsonl").write_bytes(
        json.dumps({"id": "wx-ok", "title": "fine"}).encode() + b"\n{broken\n\xff\xfe\n")
    for args in (("list",), ("ready",), ("list", "--json")):
        done = tasks(workspace, *args)
        assert done.returncode == 0
        assert "line 2: not valid JSON" in done.stderr, args
        assert "line 3: invalid UTF-8" in done.stderr, args


def test_workspace_fs_refuses_links_anywhere_on_the_way(tmp_path: Path, host: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "a").mkdir(parents=True)
    (workspace / "a" / "b").symlink_to(host)
    (workspace / "file").symlink_to(host / "id_ed25519")
    (workspace / "dangling").symlink_to(host / "new")
    with pytest.raises(workspace_fs.LinkRefused, match=r"/a/b is a symbolic link"):
        workspace_fs.read_bytes(workspace, "a/b/id_ed25519")
    with pytest.raises(workspace_fs.LinkRefused, match=r"/a/b is a symbolic link"):
        workspace_fs.write_atomic(workspace, "a/b/new", b"x")
    with pytest.raises(workspace_fs.LinkRefused, match=r"/file is a symbolic link"):
        workspace_fs.write_atomic(workspace, "file", b"x")
    with pytest.raises(workspace_fs.LinkRefused, match=r"/dangling is a symbolic link"):
        workspace_fs.open_append(workspace, "dangling")
    with pytest.raises(workspace_fs.LinkRefused):
        workspace_fs.makedirs(workspace, "a/b/c")
    with pytest.raises(ValueError):
        workspace_fs.read_bytes(workspace, "../host/id_ed25519")
    with pytest.raises(ValueError):
        workspace_fs.read_bytes(workspace, host / "id_ed25519")
    assert workspace_fs.kind(workspace, "file") == "link"
    assert snapshot(host) == {"id_ed25519": SECRET}
    assert (workspace / "file").is_symlink() and not (host / "new").exists()
    workspace_fs.write_atomic(workspace, "a/real/new.txt", b"ok", mode=0o600)
    assert (workspace / "a/real/new.txt").read_bytes() == b"ok"
    assert os.stat(workspace / "a/real/new.txt").st_mode & 0o777 == 0o600
