"""The one way wrapix runs other programs.

Every call takes an argv list (never a shell string) and a timeout. Failures are
typed so callers can tell "not installed" from "hung" from "said no":
:class:`CommandNotFound`, :class:`CommandTimeout`, :class:`CommandFailed`. A command
that times out is ended with its whole process group (SIGTERM, then SIGKILL) — what is
left of the group too when the command itself already exited (a background child that
still holds its output).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wrapix_core.errors import WrapixError

KILL_GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL when ending a command."""


def describe(argv: Sequence[str]) -> str:
    """A command as a person would type it (for messages only, never executed)."""
    return shlex.join(argv)


class ProcError(WrapixError):
    """Base of subprocess failures; ``argv`` is the command that failed."""

    def __init__(self, argv: Sequence[str], message: str, hint: str | None = None):
        super().__init__(message, hint, exit_code=1)
        self.argv = list(argv)


class CommandNotExecutable(ProcError):
    def __init__(self, argv: Sequence[str]):
        super().__init__(argv, f"{argv[0]}: permission denied",
                         "make it executable, or check the PATH entry it was found in")


def _not_started(argv: Sequence[str], error: OSError) -> ProcError:
    """Why ``argv`` could not start: not installed, or there but not executable.

    A PATH holding a directory the user cannot read makes a missing command fail with
    EACCES rather than ENOENT, so PATH is searched here to tell the two apart.
    """
    import shutil

    if isinstance(error, PermissionError) and shutil.which(argv[0]) is not None:
        return CommandNotExecutable(argv)
    return CommandNotFound(argv)


class CommandNotFound(ProcError):
    def __init__(self, argv: Sequence[str]):
        super().__init__(
            argv,
            f"{argv[0]}: command not found",
            f"install {Path(argv[0]).name} or put it on PATH",
        )
        self.exit_code = 2


class CommandTimeout(ProcError):
    def __init__(self, argv: Sequence[str], timeout: float):
        super().__init__(
            argv,
            f"`{describe(argv)}` did not finish within {timeout:g}s",
            "check that it is not hung (and raise the timeout if it is merely slow)",
        )
        self.timeout = timeout


class CommandFailed(ProcError):
    def __init__(self, argv: Sequence[str], returncode: int, stderr: str, stdout: str = ""):
        tail = last_lines(stderr or stdout, 1)
        super().__init__(
            argv,
            f"`{describe(argv)}` failed with exit code {returncode}"
            + (f": {tail}" if tail else ""),
        )
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout


def last_lines(text: str, count: int) -> str:
    """The last ``count`` non-empty lines of ``text`` joined with `` | ``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])


@dataclass(frozen=True)
class Completed:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


def _environ(env: Mapping[str, str] | None) -> dict[str, str] | None:
    if env is None:
        return None
    merged = dict(os.environ)
    merged.update(env)
    return merged


PR_SET_PDEATHSIG = 1


@functools.cache
def _die_with_parent() -> Callable[[], None] | None:
    """A hook run in a child before exec (Linux): SIGTERM to it when its parent dies.

    A stream (``podman events``, ``logs -f``) runs in its own session, so the hang-up of
    a closed terminal does not reach it; without this, a TUI killed with its terminal left
    it running for ever. The kernel's "parent" is the thread that started the child: a
    stream must be started by the thread that reads it (as every caller here does).
    None where there is no ``prctl``.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here: not on the start-up path of every command

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong]
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


def _terminate_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def _end_leftovers(pgid: int) -> None:
    """End what is left of a process group whose leader already exited (children it
    started in the background): SIGTERM, then SIGKILL after a grace period.

    The group id cannot name anything else while a member lives (Linux does not hand
    out a pid in use as a group id), so this never reaches another program's processes.
    """
    if not _group_alive(pgid):
        return
    _terminate_group(pgid, signal.SIGTERM)
    for _ in range(int(KILL_GRACE / 0.05)):  # nothing to wait on: not our children
        if not _group_alive(pgid):
            return
        await asyncio.sleep(0.05)
    _terminate_group(pgid, signal.SIGKILL)


async def _end(process: asyncio.subprocess.Process) -> None:
    """End a process and its group: SIGTERM, then SIGKILL after a grace period; what is
    left of the group when the process itself already exited."""
    if process.returncode is None:
        _terminate_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), KILL_GRACE)
        except TimeoutError:
            _terminate_group(process.pid, signal.SIGKILL)
    # the children it left behind (``sleep 1000 &`` holding its output)
    await _end_leftovers(process.pid)
    if process.returncode is None:  # pragma: no cover - SIGKILL cannot be ignored
        await process.wait()


