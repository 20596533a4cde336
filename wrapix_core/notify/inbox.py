"""The notification inbox: every notification, shown or not, with read/unread state.

Storage (``$XDG_STATE_HOME/wrapix/inbox.jsonl``, see :func:`wrapix_core.paths.state_dir`)
is append-only JSON lines of two kinds:

- an entry: ``{"id": 42, "time": …, "title": …, "message": …, "popup": "shown",
  "reason": …, "read": false, …}`` — ids are consecutive integers, so people can type them;
- a read record: ``{"op": "read", "ids": [42, 43]}`` or ``{"op": "read", "upto": 57}``
  (every entry up to 57).

Why append-only read records instead of rewriting the file under the lock: marking one
entry read then costs one small write, the same as adding an entry; a rewrite would copy
up to ``limit`` entries (megabytes) per click in the TUI and would race with anyone
tailing the file. The read state is the fold of the records, done when loading.

Bounding by rotation: when the current file holds ``limit`` entries (or ``max_bytes``,
because a sandbox can send many 64 KiB messages), it is renamed to ``inbox.jsonl.1`` —
replacing the generation before it — and a new file starts. Rename is atomic: no file is
ever truncated or rewritten, so no reader sees half a line, and appends stay O(1). The
inbox shows the newest ``limit`` entries of the two generations; the files hold at most
about twice that.

Concurrency: every write (daemon appends, ``wrapix inbox --mark-read``, the TUI) and every
full load holds a :class:`filelock.FileLock` on ``inbox.jsonl.lock``; each write is a
single ``O_APPEND`` write of whole lines. Followers (:mod:`.follow`) tail the file
without the lock and only consume complete lines. All methods here block (on the lock
and on file I/O): call them from a thread or a Textual worker, not the event loop.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock
from filelock import Timeout as LockTimeout

from wrapix_core import paths
from wrapix_core.errors import WrapixError
from wrapix_core.notify.protocol import Notification

log = logging.getLogger("wrapix.notify.inbox")

INBOX_NAME = "inbox.jsonl"
DEFAULT_LIMIT = 10_000
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
"""Bytes per generation before it rotates, whatever its entry count."""
LOCK_TIMEOUT = 10.0

PopupOutcome = Literal["shown", "suppressed", "skipped"]
"""``shown``: the desktop popup was started; ``suppressed``: the person was already
looking at the sandbox's pane; ``skipped``: no popup for another reason (no backend,
too many at once). ``reason`` says which."""

_ENTRY_PREFIX = b'{"id":'
_OPTIONAL = ("sound", "session_id", "sandbox", "kind", "claimed_sandbox", "host")


class InboxError(WrapixError):
    """The inbox cannot be read or written."""


class UnknownEntry(InboxError):
    def __init__(self, ids: Sequence[int]):
        listed = ", ".join(str(i) for i in ids)
        super().__init__(f"no inbox entry with id {listed}",
                         "run `wrapix inbox` to list the ids", exit_code=2)
        self.ids = list(ids)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A notification and what the daemon decided about it; the store assigns the id."""

    notification: Notification
    popup: PopupOutcome
    reason: str
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    claimed_sandbox: str | None = None
    """A sandbox name the sender claimed that nothing vouches for (see ``Entry``)."""
    host: str | None = None
    """The ``[hosts.NAME]`` it came from (known from the forwarded socket it arrived on)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One inbox entry. Text fields are untrusted: show them via ``display_text``."""

    id: int
    time: datetime
    title: str
    message: str
    popup: PopupOutcome
    reason: str
    read: bool = False
    sound: str | None = None
    session_id: str | None = None
    sandbox: str | None = None
    """The sandbox it came from, as the daemon knows it (the socket it arrived on), or as
    the host user's own process said; never a sandbox's claim."""
    kind: str | None = None
    claimed_sandbox: str | None = None
    """Untrusted: the sandbox a sender claimed to be where nothing identifies senders
    (TCP, macOS). Shown marked as a claim, never counted as that sandbox's."""
    host: str | None = None
    """The remote host of ``sandbox`` (None: this machine), known from the forwarded
    socket the message arrived on, never from what it says."""

    def to_record(self) -> dict[str, Any]:
        """The stored (and ``--json``) form; ``id`` first, unset optionals left out."""
        data: dict[str, Any] = {"id": self.id, "time": self.time.isoformat(),
                                "title": self.title, "message": self.message}
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        data.update(popup=self.popup, reason=self.reason, read=self.read)
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Entry:
        """Parse a stored entry; raises ``ValueError`` for a malformed one."""
        try:
            ident, title, message = data["id"], data["title"], data["message"]
            when = datetime.fromisoformat(data["time"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed inbox entry: {exc!r}") from None
        if not isinstance(ident, int) or not isinstance(title, str) \
                or not isinstance(message, str):
            raise ValueError("malformed inbox entry: wrong field types")
        popup = data.get("popup")
        optional = {name: value for name in _OPTIONAL
                    if isinstance(value := data.get(name), str)}
        return cls(id=ident, time=when, title=title, message=message,
                   popup=popup if popup in ("shown", "suppressed", "skipped") else "skipped",
                   reason=str(data.get("reason", "")), read=data.get("read") is True,
                   **optional)


def parse_records(data: bytes) -> Iterator[dict[str, Any]]:
    """The JSON objects in complete lines of ``data``; damaged lines are skipped."""
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            log.warning("skipping a damaged inbox line (%d bytes)", len(line))
            continue
        if isinstance(record, dict):
            yield record


def read_ids(record: dict[str, Any]) -> tuple[list[int], int | None] | None:
    """For a read record: (explicit ids, upto or None); None for anything else."""
    if record.get("op") != "read":
        return None
    ids = [i for i in record.get("ids", []) if isinstance(i, int)] \
        if isinstance(record.get("ids"), list) else []
    upto = record.get("upto")
    return ids, upto if isinstance(upto, int) else None


def fold(records: Iterable[dict[str, Any]], limit: int) -> dict[int, Entry]:
    """Entries by id with read records applied, the newest ``limit`` kept.

    Linear in entries plus records: an ``upto`` record takes the unread ids up to it
    off a heap instead of scanning every entry (a long-lived inbox holds thousands of
    both).
    """
    entries: dict[int, Entry] = {}
    unread: list[int] = []
    """Heap of ids that were stored unread (some may have been marked read since)."""

    def mark(ident: int) -> None:
        entry = entries.get(ident)
        if entry is not None and not entry.read:
            entries[ident] = replace(entry, read=True)

    for record in records:
        marks = read_ids(record)
        if marks is not None:
            ids, upto = marks
            for ident in ids:
                mark(ident)
            if upto is not None:
                while unread and unread[0] <= upto:
                    mark(heapq.heappop(unread))
            continue
        if "id" in record:
            try:
                entry = Entry.from_record(record)
            except ValueError as exc:
                log.warning("skipping inbox entry: %s", exc)
                continue
            entries[entry.id] = entry
            if not entry.read:
                heapq.heappush(unread, entry.id)
    if len(entries) > limit:
        for ident in sorted(entries)[: len(entries) - limit]:
            del entries[ident]
    return entries


@dataclass
class _WriterState:
    """What the writer knows about the current generation, valid while stat matches."""

    inode: int
    size: int
    entries: int
    last_id: int


class InboxStore:
    """The inbox files; see the module docstring for format and guarantees."""

    def __init__(self, path: Path | None = None, *, limit: int = DEFAULT_LIMIT,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = path if path is not None else paths.state_dir() / INBOX_NAME
        self.previous_path = self.path.with_name(self.path.name + ".1")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.limit = limit
        self.max_bytes = max_bytes
        self._lock = FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT, mode=0o600)
        self._state: _WriterState | None = None
        self._max_id = 0
        """Highest id this process has seen, so ids never repeat while it runs."""

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inbox lock (for a consistent read of both generations)."""
        paths.ensure_private_dir(self.path.parent)
        try:
            with self._lock:
                yield
        except LockTimeout:
            raise InboxError(f"inbox {self.path} is locked by another process",
                             f"wait, or remove {self.lock_path} if no wrapix process is "
                             "running", exit_code=1) from None

    # -- reading --------------------------------------------------------------------

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise InboxError(f"cannot read the inbox {path}: {exc.strerror}",
                             "check its permissions", exit_code=1) from None

    def _load_unlocked(self) -> dict[int, Entry]:
        # Each generation parsed on its own: a torn last line in the previous one must
        # not swallow the first line of the current one.
        return fold(chain(parse_records(self._read(self.previous_path)),
                          parse_records(self._read(self.path))), self.limit)

    def load(self) -> list[Entry]:
        """The newest ``limit`` entries, oldest first, with their read state."""
        with self.locked():
            return list(self._load_unlocked().values())

    def load_with_offset(self) -> tuple[list[Entry], int, int | None]:
        """:meth:`load` plus the current file's (size, inode) at that moment, for tailing."""
        with self.locked():
            entries = list(self._load_unlocked().values())
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                return entries, 0, None
            return entries, stat.st_size, stat.st_ino

    # -- writing --------------------------------------------------------------------

    def _write_lines(self, lines: list[bytes]) -> os.stat_result:
        """Append whole lines in one write; heal a torn last line first. Lock held."""
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            size = os.fstat(fd).st_size
            data = b"".join(lines)
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a crashed writer left half a line: end it
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            return os.fstat(fd)
        finally:
            os.close(fd)

    def _scan(self) -> _WriterState:
        """Learn the current generation's entry count and the last id (files changed)."""
        last_id = self._max_id
        try:
            stat = self.path.stat()
            data = self.path.read_bytes()
        except FileNotFoundError:
            stat, data = None, b""
        count = data.count(b"\n" + _ENTRY_PREFIX) + data.startswith(_ENTRY_PREFIX)
        source = data if count else self._read(self.previous_path)
        last_id = max(last_id, _last_entry_id(source))
        if stat is None:
            return _WriterState(-1, 0, 0, last_id)
        return _WriterState(stat.st_ino, stat.st_size, count, last_id)

    def _writer_state(self) -> _WriterState:
        state = self._state
        try:
            stat = self.path.stat()
            unchanged = state is not None and (stat.st_ino, stat.st_size) == (
                state.inode, state.size)
        except FileNotFoundError:
            unchanged = state is not None and state.inode == -1
        if state is None or not unchanged:
            state = self._scan()
        return state

    def _rotate(self) -> None:
        if self.path.exists():
            self.path.replace(self.previous_path)
            log.info("inbox rotated: %s now holds the previous generation", self.previous_path)

    def append(self, new: Sequence[NewEntry]) -> list[Entry]:
        """Store ``new`` with fresh ids (rotating when full); return the stored entries."""
        if not new:
            return []
        stored: list[Entry] = []
        with self.locked():
            state = self._writer_state()
            pending = list(new)
            while pending:
                room = self.limit - state.entries
                if room <= 0 or state.size >= self.max_bytes:
                    self._rotate()
                    state = _WriterState(-1, 0, 0, state.last_id)
                    room = self.limit
                chunk, pending = pending[:room], pending[room:]
                lines = []
                for item in chunk:
                    state.last_id += 1
                    entry = _entry(state.last_id, item)
                    stored.append(entry)
                    lines.append(json.dumps(entry.to_record()).encode() + b"\n")
                stat = self._write_lines(lines)
                state = _WriterState(stat.st_ino, stat.st_size, state.entries + len(chunk),
                                     state.last_id)
            self._state = state
            self._max_id = state.last_id
        return stored

    def _append_record(self, record: dict[str, Any]) -> None:
        stat = self._write_lines([json.dumps(record).encode() + b"\n"])
        if self._state is not None and self._state.inode == stat.st_ino:
            self._state.size = stat.st_size  # a read record: entry count unchanged

    def mark_read(self, ids: Iterable[int], *, missing_ok: bool = False) -> list[int]:
        """Mark entries read; returns those that were unread.

        An id not in the inbox raises :class:`UnknownEntry` and nothing changes — unless
        ``missing_ok`` (for a UI, where an entry can rotate out between showing it and
        clicking it): then unknown ids are skipped.
        """
        wanted = list(dict.fromkeys(ids))
        with self.locked():
            entries = self._load_unlocked()
            unknown = [i for i in wanted if i not in entries]
            if unknown and not missing_ok:
                raise UnknownEntry(unknown)
            wanted = [i for i in wanted if i in entries]
            changed = [i for i in wanted if not entries[i].read]
            if changed:
                self._append_record({"op": "read", "ids": changed})
        return changed

    def mark_all_read(self) -> list[int]:
        """Mark every entry read; returns the ids that were unread."""
        with self.locked():
            entries = self._load_unlocked()
            changed = [i for i, entry in entries.items() if not entry.read]
            if changed:
                self._append_record({"op": "read", "upto": max(entries)})
        return changed


def _entry(ident: int, item: NewEntry) -> Entry:
    note = item.notification
    return Entry(id=ident, time=item.time, title=note.title, message=note.message,
                 popup=item.popup, reason=item.reason, sound=note.sound,
                 session_id=note.session_id, sandbox=note.sandbox, kind=note.kind,
                 claimed_sandbox=item.claimed_sandbox, host=item.host)


def _last_entry_id(data: bytes) -> int:
    """The id of the last entry line in ``data`` (0 when there is none)."""
    end = len(data)
    while end > 0:
        start = data.rfind(b"\n" + _ENTRY_PREFIX, 0, end)
        line_start = start + 1 if start >= 0 else 0
        if start < 0 and not data.startswith(_ENTRY_PREFIX):
            return 0
        newline = data.find(b"\n", line_start)
        line = data[line_start: newline if newline >= 0 else len(data)]
        try:
            ident = json.loads(line).get("id")
            if isinstance(ident, int):
                return ident
        except (ValueError, AttributeError):
            pass
        if start < 0:
            return 0
        end = start
    return 0
