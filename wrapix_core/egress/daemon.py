"""`python -m wrapix_core.egress.daemon NAME`: the egress proxy of one sandbox.

Started by the launcher (:mod:`.control`) before the sandbox's container is created,
in its own session, so that it outlives ``wrapix run --detach``. It reads its
configuration from the sandbox's state directory, listens on the socket the sandbox
gets mounted, says "ready" on the file descriptor it was given, and then serves until
the container stops (``podman wait``) or it is told to stop (SIGTERM).

The sandbox's own allowlist additions (file ``allowed``, written by ``wrapix net
allow`` and the TUI) are re-read when the file changes: inotify wakes it, nothing polls.
Denials are logged and announced (:mod:`.log`) through the host's notification daemon.

``WRAPIX_EGRESS_TEST_HOSTS`` (a JSON object, name to IP address) makes the proxy resolve
those names to those addresses: tests stand local servers in for the internet with it.
It is read from the proxy's own environment on the host, never from the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket as sockets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wrapix_core import paths, proc
from wrapix_core.egress import log as denial_log
from wrapix_core.egress import paths as egress_paths
from wrapix_core.egress import policy
from wrapix_core.egress.proxy import Denial, EgressProxy

LOG = logging.getLogger("wrapix.egress")
STARTUP_GRACE = 120.0
"""Seconds the container may take to appear after the proxy is ready."""
WAIT_TIMEOUT = 24 * 3600.0
TEST_HOSTS = "WRAPIX_EGRESS_TEST_HOSTS"


class Allowlist:
    """The configured patterns plus the sandbox's own additions (re-read on change)."""

    def __init__(self, base: tuple[str, ...], added_file: Path):
        self.base, self.added_file = base, added_file
        self.patterns = base
        self.reload()

    def reload(self) -> None:
        added: list[str] = []
        try:
            with paths.open_regular(self.added_file) as handle:
                lines = handle.read().decode("utf-8", "replace").splitlines()
        except OSError:
            lines = []
        for line in lines:
            with contextlib.suppress(policy.PatternError):
                added.append(policy.normalize_pattern(line))
        self.patterns = policy.merge(self.base, added)
        LOG.info("allowlist: %d patterns", len(self.patterns))

    def __call__(self, host: str) -> bool:
        return policy.allowed(host, self.patterns)


def read_config(name: str) -> dict[str, Any]:
    path = egress_paths.state_dir(name) / egress_paths.CONFIG
    with paths.open_regular(path) as handle:
        data = json.loads(handle.read())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an object")
    return data


def _test_hosts() -> dict[str, str]:
    raw = os.environ.get(TEST_HOSTS)
    if not raw:
        return {}
    data = json.loads(raw)
    return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else {}


def _announce(name: str, denial: Denial) -> None:
    """One notification through the host's daemon (no daemon: nothing, silently)."""
    from wrapix_core.notify import client

    line = client.build_line(
        f"Blocked: {denial.host}",
        f"sandbox {name} tried to reach {denial.host}:{denial.port}, which is not in its "
        f"allowlist; see `wrapix net log {name}`", env={"WRAPIX_SANDBOX": name})
    with contextlib.suppress(OSError):
        client.send(line, (sockets.AF_UNIX, str(paths.notify_socket())))


async def _watch_allowed(allow: Allowlist) -> None:
    """Re-read the sandbox's additions whenever its state directory changes."""
    directory = allow.added_file.parent
    try:
        from asyncinotify import Inotify, Mask
    except ImportError:  # not Linux: watchfiles
        from watchfiles import awatch

        async for _ in awatch(directory):
            allow.reload()
        return
    with Inotify() as inotify:
        inotify.add_watch(directory, Mask.CLOSE_WRITE | Mask.MOVED_TO | Mask.DELETE)
        async for event in inotify:
            if event.name is not None and event.name.name == allow.added_file.name:
                allow.reload()


async def _container_gone(podman: str, name: str) -> None:
    """Return once the container has stopped (or never appeared in time)."""
    started = time.monotonic()
    while True:
        try:
            done = await proc.run([podman, "wait", name], timeout=WAIT_TIMEOUT, check=False)
        except proc.CommandTimeout:
            continue
        except proc.ProcError as exc:
            LOG.error("cannot watch the container: %s", exc)
            return
        if done.returncode == 0:
            LOG.info("container %s stopped", name)
            return
        if time.monotonic() - started > STARTUP_GRACE:
            LOG.info("container %s is not there: %s", name, proc.last_lines(done.stderr, 1))
            return
        await asyncio.sleep(1.0)


async def serve(name: str, ready: Callable[[], None]) -> None:
    config = read_config(name)
    state = egress_paths.state_dir(name)
    allow = Allowlist(policy.merge(config.get("allowlist", [])), state / egress_paths.ALLOWED)
    announcer = denial_log.Announcer(time.monotonic)
    log_path = state / egress_paths.DENIED
    loop = asyncio.get_running_loop()

    def on_denied(denial: Denial) -> None:
        LOG.info("denied %s %s:%d (%s)", denial.method, denial.host, denial.port,
                 denial.reason)
        try:
            denial_log.append(log_path, denial.to_json())
        except OSError as exc:
            LOG.error("cannot record a denial: %s", exc)
        if config.get("notify", True) and announcer.should_announce(denial.host):
            loop.run_in_executor(None, _announce, name, denial)

    proxy = EgressProxy(allow, on_denied=on_denied, hosts=_test_hosts())
    paths.ensure_private_dir(egress_paths.socket_root())
    os.chmod(egress_paths.socket_root(), 0o700)
    directory = paths.ensure_private_dir(egress_paths.socket_dir(name))
    os.chmod(directory, 0o700)
    socket = directory / egress_paths.SOCKET_NAME
    server = await proxy.serve(socket)
    paths.atomic_write_text(state / egress_paths.PID, f"{os.getpid()}\n", 0o600)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    watcher = asyncio.ensure_future(_watch_allowed(allow))
    gone = asyncio.ensure_future(_container_gone(str(config.get("podman", "podman")), name))
    stopped = asyncio.ensure_future(stop.wait())
    ready()
    LOG.info("serving %s on %s", name, socket)
    try:
        await asyncio.wait([gone, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watcher, gone, stopped):
            task.cancel()
        server.close()
        with contextlib.suppress(OSError):
            os.unlink(socket)
        with contextlib.suppress(OSError):
            os.unlink(state / egress_paths.PID)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    ready_fd: int | None = None
    if len(args) == 3 and args[1] == "--ready-fd" and args[2].isdigit():
        ready_fd = int(args[2])
    elif len(args) != 1:
        print("usage: python -m wrapix_core.egress.daemon NAME [--ready-fd FD]",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    told = False

    def answer(text: str) -> None:
        nonlocal told
        if ready_fd is not None and not told:
            told = True
            with contextlib.suppress(OSError):
                os.write(ready_fd, text.encode())
            os.close(ready_fd)

    try:
        asyncio.run(serve(args[0], lambda: answer("0\tready\n")))
    except Exception as exc:
        LOG.exception("egress proxy failed")
        answer(f"1\t{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