async def run(
    argv: Sequence[str],
    *,
    timeout: float,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    check: bool = True,
) -> Completed:
    """Run ``argv`` to completion, capturing output as text.

    ``env`` is layered over the current environment. Raises :class:`CommandNotFound`,
    :class:`CommandTimeout`, or (with ``check``) :class:`CommandFailed`.
    """
    argv = [str(part) for part in argv]
    data = input.encode() if isinstance(input, str) else input
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if data is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_environ(env),
            cwd=cwd,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise _not_started(argv, exc) from None
    try:
        out, err = await asyncio.wait_for(process.communicate(data), timeout)
    except TimeoutError:
        await _end(process)
        raise CommandTimeout(argv, timeout) from None
    except asyncio.CancelledError:
        await _end(process)
        raise
    result = Completed(
        argv,
        process.returncode if process.returncode is not None else -1,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
    )
    if check and result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stderr, result.stdout)
    return result


async def run_in_terminal(argv: Sequence[str], *, timeout: float,
                          input: bytes | str | None = None) -> Completed:
    """Like :func:`run` (output captured, same errors), but the command stays in this
    terminal's session, so a ``sudo`` inside can ask for a password on it.

    Ending it on timeout signals the process only (it is not a group leader).
    """
    argv = [str(part) for part in argv]
    data = input.encode() if isinstance(input, str) else input
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if data is not None else None,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except (FileNotFoundError, PermissionError) as exc:
        raise _not_started(argv, exc) from None
    try:
        out, err = await asyncio.wait_for(process.communicate(data), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), KILL_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if isinstance(exc, TimeoutError):
            raise CommandTimeout(argv, timeout) from None
        raise
    result = Completed(argv, process.returncode if process.returncode is not None else -1,
                       out.decode(errors="replace"), err.decode(errors="replace"))
    if result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stderr, result.stdout)
    return result


