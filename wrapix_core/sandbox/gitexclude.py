"""Keeping what sandboxes leave in a project out of its commits: ``.git/info/exclude``.

A sandbox leaves files in the workspace that must never be committed: ``.claude/`` is
the agent's home configuration (its credentials, ``history.jsonl`` of everything the
person typed, its transcripts), Ralph's state and logs under ``.wrapix/ralph/``, the
task store's lock in ``.beads/``. Before a launch wrapix appends the patterns missing
from the repository's ``.git/info/exclude`` (personal to this clone, never committed).

The workspace is the agent's to write, so this host-side write trusts nothing in it: each
step is opened relative to the one before without following a symbolic link (``.git``,
``.git/info`` or the file planted as a link to elsewhere is skipped, as is a ``.git``
file, which points git anywhere), only a regular file with a single link is appended to,
and any surprise means the file is left alone (with the reason, for a warning).
"""

from __future__ import annotations

import errno
import os
import stat

PATTERNS = (
    "/.claude/",
    "/.wrapix/ralph/state/",
    "/.wrapix/ralph/logs/",
    "/.beads/issues.jsonl.lock",  # wrapix_core.tasks.workspace's (a test keeps them equal)
)
"""Standard library only, no pathlib: the launch fast path runs this on every launch."""
HEADER = "# wrapix: what sandboxes leave in this project (private, never committed)"
MAX_SIZE = 1 << 20
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_dir(name: str, parent: int, *, create: bool = False) -> int:
    try:
        return os.open(name, _DIR, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
        os.mkdir(name, 0o755, dir_fd=parent)
        return os.open(name, _DIR, dir_fd=parent)


def exclude_sandbox_files(workspace: str) -> str | None:
    """Add the missing :data:`PATTERNS` to ``workspace``'s ``.git/info/exclude``.

    Returns None when done (or when the workspace is not a git repository of its own),
    else why the file was left alone."""
    fds: list[int] = []
    try:
        fds.append(os.open(workspace, _DIR))
        try:
            fds.append(os.open(".git", _DIR, dir_fd=fds[-1]))
        except FileNotFoundError:
            return None  # not a repository
        except (NotADirectoryError, OSError) as exc:
            if stat.S_ISLNK(os.stat(".git", dir_fd=fds[-1], follow_symlinks=False).st_mode):
                raise OSError(errno.ELOOP, "a link") from exc
            return None  # a worktree's .git file: it points git elsewhere, not ours to follow
        fds.append(_open_dir("info", fds[-1], create=True))
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK \
            | os.O_CLOEXEC
        fd = os.open("exclude", flags, 0o644, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > MAX_SIZE:
            return f"{workspace}/.git/info/exclude is not a plain file; left alone"
        with os.fdopen(os.dup(fd), "rb") as handle:
            present = {line.strip() for line in handle.read().decode(errors="replace")
                       .splitlines()}
        missing = [pattern for pattern in PATTERNS if pattern not in present]
        if missing:
            lead = "" if info.st_size == 0 else "\n"
            os.write(fd, (lead + "\n".join([HEADER, *missing]) + "\n").encode())
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP or isinstance(exc, NotADirectoryError):
            return (f"{workspace}/.git/info/exclude: a link or not a directory on the way "
                    "(planted?); left alone")
        return f"{workspace}/.git/info/exclude: {exc.strerror}; left alone"
    finally:
        for fd in reversed(fds):
            os.close(fd)
