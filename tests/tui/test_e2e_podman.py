"""wrapix-tui driven like a person, in tmux, against real rootless Podman (mandatory in CI).

Each screen a test waits for is also written to ``$TUI_E2E_CAPTURES/<name>.txt`` when
that variable is set, so a run can show what a person would have seen.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import podman_env
from tests.support.cli import script
from tests.support.tmux import Tmux, shell_env
from wrapix_core.sandbox import naming

pytestmark = [pytest.mark.podman, pytest.mark.tmux, pytest.mark.slow]

SHELL_IMAGE = "localhost/wrapix-test-busybox-sh:latest"


@pytest.fixture(scope="session")
def shell_image(podman: str, busybox_image: str) -> str:
    """The busybox test image with ``sh`` as its command (an imported image has none),
    so a sandbox started from the TUI's modal runs a shell to attach to."""
    if podman_env.image_exists(podman, SHELL_IMAGE):
        return SHELL_IMAGE
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "Containerfile").write_text(f'FROM {busybox_image}\nCMD ["sh"]\n')
        subprocess.run([podman, "build", "--pull=never", "-q", "-t", SHELL_IMAGE, tmp],
                       check=True, capture_output=True, timeout=300)
    return SHELL_IMAGE


def row_of(screen: str, name: str) -> str:
    """The sandbox table's line for ``name`` (not a toast that mentions it), or ""."""
    pattern = re.compile(rf"^│\s+(✓\s+)?{re.escape(name)}\s")
    return next((line for line in screen.splitlines() if pattern.match(line)), "")


def capture(name: str, screen: str) -> None:
    folder = os.environ.get("TUI_E2E_CAPTURES")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.txt").write_text(screen)


@dataclass
class Tui:
    tmux: Tmux
    workspace: Path
    env: dict[str, str]

    def wait(self, text: str, timeout: float = 30.0, *, shot: str | None = None,
             absent: bool = False) -> str:
        screen = self.tmux.wait_for(text, timeout=timeout, absent=absent)
        if shot:
            capture(shot, screen)
        return screen

    def wait_row(self, name: str, text: str, timeout: float = 30.0, *,
                 shot: str | None = None) -> str:
        """Poll the screen (a terminal has no change notification) until the row of
        ``name`` shows ``text``; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.tmux.screen()
            if text in row_of(screen, name):
                if shot:
                    capture(shot, screen)
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"the row of {name} never showed {text!r}:\n{screen}")
            time.sleep(0.05)

    def wrapix(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script("wrapix"), *args], capture_output=True, text=True,
                              env=self.env, cwd=self.workspace, timeout=180, check=True)


def wrapix_vars() -> dict[str, str]:
    """The per-test wrapix directories (tests/conftest.py) for the TUI and the CLI, and
    the trust opt-out: these tests write the project's wrapix.toml themselves."""
    return {k: v for k, v in os.environ.items() if k.startswith("WRAPIX_")
            and (k.endswith("_DIR") or k == "WRAPIX_TRUST_PROJECTS")}


@pytest.fixture
def tui_factory(tmp_path: Path, podman: str) -> Iterator[object]:
    tuis: list[Tui] = []

    def start(image: str) -> Tui:
        workspace = tmp_path / "proj"
        workspace.mkdir()
        (workspace / "wrapix.toml").write_text(
            f'[sandbox]\nprofile = "shell"\n\n[profiles.shell]\nbase = "none"\n'
            f'image = "{image}"\n')
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WRAPIX_")},
               **wrapix_vars(), "WRAPIX_NOTIFY__BACKEND": "none"}
        tmux = Tmux(120, 40)
        # A shell runs the TUI, so the terminal can be checked after the TUI exits.
        tmux.start("bash --norc --noprofile", env=shell_env({**wrapix_vars(),
                                                            "WRAPIX_NOTIFY__BACKEND": "none"}),
                   cwd=str(workspace))
        tui = Tui(tmux, workspace, env)
        tuis.append(tui)
        tmux.wait_for("$")
        tmux.type(f"{script('wrapix-tui')} {workspace}; echo tui-exit=$?")
        tmux.send("Enter")
        tui.wait("notify: daemon hosted here")
        tui.wait("Sandboxes (0)", shot="01-dashboard-empty")
        return tui

    yield start
    for tui in tuis:
        tui.tmux.close()
        name = naming.container_name(tui.workspace.resolve())
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)


