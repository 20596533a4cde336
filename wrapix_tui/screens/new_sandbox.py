"""New sandbox: a workspace (with directory completion), a profile and the agent to run,
launched detached.

On a git repository it runs on a new session (branch ``wrapix/NAME`` in a repository of
its own, what ``wrapix run`` does there) unless the box is cleared or ``session.direct``
is set; whenever a sandbox already runs for that project the session is the default
whatever that setting says, so two agents never share one checkout unasked.

The launch is the core's own (``prepare`` + ``run_detached``, what ``wrapix run --detach``
does); this modal stays open while it runs so that errors (image missing, a bad
profile, Podman refusing) are shown in place, where they can be fixed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from wrapix_core.agents.registry import NAMES as AGENT_NAMES
from wrapix_core.errors import WrapixError
from wrapix_tui import format as fmt
from wrapix_tui.messages import BuildProgress, LaunchFailed
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.path_input import DirectorySuggester, IsDirectory, expand

if TYPE_CHECKING:
    from wrapix_tui.core import Core

log = logging.getLogger("wrapix.tui.new")

DEFAULT_CHOICE = "default"
LOCAL = "local"
"""The host choice for this machine (``[hosts.NAME]`` names the others)."""
AGENT_CHOICES = [("the profile's (default)", DEFAULT_CHOICE),
                 *((name, name) for name in AGENT_NAMES)]
"""The agent to run: the profile's own, else one of the four (its image gets it)."""


