"""`?`: every action with its keys, generated from the same Bindings the app uses
(remapped keys included), so help can never disagree with the keyboard."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from wrapix_tui import keys
from wrapix_tui.styles import stylesheet


class HelpScreen(ModalScreen[None]):
    CSS_PATH = stylesheet("modals.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, groups: list[tuple[str, type]], keymap: dict[str, str]) -> None:
        super().__init__(classes="modal")
        self.groups = groups
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="help"):
            yield Label(Text("wrapix-tui keys", style="bold"), classes="title")
            with VerticalScroll(id="help-body"):
                yield Static(self._table(), id="help-table")
            yield Label(Text("Remap any key by its id in config.toml: [keymap] "
                             'sandbox.attach = "ctrl+a".  Esc closes.', style="dim"))

    def _table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False,
                      expand=True)
        table.add_column("where", no_wrap=True, style="dim")
        table.add_column("keys", no_wrap=True, style="bold")
        table.add_column("action")
        table.add_column("id", no_wrap=True, style="dim")
        group = None
        for action in keys.actions(self.groups, self.keymap):
            table.add_row(Text(action.group if action.group != group else ""),
                          Text(keys.display_keys(action.keys)),
                          Text(action.binding.description or action.binding.action),
                          Text(action.id))
            group = action.group
        return table

    def action_close(self) -> None:
        self.dismiss(None)
