"""A yes/no question before anything destructive (stop, restart, remove)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = stylesheet("modals.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, lines: list[str], confirm: str, *, verb: str = "") -> None:
        super().__init__(classes="modal")
        self.question = question
        self.lines = lines
        self.confirm_label = confirm
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm"):
            yield Label(fmt.safe(self.question, 120), id="question")
            with VerticalScroll(id="targets"):
                for line in self.lines:
                    yield Static(Text("• ") + fmt.safe(line, 160))
            with Horizontal(id="buttons"):
                yield Button(f"{self.confirm_label} (y)", id="yes", variant="error")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
