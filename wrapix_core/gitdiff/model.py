"""``git diff`` output as a model: files with their paths, status and +/− counts, and
hunks with numbered lines — built so a 10,000-line diff costs little.

Each file's text is split on ``\\n`` only (a file's content may hold any other line
separator). The file list needs only the files' headers and +/− counts, found with
string searches; a hunk's rows and line numbers are worked out when something reads them
(the rows on screen), and kept.

Everything here is pure: the text comes from :mod:`wrapix_core.gitdiff.source`. Paths and
lines are the repository's own (written by an agent): they are data, never markup, and
whoever shows them escapes them (``display_text``).
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple, overload

Part = Literal["committed", "uncommitted", "untracked"]
Status = Literal["added", "deleted", "modified", "renamed", "copied", "mode"]
Kind = Literal["header", "hunk", "add", "del", "context", "note"]

_IS_HUNK = operator.methodcaller("startswith", "@@")
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class Row(NamedTuple):
    """One line of a file's diff as shown: what it is, its numbers on each side (None
    where it has none) and its text without the leading ``+``/``-``/space."""

    kind: Kind
    old: int | None
    new: int | None
    text: str


@dataclass(frozen=True)
class Hunk:
    """A ``@@`` block: where it starts on each side and its row range in :attr:`FileDiff.rows`."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    context: str
    row: int
    """Index of its ``@@`` row in the file's rows."""


@dataclass(eq=False)
class FileDiff:
    """One file of a diff. ``lines`` is the whole diff's line list, shared; this file is
    ``lines[start:end]``, its hunks from ``body``."""

    path: str
    old_path: str | None
    status: Status
    part: Part
    added: int = 0
    removed: int = 0
    binary: bool = False
    lines: Sequence[str] = field(default=(), repr=False)
    start: int = 0
    body: int = 0
    end: int = 0

    @property
    def renamed(self) -> bool:
        return self.old_path is not None and self.old_path != self.path

    @property
    def line_count(self) -> int:
        return self.end - self.start

    @cached_property
    def rows(self) -> Rows:
        """The file's diff as numbered rows: its header lines (mode, rename, binary…) as
        notes, then each hunk. A hunk's rows are worked out when first asked for, and
        kept: a 10,000-line file is shown after numbering the hunks on screen only."""
        return Rows(self.lines, self.start, self.body, self.end)

    @cached_property
    def width(self) -> int:
        """Characters of the longest row's text (or one more: a ``+``, ``-`` or space
        is counted in)."""
        return max(map(len, self.lines[self.start + 1:self.end]), default=0)

    @property
    def hunks(self) -> list[Hunk]:
        return self.rows.hunks


class Rows(Sequence[Row]):
    """A file's rows (see :attr:`FileDiff.rows`): the notes first, then one row per line
    of the body. Line numbers restart at every ``@@`` header, so a hunk is numbered on
    its own, when one of its rows is first read."""

    def __init__(self, lines: Sequence[str], start: int, body: int, end: int):
        self._notes = [Row("note", None, None, line) for line in lines[start + 1:body]
                       if not line.startswith(("--- ", "+++ ", "index "))]
        self._lines = lines
        self._body, self._end = body, end
        offset = len(self._notes)
        # rows where a numbering starts: the body's first line and every "@@" header
        headers = itertools.compress(itertools.count(offset),
                                     map(_IS_HUNK, itertools.islice(lines, body, end)))
        self._starts = [offset, *(index for index in headers if index != offset)]
        self._blocks: dict[int, list[Row]] = {}
        self._hunks: list[Hunk] | None = None

    def __len__(self) -> int:
        return len(self._notes) + self._end - self._body

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        notes = len(self._notes)
        if index < notes:
            return self._notes[index]
        block = bisect.bisect_right(self._starts, index) - 1
        rows = self._blocks.get(block)
        if rows is None:
            first = self._starts[block]
            last = self._starts[block + 1] if block + 1 < len(self._starts) else size
            rows = self._blocks[block] = _numbered(
                self._lines, self._body + first - notes, self._body + last - notes)
        return rows[index - self._starts[block]]

    def __iter__(self) -> Iterator[Row]:
        for index in range(len(self)):
            yield self[index]

    @property
    def hunks(self) -> list[Hunk]:
        """The ``@@`` headers, parsed (not their rows)."""
        if self._hunks is None:
            found = []
            notes = len(self._notes)
            for index in self._starts:
                line = self._lines[self._body + index - notes] if index < len(self) else ""
                match = _HUNK.match(line)
                if match:
                    old_start, old_count, new_start, new_count, context = match.groups()
                    found.append(Hunk(int(old_start), int(old_count or 1), int(new_start),
                                      int(new_count or 1), context.strip(), index))
            self._hunks = found
        return self._hunks


@dataclass
class Diff:
    """Files of one or more diffs, in order (committed work first, then uncommitted)."""

    files: list[FileDiff] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(item.added for item in self.files)

    @property
    def removed(self) -> int:
        return sum(item.removed for item in self.files)

    def part(self, part: Part) -> list[FileDiff]:
        return [item for item in self.files if item.part == part]


