"""P8: idle CPU of `wrapix-tui` with 50 running sandboxes, 25 on each of two hosts, over 60
s (≤ 1% of one core).

Real rootless Podman (run as the unprivileged user): 25 busybox containers running
``sleep`` here and 25 on the remote Podman host `.ci/remote-host` provisions (a second
user's Podman behind sshd on 127.0.0.1, configured as ``[hosts.remote]``), labelled as
wrapix sandboxes, so all 50 are rows of the sandbox pane; the remote rows' CPU and
memory come from that host's Podman (``podman top`` per visible row where it cannot
report ``stats``: rootless on cgroup v1, as here). wrapix-tui runs in a 120×40 pty (its
output drained). Its CPU time (user + system, psutil) is read at the start and end of
each window: first while it still counts as in use (within ``IDLE_AFTER`` of its start:
stats of the visible rows every 2 s), then the measured window, once nobody has pressed
a key for ``IDLE_AFTER`` seconds (stats every 10 s here and every 30 s on the remote
host; a key brings the 2 s pace back at once). What it spends is the stats samplers (one
per host), the remote host's event stream, the inbox follower and the timers. The
``podman`` processes it starts are not part of its own time; their CPU is shown in the
note (the remote host's Podman service is not). Containers are removed after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable
from benchmarks.scenarios.p01_startup import SIZE, _env
from benchmarks.scenarios.p09_launch import IMAGE, _podman
from wrapix_tui.app import IDLE_AFTER
from wrapix_tui.widgets.sandbox_stats import (
    IDLE_STATS_INTERVAL,
    REMOTE_IDLE_STATS_INTERVAL,
    STATS_INTERVAL,
)

ID = "P8"
WHAT = "idle CPU of wrapix-tui with 50 running sandboxes, 25 on each of two hosts"
COUNT = 25
"""Sandboxes on each host."""
PREFIX = "wrapix-p8bench-"
LIMIT = 1.0
ACTIVE_WINDOW = 16.0


def _remote() -> dict[str, str]:
    descriptor = Path.home() / ".config" / "wrapix-ci" / "remote-host.json"
    try:
        found = json.loads(descriptor.read_text())
        return {key: str(found[key]) for key in ("url", "identity")}
    except (OSError, ValueError, KeyError):
        raise Unavailable(f"no remote Podman host ({descriptor}: .ci/remote-host makes "
                          "it)") from None


def _cleanup(podman: list[str]) -> None:
    names = subprocess.run([*podman, "ps", "-a", "--format", "{{.Names}}"],
                           capture_output=True, text=True, timeout=120, check=False).stdout.split()
    mine = [name for name in names if name.startswith(PREFIX)]
    if mine:
        subprocess.run([*podman, "rm", "-f", "-t", "0", *mine], capture_output=True,
                       timeout=300, check=False)


def _start(podman: list[str], root: Path, count: int) -> None:
    for number in range(count):
        workspace = root / f"ws{number:02d}"
        workspace.mkdir(parents=True, exist_ok=True)
        subprocess.run([*podman, "run", "-d", "--name", f"{PREFIX}{number:02d}",
                        "--label", "wrapix.sandbox=1", "--label", "wrapix.profile=base",
                        "--label", f"wrapix.workspace={workspace}", IMAGE, "sleep", "3600"],
                       check=True, capture_output=True, timeout=120)


def _drain(fd: int, stop: threading.Event) -> None:
    import select

    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                if not os.read(fd, 65536):
                    return
            except OSError:
                return


def run(ctx: Context) -> list[Row]:
    import fcntl
    import pty
    import struct
    import termios

    import psutil

    local = [_podman()]
    remote = _remote()
    far = [local[0], "--url", remote["url"], "--identity", remote["identity"]]
    if subprocess.run([*far, "image", "exists", IMAGE], capture_output=True, timeout=120,
                      check=False).returncode != 0:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.support.remote_host import copy_image, remote_host

        copy_image(local[0], remote_host(local[0]), IMAGE)
    cgroups = subprocess.run([*far, "info", "--format", "{{.Host.CgroupsVersion}}"],
                             capture_output=True, text=True, timeout=120,
                             check=False).stdout.strip() or "?"
    root = ctx.workdir / "p8"
    workspace = root / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    window = 10.0 if ctx.quick else 60.0
    for podman in (local, far):
        _cleanup(podman)
    try:
        started = time.perf_counter()
        _start(local, root / "local", COUNT)
        _start(far, root / "remote", COUNT)
        startup = time.perf_counter() - started
        env = _env(root)
        (root / "config" / "config.toml").write_text(
            f'[hosts.remote]\nurl = "{remote["url"]}"\nidentity = "{remote["identity"]}"\n'
            "timeout = 20\n")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
        child = subprocess.Popen([sys.executable, "-m", "wrapix_tui", str(workspace)],
                                 stdin=slave, stdout=slave, stderr=slave, env=env,
                                 cwd=Path(__file__).resolve().parents[2],
                                 start_new_session=True, close_fds=True)
        os.close(slave)
        stop = threading.Event()
        drainer = threading.Thread(target=_drain, args=(master, stop), daemon=True)
        drainer.start()
        try:
            process = psutil.Process(child.pid)
            time.sleep(10.0)  # start-up, the first listing, a few stats samples
            active_before = process.cpu_times()
            active_wall = time.perf_counter()
            time.sleep(ACTIVE_WINDOW)  # still within IDLE_AFTER of the start: 2 s stats
            active_after = process.cpu_times()
            active = time.perf_counter() - active_wall
            time.sleep(max(0.0, IDLE_AFTER + 2.0 - 10.0 - ACTIVE_WINDOW))
            before = process.cpu_times()
            wall = time.perf_counter()
            time.sleep(window)
            after = process.cpu_times()
            elapsed = time.perf_counter() - wall
            if child.poll() is not None:
                raise RuntimeError("wrapix-tui exited during the measurement")
        finally:
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            stop.set()
            drainer.join(timeout=5)
            os.close(master)
    finally:
        for podman in (local, far):
            _cleanup(podman)
    own = (after.user + after.system) - (before.user + before.system)
    active_own = (active_after.user + active_after.system) - (
        active_before.user + active_before.system)
    children = (after.children_user + after.children_system) - (
        before.children_user + before.children_system)
    percent = 100.0 * own / elapsed
    load = os.getloadavg()[0]
    return [Row(ID, f"{WHAT} ({elapsed:.0f} s with no input for {IDLE_AFTER:.0f} s or more: "
                    f"stats every {IDLE_STATS_INTERVAL:g} s here, "
                    f"{REMOTE_IDLE_STATS_INTERVAL:g} s on the remote host; "
                    f"load {load:.1f})", "—",
                f"{own:.2f} s CPU in {elapsed:.0f} s", f"{percent:.2f}% of a core",
                "≤ 1% of a core", percent <= LIMIT,
                note=f"stats processes it started: {100.0 * children / elapsed:.1f}% more; "
                     f"in the first {ACTIVE_WINDOW:.0f} s after start (stats every "
                     f"{STATS_INTERVAL:g} s, as while someone types): "
                     f"{100.0 * active_own / active:.2f}%; {COUNT} containers on each host "
                     f"started in {startup:.0f} s; the remote host's cgroups {cgroups}: its "
                     f"rows sampled with "
                     f"{'podman top per row' if cgroups == 'v1' else 'one podman stats'}")]
