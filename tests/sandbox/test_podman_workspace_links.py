"""Issue 13 items 2, 3, 8, 9 and 10, attacked from inside real rootless sandboxes: what an
agent plants in the workspace never makes the host read, write or mount elsewhere."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.test_podman_real import Env, make_env, podman_exec

pytestmark = [pytest.mark.podman]
TRACE = {"WRAPIX_LAUNCH_TRACE": "1"}


def start(env: Env, image: str, *extra: str, check: bool = True
          ) -> subprocess.CompletedProcess[str]:
    return env.wrapix("run", "--detach", "--json", "--image", image, *extra,
                      str(env.workspace), "--", "sleep", "600", check=check)


def remove(podman: str, name: str) -> None:
    subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60,
                   check=False)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    """Stands in for a host directory such as wrapix's own config directory."""
    directory = tmp_path / "host-config"
    directory.mkdir()
    (directory / "config.toml").write_text("# the user's\n")
    return directory


@pytest.fixture
def sandbox(env: Env, podman: str, busybox_image: str) -> Iterator[str]:
    name: str = json.loads(start(env, busybox_image).stdout)["name"]
    try:
        yield name
    finally:
        remove(podman, name)


def test_claude_is_a_mount_point_the_agent_cannot_remove_or_replace(
        env: Env, sandbox: str, podman: str, host_dir: Path) -> None:
    done = podman_exec(podman, sandbox,
                       "cd /workspace; rm -rf .claude 2>/dev/null; "
                       "test -d .claude && echo still-there; "
                       "mv .claude claude-old 2>/dev/null && echo renamed; "
                       f"rmdir .claude 2>/dev/null && ln -s {host_dir} .claude && echo linked; "
                       "echo hi > .claude/note && echo writable; true")
    assert done.returncode == 0, done.stderr
    assert "still-there" in done.stdout and "writable" in done.stdout
    assert "renamed" not in done.stdout and "linked" not in done.stdout
    claude = env.workspace / ".claude"
    assert claude.is_dir() and not claude.is_symlink()
    assert (claude / "note").read_text() == "hi\n"
    assert sorted(path.name for path in host_dir.iterdir()) == ["config.toml"]


FAST = "wrapix: launch: fast path"


