"""Running a recorded launch plan (see :mod:`wrapix_core.sandbox.launchcache`).

Returns None whenever it cannot vouch for the result, and the full CLI takes over.
``allowlist`` sandboxes never come this way: their launches are not recorded
(:mod:`wrapix_core.sandbox.launchrecord`), because their egress proxy must be started
before the container. Uses
``os.posix_spawn`` rather than :mod:`subprocess` (whose import alone costs 3 ms).
"""

from __future__ import annotations

import os
import sys

from wrapix_core.sandbox import launchcache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wrapix_core.sandbox.launchcache import Record

PODMAN_ERROR = 125
"""`podman run`'s own failure (name in use, image gone, …), or a container's exit status."""


def _say(record: Record) -> None:
    for warning in record.get("warnings", []):
        print(f"wrapix: warning: {warning}", file=sys.stderr)


def _spawn(argv: list[str], quiet: bool) -> int:
    """Run ``argv`` (found on PATH) and return its exit status."""
    actions = []
    if quiet:
        actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _run(argv: list[str], quiet: bool) -> tuple[int, str]:
    """Run ``podman run …`` with a ``--cidfile``: (exit status, the id of the container
    it created, "" when it created none)."""
    cidfile = os.path.join(launchcache.cache_root(), f".cid-{os.getpid()}")
    launchcache.remove(cidfile)
    try:
        code = _spawn([*argv[:2], "--cidfile", cidfile, *argv[2:]], quiet=quiet)
        return code, _read(cidfile)
    finally:
        launchcache.remove(cidfile)


def _detached(record: Record) -> int | None:
    argv = record["argv"]
    try:
        code, container = _run(argv, quiet=True)
        if code != 0:
            # Remove only the container this run created (never one that holds the
            # name), then let the full path explain.
            if container:
                _spawn([argv[0], "rm", "-f", container], quiet=True)
            return None
    except OSError:
        return None
    _say(record)
    if record.get("json"):
        print(f'{{\n  "name": "{record["name"]}",\n  "id": "{container}"\n}}')
    else:
        print(f"{record['name']} started; attach with `wrapix attach {record['name']}` "
              f"(detach keys: {record['detach_keys']})")
    return 0


def _foreground(record: Record) -> int | None:
    import signal  # here: its enum import alone is 3 ms of every detached launch

    _say(record)
    session = record.get("session_id")
    if session:
        from wrapix_core.notify import sessions

        sessions.register_session(session, sessions.focused_window_id())
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the TTY delivers it to podman
    try:
        code, container = _run(record["argv"], quiet=False)
    except OSError:
        return None
    finally:
        signal.signal(signal.SIGINT, previous)
        if session:
            sessions.unregister_session(session)
    # Podman's own failure (name taken, image gone) before it created a container: the
    # full path explains. A container that ran keeps its exit status, 125 included: it
    # must never run a second time.
    return None if code == PODMAN_ERROR and not container else code


def run_fast(args: list[str]) -> int | None:
    """Launch from a valid record for exactly this invocation, else return None."""
    try:
        key = launchcache.launch_key(args, os.getcwd(), os.environ, sys.stdin.isatty())
        record = launchcache.lookup(key)
        if record is None:
            return None
        for target in record.get("mkdir", []):
            os.makedirs(target, exist_ok=True)
    except OSError:
        return None
    code = _detached(record) if record.get("detach") else _foreground(record)
    if code is None:
        launchcache.forget(key)
    return code
