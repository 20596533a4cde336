"""From inside a real sandbox, `wrapix-notify` reaches the host daemon (real Podman in CI)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.notify.conftest import wait_until
from tests.support.cli import script

pytestmark = [pytest.mark.podman]


def test_notify_from_inside_a_sandbox_lands_in_the_inbox(wrapix_image: str,
                                                         tmp_path: Path) -> None:
    ws = tmp_path / "proj"
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n")
    daemon = subprocess.Popen([script("wrapix-notifyd"), "--foreground"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert daemon.stdout is not None
        for line in daemon.stdout:  # notices (no notify-send here) may come first
            if "listening on" in line:
                break
        else:
            pytest.fail("wrapix-notifyd ended without listening")
        run = subprocess.run(
            [script("wrapix"), "run", "--image", wrapix_image, str(ws), "--", "wrapix-notify",
             "From the sandbox", "[bold]literal[/bold] \x1b[31m"],
            capture_output=True, text=True, timeout=300, check=False, env=os.environ)
        assert run.returncode == 0, run.stderr
        assert "cannot notify you" not in run.stderr  # the launch saw the daemon running
        inbox = subprocess.run([script("wrapix"), "inbox", "--json"], capture_output=True,
                               text=True, timeout=60, check=True)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    entries = json.loads(inbox.stdout)
    mine = [entry for entry in entries if entry["title"] == "From the sandbox"]
    assert len(mine) == 1
    assert mine[0]["message"] == "[bold]literal[/bold] \x1b[31m"  # stored faithfully
    assert mine[0]["sandbox"].startswith("wrapix-proj-")


# -- attacks from inside real sandboxes (issue 13 items 4-7) ---------------------------

FLOCK_ALL = """
import fcntl, os, time
held = []
for root in ("/run/wrapix", "/run"):
    for name in [""] + sorted(os.listdir(root)):
        path = os.path.join(root, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            print("cannot lock", path, exc.strerror, flush=True)
            continue
        held.append(fd)
        print("locked", path, flush=True)
print("holding", len(held), flush=True)
time.sleep(90)
"""

FLOOD = """
import os, resource, socket, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
readers = []
for _ in range(4):  # 4 processes x 1,100: more than the daemon's whole limit of 4,096
    read, write = os.pipe()
    if os.fork() == 0:
        held = []
        deadline = time.monotonic() + 30
        while len(held) < 1100 and time.monotonic() < deadline:  # bounded, ends by itself
            conn = socket.socket(socket.AF_UNIX)
            conn.settimeout(0.5)
            try:
                conn.connect("/run/wrapix/notify.sock")
            except OSError:  # the backlog is full (EAGAIN): a moment, then again
                conn.close()
                time.sleep(0.001)
                continue
            held.append(conn)
        os.write(write, b"%d\\n" % len(held))
        time.sleep(60)
        os._exit(0)
    readers.append(read)
total = sum(int(os.read(read, 64)) for read in readers)
print("holding", total, flush=True)
time.sleep(60)
"""


class Notifyd:
    """``wrapix-notifyd --foreground`` with its log in a file, in a given environment."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen([script("wrapix-notifyd"), "--foreground"],
                                        stdout=handle, stderr=subprocess.STDOUT,
                                        env=self.env)
        handle.close()
        wait_until(lambda: b"listening on" in self.log.read_bytes(), timeout=30,
                   what="wrapix-notifyd listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _project(path: Path) -> Path:
    (path / ".git" / "hooks").mkdir(parents=True)
    (path / ".git" / "config").write_text("[core]\n")
    return path


def _wrapix(env: dict[str, str], *args: str, timeout: float = 300) -> \
        subprocess.CompletedProcess[str]:
    return subprocess.run([script("wrapix"), *args], capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)


def _inbox(env: dict[str, str]) -> list[dict[str, str]]:
    done = _wrapix(env, "inbox", "--json", timeout=60)
    assert done.returncode == 0, done.stderr
    entries: list[dict[str, str]] = json.loads(done.stdout)
    return entries


def _logs_say(podman: str, name: str, text: str) -> bool:
    done = subprocess.run([podman, "logs", name], capture_output=True, text=True,
                          timeout=30, check=False)
    return text in done.stdout + done.stderr


def _remove(podman: str, name: str) -> None:
    subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                   timeout=60, check=False)


