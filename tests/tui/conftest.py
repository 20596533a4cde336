"""Fixtures for the TUI tests: a workspace, a fake runtime, the app wired to both."""

from __future__ import annotations

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


async def wait_until(pilot: Pilot[object], predicate: Callable[[], object],
                     timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until ``predicate()`` holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)
