"""Fixtures for the TUI tests: a workspace, a fake runtime, the app wired to both."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.fake_runtime import T0, FakeRuntime
from wrapix_tui.app import WrapixApp


@pytest.fixture(autouse=True)
def quiet_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    """No desktop popups from the daemon the app hosts during tests."""
    monkeypatch.setenv("WRAPIX_NOTIFY__BACKEND", "none")


@pytest.fixture
def home(isolated_wrapix: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own, so paths show as ``~/…`` the same on every machine."""
    path = isolated_wrapix / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


@pytest.fixture
def workspace(home: Path) -> Path:
    path = home / "proj"
    (path / "specs").mkdir(parents=True)
    (path / "specs" / "alpha.md").write_text("# Alpha\n")
    (path / "specs" / "beta.md").write_text("# Beta\n")
    return path


@pytest.fixture
def fake() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def make_app(workspace: Path, fake: FakeRuntime) -> Callable[..., WrapixApp]:
    def make(runtime: FakeRuntime | None = None, *, fixed_clock: bool = False) -> WrapixApp:
        chosen = runtime or fake
        if fixed_clock:
            chosen.now = lambda: T0
        return WrapixApp(workspace, runtime_factory=lambda _settings: chosen,
                         clock=(lambda: T0) if fixed_clock else None)
    return make


# CI runs this half next to the real-Podman half on two cores: a wait there may take
# several times what it takes on a quiet machine. Waits only end early when the thing
# happened, so the headroom costs nothing when it does.
WAIT_SCALE = 3.0 if os.environ.get("WRAPIX_CI") else 1.0


def app_state(app: object) -> str:
    """What the app was showing, for a wait that timed out: the screens, the focus, the
    last notifications (a refused key usually says why there)."""
    from textual.app import App

    if not isinstance(app, App):
        return ""
    screens = " > ".join(type(screen).__name__ for screen in app.screen_stack)
    focused = app.focused
    said = [str(note.message)[:160] for note in list(app._notifications)[-3:]]
    workers = [f"{worker.group}:{worker.state.name}"
               + (f"({worker.error!r})" if worker.error is not None else "")
               for worker in app.workers]
    return (f"\n  screens: {screens}\n  focus: {focused!r}\n  notifications: {said}"
            f"\n  workers: {workers}\n  running: {app.is_running}")


async def wait_until(pilot: Pilot[object], predicate: Callable[[], object],
                     timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until ``predicate()`` holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout * WAIT_SCALE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}"
                                 f"{app_state(pilot.app)}")
        await pilot.pause(0.02)
