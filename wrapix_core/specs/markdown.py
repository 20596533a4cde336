"""The markdown-it-py pieces the spec and index parsers share.

One CommonMark parser with tables, plus helpers over its token stream: the plain text of
an inline token, which top-level section a token sits in, and tables as rows of cells.
Reading text from tokens (not from regular expressions over the source) keeps code
spans, escapes and links right.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def parse(text: str) -> list[Token]:
    return parser().parse(text)


def plain(inline: Token | None, skip_links: frozenset[str] = frozenset()) -> str:
    """The text a reader sees in an inline token, whitespace collapsed.

    Links whose visible text is in ``skip_links`` (e.g. ``verify``) are left out.
    """
    if inline is None:
        return ""
    parts: list[str] = []
    children = inline.children or []
    index = 0
    while index < len(children):
        child = children[index]
        if child.type == "link_open" and skip_links:
            end = index + 1
            depth = 1
            while end < len(children) and depth:
                depth += {"link_open": 1, "link_close": -1}.get(children[end].type, 0)
                end += 1
            label = plain(Token("inline", "", 0, children=children[index + 1:end - 1]))
            if label.lower() in skip_links:
                index = end
                continue
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
        index += 1
    return " ".join("".join(parts).split())


def line_of(token: Token) -> int | None:
    """1-based source line of a block token."""
    return token.map[0] + 1 if token.map else None


def heading_key(title: str) -> str:
    """A heading reduced for matching: lowercase words, no punctuation around them."""
    return " ".join(word.strip(":.-–—#*_`") for word in title.lower().split()).strip()


@dataclass(frozen=True)
class Placed:
    """A token with the titles of the level-2 and level-3 headings it falls under."""

    index: int
    token: Token
    h2: str | None
    h3: str | None


def placed(tokens: Sequence[Token]) -> Iterator[Placed]:
    """Each token with its enclosing ``##`` and ``###`` heading titles (None outside)."""
    h2: str | None = None
    h3: str | None = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            title = plain(tokens[index + 1])
            if token.tag == "h1":
                h2 = h3 = None
            elif token.tag == "h2":
                h2, h3 = title, None
            elif token.tag == "h3":
                h3 = title
        yield Placed(index, token, h2, h3)


@dataclass(frozen=True)
class Table:
    """A table: its header cells and body rows (each cell is its inline token)."""

    header: tuple[Token, ...]
    rows: tuple[tuple[Token, ...], ...]
    start: int
    """Index of the ``table_open`` token."""

    def header_keys(self) -> list[str]:
        return [heading_key(plain(cell)) for cell in self.header]


def table_at(tokens: Sequence[Token], start: int) -> Table:
    """The table whose ``table_open`` token is ``tokens[start]``."""
    header: list[Token] = []
    rows: list[tuple[Token, ...]] = []
    row: list[Token] = []
    in_head = False
    index = start + 1
    while index < len(tokens) and tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if in_head:
                header = row
            else:
                rows.append(tuple(row))
        elif token.type == "inline":
            row.append(token)
        index += 1
    return Table(tuple(header), tuple(rows), start)


def first_link(inline: Token | None) -> str | None:
    """The href of the first link in an inline token."""
    for child in (inline.children or []) if inline is not None else []:
        if child.type == "link_open":
            href = child.attrGet("href")
            return str(href) if href is not None else None
    return None


def links(inline: Token | None) -> list[tuple[str, str]]:
    """Every ``(visible text, href)`` link in an inline token."""
    found: list[tuple[str, str]] = []
    children = (inline.children or []) if inline is not None else []
    for index, child in enumerate(children):
        if child.type != "link_open":
            continue
        label: list[Token] = []
        for inner in children[index + 1:]:
            if inner.type == "link_close":
                break
            label.append(inner)
        href = child.attrGet("href")
        found.append((plain(Token("inline", "", 0, children=label)), str(href or "")))
    return found
