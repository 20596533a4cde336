"""The start-up check's full report (`wrapix doctor`), opened from a banner or the palette."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from wrapix_core.doctor import Report, render
from wrapix_tui.styles import stylesheet


class DoctorScreen(ModalScreen[None]):
    CSS_PATH = stylesheet("modals.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="doctor.close"),
    ]

    def __init__(self, report: Report | None) -> None:
        super().__init__(classes="modal")
        self.report = report

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="help"):
            yield Label(Text("wrapix doctor: this machine", style="bold"), classes="title")
            with VerticalScroll(id="help-body"):
                text = ("\n".join(render(self.report)) if self.report is not None
                        else "The check has not finished yet.")
                yield Static(Text(text), id="doctor-report")  # plain text: never markup
            yield Label(Text("`wrapix doctor --fix` in a shell applies the safe fixes.  "
                             "Esc closes.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
