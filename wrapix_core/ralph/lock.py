"""File locks between Ralph processes: one per label (claiming work, saving state) and one
per issue (held while a step works it).

The locks are ``flock`` locks (:class:`wrapix_core.workspace_fs.Lock`: a lock file that
is a link is refused, never followed or created through): the kernel drops them when their holder
dies, so "the issue lock is free" reliably means "no step is working this issue any
more", whatever happened to the process that was. Acquiring never blocks the event
loop: it polls a non-blocking attempt, so the TUI and two loops in one process are fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from wrapix_core import workspace_fs
from wrapix_core.ralph.errors import LockTimeout

POLL = 0.05
"""Seconds between attempts while another process holds a lock."""


class RalphLock:
    """One lock file. Not reentrant; release what you acquired."""

    def __init__(self, path: Path, what: str, anchor: Path | None = None) -> None:
        """``anchor``: the directory below which no link on the way is followed (Ralph's
        :attr:`~wrapix_core.ralph.state.RalphPaths.anchor`; default the lock's own)."""
        self.path = path
        self.what = what
        if anchor is None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = workspace_fs.Lock(anchor or path.parent, path)

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""
        return self._lock.try_acquire()

    async def acquire(self, timeout: float) -> None:
        """Take the lock, waiting up to ``timeout`` seconds (raises :class:`LockTimeout`)."""
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise LockTimeout(f"{self.what} is locked by another Ralph process "
                                  f"({self.path}) for more than {timeout:g}s",
                                  "wait for it to finish, or check `ralph status`")
            await asyncio.sleep(POLL)

    def release(self) -> None:
        self._lock.release()

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._lock.held


@contextlib.asynccontextmanager
async def holding(path: Path, what: str, timeout: float = 60.0,
                  anchor: Path | None = None) -> AsyncIterator[RalphLock]:
    """``async with holding(path, "label demo"):`` — the lock for the block's duration."""
    lock = RalphLock(path, what, anchor)
    await lock.acquire(timeout)
    try:
        yield lock
    finally:
        lock.release()


def is_held(path: Path, anchor: Path | None = None) -> bool:
    """True when some process (this one included, through another object) holds ``path``."""
    if not path.exists():
        return False
    probe = RalphLock(path, "probe", anchor)
    if probe.try_acquire():
        probe.release()
        return False
    return True
