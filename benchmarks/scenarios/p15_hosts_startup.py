"""P15: `wrapix-tui` start with the local host, an SSH host and one hanging host, against
the same start without the hanging host, measured the same way in the same run.

The SSH host is the remote Podman host `.ci/remote-host` provisions (a second user's
Podman behind sshd on 127.0.0.1); the hanging host is a TCP server here that accepts and
never says a word (timeout 5 s). A local sandbox runs; each start runs in a real
pseudo-terminal (120×40) as its own process, and the time is spawn to the first frame
that draws the local sandbox's row (settings and hosts load after the very first frame,
so that frame cannot tell them apart: the first frame with rows can). Runs alternate;
the medians are compared.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable, median, ratio_row

ID = "P15"
WHAT = "wrapix-tui start to the local rows, local + SSH + a hanging host"
TARGET = 1.3
SIZE = (40, 120)
IMAGE = "localhost/wrapix-test-busybox:latest"
HUNG_TIMEOUT = 5.0


def _until_shown(argv: list[str], env: dict[str, str], cwd: Path, needle: bytes,
                 timeout: float = 60.0) -> float:
    """Seconds from spawn until ``needle`` is drawn on a fresh pseudo-terminal."""
    import fcntl
    import struct

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                             cwd=cwd, start_new_session=True, close_fds=True)
    os.close(slave)
    output = bytearray()
    try:
        while needle not in output:
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"wrapix-tui did not draw {needle!r} within {timeout}s: "
                                   f"{bytes(output)[-600:]!r}")
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    raise RuntimeError(f"wrapix-tui exited: {bytes(output)[-600:]!r}") from None
        return time.perf_counter() - start
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        os.close(master)


def _host(name: str, url: str, identity: str, timeout: float) -> str:
    return f'[hosts.{name}]\nurl = "{url}"\nidentity = "{identity}"\ntimeout = {timeout}\n'


def _env(root: Path, config: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPIX_")}
    env.update(TERM="xterm-256color", COLUMNS=str(SIZE[1]), LINES=str(SIZE[0]),
               WRAPIX_NOTIFY__BACKEND="none")
    for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
        path = root / name.lower()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[f"WRAPIX_{name}_DIR"] = str(path)
    (root / "config" / "config.toml").write_text(config)
    return env


def run(ctx: Context) -> list[Row]:
    descriptor = Path.home() / ".config" / "wrapix-ci" / "remote-host.json"
    podman = shutil.which("podman")
    if podman is None or os.geteuid() == 0:
        raise Unavailable("needs rootless Podman as an unprivileged user")
    if not descriptor.is_file():
        raise Unavailable(f"no remote Podman host ({descriptor}: .ci/remote-host makes it)")
    if subprocess.run([podman, "image", "exists", IMAGE], check=False).returncode != 0:
        raise Unavailable(f"{IMAGE} is missing (the tests make it)")
    remote = json.loads(descriptor.read_text())
    name = f"p15-{uuid.uuid4().hex[:8]}"
    subprocess.run([podman, "run", "-d", "--name", name, "--label", "wrapix.sandbox=1",
                    IMAGE, "sleep", "600"], check=True, capture_output=True, timeout=120)
    from tests.support.remote_host import SilentServer

    silent = SilentServer()
    try:
        ssh = _host("remote", remote["url"], remote["identity"], 20)
        hung = _host("hung", f"ssh://{remote['user']}@127.0.0.1:{silent.port}"
                     f"{remote['socket']}", remote["identity"], HUNG_TIMEOUT)
        without = _env(ctx.workdir / "p15-without", ssh)
        with_hung = _env(ctx.workdir / "p15-with", ssh + hung)
        workspace = ctx.workdir / "p15-workspace"
        workspace.mkdir(exist_ok=True)
        tui = [sys.executable, "-m", "wrapix_tui", str(workspace)]
        here = Path(__file__).resolve().parents[2]
        needle = name.encode()
        _until_shown(tui, without, here, needle)  # warm caches and bytecode
        floor: list[float] = []
        value: list[float] = []
        for _ in range(ctx.reps(7, 3)):
            floor.append(_until_shown(tui, without, here, needle))
            value.append(_until_shown(tui, with_hung, here, needle))
    finally:
        silent.close()
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)
    return [ratio_row(ID, WHAT, "without the hanging host", median(floor), median(value),
                      TARGET, note=f"hanging host's timeout {HUNG_TIMEOUT:g}s")]
