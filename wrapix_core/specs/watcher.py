"""One async watcher over a workspace's ``specs/`` and ``.beads/`` that reports typed events.

A third stream watches the top of ``.git`` and of ``.git/worktrees``, ``.git/modules``
and each entry in those two, not recursively: when anything there changes,
:func:`~wrapix_core.sandbox.gitguard.quick` (a few ``lstat`` calls) looks for git
redirection a running sandbox may have planted, and a :class:`GitRedirection` event says
what it found whenever that changes. It is kept
apart from the content stream so that git's own busy writes never delay a spec's event.

A fourth, optional, stream watches one more directory, not recursively (``state=``:
Ralph's ``state/``, where parallel loops record their running steps) and reports
:class:`StateChanged` with the names that changed; while that directory is missing, its
nearest existing ancestor below ``state_anchor`` is watched instead, so that its creation
is seen. No link is followed on the way (a link there is not watched at all).

Two ``watchfiles.awatch`` streams feed one queue: a non-recursive one on the workspace
root (it sees ``specs/`` or ``.beads/`` appear, vanish or be replaced) and a recursive one
on whichever of the two exist (restarted when that set or a directory's identity changes).
Only the file a change names is looked at, and a spec is re-parsed only when its identity
(size, mtime, inode) differs from what was last seen, so editors that save by writing a
temporary file and renaming it, bursts of saves and duplicate notifications cost one parse.
A small ``step`` (5 ms) keeps save → event latency low (P3, docs/architecture.md).

Usage::

    watcher = WorkspaceWatcher(workspace, board=board)
    async for event in watcher.events():
        board = board.apply(event)

``watcher.ready`` is set once both watches are in place and the initial comparison with
``board`` (or with nothing: then every spec arrives as :class:`SpecAdded`) is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchfiles import Change, awatch

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import gitguard
from wrapix_core.sandbox.gitguard import Finding
from wrapix_core.specs import catalog
from wrapix_core.specs.board import Board
from wrapix_core.specs.events import (
    GitRedirection,
    IndexChanged,
    IssuesChanged,
    SpecAdded,
    SpecChanged,
    SpecRemoved,
    StateChanged,
    WatchEvent,
    WatchProblem,
)
from wrapix_core.specs.index import INDEX_FILE, read_index
from wrapix_core.specs.model import FileStamp, Spec, SpecIndex
from wrapix_core.specs.parser import read_spec
from wrapix_core.tasks.model import Issue
from wrapix_core.tasks.store import TaskStore, open_store
from wrapix_core.tasks.workspace import BEADS_DIR

DEBOUNCE_MS = 50
"""Longest a burst of changes is gathered into one batch."""
STEP_MS = 5
"""Quiet time that ends a batch; bounds the added latency."""

_Batch = tuple[str, asyncio.Event | None, set[tuple[Change, str]] | BaseException | None]
"""(``root``, ``content`` or ``stop``; the stream's stop event, naming which stream; what
it saw or how it failed)."""


def _stamp(path: Path) -> FileStamp | None:
    """Identity of a regular file; None when it is missing or not a file."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return FileStamp(info.st_size, info.st_mtime_ns, info.st_ino)


def _dir_identity(path: Path, *, follow: bool = True) -> tuple[int, int] | None:
    """A directory's (device, inode); ``follow=False``: None for a link to one."""
    try:
        info = path.stat() if follow else path.lstat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


@dataclass
class _Known:
    """What the consumer has been told so far."""

    specs: dict[str, Spec]
    index: SpecIndex | None
    issues: dict[str, Issue]
    issue_problems: tuple[str, ...]


