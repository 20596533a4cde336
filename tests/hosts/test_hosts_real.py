"""Real Podman over real SSH: the remote host .ci/remote-host provisions (mandatory in CI).

A sandbox on the remote host is listed (with its host), attached to, its logs read,
stopped and removed through wrapix; a host that refuses and a host that accepts and never
answers are marked unreachable within their timeout while the local rows still come.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.test_podman_real import Env, make_env
from tests.support.remote_host import RemoteHost, SilentServer, free_port

pytestmark = [pytest.mark.podman]

TIMEOUT = 3.0


def _config(env: Env, text: str) -> None:
    config = env.root / "config"
    config.mkdir(exist_ok=True, mode=0o700)
    (config / "config.toml").write_text(text)


def _remote_sandbox(podman: str, remote: RemoteHost, image: str, *command: str) -> str:
    """A container on the remote host labelled as a wrapix sandbox."""
    name = f"wrapix-remote-{uuid.uuid4().hex[:8]}"
    remote.podman(podman, "run", "-d", "-it", "--name", name, "--label", "wrapix.sandbox=1",
                  "--label", "wrapix.profile=base", "--label", "wrapix.workspace=/srv/proj",
                  image, *command)
    return name


@pytest.fixture
def env(tmp_path: Path, remote: RemoteHost) -> Env:
    made = make_env(tmp_path)
    _config(made, remote.toml("remote", timeout=20))
    return made


@pytest.fixture
def remote_sleeper(podman: str, remote: RemoteHost, remote_busybox: str) -> Iterator[str]:
    name = _remote_sandbox(podman, remote, remote_busybox, "sh", "-c",
                           "echo hello-from-remote; exec sleep 600")
    try:
        yield name
    finally:
        remote.podman(podman, "rm", "-f", "-t", "0", name, check=False)


def test_hosts_lists_the_remote_host_with_its_podman_and_sandboxes(
        env: Env, remote_sleeper: str) -> None:
    statuses = {s["name"]: s for s in json.loads(env.wrapix("hosts", "--json").stdout)}
    assert statuses["local"]["reachable"] is True
    remote = statuses["remote"]
    assert remote["reachable"] is True, remote
    assert remote["version"].startswith(("4.", "5."))
    assert remote["running"] >= 1
    assert env.wrapix("hosts", "check", "remote").stdout.count("ok  ") == 5


def test_ls_logs_stop_and_rm_across_hosts(env: Env, podman: str, remote: RemoteHost,
                                          remote_sleeper: str) -> None:
    listed = json.loads(env.wrapix("ls", "--json").stdout)
    row = next(item for item in listed if item["name"] == remote_sleeper)
    assert row["host"] == "remote" and row["state"] == "running"
    # Wide enough that no column is cut (other tests' sandboxes may be listed too).
    table = env.wrapix("ls", env={"COLUMNS": "400"}).stdout
    assert "HOST" in table.splitlines()[0]
    assert any(remote_sleeper in line and "remote" in line for line in table.splitlines())
    only_local = json.loads(env.wrapix("ls", "--json", "--on", "local").stdout)
    assert remote_sleeper not in {item["name"] for item in only_local}

    logs = env.wrapix("logs", f"remote/{remote_sleeper}").stdout
    assert "hello-from-remote" in logs
    # Without the host, the name is looked up here, where it is not.
    missing = env.wrapix("logs", remote_sleeper, check=False)
    assert missing.returncode != 0 and "no sandbox named" in missing.stderr

    stopped = env.wrapix("stop", "--on", "remote", "-t", "0", remote_sleeper)
    assert f"stopped {remote_sleeper}" in stopped.stdout
    state = remote.podman(podman, "container", "inspect", "--format", "{{.State.Status}}",
                          remote_sleeper).stdout.strip()
    assert state == "exited"
    env.wrapix("rm", f"remote/{remote_sleeper}")
    assert remote.podman(podman, "container", "exists", remote_sleeper,
                         check=False).returncode == 1


def test_attach_to_a_remote_sandbox_and_detach(env: Env, podman: str, remote: RemoteHost,
                                               remote_busybox: str) -> None:
    from tests.support.tmux import attached

    name = _remote_sandbox(podman, remote, remote_busybox, "sh")
    try:
        with attached(env.vars(), str(env.workspace), f"remote/{name}") as tmux:
            tmux.type("echo inside-$((6*7)) && hostname")
            tmux.send("Enter")
            tmux.wait_for("inside-42", timeout=30)
            tmux.send("C-p", "C-q")
            tmux.type("echo back-on-host")
            tmux.send("Enter")
            tmux.wait_for("back-on-host", timeout=30)
        state = remote.podman(podman, "container", "inspect", "--format", "{{.State.Status}}",
                              name).stdout.strip()
        assert state == "running"  # detached: it keeps running there
    finally:
        remote.podman(podman, "rm", "-f", "-t", "0", name, check=False)


def test_a_refusing_and_a_hanging_host_are_marked_within_their_timeout(
        env: Env, podman: str, remote: RemoteHost, remote_sleeper: str,
        busybox_image: str) -> None:
    silent = SilentServer()
    refused = free_port()
    local = json.loads(env.wrapix("run", "--detach", "--json", "--image", busybox_image,
                                  str(env.workspace), "--", "sleep", "600").stdout)["name"]
    try:
        _config(env, remote.toml("remote", timeout=20)
                + remote.toml("refused", timeout=TIMEOUT,
                              url=f"ssh://{remote.user}@127.0.0.1:{refused}{remote.socket}")
                + remote.toml("hung", timeout=TIMEOUT,
                              url=f"ssh://{remote.user}@127.0.0.1:{silent.port}{remote.socket}"))
        start = time.monotonic()
        listed = env.wrapix("ls", "--json")
        took = time.monotonic() - start
        names = {item["name"]: item["host"] for item in json.loads(listed.stdout)}
        assert names[local] == "local" and names[remote_sleeper] == "remote"
        assert "host refused unreachable" in listed.stderr
        assert f"host hung unreachable: no answer within {TIMEOUT:g}s" in listed.stderr
        assert took < TIMEOUT + 8, took  # the hung host cost its timeout once, not more

        statuses = {s["name"]: s for s in json.loads(env.wrapix("hosts", "--json").stdout)}
        assert statuses["local"]["reachable"] and statuses["remote"]["reachable"]
        for name in ("refused", "hung"):
            assert statuses[name]["reachable"] is False
            assert statuses[name]["elapsed"] <= TIMEOUT + 0.5
        assert "connection refused" in statuses["refused"]["error"]
        assert statuses["hung"]["error"] == f"no answer within {TIMEOUT:g}s"
    finally:
        silent.close()
        subprocess.run([podman, "rm", "-f", local], capture_output=True, timeout=60,
                       check=False)


def test_hosts_check_says_what_is_wrong_and_how_to_fix_it(env: Env, remote: RemoteHost,
                                                          tmp_path: Path) -> None:
    silent = SilentServer()
    key = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                   timeout=30)
    socket_dir = remote.socket.rsplit("/", 1)[0]
    _config(env, remote.toml("refused", timeout=TIMEOUT,
                             url=f"ssh://{remote.user}@127.0.0.1:{free_port()}{remote.socket}")
            + remote.toml("hung", timeout=TIMEOUT,
                          url=f"ssh://{remote.user}@127.0.0.1:{silent.port}{remote.socket}")
            + remote.toml("stranger", identity=str(key))
            + remote.toml("nosocket", url=remote.url.replace(remote.socket,
                                                             f"{socket_dir}/nothing.sock"))
            + remote.toml("nokey", identity=str(tmp_path / "missing")))
    expected = {
        "refused": ("tcp", "connection refused", "start sshd"),
        "hung": ("ssh", "accepts connections but said nothing", "restart sshd"),
        "stranger": ("login", "refused the key", "ssh-copy-id -i"),
        "nosocket": ("socket", "no Podman API socket", "systemctl --user enable --now "
                                                       "podman.socket"),
        "nokey": ("config", "does not exist", "private key's path"),
    }
    try:
        for name, (step, what, fix) in expected.items():
            start = time.monotonic()
            done = env.wrapix("hosts", "check", name, "--json", check=False)
            assert time.monotonic() - start < 3 * TIMEOUT + 5
            assert done.returncode == 1, (name, done.stderr)
            steps = json.loads(done.stdout)
            failed = steps[-1]
            assert failed["ok"] is False and all(s["ok"] for s in steps[:-1]), steps
            assert failed["step"] == step, (name, steps)
            assert what in failed["detail"], (name, failed)
            assert fix in failed["fix"], (name, failed)
    finally:
        silent.close()


def test_a_host_named_by_a_podman_system_connection(env: Env, podman: str,
                                                    remote: RemoteHost, remote_sleeper: str,
                                                    tmp_path: Path) -> None:
    """``connection = NAME``: Podman keeps the URL and identity; wrapix asks it for them
    where it needs ssh itself (the check), and passes ``--connection`` everywhere else."""
    import os

    conf = tmp_path / "containers.conf"
    conf.write_text("")
    extra = {"CONTAINERS_CONF": str(conf)}  # this test's connections only
    subprocess.run([podman, "system", "connection", "add", "--identity", remote.identity,
                    "wxlab", remote.url], env={**os.environ, **extra}, check=True,
                   capture_output=True, timeout=60)
    _config(env, '[hosts.lab]\nconnection = "wxlab"\ntimeout = 20\n')
    statuses = {s["name"]: s for s in json.loads(env.wrapix("hosts", "--json",
                                                            env=extra).stdout)}
    assert statuses["lab"]["reachable"] is True, statuses["lab"]
    assert statuses["lab"]["running"] >= 1
    checked = env.wrapix("hosts", "check", "lab", env=extra).stdout
    assert checked.count("ok  ") == 5, checked
    listed = json.loads(env.wrapix("ls", "--json", "--on", "lab", env=extra).stdout)
    assert (remote_sleeper, "lab") in {(item["name"], item["host"]) for item in listed}
    logs = env.wrapix("logs", f"lab/{remote_sleeper}", env=extra).stdout
    assert "hello-from-remote" in logs
    # A connection Podman does not know is named, with the command that adds it.
    _config(env, '[hosts.lab]\nconnection = "nosuch"\ntimeout = 20\n')
    missing = env.wrapix("hosts", "check", "lab", env=extra, check=False)
    assert missing.returncode != 0 and "nosuch" in missing.stdout + missing.stderr