def test_supervise_a_real_sandbox(tui_factory: object, shell_image: str) -> None:
    tui: Tui = tui_factory(shell_image)  # type: ignore[operator]
    tmux = tui.tmux
    name = naming.container_name(tui.workspace.resolve())
    screen = tui.wait("podman ")
    assert "not installed" not in screen

    # New sandbox from the modal: the project's profile is preselected.
    tmux.send("n")
    tui.wait("New sandbox")
    tui.wait("shell", shot="02-new-sandbox-modal")
    tmux.send("C-s")
    tui.wait(f"Started {name}", timeout=90)
    screen = tui.wait_row(name, "running", shot="03-dashboard-running")
    assert "shell" in row_of(screen, name)  # its profile

    # Attach: the detach keys are shown, the sandbox gets the terminal, detach comes back.
    tmux.send("a")
    tui.wait("detach with ctrl-p,ctrl-q", shot="04-attach-intro")
    tmux.send("Enter")
    tmux.type("echo inside-$((6*7))")
    tmux.send("Enter")
    tui.wait("inside-42", shot="05-attached")
    # Two keystrokes, as a person types them: Podman 4.3 does not detach when both
    # bytes arrive in one read (one send-keys call), whoever runs `podman attach`.
    tmux.send("C-p")
    tmux.send("C-q")
    screen = tui.wait(f"Detached from {name}", shot="06-back-after-detach")
    lines = screen.splitlines()
    assert lines[0].lstrip().startswith("wrapix") and "Quit" in lines[-1]
    assert name in screen and "inside-42" not in screen  # redrawn whole
    # Keys reach the app at once after coming back (no raw mode or lost keypress).
    tmux.send("?")
    tui.wait("wrapix-tui keys")
    tmux.send("Escape")
    tui.wait("wrapix-tui keys", absent=True)

    # Shell: bash when the image has it, sh here.
    tmux.send("s")
    tui.wait("exit` returns to wrapix-tui")
    tmux.type("echo shell-$((2*3)) in $(pwd)")
    tmux.send("Enter")
    tui.wait("shell-6 in /workspace", shot="07-shell")
    tmux.type("exit")
    tmux.send("Enter")
    tui.wait(f"Left the shell in {name}", shot="07b-back-from-shell")

    # Logs follow the sandbox's terminal output.
    tmux.send("l")
    tui.wait(f"Logs · {name}")
    tui.wait("inside-42", shot="08-logs")
    tui.wait("following")
    tmux.send("Escape")
    tui.wait("Sandboxes (")

    # Stop from the confirmation modal; the row changes (it stays, as stopped).
    tmux.send("x")
    tui.wait(f"Stop {name}?", shot="09-stop-confirm")
    tmux.send("y")
    tui.wait_row(name, "exited", timeout=60, shot="10-stopped")
    listed = tui.wrapix("ls", "--all", "--json").stdout
    assert '"exited"' in listed or '"stopped"' in listed

    # Quit: the shell gets a sane terminal back.
    tmux.send("q")
    tui.wait("tui-exit=0")
    tmux.type("echo typed-$((1+1))")
    tmux.send("Enter")
    tui.wait("typed-2", shot="11-terminal-after-quit")


def test_notify_from_inside_the_sandbox_updates_inbox_and_row(tui_factory: object,
                                                              wrapix_image: str) -> None:
    tui: Tui = tui_factory(wrapix_image)  # type: ignore[operator]
    tmux = tui.tmux
    # Started by the CLI (the same core), after the TUI hosts the daemon, so the sandbox
    # gets the notify socket.
    started = tui.wrapix("run", "--detach", "--json", "--image", wrapix_image,
                         str(tui.workspace), "--", "sleep", "600")
    assert '"name"' in started.stdout
    name = naming.container_name(tui.workspace.resolve())
    tui.wait(name, timeout=60)
    podman = podman_env.require_podman()
    subprocess.run([podman, "exec", name, "wrapix-notify", "Claude is waiting",
                    "[b]approve?[/b]"], check=True, capture_output=True, timeout=60)
    screen = tui.wait("Inbox (1 unread)")
    assert "Claude is waiting" in screen and "[b]approve?[/b]" in screen
    screen = tui.wait_row(name, "●", shot="12-notified")  # the agent is waiting
    assert " 1 " in row_of(screen, name)  # one unread
    tmux.send("2", "r")
    tui.wait("Inbox (1 unread)", absent=True)
