"""Desktop popups: ``notify-send`` (Linux), ``terminal-notifier`` (macOS), or none.

Popups are fire-and-forget tasks (``proc.run`` with a timeout), so a slow or hung
notification server never holds up the daemon. At most ``max_in_flight`` run at once:
a flood from a sandbox becomes inbox entries, not hundreds of processes. A missing
backend is reported once, when the daemon starts (or the first time a popup is due),
never per message; the inbox still gets everything.

Popup text is untrusted: it is cleaned with :func:`.sanitize.display_text` (no control
characters, bounded length) and, for notify-send, escaped as the body markup that
notification servers interpret.
"""

from __future__ import annotations

import asyncio
import html
import logging
import shutil
import sys
from dataclasses import dataclass
from typing import Protocol

from wrapix_core import proc
from wrapix_core.notify.protocol import Notification
from wrapix_core.untrusted import display_text

log = logging.getLogger("wrapix.notify.backends")

POPUP_TIMEOUT = 5.0
TITLE_LIMIT = 120
MESSAGE_LIMIT = 500


class Backend(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def executable(self) -> str: ...

    @property
    def install_hint(self) -> str: ...

    def argv(self, notification: Notification) -> list[str]: ...


@dataclass(frozen=True)
class NotifySend:
    executable: str = "notify-send"
    name: str = "notify-send"
    install_hint: str = "install libnotify-bin (Debian/Ubuntu) or libnotify"

    def argv(self, notification: Notification) -> list[str]:
        title = display_text(notification.title, TITLE_LIMIT) or "wrapix"
        body = html.escape(display_text(notification.message, MESSAGE_LIMIT), quote=False)
        return [self.executable, "--app-name=wrapix", "--", title, body]


@dataclass(frozen=True)
class TerminalNotifier:
    executable: str = "terminal-notifier"
    name: str = "terminal-notifier"
    install_hint: str = "install it with `brew install terminal-notifier`"

    def argv(self, notification: Notification) -> list[str]:
        argv = [self.executable, "-title", display_text(notification.title, TITLE_LIMIT),
                "-message", display_text(notification.message, MESSAGE_LIMIT) or " ",
                "-group", f"wrapix-{notification.session_id or notification.sandbox or 'host'}"]
        if notification.sound:
            argv += ["-sound", display_text(notification.sound, 64)]
        return argv


def choose_backend(setting: str = "auto", platform: str = sys.platform) -> Backend | None:
    """The backend for ``notify.backend`` (``auto``: by platform; ``none``: no popups)."""
    if setting == "none":
        return None
    if setting == "notify-send":
        return NotifySend()
    if setting == "terminal-notifier":
        return TerminalNotifier()
    return TerminalNotifier() if platform == "darwin" else NotifySend()


class PopupRunner:
    """Starts popups in the background and remembers what it already complained about."""

    def __init__(self, backend: Backend | None, *, max_in_flight: int = 8,
                 timeout: float = POPUP_TIMEOUT):
        self.backend = backend
        self.max_in_flight = max_in_flight
        self.timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._missing: str | None = None
        self._failed_once = False
        if backend is not None and shutil.which(backend.executable) is None:
            # Known before anything was shown: `wrapix doctor` (and the TUI's start-up
            # check) reports it with the fix, so no warning on every start.
            self._report_missing(logging.INFO)

    def _report_missing(self, level: int = logging.WARNING) -> None:
        assert self.backend is not None
        self._missing = f"{self.backend.executable} not found"
        log.log(level, "%s: desktop popups are off, notifications still go to the inbox "
                "(%s, or set notify.backend = \"none\")",
                self._missing, self.backend.install_hint)

    def unavailable(self) -> str | None:
        """Why no popup can be shown at all right now, or None."""
        if self.backend is None:
            return "desktop popups are off (notify.backend = none)"
        return self._missing

    def show(self, notification: Notification) -> str | None:
        """Start a popup; returns why it was not started (None: started)."""
        why = self.unavailable()
        if why is not None:
            return why
        if len(self._tasks) >= self.max_in_flight:
            return f"{len(self._tasks)} popups already in flight"
        assert self.backend is not None
        task = asyncio.create_task(self._run(self.backend.argv(notification)),
                                   name="wrapix-popup")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return None

    async def _run(self, argv: list[str]) -> None:
        try:
            await proc.run(argv, timeout=self.timeout)
        except proc.CommandNotFound:
            if self._missing is None:
                self._report_missing()
        except proc.ProcError as exc:
            level = logging.DEBUG if self._failed_once else logging.WARNING
            self._failed_once = True
            log.log(level, "desktop popup failed: %s", exc)

    async def aclose(self) -> None:
        """Wait briefly for running popups, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=1.0)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
