"""The hosts an allowlist sandbox was refused: allow one now, or in the project."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet


class EgressScreen(ModalScreen[tuple[str, str] | None]):
    """Dismissed with (host, ``"now"`` or ``"project"``), or None."""

    CSS_PATH = stylesheet("modals.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,a", "allow('now')", "Allow for this sandbox", id="egress.allow"),
        Binding("p", "allow('project')", "Add to project allowlist", id="egress.project"),
        Binding("escape", "close", "Close", id="egress.close"),
    ]

    def __init__(self, sandbox: str, hosts: list[str]) -> None:
        super().__init__(classes="modal")
        self.sandbox = sandbox
        self.hosts = hosts

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm"):
            yield Label(fmt.safe(f"{self.sandbox} was refused (newest first) — enter: allow "
                                 "for this sandbox now, p: add to the project's wrapix.toml "
                                 "(needs trusting again)", 200), id="question")
            yield OptionList(*(Option(fmt.safe(host, 120), id=str(index))
                               for index, host in enumerate(self.hosts)), id="egress-hosts")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_allow("now")

    def action_allow(self, where: str) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None:
            return
        self.dismiss((self.hosts[index], where))

    def action_close(self) -> None:
        self.dismiss(None)
