"""The daemon's per-sandbox sockets: one listener in each sandbox's socket directory.

The launcher creates ``<runtime>/sockets/<sandbox>/`` before the sandbox starts and
removes it when the sandbox is gone (:mod:`.socketdirs`). The daemon learns of both by
watching ``sockets/`` with inotify — the kernel wakes it, nothing polls — and binds
``notify.sock`` in each directory that appears (and in those already there when it
starts, so a daemon started after a sandbox still serves it), and closes the listener of
each directory that goes.

The directory's name is the sandbox's identity: everything arriving on that socket
came from that sandbox, since only that sandbox has it mounted. Each listener carries
its own connection quota in the daemon, so one sandbox holding thousands of connections
exhausts only its own share.

Only the host user can create directories in ``sockets/`` (0700, never mounted); the
names are still checked (:func:`.socketdirs.valid_name`), and a directory that is a link or
not ours is skipped with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wrapix_core.notify import socketdirs
from wrapix_core.notify.listener import bind_unix

if TYPE_CHECKING:
    from asyncinotify import Inotify

log = logging.getLogger("wrapix.notify.sandboxes")

Serve = Callable[[str, socket.socket], Awaitable[asyncio.Server]]
"""Start serving a bound socket for the named sandbox (the daemon's side)."""


@dataclass
class Bound:
    """A sandbox's socket as the daemon holds it."""

    name: str
    path: Path
    sock: socket.socket
    inode: int
    server: asyncio.Server | None = None

    def close(self) -> None:
        """Stop listening and remove the socket, if the file is still the one bound."""
        if self.server is not None:
            self.server.close()
        self.sock.close()
        with contextlib.suppress(OSError):
            if self.path.lstat().st_ino == self.inode:
                self.path.unlink()


def _mask() -> int:
    from asyncinotify import Mask
    return int(Mask.CREATE | Mask.MOVED_TO | Mask.DELETE | Mask.MOVED_FROM
               | Mask.DELETE_SELF | Mask.MOVE_SELF | Mask.ONLYDIR)


class SandboxSockets:
    """The per-sandbox listeners under ``directory``; see the module docstring."""

    def __init__(self, directory: Path, serve: Serve):
        self.directory = directory
        self._serve = serve
        self.bound: dict[str, Bound] = {}
        self._notify: Inotify | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create ``directory`` (0700), watch it, and serve every sandbox already there."""
        socketdirs.ensure(str(self.directory))
        self._notify = self._open_watch()
        await self.rescan()
        if self._notify is not None:
            self._task = asyncio.create_task(self._watch(self._notify),
                                             name="wrapix-sandbox-sockets")

    def _open_watch(self) -> Inotify | None:
        try:
            from asyncinotify import Inotify, Mask
            notify = Inotify()
        except (ImportError, OSError, AttributeError) as exc:
            log.warning("cannot watch %s (%s): sandboxes started after the daemon cannot "
                        "notify until it restarts", self.directory, exc)
            return None
        try:
            notify.add_watch(self.directory, Mask(_mask()))
        except OSError:
            notify.close()
            raise
        return notify

    async def rescan(self) -> None:
        """Match the listeners to the directories present now."""
        try:
            present = {entry.name for entry in os.scandir(self.directory)
                       if entry.is_dir(follow_symlinks=False)}
        except OSError as exc:
            log.warning("cannot list %s: %s", self.directory, exc.strerror)
            return
        for name in set(self.bound) - present:
            self.remove(name)
        for name in sorted(present - set(self.bound)):
            await self.add(name)

    async def add(self, name: str) -> None:
        """Bind and serve ``notify.sock`` in sandbox ``name``'s directory."""
        if name in self.bound:
            return
        if not socketdirs.valid_name(name):
            log.warning("ignoring %s: not a sandbox name", self.directory / name)
            return
        directory = self.directory / name
        path = directory / socketdirs.SOCKET_NAME
        try:
            socketdirs.ensure(str(directory))
            # We hold the daemon's lock: a socket file here is a dead daemon's.
            socketdirs.remove_socket(str(path))
            sock, inode = bind_unix(path)
        except FileNotFoundError:
            return  # the sandbox is gone already
        except OSError as exc:
            log.warning("cannot listen for sandbox %s in %s: %s", name, directory,
                        exc.strerror or exc)
            return
        bound = Bound(name, path, sock, inode)
        self.bound[name] = bound
        try:
            bound.server = await self._serve(name, sock)
        except BaseException:
            self.bound.pop(name, None)
            bound.close()
            raise
        log.info("listening for sandbox %s", name)

    def remove(self, name: str) -> None:
        """Stop serving sandbox ``name`` (its directory is gone)."""
        bound = self.bound.pop(name, None)
        if bound is not None:
            bound.close()
            log.info("sandbox %s is gone; stopped listening for it", name)

    def listening(self) -> list[socket.socket]:
        return [bound.sock for bound in self.bound.values()]

    def servers(self) -> list[asyncio.Server]:
        return [bound.server for bound in self.bound.values() if bound.server is not None]

    async def _watch(self, notify: Inotify) -> None:
        from asyncinotify import Mask
        try:
            async for event in notify:
                mask = event.mask
                if mask & (Mask.Q_OVERFLOW | Mask.DELETE_SELF | Mask.MOVE_SELF | Mask.IGNORED):
                    if mask & (Mask.DELETE_SELF | Mask.MOVE_SELF):
                        await self._rewatch(notify)
                    await self.rescan()
                elif event.name is None:
                    continue
                elif mask & (Mask.CREATE | Mask.MOVED_TO):
                    if Mask.ISDIR in mask:
                        await self.add(event.name.name)
                elif mask & (Mask.DELETE | Mask.MOVED_FROM):
                    self.remove(event.name.name)
        except asyncio.CancelledError:
            raise
        except Exception:  # the watch must never take the daemon down
            log.exception("watching %s failed; new sandboxes cannot notify until the "
                          "daemon restarts", self.directory)

    async def _rewatch(self, notify: Inotify) -> None:
        """``sockets/`` itself was removed or moved: make it again and watch the new one."""
        from asyncinotify import Mask
        try:
            socketdirs.ensure(str(self.directory))
            notify.add_watch(self.directory, Mask(_mask()))
        except OSError as exc:
            log.warning("cannot watch %s again: %s", self.directory, exc.strerror or exc)

    async def stop(self) -> None:
        """Stop watching, close every listener and remove its socket (not the directories:
        the launcher owns those, and a daemon started later binds in them again)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._notify is not None:
            self._notify.close()
            self._notify = None
        for name in list(self.bound):
            bound = self.bound.pop(name)
            bound.close()