def split_lines(text: str) -> list[str]:
    """Lines of git's output split on ``\\n`` only (no final empty item)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse(text: str, part: Part = "committed") -> list[FileDiff]:
    """The files of ``git diff -p`` output (prefixes ``a/`` and ``b/``, as
    :mod:`wrapix_core.gitdiff.source` asks for) with their +/− counts.

    Content lines always start with a space, ``+``, ``-`` or ``\\``, so ``diff --git``
    and ``@@`` at the start of a line cannot be content, and below a file's first ``@@``
    every line starting with ``+`` or ``-`` is a change. Files are found and counted
    with string searches, not a Python loop over every line (a 10,000-line diff is
    parsed while its screen waits); each file keeps the lines of its own part."""
    files: list[FileDiff] = []
    if text.startswith("diff --git "):
        start = 0
    else:
        start = text.find("\ndiff --git ") + 1
        if start == 0:
            return files
    while True:
        end = text.find("\ndiff --git ", start)
        chunk = text[start:] if end < 0 else text[start:end + 1]
        hunk = 0 if chunk.startswith("@@") else chunk.find("\n@@") + 1
        body = chunk[hunk:] if hunk > 0 else ""
        lines = split_lines(chunk)
        head = chunk.count("\n", 0, hunk) if hunk > 0 else len(lines)
        added = body.count("\n+") + body.startswith("+")
        removed = body.count("\n-") + body.startswith("-")
        path, old_path, status, binary = _header(lines[:head])
        files.append(FileDiff(path, old_path, status, part, added, removed, binary, lines,
                              0, head, len(lines)))
        if end < 0:
            break
        start = end + 1
    return files


def _header(header: list[str]) -> tuple[str, str | None, Status, bool]:
    """(path, old path, status, binary) from a file's header lines."""
    status: Status = "modified"
    names: dict[str, str] = {}
    binary = False
    mode_change = False
    for line in header[1:]:
        if line.startswith("new file mode"):
            status = "added"
        elif line.startswith("deleted file mode"):
            status = "deleted"
        elif line.startswith(("rename from ", "rename to ", "copy from ", "copy to ")):
            verb, side, rest = line.split(" ", 2)
            names[side] = unquote(rest)
            status = "renamed" if verb == "rename" else "copied"
        elif line.startswith("old mode"):
            mode_change = True
        elif line.startswith(("--- ", "+++ ")):
            value = line[4:].removesuffix("\t")  # git adds a tab after a name with a space
            if value != "/dev/null":
                names.setdefault("minus" if line[0] == "-" else "plus", _strip(unquote(value)))
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            binary = True
    old, new = _git_line_paths(header[0][len("diff --git "):])
    if status in ("renamed", "copied"):
        return names.get("to") or new or "?", names.get("from") or old, status, binary
    if status == "deleted":
        return names.get("minus") or old or "?", None, status, binary
    if status == "modified" and mode_change and not names:
        status = "mode"
    return names.get("plus") or new or names.get("minus") or old or "?", None, status, binary


def _strip(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


def _git_line_paths(rest: str) -> tuple[str | None, str | None]:
    """(old, new) from what follows ``diff --git ``: quoted names, or two equal halves
    (without a rename both sides name the same file, so a space in it is no problem)."""
    if rest.startswith('"') or rest.endswith('"'):
        parts = _quoted_pair(rest)
        if parts:
            return _strip(parts[0]), _strip(parts[1])
        return None, None
    size = (len(rest) - 5) // 2
    if size > 0 and rest[2:2 + size] == rest[5 + size:] and rest[2 + size:5 + size] == " b/":
        return rest[2:2 + size], rest[5 + size:]
    return None, None


def _quoted_pair(rest: str) -> tuple[str, str] | None:
    first, remainder = _take(rest)
    if remainder.startswith(" "):
        second, tail = _take(remainder[1:])
        if not tail:
            return unquote(first), unquote(second)
    return None


def _take(text: str) -> tuple[str, str]:
    """The first name of ``text``: a quoted one to its closing quote, else to a space."""
    if text.startswith('"'):
        index = 1
        while index < len(text):
            if text[index] == "\\":
                index += 2
                continue
            if text[index] == '"':
                return text[:index + 1], text[index + 1:]
            index += 1
        return text, ""
    space = text.find(" ")
    return (text, "") if space < 0 else (text[:space], text[space:])


def unquote(name: str) -> str:
    """A path as git wrote it: C-quoted (``"a\\tb\\303\\251"``) when it holds special
    bytes, else as is. Bytes that are not UTF-8 become U+FFFD."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    out = bytearray()
    body, index = name[1:-1], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                index += 2
                continue
            if nxt.isdigit() and index + 3 < len(body) + 1 and body[index + 1:index + 4].isdigit():
                out.append(int(body[index + 1:index + 4], 8) & 0xFF)
                index += 4
                continue
        out.extend(char.encode())
        index += 1
    return out.decode("utf-8", errors="replace")


def _numbered(lines: Sequence[str], first: int, last: int) -> list[Row]:
    """Rows of ``lines[first:last]``: a hunk (its header first) or the lines before one."""
    rows: list[Row] = []
    append = rows.append
    old = new = 0
    for line in lines[first:last]:
        mark = line[:1]
        if mark == " " or line == "":
            append(Row("context", old, new, line[1:]))
            old += 1
            new += 1
        elif mark == "+":
            append(Row("add", None, new, line[1:]))
            new += 1
        elif mark == "-":
            append(Row("del", old, None, line[1:]))
            old += 1
        elif mark == "@":
            match = _HUNK.match(line)
            if match:
                old, new = int(match.group(1)), int(match.group(3))
            append(Row("hunk", None, None, line))
        else:  # "\ No newline at end of file"
            append(Row("note", None, None, line))
    return rows


def new_file(path: str, text: str, part: Part = "untracked") -> FileDiff:
    """A file that is not in git yet (untracked) as an all-added diff."""
    content = split_lines(text)
    body = [f"@@ -0,0 +1,{len(content)} @@", *("+" + line for line in content)]
    lines = [f"diff --git a/{path} b/{path}", "new file (untracked)", *body]
    return FileDiff(path, None, "added", part, len(body) - 1, 0, False, lines, 0, 2, len(lines))