@pytest.fixture
def no_runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A login without XDG_RUNTIME_DIR (``su -``, many servers): wrapix's runtime
    directory falls back to its data directory, where the builder's keys and the trust
    store are. Podman keeps its own storage and configuration (its XDG paths are pinned
    to the real home's)."""
    real_home = Path.home()
    home = tmp_path / "home"
    data = home / ".local" / "share" / "wrapix"
    (data / "builder-keys").mkdir(parents=True, mode=0o700)
    (data / "builder-keys" / "client_ed25519").write_text("PRIVATE-BUILDER-KEY\n")
    (data / "trusted-projects.json").write_text('{"planted": "trust store"}\n')
    env = dict(os.environ)
    for name in ("XDG_RUNTIME_DIR", "WRAPIX_RUNTIME_DIR"):
        env.pop(name, None)
    env.update(HOME=str(home), WRAPIX_DATA_DIR=str(data),
               XDG_CONFIG_HOME=os.environ.get("XDG_CONFIG_HOME", str(real_home / ".config")),
               XDG_DATA_HOME=os.environ.get("XDG_DATA_HOME",
                                            str(real_home / ".local" / "share")))
    return env


def test_without_xdg_runtime_dir_a_sandbox_sees_only_its_socket_and_cannot_lie_who_it_is(
        wrapix_image: str, tmp_path: Path, no_runtime_dir: dict[str, str]) -> None:
    env = no_runtime_dir
    daemon = Notifyd(env, tmp_path / "notifyd.log")
    daemon.start()
    try:
        runtime = Path(env["HOME"]) / ".local" / "share" / "wrapix"
        assert (runtime / "notify.sock").is_socket()  # the fallback: the data directory
        run = _wrapix(env, "run", "--image", wrapix_image, str(_project(tmp_path / "proj")),
                      "--", "sh", "-c",
                      "ls -la /run/wrapix; echo ---; ls -R /run/wrapix; echo ---; "
                      "cat /run/wrapix/builder-keys/client_ed25519 2>&1; "
                      "WRAPIX_SANDBOX=other wrapix-notify spoofed 'claims to be other'")
        assert run.returncode == 0, run.stderr
        entries = _inbox(env)
    finally:
        daemon.stop()
    print(run.stdout)  # the evidence: what the sandbox sees
    listing, recursive, rest = run.stdout.split("---\n")
    names = [line.split()[-1] for line in listing.splitlines()[1:]]
    assert sorted(names) == [".", "..", "notify.sock"], listing
    assert recursive.split() == ["/run/wrapix:", "notify.sock"], recursive
    assert "PRIVATE-BUILDER-KEY" not in run.stdout
    assert "No such file" in rest
    spoofed = [entry for entry in entries if entry["title"] == "spoofed"]
    assert len(spoofed) == 1
    assert spoofed[0]["sandbox"].startswith("wrapix-proj-")  # from the socket, not "other"
    assert "claimed_sandbox" not in spoofed[0]
    # The sandbox is gone: so is its socket directory.
    assert list((runtime / "sockets").iterdir()) == []


def test_a_sandbox_holding_every_lock_it_can_reach_cannot_stop_the_daemon_starting(
        podman: str, wrapix_image: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    daemon = Notifyd(env, tmp_path / "notifyd.log")
    daemon.start()
    name = ""
    restarted = None
    try:
        started = _wrapix(env, "run", "--detach", "--json", "--image", wrapix_image,
                          str(_project(tmp_path / "locker")), "--", "python3", "-c",
                          FLOCK_ALL)
        assert started.returncode == 0, started.stderr
        name = json.loads(started.stdout)["name"]
        wait_until(lambda: _logs_say(podman, name, "holding"), timeout=60,
                   what="the sandbox holding its locks")
        daemon.stop()  # the daemon restarts (an upgrade, a crash) while the sandbox runs
        restarted = subprocess.run([script("wrapix-notifyd")], capture_output=True,
                                   text=True, timeout=60, check=False, env=env)
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert "listening on" in restarted.stdout
        # ... and the sandbox that tried still reaches the new daemon, as itself.
        sent = subprocess.run([podman, "exec", "-e", "WRAPIX_SANDBOX=other", name,
                               "wrapix-notify", "after the restart"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert sent.returncode == 0, sent.stderr
        wait_until(lambda: any(e["title"] == "after the restart" for e in _inbox(env)),
                   timeout=20, what="the notification after the restart")
        logs = subprocess.run([podman, "logs", name], capture_output=True, text=True,
                              timeout=30, check=False).stdout
    finally:
        if name:
            _remove(podman, name)
        daemon.stop()
        if restarted is not None and "(pid " in restarted.stdout:
            pid = int(restarted.stdout.split("(pid ")[1].split(")")[0])
            os.kill(pid, 15)
    print(logs)  # what it could lock: the directories it sees, never the daemon's lock
    assert "notify.sock.lock" not in logs
    entry = next(e for e in _inbox(env) if e["title"] == "after the restart")
    assert entry["sandbox"] == name


def test_one_sandbox_flooding_connections_does_not_silence_another(
        podman: str, wrapix_image: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    log = tmp_path / "notifyd.log"
    daemon = Notifyd(env, log)
    daemon.start()
    name = ""
    try:
        started = _wrapix(env, "run", "--detach", "--json", "--image", wrapix_image,
                          str(_project(tmp_path / "flooder")), "--", "python3", "-c", FLOOD)
        assert started.returncode == 0, started.stderr
        name = json.loads(started.stdout)["name"]
        wait_until(lambda: _logs_say(podman, name, "holding"), timeout=120,
                   what="the flooding sandbox holding its connections")
        quiet = _wrapix(env, "run", "--image", wrapix_image,
                        str(_project(tmp_path / "quiet")), "--", "wrapix-notify",
                        "still heard", "from the quiet sandbox")
        assert quiet.returncode == 0, quiet.stderr
        wait_until(lambda: any(e["title"] == "still heard" for e in _inbox(env)),
                   timeout=20, what="the quiet sandbox's notification")
        flood_logs = subprocess.run([podman, "logs", name], capture_output=True, text=True,
                                    timeout=30, check=False).stdout
    finally:
        if name:
            _remove(podman, name)
        daemon.stop()
    print(flood_logs, [line for line in log.read_text().splitlines() if "quota" in line][:2])
    held = int(flood_logs.split("holding ")[1].split()[0])
    assert held > 4096, flood_logs  # more than its quota, more than the whole old limit
    entry = next(e for e in _inbox(env) if e["title"] == "still heard")
    assert entry["sandbox"].startswith("wrapix-quiet-")
    assert f"sandbox {name} (its quota)" in log.read_text()
