"""Pilot tests of the Inbox pane and the notification daemon the app hosts or follows."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from wrapix_core import paths
from wrapix_core.notify.client import build_line, send
from wrapix_core.notify.daemon import DaemonConfig, NotifyDaemon
from wrapix_core.notify.inbox import InboxStore
from wrapix_tui.app import WrapixApp
from wrapix_tui.widgets.inbox import COLUMNS

MakeApp = Callable[..., WrapixApp]


async def notify(title: str, message: str = "", sandbox_name: str | None = None) -> None:
    """What ``wrapix-notify`` does inside a sandbox, over the real socket."""
    env = {"WRAPIX_SANDBOX": sandbox_name} if sandbox_name else {}
    line = build_line(title, message, env=env)
    await asyncio.to_thread(send, line, (socket.AF_UNIX, str(paths.notify_socket())))


def inbox_rows(app: WrapixApp) -> list[tuple[str, ...]]:
    pane = app.dashboard.inbox
    return [tuple(getattr(c, "plain", c) for c in
                  (pane.cell(int(str(row.key.value)), key) for key, _label in COLUMNS))
            for row in pane.table.ordered_rows]


async def test_hosts_the_daemon_and_shows_notifications_live_newest_first(
        make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inbox = app.dashboard.inbox
        await wait_until(pilot, lambda: inbox.following and app.daemon is not None)
        assert paths.notify_socket().exists()
        assert "hosted here" in str(app.dashboard.header.query_one("#notify-status").render())
        await notify("first", "older", "wrapix-a")
        await wait_until(pilot, lambda: len(inbox_rows(app)) == 1)
        await notify("Claude is waiting", "needs your input", "wrapix-a")
        await wait_until(pilot, lambda: len(inbox_rows(app)) == 2)
        first, second = inbox_rows(app)
        assert first[1:4] == ("Claude is waiting", "needs your input", "wrapix-a")
        assert second[1] == "first"
        assert first[0] == "●" and first[5] in ("shown", "skipped", "suppressed")
        assert str(inbox.border_title) == "Inbox (2 unread)"
        # The sandbox row counts them and marks the agent as waiting.
        table = app.dashboard.sandboxes.table
        await wait_until(pilot, lambda: table.cell("wrapix-a", "unread") == "2")
        assert table.cell("wrapix-a", "wait").plain == "●"
    assert not paths.notify_socket().exists()  # the hosted daemon stopped with the app


async def test_mark_read_mark_all_and_jump(make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    fake.items["wrapix-b"] = sandbox("wrapix-b")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inbox = app.dashboard.inbox
        await wait_until(pilot, lambda: inbox.following and app.daemon is not None)
        for index, name in enumerate(["wrapix-a", "wrapix-b", "wrapix-a"]):
            await notify(f"n{index}", "", name)
        await wait_until(pilot, lambda: len(inbox_rows(app)) == 3)
        await pilot.press("2")  # focus the inbox
        assert app.focused is inbox.table
        await pilot.press("r")  # newest (n2, wrapix-a) read
        await wait_until(pilot, lambda: inbox.model.unread == 2)
        assert str(inbox.border_title) == "Inbox (2 unread)"
        store = InboxStore()
        await wait_until(pilot, lambda: sum(not e.read for e in store.load()) == 2,
                         what="the read record in the inbox file")
        sandboxes = app.dashboard.sandboxes
        # wrapix-a: one unread left, but its latest is read, so it is not waiting.
        await wait_until(pilot, lambda: sandboxes.table.cell("wrapix-a", "unread") == "1")
        assert sandboxes.table.cell("wrapix-a", "wait").plain == ""
        # Enter on n1 (wrapix-b) selects wrapix-b in the sandbox pane.
        assert inbox_rows(app)[inbox.table.cursor_row][1] == "n1"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.focused is sandboxes.table)
        assert sandboxes.current() == "wrapix-b"
        await pilot.press("2", "R")
        await wait_until(pilot, lambda: inbox.model.unread == 0)
        assert str(inbox.border_title) == "Inbox"
        await wait_until(pilot, lambda: all(e.read for e in store.load()))


async def test_untrusted_notification_text_is_shown_literally(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.inbox.following and app.daemon)
        await notify("[bold red]pwned[/]", "\x1b[2J\x1b]0;title\x07\u202eevil\nline2",
                     "[link=x]wrapix-a[/link]")
        await wait_until(pilot, lambda: len(inbox_rows(app)) == 1)
        inbox = app.dashboard.inbox
        newest = max(inbox.shown())
        title = inbox.cell(newest, "title")
        assert title.plain == "[bold red]pwned[/]" and not title.spans
        assert inbox.cell(newest, "message").plain == ("\\e[2J\\e]0;title\\x07\\u202eevil"
                                                       "\\nline2")
        assert inbox.cell(newest, "sandbox").plain == "[link=x]wrapix-a[/link]"


async def test_follows_a_running_daemon_instead_of_hosting(make_app: MakeApp) -> None:
    daemon = NotifyDaemon(DaemonConfig(backend="none"))
    await daemon.start()
    try:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            inbox = app.dashboard.inbox
            await wait_until(pilot, lambda: inbox.following)
            assert app.daemon is None
            assert "following" in str(app.dashboard.header.query_one("#notify-status")
                                       .render())
            await notify("from outside", "", None)
            await wait_until(pilot, lambda: len(inbox_rows(app)) == 1)
            await pilot.press("2", "enter")  # names no sandbox: says so
            await wait_until(pilot, lambda: any("names no sandbox" in str(n.message)
                                                for n in app._notifications))
        assert daemon.running  # not ours to stop
    finally:
        await daemon.stop()


async def test_a_socket_it_cannot_take_is_a_banner_and_the_app_goes_on(
        make_app: MakeApp, workspace: Path) -> None:
    long_dir = workspace / ("d" * 60) / ("e" * 60)
    long_dir.mkdir(parents=True)
    (workspace / "wrapix.toml").write_text(f'[notify]\nsocket = "{long_dir}/notify.sock"\n')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.dashboard.banner
        await wait_until(pilot, lambda: "notify" in banner.problems)
        assert "longer than" in banner.problems["notify"]
        assert "not receiving" in str(app.dashboard.header.query_one("#notify-status")
                                      .render())
        await wait_until(pilot, lambda: app.dashboard.inbox.following)  # file still read
        assert app.is_running


async def test_an_empty_inbox_shows_no_scrollbar(make_app: MakeApp) -> None:
    """Issue 14: the empty table's columns are wider than the pane; nothing to scroll."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inbox = app.dashboard.inbox
        await wait_until(pilot, lambda: inbox.following and app.daemon is not None)
        await pilot.pause()
        assert not inbox.table.show_horizontal_scrollbar
        await notify("a title", "a message", "wrapix-a")
        await wait_until(pilot, lambda: len(inbox_rows(app)) == 1)
        await pilot.pause()
        assert inbox.table.show_horizontal_scrollbar  # the wide columns can be scrolled
