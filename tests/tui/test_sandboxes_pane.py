"""Pilot tests of the Sandboxes pane against the core with a fake runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from wrapix_core.sandbox.errors import (
    RuntimeFailed,
    RuntimeGarbage,
    RuntimeHung,
    RuntimeMissing,
)
from wrapix_tui.app import WrapixApp
from wrapix_tui.sandbox_rows import COLUMNS
from wrapix_tui.screens.confirm import ConfirmScreen
from wrapix_tui.widgets.sandboxes import SandboxesPane

MakeApp = Callable[..., WrapixApp]


def rows(app: WrapixApp) -> dict[str, dict[str, str]]:
    """Per row shown: each column's cell as plain text."""
    table = app.dashboard.sandboxes.table
    return {name: {key: getattr(table.cell(name, key), "plain", table.cell(name, key))
                   for key, _label in COLUMNS}
            for name in table.names()}


def state(app: WrapixApp, name: str) -> str:
    return rows(app)[name]["state"]


def toasts(app: WrapixApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def started(pilot: object, app: WrapixApp, count: int) -> SandboxesPane:
    await wait_until(pilot, lambda: app.core is not None
                     and app.dashboard.sandboxes.state.listed
                     and len(app.dashboard.sandboxes.table.names()) == count,  # type: ignore[arg-type]
                     what=f"{count} rows")
    return app.dashboard.sandboxes


async def test_rows_show_running_sandboxes_and_the_toggle_shows_the_rest(
        make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items.update({i.name: i for i in (
        sandbox("wrapix-a", profile="rust"), sandbox("wrapix-old", state="exited"),
        sandbox("postgres", wrapix=False))})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await started(pilot, app, 1)
        row = rows(app)["wrapix-a"]
        assert (row["name"], row["state"], row["profile"], row["workspace"]) == (
            "wrapix-a", "running", "rust", "/home/alice/src/proj")
        assert "podman 4.3.1" in str(app.dashboard.header.query_one("#runtime-status")
                                     .render())
        await pilot.press("A")
        assert set(rows(app)) == {"wrapix-a", "wrapix-old", "postgres"}
        assert "all containers" in str(pane.border_title)
        await pilot.press("A")
        assert set(rows(app)) == {"wrapix-a"}


async def test_rows_follow_events_and_bursts_are_coalesced(make_app: MakeApp,
                                                            fake: FakeRuntime) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app, 0)
        listings = sum(1 for call in fake.calls if call[0] == "containers")
        fake.items["wrapix-new"] = sandbox("wrapix-new")
        fake.emit("create", "wrapix-new")
        fake.emit("start", "wrapix-new")
        await wait_until(pilot, lambda: "wrapix-new" in rows(app), what="new row")
        # A stop shows at once from the event itself, before any listing.
        fake.calls.clear()
        fake.items["wrapix-new"] = sandbox("wrapix-new", state="exited")
        fake.emit("died", "wrapix-new", exit_code=0)
        await wait_until(pilot, lambda: state(app, "wrapix-new") == "exited")
        # A burst of 60 events costs a couple of listings, not 60.
        fake.calls.clear()
        for _ in range(30):
            fake.emit("start", "wrapix-new")
            fake.emit("died", "wrapix-new")
        pane = app.dashboard.sandboxes
        await wait_until(pilot, lambda: fake._queue is not None and fake._queue.empty()
                         and not pane.refresh_pending,
                         what="the burst to settle")
        burst_listings = sum(1 for call in fake.calls if call[0] == "containers")
        assert 1 <= burst_listings <= 3, burst_listings
        assert listings >= 1


async def test_stats_only_for_visible_running_rows_and_paused_when_unseen(
        make_app: MakeApp, fake: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    import wrapix_tui.widgets.sandbox_stats as module

    monkeypatch.setattr(module, "STATS_INTERVAL", 0.05)
    for index in range(40):
        fake.items[f"wrapix-{index:02d}"] = sandbox(f"wrapix-{index:02d}")
    fake.items["wrapix-zz-stopped"] = sandbox("wrapix-zz-stopped", state="exited")
    fake.stats_values["wrapix-00"] = (12.5, 300 * 1024 * 1024)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, app, 40)

        def sampled() -> list[list[str]]:
            return [call[1] for call in fake.calls if call[0] == "stats_names"]

        def on_screen() -> list[str]:
            rows_shown = pane.table.scrollable_content_region.height - 1  # minus header
            return [f"wrapix-{i:02d}" for i in range(rows_shown)]

        await wait_until(pilot, lambda: sampled() and sampled()[-1] == on_screen(),
                         what="a stats sample of the rows on screen")
        assert 0 < len(on_screen()) < 40
        running = {f"wrapix-{i:02d}" for i in range(40)}
        assert all(set(names) <= running and len(names) < 40 for names in sampled())
        await wait_until(pilot, lambda: (rows(app)["wrapix-00"]["cpu"],
                                          rows(app)["wrapix-00"]["mem"]) == ("12.5%", "300M"))
        # Behind a modal: no sampling.
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        fake.calls.clear()
        await pilot.pause(0.3)
        assert sampled() == []
        await pilot.press("n")
        await wait_until(pilot, lambda: sampled(), what="sampling to resume")
        # Unfocused terminal, or suspended: none either.
        app.app_focus = False
        await pilot.pause(0.1)
        fake.calls.clear()
        await pilot.pause(0.3)
        assert sampled() == []
        app.app_focus = True
        app.suspended = True
        await pilot.pause(0.1)
        fake.calls.clear()
        await pilot.pause(0.3)
        assert sampled() == []
        app.suspended = False
        # Another pane maximised hides this one: none.
        await pilot.press("2", "z")
        assert app.screen.maximized is app.dashboard.inbox
        await pilot.pause(0.1)
        fake.calls.clear()
        await pilot.pause(0.3)
        assert sampled() == []


async def test_stop_asks_first_and_the_row_changes(make_app: MakeApp,
                                                   fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app, 1)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Stop wrapix-a?" in str(app.screen.query_one("#question").render())
        await pilot.press("n")  # no: nothing happens
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert ("stop_name", "wrapix-a") not in fake.calls
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: state(app, "wrapix-a") == "exited")
        assert ("stop_name", "wrapix-a") in fake.calls
        await wait_until(pilot, lambda: "Stopped wrapix-a." in toasts(app))


