"""Focus-aware suppression against a real tmux server (and a stand-in niri)."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.notify.conftest import make_daemon, next_entry, send
from tests.notify.tmux_server import TmuxServer
from wrapix_core.notify.backends import NotifySend, PopupRunner
from wrapix_core.notify.focus import FocusChecker
from wrapix_core.notify.sessions import register_session
from wrapix_core.notify.windows import NiriProbe

pytestmark = pytest.mark.tmux


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[TmuxServer]:
    """Session ``main``, window 0 with panes 0 (inactive) and 1 (active), a client attached."""
    server = TmuxServer(tmp_path)
    server.start()
    server("split-window", "-t", "main:0")
    server.attach()
    try:
        yield server
    finally:
        server.close()


def fake_program(directory: Path, name: str, body: str) -> str:
    """A stand-in executable (niri and notify-send are not installed here)."""
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def registered(tmux: TmuxServer, session_id: str, window: str | None = None) -> str:
    register_session(session_id, window, tmux_socket=tmux.socket)
    return session_id


async def test_the_active_pane_of_an_attached_session_is_in_view(tmux: TmuxServer) -> None:
    checker = FocusChecker(window_probe=None)
    result = await checker.check(registered(tmux, "main:0.1"))
    assert result.focused, result.reason
    assert "no window manager" in result.reason


async def test_an_inactive_pane_is_not(tmux: TmuxServer) -> None:
    result = await FocusChecker(window_probe=None).check(registered(tmux, "main:0.0"))
    assert not result.focused and result.reason == "tmux pane not active"


async def test_a_pane_in_an_inactive_window_is_not(tmux: TmuxServer) -> None:
    tmux("new-window", "-t", "main")
    result = await FocusChecker(window_probe=None).check(registered(tmux, "main:0.1"))
    assert not result.focused and result.reason == "tmux window not active"


async def test_a_detached_session_is_not(tmux: TmuxServer) -> None:
    tmux("new-session", "-d", "-s", "other")
    result = await FocusChecker(window_probe=None).check(registered(tmux, "other:0.0"))
    assert not result.focused and result.reason == "tmux session not attached"


async def test_unknown_cases_show_the_popup(tmux: TmuxServer, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    checker = FocusChecker(window_probe=None)
    assert (await checker.check(None)).reason == "no session id"
    assert "not registered" in (await checker.check("main:0.1")).reason
    assert (await checker.check("bad\nid")).reason == "invalid session id"
    assert "no tmux pane" in (await checker.check(registered(tmux, "main:7.0"))).reason
    register_session("gone:0.0", None, tmux_socket=str(tmp_path / "no-server"))
    assert "tmux could not tell" in (await checker.check("gone:0.0")).reason
    monkeypatch.setenv("WRAPIX_NOTIFY_ALWAYS", "1")
    result = await checker.check(registered(tmux, "main:0.1"))
    assert not result.focused and result.reason == "WRAPIX_NOTIFY_ALWAYS=1"


@pytest.mark.parametrize(("niri_says", "window", "focused", "why"), [
    ('{"id": 7, "app_id": "foot", "is_focused": true}', "7", True, "window 7 focused"),
    ('{"id": 7, "app_id": "firefox"}', "8", False, "focus is on 7"),
    ("null", "7", False, "focus is on None"),
    ('{"id": 7}', None, False, "no niri window registered"),
    ("not json", "7", False, "niri could not tell"),
])
async def test_niri_must_focus_the_registered_window(
        tmux: TmuxServer, tmp_path: Path, niri_says: str, window: str | None,
        focused: bool, why: str) -> None:
    niri = fake_program(tmp_path, "niri", f"echo '{niri_says}'")
    checker = FocusChecker(window_probe=NiriProbe(niri))
    result = await checker.check(registered(tmux, "main:0.1", window))
    assert (result.focused, why in result.reason) == (focused, True), result.reason


async def test_a_hung_niri_costs_about_a_second(tmux: TmuxServer, tmp_path: Path) -> None:
    niri = fake_program(tmp_path, "niri", "exec sleep 30")
    checker = FocusChecker(window_probe=NiriProbe(niri))
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await checker.check(registered(tmux, "main:0.1", "7"))
    assert not result.focused and "did not finish" in result.reason
    assert loop.time() - start < 3


# -- end to end through the daemon, with a stand-in notify-send --------------------------

@pytest.fixture
async def popups(tmp_path: Path) -> AsyncIterator[tuple[PopupRunner, Path]]:
    record = tmp_path / "popups.jsonl"
    notify_send = fake_program(
        tmp_path, "notify-send",
        f'exec {sys.executable} -c "import json,sys; '
        f"open('{record}','a').write(json.dumps(sys.argv[1:])+chr(10))\" \"$@\"")
    runner = PopupRunner(NotifySend(executable=notify_send))
    yield runner, record
    await runner.aclose()


async def test_daemon_suppresses_only_for_the_pane_in_view(
        tmux: TmuxServer, popups: tuple[PopupRunner, Path],
        caplog: pytest.LogCaptureFixture) -> None:
    runner, record = popups
    caplog.set_level(logging.INFO, logger="wrapix")
    async with make_daemon(popups=runner, focus=FocusChecker(window_probe=None),
                           verbose=True) as daemon:
        entries = daemon.subscribe()
        registered(tmux, "main:0.1")
        registered(tmux, "main:0.0")
        lines = [{"title": "Claude", "message": "in view", "session_id": "main:0.1"},
                 {"title": "\x1b]0;pwned\x07Claude", "message": "<b>look</b> elsewhere",
                  "session_id": "main:0.0"},
                 {"title": "Claude", "message": "no session"}]
        for line in lines:
            await send(daemon.socket_path, json.dumps(line).encode() + b"\n")
        got = {e.message: e for e in [await next_entry(entries) for _ in lines]}
        assert got["in view"].popup == "suppressed"
        assert got["<b>look</b> elsewhere"].popup == "shown"
        assert got["<b>look</b> elsewhere"].reason == "tmux pane not active"
        assert got["no session"].popup == "shown"
        await runner.aclose()
    decisions = [r.getMessage() for r in caplog.records if "from main:0." in r.getMessage()]
    assert any(m.startswith("suppressed 'Claude' from main:0.1") for m in decisions)
    assert any(m.startswith("shown") and "main:0.0" in m for m in decisions)
    shown = [json.loads(line) for line in record.read_text().splitlines()]
    assert sorted(shown) == sorted([
        ["--app-name=wrapix", "--", "\\e]0;pwned\\x07Claude", "&lt;b&gt;look&lt;/b&gt; elsewhere"],
        ["--app-name=wrapix", "--", "Claude", "no session"]])
