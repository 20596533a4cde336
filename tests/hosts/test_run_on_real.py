"""`wrapix run --on HOST` over real SSH to the remote Podman host (mandatory in CI).

A session is pushed to the host with git and its sandbox runs there, by that host's
Podman, on the host's copy (as the host's user, with the same read-only git paths); it
is listed, attached to, and its notification reaches this machine's inbox; its work,
committed and uncommitted, is fetched back for `sessions`, `diff` and `merge`, which
refuses while work is uncommitted and leaves the checkout as it was; it is merged here;
a discard removes the sandbox and the repository on the host.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notify.conftest import wait_until
from tests.notify.test_from_sandbox import Notifyd
from tests.sandbox.test_podman_real import Env
from tests.sessions.support import make_project, snapshot
from tests.support.gitplant import git
from tests.support.remote_host import RemoteHost

pytestmark = [pytest.mark.podman, pytest.mark.slow]


@pytest.fixture
def env(remote: RemoteHost) -> Iterator[Env]:
    # A short root: the forwarded socket's path here must fit a unix socket address
    # (108 bytes), as it does under /run/user/UID.
    root = Path(tempfile.mkdtemp(prefix="wxon-", dir="/tmp"))
    try:
        project = make_project(root / "proj")
        git(project, "config", "user.name", "Tester")
        git(project, "config", "user.email", "tester@example.com")
        made = Env(root, project, root / "data")
        made.vars()  # makes its directories
        (root / "config" / "config.toml").write_text(remote.toml("remote", timeout=20))
        yield made
    finally:
        shutil.rmtree(root, ignore_errors=True)


def on_host(podman: str, remote: RemoteHost, name: str, script_: str
            ) -> subprocess.CompletedProcess[str]:
    return remote.podman(podman, "exec", name, "sh", "-c", f"cd /workspace && {script_}",
                         check=False)


def test_a_session_runs_on_the_host_and_lands_here(podman: str, wrapix_image: str,
                                                   remote: RemoteHost, env: Env) -> None:
    # The host lacks the image: the launch copies it there and says so.
    remote.podman(podman, "rmi", "-f", wrapix_image, check=False)
    daemon = Notifyd(env.vars(), env.root / "notifyd.log")
    daemon.start()
    name = ""
    try:
        started = env.wrapix("run", "--on", "remote", "--session", "far", "--detach",
                             "--json", "--image", wrapix_image, str(env.workspace), "--",
                             "sh", timeout=600)
        out = json.loads(started.stdout)
        name = out["name"]
        assert (out["host"], out["session"]) == ("remote", "far")
        assert f"copied image {wrapix_image} to host remote" in started.stderr
        assert "cannot notify you" not in started.stderr
        # It runs there, by the host's Podman, not here.
        assert subprocess.run([podman, "container", "exists", name],
                              timeout=60).returncode == 1
        listed = json.loads(env.wrapix("ls", "--json").stdout)
        assert [(item["name"], item["host"]) for item in listed
                if item["name"] == name] == [(name, "remote")]

        # Inside: the host's user, the host's copy, the same read-only git paths.
        inside = on_host(podman, remote, name, "id -u && git branch --show-current")
        assert inside.returncode == 0, inside.stderr
        uid, branch = inside.stdout.split()
        assert (int(uid), branch) == (remote.uid, "wrapix/far")
        for path in (".git/hooks/pre-commit", ".git/config",
                     ".git/objects/info/alternates"):
            tried = on_host(podman, remote, name, f"echo planted >> {path}")
            assert tried.returncode != 0 and "Read-only" in tried.stderr, path

        # Attached to, through wrapix, and detached from.
        from tests.support.tmux import attached

        with attached(env.vars(), str(env.workspace), f"remote/{name}") as tmux:
            tmux.type("echo far-$((6*7)) > attached.txt && cat attached.txt")
            tmux.send("Enter")
            tmux.wait_for("far-42", timeout=30)
            tmux.send("C-p", "C-q")

        # A notification from there reaches this machine's inbox, with its host.
        told = on_host(podman, remote, name,
                       "for i in $(seq 300); do [ -S /run/wrapix/notify.sock ] && break; "
                       "sleep 0.1; done; wrapix-notify 'Far away' 'done over there'")
        assert told.returncode == 0, told.stderr
        wait_until(lambda: any(entry["title"] == "Far away" for entry in json.loads(
            env.wrapix("inbox", "--json").stdout)), timeout=60, what="the notification")
        entry = next(entry for entry in json.loads(env.wrapix("inbox", "--json").stdout)
                     if entry["title"] == "Far away")
        assert (entry["sandbox"], entry["host"]) == (name, "remote")

        # Work there, committed and not: fetched back for sessions and diff.
        worked = on_host(podman, remote, name,
                         "echo far > far.txt && git add far.txt && git commit -qm 'far: add'"
                         " && echo wip >> f0.txt")
        assert worked.returncode == 0, worked.stderr
        far = next(item for item in json.loads(env.wrapix("sessions", "--json").stdout)
                   if item["name"] == "far")
        stats = far["stats"]
        assert (far["host"], stats["ahead"], stats["files"]) == ("remote", 1, 1)
        assert stats["uncommitted"] == ["attached.txt", "f0.txt"]
        assert far["sandbox"] == "running on remote"
        shown = env.wrapix("diff", "far").stdout
        assert "far.txt" in shown and "f0.txt" in shown and "attached.txt" in shown

        # Uncommitted work there: the merge is refused, the checkout stays as it was.
        before = snapshot(env.workspace)
        refused = env.wrapix("merge", "far", check=False)
        assert refused.returncode == 1 and "uncommitted work in 2 file(s)" in refused.stderr
        assert f"wrapix shell remote/{name}" in refused.stderr
        assert snapshot(env.workspace) == before

        done = on_host(podman, remote, name, "git add -A && git commit -qm 'far: the rest'")
        assert done.returncode == 0, done.stderr
        merged = env.wrapix("merge", "far")
        assert "merged session far into main" in merged.stdout
        assert (env.workspace / "far.txt").read_text() == "far\n"
        assert (env.workspace / "attached.txt").read_text() == "far-42\n"
        assert git(env.workspace, "status", "--porcelain").stdout == ""

        # Discarded: the sandbox and the repository on the host are gone.
        remote_path = far["remote_path"]
        gone = env.wrapix("discard", "far", "--yes")
        assert "discarded session far" in gone.stdout
        assert remote.podman(podman, "container", "exists", name,
                             check=False).returncode == 1
        left = subprocess.run(
            ["ssh", "-p", str(remote.port), "-i", remote.identity, "-o", "BatchMode=yes",
             f"{remote.user}@127.0.0.1",
             f"test -e {remote_path} -o -e .local/share/wrapix/sandbox-files/{name} "
             "&& echo there || echo gone"],
            capture_output=True, text=True, timeout=60, check=False)
        assert left.stdout.strip() == "gone", left.stderr
    finally:
        daemon.stop()
        if name:
            remote.podman(podman, "rm", "-f", "-t", "0", name, check=False)


def test_on_refuses_what_it_cannot_do(env: Env, remote: RemoteHost) -> None:
    """No host of that name, --direct, a plan, a directory that is no repository: each
    said, nothing made."""
    unknown = env.wrapix("run", "--on", "nowhere", "-d", str(env.workspace), check=False)
    assert unknown.returncode == 2 and "no host named 'nowhere'" in unknown.stderr
    direct = env.wrapix("run", "--on", "remote", "--direct", "-d", str(env.workspace),
                        check=False)
    assert direct.returncode == 2 and "drop --direct" in direct.stderr
    planned = env.wrapix("run", "--on", "remote", "--dry-run", str(env.workspace),
                         check=False)
    assert planned.returncode == 2 and "drop --on" in planned.stderr
    plain = env.root / "plain"
    plain.mkdir()
    bare = env.wrapix("run", "--on", "remote", "-d", str(plain), check=False)
    assert bare.returncode == 2 and "not the top of a git repository" in bare.stderr
    assert json.loads(env.wrapix("sessions", "--json").stdout) == []
