"""A few lines of text (a title, a status line, the keys) drawn from prebuilt strips.

``Label``/``Static`` lay their content out again on every paint, and ``Footer`` mounts a
widget per key (again whenever the bindings change, which a focus change does): the diff
screen's first frame, which must come within twice the time ``git diff`` takes, cannot
pay for that. A line here is rich :class:`~rich.text.Text` the caller made inert (see
:mod:`wrapix_tui.format`), rendered once per width and kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

_ENABLED, _DISABLED = Style(), Style(dim=True)


class TextBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"textbar--key", "textbar--description"}
    DEFAULT_CSS = """
    TextBar {
        height: 1;
    }
    TextBar > .textbar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    TextBar > .textbar--description {
        color: $footer-description-foreground;
    }
    """

    def __init__(self, lines: int = 1, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lines = [Text() for _ in range(lines)]
        self._strips: dict[int, tuple[int, Style, Strip]] = {}
        self._base = Style()

    def set_line(self, index: int, text: Text) -> None:
        """Show ``text`` (inert already) as line ``index``; redraws that line only."""
        if text == self.lines[index]:
            return
        self.lines[index] = text
        self._strips.pop(index, None)
        if self.is_mounted:
            self.refresh(Region(0, index, max(1, self.size.width), 1))

    def plain(self, index: int = 0) -> str:
        return self.lines[index].plain

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per paint: it walks the DOM
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base
        kept = self._strips.get(y)
        if kept is not None and kept[0] == width and kept[1] == base:
            return kept[2]
        if y >= len(self.lines):
            return Strip.blank(width, base)
        text = self.lines[y].copy()
        text.no_wrap, text.end = True, ""
        text.truncate(width, overflow="ellipsis", pad=True)
        strip = Strip(Segment.apply_style(text.render(self.app.console), base), width)
        self._strips[y] = (width, base, strip)
        return strip

    def keys(self, screen: Screen[Any]) -> Text:
        """The keys ``screen`` shows, as ``Footer`` shows them: the bindings in effect
        (the user's keymap applied) with ``show``, one per action (its first key)."""
        key_style = self.get_component_rich_style("textbar--key")
        description_style = self.get_component_rich_style("textbar--description")
        text = Text()
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            dim = _ENABLED if enabled else _DISABLED
            text.append(f" {self.app.get_key_display(binding)} ", key_style + dim)
            text.append(f"{binding.description} ", description_style + dim)
        return text
