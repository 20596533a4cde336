"""What sandboxes leave in a project stays out of its commits (.git/info/exclude), and
the host-side write follows no link an agent planted (issue 14, "Smaller")."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import script
from wrapix_core.sandbox.gitexclude import PATTERNS, exclude_sandbox_files
from wrapix_core.tasks.workspace import BEADS_DIR, LOCK_FILE


def repo(tmp_path: Path) -> Path:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True, timeout=60)
    return workspace


def git_untracked(workspace: Path) -> list[str]:
    done = subprocess.run(["git", "-C", str(workspace), "status", "--porcelain",
                           "--untracked-files=all"], capture_output=True, text=True,
                          check=True, timeout=60)
    return [line[3:] for line in done.stdout.splitlines()]


def test_the_patterns_name_the_task_stores_lock() -> None:
    assert f"/{BEADS_DIR}/{LOCK_FILE}" in PATTERNS


def test_what_a_sandbox_leaves_is_not_offered_for_commit(tmp_path: Path) -> None:
    workspace = repo(tmp_path)
    exclude = workspace / ".git" / "info" / "exclude"
    exclude.write_text("# mine\n*.swp")  # no final newline
    for rel in (".claude/history.jsonl", ".claude/projects/x.jsonl",
                ".wrapix/ralph/logs/a.log", ".wrapix/ralph/state/current",
                ".beads/issues.jsonl.lock", ".beads/issues.jsonl", "src.py"):
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text("x\n")
    assert exclude_sandbox_files(str(workspace)) is None
    assert exclude_sandbox_files(str(workspace)) is None  # once
    text = exclude.read_text()
    assert text.startswith("# mine\n*.swp\n") and text.count("/.claude/") == 1
    # The issues themselves and the project's own files are still offered.
    assert sorted(git_untracked(workspace)) == [".beads/issues.jsonl", "src.py"]


def test_no_repository_or_a_worktree_file_is_left_alone(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert exclude_sandbox_files(str(plain)) is None
    assert not (plain / ".git").exists()
    worktree = tmp_path / "wt"
    worktree.mkdir()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "info").mkdir(parents=True)
    (worktree / ".git").write_text(f"gitdir: {elsewhere}\n")
    assert exclude_sandbox_files(str(worktree)) is None
    assert not (elsewhere / "info" / "exclude").exists()


@pytest.mark.parametrize("planted", [".git", ".git/info", ".git/info/exclude"])
def test_a_planted_link_is_never_followed(tmp_path: Path, planted: str) -> None:
    workspace = repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "exclude"
    victim.write_text("precious\n")
    target = workspace / planted
    if target.is_dir():
        os.rename(target, tmp_path / "moved")
    elif target.exists():
        target.unlink()
    if planted == ".git":
        (outside / "info").mkdir()
        target.symlink_to(outside)
    elif planted == ".git/info":
        target.symlink_to(outside)
    else:
        target.symlink_to(victim)
    problem = exclude_sandbox_files(str(workspace))
    assert problem is not None and "left alone" in problem
    assert victim.read_text() == "precious\n"
    assert not (outside / "info" / "exclude").exists()


def test_a_hard_link_or_a_fifo_is_left_alone(tmp_path: Path) -> None:
    workspace = repo(tmp_path)
    exclude = workspace / ".git" / "info" / "exclude"
    exclude.unlink()
    other = workspace / "notes.txt"
    other.write_text("mine\n")
    os.link(other, exclude)
    assert "not a plain file" in (exclude_sandbox_files(str(workspace)) or "")
    assert other.read_text() == "mine\n"
    exclude.unlink()
    os.mkfifo(exclude)
    started = time.monotonic()
    assert "not a plain file" in (exclude_sandbox_files(str(workspace)) or "")
    assert time.monotonic() - started < 5


@pytest.mark.podman
def test_an_info_link_planted_from_inside_a_sandbox_is_not_followed(
        tmp_path: Path, podman: str, busybox_image: str) -> None:
    """The attack run from inside a real container: the agent replaces .git/info with a
    link to a directory of the person's; the next launch writes nothing there."""
    workspace = repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / ".git" / "info" / "exclude").unlink()
    wrapix = script("wrapix")
    attack = f"rm -rf /workspace/.git/info && ln -s {outside} /workspace/.git/info"
    first = subprocess.run([wrapix, "run", "--detach", "--json", "--image", busybox_image,
                            str(workspace), "--", "sh", "-c", f"{attack}; sleep 600"],
                           capture_output=True, text=True, timeout=180, check=True)
    name = json.loads(first.stdout)["name"]
    try:
        deadline = time.monotonic() + 60
        while not (workspace / ".git" / "info").is_symlink():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=True)
        second = subprocess.run([wrapix, "run", "--detach", "--image", busybox_image,
                                 str(workspace), "--", "sleep", "600"],
                                capture_output=True, text=True, timeout=180, check=False)
        # A link among git's own files is git redirection: the launch is refused before
        # anything is written (exclude_sandbox_files itself skips such a link: above).
        assert second.returncode == 2, second.stderr
        assert ".git/info" in second.stderr and "wrapix audit" in second.stderr
        assert list(outside.iterdir()) == []
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)