class WorkspaceWatcher:
    """Watches ``workspace/specs`` and ``workspace/.beads``; see the module docstring."""

    def __init__(self, workspace: Path, *, board: Board | None = None,
                 store: TaskStore | None = None, debounce_ms: int = DEBOUNCE_MS,
                 step_ms: int = STEP_MS, state: Path | None = None,
                 state_anchor: Path | None = None) -> None:
        self.workspace = workspace
        self.state = state
        self.state_anchor = state_anchor or workspace
        self._state: tuple[asyncio.Task[None], asyncio.Event] | None = None
        self._state_at: tuple[Path, tuple[int, int]] | None = None
        self.specs_dir = catalog.specs_dir(workspace)
        self.beads_dir = workspace / BEADS_DIR
        self.store = store or open_store(workspace)
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.ready = asyncio.Event()
        if board is None:
            self._known = _Known({}, None, {}, ())
        else:
            inputs = board.inputs
            self._known = _Known(dict(inputs.specs), inputs.index,
                                 {issue.id: issue for issue in inputs.issues},
                                 inputs.issue_problems)
        self._queue: asyncio.Queue[_Batch] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self._content: tuple[asyncio.Task[None], asyncio.Event] | None = None
        self._dirs: dict[Path, tuple[int, int]] = {}
        self._git: tuple[asyncio.Task[None], asyncio.Event] | None = None
        self._git_dirs: dict[Path, tuple[int, int]] = {}
        self._git_found: tuple[Finding, ...] = ()

    # -- watch streams ------------------------------------------------------------------
    async def _pump(self, tag: str, paths: list[Path], recursive: bool,
                    stop: asyncio.Event) -> None:
        try:
            async for changes in awatch(*paths, debounce=self.debounce_ms, step=self.step_ms,
                                        stop_event=stop, recursive=recursive,
                                        watch_filter=None, rust_timeout=1_000):
                self._queue.put_nowait((tag, stop, changes))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. a watched directory vanished while starting
            self._queue.put_nowait((tag, stop, exc))

    async def _start(self, tag: str, paths: list[Path],
                     recursive: bool) -> tuple[asyncio.Task[None], asyncio.Event]:
        stop = asyncio.Event()
        task = asyncio.ensure_future(self._pump(tag, paths, recursive, stop))
        # awatch sets its inotify watches synchronously on its first step, before it first
        # awaits; two passes of the loop let that step run, so nothing after this is missed.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return task, stop

    async def _end(self, running: tuple[asyncio.Task[None], asyncio.Event]) -> None:
        task, stop = running
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    def _present_dirs(self) -> dict[Path, tuple[int, int]]:
        """``specs/`` and ``.beads/`` as they exist now, with their identities."""
        return {path: ident for path in (self.specs_dir, self.beads_dir)
                if (ident := _dir_identity(path)) is not None}

    async def _restart_content(self) -> None:
        """Watch the directories that exist now (again, if one was replaced)."""
        if self._content is not None:
            await self._end(self._content)
            self._content = None
        existing = self._present_dirs()
        self._dirs = existing
        if existing:
            self._content = await self._start("content", sorted(existing), True)

    def _present_git_dirs(self) -> dict[Path, tuple[int, int]]:
        """``.git`` and the directories of linked worktrees and submodules in it, real
        directories only (a link would have the watch follow it out of the workspace)."""
        dot_git = self.workspace / ".git"
        found = {path: ident for path in (dot_git, dot_git / "worktrees", dot_git / "modules")
                 if (ident := _dir_identity(path, follow=False)) is not None}
        for parent in (dot_git / "worktrees", dot_git / "modules"):
            if parent in found:  # each linked worktree's or submodule's own directory
                with contextlib.suppress(OSError):
                    found.update((entry, ident) for entry in sorted(parent.iterdir())[:100]
                                 if (ident := _dir_identity(entry, follow=False)) is not None)
        return found

    async def _restart_git(self) -> None:
        if self._git is not None:
            await self._end(self._git)
            self._git = None
        existing = self._git_dirs = self._present_git_dirs()
        if existing:
            self._git = await self._start("git", sorted(existing), False)

    async def _git_event(self) -> WatchEvent | None:
        found = tuple(await asyncio.to_thread(gitguard.quick, str(self.workspace)))
        if found == self._git_found:
            return None
        self._git_found = found
        return GitRedirection(found)

    async def _git_events(self) -> list[WatchEvent]:
        if self._present_git_dirs() != self._git_dirs:
            await self._restart_git()
        event = await self._git_event()
        return [event] if event is not None else []

    def _present_state(self) -> tuple[Path, tuple[int, int]] | None:
        """The state directory, else its nearest existing ancestor down from the anchor
        (None: not watched; a link or a file on the way is never watched through)."""
        if self.state is None:
            return None
        anchor, path = self.state_anchor, self.state
        if path != anchor and anchor not in path.parents:
            return None
        while True:
            try:
                real = path == anchor or workspace_fs.is_real_dir(anchor, path)
            except (OSError, WrapixError):
                return None
            ident = _dir_identity(path, follow=False) if real else None
            if ident is not None:
                return path, ident
            if path == anchor:
                return None
            path = path.parent

    async def _restart_state(self) -> None:
        if self._state is not None:
            await self._end(self._state)
            self._state = None
        for _ in range(8):  # a directory made while the watch was being set: look again
            self._state_at = found = self._present_state()
            if found is not None:
                self._state = await self._start("state", [found[0]], False)
            if self._present_state() == found:
                return
            if self._state is not None:
                await self._end(self._state)
                self._state = None

    async def _state_events(self, changes: Iterable[tuple[Change, str]]) -> list[WatchEvent]:
        if self._present_state() != self._state_at:
            await self._restart_state()
            return [StateChanged()]
        if self._state_at is None or self._state_at[0] != self.state:
            return []  # an ancestor changed, not in a way that made the directory
        return [StateChanged(tuple(sorted({Path(raw).name for _change, raw in changes})))]

    # -- turning changes into events ------------------------------------------------------
    async def _spec_event(self, path: Path) -> WatchEvent | None:
        name = path.stem
        known = self._known.specs.get(name)
        stamp = _stamp(path)
        if stamp is None:
            if known is None:
                return None
            del self._known.specs[name]
            return SpecRemoved(name, path)
        if known is not None and known.stamp == stamp:
            return None
        spec = await asyncio.to_thread(read_spec, path)
        self._known.specs[name] = spec
        return SpecAdded(spec) if known is None else SpecChanged(spec)

    async def _index_event(self) -> WatchEvent | None:
        path = self.specs_dir / INDEX_FILE
        stamp = _stamp(path)
        current = self._known.index
        if stamp is None:
            if current is None:
                return None
            self._known.index = None
            return IndexChanged(None)
        if current is not None and current.stamp == stamp:
            return None
        index = await asyncio.to_thread(read_index, self.specs_dir)
        self._known.index = index
        return IndexChanged(index)

    async def _issues_event(self) -> WatchEvent | None:
        try:
            issues, problems = await self.store.list_with_problems()
        except Exception as exc:  # a failing store is reported, the watch goes on
            return WatchProblem(f"cannot read issues: {exc}")
        old = self._known.issues
        new = {issue.id: issue for issue in issues}
        added = tuple(issue_id for issue_id in new if issue_id not in old)
        removed = tuple(issue_id for issue_id in old if issue_id not in new)
        changed = tuple(issue_id for issue_id, issue in new.items()
                        if issue_id in old and old[issue_id] is not issue
                        and old[issue_id] != issue)
        if not (added or removed or changed) and problems == self._known.issue_problems:
            return None
        self._known.issues = new
        self._known.issue_problems = problems
        return IssuesChanged(tuple(issues), added, changed, removed, problems)

    async def _rescan(self) -> list[WatchEvent]:
        """Compare everything with what is known (start-up, or a directory came or went)."""
        events: list[WatchEvent | None] = []
        present = {path.stem: path for path in catalog.spec_files(self.specs_dir)}
        for name in sorted(set(self._known.specs) - set(present)):
            spec = self._known.specs[name]
            events.append(await self._spec_event(spec.path or self.specs_dir / f"{name}.md"))
        for path in present.values():
            events.append(await self._spec_event(path))
        events.append(await self._index_event())
        events.append(await self._issues_event())
        return [event for event in events if event is not None]

    async def _content_events(self, changes: Iterable[tuple[Change, str]]) -> list[WatchEvent]:
        events: list[WatchEvent | None] = []
        issues_dirty = False
        index_dirty = False
        rescan = False
        for _change, raw in sorted(changes, key=lambda item: item[1]):
            path = Path(raw)
            if path in (self.specs_dir, self.beads_dir):
                rescan = True
            elif catalog.is_index_file(path, self.specs_dir):
                index_dirty = True
            elif catalog.is_spec_file(path, self.specs_dir):
                events.append(await self._spec_event(path))
            elif self.beads_dir in path.parents and not path.name.startswith(".") \
                    and not path.name.endswith(".lock"):
                issues_dirty = True
        if rescan:
            await self._restart_content()
            return [event for event in events if event is not None] + await self._rescan()
        if index_dirty:
            events.append(await self._index_event())
        if issues_dirty:
            events.append(await self._issues_event())
        return [event for event in events if event is not None]

    async def _root_events(self, changes: Iterable[tuple[Change, str]]) -> list[WatchEvent]:
        names = {Path(raw).name for _change, raw in changes}
        git = await self._git_events() if ".git" in names else []
        if not names & {self.specs_dir.name, self.beads_dir.name}:
            return git
        current = self._present_dirs()
        if current != self._dirs:
            await self._restart_content()
        return git + await self._rescan()

    async def _after_failure(self, tag: str, stop: asyncio.Event | None,
                             error: BaseException) -> list[WatchEvent]:
        """A watch stream died. The root watch is not restarted (the content watch goes
        on, it only stops seeing the directories come and go). The content watch starts
        again if the directories changed under it, else waits for the root watch to see
        them change (no retry loop on a lasting fault)."""
        problem = WatchProblem(f"watching {self.workspace} failed: {error}")
        if tag != "content" or self._content is None or self._content[1] is not stop:
            return [problem]  # the root watch, or a content watch already replaced
        self._content = None  # its task has ended
        current = self._present_dirs()
        if current != self._dirs:
            await self._restart_content()
            return [problem, *await self._rescan()]
        self._dirs = {}
        return [problem]

    # -- the stream -----------------------------------------------------------------------
    async def events(self) -> AsyncIterator[WatchEvent]:
        """Events until :meth:`stop` (or until the consumer stops iterating)."""
        root = await self._start("root", [self.workspace], False)
        try:
            await self._restart_content()
            await self._restart_git()
            await self._restart_state()
            for event in await self._rescan():
                yield event
            if self.state is not None:
                yield StateChanged()
            git = await self._git_event()
            if git is not None:
                yield git
            self.ready.set()
            while not self._stopping.is_set():
                tag, stop, payload = await self._queue.get()
                if tag == "stop":
                    break
                if isinstance(payload, BaseException):
                    batch = await self._after_failure(tag, stop, payload)
                elif payload is None:
                    continue
                elif tag == "root":
                    batch = await self._root_events(payload)
                elif tag == "git":
                    batch = await self._git_events()
                elif tag == "state":
                    batch = await self._state_events(payload)
                else:
                    batch = await self._content_events(payload)
                for event in batch:
                    yield event
        finally:
            await self._end(root)
            for running in (self._content, self._git, self._state):
                if running is not None:
                    await self._end(running)
            self._content = self._git = self._state = None

    def stop(self) -> None:
        """End :meth:`events` (safe to call from the loop at any time)."""
        self._stopping.set()
        self._queue.put_nowait(("stop", None, None))