async def test_marked_rows_share_one_action_with_progress_shown(make_app: MakeApp,
                                                                fake: FakeRuntime) -> None:
    for name in ("wrapix-a", "wrapix-b", "wrapix-c"):
        fake.items[name] = sandbox(name)
    hold = fake.hold["restart"] = asyncio.Event()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await started(pilot, app, 3)
        await pilot.press("space", "space")  # marks a and b (the cursor moves down)
        assert pane.state.marked == {"wrapix-a", "wrapix-b"}
        assert rows(app)["wrapix-a"]["mark"] == "✓"
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        body = " ".join(str(s.render()) for s in app.screen.query("#targets Static"))
        assert "wrapix-a" in body and "wrapix-b" in body and "wrapix-c" not in body
        await pilot.press("y")
        await wait_until(pilot, lambda: state(app, "wrapix-a") == "restarting")
        assert state(app, "wrapix-c") == "running"
        hold.set()
        await wait_until(pilot, lambda: state(app, "wrapix-b") == "running")
        assert {c[1] for c in fake.calls if c[0] == "restart_name"} == {"wrapix-a", "wrapix-b"}
        assert pane.state.marked == set()


async def test_remove_of_a_running_sandbox_forces_and_the_row_goes(
        make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app, 1)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        body = " ".join(str(s.render()) for s in app.screen.query("#targets Static"))
        assert "stopped first" in body
        await pilot.press("y")
        await wait_until(pilot, lambda: "wrapix-a" not in rows(app))
        assert ("remove_name", ("wrapix-a", True)) in fake.calls


