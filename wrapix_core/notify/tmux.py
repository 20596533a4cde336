"""Asking tmux whether a pane is the one a person is looking at.

A sandbox's session id is its tmux pane as ``#S:#I.#P`` (session name, window index,
pane index). The pane is in view when its session has an attached client, its window
is the session's active window and it is the window's active pane.

Panes are found by listing them all (``list-panes -a``) and matching the id exactly:
``display-message -t`` quietly falls back to the current pane when a target does not
exist, which would suppress notifications for panes that are gone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wrapix_core import proc

TIMEOUT = 1.0
"""Seconds a tmux query may take before it counts as failed."""

SESSION_ID_FORMAT = "#S:#I.#P"
_PANES_FORMAT = "#{session_attached}\t#{window_active}\t#{pane_active}\t" + SESSION_ID_FORMAT


class TmuxError(Exception):
    """tmux could not answer (not installed, no server, hung, garbage)."""


@dataclass(frozen=True, slots=True)
class PaneState:
    session_id: str
    attached_clients: int
    window_active: bool
    pane_active: bool

    @property
    def in_view(self) -> bool:
        return self.attached_clients > 0 and self.window_active and self.pane_active


def socket_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The tmux server socket of the calling process (``$TMUX`` is ``path,pid,index``)."""
    value = (os.environ if env is None else env).get("TMUX", "")
    path = value.split(",", 1)[0]
    return path or None


def tmux_argv(args: Sequence[str], socket: str | None = None, tmux: str = "tmux") -> list[str]:
    return [tmux, *(["-S", socket] if socket else []), *args]


def list_panes_argv(socket: str | None = None, tmux: str = "tmux") -> list[str]:
    return tmux_argv(["list-panes", "-a", "-F", _PANES_FORMAT], socket, tmux)


def parse_panes(output: str) -> dict[str, PaneState]:
    panes: dict[str, PaneState] = {}
    for line in output.splitlines():
        parts = line.split("\t", 3)
        if len(parts) != 4:
            continue
        attached, window, pane, session_id = parts
        try:
            panes[session_id] = PaneState(session_id, int(attached), window == "1", pane == "1")
        except ValueError:
            continue
    return panes


async def pane_state(session_id: str, socket: str | None = None,
                     tmux: str = "tmux") -> PaneState | None:
    """The pane's state, or None when no such pane exists; raises :class:`TmuxError`."""
    try:
        done = await proc.run(list_panes_argv(socket, tmux), timeout=TIMEOUT)
    except proc.ProcError as exc:
        raise TmuxError(str(exc)) from None
    return parse_panes(done.stdout).get(session_id)


def current_pane_id(tmux: str = "tmux") -> str | None:
    """``#S:#I.#P`` of the pane this process runs in (blocking); None outside tmux."""
    pane = os.environ.get("TMUX_PANE")
    if not os.environ.get("TMUX") or not pane:
        return None
    try:
        done = proc.run_sync([tmux, "display-message", "-p", "-t", pane, SESSION_ID_FORMAT],
                             timeout=TIMEOUT)
    except proc.ProcError:
        return None
    value = done.stdout.strip()
    return value or None