def launch(env: Env, image: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return env.wrapix("run", "--detach", "--json", "--image", image, str(env.workspace), "--",
                      "sleep", "600", check=check, env=TRACE)


def recorded(env: Env, podman: str, image: str, made: Path) -> str:
    """Launch twice, ``made`` missing before the first launch (which creates it, so the
    record validates nothing about it: it is exactly what the launch checks must cover),
    until the second launch takes the fast path; the sandbox's name. (The image store is
    shared with other test runs: an image built meanwhile rightly invalidates a record.)"""
    for _ in range(5):
        if made.is_dir():
            made.rmdir()
        for _ in range(2):
            done = launch(env, image)
            name: str = json.loads(done.stdout)["name"]
            remove(podman, name)
        if FAST in done.stderr:  # the second launch
            return name
    pytest.fail("no repeat launch took the fast path")


def refused_on_the_fast_path(env: Env, podman: str, image: str, path: Path,
                             plant: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Record a plan, replace the directory ``path`` with a link to ``plant``, launch
    again: the launch's result, which took the fast path, and the sandbox's name."""
    for _ in range(5):
        name = recorded(env, podman, image, path)
        path.rmdir()
        path.symlink_to(plant)  # planted between two launches
        done = launch(env, image, check=False)
        if FAST in done.stderr:
            return done, name
        path.unlink()
    pytest.fail("no launch after the plant took the fast path")


def test_a_claude_link_is_refused_at_launch_on_both_paths(
        env: Env, podman: str, busybox_image: str, host_dir: Path) -> None:
    """A .claude link (planted by an earlier sandbox, before it was a mount point, or by
    anything else that writes the workspace) is refused by the fast path when it appears
    between two launches, and by the full launch."""
    claude = env.workspace / ".claude"
    refused, name = refused_on_the_fast_path(env, podman, busybox_image, claude, host_dir)
    assert refused.returncode == 2, refused.stderr
    assert f"{claude} is a symbolic link" in refused.stderr
    assert "Traceback" not in refused.stderr
    full = launch(env, busybox_image, check=False)
    assert FAST not in full.stderr  # the refusal dropped the record
    assert full.returncode == 2 and f"{claude} is a symbolic link" in full.stderr
    listed = subprocess.run([podman, "ps", "-a", "--format", "{{.Names}}"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert name not in listed.split()  # nothing was started
    assert sorted(path.name for path in host_dir.iterdir()) == ["config.toml"]


def test_a_protected_path_link_planted_between_launches_is_refused_on_the_fast_path(
        env: Env, podman: str, busybox_image: str, host_dir: Path) -> None:
    wrapix_dir = env.workspace / ".wrapix"
    refused, _ = refused_on_the_fast_path(env, podman, busybox_image, wrapix_dir, host_dir)
    assert refused.returncode == 2 and f"{wrapix_dir} is a symbolic link" in refused.stderr


def test_beads_links_planted_inside_make_host_tasks_refuse(
        env: Env, sandbox: str, podman: str, host_dir: Path) -> None:
    key = host_dir / "id_ed25519"
    key.write_text("PRIVATE KEY\n")
    env.wrapix("tasks", "create", "first")
    done = podman_exec(podman, sandbox, f"ln -sf {key} /workspace/.beads/issues.jsonl")
    assert done.returncode == 0, done.stderr
    refused = env.wrapix("tasks", "create", "x", check=False)
    assert refused.returncode == 2, refused
    assert f"{env.workspace / '.beads' / 'issues.jsonl'} is a symbolic link" in refused.stderr
    assert "Traceback" not in refused.stderr and "PRIVATE" not in refused.stdout
    assert key.read_text() == "PRIVATE KEY\n"
    assert (env.workspace / ".beads" / "issues.jsonl").is_symlink()
    # The lock file as a link: a clean error, nothing created or truncated through it.
    done = podman_exec(podman, sandbox,
                       "cd /workspace/.beads && rm issues.jsonl && touch issues.jsonl && "
                       f"ln -sf {key} issues.jsonl.lock")
    assert done.returncode == 0, done.stderr
    refused = env.wrapix("tasks", "create", "x", check=False)
    assert refused.returncode == 2 and "issues.jsonl.lock is a symbolic link" in refused.stderr
    assert "Traceback" not in refused.stderr and key.read_text() == "PRIVATE KEY\n"
    # The whole .beads directory as a link to a host directory.
    done = podman_exec(podman, sandbox,
                       f"rm -rf /workspace/.beads && ln -s {host_dir} /workspace/.beads")
    assert done.returncode == 0, done.stderr
    refused = env.wrapix("tasks", "create", "x", check=False)
    assert refused.returncode == 2 and f"{env.workspace / '.beads'} is a symbolic link" \
        in refused.stderr
    assert sorted(path.name for path in host_dir.iterdir()) == ["config.toml", "id_ed25519"]


def test_the_tmpfs_home_has_a_size(env: Env, podman: str, busybox_image: str) -> None:
    settings = env.workspace / "wrapix.toml"
    settings.write_text(settings.read_text() + '\n[sandbox]\nhome_size = "8m"\n')
    name = json.loads(start(env, busybox_image).stdout)["name"]
    try:
        done = podman_exec(podman, name,
                           'dd if=/dev/zero of="$HOME/big" bs=1M count=20 2>&1; '
                           'echo "exit=$?"; du -k "$HOME/big"')
        assert "No space left on device" in done.stdout, done.stdout
        assert "exit=0" not in done.stdout
        assert int(done.stdout.split()[-2]) <= 8 * 1024
    finally:
        remove(podman, name)
