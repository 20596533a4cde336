"""The tmux session registry behind focus-aware suppression (docs/architecture.md, Notifications).

The launcher of a foreground sandbox registers the tmux pane it runs in (its session
id ``#S:#I.#P``, also passed to the container as ``WRAPIX_SESSION_ID``) together with
the focused desktop window at launch — the terminal the person just typed in — and
unregisters it when the sandbox ends. One JSON file per session id in
:func:`wrapix_core.paths.sessions_dir`, named after the id with ``:`` and ``.`` (and
anything else unsafe in a file name) replaced by ``-``:
``{"session_id": "main:1.0", "window_id": "42", "tmux_socket": "/tmp/tmux-1000/default"}``.
``tmux_socket`` (from ``$TMUX``) lets the daemon ask the right tmux server.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from wrapix_core import paths
from wrapix_core.notify import tmux, windows

_UNSAFE = re.compile(r"[^A-Za-z0-9_@%+=,-]")


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    window_id: str | None
    tmux_socket: str | None = None


def session_file(session_id: str, directory: Path | None = None) -> Path:
    """Where ``session_id`` is registered (``main:1.0`` → ``main-1-0.json``)."""
    name = _UNSAFE.sub("-", session_id) or "-"
    return (directory or paths.sessions_dir()) / f"{name}.json"


def register_session(session_id: str, window_id: str | None, *,
                     tmux_socket: str | None = None) -> Path:
    """Record that ``session_id`` runs in desktop window ``window_id``; returns the file.

    ``tmux_socket`` defaults to this process's tmux server (``$TMUX``).
    """
    paths.ensure_private_dir(paths.runtime_dir())
    directory = paths.ensure_private_dir(paths.sessions_dir())
    data = {"session_id": session_id, "window_id": window_id,
            "tmux_socket": tmux_socket or tmux.socket_from_env()}
    path = session_file(session_id, directory)
    paths.atomic_write_text(path, json.dumps(data) + "\n", mode=0o600)
    return path


def unregister_session(session_id: str) -> None:
    """Forget ``session_id`` (nothing happens when it was not registered)."""
    with contextlib.suppress(FileNotFoundError):
        session_file(session_id).unlink()


def read_session(session_id: str) -> Session | None:
    """The registration of ``session_id``; None when absent, unreadable or not its own."""
    try:
        data = json.loads(session_file(session_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("session_id") != session_id:
        return None  # a different id that maps to the same file name
    window = data.get("window_id")
    socket = data.get("tmux_socket")
    return Session(session_id,
                   str(window) if isinstance(window, (str, int)) and window != "" else None,
                   socket if isinstance(socket, str) and socket else None)


def current_tmux_session_id() -> str | None:
    """The ``#S:#I.#P`` of the tmux pane this process runs in; None outside tmux."""
    return tmux.current_pane_id()


def focused_window_id() -> str | None:
    """The focused desktop window (niri) or frontmost app (macOS); None if unknown."""
    probe = windows.default_probe()
    if probe is None:
        return None
    try:
        return windows.focused_sync(probe)
    except windows.WindowProbeError:
        return None
