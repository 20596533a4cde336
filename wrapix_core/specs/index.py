"""``specs/README.md``: the spec index and the terminology table.

The index is the first table whose header has a ``Spec`` column; its other columns are
found by name: ``Code`` (code spans or links, several allowed), ``Beads`` (optional: the
epic id that tracks the spec; ``—``, ``-`` or empty mean none), ``Purpose``, and an
optional ``Status`` column. The terminology table is the one headed ``Term``/``Definition``.

A spec's review state is marked in the README, where people and agents already look:

* a ``Status`` column whose cell is ``WIP`` or ``REVIEW`` (any case), or
* without that column, a Purpose that starts with the marker: ``WIP: …``, ``[WIP] …``,
  ``**REVIEW** …``.

Anything else means no marker. Never raises: problems are reported in ``SpecIndex.problems``.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from markdown_it.token import Token

from wrapix_core.specs import markdown
from wrapix_core.specs.model import FileStamp, IndexEntry, SpecIndex, SpecState, Term
from wrapix_core.specs.parser import decode, read_capped

INDEX_FILE = "README.md"
_NONE = frozenset({"", "—", "–", "-", "n/a", "none"})
_PURPOSE_MARK = re.compile(r"^\W*(WIP|REVIEW)\b\W*", re.IGNORECASE)


def _spec_name(cell: Token) -> tuple[str, str] | None:
    """(name, file) of the spec a Spec cell points at: its link target, else its text."""
    target = markdown.first_link(cell)
    raw = unquote(target) if target else markdown.plain(cell)
    file = PurePosixPath(raw.split("#", 1)[0].strip()).name
    if not file:
        return None
    name = file[:-3] if file.lower().endswith(".md") else file
    return name, file if file.lower().endswith(".md") else f"{file}.md"


def _code(cell: Token) -> tuple[str, ...]:
    spans = [child.content for child in cell.children or [] if child.type == "code_inline"]
    if spans:
        return tuple(spans)
    text = markdown.plain(cell)
    return () if text.lower() in _NONE else (text,)


def _state(text: str) -> SpecState | None:
    word = text.strip().strip("*_[]()`").upper()
    if word == "WIP":
        return "WIP"
    if word == "REVIEW":
        return "REVIEW"
    return None


def _entries(table: markdown.Table) -> list[IndexEntry]:
    keys = table.header_keys()
    column = {key: number for number, key in enumerate(keys)}

    def cell(row: tuple[Token, ...], key: str) -> Token | None:
        number = column.get(key)
        return row[number] if number is not None and number < len(row) else None

    entries: list[IndexEntry] = []
    for row in table.rows:
        spec_cell = cell(row, "spec")
        named = _spec_name(spec_cell) if spec_cell is not None else None
        if named is None:
            continue
        code_cell = cell(row, "code")
        beads = markdown.plain(cell(row, "beads")).strip()
        purpose = markdown.plain(cell(row, "purpose"))
        if "status" in column:
            state = _state(markdown.plain(cell(row, "status")))
        else:
            match = _PURPOSE_MARK.match(purpose)
            state = _state(match.group(1)) if match else None
            if match:
                purpose = purpose[match.end():]
        entries.append(IndexEntry(
            spec=named[0], file=named[1],
            code=_code(code_cell) if code_cell is not None else (),
            epic=None if beads.lower() in _NONE else beads,
            purpose=purpose, state=state))
    return entries


def _terms(table: markdown.Table) -> list[Term]:
    return [Term(markdown.plain(row[0]), markdown.plain(row[1]) if len(row) > 1 else "")
            for row in table.rows if row and markdown.plain(row[0])]


def parse_index(source: str | bytes, *, stamp: FileStamp | None = None,
                size: int | None = None) -> SpecIndex:
    """Parse README text (or bytes; ``size``: the whole file's, when they are its start).
    Never raises."""
    problems: list[str] = []
    if isinstance(source, bytes):
        text, problems = decode(source, size)
    else:
        text = source
    try:
        tokens = markdown.parse(text)
        entries: list[IndexEntry] = []
        terms: list[Term] = []
        for index, token in enumerate(tokens):
            if token.type != "table_open":
                continue
            table = markdown.table_at(tokens, index)
            keys = table.header_keys()
            if "spec" in keys and not entries:
                entries = _entries(table)
            elif keys[:1] == ["term"] and not terms:
                terms = _terms(table)
    except Exception as exc:  # a broken README must not take the board down
        return SpecIndex(problems=(*problems, f"could not parse ({type(exc).__name__}: {exc})"),
                         stamp=stamp)
    if not entries:
        problems.append("no spec table (a table with a 'Spec' column)")
    return SpecIndex(tuple(entries), tuple(terms), tuple(problems), stamp)


def read_index(specs_dir: Path) -> SpecIndex | None:
    """``specs_dir/README.md`` parsed; None when there is none; unreadable is a problem."""
    path = specs_dir / INDEX_FILE
    try:
        data, stamp = read_capped(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return SpecIndex(problems=(f"{path}: cannot read: {exc.strerror or exc}",))
    return parse_index(data, stamp=stamp, size=stamp.size)
