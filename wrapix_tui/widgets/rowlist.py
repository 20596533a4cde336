"""A list that renders only the rows on screen (Textual's line API), with a cursor.

The Ralph board shows up to tens of thousands of issues; a DataTable (or OptionList)
with a row per issue pays for every row up front. Here rows are plain values, a line is
rendered when it is drawn, and each rendered line is cached by (row value identity,
width, cursor) so a row whose value did not change is never rendered twice.

Subclasses implement :meth:`render_row` (a row as :class:`rich.text.Text`, untrusted text
inside it already made inert). :meth:`set_rows` keeps the cursor on the row with the same
``key`` and keeps the scroll position where it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


R = TypeVar("R", bound=Keyed)


class RowList(ScrollView, Generic[R], can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"rowlist--cursor", "rowlist--cursor-blurred"}
    DEFAULT_CSS = """
    RowList {
        height: 1fr;
        background: $surface;
        overflow-x: hidden;
    }
    RowList > .rowlist--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    RowList > .rowlist--cursor-blurred {
        background: $block-cursor-blurred-background;
    }
    """
    # Movement within a list (remappable by id; not palette commands: they act on the
    # list that has the focus).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False, id="list.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("home", "edge(-1)", "First", show=False, id="list.first"),
        Binding("end", "edge(1)", "Last", show=False, id="list.last"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        def __init__(self, rowlist: RowList[Any], row: Any) -> None:
            super().__init__()
            self.rowlist = rowlist
            self.row = row

        @property
        def control(self) -> RowList[Any]:
            return self.rowlist

    class Selected(Highlighted):
        """A click on the row under the cursor (enter is the owner's binding)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[R] = []
        self._index: dict[str, int] = {}
        self._cache: dict[tuple[int, int, bool, bool], Strip] = {}
        self.renders = 0
        self._base = Style()
        """How many lines were rendered (not served from the cache): for tests."""

    # -- data -------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[R]) -> None:
        """Replace the rows; the cursor stays on the same key (or the same place)."""
        current = self.current
        old_cursor = self.cursor
        self.rows = list(rows)
        self._index = {row.key: index for index, row in enumerate(self.rows)}
        live = {id(row) for row in self.rows}
        self._cache = {key: strip for key, strip in self._cache.items() if key[0] in live}
        self.virtual_size = Size(self.size.width, len(self.rows))
        if current is not None and current.key in self._index:
            target = self._index[current.key]
        else:
            target = min(old_cursor, max(0, len(self.rows) - 1))
        self.set_reactive(RowList.cursor, target)
        self._keep_visible()
        self.refresh()
        if current is None or self.current is None or self.current.key != current.key \
                or self.current is not current:
            self._announce()

    @property
    def current(self) -> R | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def select_key(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self.cursor = index
        return True

    def index_of(self, key: str) -> int | None:
        return self._index.get(key)

    # -- rendering --------------------------------------------------------------------
    def render_row(self, row: R, width: int) -> Text:  # pragma: no cover - abstract
        raise NotImplementedError

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per paint: it walks the DOM for every call
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self._base
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        selected = index == self.cursor
        focused = self.has_focus
        key = (id(row), width, selected, selected and focused)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_strip(row, width, base, selected, focused)
            self._cache[key] = strip
        return strip.crop(scroll_x, scroll_x + width) if scroll_x else strip

    def _render_strip(self, row: R, width: int, base: Style, selected: bool,
                      focused: bool) -> Strip:
        self.renders += 1
        text = self.render_row(row, width)
        text.no_wrap = True
        text.end = ""
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        strip = Strip(segments).adjust_cell_length(width)
        strip = Strip(Segment.apply_style(strip, base))
        if selected:
            name = "rowlist--cursor" if focused else "rowlist--cursor-blurred"
            cursor = self.get_component_rich_style(name)
            strip = Strip(Segment.apply_style(strip, None, cursor))  # over the row's own
        return strip.simplify()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))

    # -- the cursor ---------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self._keep_visible()
        self._announce()

    def _keep_visible(self) -> None:
        if self.rows and self.size.height:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True,
                                  immediate=True)

    def _announce(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Highlighted(self, row))

    def _on_focus(self, event: Any) -> None:
        super()._on_focus(event)
        self.refresh_line(self.cursor)

    def _on_blur(self, event: Any) -> None:
        super()._on_blur(event)
        self.refresh_line(self.cursor)

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def action_edge(self, direction: int) -> None:
        if self.rows:
            self.cursor = 0 if direction < 0 else len(self.rows) - 1

    def on_click(self, event: Any) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.rows):
            if index == self.cursor:
                self.post_message(self.Selected(self, self.rows[index]))
            self.cursor = index
