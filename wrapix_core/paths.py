"""Where wrapix keeps its files.

XDG base directories, each overridable with a ``WRAPIX_*_DIR`` environment variable.
The overrides exist because rootless Podman reads the XDG variables itself (storage,
containers.conf, runroot): isolating wrapix's files in tests or in a second installation
must not move Podman's. On Linux the XDG rules are applied directly (they are four
lines, and the launch fast path cannot afford importing platformdirs); elsewhere
platformdirs knows the platform's conventions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TYPE_CHECKING = False  # importing typing costs milliseconds; mypy honours this name
if TYPE_CHECKING:
    from typing import BinaryIO

APP = "wrapix"
_LINUX = sys.platform.startswith("linux")
_XDG = {
    "config": ("XDG_CONFIG_HOME", ".config"),
    "state": ("XDG_STATE_HOME", ".local/state"),
    "cache": ("XDG_CACHE_HOME", ".cache"),
    "data": ("XDG_DATA_HOME", ".local/share"),
}


def _override(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def _base(kind: str) -> Path:
    if _LINUX:
        variable, default = _XDG[kind]
        value = os.environ.get(variable, "")
        root = Path(value) if os.path.isabs(value) else Path.home() / default
        return root / APP
    import platformdirs

    finder = {"config": platformdirs.user_config_dir, "state": platformdirs.user_state_dir,
              "cache": platformdirs.user_cache_dir, "data": platformdirs.user_data_dir}[kind]
    return Path(finder(APP))


def config_dir() -> Path:
    """User configuration: ``config.toml`` and ``profiles/*.toml``."""
    return _override("WRAPIX_CONFIG_DIR") or _base("config")


def state_dir() -> Path:
    """Persistent state that is not configuration: the notification inbox."""
    return _override("WRAPIX_STATE_DIR") or _base("state")


def cache_dir() -> Path:
    """Disposable data: probe results, staged mounts, build contexts, launch plans."""
    return _override("WRAPIX_CACHE_DIR") or _base("cache")


def data_dir() -> Path:
    """Data worth keeping: builder keys and the builder's Nix store."""
    return _override("WRAPIX_DATA_DIR") or _base("data")


def runtime_dir() -> Path:
    """Per-login ephemeral files: the notify socket and tmux session registry.

    ``$XDG_RUNTIME_DIR/wrapix`` when the login has one, else ``~/.local/share/wrapix``
    (as the original did), never a world-writable shared directory. That fallback is
    wrapix's data directory (builder keys live there): this directory is therefore never
    mounted into a sandbox, only each sandbox's own ``sockets/<name>/`` in it.
    """
    override = _override("WRAPIX_RUNTIME_DIR")
    if override:
        return override
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir():
        return Path(xdg) / APP
    return Path.home() / ".local" / "share" / APP


def notify_socket() -> Path:
    """The notification daemon's Unix socket."""
    return runtime_dir() / "notify.sock"


def sandbox_socket_dir(name: str) -> Path:
    """Sandbox ``name``'s notification socket directory, the one thing mounted at
    ``/run/wrapix`` in it (see :mod:`wrapix_core.notify.socketdirs`); ValueError for a
    name that is not a container name."""
    from wrapix_core.notify import socketdirs

    return Path(socketdirs.sandbox_dir(str(notify_socket()), name))


def sessions_dir() -> Path:
    """tmux session registry used for focus-aware notification suppression."""
    return runtime_dir() / "sessions"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 for the leaf; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = 0o644) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never half.

    The bytes go to a temporary file beside ``path``, are synced, and replace it in one
    rename (:func:`wrapix_core.workspace_fs.write_atomic` anchored at the parent, so a
    link at ``path`` is refused rather than replaced or written through). ``mode`` is the
    new file's permissions; None keeps those of the file being replaced (0o644 when there
    is none).
    """
    from wrapix_core import workspace_fs

    path.parent.mkdir(parents=True, exist_ok=True)
    workspace_fs.write_atomic(path.parent, path.name, data, mode)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def open_regular(path: Path) -> BinaryIO:
    """``path`` open for reading, if it is a regular file; raises ``OSError`` otherwise.

    Files in a workspace can be linked to anything (an agent writes there): a FIFO must
    not be waited on (the open does not block) and a device not read without end. For a
    path inside a workspace, :mod:`wrapix_core.workspace_fs` also refuses links.
    """
    from wrapix_core.workspace_fs import regular_fd

    return os.fdopen(regular_fd(path), "rb")
