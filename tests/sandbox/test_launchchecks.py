"""The launch checks: one list, run by the full launch and by the fast path alike."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wrapix_core.cli import fastlaunch
from wrapix_core.sandbox import launchcache, launchchecks
from wrapix_core.sandbox.launcher import LaunchRequest, prepare
from wrapix_core.settings import Settings


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    (directory / ".git" / "hooks").mkdir(parents=True)
    (directory / ".claude").mkdir()
    (directory / "wrapix.toml").write_text("")
    return directory


def target(workspace: Path) -> launchchecks.Target:
    return launchchecks.Target(str(workspace), [".git/hooks", ".git/config", "wrapix.toml",
                                                ".wrapix"])


def test_a_clean_workspace_passes(workspace: Path) -> None:
    launchchecks.run(target(workspace))
    (workspace / ".claude").rmdir()  # missing: created at launch
    launchchecks.run(target(workspace))


@pytest.mark.parametrize("rel", [".claude", ".git/hooks", ".git", "wrapix.toml", ".wrapix"])
def test_a_link_is_refused_naming_it(workspace: Path, tmp_path: Path, rel: str) -> None:
    path = workspace / rel
    if path.is_dir():
        os.rename(path, tmp_path / "moved")
    elif path.exists():
        path.unlink()
    path.symlink_to(tmp_path)
    with pytest.raises(launchchecks.LaunchRefused, match=rf"{path} is a symbolic link") as info:
        launchchecks.run(target(workspace))
    assert info.value.exit_code == 2 and info.value.hint and f"rm {path}" in info.value.hint


def test_a_claude_file_is_refused(workspace: Path) -> None:
    (workspace / ".claude").rmdir()
    (workspace / ".claude").write_text("")
    with pytest.raises(launchchecks.LaunchRefused, match=r"\.claude is not a directory"):
        launchchecks.run(target(workspace))


def test_a_worktree_git_file_is_not_a_link(workspace: Path) -> None:
    (workspace / ".git" / "hooks").rmdir()
    (workspace / ".git").rmdir()
    (workspace / ".git").write_text("gitdir: /elsewhere\n")
    launchchecks.run(target(workspace))


def test_the_full_launch_runs_every_check(workspace: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def sentinel(checked: launchchecks.Target) -> None:
        seen.append(checked.workspace)
        raise launchchecks.LaunchRefused("sentinel")

    monkeypatch.setattr(launchchecks, "CHECKS", (*launchchecks.CHECKS, sentinel))
    request = LaunchRequest(workspace=workspace, image="localhost/none:1")
    with pytest.raises(launchchecks.LaunchRefused, match="sentinel"):
        asyncio.run(prepare(request, Settings(), check_image=False))
    assert seen == [str(workspace.resolve())]


def test_the_fast_path_runs_every_check_and_drops_the_record(
        workspace: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(workspace)
    args = ["run", "--detach", "."]
    key = launchcache.launch_key(args, os.getcwd(), os.environ, sys.stdin.isatty())
    ran = workspace / "podman-ran"
    launchcache.store(key, {"argv": ["touch", str(ran)], "detach": True, "name": "x",
                            "validators": [], "mkdir": [],
                            "checks": target(workspace).to_record()})
    assert launchcache.lookup(key) is not None
    (workspace / ".claude").rmdir()
    (workspace / ".claude").symlink_to(workspace.parent)  # planted between two launches
    assert fastlaunch.run_fast(args) == 2
    assert f"{workspace / '.claude'} is a symbolic link" in capsys.readouterr().err
    assert not ran.exists()
    assert launchcache.lookup(key) is None  # the next launch re-plans (and refuses)


def test_the_key_is_the_same_bytes_in_every_process() -> None:
    """marshal's bytes depend on reference counts: the key must not."""
    code = ("import os, sys\nfrom wrapix_core.sandbox import launchcache\n"
            "env = {'HOME': '/h', 'WRAPIX_X': 'y', 'PATH': os.environ['PATH']}\n"
            "sys.stdout.write(launchcache.launch_key(['run', '.', '-d'], '/w', env, False)"
            ".hex())\n")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=60).stdout for _ in range(3)}
    env = {"HOME": "/h", "WRAPIX_X": "y", "PATH": os.environ["PATH"]}
    keys.add(launchcache.launch_key(["run", ".", "-d"], "/w", env, False).hex())
    assert len(keys) == 1


def test_the_trace_variable_is_not_part_of_the_key() -> None:
    env = {"HOME": "/h"}
    assert launchcache.launch_key(["run"], "/w", env, False) == launchcache.launch_key(
        ["run"], "/w", {**env, launchcache.TRACE_ENV: "1"}, False)