def run_sync(
    argv: Sequence[str],
    *,
    timeout: float,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    check: bool = True,
    spool: bool = False,
) -> Completed:
    """Blocking twin of :func:`run` for code that has no event loop (threads, CLIs).

    ``spool``: the output goes to unlinked temporary files, read once the command ended:
    a large output then costs no Python wake-up per pipe-full (each needing the GIL,
    which a busy UI thread holds for up to 5 ms at a time)."""
    argv = [str(part) for part in argv]
    data = input.encode() if isinstance(input, str) else input
    if spool:
        return Spooled(argv, input=data, env=env, cwd=cwd).wait(timeout, check=check)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environ(env),
            cwd=cwd,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise _not_started(argv, exc) from None
    try:
        out, err = process.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _terminate_group(process.pid, signal.SIGTERM)
        try:
            process.communicate(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            _terminate_group(process.pid, signal.SIGKILL)
            process.communicate()
        raise CommandTimeout(argv, timeout) from None
    except BaseException:
        _terminate_group(process.pid, signal.SIGKILL)
        process.wait()
        raise
    result = Completed(argv, process.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"))
    if check and result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stderr, result.stdout)
    return result


class Spooled:
    """A command whose output goes to unlinked temporary files, read once it ended: a
    large output then costs no Python wake-up per pipe-full (each needing the GIL, which
    a busy UI thread holds for up to 5 ms at a time)."""

    def __init__(self, argv: Sequence[str], *, input: bytes | None = None,
                 env: Mapping[str, str] | None = None, cwd: Path | str | None = None):
        import tempfile

        self.argv = [str(part) for part in argv]
        self._input = input
        # held open past this call on purpose (until wait or close)
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=self._out, stderr=self._err, env=_environ(env), cwd=cwd,
                start_new_session=True)
        except (FileNotFoundError, PermissionError) as exc:
            self.close()
            raise _not_started(self.argv, exc) from None
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float, *, check: bool = True) -> Completed:
        """Wait for the end in one blocking ``waitpid`` (a timer ends the group at
        ``timeout``: ``wait(timeout)`` would poll), then read the output."""
        import threading

        process = self.process
        expired: list[bool] = []

        def expire() -> None:
            expired.append(True)
            _terminate_group(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            if process.stdin is not None:  # its input first (the timer bounds a stuck reader)
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.write(self._input or b"")
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
            process.wait()
            if expired:
                raise CommandTimeout(self.argv, timeout)
            result = Completed(self.argv, process.returncode, _read_all(self._out),
                               _read_all(self._err))
        except BaseException:
            _terminate_group(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            timer.cancel()
            self.close()
        if check and result.returncode != 0:
            raise CommandFailed(self.argv, result.returncode, result.stderr, result.stdout)
        return result

    def close(self) -> None:
        self._out.close()
        self._err.close()


PIPE_SIZE = 1 << 20
"""Bytes asked for a watched command's pipe (Linux allows 1 MiB unprivileged): a command
writing while the event loop draws a frame rarely has to wait for it."""


class Watched:
    """A command started at construction whose output the event loop reads as it comes.

    :meth:`watch` (on the loop) reads each batch as the pipe has it and calls back: no
    thread that would take the GIL from the frames, no polling. Without it (a CLI),
    :meth:`wait` reads to the end. stderr is spooled to a file for the error message.
    """

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: Path | str | None = None):
        import tempfile

        self.argv = [str(part) for part in argv]
        self.output = bytearray()
        self.ended = False
        """The output is complete (end of file) and the command exited."""
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (read when it ended)
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=self._err, env=_environ(env), cwd=cwd, start_new_session=True)
        except (FileNotFoundError, PermissionError) as exc:
            self._err.close()
            raise _not_started(self.argv, exc) from None
        assert self.process.stdout is not None
        self._fd = self.process.stdout.fileno()
        with contextlib.suppress(OSError, AttributeError):
            import fcntl

            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._done: asyncio.Future[None] | None = None
        self._reaping: asyncio.Task[None] | None = None
        self._on_data: Callable[[], None] = lambda: None

    def watch(self, on_data: Callable[[], None]) -> None:
        """Read on the running loop; ``on_data()`` after each batch and at the end."""
        loop = asyncio.get_running_loop()
        self._on_data = on_data
        self._done = loop.create_future()
        os.set_blocking(self._fd, False)
        loop.add_reader(self._fd, self._readable, loop)

    def _readable(self, loop: asyncio.AbstractEventLoop) -> None:
        eof = False
        while True:
            try:
                chunk = os.read(self._fd, PIPE_SIZE)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            self.output += chunk
        if eof:
            loop.remove_reader(self._fd)
            self._reaping = loop.create_task(self._reap(loop))  # (kept: not collected)
        else:
            self._on_data()

    async def _reap(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await _ended(self.process, None)
        finally:
            self.ended = True
            self._on_data()
            if self._done is not None and not self._done.done():
                self._done.set_result(None)

    def stop(self) -> None:
        """End the command (its group) if it still runs: nobody wants its output now."""
        if not self.ended and self.process.poll() is None:
            _terminate_group(self.process.pid, signal.SIGKILL)
        self._err.close()

    async def wait_async(self, timeout: float) -> Completed:
        """After :meth:`watch`: the whole output once the command ended (the group is
        ended at ``timeout``); raises :class:`CommandFailed` for a non-zero exit."""
        assert self._done is not None, "watch() first"
        try:
            await asyncio.wait_for(asyncio.shield(self._done), timeout)
        except TimeoutError:
            self.stop()
            raise CommandTimeout(self.argv, timeout) from None
        return self._result()

    def wait(self, timeout: float) -> Completed:
        """Without :meth:`watch`: read to the end, blocking (the group is ended at
        ``timeout``); raises :class:`CommandFailed` for a non-zero exit."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _terminate_group(self.process.pid, signal.SIGKILL)
            self.process.communicate()
            self._err.close()
            raise CommandTimeout(self.argv, timeout) from None
        self.output += out
        self.ended = True
        return self._result()

    def _result(self) -> Completed:
        err = _read_all(self._err)
        self._err.close()
        result = Completed(self.argv, self.process.returncode,
                           self.output.decode(errors="replace"), err)
        if result.returncode != 0:
            raise CommandFailed(self.argv, result.returncode, result.stderr, result.stdout)
        return result


async def _ended(process: subprocess.Popen[bytes], timeout: float | None) -> bool:
    """Whether ``process`` ended within ``timeout`` (it is not stopped when not), reaped:
    the event loop watches its pidfd (Linux 5.3+; elsewhere a thread waits), so nothing
    wakes before the end."""
    if process.poll() is not None:
        return True
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd here: a thread waits instead
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), timeout)
        except TimeoutError:
            return False
        return True
    ended: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(pidfd, readable)
    try:
        await asyncio.wait_for(ended, timeout)
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    process.wait()  # reaped at once: it has ended
    return True


def _read_all(file: Any) -> str:
    file.seek(0)
    return str(file.read().decode(errors="replace"))


EXIT_POLL = 0.25
"""Seconds between looks at whether a streamed command exited (see ``orphan_grace``)."""


class LineStream:
    """The stdout lines of a running command; see :func:`open_lines`."""

    def __init__(self, argv: list[str], process: asyncio.subprocess.Process,
                 start_timeout: float | None, orphan_grace: float | None = None):
        self.argv = argv
        self.process = process
        self._start_timeout = start_timeout
        self._orphan_grace = orphan_grace
        self._reading: asyncio.Future[bytes] | None = None
        self._exited_at: float | None = None
        self.orphaned = False
        """True when the stream ended because the command exited while something it
        left behind still held its output."""
        self._stderr = (asyncio.ensure_future(process.stderr.read())
                        if process.stderr is not None else None)

    async def _readline(self) -> bytes:
        assert self.process.stdout is not None
        if self._orphan_grace is None:
            return await self.process.stdout.readline()
        if self.orphaned:
            return b""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self.process.stdout.readline())
        reading = self._reading  # kept across a cancelled call: one reader at a time
        loop = asyncio.get_running_loop()
        while not reading.done():
            if self.process.returncode is not None:
                if self._exited_at is None:
                    self._exited_at = loop.time()
                elif loop.time() - self._exited_at >= self._orphan_grace:
                    self.orphaned = True
                    reading.cancel()
                    self._reading = None
                    return b""
            await asyncio.wait({reading}, timeout=EXIT_POLL)
        self._reading = None
        return reading.result()

    def __aiter__(self) -> LineStream:
        return self

    async def __anext__(self) -> str:
        assert self.process.stdout is not None
        if self._start_timeout is not None:
            timeout, self._start_timeout = self._start_timeout, None
            try:
                raw = await asyncio.wait_for(self._readline(), timeout)
            except TimeoutError:
                raise CommandTimeout(self.argv, timeout) from None
        else:
            raw = await self._readline()
        if raw:
            return raw.decode(errors="replace").rstrip("\r\n")
        returncode = await self.process.wait()
        stderr = ""
        if self._stderr is not None:
            # a child left behind may hold stderr open too
            done, _ = await asyncio.wait({self._stderr}, timeout=self._orphan_grace)
            stderr = self._stderr.result().decode(errors="replace") if done else ""
        if returncode != 0:
            raise CommandFailed(self.argv, returncode, stderr)
        raise StopAsyncIteration

    async def close(self) -> None:
        await _end(self.process)
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._stderr is not None and not self._stderr.done():
            self._stderr.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr


@contextlib.asynccontextmanager
async def open_lines(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    start_timeout: float | None = None,
    stderr_to_stdout: bool = False,
    orphan_grace: float | None = None,
) -> AsyncGenerator[LineStream, None]:
    """Start a long-running command and iterate its stdout lines as they arrive.

    The command is running when the ``async with`` body begins and is ended (with its
    process group, what is left of it included) when the body leaves, or when this
    process dies (Linux). Iteration raises :class:`CommandFailed` after the last line when
    the command exits non-zero. ``start_timeout`` bounds the wait for the first line only
    (a follow stream may then be quiet for as long as it likes). With ``orphan_grace``,
    the lines end that many seconds after the command itself exited even when a child it
    left behind still holds its output (``stream.orphaned`` then says so); without it
    they end when the output closes.
    """
    argv = [str(part) for part in argv]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if stderr_to_stdout else asyncio.subprocess.PIPE,
            env=_environ(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
            limit=1 << 20,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise _not_started(argv, exc) from None
    stream = LineStream(argv, process, start_timeout, orphan_grace)
    try:
        yield stream
    finally:
        await stream.close()


async def stream_lines(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    start_timeout: float | None = None,
    stderr_to_stdout: bool = False,
) -> AsyncGenerator[str, None]:
    """Generator form of :func:`open_lines` (the command starts on first iteration)."""
    async with open_lines(argv, env=env, cwd=cwd, start_timeout=start_timeout,
                          stderr_to_stdout=stderr_to_stdout) as lines:
        async for line in lines:
            yield line
