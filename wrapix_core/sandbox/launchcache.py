"""The launch fast path: repeat an identical `wrapix run` without re-planning it.

Planning a launch costs about a third of a second before Podman is even called — mostly
importing click and pydantic-settings — while Podman itself starts a container in about
a sixth. So the full launch path records its plan together with *validators*: the state
of everything the plan was derived from (settings and profile files, wrapix's own files,
git configuration, the Podman binary and image store, each mounted path, keys, the notify
socket, the tmux pane). The next identical invocation re-checks those with plain ``stat``
calls and, when nothing changed, runs the recorded command directly — after running
the very same workspace checks as the full path (:mod:`.launchchecks`: a link planted in
the workspace since the record was made is refused here too).

Anything unexpected — a changed file, a missing secret, Podman refusing — falls back to
the full path, which re-plans, explains errors, and records afresh.

Every millisecond here is a percent of the launch: this module imports only built-in
modules (``marshal`` for records — they live in the user's own 0700 cache directory and
are never read from anywhere else — and ``zlib`` for file names; the full invocation is
compared, so a name collision only costs a re-plan). The key is the ``repr`` of plain
strings, numbers and tuples, which is the same bytes in every process; ``marshal``'s
bytes are not (they depend on reference counts), so it only stores the record.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import zlib

FORMAT = 3
_LINUX = sys.platform.startswith("linux")
MAX_ENTRIES = 200
_ENV_PREFIXES = ("WRAPIX_", "RALPH_", "XDG_", "GIT_")
_ENV_NAMES = ("HOME", "USER", "TERM", "PATH", "TMUX", "CLAUDE_CODE_OAUTH_TOKEN",
              "ANTHROPIC_API_KEY")
_SECRETS = ("CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY")
TRACE_ENV = "WRAPIX_LAUNCH_TRACE"
"""Set (to anything): say on stderr when a launch takes the fast path (for tests, and for
anyone wondering); not part of the key."""

TYPE_CHECKING = False  # typing itself costs a millisecond; mypy honours this name
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]
    """A marshal-able plan record: str, bytes, int, bool, None, list and dict only."""


def cache_root() -> str:
    """``paths.cache_dir()/launch`` without importing pathlib (Linux XDG rule; a test
    keeps the two in agreement)."""
    override = os.environ.get("WRAPIX_CACHE_DIR")
    if override:
        return os.path.join(os.path.expanduser(override), "launch")
    if _LINUX:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "wrapix", "launch")
    from wrapix_core import paths

    return str(paths.cache_dir() / "launch")


def launch_key(argv: list[str], cwd: str, environ: dict[str, str] | os._Environ[str],
               stdin_tty: bool) -> bytes:
    """Everything about the invocation itself that could change the plan."""
    env = sorted((name, "<set>" if name in _SECRETS else value)  # never a secret's value
                 for name, value in environ.items()
                 if (name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES)
                 and name != TRACE_ENV)
    material = (FORMAT, tuple(argv), cwd, tuple(env), stdin_tty, os.getuid(),
                os.cpu_count(), sys.executable, sys.version)
    return repr(material).encode("utf-8", "backslashreplace")


def record_file(key: bytes) -> str:
    """Where the record for ``key`` is kept."""
    return _file(key)


def _file(key: bytes) -> str:
    return os.path.join(cache_root(), f"{zlib.crc32(key):08x}.plan")


def signature(path: str, *, content: bool = True) -> str:
    """The state of ``path``: missing, its kind, and (``content``) size and mtime."""
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    kind = "d" if stat.S_ISDIR(info.st_mode) else "f"
    real = os.path.realpath(path)
    if not content:
        return f"{kind}:{real}"
    return f"{kind}:{real}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def validators(paths: list[str], kinds_only: list[str] | None = None) -> list[list[str]]:
    """``[path, signature, mode]`` rows; ``kinds_only`` paths are checked for kind only
    (a workspace changes its mtime with every file an agent writes)."""
    rows = [[path, signature(path), "full"] for path in dict.fromkeys(paths)]
    rows += [[path, signature(path, content=False), "kind"]
             for path in dict.fromkeys(kinds_only or [])]
    return rows


def still_valid(rows: list[list[str]]) -> bool:
    return all(signature(path, content=mode == "full") == sig for path, sig, mode in rows)


def store(key: bytes, record: Record) -> None:
    """Write a record for ``key`` (and keep the cache bounded)."""
    root = cache_root()
    os.makedirs(root, mode=0o700, exist_ok=True)
    tmp = os.path.join(root, f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            marshal.dump({**record, "format": FORMAT, "key": key}, handle)
        os.replace(tmp, _file(key))
    except BaseException:
        remove(tmp)  # a cache: losing a record costs one full launch, nothing more
        raise
    entries: list[tuple[int, str]] = []
    for entry in os.scandir(root):
        if entry.name.endswith(".plan"):
            try:
                entries.append((entry.stat().st_mtime_ns, entry.path))
            except FileNotFoundError:  # another wrapix pruned it meanwhile
                continue
    entries.sort()
    for _, old in entries[:-MAX_ENTRIES]:
        remove(old)


def remove(path: str) -> None:
    """Delete ``path`` if it exists (contextlib would cost an import here)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return


def forget(key: bytes) -> None:
    remove(_file(key))


def lookup(key: bytes) -> Record | None:
    """The record for ``key`` when it exists and everything it depends on is unchanged."""
    try:
        with open(_file(key), "rb") as handle:
            record = marshal.load(handle)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT \
            or record.get("key") != key:
        return None
    if not still_valid(record.get("validators", [])):
        return None
    if record.get("session_id") != _tmux_session(record.get("session_id") is not None):
        return None
    return record


def _tmux_session(needed: bool) -> str | None:
    if not needed or not os.environ.get("TMUX"):
        return None
    from wrapix_core.notify.sessions import current_tmux_session_id

    return current_tmux_session_id()
