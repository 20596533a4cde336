"""Starting, stopping and asking after one sandbox's egress proxy (the host side).

The launcher calls :func:`start` before the container is created and gets the proxy's
pid once it listens; anything short of that (it cannot start, it says it failed, it
does not answer within :data:`START_TIMEOUT`) is an :class:`EgressSetupFailed` and the
launch stops — a sandbox never starts without its proxy.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from wrapix_core import paths
from wrapix_core.egress import paths as egress_paths
from wrapix_core.errors import WrapixError

START_TIMEOUT = 10.0


class EgressSetupFailed(WrapixError):
    """The egress proxy could not be set up; nothing was started."""

    exit_code = 1


def _alive(number: int) -> bool:
    import psutil

    try:
        return psutil.Process(number).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def running(name: str) -> bool:
    """Whether the proxy answers on its socket (what the sandbox depends on)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(1.0)
    try:
        sock.connect(str(egress_paths.socket_path(name)))
    except OSError:
        return False
    finally:
        sock.close()
    return True


def pid(name: str) -> int | None:
    """The proxy's pid when it runs (a zombie does not), else None."""
    try:
        with paths.open_regular(egress_paths.state_dir(name) / egress_paths.PID) as handle:
            number = int(handle.read().strip() or b"0")
    except (OSError, ValueError):
        return None
    return number if number > 0 and _alive(number) else None


def stop(name: str, process: int | None = None, timeout: float = 5.0) -> None:
    """End the proxy (``process``, else the one the pid file names) and wait for it."""
    target = process or pid(name)
    if target is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(target, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(target):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(target, signal.SIGKILL)


def _tail(name: str) -> str:
    with contextlib.suppress(OSError):
        lines = (egress_paths.state_dir(name) / egress_paths.LOG).read_text(
            errors="replace").strip().splitlines()
        return lines[-1] if lines else ""
    return ""


def start(name: str, allowlist: Sequence[str], podman: str) -> int:
    """Configure and start the proxy of sandbox ``name``; returns its pid once it is
    listening. A proxy left over from an earlier sandbox of that name is ended first,
    and the sandbox's own additions and denial log start empty."""
    state = paths.ensure_private_dir(egress_paths.state_dir(name))
    stop(name)
    for stale in (egress_paths.ALLOWED, egress_paths.DENIED, egress_paths.PID):
        with contextlib.suppress(FileNotFoundError):
            (state / stale).unlink()
    paths.atomic_write_text(state / egress_paths.CONFIG, json.dumps(
        {"allowlist": list(allowlist), "podman": podman}), 0o600)
    read_end, write_end = os.pipe()
    try:
        with open(state / egress_paths.LOG, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "wrapix_core.egress.daemon", name,
                 "--ready-fd", str(write_end)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(write_end,),
                start_new_session=True, cwd="/")
    except OSError as exc:
        os.close(read_end)
        raise EgressSetupFailed(f"cannot start the egress proxy for {name}: {exc}",
                                "check that wrapix is installed completely") from None
    finally:
        os.close(write_end)
    try:
        answer = _read_answer(read_end, START_TIMEOUT)
    finally:
        os.close(read_end)
    if answer == "0\tready":
        return process.pid
    stop(name, process.pid, timeout=1.0)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=1.0)
    detail = answer.partition("\t")[2] if answer else (_tail(name) or "no answer")
    raise EgressSetupFailed(
        f"the egress proxy for {name} did not start ({detail}), so the sandbox was not "
        "started", f"see {state / egress_paths.LOG}, or run it with --network none")


def _read_answer(fd: int, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return ""
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()
