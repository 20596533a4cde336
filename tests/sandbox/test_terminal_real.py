"""The person's terminal around a real sandbox, driven in tmux (issue 14 items 5 and 6).

A small full-screen program runs in the sandbox: it switches to the alternate screen,
hides the cursor, turns on mouse tracking and bracketed paste, and (like Node's terminal,
so like Claude Code) draws again on SIGWINCH only when the size really changed.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import script
from tests.support.tmux import Tmux, shell_env
from wrapix_core.sandbox import naming

pytestmark = [pytest.mark.podman, pytest.mark.tmux, pytest.mark.slow]

FULLSCREEN = r"""#!/bin/sh
draw() {
  printf '\033[?1049h\033[?25l\033[?1000h\033[?1006h\033[?2004h'
  printf '\033[2J\033[HFULLSCREEN %s redraw=%s\n' "$(stty size)" "$1"
}
n=0; last=$(stty size)
draw 0
on_winch() { now=$(stty size); [ "$now" = "$last" ] && return; last=$now; n=$((n+1)); draw $n; }
trap on_winch WINCH
while :; do sleep 0.2; done
"""
MODES = "#{alternate_on} #{cursor_flag} #{mouse_any_flag}"
TAKEN = "1 0 1"
"""On the alternate screen, cursor hidden, mouse tracked."""
GIVEN_BACK = "0 1 0"


def wrapix_vars() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("WRAPIX_")}


class Session:
    def __init__(self, workspace: Path, image: str):
        self.workspace, self.image = workspace, image
        self.name = naming.container_name(workspace.resolve())
        self.tmux = Tmux(120, 40)
        self.tmux.start("bash --norc --noprofile", env=shell_env(wrapix_vars()),
                        cwd=str(workspace))
        self.tmux.wait_for("$")
        self.runs = 0

    def modes(self) -> str:
        done = subprocess.run([self.tmux.exe, "-L", self.tmux.socket, "display-message", "-p",
                               "-t", self.tmux.target, MODES], capture_output=True, text=True,
                              timeout=30, check=True)
        return done.stdout.strip()

    def command(self, line: str) -> str:
        """Type ``line`` into the pane's shell; returns the marker its end prints."""
        self.runs += 1
        marker = f"ended-{self.runs}"
        self.tmux.send("C-l")
        self.tmux.type(f"{line}; echo {marker}=$?")
        self.tmux.send("Enter")
        return marker

    def detach(self, marker: str) -> str:
        # Two keystrokes: Podman 4.3 does not detach when both arrive in one read.
        self.tmux.send("C-p")
        time.sleep(0.3)
        self.tmux.send("C-q")
        return self.tmux.wait_for(f"{marker}=0", timeout=60)


@pytest.fixture
def session(tmp_path: Path, podman: str, debian_image: str) -> Iterator[Session]:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    program = workspace / "fullscreen.sh"
    program.write_text(FULLSCREEN)
    program.chmod(0o755)
    made = Session(workspace, debian_image)
    yield made
    made.tmux.close()
    subprocess.run([podman, "rm", "-f", "-t", "0", made.name], capture_output=True,
                   timeout=60, check=False)


def run_foreground(session: Session) -> None:
    marker = session.command(f"{script('wrapix')} run --image {session.image} . -- "
                             "/workspace/fullscreen.sh")
    session.tmux.wait_for("FULLSCREEN", timeout=120)
    assert session.modes() == TAKEN
    screen = session.detach(marker)
    assert session.modes() == GIVEN_BACK, screen
    # The shell reads keys as before (no raw mode left behind).
    session.tmux.type("echo typed-$((20+22))")
    session.tmux.send("Enter")
    session.tmux.wait_for("typed-42")


def test_detaching_from_a_foreground_sandbox_gives_the_terminal_back(
        session: Session, podman: str) -> None:
    run_foreground(session)  # the full launch path (records the launch)
    subprocess.run([podman, "rm", "-f", "-t", "0", session.name], capture_output=True,
                   timeout=60, check=True)
    run_foreground(session)  # the recorded launch: the fast path