async def test_a_failing_action_is_a_toast_and_the_app_goes_on(make_app: MakeApp,
                                                               fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    fake.fail["stop"] = RuntimeFailed("`podman stop` failed: permission denied")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app, 1)
        await pilot.press("x", "y")
        await wait_until(pilot, lambda: any("permission denied" in t for t in toasts(app)))
        await wait_until(pilot, lambda: state(app, "wrapix-a") == "running")
        assert app.is_running


@pytest.mark.parametrize(("error", "header"), [
    (RuntimeHung("podman did not answer within 30s (`podman ps`)",
                 "check `podman info`"), "not answering"),
    (RuntimeGarbage("podman answered `podman info` with something that is not JSON: 'x'",
                    "check `podman info` by hand"), "not answering"),
])
async def test_a_hung_or_garbled_runtime_is_a_banner(make_app: MakeApp, fake: FakeRuntime,
                                                     error: Exception, header: str) -> None:
    fake.fail["caps"] = error  # type: ignore[assignment]
    fake.fail["containers"] = error  # type: ignore[assignment]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.dashboard.banner
        await wait_until(pilot, lambda: banner.display and "podman" in banner.problems)
        assert str(error) in banner.problems["podman"]
        assert header in str(app.dashboard.header.query_one("#runtime-status").render())
        await pilot.press("A", "o")  # still responsive
        assert app.is_running


async def test_without_podman_the_pane_says_how_to_install_it(make_app: MakeApp,
                                                              fake: FakeRuntime) -> None:
    missing = RuntimeMissing("podman (podman) is not installed",
                             "install rootless Podman (Debian: apt install podman runc "
                             "uidmap slirp4netns) or set sandbox.podman to its path")
    fake.fail.update(caps=missing, containers=missing, events=missing)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        note = app.dashboard.sandboxes.query_one("#sandbox-note")
        await wait_until(pilot, lambda: "apt install podman" in str(note.render()))
        status = app.dashboard.header.query_one("#runtime-status")
        # The header hears it through the app (a message of its own): a frame later.
        await wait_until(pilot, lambda: "not installed" in str(status.render()))
        assert "events" not in app.dashboard.banner.problems  # said once, in the pane
        await wait_until(pilot, lambda: app.dashboard.inbox.following)  # the rest works


async def test_a_dropped_event_stream_is_a_banner_until_it_reconnects(
        make_app: MakeApp, fake: FakeRuntime) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app, 0)
        fake.drop_stream("podman events failed: boom")
        banner = app.dashboard.banner
        await wait_until(pilot, lambda: "events" in banner.problems)
        assert "boom" in banner.problems["events"] and "retrying" in banner.problems["events"]
        fake.items["wrapix-late"] = sandbox("wrapix-late")  # started during the gap
        fake.reconnect()
        await wait_until(pilot, lambda: "events" not in banner.problems)
        await wait_until(pilot, lambda: "wrapix-late" in rows(app))


async def test_filter_and_sort(make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items.update({i.name: i for i in (
        sandbox("wrapix-alpha", profile="rust"), sandbox("wrapix-beta", profile="python"),
        sandbox("wrapix-gamma", profile="base"))})
    fake.stats_values.update({"wrapix-alpha": (5.0, 1), "wrapix-beta": (50.0, 2),
                              "wrapix-gamma": (20.0, 3)})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await started(pilot, app, 3)
        await pilot.press("slash", *"pyth")
        await wait_until(pilot, lambda: set(rows(app)) == {"wrapix-beta"})
        assert "filter: pyth" in str(pane.border_title)
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(rows(app)) == 3)
        assert app.focused is pane.table

        def order() -> list[str]:
            return [str(r.key.value) for r in pane.table.ordered_rows]

        assert order() == ["wrapix-alpha", "wrapix-beta", "wrapix-gamma"]
        await pilot.press("o")  # the next column
        assert pane.sort_column == "state" and "by state" in str(pane.border_title)
        pane.action_sort("profile")
        await pilot.pause()
        assert order() == ["wrapix-gamma", "wrapix-beta", "wrapix-alpha"]
        await pilot.press("O")
        assert order() == ["wrapix-alpha", "wrapix-beta", "wrapix-gamma"]
        pane.state.stats.update({n: __import__("wrapix_core.sandbox.runtime", fromlist=["x"])
                           .ContainerStats(n, *fake.stats_values[n]) for n in fake.stats_values})
        pane.action_sort("cpu")
        await pilot.pause()
        assert order() == ["wrapix-alpha", "wrapix-gamma", "wrapix-beta"]
        pane.action_sort("cpu")  # same column again: reversed
        await pilot.pause()
        assert order() == ["wrapix-beta", "wrapix-gamma", "wrapix-alpha"]


