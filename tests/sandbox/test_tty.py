"""Giving the terminal back after a hand-over, on a real pseudo-terminal (issue 14 item 5);
the real-sandbox cases are in test_terminal_real.py."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest

from wrapix_core.sandbox import tty

CHILD = r"""
import sys, termios, tty as ttymod
from wrapix_core.sandbox import tty
saved = tty.take()
ttymod.setraw(0)                      # what podman leaves when it is detached from
sys.stdout.write("\x1b[?1049h\x1b[?25l\x1b[?1000h")  # what the agent set
sys.stdout.flush()
tty.give_back(saved, left_running=sys.argv[1] == "detached")
sys.stdout.write("\nICANON=%d\n" % bool(termios.tcgetattr(0)[3] & termios.ICANON))
sys.stdout.flush()
"""


def run_on_pty(mode: str) -> bytes:
    master, slave = os.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdin=slave,
                                 stdout=slave, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + 30
        while b"ICANON=" not in out or not out.endswith(b"\n"):
            assert time.monotonic() < deadline, out
            if select.select([master], [], [], 1)[0]:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
        child.wait(timeout=30)
        return out
    finally:
        os.close(master)


def test_after_a_detach_the_terminal_is_as_it_was() -> None:
    out = run_on_pty("detached")
    tail = out.split(b"\x1b[?1000h", 1)[1]
    assert tail.startswith(tty.LEAVE_ALTERNATE + tty.RESET)
    assert b"\x1b[?25h" in tty.RESET and b"\x1b[?1000l" in tty.RESET
    assert b"ICANON=1" in out  # cooked again, as before


def test_after_an_exit_the_alternate_screen_is_not_touched() -> None:
    # A program that ended restored its own screen; leaving the alternate screen again
    # would move the cursor.
    out = run_on_pty("ended")
    tail = out.split(b"\x1b[?1000h", 1)[1]
    assert tail.startswith(tty.RESET) and tty.LEAVE_ALTERNATE not in tail


def test_left_running_asks_the_probe_and_never_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tty.left_running([sys.executable, "-c", "print('true')"])
    assert not tty.left_running([sys.executable, "-c", "print('false')"])
    assert not tty.left_running(["/nonexistent/podman"])
    assert not tty.left_running(None)
    monkeypatch.setattr(tty, "PROBE_TIMEOUT", 0.5)
    started = time.monotonic()
    assert not tty.left_running([sys.executable, "-c", "import time; time.sleep(30)"])
    assert time.monotonic() - started < 10
