"""When Podman is missing, hangs, or answers garbage: one line, exit 2, no traceback.

Real Podman cannot be made to hang or print nonsense on demand, so these inject the
fault with a stand-in executable named by the ``sandbox.podman`` setting.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import script


def stand_in(tmp_path: Path, body: str) -> str:
    path = tmp_path / "podman"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def wrapix(*args: str, podman: str, timeout: str = "1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WRAPIX_SANDBOX__PODMAN": podman,
           "WRAPIX_SANDBOX__COMMAND_TIMEOUT": timeout}
    return subprocess.run([script("wrapix"), *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


@pytest.mark.parametrize("args", [("ls",), ("run", "--detach", "."), ("stop", "x")])
def test_podman_missing(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = wrapix(*args, podman=str(tmp_path / "no-podman-here"))
    assert done.returncode == 2
    assert "is not installed" in done.stderr and "apt install podman" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_podman_hanging_is_bounded(tmp_path: Path) -> None:
    started = time.monotonic()
    done = wrapix("ls", podman=stand_in(tmp_path, "exec sleep 60"))
    assert time.monotonic() - started < 10
    assert done.returncode == 2
    assert "did not answer within 1s" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_podman_garbage(tmp_path: Path) -> None:
    done = wrapix("ls", podman=stand_in(tmp_path, "echo '<html>oops</html>'"))
    assert done.returncode == 1
    assert "not JSON" in done.stderr and "Traceback" not in done.stderr


def test_error_text_from_a_tool_cannot_drive_the_terminal(tmp_path: Path) -> None:
    # A "podman" whose error output carries escape sequences and a newline.
    done = wrapix("ls", podman=stand_in(tmp_path, "printf 'bad\\033]0;owned\\007\\nmore' >&2;"
                                                  " exit 3"))
    assert done.returncode == 1
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert done.stderr.count("\n") == 1  # still one line
    assert "\\x1b]0;owned" in done.stderr


def test_listed_labels_cannot_drive_the_terminal(tmp_path: Path) -> None:
    # `wrapix ls --others` shows any container's labels; a workspace path is any name.
    item = {"Id": "1", "Names": ["web"], "State": "running", "Image": "x",
            "Labels": {"wrapix.profile": "p\u001b]0;owned\u0007",
                       "wrapix.workspace": "/w/\u001b[2Jproj"}}
    body = f"cat <<'EOF'\n{json.dumps([item])}\nEOF"
    done = wrapix("ls", "--others", podman=stand_in(tmp_path, body))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b]0;owned" in done.stdout
