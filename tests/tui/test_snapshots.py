"""Snapshots of the dashboard (empty, populated, narrow), the modals, logs and help.

Stored in ``snapshots/`` (see tests/conftest.py). Everything shown is fixed: the clock,
the containers and stats (fake runtime), the inbox (written before the app starts) and
the paths (a home of its own, with wrapix's data directory inside it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import T0, FakeRuntime, sandbox
from wrapix_core.notify.inbox import InboxStore, NewEntry
from wrapix_core.notify.protocol import Notification
from wrapix_tui.app import WrapixApp
from wrapix_tui.screens.confirm import ConfirmScreen
from wrapix_tui.screens.help import HelpScreen
from wrapix_tui.screens.logs import LogsScreen
from wrapix_tui.screens.new_sandbox import NewSandboxScreen

MakeApp = Callable[..., WrapixApp]
WIDE = (120, 40)
NARROW = (80, 24)


@pytest.fixture(autouse=True)
def stable(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wrapix_tui.widgets.sandbox_stats as sandbox_stats

    monkeypatch.setenv("WRAPIX_DATA_DIR", str(home / ".local" / "share" / "wrapix"))
    monkeypatch.setattr(sandbox_stats, "STATS_INTERVAL", 0.05)


def populate(fake: FakeRuntime, home: Path) -> None:
    fake.items.update({info.name: info for info in (
        sandbox("wrapix-api-3f2a1c", profile="rust", workspace=str(home / "src" / "api"),
                started_ago=2 * 3600 + 7 * 60),
        sandbox("wrapix-web-9b8c7d", profile="python", workspace=str(home / "src" / "web"),
                started_ago=5 * 60 + 3),
        sandbox("wrapix-docs-1a2b3c", workspace=str(home / "notes" / "docs"),
                started_ago=3 * 86400 + 4 * 3600),
    )})
    fake.stats_values.update({"wrapix-api-3f2a1c": (23.4, 512 * 1024 * 1024),
                              "wrapix-web-9b8c7d": (3.1, 180 * 1024 * 1024),
                              "wrapix-docs-1a2b3c": (0.2, 40 * 1024 * 1024)})
    fake.log_lines["wrapix-web-9b8c7d"] = [
        "Welcome to Claude Code", "\x1b[32m✓\x1b[0m Read src/app.py",
        "\x1b[33m●\x1b[0m Edit src/app.py (+12 -3)", "Running: pytest -q",
        "12 passed in 0.84s", "Waiting for your input…"]
    store = InboxStore()
    notes = [
        (50, "Build finished", "cargo build ok", "wrapix-api-3f2a1c", True),
        (20, "[b]Not bold[/b]", "markup \x1b[31mand escapes\x1b[0m stay literal",
         "wrapix-docs-1a2b3c", True),
        (9, "Tests pass", "12 passed; next: the API docs", "wrapix-web-9b8c7d", False),
        (2, "Claude is waiting", "Approve the migration plan?", "wrapix-web-9b8c7d", False),
    ]
    entries = store.append([NewEntry(Notification(title, message, sandbox=name), "shown",
                                     "focus: not looking", T0 - timedelta(minutes=minutes))
                            for minutes, title, message, name, _read in notes])
    store.mark_read([entry.id for entry, note in zip(entries, notes, strict=True) if note[4]])


async def composed(pilot: Pilot[Any], app: WrapixApp) -> None:
    """The screenshot's auto-pilot starts before the screen has mounted its panes."""
    await wait_until(pilot, lambda: app.screen_stack and app.dashboard.query("#ralph"))


def loaded(app: WrapixApp, *, rows: int, inbox: int) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await composed(pilot, app)
        dashboard = app.dashboard
        sandboxes = dashboard.sandboxes

        def ready() -> bool:
            table = sandboxes.table
            return (app.core is not None and sandboxes.state.listed
                    and len(table.names()) == rows
                    and all(table.cell(name, "cpu") != "-" for name in table.names())
                    and len(dashboard.inbox.shown()) == inbox
                    and dashboard.builder.status is not None
                    and app.query_one("#ralph").board is not None  # type: ignore[attr-defined]
                    and "-pending" not in dashboard.header.query_one("#notify-status").classes
                    and "-pending" not in dashboard.header.query_one("#runtime-status")
                    .classes)

        await wait_until(pilot, ready, what="the dashboard to load")
    return run_before


def test_dashboard_empty(snap_compare: Any, make_app: MakeApp) -> None:
    app = make_app(fixed_clock=True)
    assert snap_compare(app, terminal_size=WIDE, run_before=loaded(app, rows=0, inbox=0))


