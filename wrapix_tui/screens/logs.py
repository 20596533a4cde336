"""A sandbox's output, followed live.

- Bounded: the newest :data:`MAX_LINES` lines are kept (older ones fall off).
- Following pauses when you scroll up, counts what arrives meanwhile, and resumes when
  you scroll back to the end (or press End).
- ``/`` filters the kept lines (case-insensitive substring); new lines that match keep
  arriving.
- It opens on the last lines the sandbox drew (its screen played through a terminal
  emulator: a full-screen agent writes almost no newlines), then follows what it writes.
- Container output is untrusted: colour codes are dropped and other control characters
  are shown as escapes.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Log, Static

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox.screen import drawn_tail
from wrapix_core.units import plural
from wrapix_core.untrusted import output_lines
from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import Runtime

log = logging.getLogger("wrapix.tui.logs")

MAX_LINES = 5000
FLUSH = 0.05
"""Seconds to gather output lines into one write."""
clean = output_lines
"""One output line as inert display lines (the rule ``wrapix logs`` prints by, too)."""


class FollowLog(Log):
    """A Log that tells its screen whether it sits at the end (following) or not."""

    class Scrolled(Message):
        def __init__(self, at_end: bool) -> None:
            super().__init__()
            self.at_end = at_end

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.post_message(self.Scrolled(self.is_vertical_scroll_end))


class LogsScreen(Screen[None]):
    CSS_PATH = stylesheet("logs.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="logs.close"),
        Binding("slash", "filter", "Filter", id="logs.filter"),
        Binding("end,G", "follow", "Follow", id="logs.follow"),
    ]

    def __init__(self, runtime: Runtime, name: str) -> None:
        super().__init__(id="logs-screen")
        self.runtime = runtime
        self.sandbox = name
        self.lines: deque[str] = deque(maxlen=MAX_LINES)
        self.following = True
        self.missed = 0
        self.filter_text = ""
        self.ended: str | None = None
        self._incoming: list[str] = []
        self._flush_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Label(Text("Logs · ") + fmt.safe(self.sandbox, 63), id="logs-title")
        yield FollowLog(id="log", max_lines=MAX_LINES, auto_scroll=False)
        yield Static("", id="logs-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log", FollowLog).focus()
        self._update_status()
        self._stream()

    @property
    def view(self) -> FollowLog:
        return self.query_one("#log", FollowLog)

    # -- streaming ------------------------------------------------------------------

    @work(exclusive=True, group="logs.stream")
    async def _stream(self) -> None:
        try:
            # What it drew first (a full-screen agent writes almost no lines), then what
            # it writes from now on.
            self._incoming.extend(await drawn_tail(self.runtime, self.sandbox, MAX_LINES))
            self._flush()
            logs = self.runtime.logs(self.sandbox, follow=True, tail=0)
            async with contextlib.aclosing(logs) as lines:
                async for line in lines:
                    self._incoming.extend(clean(line))
                    if self._flush_timer is None:
                        self._flush_timer = self.set_timer(FLUSH, self._flush)
            self.ended = "the output ended (the sandbox stopped)"
        except WrapixError as exc:
            self.ended = str(exc)
        except Exception as exc:
            log.exception("following logs failed")
            self.ended = f"following the logs failed: {exc!r}"
        self._flush()

    def _flush(self) -> None:
        self._flush_timer = None
        batch, self._incoming = self._incoming, []
        self.lines.extend(batch)
        shown = [line for line in batch if self._matches(line)]
        if shown:
            view = self.view
            if self.following:
                view.write_lines(shown, scroll_end=True)
            else:
                view.write_lines(shown, scroll_end=False)
                self.missed += len(shown)
        self._update_status()

    def _matches(self, line: str) -> bool:
        return not self.filter_text or self.filter_text.lower() in line.lower()

    # -- following ------------------------------------------------------------------

    @on(FollowLog.Scrolled)
    def _scrolled(self, message: FollowLog.Scrolled) -> None:
        following = message.at_end
        if following != self.following:
            self.following = following
            if following:
                self.missed = 0
            self._update_status()

    def action_follow(self) -> None:
        self.following = True
        self.missed = 0
        self.view.scroll_end(animate=False, immediate=True)
        self._update_status()

    def _update_status(self) -> None:
        text = Text()
        if self.following:
            text.append(" following ", style="bold reverse green")
        else:
            text.append(" paused ", style="bold reverse yellow")
            text.append(f" {plural(self.missed, 'new line')} "
                        "since you scrolled up — End follows again")
        shown = self.view.line_count if self.is_mounted else 0
        text.append(f"  {plural(len(self.lines), 'line')} kept (max {MAX_LINES})")
        if self.filter_text:
            text.append(f" · filter “{self.filter_text}”: {shown} match")
        if self.ended:
            text.append(f"  · {self.ended}", style="dim")
        self.query_one("#logs-status", Static).update(text)

    # -- filter ---------------------------------------------------------------------

    def action_filter(self) -> None:
        try:
            bar = self.query_one("#logs-filter", Input)
        except Exception:
            bar = Input(value=self.filter_text, placeholder="filter lines — enter keeps it, "
                        "esc clears it", id="logs-filter", classes="filter")
            self.mount(bar, before=self.view)
        bar.display = True
        bar.focus()

    @on(Input.Changed, "#logs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        view = self.view
        view.clear()
        view.write_lines([line for line in self.lines if self._matches(line)],
                         scroll_end=True)
        self.following, self.missed = True, 0
        self._update_status()

    @on(Input.Submitted, "#logs-filter")
    def _filter_submitted(self) -> None:
        self.view.focus()

    def action_close(self) -> None:
        focused = self.focused
        if isinstance(focused, Input):
            if focused.value:
                focused.value = ""  # clears the filter (Changed redraws)
            focused.display = False
            self.view.focus()
            return
        self.dismiss(None)
