"""Driving a real terminal program through a private tmux server, like a person would.

Each :class:`Tmux` runs its own server (``-L`` socket name), so tests never touch a
user's tmux. ``wait_for`` polls ``capture-pane``: a terminal's screen has no change
notification to subscribe to.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping

import pytest

from tests.support.podman_env import in_ci


def require_tmux() -> str:
    exe = shutil.which("tmux")
    if exe is None:
        if in_ci():
            pytest.fail("tmux is mandatory in CI but not installed", pytrace=False)
        pytest.skip("tmux is not installed")
    return exe


class Tmux:
    def __init__(self, width: int = 120, height: int = 40):
        self.exe = require_tmux()
        self.socket = f"wx-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height
        self.target = "main"

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.exe, "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, check=check)

    def start(self, command: str, env: Mapping[str, str] | None = None,
              cwd: str | None = None) -> None:
        args = ["new-session", "-d", "-s", self.target, "-x", str(self.width),
                "-y", str(self.height)]
        for name, value in (env or {}).items():
            args += ["-e", f"{name}={value}"]
        if cwd:
            args += ["-c", cwd]
        self._tmux(*args, command)
        self._tmux("set-option", "-t", self.target, "remain-on-exit", "on")

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target).stdout

    def wait_for(self, text: str, timeout: float = 20.0, *, absent: bool = False) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if (text in screen) != absent:
                return screen
            time.sleep(0.05)
        state = "still shows" if absent else "never showed"
        raise AssertionError(f"tmux screen {state} {text!r} within {timeout}s:\n{screen}")

    def pane_dead(self) -> bool:
        out = self._tmux("display-message", "-p", "-t", self.target, "#{pane_dead}").stdout
        return out.strip() == "1"

    def close(self) -> None:
        self._tmux("kill-server", check=False)


def shell_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A predictable interactive shell environment for tmux panes."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "USER", "LANG")}
    return {**keep, "PS1": "$ ", "TERM": "xterm-256color", **extra}


@contextlib.contextmanager
def attached(wrapix_env: Mapping[str, str], cwd: str, target: str) -> Iterator[Tmux]:
    """A shell in tmux that ran ``wrapix attach TARGET`` and saw its banner (one Enter
    sent for the prompt inside); the terminal is closed after."""
    from tests.support.cli import script

    tmux = Tmux()
    try:
        tmux.start("bash --norc --noprofile", env=shell_env(
            {k: v for k, v in wrapix_env.items() if k.startswith("WRAPIX_")}), cwd=cwd)
        tmux.wait_for("$")
        tmux.type(f"{script('wrapix')} attach {target}")
        tmux.send("Enter")
        tmux.wait_for("detach with ctrl-p,ctrl-q")
        tmux.send("Enter")
        yield tmux
    finally:
        tmux.close()
