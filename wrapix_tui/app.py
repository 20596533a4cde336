"""The wrapix supervisor application.

Start-up order, for a fast first frame: the dashboard is composed with empty panes and
drawn; only then a thread worker loads settings and the runtime (pydantic-settings, the
Podman module), applies the user's keymap, and the live workers start: the shared event
stream, the notification daemon (hosted here when none runs) with the inbox follower,
the builder status watcher and the stats sampler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from wrapix_core.errors import WrapixError
from wrapix_tui.messages import (
    CoreReady,
    GitChecked,
    NotifyState,
    Problem,
    ProblemSolved,
    RuntimeState,
)
from wrapix_tui.screens.dashboard import DashboardScreen
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.sandboxes import IDLE_AFTER

if TYPE_CHECKING:
    from wrapix_core.doctor import Report
    from wrapix_core.notify.daemon import NotifyDaemon
    from wrapix_core.settings import Settings
    from wrapix_tui.core import Core, RuntimeFactory
    from wrapix_tui.events_hub import EventHub
    from wrapix_tui.widgets.ralph import RalphPane

log = logging.getLogger("wrapix.tui")

LOUD_CHECKS = frozenset({"storage driver", "OCI runtime", "base image", "disk space"})
"""Warnings shown with their fix on a banner line of their own (they cost every build
minutes, or stop sandboxes); the others share one line that points to the report."""

QUIT_WAIT = 10.0
"""Seconds a quit waits for a stopped Ralph run to clean up before it exits anyway."""


class WrapixApp(App[None]):
    """Supervises sandboxes, the builder, notifications and Ralph for one workspace."""

    CSS_PATH: ClassVar[list[str | PurePath]] = [stylesheet("app.tcss")]
    TITLE = "wrapix"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help"),
    ]

    def __init__(self, workspace: Path, *, runtime_factory: RuntimeFactory | None = None,
                 clock: Callable[[], datetime] | None = None,
                 exit_after_first_frame: bool = False, exit_after_board: bool = False,
                 doctor: bool | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.runtime_factory = runtime_factory
        self.clock = clock or (lambda: datetime.now(UTC))
        self.exit_after_first_frame = exit_after_first_frame
        self.exit_after_board = exit_after_board
        """Exit once the Ralph board is first drawn (benchmarks)."""
        self.core: Core | None = None
        self.hub: EventHub | None = None
        self.daemon: NotifyDaemon | None = None
        self.keymap: dict[str, str] = {}
        self.suspended = False
        """True while another program (attach, shell) has the terminal."""
        self.last_input = time.monotonic()
        """When a key or mouse button was last pressed (idle pacing of the stats)."""
        self.quitting = False
        """Quit was confirmed: a Ralph run is being stopped, then the app exits."""
        self.git_reported: dict[str, tuple[bool, frozenset[tuple[str, str]]]] = {}
        """Per workspace: whether the check that raised its banner was thorough, and what
        it found (said once; said again only when that changes)."""
        self.doctor = runtime_factory is None if doctor is None else doctor
        """Check the machine (`wrapix doctor`) once the core is loaded; off with a fake
        runtime (tests), which the checks would bypass."""
        self.doctor_report: Report | None = None

    def get_default_screen(self) -> Screen[Any]:
        return DashboardScreen(self.workspace)

    @property
    def dashboard(self) -> DashboardScreen:
        return next(s for s in self.screen_stack if isinstance(s, DashboardScreen))

    def now(self) -> datetime:
        return self.clock()

    def idle_for(self) -> float:
        """Seconds since the last key or mouse press."""
        return time.monotonic() - self.last_input

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollUp
                      | events.MouseScrollDown):
            was_idle = self.idle_for() >= IDLE_AFTER
            self.last_input = time.monotonic()
            if was_idle:
                for screen in self.screen_stack:
                    if isinstance(screen, DashboardScreen) and screen.is_mounted:
                        screen.sandboxes.wake()
        await super().on_event(event)

    # -- start-up -------------------------------------------------------------------

    def on_mount(self) -> None:
        from wrapix_tui import log_bridge

        self._log_handler = log_bridge.install(self)
        self.call_after_refresh(self._first_frame_drawn)

    def _first_frame_drawn(self) -> None:
        if self.exit_after_first_frame:
            self.exit()  # the start-up benchmark ends here
            return
        self._load_core()

    @work(thread=True, exclusive=True, group="core")
    def _load_core(self) -> None:
        from wrapix_tui.core import load_core

        try:
            core = load_core(self.workspace, self.runtime_factory)
        except Exception as exc:  # a bug: say so and keep the (empty) dashboard
            log.exception("loading the core failed")
            self.post_message(Problem(f"wrapix could not load its settings: {exc!r}",
                                      source="config"))
            return
        self.post_message(CoreReady(core))

    def on_core_ready(self, message: CoreReady) -> None:
        from wrapix_tui.events_hub import EventHub

        core = self.core = message.core
        for problem in core.problems:
            self.post_message(Problem(problem, source="config"))
        self.keymap = dict(core.settings.keymap)
        if self.keymap:
            self.set_keymap(self.keymap)
        self.hub = EventHub(core.runtime)
        self._run_events(self.hub)
        self.dashboard.start(core, self.hub)
        self._host_notifications(core)
        self._watch_config(core)
        if self.doctor:
            self._run_doctor(core)

    @work(exclusive=True, group="doctor")
    async def _run_doctor(self, core: Core) -> None:
        """`wrapix doctor`'s checks, after the first frame: each problem a banner line."""
        from wrapix_core.doctor import Doctor

        try:
            report = await Doctor(core.settings).run()
        except Exception as exc:
            log.exception("the start-up check failed")
            self.post_message(Problem(f"the start-up check failed: {exc!r}", source="doctor"))
            return
        self.doctor_report = report
        minor: list[str] = []
        for check in report.problems():
            if check.status == "warn" and check.name not in LOUD_CHECKS:
                minor.append(check.name)
                continue
            fix = f" — fix: {check.fix}" if check.fix else ""
            verdict = "FAIL" if check.status == "fail" else "WARN"
            self.post_message(Problem(f"{verdict} {check.detail}{fix}", source=check.name))
        if minor:
            self.post_message(Problem(
                f"{len(minor)} warning(s): {', '.join(minor)} — the fixes: palette (ctrl+p) "
                "→ Doctor, or `wrapix doctor`", source="doctor"))

    @work(exclusive=True, group="config")
    async def _watch_config(self, core: Core) -> None:
        """Settings follow their files (the user's config.toml, the project's wrapix.toml):
        on a change they are read again and every pane uses them from then on (they all
        read ``core.settings`` when they act), and the config banner says what is wrong
        now, or goes."""
        from watchfiles import Change

        from wrapix_core.settings import PROJECT_FILE, user_config_file
        from wrapix_core.specs.inotify_watch import watch
        from wrapix_tui.core import load_settings_for

        files = {user_config_file().resolve(), (core.workspace / PROJECT_FILE).resolve()}
        folders = sorted({path.parent for path in files if path.parent.is_dir()})
        if not folders:
            return

        def touched(changes: set[tuple[Change, str]]) -> bool:
            return any(Path(path).resolve() in files for _change, path in changes)

        try:
            async for changes in watch(*folders, debounce_ms=100, step_ms=20):
                if not touched(changes):
                    continue
                settings, problems = await asyncio.to_thread(load_settings_for,
                                                             core.workspace)
                self._settings_changed(core, settings, problems)
        except Exception:
            log.exception("watching the settings files failed")

    def _settings_changed(self, core: Core, settings: Settings,
                          problems: list[WrapixError]) -> None:
        before, core.settings, core.problems = core.settings, settings, problems
        if settings.builder != before.builder and self.hub is not None:
            self.dashboard.builder.start(core, self.hub)  # watch the builder they name now
        self.post_message(ProblemSolved("config"))
        for problem in problems:
            self.post_message(Problem(problem, source="config"))
        keymap = dict(settings.keymap)
        if keymap != self.keymap:
            self.keymap = keymap
            self.set_keymap(keymap)
        self.notify("Settings reloaded (their files changed).", timeout=4, markup=False)

    @work(exclusive=True, group="events")
    async def _run_events(self, hub: EventHub) -> None:
        """The one ``podman events`` stream; it reconnects by itself."""
        try:
            await hub.run()
        except Exception as exc:
            log.exception("the event stream failed")
            self.post_message(Problem(f"container events stopped: {exc!r}", source="events"))

    @work(exclusive=True, group="notify")
    async def _host_notifications(self, core: Core) -> None:
        """Host the daemon when none runs; either way, follow the inbox."""
        from wrapix_core.notify.daemon import (
            DaemonAlreadyRunning,
            DaemonConfig,
            NotifyDaemon,
            daemon_running,
        )

        config = DaemonConfig.from_settings(core.settings)
        live = None
        try:
            running = await asyncio.to_thread(daemon_running, config.socket_path)
            if running:
                self.post_message(NotifyState("notify: following wrapix-notifyd", False))
            else:
                daemon = NotifyDaemon(config)
                try:
                    await daemon.start()
                except DaemonAlreadyRunning:
                    self.post_message(NotifyState("notify: following wrapix-notifyd", False))
                else:
                    self.daemon = daemon
                    live = daemon.subscribe()
                    self.post_message(NotifyState("notify: daemon hosted here", True))
        except WrapixError as exc:
            self.post_message(NotifyState("notify: not receiving", False))
            self.post_message(Problem(exc, source="notify"))
        except Exception as exc:
            log.exception("starting the notification daemon failed")
            self.post_message(NotifyState("notify: not receiving", False))
            self.post_message(Problem(f"the notification daemon failed: {exc!r}",
                                      source="notify"))
        self.dashboard.inbox.follow(core.settings, live)

    async def on_unmount(self) -> None:
        from wrapix_tui import log_bridge

        log_bridge.uninstall(self._log_handler)
        daemon, self.daemon = self.daemon, None
        if daemon is not None:
            try:
                await asyncio.wait_for(daemon.stop(), timeout=10)
            except Exception:
                log.exception("stopping the notification daemon failed")

    # -- messages from workers ------------------------------------------------------

    def _live_dashboard(self) -> DashboardScreen | None:
        """The dashboard, or None once the app is closing (a worker's last message can
        arrive after the screens are gone)."""
        return next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)

    def on_problem(self, message: Problem) -> None:
        if message.source is not None:
            if (dashboard := self._live_dashboard()) is not None:
                dashboard.banner.show(message.source, message.error)
        else:
            self.notify(str(message.error), severity=message.severity,  # type: ignore[arg-type]
                        timeout=10, markup=False)

    def on_git_checked(self, message: GitChecked) -> None:
        """Git redirection found (or gone): a banner while it lasts, and a notification
        in the inbox (a popup too, when the daemon is hosted here) each time it changes."""
        from wrapix_core.sandbox import gitguard
        from wrapix_core.untrusted import line

        workspace, findings = message.workspace, message.findings
        source = f"git {Path(workspace).name}"
        keys = frozenset(finding.key() for finding in findings)
        reported = self.git_reported.get(workspace)
        if not findings:
            # A quick check cannot clear what only the thorough one finds (nested repos).
            if reported is not None and (message.thorough or not reported[0]):
                del self.git_reported[workspace]
                self.dashboard.banner.clear(source)
            return
        if reported is not None and reported[1] == keys:
            return
        self.git_reported[workspace] = (message.thorough, keys)
        summary = gitguard.summary(findings)
        self.dashboard.banner.show(source, line(
            f"{workspace}: a sandbox planted files that make the host's git run commands: "
            f"{summary}. Do not run git there; `wrapix audit --fix {workspace}` moves them "
            "aside"))
        self._notify_git(workspace, summary, message.sandbox)

    @work(group="gitguard.notify")
    async def _notify_git(self, workspace: str, summary: str, sandbox: str | None) -> None:
        from wrapix_core.notify.inbox import InboxStore, NewEntry
        from wrapix_core.notify.protocol import Notification

        notification = Notification(
            title=f"git redirected in {Path(workspace).name}",
            message=f"{workspace}: {summary}. Run `wrapix audit {workspace}` before any git "
                    "command there.", sandbox=sandbox, kind="security")
        try:
            if self.daemon is not None and self.daemon.running:
                await self.daemon.submit(notification)
            else:
                await asyncio.to_thread(InboxStore().append,
                                        [NewEntry(notification, "skipped", "wrapix-tui")])
        except Exception as exc:  # the banner has said it already
            log.exception("recording the git redirection notification failed")
            self.notify(f"could not add the git warning to the inbox: {exc!r}",
                        severity="error", timeout=10, markup=False)

    def on_problem_solved(self, message: ProblemSolved) -> None:
        if (dashboard := self._live_dashboard()) is not None:
            dashboard.banner.clear(message.source)

    def on_runtime_state(self, message: RuntimeState) -> None:
        if (dashboard := self._live_dashboard()) is not None:
            dashboard.header.set_runtime(message.text, message.ok)

    def on_notify_state(self, message: NotifyState) -> None:
        if (dashboard := self._live_dashboard()) is not None:
            dashboard.header.set_notify(message.text, message.hosted)

    # -- the terminal ---------------------------------------------------------------

    def hand_over(self, argv: list[str], intro: str, *, done: str, redraw: bool = False,
                  running: list[str] | None = None) -> int | None:
        """Run ``argv`` (attach, shell) on this terminal and come back; None on failure.
        ``redraw``/``running``: see :func:`wrapix_tui.terminal.run_in_terminal`."""
        from wrapix_tui.terminal import run_in_terminal

        self.suspended = True
        try:
            code = run_in_terminal(self, argv, intro, redraw=redraw, running=running)
        except WrapixError as exc:
            self.notify(str(exc), severity="error", timeout=10, markup=False)
            return None
        finally:
            self.suspended = False
        self.notify(done if code == 0 else f"{done} (exit code {code})", markup=False)
        return code

    # -- quitting -------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit at once, unless a Ralph run is going on: then ask, and stop it the way its
        stop key does before exiting, so that its step is put back whole (issue reopened,
        running record cleared, lock freed) rather than cut short by the exit."""
        from wrapix_tui.screens.confirm import ConfirmScreen
        from wrapix_tui.widgets.ralph import RalphPane

        ralph = next(iter(self.dashboard.query(RalphPane)), None)
        summary = ralph.run_summary() if ralph is not None else None
        if ralph is None or summary is None:
            self.exit()
            return
        if self.quitting:
            self.notify("Stopping the Ralph run, then quitting…", markup=False)
            return
        if isinstance(self.screen, ConfirmScreen) and self.screen.verb == "quit":
            return  # already asked

        def answered(yes: bool | None) -> None:
            if yes:
                self._stop_and_quit(ralph)

        self.push_screen(ConfirmScreen(
            f"{summary} Stop it and quit?",
            ["stopped as its stop key does: the step's issue goes back to open"],
            "Stop and quit", verb="quit"), answered)

    @work(exclusive=True, group="quit")
    async def _stop_and_quit(self, ralph: RalphPane) -> None:
        self.quitting = True
        if await ralph.stop_and_wait(QUIT_WAIT):
            self.exit()
        else:  # the exit cancels it again; what it left, the next step recovers
            self.exit(message=f"wrapix: the Ralph run was still stopping after "
                              f"{QUIT_WAIT:.0f} s; nothing is lost: the next step recovers "
                              "its issue (`ralph status` says interrupted until then).")

    # -- keys: help and the command palette ----------------------------------------

    def binding_groups(self, *, dashboard_only: bool = False) -> list[tuple[str, type]]:
        from wrapix_tui.widgets.builder import BuilderPane
        from wrapix_tui.widgets.inbox import InboxPane
        from wrapix_tui.widgets.ralph import RalphPane
        from wrapix_tui.widgets.sandboxes import SandboxesPane

        groups: list[tuple[str, type]] = [
            ("app", WrapixApp), ("panes", DashboardScreen), ("sandboxes", SandboxesPane),
            ("inbox", InboxPane), ("builder", BuilderPane), ("ralph", RalphPane)]
        if not dashboard_only:
            from wrapix_tui.screens.approval import ApprovalScreen
            from wrapix_tui.screens.clarify import ClarifyScreen
            from wrapix_tui.screens.confirm import ConfirmScreen
            from wrapix_tui.screens.issue import IssueScreen
            from wrapix_tui.screens.logs import LogsScreen
            from wrapix_tui.screens.new_sandbox import NewSandboxScreen
            from wrapix_tui.screens.review import ReviewScreen
            from wrapix_tui.widgets.rowlist import RowList

            groups += [("logs", LogsScreen), ("new sandbox", NewSandboxScreen),
                       ("confirm", ConfirmScreen), ("issue", IssueScreen),
                       ("approval", ApprovalScreen), ("clarify", ClarifyScreen),
                       ("review", ReviewScreen), ("lists", RowList)]
        return groups

    def key_for(self, binding_id: str) -> str:
        from wrapix_tui import keys

        return keys.key_for(self.binding_groups(), self.keymap, binding_id)

    def action_doctor(self) -> None:
        from wrapix_tui.screens.doctor import DoctorScreen

        self.push_screen(DoctorScreen(self.doctor_report))

    def action_help(self) -> None:
        from wrapix_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.binding_groups(), self.keymap))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from wrapix_tui import keys

        dashboard = isinstance(screen, DashboardScreen)
        for command in super().get_system_commands(screen):
            if not (dashboard and command.title == "Keys"):  # ours below shows every key
                yield command
        if not dashboard:
            return
        for action in keys.actions(self.binding_groups(dashboard_only=True), self.keymap):
            if action.id in ("app.quit", "app.help"):
                continue
            owner = next(cls for group, cls in self.binding_groups(dashboard_only=True)
                         if group == action.group)
            target: Any = (self if owner is WrapixApp else screen if owner is DashboardScreen
                           else screen.query_one(owner))
            title = f"{action.group.capitalize()}: {action.binding.description}"
            yield SystemCommand(title, f"key {keys.display_keys(action.keys)} · id {action.id}",
                                partial(self.run_action, action.binding.action, target))
        yield SystemCommand("Keys", "show every key (id app.help)", self.action_help)
        yield SystemCommand("Doctor", "what this machine lacks for sandboxes, with the fixes "
                            "(`wrapix doctor`)", self.action_doctor)
