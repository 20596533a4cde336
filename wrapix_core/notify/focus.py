"""Deciding whether the person is already looking at the sandbox that notified.

A popup is suppressed only when all of these hold:

1. the notification names a session id that the launcher registered (:mod:`.sessions`);
2. tmux says that pane is the active pane of the active window of a session with an
   attached client (:mod:`.tmux`);
3. when the desktop can be asked (niri on Linux, the frontmost app on macOS), the
   focused window is the one registered for the session (:mod:`.windows`).

Anything unknown — no session, tmux or niri failing or hanging, no registered window —
shows the popup: a notification too many is better than a missed one.
``WRAPIX_NOTIFY_ALWAYS=1`` skips the check entirely.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Literal

from wrapix_core.notify import sessions, tmux, windows
from wrapix_core.notify.windows import WindowProbe

MAX_SESSION_ID = 256


@dataclass(frozen=True, slots=True)
class FocusResult:
    focused: bool
    """True: the person is looking at the pane, suppress the popup."""
    reason: str


def always_notify() -> bool:
    return os.environ.get("WRAPIX_NOTIFY_ALWAYS") == "1"


def _valid(session_id: str) -> bool:
    return 0 < len(session_id) <= MAX_SESSION_ID and session_id.isprintable()


class FocusChecker:
    """Answers "is this session in view?"; at most ``concurrency`` checks run at once."""

    def __init__(self, *, tmux_executable: str = "tmux",
                 window_probe: WindowProbe | Literal["auto"] | None = "auto",
                 concurrency: int = 4):
        self.tmux = tmux_executable
        self.window_probe = windows.default_probe() if window_probe == "auto" else window_probe
        self._slots = asyncio.Semaphore(concurrency)

    async def check(self, session_id: str | None) -> FocusResult:
        if always_notify():
            return FocusResult(False, "WRAPIX_NOTIFY_ALWAYS=1")
        if not session_id:
            return FocusResult(False, "no session id")
        if not _valid(session_id):
            return FocusResult(False, "invalid session id")
        session = sessions.read_session(session_id)
        if session is None:
            return FocusResult(False, f"session {session_id} is not registered")
        async with self._slots:
            return await self._check(session)

    async def _check(self, session: sessions.Session) -> FocusResult:
        probe = self.window_probe
        pane_query = tmux.pane_state(session.session_id, session.tmux_socket, self.tmux)
        if probe is None:
            pane_result: object = (await asyncio.gather(pane_query, return_exceptions=True))[0]
            window_result: object = None
        else:
            pane_result, window_result = await asyncio.gather(
                pane_query, windows.focused(probe), return_exceptions=True)
        if isinstance(pane_result, BaseException):
            return FocusResult(False, f"tmux could not tell: {pane_result}")
        if pane_result is None:
            return FocusResult(False, f"no tmux pane {session.session_id}")
        assert isinstance(pane_result, tmux.PaneState)
        if pane_result.attached_clients == 0:
            return FocusResult(False, "tmux session not attached")
        if not pane_result.window_active:
            return FocusResult(False, "tmux window not active")
        if not pane_result.pane_active:
            return FocusResult(False, "tmux pane not active")
        if probe is None:
            return FocusResult(True, "tmux pane active in an attached session "
                                     "(no window manager to ask)")
        if isinstance(window_result, BaseException):
            return FocusResult(False, f"{probe.name} could not tell: {window_result}")
        if session.window_id is None:
            return FocusResult(False, f"no {probe.name} window registered for the session")
        if window_result != session.window_id:
            return FocusResult(False, f"{probe.name}: focus is on {window_result}, "
                                      f"the sandbox is in {session.window_id}")
        return FocusResult(True, f"tmux pane active and {probe.name} window "
                                 f"{session.window_id} focused")