def test_attach_draws_the_screen_and_detach_gives_the_terminal_back(
        session: Session, podman: str) -> None:
    subprocess.run([script("wrapix"), "run", "--detach", "--image", session.image,
                    str(session.workspace), "--", "/workspace/fullscreen.sh"],
                   capture_output=True, text=True, timeout=180, check=True,
                   cwd=session.workspace)
    for attach in (1, 2):  # the second at the size the first left: no change to draw on
        marker = session.command(f"{script('wrapix')} attach {session.name}")
        screen = session.tmux.wait_for("FULLSCREEN 40 120", timeout=30)
        assert "redraw=" in screen, f"attach {attach} drew nothing"
        screen = session.detach(marker)
        assert session.modes() == GIVEN_BACK, screen


DRAWS = r"""#!/bin/sh
# A full-screen UI that never writes a newline: it positions the cursor and redraws.
i=0
while :; do
  i=$((i+1))
  printf '\033[?1049h\033[2J\033[1;1H\033]0;pwned-title\007Agent UI'
  printf '\033[3;3H\033[1m> step %s\033[0m\033[5;1H? for shortcuts' "$i"
  sleep 0.3
done
"""


def test_logs_tail_shows_what_a_full_screen_sandbox_drew(tmp_path: Path, podman: str,
                                                          debian_image: str) -> None:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    (workspace / "draws.sh").write_text(DRAWS)
    (workspace / "draws.sh").chmod(0o755)
    name = naming.container_name(workspace.resolve())
    wrapix = [script("wrapix")]
    try:
        subprocess.run([*wrapix, "run", "--detach", "--image", debian_image, str(workspace),
                        "--", "/workspace/draws.sh"], capture_output=True, timeout=180,
                       check=True)
        time.sleep(2)
        # What `podman logs --tail` counts: no newline, so nothing of the screen.
        counted = subprocess.run([podman, "logs", "--tail", "3", name], capture_output=True,
                                 text=True, timeout=60, check=True).stdout
        assert "? for shortcuts" not in counted.splitlines()
        shown = subprocess.run([*wrapix, "logs", "-n", "3", name], capture_output=True,
                               text=True, timeout=60, check=True).stdout.splitlines()
        assert shown[0].startswith("  > step ") and shown[-1] == "? for shortcuts", shown
        assert len(shown) == 3
        assert not any("\x1b" in line or "pwned" in line for line in shown)
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)


def test_a_sandbox_whose_pid_1_ignores_sigterm_stops_at_once(
        session: Session, podman: str, busybox_image: str) -> None:
    """`-- sleep` is PID 1 without an init (catatonit not installed): SIGTERM is ignored,
    so `wrapix stop` does not wait its 10 s for nothing. A foreground sandbox (--rm) is
    gone once stopped: stop says so, and `wrapix rm` explains."""
    wrapix = script("wrapix")
    marker = session.command(f"{wrapix} run --image {busybox_image} . -- sleep 600")
    deadline = time.monotonic() + 120
    while subprocess.run([podman, "container", "inspect", "--format", "{{.State.Running}}",
                          session.name], capture_output=True, text=True, timeout=60,
                         check=False).stdout.strip() != "true":
        assert time.monotonic() < deadline, session.tmux.screen()
        time.sleep(0.2)
    started = time.monotonic()
    stopped = subprocess.run([wrapix, "stop", session.name], capture_output=True, text=True,
                             timeout=60, check=True)
    assert time.monotonic() - started < 6, "stop waited for a SIGTERM nobody handles"
    assert "it is gone" in stopped.stdout and "nothing to `wrapix rm`" in stopped.stdout
    session.tmux.wait_for(f"{marker}=137", timeout=60)  # killed
    removed = subprocess.run([wrapix, "rm", session.name], capture_output=True, text=True,
                             timeout=60, check=False)
    assert removed.returncode == 2 and "gone already" in removed.stderr, removed
