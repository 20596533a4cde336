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

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import cidfile as cidfiles
from wrapix_core.sandbox import gitguard, launchcache, launchchecks

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


def _run(argv: list[str], quiet: bool) -> tuple[int, str]:
    """Run ``podman run …`` with a ``--cidfile``: (exit status, the id of the container
    it created, "" when it created none)."""
    cidfile = os.path.join(launchcache.cache_root(), f".cid-{os.getpid()}")
    launchcache.remove(cidfile)
    try:
        code = _spawn(cidfiles.run_argv(argv, cidfile), quiet=quiet)
        return code, cidfiles.created(cidfile)
    finally:
        launchcache.remove(cidfile)


def _detached(record: Record) -> int | None:
    argv = record["argv"]
    try:
        code, container = _run(argv, quiet=True)
        if code != 0:
            # Remove only the container this run created, then let the full path explain.
            if container:
                _spawn([argv[0], *cidfiles.removal(container)], quiet=True)
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


def _exclude_sandbox_files(workspace: str) -> None:
    """The same as every launch (see :func:`wrapix_core.sandbox.launcher.prepare`)."""
    from wrapix_core.sandbox.gitexclude import exclude_sandbox_files

    problem = exclude_sandbox_files(workspace)
    if problem is not None:
        print(f"wrapix: {problem}", file=sys.stderr)


def _socket_dir(record: Record) -> bool:
    """Make the sandbox's notification socket directory; True when this launch made it
    (and so removes it when the sandbox ends)."""
    directory = record.get("socket_dir")
    if not directory:
        return False
    from wrapix_core.notify import socketdirs

    return socketdirs.create(directory)


def _foreground(record: Record, socket_dir: bool) -> int | None:
    import signal  # here: its enum import alone is 3 ms of every detached launch

    _say(record)
    session = record.get("session_id")
    if session:
        from wrapix_core.notify import sessions

        sessions.register_session(session, sessions.focused_window_id())
    from wrapix_core.sandbox import tty

    saved = tty.take()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the TTY delivers it to podman
    container = ""
    try:
        code, container = _run(record["argv"], quiet=False)
    except OSError:
        return None
    finally:
        signal.signal(signal.SIGINT, previous)
        # Detached from (still running), or ended: the terminal is given back either way.
        tty.give_back(saved, left_running=bool(container) and tty.left_running(
            tty.podman_running(record["argv"][0], container)))
        if session:
            sessions.unregister_session(session)
        if socket_dir:  # the sandbox is gone (--rm); one that ran before keeps its own
            from wrapix_core.notify import socketdirs

            socketdirs.remove(record["socket_dir"])
    # Podman's own failure (name taken, image gone) before it created a container: the
    # full path explains. A container that ran keeps its exit status, 125 included: it
    # must never run a second time.
    return None if code == PODMAN_ERROR and not container else code


def _refused(error: WrapixError) -> int:
    """Say why the launch was refused as the full CLI would (one line, nothing a terminal
    acts on); its exit code."""
    text = "".join(char if char.isprintable() else repr(char)[1:-1] for char in str(error))
    print(f"wrapix: error: {text}", file=sys.stderr)
    return error.exit_code


def run_fast(args: list[str]) -> int | None:
    """Launch from a valid record for exactly this invocation, else return None."""
    from wrapix_core import workspace_fs

    try:
        key = launchcache.launch_key(args, os.getcwd(), os.environ, sys.stdin.isatty())
        record = launchcache.lookup(key)
        if record is None:
            return None
        if os.environ.get(launchcache.TRACE_ENV):
            print(f"wrapix: launch: fast path ({launchcache.record_file(key)})",
                  file=sys.stderr)
        checked = launchchecks.Target.from_record(record["checks"])
        launchchecks.run(checked)
        for anchor, target in record.get("mkdir", []):
            workspace_fs.makedirs(anchor, target)
        _exclude_sandbox_files(checked.workspace)
        socket_dir = _socket_dir(record)
    except WrapixError as error:
        launchcache.forget(key)  # the full path re-checks everything next time
        return _refused(error)
    except (OSError, KeyError, ValueError, TypeError):
        return None
    code = _detached(record) if record.get("detach") else _foreground(record, socket_dir)
    if code is None:
        launchcache.forget(key)
    elif not record.get("detach") and gitguard.say_after_stop(checked.workspace):
        return gitguard.REDIRECTED
    return code
