"""File locks between Ralph processes: one per label (claiming work, saving state) and one
per issue (held while a step works it).

The locks are ``flock`` locks (via filelock): the kernel drops them when their holder
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

from filelock import FileLock, Timeout

from wrapix_core.ralph.errors import LockTimeout

POLL = 0.05
"""Seconds between attempts while another process holds a lock."""


class RalphLock:
    """One lock file. Not reentrant; release what you acquired."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._lock = FileLock(str(path), thread_local=False)

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

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
        if self._lock.is_locked:
            self._lock.release()

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return bool(self._lock.is_locked)


@contextlib.asynccontextmanager
async def holding(path: Path, what: str, timeout: float = 60.0) -> AsyncIterator[RalphLock]:
    """``async with holding(path, "label demo"):`` — the lock for the block's duration."""
    lock = RalphLock(path, what)
    await lock.acquire(timeout)
    try:
        yield lock
    finally:
        lock.release()


def is_held(path: Path) -> bool:
    """True when some process (this one included, through another object) holds ``path``."""
    if not path.exists():
        return False
    probe = RalphLock(path, "probe")
    if probe.try_acquire():
        probe.release()
        return False
    return True