async def test_header_click_sorts(make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items.update({i.name: i for i in (
        sandbox("wrapix-a", profile="zeta"), sandbox("wrapix-b", profile="alpha"))})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await started(pilot, app, 2)
        table = pane.table
        columns = list(table.columns.values())
        index = [str(c.key.value) for c in columns].index("profile")
        x = sum(c.get_render_width(table) for c in columns[:index]) + 1
        await pilot.click("#sandbox-table", offset=(x, 0))
        await wait_until(pilot, lambda: pane.sort_column == "profile")
        assert [str(r.key.value) for r in pane.table.ordered_rows] == ["wrapix-b", "wrapix-a"]


async def test_attach_and_shell_need_a_running_sandbox_and_a_real_terminal(
        make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    fake.items["wrapix-old"] = sandbox("wrapix-old", state="exited")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await started(pilot, app, 1)
        await pilot.press("a")
        # Pilot's headless driver cannot hand its terminal over; the tmux end-to-end
        # tests do the real attach. Here: it says so instead of crashing or hanging.
        await wait_until(pilot, lambda: any("cannot be handed over" in t
                                            for t in toasts(app)))
        assert not app.suspended
        await pilot.press("s")
        await wait_until(pilot, lambda: sum("cannot be handed over" in t
                                            for t in toasts(app)) == 2)
        pane.show_all = True
        pane.select("wrapix-old")
        await pilot.press("a")
        await wait_until(pilot, lambda: any("wrapix-old is not running" in t
                                            for t in toasts(app)))


async def test_untrusted_labels_are_shown_literally(make_app: MakeApp, fake: FakeRuntime,
                                                    tmp_path: Path) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a", profile="[bold]x[/bold]\x1b[31m",
                                     workspace="/w/[link=http://e]y[/link]")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app, 1)
        table = app.dashboard.sandboxes.table
        profile = table.cell("wrapix-a", "profile")
        assert profile.plain == "[bold]x[/bold]\\e[31m" and not profile.spans
        assert table.cell("wrapix-a", "workspace").plain == "/w/[link=http://e]y[/link]"


async def test_stats_slow_down_when_nobody_is_at_the_keyboard_and_a_key_wakes_them(
        make_app: MakeApp, fake: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    import wrapix_tui.app as app_module
    import wrapix_tui.widgets.sandbox_stats as module

    monkeypatch.setattr(module, "STATS_INTERVAL", 0.05)
    monkeypatch.setattr(module, "IDLE_STATS_INTERVAL", 30.0)
    monkeypatch.setattr(app_module, "IDLE_AFTER", 1.0)
    for index in range(3):
        fake.items[f"wrapix-{index:02d}"] = sandbox(f"wrapix-{index:02d}")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app, 3)

        def samples() -> int:
            return sum(1 for call in fake.calls if call[0] == "stats_names")

        await pilot.press("down")  # in use (start-up may have taken longer than IDLE_AFTER)
        await wait_until(pilot, lambda: samples() >= 3, what="samples at the active pace")
        await wait_until(pilot, lambda: app.idle_for() > 1.2, what="idle")
        await pilot.pause(0.2)  # the sample in flight when idleness began
        idle_from = samples()
        await pilot.pause(0.6)
        assert samples() == idle_from  # the next one is 30 s away
        await pilot.press("down")  # someone is back: a sample at once, then the 2 s pace
        await wait_until(pilot, lambda: samples() >= idle_from + 3, timeout=3,
                         what="stats to resume at the active pace")
