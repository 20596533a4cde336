"""Sessions that need the person's terminal: the plan interview and ``$EDITOR``.

Everything else Ralph runs goes through :mod:`wrapix_core.proc`, which captures output.
A session on the terminal cannot: the program must own a real terminal (an agent's TUI,
an editor). Two helpers do this, each with a timeout that ends the program's process
group (SIGTERM, then SIGKILL), like ``proc`` does:

- :func:`run_logged` runs a program on a new pseudo-terminal and relays: keys from this
  terminal to it, its output to this terminal and to a log file. That is how ``ralph
  plan`` is interactive and still logged (the signal is read from the log afterwards).
- :func:`run_attached` hands this terminal to a program (the editor) and waits;
  :func:`editor_argv` says which editor (``ralph tune``/``review`` and the TUI's review
  screen alike).

Both take argv lists; nothing is run through a shell.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import tty
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from wrapix_core import workspace_fs
from wrapix_core.proc import KILL_GRACE, CommandNotFound, CommandTimeout
from wrapix_core.ralph.errors import RalphError


def _copy_size(source: int, target: int) -> None:
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)


@contextlib.contextmanager
def _raw(fd: int) -> Iterator[None]:
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


@contextlib.contextmanager
def _follow_size(source: int, target: int) -> Iterator[None]:
    if not os.isatty(source) or threading.current_thread() is not threading.main_thread():
        yield
        return

    def resized(_signum: int, _frame: FrameType | None) -> None:
        _copy_size(source, target)

    previous = signal.signal(signal.SIGWINCH, resized)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


def _end_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        view = view[written:]


def run_logged(argv: Sequence[str], *, log: Path, timeout: float,
               env: Mapping[str, str] | None = None, cwd: Path | None = None,
               anchor: Path | None = None) -> int:
    """Run ``argv`` on a new pseudo-terminal relayed to this one, logging its output.

    Blocks until the program exits (or ``timeout`` seconds pass: then its group is ended
    and :class:`~wrapix_core.proc.CommandTimeout` raised). Returns its exit code.
    """
    args = [str(part) for part in argv]
    environ = dict(os.environ if env is None else env)
    if anchor is None:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = workspace_fs.open_new(anchor or log.parent, log)  # never through a link
    pid, master = pty.fork()
    if pid == 0:  # the child: become the program
        try:
            if cwd is not None:
                os.chdir(cwd)
            os.execvpe(args[0], args, environ)
        except OSError as exc:
            os.write(2, f"ralph: cannot run {args[0]}: {exc.strerror}\r\n".encode())
        os._exit(127)
    stdin = sys.stdin.fileno()
    stdout = sys.stdout.fileno()
    sys.stdout.flush()
    _copy_size(stdin, master)
    deadline = time.monotonic() + timeout
    status: int | None = None
    drain_until = float("inf")
    reading_stdin = True
    with out, _follow_size(stdin, master), _raw(stdin):
        while time.monotonic() < drain_until:
            if time.monotonic() > deadline:
                _end_group(pid)
                os.close(master)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
                raise CommandTimeout(args, timeout)
            watched = [master, stdin] if reading_stdin else [master]
            try:
                ready, _, _ = select.select(watched, [], [], 0.2)
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every holder of the terminal is gone
                    data = b""
                if not data:
                    break
                _write_all(stdout, data)
                out.write(data)
                out.flush()
            if stdin in ready:
                data = os.read(stdin, 4096)
                if data:
                    _write_all(master, data)
                else:  # our input ended (not a terminal): pass the end on, once
                    reading_stdin = False
                    with contextlib.suppress(OSError):
                        _write_all(master, b"\x04")
            if status is None:
                done, raw = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = raw
                    # Output still in flight is drained above until EIO; a descendant
                    # that keeps the terminal open does not hold us for long.
                    drain_until = time.monotonic() + 1.0
    os.close(master)
    if status is None:
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 127 and not _on_path(args[0], environ):
        raise CommandNotFound(args)
    return code


def _on_path(program: str, env: Mapping[str, str]) -> bool:
    if "/" in program:
        return Path(program).exists()
    return any((Path(folder) / program).exists()
               for folder in env.get("PATH", os.defpath).split(os.pathsep) if folder)


def run_attached(argv: Sequence[str], *, timeout: float, cwd: Path | None = None) -> int:
    """Hand this terminal to ``argv`` (an editor) until it exits; returns its exit code."""
    args = [str(part) for part in argv]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        try:
            child = subprocess.Popen(args, cwd=cwd)
        except FileNotFoundError:
            raise CommandNotFound(args) from None
        try:
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.terminate()
            try:
                child.wait(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise CommandTimeout(args, timeout) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


EDIT_TIMEOUT = 24 * 3600.0
"""How long an editor session may last before it is ended."""


def editor_argv() -> list[str]:
    """``$VISUAL`` or ``$EDITOR`` (else ``vi``) split like a shell splits words (never run
    by a shell)."""
    line = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise RalphError(f"$EDITOR is not a valid command line ({exc})") from None
    if not argv:
        raise RalphError("$EDITOR is empty", "set it, e.g. `export EDITOR=vim`")
    return argv
