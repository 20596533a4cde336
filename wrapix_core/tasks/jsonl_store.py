"""The built-in issue store on ``.beads/issues.jsonl`` (the default when bd is absent).

Readers never lock: the file is only ever replaced atomically, so a reader sees the old or
the new file, and a reload is skipped while the file's identity (inode, size, times) is
unchanged. Writers take an exclusive file lock (shared across processes), re-read the file
under it, change one issue, and replace the file, so two writers never lose each other's
work. Lines other than the changed one are written back byte for byte.

:class:`JsonlIssues` is the synchronous core (the CLI uses it directly); :class:`JsonlStore`
is the async :class:`~wrapix_core.tasks.store.TaskStore` that runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.tasks import edits, ids
from wrapix_core.tasks.jsonl_file import IssuesDocument, problem_messages, read_lines
from wrapix_core.tasks.model import DEFAULT_DEPENDENCY_TYPE, Issue
from wrapix_core.tasks.store import (
    InvalidValue,
    IssueNotFound,
    IssueUpdate,
    NewIssue,
    TaskStore,
    check_type,
)
from wrapix_core.tasks.workspace import (
    BEADS_DIR,
    ISSUES_FILE,
    LOCK_FILE,
    ignore_temporary_files,
    init_workspace,
    issue_prefix,
    issues_path,
)

_StatKey = tuple[int, int, int, int, int]
_EMPTY = IssuesDocument.parse(b"")
_ISSUES = f"{BEADS_DIR}/{ISSUES_FILE}"


def _stat_key(stat: os.stat_result) -> _StatKey:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class JsonlIssues:
    """Synchronous access to one workspace's ``issues.jsonl``."""

    def __init__(self, workspace: Path, *, lock_timeout: float = 30.0) -> None:
        self.workspace = workspace
        self.path = issues_path(workspace)
        self.lock_timeout = lock_timeout
        self.lock_path = workspace / BEADS_DIR / LOCK_FILE
        self._lock = workspace_fs.Lock(workspace, f"{BEADS_DIR}/{LOCK_FILE}")
        self._thread_lock = threading.Lock()
        self._cached: tuple[_StatKey, IssuesDocument] | None = None

    # -- reading ------------------------------------------------------------------------
    def document(self) -> IssuesDocument:
        """The current file, parsed; cached while the file is unchanged (one stat call)."""
        try:
            key = _stat_key(self.path.stat(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            workspace_fs.kind(self.workspace, _ISSUES)  # .beads a link: refused, not empty
            return _EMPTY
        cached = self._cached
        if cached is not None and cached[0] == key:
            return cached[1]
        return self._load()

    def _load(self) -> IssuesDocument:
        try:
            with workspace_fs.open_read(self.workspace, _ISSUES) as handle:
                key = _stat_key(os.fstat(handle.fileno()))
                cached = self._cached
                if cached is not None and cached[0] == key:
                    return cached[1]
                lines = read_lines(handle)
        except FileNotFoundError:
            return _EMPTY
        except OSError as exc:
            raise WrapixError(f"{self.path}: cannot read ({exc.strerror})", exit_code=1) \
                from None
        document = IssuesDocument.from_lines(lines)
        del lines
        self._cached = (key, document)
        return document

    def issues(self) -> list[Issue]:
        return self.document().issues()

    def get(self, issue_id: str) -> Issue:
        issue = self.document().get(issue_id)
        if issue is None:
            raise IssueNotFound(issue_id, self.path)
        return issue

    # -- writing ------------------------------------------------------------------------
    def _mutate(self, change: Callable[[IssuesDocument], Issue]) -> Issue:
        """Run ``change`` on the freshly read file under the lock; write what it put."""
        if workspace_fs.kind(self.workspace, _ISSUES) == "missing":
            init_workspace(self.workspace)
        with self._thread_lock:
            if not self._lock.acquire(self.lock_timeout):
                raise WrapixError(
                    f"{self.path}: another process has held the lock for "
                    f"{self.lock_timeout:g}s", f"check for a hung writer; the lock file is "
                    f"{self.lock_path}", exit_code=1)
            try:
                if workspace_fs.remove_stale_temps(self.workspace, _ISSUES):
                    ignore_temporary_files(self.workspace)  # a writer was killed: never again
                before = self._load()
                result = change(before)
                if before.get(result.id) is result:
                    return result
                after = before.put(result)
                # Bytes, not text: lines kept verbatim may hold invalid UTF-8.
                workspace_fs.write_atomic(self.workspace, _ISSUES, after.render(), mode=None)
                self._cached = (_stat_key(self.path.stat(follow_symlinks=False)), after)
                return result
            finally:
                self._lock.release()

    def create(self, new: NewIssue) -> Issue:
        def change(document: IssuesDocument) -> Issue:
            for target in (new.parent, *(target for _kind, target in new.deps)):
                if target and target not in document:
                    raise IssueNotFound(target, self.path)
            existing = document.ids()
            issue_id = (ids.child_id(new.parent, existing) if new.parent
                        else ids.new_id(issue_prefix(self.workspace, existing), existing))
            return edits.new_issue(new, issue_id)

        return self._mutate(change)

    def _edit(self, issue_id: str, edit: Callable[[Issue], Issue]) -> Issue:
        def change(document: IssuesDocument) -> Issue:
            issue = document.get(issue_id)
            if issue is None:
                raise IssueNotFound(issue_id, self.path)
            return edit(issue)

        return self._mutate(change)

    def update(self, issue_id: str, change: IssueUpdate) -> Issue:
        return self._edit(issue_id, lambda issue: edits.apply_update(issue, change))

    def close(self, issue_id: str, reason: str | None = None) -> Issue:
        return self._edit(issue_id, lambda issue: edits.close(issue, reason))

    def add_dependency(self, issue_id: str, depends_on_id: str,
                       dep_type: str = DEFAULT_DEPENDENCY_TYPE) -> Issue:
        check_type(dep_type, "dependency type")
        if issue_id == depends_on_id:
            raise InvalidValue(f"{issue_id} cannot depend on itself")

        def change(document: IssuesDocument) -> Issue:
            issue = document.get(issue_id)
            if issue is None:
                raise IssueNotFound(issue_id, self.path)
            if depends_on_id not in document:
                raise IssueNotFound(depends_on_id, self.path)
            return edits.add_dependency(issue, depends_on_id, dep_type)

        return self._mutate(change)


class JsonlStore(TaskStore):
    """The async store over :class:`JsonlIssues` (file work runs in a worker thread)."""

    kind: Literal["bd", "jsonl"] = "jsonl"

    def __init__(self, workspace: Path, *, lock_timeout: float = 30.0) -> None:
        self.workspace = workspace
        self.file = JsonlIssues(workspace, lock_timeout=lock_timeout)

    async def document(self) -> IssuesDocument:
        """The parsed file with its line problems (unchanged file: no re-read)."""
        return await asyncio.to_thread(self.file.document)

    async def list_issues(self) -> list[Issue]:
        return await asyncio.to_thread(self.file.issues)

    async def list_with_problems(self) -> tuple[list[Issue], tuple[str, ...]]:
        document = await self.document()
        return document.issues(), tuple(problem_messages(document))

    async def show(self, issue_id: str) -> Issue:
        return await asyncio.to_thread(self.file.get, issue_id)

    async def create(self, new: NewIssue) -> Issue:
        return await asyncio.to_thread(self.file.create, new)

    async def update(self, issue_id: str, change: IssueUpdate) -> Issue:
        return await asyncio.to_thread(self.file.update, issue_id, change)

    async def close(self, issue_id: str, reason: str | None = None) -> Issue:
        return await asyncio.to_thread(self.file.close, issue_id, reason)

    async def add_dependency(self, issue_id: str, depends_on_id: str,
                             dep_type: str = DEFAULT_DEPENDENCY_TYPE) -> Issue:
        return await asyncio.to_thread(self.file.add_dependency, issue_id, depends_on_id,
                                       dep_type)
