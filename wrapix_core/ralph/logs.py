"""Agent session logs: ``logs/<issue>-<time>.log`` per step (attempts appended, each
after a ``[ralph] … attempt N of M`` line), ``plan-…``, ``ready-…``, ``check-<time>.log``.

A log holds the agent's raw output. :func:`render` shows it as a person reads it
(assistant text, tool calls, the result; Ralph's own ``[ralph]`` lines) unless raw
output is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from wrapix_core import workspace_fs
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.signals import readable
from wrapix_core.ralph.state import RalphPaths

PHASE_LOGS = ("plan", "ready", "check")
_TIME = r"\d{8}-\d{9}"
WATCH_WAKE_MS = 1000


def _stem_of(path: Path) -> str | None:
    match = re.fullmatch(rf"(.+)-({_TIME})\.log", path.name)
    return match.group(1) if match else None


def list_logs(paths: RalphPaths, selector: str | None = None) -> list[Path]:
    """Logs oldest first: all, a phase's (``plan``, ``ready``, ``step``), or an issue's."""
    try:  # a logs directory that is a link is refused (workspace_fs), not listed
        found = [paths.logs / name for name in workspace_fs.listdir(paths.anchor, paths.logs)
                 if _stem_of(Path(name)) is not None]
    except OSError:
        return []
    found.sort(key=lambda path: (path.name.rsplit("-", 2)[-2:], path.name))
    if selector is None:
        return found
    if selector == "step":
        return [path for path in found if _stem_of(path) not in PHASE_LOGS]
    return [path for path in found if _stem_of(path) == selector]


def latest(paths: RalphPaths, selector: str | None = None) -> Path:
    found = list_logs(paths, selector)
    if not found:
        what = f" for {selector}" if selector else ""
        raise RalphError(f"no Ralph logs{what} in {paths.logs}",
                         "logs appear after `ralph plan`, `ralph ready` or `ralph step`")
    return found[-1]


def render(lines: list[str], raw: bool = False) -> list[str]:
    """Lines as shown: raw, or each agent record as a person reads it."""
    if raw:
        return lines
    shown: list[str] = []
    for line in lines:
        shown.extend([line] if line.startswith("[ralph]") else readable(line))
    return shown


def _read(path: Path, anchor: Path | None) -> bytes:
    """``path``'s bytes; below ``anchor`` (Ralph's :attr:`RalphPaths.anchor`) no link on
    the way is followed."""
    if anchor is None:
        return path.read_bytes()
    return workspace_fs.read_bytes(anchor, path)


def read_lines(path: Path, anchor: Path | None = None) -> list[str]:
    try:
        return _read(path, anchor).decode("utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise RalphError(f"cannot read {path}: {exc.strerror or exc}") from None


def snapshot(path: Path, anchor: Path | None = None) -> tuple[list[str], int]:
    """The log's complete lines and the byte offset they end at.

    Following must continue from exactly there: a line appended after this read (and
    before following starts) would otherwise be skipped for good.
    """
    try:
        data = _read(path, anchor)
    except OSError as exc:
        raise RalphError(f"cannot read {path}: {exc.strerror or exc}") from None
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8", errors="replace").splitlines(), end


async def follow(path: Path, emit: Callable[[str], None], *, start: int,
                 anchor: Path | None = None) -> None:
    """Call ``emit`` for each complete line appended to ``path`` after byte ``start``;
    runs until cancelled (Ctrl-C). Watches the file; the watcher's periodic wake-up also
    catches a line written before the watch was in place."""
    from watchfiles import awatch

    position = start
    pending = b""

    def drain() -> None:
        nonlocal position, pending
        try:
            with (path.open("rb") if anchor is None
                  else workspace_fs.open_read(anchor, path)) as handle:
                handle.seek(position)
                data = handle.read()
        except FileNotFoundError:
            return
        position += len(data)
        pending += data
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            emit(raw.decode("utf-8", errors="replace"))

    drain()
    async for _changes in awatch(path, debounce=20, step=10, rust_timeout=WATCH_WAKE_MS,
                                 yield_on_timeout=True):
        drain()
