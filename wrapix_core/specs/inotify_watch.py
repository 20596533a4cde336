"""The workspace watcher on Linux inotify, read by the event loop: nothing polls.

:class:`~wrapix_core.specs.watcher.WorkspaceWatcher` gets its changes from
``watchfiles.awatch``, whose watcher thread wakes every ``step`` milliseconds (5 ms there,
for save → board latency) and takes the GIL each time to look at its stop event: about
1% of a core for a watcher that sees nothing, which is a long-running TUI's whole idle
budget (DESIGN §6, P8). :class:`InotifyWorkspaceWatcher` is the same watcher with its two
streams fed by inotify instead: the kernel wakes the loop (``add_reader``) only when a
file changes, so idle costs nothing and a change is seen at once; a burst is gathered as
awatch does (quiet for ``step_ms``, at most ``debounce_ms``).

Where inotify is not available (macOS, or it fails to start), it falls back to awatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from pathlib import Path

from watchfiles import Change

from wrapix_core.specs.watcher import WorkspaceWatcher

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
        | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
_HEADER = struct.Struct("iIII")
MAX_DIRS = 1000
"""Directories watched at most per stream (specs/ and .beads/ are shallow)."""


class _Inotify:
    """One inotify instance: watches by directory, raw events decoded to changes."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name, use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._add.restype = ctypes.c_int
        fd = int(libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd = fd
        self.dirs: dict[int, Path] = {}

    def watch(self, path: Path) -> bool:
        wd = int(self._add(self.fd, os.fsencode(path), MASK))
        if wd < 0:
            return False
        self.dirs[wd] = path
        return True

    def watch_tree(self, root: Path, recursive: bool) -> None:
        if not self.watch(root):
            raise OSError(ctypes.get_errno(), f"cannot watch {root}")
        if not recursive:
            return
        pending = [root]
        while pending and len(self.dirs) < MAX_DIRS:
            current = pending.pop()
            try:
                children = [entry for entry in os.scandir(current)
                            if entry.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            for entry in children:
                child = Path(entry.path)
                if self.watch(child):
                    pending.append(child)

    def read(self, recursive: bool) -> set[tuple[Change, str]]:
        """Every event waiting, as watchfiles-style changes."""
        changes: set[tuple[Change, str]] = set()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return changes
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            if not data:
                return changes
            offset = 0
            while offset + _HEADER.size <= len(data):
                wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
                raw = data[offset + _HEADER.size: offset + _HEADER.size + length]
                offset += _HEADER.size + length
                self._decode(wd, mask, raw.rstrip(b"\0"), recursive, changes)

    def _decode(self, wd: int, mask: int, raw: bytes, recursive: bool,
                changes: set[tuple[Change, str]]) -> None:
        if mask & IN_Q_OVERFLOW:  # events were lost: say every directory changed
            changes.update((Change.modified, str(path)) for path in self.dirs.values())
            return
        directory = self.dirs.get(wd)
        if directory is None:
            return
        if mask & IN_IGNORED:
            self.dirs.pop(wd, None)
            return
        if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
            changes.add((Change.deleted, str(directory)))
            return
        path = directory / os.fsdecode(raw) if raw else directory
        if mask & (IN_CREATE | IN_MOVED_TO):
            changes.add((Change.added, str(path)))
            if recursive and mask & IN_ISDIR and len(self.dirs) < MAX_DIRS:
                with contextlib.suppress(OSError):
                    self.watch_tree(path, True)
        elif mask & (IN_DELETE | IN_MOVED_FROM):
            changes.add((Change.deleted, str(path)))
        else:
            changes.add((Change.modified, str(path)))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def inotify_available() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        probe = _Inotify()
    except (OSError, AttributeError):
        return False
    probe.close()
    return True


class InotifyWorkspaceWatcher(WorkspaceWatcher):
    """:class:`WorkspaceWatcher` with inotify streams (see the module docstring)."""

    async def _pump(self, tag: str, paths: list[Path], recursive: bool,
                    stop: asyncio.Event) -> None:
        try:
            notify = _Inotify()
        except (OSError, AttributeError):
            await super()._pump(tag, paths, recursive, stop)
            return
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        try:
            try:  # before the first await, like awatch: nothing after _start is missed
                for path in paths:
                    notify.watch_tree(path, recursive)
            except OSError as exc:
                self._queue.put_nowait((tag, stop, exc))
                return
            loop.add_reader(notify.fd, ready.set)
            try:
                while not stop.is_set():
                    await ready.wait()
                    ready.clear()
                    batch = notify.read(recursive)
                    deadline = loop.time() + self.debounce_ms / 1000
                    while loop.time() < deadline:  # gather the burst, as awatch does
                        try:
                            await asyncio.wait_for(ready.wait(), self.step_ms / 1000)
                        except TimeoutError:
                            break
                        ready.clear()
                        batch |= notify.read(recursive)
                    if batch and not stop.is_set():
                        self._queue.put_nowait((tag, stop, batch))
            finally:
                loop.remove_reader(notify.fd)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._queue.put_nowait((tag, stop, exc))
        finally:
            notify.close()
