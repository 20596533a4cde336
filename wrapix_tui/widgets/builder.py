"""The Builder pane: the Linux builder's status model, start and stop in place.

Status comes from :func:`wrapix_core.builder.status.watch_status` (driven by the shared
event stream, so no polling); start and stop call the core's builder lifecycle and show
their progress and errors here, in the pane.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from wrapix_core.errors import WrapixError
from wrapix_tui import format as fmt
from wrapix_tui.messages import BuilderChanged, BuilderProgress
from wrapix_tui.widgets.pane import Pane

if TYPE_CHECKING:
    from wrapix_core.builder.status import BuilderStatus
    from wrapix_tui.core import Core
    from wrapix_tui.events_hub import EventHub

log = logging.getLogger("wrapix.tui.builder")

STATE_STYLE = {"running": "bold green", "stopped": "red", "not-created": "dim"}


class BuilderPane(Pane, can_focus=True):
    BORDER_TITLE = "Builder"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start builder", id="builder.start"),
        Binding("x", "stop", "Stop builder", id="builder.stop"),
    ]

    status: reactive[BuilderStatus | None] = reactive(None, init=False)
    """The builder's status as last read (None: not read yet)."""
    progress: reactive[Text | None] = reactive[Text | None](None, init=False,
                                                            always_update=True)
    """The line of the start or stop in progress, or of how it ended."""

    def __init__(self) -> None:
        super().__init__("builder")
        self.busy: str | None = None
        self._last_line: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("Reading the builder's status…", id="builder-status")
        yield Static("", id="builder-progress")

    def start(self, core: Core, hub: EventHub) -> None:
        self.core = core
        self._watch(hub)

    @work(exclusive=True, group="builder.watch", exit_on_error=False)
    async def _watch(self, hub: EventHub) -> None:
        from wrapix_core.builder.status import watch_status
        from wrapix_tui.events_hub import SharedEvents

        assert self.core is not None
        runtime = SharedEvents(self.core.runtime, hub)
        async with contextlib.aclosing(
                watch_status(runtime, self.core.settings.builder)) as statuses:
            async for status in statuses:
                self.post_message(BuilderChanged(status))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a builder worker is shown in place (and logged); the rest of the
        app goes on."""
        if event.state != WorkerState.ERROR:
            return
        worker, error = event.worker, event.worker.error
        if worker.group == "builder.watch":
            text = f"builder status stopped updating: {error}"
        else:
            text = f"builder {worker.name} failed: {error!r}"
        log.error("%s", text, exc_info=error)
        self.post_message(BuilderProgress(text, error=True, done=True))

    def on_builder_changed(self, message: BuilderChanged) -> None:
        self.status = message.status

    def watch_status(self) -> None:
        self._show()

    def watch_progress(self) -> None:
        self._show()

    def on_builder_progress(self, message: BuilderProgress) -> None:
        style = "red" if message.error else "yellow" if not message.done else "green"
        if message.total and not message.done:
            bar = self._bar()
            bar.update(total=message.total, progress=message.done_count or 0)
            bar.display = True
        else:
            for bar in self.query("#builder-bar"):
                bar.display = False
        if message.done:
            self.busy = None
        self.progress = Text(message.text, style=style)

    def _bar(self) -> Any:
        """The progress bar, mounted the first time a step reports a count."""
        from textual.widgets import ProgressBar

        bars = self.query("#builder-bar")
        if bars:
            return bars.first()
        bar = ProgressBar(id="builder-bar", show_eta=False)
        self.mount(bar)
        return bar

    def _show(self) -> None:
        status = self.status
        text = Text()
        if status is None:
            text.append("Reading the builder's status…", style="dim")
        else:
            text.append("state  ")
            text.append(status.state, style=STATE_STYLE.get(status.state, ""))
            if self.content_region.width >= 40:  # a narrow pane keeps to what matters
                text.append(f"  {status.name}", style="dim")
            text.append("\n")
            if status.error:
                text.append(status.error, style="red")
                text.append("\n")
            text.append("ssh    ")
            text.append(self._ssh_line(fmt.home_in(status.ssh)))
            text.append("\nstore  ")
            text.append(f"{fmt.size(status.store_bytes)}  {fmt.home_short(status.store)}")
            if status.image:
                text.append("\nimage  ")
                text.append(fmt.safe(status.image, 100))
        self.query_one("#builder-status", Static).update(text)
        progress = self.query_one("#builder-progress", Static)
        progress.update(self.progress or "")
        progress.display = self.progress is not None

    def _ssh_line(self, command: str) -> Text:
        """The whole ssh command when it fits the pane (maximised, wide), else its ends:
        ``ssh … builder@127.0.0.1:2222`` (``z`` shows the whole of it)."""
        room = self.content_region.width - 7
        if room <= 0 or len(command) <= room or self.screen.maximized is self:
            return Text(command)
        words = command.split()
        port = next((words[i + 1] for i, word in enumerate(words[:-1]) if word == "-p"), "")
        short = f"{words[0]} … {words[-1]}{':' + port if port else ''}"
        return Text(short) + Text(f"  ({self.app.key_for('pane.maximize')}: full)"  # type: ignore[attr-defined]
                                  if len(short) + 12 <= room else "", style="dim")

    def on_resize(self) -> None:
        if self.status is not None:
            self._show()

    # -- start and stop -------------------------------------------------------------

    def action_start(self) -> None:
        self._lifecycle("start")

    def action_stop(self) -> None:
        """Asks first, as stopping a sandbox does (when there is a builder to stop)."""
        status = self.status
        if self.core is None or self.busy or status is None or status.state == "not-created":
            self._lifecycle("stop")  # says why not, or that there is nothing to stop
            return
        from wrapix_tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._lifecycle("stop")

        lines = [f"{self.core.settings.builder.name} ({status.state.replace('-', ' ')})",
                 "its container is stopped and removed; the store and the keys stay"]
        self.app.push_screen(ConfirmScreen("Stop the builder?", lines, "Stop", verb="stop"),
                             answered)

    def _lifecycle(self, verb: str) -> None:
        if not self.ready():
            return
        if self.busy:
            self.app.notify(f"The builder is already {self.busy}.", severity="warning")
            return
        self.busy = "starting" if verb == "start" else "stopping"
        self._last_line = None
        self.post_message(BuilderProgress(f"{self.busy.capitalize()} the builder…"))
        self._run_lifecycle(verb).name = verb

    @work(exclusive=True, group="builder.lifecycle", exit_on_error=False)
    async def _run_lifecycle(self, verb: str) -> None:
        from wrapix_tui.builder_control import run as control

        assert self.core is not None
        try:
            status = await control(verb, self.core, self._on_event)
        except WrapixError as exc:
            self.post_message(BuilderProgress(str(exc), error=True, done=True))
        else:
            self.post_message(BuilderChanged(status))
            self.post_message(BuilderProgress(self._last_line or f"builder {verb}: done",
                                              done=True))

    def _on_event(self, event: Any) -> None:
        """A lifecycle event: its line in place, a bar while the store is copied."""
        self._last_line = str(event.line)
        self.post_message(BuilderProgress(self._last_line, done_count=event.done,
                                          total=event.total))
