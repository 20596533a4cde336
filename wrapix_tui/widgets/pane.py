"""The skeleton every dashboard pane shares, written once.

A pane has the loaded core (None until :class:`~wrapix_tui.messages.CoreReady`), one
widget that takes the focus when the pane is chosen (``1``-``4``, a jump), a border title
and, under its main widget, a one-line note (what is loading, why it is empty, what went
wrong). Title and note are reactives: a pane assigns (or computes, with a
``compute_title`` method) what they say, and they are drawn only when that changes (a new
title redraws the border, a note update lays the pane out again). A worker of the pane
that fails with a bug is reported in one place, :meth:`Pane.on_worker_state_changed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker

from wrapix_tui import worker_failures
from wrapix_tui.worker_failures import Failure

if TYPE_CHECKING:
    from wrapix_tui.app import WrapixApp
    from wrapix_tui.core import Core

Note = str | Text | None
"""What a note says; empty or None hides it."""


class Pane(Vertical):
    """A dashboard pane. Subclasses set :attr:`MAIN`, :attr:`NOTE` (selectors of their
    main widget and note), and :attr:`FAILURES` for their workers' bugs."""

    ALLOW_MAXIMIZE = True

    MAIN: ClassVar[str] = ""
    """Selector of the widget that takes the focus; empty: the pane itself."""
    NOTE: ClassVar[str] = ""
    """Selector of the note (a :class:`~textual.widgets.Static`); empty: no note."""
    LOADING: ClassVar[str] = "Still loading settings…"
    """Said when a key needs what is still loading (:meth:`ready`)."""
    FAILURES: ClassVar[dict[str, Failure]] = {}
    """Per worker group: what to say when a worker of it fails with a bug (the worker is
    declared with ``exit_on_error=False``; a group not listed falls back to its name)."""

    title: reactive[str] = reactive("", init=False)
    """The border title (plain text: never read as markup)."""
    note: reactive[Note] = reactive[Note](None, init=False)
    note_error: reactive[bool] = reactive(False, init=False)
    """The note says something is wrong (styled ``-error``)."""

    def __init__(self, pane_id: str, *, note: Note = None) -> None:
        super().__init__(id=pane_id, classes="pane")
        self.core: Core | None = None
        self.set_reactive(Pane.note, note)  # as composed: drawn again only when it changes

    @property
    def wrapix_app(self) -> WrapixApp:
        return self.app  # type: ignore[return-value]

    def compose_note(self, widget_id: str) -> Static:
        """The note widget as the pane starts (its text is :attr:`note`)."""
        static = Static(_text(self.note), id=widget_id)
        static.display = bool(self.note)
        return static

    # -- focus and readiness ------------------------------------------------------------

    def focus_main(self) -> None:
        """Focus now, not after the next refresh: the next key may already be queued."""
        target: Widget = self.query_one(self.MAIN) if self.MAIN else self
        self.screen.set_focus(target)

    def loaded(self) -> bool:
        """Whether the pane has what its keys need (the core, by default)."""
        return self.core is not None

    def ready(self) -> bool:
        """:meth:`loaded`, or say that it is still loading (a warning toast)."""
        if self.loaded():
            return True
        self.app.notify(self.LOADING, severity="warning")
        return False

    # -- title and note -----------------------------------------------------------------

    def watch_title(self, title: str) -> None:
        self.border_title = Text(title)

    def watch_note(self, note: Note) -> None:
        if not self.NOTE or not self.is_mounted:
            return
        static = self.query_one(self.NOTE, Static)
        if note:
            static.update(_text(note))
        static.display = bool(note)

    def watch_note_error(self, error: bool) -> None:
        if self.NOTE and self.is_mounted:
            self.query_one(self.NOTE).set_class(error, "-error")

    # -- workers ------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker_failures.report(self, event, self.FAILURES)


def _text(note: Note) -> Text:
    """A note as inert text (a plain ``str`` given to a Static is read as markup)."""
    if isinstance(note, Text):
        return note
    return Text(note or "")
