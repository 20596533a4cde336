"""A private tmux server with a real attached client, for focus tests."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest


class TmuxServer:
    """``tmux -S SOCKET -f /dev/null``: never the user's server or configuration."""

    def __init__(self, directory: Path):
        exe = shutil.which("tmux")
        if exe is None:
            pytest.skip("tmux is not installed")
        self.exe = exe
        self.socket = str(directory / "tmux.sock")
        self._clients: list[subprocess.Popen[bytes]] = []

    def __call__(self, *args: str) -> str:
        done = subprocess.run([self.exe, "-S", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=10, check=True)
        return done.stdout

    def start(self, session: str = "main") -> None:
        self("new-session", "-d", "-s", session, "-x", "100", "-y", "30")

    def attach(self, session: str = "main") -> None:
        """Attach a client on a pseudo-terminal, as a person in a terminal would."""
        master, slave = pty.openpty()
        client = subprocess.Popen(
            [self.exe, "-S", self.socket, "attach-session", "-t", session],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color"})
        os.close(slave)
        self._clients.append(client)
        threading.Thread(target=_drain, args=(master,), daemon=True).start()
        deadline = time.monotonic() + 10
        while not self("list-clients", "-t", session).strip():
            if time.monotonic() > deadline:
                raise AssertionError("the tmux client did not attach")
            time.sleep(0.01)

    def close(self) -> None:
        subprocess.run([self.exe, "-S", self.socket, "kill-server"], capture_output=True,
                       timeout=10, check=False)
        for client in self._clients:
            client.kill()
            client.wait(5)


def _drain(fd: int) -> None:
    """Read the client's screen output so it never blocks on a full pty."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
