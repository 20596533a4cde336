"""Pilot tests of the modals and screens, the keymap, help, palette, builder and Ralph panes."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, ProgressBar, Select

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from wrapix_core import paths
from wrapix_core.sandbox import naming
from wrapix_tui.app import WrapixApp
from wrapix_tui.messages import BuilderProgress
from wrapix_tui.screens.confirm import ConfirmScreen
from wrapix_tui.screens.help import HelpScreen
from wrapix_tui.screens.logs import MAX_LINES, LogsScreen
from wrapix_tui.screens.new_sandbox import NewSandboxScreen

MakeApp = Callable[..., WrapixApp]

TINY = """
[sandbox]
profile = "tiny"

[profiles.tiny]
base = "none"
image = "{image}"
"""


def toasts(app: WrapixApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def ready(pilot: object, app: WrapixApp) -> None:
    await wait_until(pilot, lambda: app.core is not None  # type: ignore[arg-type]
                     and app.dashboard.sandboxes.state.listed)


async def open_new(pilot: object, app: WrapixApp) -> NewSandboxScreen:
    await pilot.press("n")  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: isinstance(app.screen, NewSandboxScreen))  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, NewSandboxScreen)
    select = screen.query_one("#profile", Select)
    await wait_until(pilot, lambda: select.value == "tiny", what="profiles")  # type: ignore[arg-type]
    return screen


async def test_new_sandbox_validates_then_launches_and_the_row_appears(
        make_app: MakeApp, fake: FakeRuntime, workspace: Path) -> None:
    (workspace / "wrapix.toml").write_text(TINY.format(image="localhost/wrapix-base:latest"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        screen = await open_new(pilot, app)
        select = screen.query_one("#profile", Select)
        assert [str(option[0]) for option in select._options if isinstance(option[1], str)
                ] == ["base", "python", "rust", "tiny"]
        field = screen.query_one("#workspace", Input)
        assert field.value == "~/proj"
        field.value = "~/nope"
        await wait_until(pilot, lambda: "does not exist" in str(
            screen.query_one("#workspace-error").render()))
        await pilot.press("ctrl+s")
        assert app.screen is screen and not any(c[0] == "launch" for c in fake.calls)
        field.value = "~/pro"
        await pilot.press("end", "right")  # → takes the suggested completion
        await wait_until(pilot, lambda: field.value.endswith("/proj"), what="completion")
        await pilot.press("ctrl+s")
        name = naming.container_name(workspace)
        await wait_until(pilot, lambda: not isinstance(app.screen, NewSandboxScreen))
        await wait_until(pilot, lambda: name in app.dashboard.sandboxes.table.names())
        assert app.dashboard.sandboxes.current() == name
        argv = next(c[1] for c in fake.calls if c[0] == "launch_argv")
        assert "-d" in argv and "-t" in argv and "localhost/wrapix-base:latest" in argv
        assert f"wrapix.workspace={workspace}" in argv
        assert f"Started {name}." in toasts(app)


async def test_new_sandbox_shows_core_errors_in_place(make_app: MakeApp, fake: FakeRuntime,
                                                      workspace: Path) -> None:
    (workspace / "wrapix.toml").write_text(TINY.format(image="localhost/nope:1"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        screen = await open_new(pilot, app)
        await pilot.press("ctrl+s")
        status = screen.query_one("#status")
        await wait_until(pilot, lambda: "not available" in str(status.render()))
        assert status.has_class("error") and app.screen is screen and not screen.busy
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, NewSandboxScreen))
        assert not any(c[0] == "launch" for c in fake.calls)


async def test_logs_of_a_full_screen_agent_show_what_it_drew(make_app: MakeApp,
                                                                fake: FakeRuntime) -> None:
    """Issue 14 item 7: a full-screen agent draws with cursor moves and writes (almost)
    no newline; the logs screen shows its screen, inert."""
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    fake.log_lines["wrapix-a"] = [
        "\x1b[?1049h\x1b[2J\x1b[1;1H\x1b]0;pwned-title\x07Claude Code"
        "\x1b[3;3H\x1b[1m> fix the tests\x1b[0m\x1b[5;3H\u202eevil\x1b[40;1H? for shortcuts"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await wait_until(pilot, lambda: "wrapix-a" in app.dashboard.sandboxes.table.names())
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen))
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        await wait_until(pilot, lambda: screen.view.line_count == 4)
        shown = list(screen.view.lines)  # (the log view shows no blank lines)
        # The bidi override is shown, not obeyed; the title never reaches the terminal.
        assert shown == ["Claude Code", "  > fix the tests", "  \\u202eevil",
                         "? for shortcuts"]
        assert not any("\x1b" in line or "pwned" in line for line in shown)


async def test_logs_follow_pause_count_filter_and_bound(make_app: MakeApp,
                                                        fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    fake.log_lines["wrapix-a"] = [f"old line {i}" for i in range(60)] + [
        "\x1b[31mred alert\x1b[0m"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await wait_until(pilot, lambda: "wrapix-a" in app.dashboard.sandboxes.table.names())
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen))
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        view = screen.view
        await wait_until(pilot, lambda: view.line_count == 61)
        # What it drew (all of its output, played), then what it writes from now on.
        assert ("logs_args", ("wrapix-a", False, None)) in fake.calls
        assert ("logs_args", ("wrapix-a", True, 0)) in fake.calls
        assert view.lines[-1] == "red alert"
        assert screen.following and view.is_vertical_scroll_end
        # Scrolling up pauses following; new lines are counted, not jumped to.
        await pilot.press("home")
        await wait_until(pilot, lambda: not screen.following)
        for i in range(5):
            fake.write_log("wrapix-a", f"new line {i}")
        await wait_until(pilot, lambda: screen.missed == 5)
        assert view.scroll_offset.y == 0
        assert "5 new lines" in str(screen.query_one("#logs-status").render())
        await pilot.press("end")
        await wait_until(pilot, lambda: screen.following and screen.missed == 0)
        assert view.is_vertical_scroll_end
        # Filter.
        await pilot.press("slash", *"alert")
        await wait_until(pilot, lambda: view.line_count == 1)
        fake.write_log("wrapix-a", "second alert")
        fake.write_log("wrapix-a", "quiet")
        await wait_until(pilot, lambda: view.line_count == 2)
        await pilot.press("escape")  # clears the filter
        await wait_until(pilot, lambda: view.line_count == 68)
        # Bounded: the oldest fall off.
        for i in range(MAX_LINES):
            fake.write_log("wrapix-a", f"flood {i}")
        await wait_until(pilot, lambda: screen.lines[-1] == f"flood {MAX_LINES - 1}")
        assert len(screen.lines) == MAX_LINES and view.line_count <= MAX_LINES
        assert screen.lines[0] == "flood 0"
        fake.write_log("wrapix-a", None)
        await wait_until(pilot, lambda: screen.ended is not None)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LogsScreen))


async def test_keymap_from_config_remaps_and_help_shows_it(make_app: MakeApp,
                                                            fake: FakeRuntime) -> None:
    (paths.config_dir() / "config.toml").write_text(
        '[keymap]\n"sandbox.stop" = "k"\n"app.help" = "f1"\n')
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await wait_until(pilot, lambda: "wrapix-a" in app.dashboard.sandboxes.table.names())
        await pilot.press("x")  # no longer stop
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(help_screen._table())
        lines = console.export_text().splitlines()
        stop = next(line for line in lines if "sandbox.stop" in line)
        assert stop.split()[:2] == ["k", "Stop"]
        attach = next(line for line in lines if "sandbox.attach" in line)
        assert attach.split()[:2] == ["a", "Attach"]
        assert any("inbox.read_all" in line for line in lines)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_every_binding_has_an_id_and_is_in_the_palette(make_app: MakeApp) -> None:
    from wrapix_tui import keys

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        groups = app.binding_groups()
        ids = [binding.id for _group, owner in groups for binding in keys.bindings_of(owner)]
        assert all(ids) and len(ids) == len(set(ids))
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)), "a command listed twice (issue 14: Keys)"
        for action in keys.actions(app.binding_groups(dashboard_only=True), {}):
            if action.id not in ("app.quit", "app.help"):
                assert f"{action.group.capitalize()}: {action.binding.description}" in titles
        # Running one from the palette does the action.
        command = next(c for c in app.get_system_commands(app.screen)
                       if c.title == "Sandboxes: All")
        await command.callback()  # type: ignore[misc]
        assert app.dashboard.sandboxes.show_all


async def test_panes_focus_by_key_and_maximise(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        dashboard = app.dashboard
        await pilot.press("2")
        assert app.focused is dashboard.inbox.table
        await pilot.press("3")
        assert app.focused is dashboard.builder
        await pilot.press("z")
        assert app.screen.maximized is dashboard.builder
        await pilot.press("1")  # another pane while maximised: that one fills the screen
        assert app.screen.maximized is dashboard.sandboxes
        await pilot.press("z")
        assert app.screen.maximized is None
        await pilot.click("#inbox-table")
        assert app.focused is dashboard.inbox.table


async def test_builder_pane_status_start_and_stop_in_place(
        make_app: MakeApp, fake: FakeRuntime, workspace: Path) -> None:
    # A port that is taken: start must stop at its first check, before creating anything.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    (workspace / "wrapix.toml").write_text(f"[builder]\nport = {port}\n")
    app = make_app()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.dashboard.builder
            await wait_until(pilot, lambda: pane.status is not None)
            assert pane.status.state == "not-created"  # type: ignore[union-attr]
            text = str(pane.query_one("#builder-status").render())
            # Compact in the small pane, the whole command when maximised.
            assert "not-created" in text and f"ssh … builder@127.0.0.1:{port}" in text
            await pilot.press("3", "z")
            await wait_until(pilot, lambda: f"-p {port}" in str(
                pane.query_one("#builder-status").render()), what="the full ssh command")
            await pilot.press("z")

            def progress() -> str:
                return str(pane.query_one("#builder-progress").render())

            await pilot.press("3", "x")  # stop: nothing to stop
            await wait_until(pilot, lambda: pane.busy is None and "nothing to stop" in progress())
            await pilot.press("s")  # start: the port is taken
            await wait_until(pilot, lambda: pane.busy is None and "already in use" in progress())
            assert not any(call[0] == "launch" for call in fake.calls)
            # It starts elsewhere (here: it appears); the status follows the event stream.
            builder = sandbox("wrapix-builder", wrapix=False, image="localhost/wrapix-builder:1")
            builder.labels[naming.LABEL_ROLE] = "builder"  # wrapix's own builder
            fake.items["wrapix-builder"] = builder
            fake.emit("start", "wrapix-builder")
            await wait_until(pilot, lambda: pane.status.state == "running")  # type: ignore[union-attr]
            await pilot.press("s")  # idempotent
            await wait_until(pilot, lambda: pane.busy is None and "already running" in progress(),
                         what="already running")
            await pilot.press("x")  # asks first, as for a sandbox
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Stop the builder?" in str(app.screen.query_one("#question").render())
            assert ("stop_name", "wrapix-builder") not in fake.calls
            await pilot.press("y")
            await wait_until(pilot, lambda: pane.busy is None and "removed" in progress())
            assert ("stop_name", "wrapix-builder") in fake.calls
            assert ("remove_name", ("wrapix-builder", True)) in fake.calls
            await wait_until(pilot, lambda: pane.status.state == "not-created")  # type: ignore[union-attr]
            # A step with a count (copying the store) shows a bar while it runs.
            pane.post_message(BuilderProgress("copying the Nix store", done_count=3, total=10))
            await wait_until(pilot, lambda: bool(pane.query("#builder-bar"))
                             and pane.query_one("#builder-bar").display)
            assert pane.query_one("#builder-bar", ProgressBar).percentage == 0.3
            pane.post_message(BuilderProgress("builder started", done=True))
            await wait_until(pilot, lambda: not pane.query_one("#builder-bar").display)
    finally:
        taken.close()


async def test_config_errors_are_banners_and_defaults_are_used(make_app: MakeApp,
                                                               workspace: Path) -> None:
    (workspace / "wrapix.toml").write_text("[sandbox]\nmemory = [1, 2]\n")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "config" in app.dashboard.banner.problems)
        assert "wrapix.toml" in app.dashboard.banner.problems["config"]
        await ready(pilot, app)


async def test_a_broken_project_file_is_said_in_the_new_sandbox_dialog(
        make_app: MakeApp, workspace: Path) -> None:
    """Issue 14 item 10: not "loading profiles…" for ever, but the error, with its line."""
    (workspace / "wrapix.toml").write_text("[profiles.x\nbase = 1\n")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewSandboxScreen))
        status = app.screen.query_one("#status")
        await wait_until(pilot, lambda: "invalid TOML" in str(status.render()))
        assert "wrapix.toml" in str(status.render()) and "line 1" in str(status.render())
        select = app.screen.query_one("#profile", Select)
        assert "no profiles" in select.prompt


async def test_settings_follow_their_files(make_app: MakeApp, workspace: Path) -> None:
    """Issue 14 items 9 and 10: a changed config.toml is used by every pane (the builder
    reads core.settings); a broken wrapix.toml is a banner, and deleting it clears it."""
    config = paths.config_dir() / "config.toml"
    config.write_text('[image]\nbase = "localhost/old:1"\n')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        assert app.core is not None and app.core.settings.image.base == "localhost/old:1"
        config.write_text('[image]\nbase = "localhost/new:2"\n\n[builder]\nport = 2299\n')
        await wait_until(pilot, lambda: app.core is not None
                         and app.core.settings.image.base == "localhost/new:2")
        builder = app.dashboard.builder  # its status follows the builder settings now named
        await wait_until(pilot, lambda: "127.0.0.1:2299" in str(
            builder.query_one("#builder-status").render()))
        project = workspace / "wrapix.toml"
        project.write_text("[sandbox\n")
        await wait_until(pilot, lambda: "config" in app.dashboard.banner.problems)
        assert "invalid TOML" in app.dashboard.banner.problems["config"]
        project.unlink()
        await wait_until(pilot, lambda: "config" not in app.dashboard.banner.problems)
        assert app.core.settings.image.base == "localhost/new:2"


async def test_new_sandbox_launch_runs_off_the_event_loop_with_build_progress(
        make_app: MakeApp, fake: FakeRuntime, workspace: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An image build (here: blocking steps, as a copy or build would block) runs in a
    worker thread: the app keeps drawing, the bar follows the steps, the error is shown."""
    import time

    import wrapix_core.sandbox.launcher as launcher
    from wrapix_core.errors import WrapixError
    from wrapix_core.image.progress import BuildEvent

    async def slow_prepare(request: object, settings: object, *, runtime: object = None,
                           on_build: Callable[[BuildEvent], None] | None = None,
                           **_: object) -> object:
        assert on_build is not None
        for step in (1, 2, 3):
            on_build(BuildEvent(f"STEP {step}/4: RUN apt-get install {step}", step, 4))
            time.sleep(0.3)  # noqa: ASYNC251 - blocking on purpose: what must not stall the app
        raise WrapixError("the image build failed at step 3", "fix the profile's packages")

    monkeypatch.setattr(launcher, "prepare", slow_prepare)
    (workspace / "wrapix.toml").write_text(TINY.format(image="localhost/wrapix-base:latest"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        screen = await open_new(pilot, app)
        await pilot.press("ctrl+s")
        bar = screen.query_one("#build-progress", ProgressBar)
        gaps: list[float] = []
        seen: set[float] = set()
        last = time.monotonic()
        deadline = last + 20
        while "build failed" not in str(screen.query_one("#status").render()):
            await pilot.pause(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            if bar.display and bar.percentage is not None:
                seen.add(round(bar.percentage, 2))
            assert now < deadline, "the launch never failed"
        assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.2f}s"
        assert {0.25, 0.5} <= seen  # steps 2 and 3 of 4 shown while they ran
        assert "fix the profile's packages" in str(screen.query_one("#status").render())
        assert not screen.busy and not screen.query_one("#build-progress").display


async def test_a_40x10_terminal_shows_one_pane_and_reachable_buttons(
        make_app: MakeApp) -> None:
    """Issue 14: at 40×10 no pane squeezed to nothing takes the focus, 1-4 switch the
    pane shown, and the new-sandbox dialog's Start button is on screen."""
    app = make_app()
    async with app.run_test(size=(40, 10)) as pilot:
        await ready(pilot, app)
        dashboard = app.dashboard
        for _ in range(4):
            await pilot.press("tab")
            focused = app.focused
            assert focused is not None and focused.region.height > 0, focused
        await pilot.press("4")
        await wait_until(pilot, lambda: dashboard.ralph.region.height > 0)
        assert not dashboard.sandboxes.display
        await pilot.press("1")
        await wait_until(pilot, lambda: dashboard.sandboxes.region.height > 0)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewSandboxScreen))
        await pilot.pause()
        start = app.screen.query_one("#start")
        assert start.region.y >= 0 and start.region.bottom <= 10, start.region