class NewSandboxScreen(ModalScreen[str | None]):
    CSS_PATH = stylesheet("modals.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="new.cancel"),
        Binding("ctrl+s", "launch", "Start", id="new.start"),
    ]

    def __init__(self, core: Core, running_projects: frozenset[str] = frozenset()) -> None:
        super().__init__(classes="modal")
        self.core = core
        self.running_projects = running_projects
        """Projects (checkouts) a sandbox already runs for."""
        self._session_for: Path | None = None
        self.busy = False
        self._profiles_for: Path | None = None
        self._profiles_failed = False
        self._reload_timer: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="new-sandbox"):
            yield Label(Text("New sandbox", style="bold"), classes="title")
            yield Label("Workspace  (→ completes a directory)")
            yield Input(value=fmt.home_short(self.core.workspace), id="workspace",
                        suggester=DirectorySuggester(), validators=[IsDirectory()],
                        validate_on=["changed", "submitted"])
            yield Static("", id="workspace-error", classes="error")
            yield Label("Profile")
            yield Select[str]([], prompt="loading profiles…", id="profile")
            yield Label("Agent")
            yield Select[str](AGENT_CHOICES, value=DEFAULT_CHOICE, allow_blank=False,
                              id="agent")
            hosts = sorted(self.core.settings.hosts)
            yield Label("Host", id="host-label")
            yield Select[str]([("this machine", LOCAL), *((name, name) for name in hosts)],
                              value=LOCAL, allow_blank=False, id="host")
            yield Checkbox("New session on a branch (wrapix/NAME, a repository of its own)",
                           id="session")
            yield Static("", id="session-hint")
            yield ProgressBar(id="build-progress", show_eta=False)
            yield Static("", id="status")
            with Horizontal(id="buttons"):
                yield Button("Start (^s)", id="start", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#build-progress").display = False
        if not self.core.settings.hosts:  # nothing to choose
            self.query_one("#host-label").display = self.query_one("#host").display = False
        self.query_one("#workspace", Input).focus()
        workspace = expand(self.query_one("#workspace", Input).value)
        self._load_profiles(workspace)
        self._default_session(workspace)

    def _default_session(self, workspace: Path) -> None:
        """Tick "new session" by the rule in the module docstring; a workspace that is
        not a git repository cannot have one."""
        if workspace == self._session_for:
            return
        self._session_for = workspace
        box = self.query_one("#session", Checkbox)
        hint = self.query_one("#session-hint", Static)
        from wrapix_core.sessions.store import can_branch

        is_git = can_branch(workspace)  # one `git rev-parse` per workspace typed
        runs = is_git and bool({str(workspace), str(workspace.resolve())}
                               & self.running_projects)
        box.disabled = not is_git
        box.value = is_git and (runs or not self.core.settings.session.direct)
        if not is_git:
            hint.update(Text("not a git repository with a commit: the sandbox works in it "
                             "directly",
                             style="dim"))
        elif runs:
            hint.update(Text("a sandbox already runs for this project: a new session keeps "
                             "their work apart", style="yellow"))
        else:
            hint.update(Text("cleared: the sandbox works in your checkout itself",
                             style="dim"))

    # -- workspace and profiles -----------------------------------------------------

    @on(Input.Changed, "#workspace")
    def _workspace_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        error = self.query_one("#workspace-error", Static)
        if result is not None and not result.is_valid:
            error.update(Text("; ".join(result.failure_descriptions)))
            return
        error.update("")
        path = expand(event.value)
        if path != self._profiles_for:
            if self._reload_timer is not None:
                self._reload_timer.stop()
            # A project's wrapix.toml may define profiles: reload once typing settles.
            self._reload_timer = self.set_timer(0.3, lambda: self._settled(path))

    def _settled(self, path: Path) -> None:
        self._load_profiles(path)
        self._default_session(path)

    @work(thread=True, exclusive=True, group="new.profiles")
    def _load_profiles(self, workspace: Path) -> None:
        from wrapix_core.profiles import load_catalog

        try:
            catalog = load_catalog(workspace if workspace.is_dir() else None)
            names = catalog.names()
        except WrapixError as exc:
            self.app.call_from_thread(self._no_profiles, workspace, exc)
            return
        self.app.call_from_thread(self._set_profiles, workspace, names)

    def _no_profiles(self, workspace: Path, error: WrapixError) -> None:
        """The profiles cannot be read (a broken wrapix.toml): say so where they would be."""
        self._profiles_for = workspace
        self._profiles_failed = True
        select = self.query_one("#profile", Select)
        select.prompt = "no profiles: see the error below"
        select.set_options([])
        self._show_status(str(error), True)

    def _set_profiles(self, workspace: Path, names: list[str]) -> None:
        self._profiles_for = workspace
        select = self.query_one("#profile", Select)
        if self._profiles_failed:
            self._profiles_failed = False
            select.prompt = "Select"
            self._show_status("", False)
        current = select.value
        select.set_options([(name, name) for name in names])
        default = self.core.settings.sandbox.profile
        for wanted in (current, default):
            if isinstance(wanted, str) and wanted in names:
                select.value = wanted
                break
        else:
            if names:
                select.value = names[0]

    # -- launching ------------------------------------------------------------------

    @on(Input.Submitted, "#workspace")
    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_launch()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.busy:
            self.app.notify("The sandbox is starting; wait for it to finish.",
                            severity="warning")
            return
        self.dismiss(None)

    def action_launch(self) -> None:
        if self.busy:
            return
        field = self.query_one("#workspace", Input)
        result = field.validate(field.value)
        if result is not None and not result.is_valid:
            self.query_one("#workspace-error", Static).update(
                Text("; ".join(result.failure_descriptions)))
            field.focus()
            return
        profile = self.query_one("#profile", Select).value
        if not isinstance(profile, str):
            self._show_status("Choose a profile (they are still loading, or none exist).",
                              True)
            return
        chosen = self.query_one("#agent", Select).value
        agent = chosen if isinstance(chosen, str) and chosen != DEFAULT_CHOICE else None
        box = self.query_one("#session", Checkbox)
        session = box.value and not box.disabled
        picked = self.query_one("#host", Select).value
        host = picked if isinstance(picked, str) and picked != LOCAL else None
        if host is not None and box.disabled:
            self._show_status(f"A sandbox on host {host} runs a session, and this is not a "
                              "git repository with a commit.", True)
            return
        self._set_busy(True)
        where = "a new session of" if session or host else "a sandbox for"
        self._show_status(f"Starting {where} {fmt.home_short(expand(field.value))} "
                          f"with profile {profile}"
                          + (f" running {agent}" if agent else "")
                          + (f" on host {host}" if host else "") + "…", False)
        self._launch(expand(field.value), profile, agent, session, host)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for selector in ("#workspace", "#profile", "#agent", "#host", "#start", "#session"):
            self.query_one(selector).disabled = busy

    def _show_status(self, text: str, error: bool) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_class(error, "error")

    @work(thread=True, exclusive=True, group="new.launch")
    def _launch(self, workspace: Path, profile: str, agent: str | None = None,
                session: bool = False, host: str | None = None) -> None:
        """In a thread with its own event loop: the core's ``prepare`` may build the
        profile's image (minutes) and ``run_detached`` copies staged mounts; neither may
        hold up the app's loop. Progress arrives as :class:`BuildProgress` messages."""
        try:
            prepared = asyncio.run(self._prepare_and_start(workspace, profile, agent,
                                                           session, host))
        except WrapixError as exc:
            self.post_message(LaunchFailed(str(exc)))
            return
        except Exception as exc:  # a bug: say it here, keep the app alive
            log.exception("launch failed")
            self.post_message(LaunchFailed(f"starting the sandbox failed unexpectedly: "
                                           f"{exc!r}"))
            return
        self.app.call_from_thread(self._launched, prepared)

    async def _prepare_and_start(self, workspace: Path, profile: str,
                                 agent: str | None = None, session: bool = False,
                                 host: str | None = None) -> Any:
        from wrapix_core.sandbox.launcher import LaunchRequest, prepare, run_detached
        from wrapix_tui.core import load_settings_for

        settings, problems = load_settings_for(workspace)
        if problems:
            raise problems[0]
        if host is not None:  # what `wrapix run --on HOST --detach` does
            from wrapix_core.hosts.run_on import prepare_on_host

            planned = await prepare_on_host(
                host, LaunchRequest(workspace=workspace, profile=profile, detach=True,
                                    agent=agent),  # type: ignore[arg-type]  # one of NAMES
                settings, on_build=self._on_build)
            await run_detached(planned.prepared)
            from dataclasses import replace

            return replace(planned.prepared, notes=planned.notes)  # said by _launched
        options: dict[str, Any] = {"runtime": self.core.runtime}
        if session:  # what `wrapix run` does: a new session, the project's profiles
            from wrapix_core.profiles import load_catalog
            from wrapix_core.sessions.opening import open_session

            opened, mount, notes = open_session(workspace, None, None, settings)
            for note in notes:
                self.app.call_from_thread(self.app.notify, note, markup=False)
            options["catalog"] = load_catalog(opened.project)
            request = LaunchRequest(workspace=opened.path, profile=profile, detach=True,
                                    name=opened.container, session=mount,
                                    agent=agent)  # type: ignore[arg-type]  # one of NAMES
        else:
            request = LaunchRequest(workspace=workspace, profile=profile, detach=True,
                                    agent=agent)  # type: ignore[arg-type]  # one of NAMES
        if "on_build" in inspect.signature(prepare).parameters:
            options["on_build"] = self._on_build
        prepared = await prepare(request, settings, **options)
        await run_detached(prepared)
        return prepared

    def _launched(self, prepared: Any) -> None:
        # What wrapix did on the way (notes) and what to know about the sandbox (warnings);
        # older cores called both ``notices``.
        for note in getattr(prepared, "notes", ()):
            self.app.notify(str(note))
        for warning in [*getattr(prepared, "warnings", ()), *getattr(prepared, "notices", ())]:
            self.app.notify(str(warning), severity="warning", timeout=10)
        self.dismiss(prepared.plan.name)

    def on_launch_failed(self, message: LaunchFailed) -> None:
        self._failed(message.text)

    def _failed(self, text: str) -> None:
        self._set_busy(False)
        self.query_one("#build-progress").display = False
        self._show_status(text, True)

    def _on_build(self, event: Any) -> None:
        """Image build progress (first use of a profile builds its image); called in the
        launch thread, so it only posts a message."""
        self.post_message(BuildProgress(str(getattr(event, "line", event)),
                                        getattr(event, "step", None),
                                        getattr(event, "total", None)))

    def on_build_progress(self, message: BuildProgress) -> None:
        bar = self.query_one("#build-progress", ProgressBar)
        if message.total:
            bar.display = True
            bar.update(total=message.total, progress=max(0, (message.step or 1) - 1))
        line = message.line.strip()
        if line:
            self._show_status(fmt.plain(line, 200), False)
