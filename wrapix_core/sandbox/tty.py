"""The person's terminal while a sandbox has it (foreground run, attach, shell), and after.

A program detached from with the detach keys is left running and never undoes what it
set on the terminal: the alternate screen, a hidden cursor, mouse tracking, bracketed
paste, an application keypad. :func:`give_back` undoes all of that and puts the terminal
settings (termios) back as they were before, whatever way the program ended; the CLI
(``wrapix``, ``wrapix attach``, ``wrapix shell``, the launch fast path) and the TUI
(attach and shell from ``App.suspend``) all go through it.

:func:`redraw` makes a program that was already running when it was attached to draw its
screen again: the terminal is one row shorter for a moment, then its size again, and the
runtime passes both sizes on to the sandbox's terminal (a same-size resize is no change,
and full-screen programs draw only on a change).

Standard library only, and nothing heavy: the launch fast path imports it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

LEAVE_ALTERNATE = b"\x1b[?1049l"
"""Back to the normal screen, cursor where it was: only after a detach, because a
terminal that is not on the alternate screen still moves its cursor for it."""
RESET = (
    b"\x1b[0m"  # attributes
    b"\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l"  # mouse tracking, every mode
    b"\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l"  # mouse encodings
    b"\x1b[?1004l"  # focus events
    b"\x1b[?2004l"  # bracketed paste
    b"\x1b[?1l\x1b>"  # normal cursor keys and keypad
    b"\x1b[<u\x1b[>4m"  # keyboard protocols (kitty's, xterm's modifyOtherKeys)
    b"\x1b[?7h"  # line wrap
    b"\x1b[?25h"  # cursor shown
)
"""Harmless whatever the terminal's state: sent after every hand-over."""
PROBE_TIMEOUT = 10.0
NUDGE_SECONDS = 0.2
ATTACH_WAIT = 10.0


def _tty_in() -> int | None:
    try:
        return 0 if os.isatty(0) else None
    except OSError:
        return None


def take() -> list[Any] | None:
    """The terminal's settings now (stdin's termios), None when it is not a terminal."""
    fd = _tty_in()
    if fd is None:
        return None
    import termios

    try:
        return termios.tcgetattr(fd)
    except termios.error:
        return None


def give_back(saved: list[Any] | None, *, left_running: bool) -> None:
    """Undo what a program did to the terminal (see :data:`RESET`); leave the alternate
    screen too when it was ``left_running`` (detached from). ``saved`` is from :func:`take`."""
    fd = _tty_in()
    if saved is not None and fd is not None:
        import termios

        try:  # noqa: SIM105 -- contextlib is not otherwise loaded on the fast path
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        except termios.error:
            pass
    out = 1 if os.isatty(1) else fd
    if out is None:
        return
    try:
        sys.stdout.flush()
        os.write(out, (LEAVE_ALTERNATE if left_running else b"") + RESET)
    except (OSError, ValueError):
        pass


def redraw(alive: Callable[[], bool]) -> None:
    """Once the program just started (an attach) has the terminal (it turned canonical
    mode off), resize its terminal by one row and back, so that what runs in the sandbox
    draws its screen again; ``alive`` says whether the program still runs."""
    fd = _tty_in()
    if fd is None:
        return
    import fcntl
    import struct
    import termios
    import time

    deadline = time.monotonic() + ATTACH_WAIT
    try:
        while termios.tcgetattr(fd)[3] & termios.ICANON:
            if not alive() or time.monotonic() > deadline:
                return
            time.sleep(0.02)
        time.sleep(NUDGE_SECONDS / 2)  # its resize handler is set up with raw mode
        size = fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8))
        rows, cols, xpixel, ypixel = struct.unpack("HHHH", size)
        if rows < 2:
            return
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows - 1, cols, xpixel, ypixel))
        time.sleep(NUDGE_SECONDS)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, size)
    except (OSError, termios.error):
        return


def podman_running(podman: str | Sequence[str], container: str) -> list[str]:
    """Podman's probe for :func:`left_running` (fails once the container is gone);
    ``podman`` may carry the options that reach a remote host."""
    base = [podman] if isinstance(podman, str) else list(podman)
    return [*base, "container", "inspect", "--format", "{{.State.Running}}", container]


def left_running(probe: Sequence[str] | None) -> bool:
    """Whether ``probe`` (a runtime's "is it running" command, see
    ``Runtime.running_argv``) prints ``true``; False when it cannot tell in time."""
    if not probe:
        return False
    import select
    import time

    read, write = os.pipe()
    try:
        pid = os.posix_spawnp(probe[0], list(probe), os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, write, 1),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    except OSError:
        os.close(read)
        return False
    finally:
        os.close(write)
    out = b""
    deadline = time.monotonic() + PROBE_TIMEOUT
    try:
        while len(out) < 4096:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                os.kill(pid, 9)
                return False
            chunk = os.read(read, 4096)
            if not chunk:
                break
            out += chunk
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    return out.strip() == b"true"


def hand_over(argv: Sequence[str], *, env: dict[str, str] | None = None,
              redraw_after: bool = False, running: Sequence[str] | None = None) -> int:
    """Run ``argv`` on this terminal until it ends (or is detached from) and give the
    terminal back; its exit status. Ctrl-C is the program's meanwhile (wrapix must not
    exit under it). ``redraw_after``: it attaches to a running program (:func:`redraw`);
    ``running``: the probe that tells a detach from an exit (:func:`left_running`).
    FileNotFoundError when ``argv[0]`` is not installed."""
    import signal
    import subprocess

    saved = take()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(list(argv), env=env)
        try:
            if redraw_after:
                redraw(lambda: child.poll() is None)
            return child.wait()
        finally:
            give_back(saved, left_running=left_running(running))
    finally:
        signal.signal(signal.SIGINT, previous)
