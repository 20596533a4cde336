"""``[session] copy``: files a fresh checkout lacks (``.env``, local configuration),
copied from the project into a new session.

Read from the user's checkout without following any link (a link there could lead out
of the project: :mod:`wrapix_core.workspace_fs`), written into the new session the same
way. A directory is copied file by file; links and special files in it are left out and
said.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.sessions.model import SessionError

MAX_FILES = 10_000
"""A copied directory holds at most this many files (``node_modules`` is for setup)."""


def _relative(entry: str) -> str:
    pure = PurePosixPath(entry)
    if not entry or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] == (".git",):
        raise SessionError(f"session.copy entry {entry!r} must be a path inside the "
                           "project, without '..' and not in .git", "fix [session] copy")
    return pure.as_posix()


def _copy_file(project: Path, target: Path, rel: str, mode: int) -> None:
    data = workspace_fs.read_bytes(project, rel)
    with workspace_fs.open_new(target, rel, stat.S_IMODE(mode) & 0o777) as handle:
        handle.write(data)


def copy_into(project: Path, target: Path, entries: Sequence[str]) -> list[str]:
    """Copy ``entries`` (paths relative to the project) into ``target``; returns notes on
    what was left out (missing entries, links, special files)."""
    notes: list[str] = []
    for entry in entries:
        rel = _relative(entry)
        try:
            _copy_entry(project, target, rel, notes)
        except WrapixError as error:
            notes.append(f"not copied: {error}")
    return notes


def _copy_entry(project: Path, target: Path, rel: str, notes: list[str]) -> None:
    pending = [rel]
    copied = 0
    while pending:
        current = pending.pop()
        info = workspace_fs.lstat(project, current)
        if info is None:
            if current == rel:
                notes.append(f"session.copy: {rel} does not exist in the project; skipped")
            continue
        if stat.S_ISLNK(info.st_mode):
            notes.append(f"session.copy: {current} is a symbolic link; not copied (links are "
                         "never followed out of the project)")
        elif stat.S_ISDIR(info.st_mode):
            workspace_fs.makedirs(target, current)
            pending += [f"{current}/{name}" for name in
                        sorted(workspace_fs.listdir(project, current), reverse=True)]
        elif stat.S_ISREG(info.st_mode):
            copied += 1
            if copied > MAX_FILES:
                notes.append(f"session.copy: {rel} holds more than {MAX_FILES} files; the "
                             "rest was not copied (make it with [session] setup instead)")
                return
            _copy_file(project, target, current, info.st_mode)
        else:
            notes.append(f"session.copy: {current} is not a regular file; not copied")
