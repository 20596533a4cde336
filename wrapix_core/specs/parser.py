"""Spec markdown to :class:`~wrapix_core.specs.model.Spec` (format: ralph-workflow.md,
"Spec File Format").

Reads the title (first ``#`` heading), the summary (first top-level paragraph), the
section outline, requirement list items (grouped by their ``###`` subsection), success
criteria (``- [ ]``/``- [x]`` items under "Success Criteria", at any depth) with their
``[verify]``/``[judge]`` links, the "Affected Files" table and the "Out of Scope" list.

Never raises: unreadable files, invalid UTF-8 (decoded with U+FFFD and reported), files
over :data:`MAX_SPEC_BYTES` (the start is parsed, the rest reported) and anything the
markdown parser chokes on all end up in ``Spec.problems``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

from markdown_it.token import Token

from wrapix_core import workspace_fs
from wrapix_core.specs import links, markdown
from wrapix_core.specs.model import (
    AffectedFile,
    Criterion,
    FileStamp,
    Requirement,
    Section,
    Spec,
)

MAX_SPEC_BYTES = 1 << 20
"""Bytes of a spec that are parsed (about a second of work; real specs are a few KiB)."""

SUCCESS_HEADINGS = frozenset({"success criteria", "acceptance criteria"})
REQUIREMENT_HEADINGS = frozenset({"requirements"})
AFFECTED_HEADINGS = frozenset({"affected files"})
OUT_OF_SCOPE_HEADINGS = frozenset({"out of scope", "non-goals"})

_CHECKBOXES = {"[ ]": False, "[x]": True, "[X]": True}


def decode(data: bytes, size: int | None = None) -> tuple[str, list[str]]:
    """Text of a spec file and what was wrong with its bytes (too big, invalid UTF-8)."""
    problems: list[str] = []
    total = len(data) if size is None else max(size, len(data))  # a device reports 0
    if len(data) > MAX_SPEC_BYTES or total > MAX_SPEC_BYTES:
        cut = data.rfind(b"\n", 0, MAX_SPEC_BYTES)
        data = data[:cut + 1 if cut > 0 else MAX_SPEC_BYTES]
        problems.append(f"file is {total} bytes; only the first {len(data)} were read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        problems.append(f"invalid UTF-8 at byte {exc.start} (shown as U+FFFD)")
    return text, problems


def _checkbox(content: str) -> bool | None:
    head = content[:3]
    if head in _CHECKBOXES and (len(content) == 3 or content[3].isspace()):
        return _CHECKBOXES[head]
    return None


def _item_inline(tokens: Sequence[Token], index: int) -> Token | None:
    """The inline token of a list item's first paragraph (None for an empty item)."""
    if (index + 2 < len(tokens) and tokens[index + 1].type == "paragraph_open"
            and tokens[index + 2].type == "inline"):
        return tokens[index + 2]
    return None


def _criterion(inline: Token, done: bool) -> Criterion:
    text = markdown.plain(inline, skip_links=links.KINDS)
    if _checkbox(text) is not None:
        text = text[3:].strip()
    found = tuple(annotation for annotation in (
        links.from_link(label, href) for label, href in markdown.links(inline))
        if annotation is not None)
    return Criterion(text, done, found, markdown.line_of(inline))


def _affected(table: markdown.Table) -> list[AffectedFile]:
    return [AffectedFile(markdown.plain(row[0]), markdown.plain(row[1]) if len(row) > 1 else "")
            for row in table.rows if row and markdown.plain(row[0])]


def _parse(text: str, name: str, path: Path | None, problems: list[str],
           stamp: FileStamp | None) -> Spec:
    tokens = markdown.parse(text)
    title: str | None = None
    summary: str | None = None
    sections: list[Section] = []
    criteria: list[Criterion] = []
    requirements: list[Requirement] = []
    affected: list[AffectedFile] = []
    out_of_scope: list[str] = []
    list_depth = 0
    for place in markdown.placed(tokens):
        token = place.token
        kind = token.type
        if kind == "heading_open":
            heading = markdown.plain(tokens[place.index + 1])
            sections.append(Section(heading, int(token.tag[1:]), markdown.line_of(token)))
            if token.tag == "h1" and title is None:
                title = heading
        elif kind == "paragraph_open" and token.level == 0 and summary is None:
            summary = markdown.plain(tokens[place.index + 1]) or None
        elif kind in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif kind == "list_item_open":
            inline = _item_inline(tokens, place.index)
            if inline is None:
                continue
            section = markdown.heading_key(place.h2 or "")
            if section in SUCCESS_HEADINGS:
                done = _checkbox(inline.content)
                if done is not None:
                    criteria.append(_criterion(inline, done))
            elif list_depth == 1 and section in REQUIREMENT_HEADINGS:
                requirements.append(Requirement(markdown.plain(inline), place.h3))
            elif list_depth == 1 and section in OUT_OF_SCOPE_HEADINGS:
                out_of_scope.append(markdown.plain(inline))
        elif kind == "table_open" and markdown.heading_key(place.h2 or "") in AFFECTED_HEADINGS:
            affected.extend(_affected(markdown.table_at(tokens, place.index)))
    if title is None:
        problems.append("no title (a first-level '# Title' heading)")
    return Spec(name=name, path=path, title=title, summary=summary, sections=tuple(sections),
                requirements=tuple(requirements), criteria=tuple(criteria),
                affected_files=tuple(affected), out_of_scope=tuple(out_of_scope),
                problems=tuple(problems), stamp=stamp)


def parse_spec(source: str | bytes, name: str, path: Path | None = None, *,
               stamp: FileStamp | None = None, size: int | None = None) -> Spec:
    """Parse spec text (or the bytes of a spec file). Never raises."""
    problems: list[str] = []
    if isinstance(source, bytes):
        text, problems = decode(source, size)
    else:
        text = source
    try:
        return _parse(text, name, path, problems, stamp)
    except Exception as exc:  # the markdown parser failing must not take the board down
        return Spec(name=name, path=path, stamp=stamp,
                    problems=(*problems, f"could not parse ({type(exc).__name__}: {exc})"))


def read_capped(path: Path, anchor: Path | None = None) -> tuple[bytes, FileStamp]:
    """The first ``MAX_SPEC_BYTES + 1`` bytes of the regular file ``path``, and its identity.

    Raises ``OSError``, also for what is not a regular file: a checkout can hold a link
    to anything, and a FIFO must not be waited on nor a device read without end. No link
    below ``anchor`` is followed (a link is an ``OSError`` whose text names it, see
    :mod:`wrapix_core.workspace_fs`); the default anchor is the workspace of a spec file
    ``<workspace>/specs/NAME.md``.
    """
    try:
        handle = workspace_fs.open_read(anchor or path.parent.parent, path)
    except workspace_fs.LinkRefused as error:
        raise OSError(errno.ELOOP, error.message) from None
    with handle:
        info = os.fstat(handle.fileno())
        data = handle.read(MAX_SPEC_BYTES + 1)
    return data, FileStamp(info.st_size, info.st_mtime_ns, info.st_ino)


def read_spec(path: Path, anchor: Path | None = None) -> Spec:
    """Read and parse ``path`` (see :func:`read_capped` for ``anchor``). A file that
    cannot be read (gone, a directory, no permission, not a regular file, a link) gives a
    Spec whose ``problems`` say so."""
    name = path.stem
    try:
        data, stamp = read_capped(path, anchor)
    except OSError as exc:
        return Spec(name=name, path=path, problems=(f"cannot read: {exc.strerror or exc}",))
    return parse_spec(data, name, path, stamp=stamp, size=stamp.size)
