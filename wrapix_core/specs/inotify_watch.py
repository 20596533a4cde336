"""The workspace watcher on Linux inotify, read by the event loop: nothing polls.

:class:`~wrapix_core.specs.watcher.WorkspaceWatcher` gets its changes from
``watchfiles.awatch``, whose watcher thread wakes every ``step`` milliseconds (5 ms there,
for save → board latency) and takes the GIL each time to look at its stop event: about
1% of a core for a watcher that sees nothing, which is a long-running TUI's whole idle
budget (P8, docs/architecture.md). :class:`InotifyWorkspaceWatcher` is the same watcher with its two
streams fed by inotify instead (through ``asyncinotify``, which waits on the descriptor
with the loop's ``add_reader``): the kernel wakes the loop only when a file changes, so
idle costs nothing and a change is seen at once; a burst is gathered as awatch does
(quiet for ``step_ms``, at most ``debounce_ms``).

:func:`watch` is the same for any directories (wrapix-tui's settings files).

Where inotify is not available (macOS, or it fails to start), it falls back to awatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import Change, awatch

from wrapix_core.specs.watcher import WorkspaceWatcher

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from asyncinotify import Event, Inotify

MAX_DIRS = 1000
"""Directories watched at most per stream (specs/ and .beads/ are shallow)."""

Changes = set[tuple[Change, str]]


def _mask() -> int:
    from asyncinotify import Mask
    return int(Mask.MODIFY | Mask.ATTRIB | Mask.CLOSE_WRITE | Mask.MOVED_FROM
               | Mask.MOVED_TO | Mask.CREATE | Mask.DELETE | Mask.DELETE_SELF
               | Mask.MOVE_SELF | Mask.ONLYDIR)


def _open() -> Inotify:
    """A new inotify instance; OSError (or ImportError off Linux) when there is none."""
    from asyncinotify import Inotify
    return Inotify(cache_size=256)


def inotify_available() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        probe = _open()
    except (OSError, ImportError, AttributeError):
        return False
    probe.close()
    return True


class _Tree:
    """The directories one stream watches, and its events turned into watchfiles changes."""

    def __init__(self, notify: Inotify, recursive: bool) -> None:
        from asyncinotify import Mask
        self.notify = notify
        self.recursive = recursive
        self.mask = Mask(_mask())

    def add(self, root: Path) -> None:
        """Watch ``root`` (OSError when it cannot be) and, if recursive, what is under it."""
        self.notify.add_watch(root, self.mask)
        if not self.recursive:
            return
        pending = [root]
        while pending and len(self.notify.watches) < MAX_DIRS:
            current = pending.pop()
            try:
                children = [Path(entry.path) for entry in os.scandir(current)
                            if entry.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            for child in children:
                with contextlib.suppress(OSError):  # gone already, or not a directory now
                    self.notify.add_watch(child, self.mask)
                    pending.append(child)

    def change(self, event: Event, changes: Changes) -> None:
        from asyncinotify import Mask
        mask = event.mask
        if Mask.Q_OVERFLOW in mask:  # events were lost: say every directory changed
            changes.update((Change.modified, str(watch.path)) for watch in self.notify.watches)
            return
        if Mask.IGNORED in mask or event.watch is None:
            return  # the watch went away; DELETE_SELF said so already
        if mask & (Mask.DELETE_SELF | Mask.MOVE_SELF):
            changes.add((Change.deleted, str(event.watch.path)))
            return
        path = event.path if event.path is not None else event.watch.path
        if mask & (Mask.CREATE | Mask.MOVED_TO):
            changes.add((Change.added, str(path)))
            if self.recursive and Mask.ISDIR in mask and len(self.notify.watches) < MAX_DIRS:
                with contextlib.suppress(OSError):
                    self.add(path)
        elif mask & (Mask.DELETE | Mask.MOVED_FROM):
            changes.add((Change.deleted, str(path)))
        else:
            changes.add((Change.modified, str(path)))


async def _batches(notify: Inotify, paths: Iterable[Path], *, recursive: bool,
                   debounce_ms: int, step_ms: int) -> AsyncIterator[Changes]:
    """The changes under ``paths`` in bursts, from ``notify`` (the caller closes it);
    OSError when a path cannot be watched. The watches are set before the first wait."""
    loop = asyncio.get_running_loop()
    tree = _Tree(notify, recursive)
    for path in paths:
        tree.add(path)
    # One read of the next event is always outstanding and never cancelled: a read
    # cancelled by a timeout (``wait_for``) can take an event with it when both happen
    # at once, and a lost "moved to issues.jsonl" left the board stale for good.
    getter: asyncio.Future[Event] | None = None
    try:
        while True:
            batch: Changes = set()
            getter = getter or asyncio.ensure_future(notify.get())
            event = await getter
            getter = None
            tree.change(event, batch)
            deadline = loop.time() + debounce_ms / 1000
            while (left := deadline - loop.time()) > 0:  # gather the burst, as awatch does
                getter = asyncio.ensure_future(notify.get())
                done, _ = await asyncio.wait({getter}, timeout=min(step_ms / 1000, left))
                if not done:
                    break  # quiet: the read stays outstanding for the next burst
                tree.change(getter.result(), batch)
                getter = None
            if batch:
                yield batch
    finally:
        if getter is not None:
            getter.cancel()


async def watch(*paths: Path, recursive: bool = False, debounce_ms: int = 100,
                step_ms: int = 20) -> AsyncIterator[Changes]:
    """Bursts of changes under ``paths``, by inotify where there is one (nothing polls),
    else by ``watchfiles.awatch``."""
    try:
        notify = _open()
    except (OSError, ImportError, AttributeError):
        async for changes in awatch(*paths, debounce=debounce_ms, step=step_ms,
                                    recursive=recursive, watch_filter=None):
            yield changes
        return
    try:
        async for batch in _batches(notify, paths, recursive=recursive,
                                    debounce_ms=debounce_ms, step_ms=step_ms):
            yield batch
    finally:
        notify.close()


class InotifyWorkspaceWatcher(WorkspaceWatcher):
    """:class:`WorkspaceWatcher` with inotify streams (see the module docstring)."""

    async def _pump(self, tag: str, paths: list[Path], recursive: bool,
                    stop: asyncio.Event) -> None:
        try:
            notify = _open()
        except (OSError, ImportError, AttributeError):
            await super()._pump(tag, paths, recursive, stop)
            return
        try:
            # before the first await, like awatch: nothing after _start is missed
            async for batch in _batches(notify, paths, recursive=recursive,
                                        debounce_ms=self.debounce_ms, step_ms=self.step_ms):
                if stop.is_set():
                    break
                self._queue.put_nowait((tag, stop, batch))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # OSError: a watched directory vanished while starting
            self._queue.put_nowait((tag, stop, exc))
        finally:
            notify.close()
