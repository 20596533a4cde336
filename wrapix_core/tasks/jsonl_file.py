"""``.beads/issues.jsonl`` as a list of lines: parse at json.loads speed, rewrite only what changed.

Real files written by bd mix formats (``{"id": ...}`` with spaces from one writer, compact
lines from another, escaped and raw non-ASCII). Every line is kept as the bytes it was;
only a line whose issue changed is encoded again, in the style of the line it replaces, so
a round trip is byte-for-byte identical everywhere else. Lines that are not issues (blank,
invalid JSON, invalid UTF-8, objects without an id) stay verbatim and in place and are
reported as :class:`LineProblem`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import BinaryIO

from wrapix_core.tasks.model import Issue, issue_from_json


@dataclass(frozen=True)
class LineProblem:
    """Line ``line`` (1-based) could not be used as an issue; it is kept as it was."""

    line: int
    reason: str


_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode()


def _spaced(like: bytes) -> bool:
    colon = like.find(b'":')
    return colon >= 0 and like[colon + 2:colon + 3] == b" "


def encode_issue(issue: Issue, like: bytes | None = None) -> bytes:
    """One JSONL line for ``issue`` (no newline).

    Without ``like``: bd's own style (compact, UTF-8 as is). With ``like`` (the line being
    replaced): its separators, its escaping of non-ASCII, and its CR if it had one.
    """
    if like is None:
        return json.dumps(issue.data, separators=(",", ":"), ensure_ascii=False).encode()
    spaced = _spaced(like)
    escaped = like.isascii() and b"\\u" in like
    text = json.dumps(issue.data, separators=(", ", ": ") if spaced else (",", ":"),
                      ensure_ascii=escaped)
    return text.encode() + (b"\r" if like.endswith(b"\r") else b"")


def read_lines(handle: BinaryIO) -> list[bytes]:
    """``handle.read().split(b"\\n")``, line by line: the file is never in memory twice
    (whole and split), which for 10,000 issues was 12 MB of a board's peak (P10)."""
    lines: list[bytes] = []
    ended = True  # an empty file splits into [b""], like one that ends in a newline
    for line in handle:
        ended = line.endswith(b"\n")
        lines.append(line[:-1] if ended else line)
    if ended:
        lines.append(b"")
    return lines


class IssuesDocument:
    """The parsed file. Immutable: edits return a new document sharing unchanged lines."""

    __slots__ = ("_index", "_issues", "_lines", "problems", "trailing_newline")

    def __init__(self, lines: list[bytes], issues: list[Issue | None], index: dict[str, int],
                 problems: list[LineProblem], trailing_newline: bool) -> None:
        self._lines = lines
        self._issues = issues
        self._index = index
        self.problems: tuple[LineProblem, ...] = tuple(problems)
        self.trailing_newline = trailing_newline

    @classmethod
    def parse(cls, data: bytes) -> IssuesDocument:
        return cls.from_lines(data.split(b"\n"))

    @classmethod
    def from_lines(cls, lines: list[bytes]) -> IssuesDocument:
        """The document of a file's ``split(b"\\n")`` (see :func:`read_lines`)."""
        trailing = len(lines) > 1 and lines[-1] == b""
        if trailing or lines == [b""]:
            lines.pop()
        issues: list[Issue | None] = []
        index: dict[str, int] = {}
        problems: list[LineProblem] = []
        loads = json.loads
        append = issues.append
        for number, raw in enumerate(lines):
            if not raw or raw.isspace():
                append(None)
                continue
            try:
                text = raw.decode("utf-8")
                if number == 0 and text.startswith(_BOM):  # an editor's byte order mark
                    text = text[1:]
                issue = issue_from_json(loads(text), raw)
            except UnicodeDecodeError:
                problems.append(LineProblem(number + 1, "invalid UTF-8 (kept as-is)"))
                append(None)
                continue
            except (ValueError, RecursionError):
                problems.append(LineProblem(number + 1, "not valid JSON (kept as-is)"))
                append(None)
                continue
            if issue is None:
                problems.append(LineProblem(number + 1, "not an issue object with an id "
                                                        "(kept as-is)"))
                append(None)
                continue
            previous = index.get(issue.id)
            if previous is not None:
                problems.append(LineProblem(
                    number + 1, f"duplicate id {issue.id} (line {previous + 1} is ignored)"))
            index[issue.id] = number
            append(issue)
        return cls(lines, issues, index, problems, trailing)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, issue_id: object) -> bool:
        return issue_id in self._index

    def issues(self) -> list[Issue]:
        """Every issue in file order (for a duplicated id, its last line)."""
        index = self._index
        return [issue for number, issue in enumerate(self._issues)
                if issue is not None and index[issue.id] == number]

    def get(self, issue_id: str) -> Issue | None:
        number = self._index.get(issue_id)
        return None if number is None else self._issues[number]

    def ids(self) -> set[str]:
        return set(self._index)

    def raw_line(self, issue_id: str) -> bytes | None:
        number = self._index.get(issue_id)
        return None if number is None else self._lines[number]

    def put(self, issue: Issue) -> IssuesDocument:
        """A document with ``issue`` replacing its line, or appended when it is new."""
        lines = list(self._lines)
        issues = list(self._issues)
        index = dict(self._index)
        number = index.get(issue.id)
        trailing = self.trailing_newline
        if number is None:
            index[issue.id] = len(lines)
            lines.append(encode_issue(issue))
            issues.append(issue)
            trailing = True
        else:
            like = lines[number]
            bom = _BOM_BYTES if number == 0 and like.startswith(_BOM_BYTES) else b""
            lines[number] = bom + encode_issue(issue, like=like[len(bom):])
            issues[number] = issue
        return IssuesDocument(lines, issues, index, list(self.problems), trailing)

    def render(self) -> bytes:
        body = b"\n".join(self._lines)
        return body + b"\n" if self.trailing_newline and self._lines else body


def problem_messages(document: IssuesDocument, name: str = ".beads/issues.jsonl") -> list[str]:
    """One readable line per problem in ``document``."""
    return [f"{name} line {problem.line}: {problem.reason}" for problem in document.problems]
