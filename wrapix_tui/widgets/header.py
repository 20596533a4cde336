"""The top bar: workspace, container runtime status, notification daemon status."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from wrapix_tui import format as fmt


class StatusHeader(Horizontal):
    """Cheaper than Textual's Header (no clock, no title reactives) and says more."""

    def __init__(self, workspace: Path) -> None:
        super().__init__(id="header")
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        yield Label(Text("wrapix", style="bold"), id="app-title")
        yield Label(fmt.safe(fmt.short_path(self.workspace, 56), 80), id="workspace")
        yield Label("podman: checking…", id="runtime-status", classes="-pending")
        yield Label("notify: starting…", id="notify-status", classes="-pending")

    def set_runtime(self, text: str, ok: bool) -> None:
        label = self.query_one("#runtime-status", Label)
        label.update(Text(text))
        label.set_class(ok, "-ok")
        label.set_class(not ok, "-bad")
        label.remove_class("-pending")

    def set_notify(self, text: str, hosted: bool) -> None:
        label = self.query_one("#notify-status", Label)
        label.update(Text(text))
        label.remove_class("-pending")
        label.set_class(hosted, "-hosted")
