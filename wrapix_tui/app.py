"""The wrapix supervisor application."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from wrapix_tui.styles import stylesheet


class WrapixApp(App[None]):
    """Supervises sandboxes, the builder, notifications and Ralph for one workspace."""

    CSS_PATH = stylesheet("app.tcss")
    TITLE = "wrapix"

    def __init__(self, workspace: Path) -> None:
        super().__init__()
        self.workspace = workspace
        self.sub_title = str(workspace)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("wrapix-tui: the supervisor panes are not implemented yet.", id="placeholder")
        yield Footer()
