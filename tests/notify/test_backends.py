"""Desktop backends: argv, choice, missing programs reported once, bounded popups."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

import pytest

from tests.notify.conftest import eventually
from wrapix_core.notify.backends import (
    NotifySend,
    PopupRunner,
    TerminalNotifier,
    choose_backend,
)
from wrapix_core.notify.protocol import Notification


def test_choice_by_platform_and_setting() -> None:
    assert isinstance(choose_backend("auto", "linux"), NotifySend)
    assert isinstance(choose_backend("auto", "darwin"), TerminalNotifier)
    assert isinstance(choose_backend("terminal-notifier", "linux"), TerminalNotifier)
    assert choose_backend("none", "darwin") is None


def test_popup_text_is_cleaned_and_bounded() -> None:
    note = Notification("-t\x1b[2J" + "x" * 500, "a & <i>b</i>\x00", sound="Ping",
                        session_id="main:0.1")
    argv = NotifySend().argv(note)
    assert argv[:3] == ["notify-send", "--app-name=wrapix", "--"]
    assert argv[3].startswith("-t\\e[2J") and len(argv[3]) == 120
    assert argv[4] == "a &amp; &lt;i&gt;b&lt;/i&gt;\\x00"
    mac = TerminalNotifier().argv(note)
    assert mac[mac.index("-sound") + 1] == "Ping"
    assert mac[mac.index("-group") + 1] == "wrapix-main:0.1"
    assert "\x00" not in "".join(mac)


def test_a_missing_backend_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    """Once, and only at INFO: `wrapix doctor` (and the TUI's start-up check) report it
    with the fix, so it is no warning toast on every start."""
    caplog.set_level(logging.INFO, logger="wrapix")
    runner = PopupRunner(NotifySend(executable="/nonexistent/notify-send"))
    for _ in range(5):
        assert runner.show(Notification("T", "M")) == "/nonexistent/notify-send not found"
    assert caplog.text.count("not found") == 1
    assert "libnotify" in caplog.text
    assert all(record.levelno == logging.INFO for record in caplog.records)


def fake(directory: Path, body: str) -> str:
    path = directory / "notify-send"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def test_popups_do_not_block_and_are_bounded(tmp_path: Path) -> None:
    runner = PopupRunner(NotifySend(executable=fake(tmp_path, "exec sleep 30")),
                         max_in_flight=2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert runner.show(Notification("1", "")) is None
    assert runner.show(Notification("2", "")) is None
    assert runner.show(Notification("3", "")) == "2 popups already in flight"
    assert loop.time() - start < 0.5  # fire and forget
    await runner.aclose()


async def test_a_failing_backend_is_logged_once_as_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    runner = PopupRunner(NotifySend(executable=fake(tmp_path, "echo 'no D-Bus' >&2; exit 1")))
    for _ in range(3):
        runner.show(Notification("T", "M"))
        await eventually(lambda: not runner._tasks)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "no D-Bus" in warnings[0].getMessage()
    await runner.aclose()
