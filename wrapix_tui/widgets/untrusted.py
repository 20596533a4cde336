"""Markdown from untrusted text (issue descriptions and notes, agent questions).

Agents and other people write this text. It is shown as markdown, but:

- terminal controls are made visible first (:func:`wrapix_core.untrusted.block`:
  newlines and tabs kept, ESC and every other control shown as ``\\xNN``), so nothing
  reaches the terminal raw;
- raw HTML is not interpreted (shown as text), and links are never opened by a click;
- Textual's Markdown builds its text as content with spans, never parsing Rich or
  Textual markup, so ``[b]`` stays ``[b]``;
- the length is bounded.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from textual.widgets import Markdown

from wrapix_core.untrusted import block

LIMIT = 20_000
"""Characters shown at most (the rest is cut, with a note)."""


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def inert(text: str, limit: int = LIMIT) -> str:
    shown = block(text[:limit])
    if len(text) > limit:
        shown += f"\n\n… ({len(text) - limit:,} more characters not shown)"
    return shown


class SafeMarkdown(Markdown):
    """A Markdown widget for untrusted text."""

    DEFAULT_CSS = """
    SafeMarkdown {
        height: auto;
        padding: 0;
        margin: 0;
        background: transparent;
    }
    """

    def __init__(self, text: str = "", *, empty: str = "", id: str | None = None,
                 classes: str | None = None) -> None:
        self.empty = empty
        self.source_text = text
        super().__init__(self._shown(text), id=id, classes=classes, parser_factory=parser,
                         open_links=False)

    def _shown(self, text: str) -> str:
        return inert(text) if text.strip() else self.empty

    def set_text(self, text: str) -> None:
        """Show ``text`` (nothing happens when it did not change)."""
        if text != self.source_text:
            self.source_text = text
            self.update(self._shown(text))