def test_dashboard_populated(snap_compare: Any, make_app: MakeApp, fake: FakeRuntime,
                             home: Path) -> None:
    populate(fake, home)
    app = make_app(fixed_clock=True)
    assert snap_compare(app, terminal_size=WIDE, run_before=loaded(app, rows=3, inbox=4))


def test_dashboard_narrow(snap_compare: Any, make_app: MakeApp, fake: FakeRuntime,
                          home: Path) -> None:
    populate(fake, home)
    app = make_app(fixed_clock=True)
    assert snap_compare(app, terminal_size=NARROW, run_before=loaded(app, rows=3, inbox=4))


def test_dashboard_without_podman(snap_compare: Any, make_app: MakeApp,
                                  fake: FakeRuntime) -> None:
    from wrapix_core.sandbox.errors import RuntimeMissing

    missing = RuntimeMissing("podman (podman) is not installed",
                             "install rootless Podman (Debian: apt install podman runc "
                             "uidmap slirp4netns) or set sandbox.podman to its path")
    fake.fail.update(caps=missing, containers=missing, events=missing)
    app = make_app(fixed_clock=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await composed(pilot, app)
        note = app.dashboard.sandboxes.query_one("#sandbox-note")
        await wait_until(pilot, lambda: "apt install" in str(note.render())
                         and app.dashboard.inbox.following
                         and app.dashboard.builder.status is not None)

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_new_sandbox_modal(snap_compare: Any, make_app: MakeApp, workspace: Path) -> None:
    app = make_app(fixed_clock=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(app, rows=0, inbox=0)(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewSandboxScreen)
                         and app.screen.query_one("#profile").value == "base")
        # An invalid path shows its error under the field.
        app.screen.query_one("#workspace").value = "~/does-not-exist"
        await wait_until(pilot, lambda: "does not exist" in str(
            app.screen.query_one("#workspace-error").render()))

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_stop_confirmation(snap_compare: Any, make_app: MakeApp, fake: FakeRuntime,
                           home: Path) -> None:
    populate(fake, home)
    app = make_app(fixed_clock=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(app, rows=3, inbox=4)(pilot)
        await pilot.press("space", "space", "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_logs_screen(snap_compare: Any, make_app: MakeApp, fake: FakeRuntime,
                     home: Path) -> None:
    populate(fake, home)
    app = make_app(fixed_clock=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(app, rows=3, inbox=4)(pilot)
        app.dashboard.sandboxes.select("wrapix-web-9b8c7d")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen)
                         and app.screen.view.line_count == 6)

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_help_screen(snap_compare: Any, make_app: MakeApp) -> None:
    app = make_app(fixed_clock=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(app, rows=0, inbox=0)(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_dashboard_light_theme(snap_compare: Any, make_app: MakeApp, fake: FakeRuntime,
                               home: Path) -> None:
    """Colours come from the theme: the light one reads as well as the dark one."""
    populate(fake, home)
    app = make_app(fixed_clock=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(app, rows=3, inbox=4)(pilot)
        app.theme = "textual-light"
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


# -- the Ralph board and its screens ---------------------------------------------------
def ralph_app(workspace: Path) -> WrapixApp:
    fake = FakeRuntime()
    fake.now = lambda: T0
    return WrapixApp(workspace, runtime_factory=lambda _settings: fake, clock=lambda: T0)


def board_loaded(app: WrapixApp, *keys: str,
                 until: Callable[[], object] | None = None) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await composed(pilot, app)
        pane = app.dashboard.ralph
        await wait_until(pilot, lambda: app.core is not None and pane.board is not None
                         and app.dashboard.inbox.following
                         and app.dashboard.builder.status is not None
                         and app.dashboard.sandboxes.state.listed
                         and "-pending" not in app.dashboard.header.query_one(
                             "#runtime-status").classes, what="the board")
        if keys:
            await pilot.press(*keys)
        if until is not None:
            await wait_until(pilot, until)
        await pilot.pause()
    return run_before


def test_ralph_board_real_data(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import real_workspace

    app = ralph_app(real_workspace(home / "real"))
    assert snap_compare(app, terminal_size=WIDE, run_before=board_loaded(app, "4"))


def test_ralph_board_spec_selected_narrow(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import demo_workspace

    app = ralph_app(demo_workspace(home / "demo"))
    assert snap_compare(app, terminal_size=NARROW, run_before=board_loaded(
        app, "4", "down", until=lambda: app.dashboard.ralph.selected == "demo"))


def test_ralph_board_spec_selected_wide(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import demo_workspace

    app = ralph_app(demo_workspace(home / "demo"))
    assert snap_compare(app, terminal_size=WIDE, run_before=board_loaded(
        app, "4", "down", "right", "down", until=lambda: app.dashboard.ralph.selected == "demo"))


def drawn_to_size(app: WrapixApp) -> bool:
    """The run panel's text was made for the width it has, and laid out since."""
    from wrapix_tui.widgets.run_panel import RunPanel

    found = app.dashboard.ralph.query(RunPanel)
    if not found:
        return False
    panel = found.first()
    lines = str(panel.render()).count("\n") + 1
    return panel.drawn_width == panel.content_size.width and panel.content_size.height == lines


def test_ralph_board_parallel_steps(snap_compare: Any, home: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A `ralph loop --parallel 2` of another terminal: two steps, one running, one queued
    for the merge; marked on their rows, listed in the run panel."""
    import json

    from tests.tui.ralph_support import demo_workspace
    from wrapix_core.ralph import runsteps
    from wrapix_core.ralph.lock import RalphLock
    from wrapix_core.ralph.state import ralph_paths
    from wrapix_core.tasks import timestamps
    from wrapix_tui.widgets import ralph_steps

    workspace = demo_workspace(home / "demo")
    paths = ralph_paths(workspace)
    paths.makedirs(paths.locks)
    lock = RalphLock(runsteps.run_lock(paths, 4242), "the other loop", paths.anchor)
    assert lock.try_acquire()  # the other terminal's loop is alive
    steps = [{"issue": "demo-a1", "session": "ralph-demo-a1", "sandbox": "", "state": "running",
              "started_at": "2026-01-05T08:52:40Z"},
             {"issue": "demo-a2", "session": "ralph-demo-a2", "sandbox": "", "state": "queued",
              "started_at": "2026-01-05T08:57:05Z"}]
    runsteps.run_file(paths, 4242).write_text(json.dumps({
        "label": "demo", "parallel": 2, "pid": 4242, "host": "here",
        "started_at": "2026-01-05T08:52:40Z", "steps": steps}))
    now = timestamps.parse("2026-01-05T09:00:00Z")
    monkeypatch.setattr(ralph_steps, "clock", lambda: now)
    app = ralph_app(workspace)
    try:
        assert snap_compare(app, terminal_size=WIDE, run_before=board_loaded(
            app, "4", "down", "right",
            until=lambda: len(app.dashboard.ralph.steps.steps) == 2 and drawn_to_size(app)))
    finally:
        lock.release()


def test_approval_modal(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import demo_workspace
    from wrapix_core.ralph.events import DependencyView, IssueRef, StepProposal
    from wrapix_tui.screens.approval import ApprovalScreen

    app = ralph_app(demo_workspace(home / "demo"))
    proposal = StepProposal(
        "demo", IssueRef("demo-c1", "Ship it [b]now[/b]", 0, "open",
                         "Tag the release.\n\n- build\n- push \x1b[31mred\x1b[0m",
                         ("rl-demo",),
                         (DependencyView("demo-b1", "blocks", "closed", "Run the migration"),
                          DependencyView("demo-a2", "blocks", "closed", "Write the docs"))),
        "specs/demo.md", "Demo feature", 2, 3)

    async def run_before(pilot: Pilot[Any]) -> None:
        await board_loaded(app, "4")(pilot)
        app.push_screen(ApprovalScreen(proposal))
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_clarify_modal(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import demo_workspace
    from wrapix_tui.screens.clarify import ClarifyScreen

    app = ralph_app(demo_workspace(home / "demo"))
    assert snap_compare(app, terminal_size=WIDE, run_before=board_loaded(
        app, "4", "down", "c", until=lambda: isinstance(app.screen, ClarifyScreen)))


def test_review_screen(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import demo_workspace
    from wrapix_tui.screens.review import ReviewScreen

    app = ralph_app(demo_workspace(home / "demo"))
    assert snap_compare(app, terminal_size=WIDE, run_before=board_loaded(
        app, "4", "down", "v", until=lambda: isinstance(app.screen, ReviewScreen)
        and app.screen.queue is not None))


def test_issue_screen(snap_compare: Any, home: Path) -> None:
    from tests.tui.ralph_support import demo_workspace
    from wrapix_tui.screens.issue import IssueScreen

    app = ralph_app(demo_workspace(home / "demo"))

    def shown() -> bool:
        screen = app.screen
        return isinstance(screen, IssueScreen) and "no step log" in str(
            screen.query_one("#issue-log").render())

    assert snap_compare(app, terminal_size=WIDE, run_before=board_loaded(
        app, "4", "down", "right", "down", "enter", until=shown))
