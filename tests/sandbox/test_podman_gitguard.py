"""Real rootless Podman: git redirection planted from INSIDE a sandbox (issue 13, item 1).

Each attack runs in a real sandbox with git. The test first shows it works (the host's
git runs the planted command, which creates a marker file), then what the user gets now:
the stop report, the next launch refused, `wrapix audit` naming the file, and after
`wrapix audit --fix` the host's git no longer running it. Where the mounts prevent the
attack (``.git/worktrees``, an existing ``config.worktree``), the attack fails inside.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.test_podman_real import Env, podman_exec
from tests.support.gitplant import NESTED, attack, git, make_repo

pytestmark = [pytest.mark.podman]


@pytest.fixture
def repo_env(tmp_path: Path) -> Env:
    workspace = make_repo(tmp_path / "proj")
    data = tmp_path / "data"
    data.mkdir()
    return Env(tmp_path, workspace, data)


@pytest.fixture
def cleanup(podman: str) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)


def start(env: Env, image: str, names: list[str]) -> tuple[str, tuple[str, ...]]:
    args = ("run", "--detach", "--json", "--image", image, str(env.workspace), "--",
            "sleep", "600")
    name: str = json.loads(env.wrapix(*args).stdout)["name"]
    names.append(name)
    return name, args


def inside(podman: str, name: str, script_: str) -> subprocess.CompletedProcess[str]:
    return podman_exec(podman, name, f"cd /workspace && {script_}")


def plant_and_prove(podman: str, name: str, env: Env, which: str) -> Path:
    """Run attack ``which`` inside sandbox ``name``, then show that it works: the host's
    plain `git status` runs the planted command. Returns its marker (removed again)."""
    mark = env.root / "mark"
    done = inside(podman, name, attack(which, str(mark)))
    assert done.returncode == 0, done.stderr
    git(env.workspace, "status", check=False)
    assert mark.exists(), "the attack does not work, so this test would prove nothing"
    mark.unlink()
    return mark


def assert_audit_fixes(env: Env, planted: str, mark: Path, where: Path,
                       moved: str | None = None) -> None:
    listed = env.wrapix("audit", str(env.workspace), check=False)
    assert listed.returncode == 2 and planted in listed.stdout, listed.stdout
    fixed = env.wrapix("audit", "--fix", "--yes", str(env.workspace), check=False)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert f"moved {moved or planted} to " in fixed.stdout
    git(where, "status", check=False)
    git(env.workspace, "status", check=False)
    assert not mark.exists(), "the host's git still runs the planted command"
    assert env.wrapix("audit", str(env.workspace)).returncode == 0


def test_commondir_planted_inside_is_reported_at_stop_refused_at_launch_and_fixed(
        podman: str, wrapix_image: str, repo_env: Env, cleanup: list[str]) -> None:
    env = repo_env
    name, args = start(env, wrapix_image, cleanup)
    mark = plant_and_prove(podman, name, env, "commondir")

    stopped = env.wrapix("stop", name, check=False)
    assert stopped.returncode == 2
    assert ".git/commondir: commondir" in stopped.stderr
    assert f"wrapix audit {env.workspace}" in stopped.stderr
    # The same launch again (its recorded plan is on the fast path) is refused.
    refused = env.wrapix(*args, check=False)
    assert refused.returncode == 2
    assert ".git/commondir (commondir)" in refused.stderr
    assert "nothing was started" in refused.stderr
    assert_audit_fixes(env, ".git/commondir", mark, env.workspace)
    git(env.workspace, "commit", "-q", "--allow-empty", "-m", "after", check=False)
    assert not Path(f"{mark}.hook").exists()


@pytest.mark.parametrize("which", NESTED)
def test_nested_repository_added_as_gitlink_inside_is_reported_and_fixed(
        podman: str, wrapix_image: str, repo_env: Env, cleanup: list[str], which: str) -> None:
    env, sub = repo_env, NESTED[which]
    name, _ = start(env, wrapix_image, cleanup)
    mark = plant_and_prove(podman, name, env, which)  # git status ran sub's fsmonitor
    assert "160000" in git(env.workspace, "ls-files", "-s", sub).stdout  # the gitlink

    stopped = env.wrapix("stop", name, check=False)
    assert stopped.returncode == 2, stopped.stderr
    assert f"{sub}/.git/config: repository config" in stopped.stderr
    assert "core.fsmonitor" in stopped.stderr
    assert_audit_fixes(env, f"{sub}/.git/config", mark, env.workspace / sub, f"{sub}/.git")
    # Neutralised, not deleted: the nested repository's history is still there.
    [kept] = [p for p in (env.workspace / sub).iterdir() if p.name.startswith(".git.")]
    assert (kept / "HEAD").is_file()


def test_linked_worktree_cannot_be_planted_inside(podman: str, wrapix_image: str,
                                                  repo_env: Env, cleanup: list[str]) -> None:
    env = repo_env
    mark = env.root / "mark"
    name, _ = start(env, wrapix_image, cleanup)
    done = inside(podman, name, attack("worktree", str(mark)))
    assert done.returncode != 0 and "Read-only file system" in done.stderr
    assert not any((env.workspace / ".git" / "worktrees").iterdir())
    done = inside(podman, name, "git worktree add -q wt")  # git's own way fails as well
    assert done.returncode != 0
    assert env.wrapix("stop", name).returncode == 0
    git(env.workspace / "w", "status", check=False)
    assert not mark.exists()


def test_config_worktree_planted_inside_is_reported_after_a_foreground_run(
        podman: str, wrapix_image: str, repo_env: Env, cleanup: list[str]) -> None:
    env = repo_env
    git(env.workspace, "config", "core.repositoryformatversion", "1")
    git(env.workspace, "config", "extensions.worktreeConfig", "true")
    mark = env.root / "mark"
    args = ("run", "--image", wrapix_image, str(env.workspace), "--", "sh", "-c",
            attack("config.worktree", str(mark)))
    records = Path(env.vars()["WRAPIX_CACHE_DIR"]) / "launch"
    for attempt in ("full path", "fast path"):
        ran = env.wrapix(*args, check=False)
        assert ran.returncode == 2, (attempt, ran.stderr)
        assert ".git/config.worktree: config.worktree" in ran.stderr, attempt
        assert "core.fsmonitor" in ran.stderr
        [record] = list(records.glob("*.plan"))
        if attempt == "full path":
            recorded_at = record.stat().st_mtime_ns
            git(env.workspace, "status", check=False)
            assert mark.exists()  # before: the host's git ran it
            mark.unlink()
        else:
            assert record.stat().st_mtime_ns == recorded_at  # it was the fast path
        refused = env.wrapix(*args, check=False)
        assert refused.returncode == 2 and "nothing was started" in refused.stderr
        assert_audit_fixes(env, ".git/config.worktree", mark, env.workspace)


def test_an_existing_config_worktree_is_read_only_inside(
        podman: str, wrapix_image: str, repo_env: Env, cleanup: list[str]) -> None:
    env = repo_env
    (env.workspace / ".git" / "config.worktree").write_text("[core]\n\tsparseCheckout = false\n")
    name, _ = start(env, wrapix_image, cleanup)
    done = inside(podman, name, attack("config.worktree", str(env.root / "mark")))
    assert done.returncode != 0
    assert (env.workspace / ".git" / "config.worktree").read_text() == \
        "[core]\n\tsparseCheckout = false\n"
    assert env.wrapix("stop", name).returncode == 0
