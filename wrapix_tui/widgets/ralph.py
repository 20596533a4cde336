"""The Ralph pane, until the Ralph board lands: the workspace's specs and what will be here.

It lists ``specs/*.md`` as found on disk and invents nothing else.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from wrapix_tui import format as fmt

COMING = ("The Ralph board arrives with the Ralph workflow: each spec's criteria progress "
          "and epic, issues by status, the ready queue and clarify questions.")


class RalphPane(VerticalScroll):
    ALLOW_MAXIMIZE = True
    BORDER_TITLE = "Ralph"

    def __init__(self, workspace: Path) -> None:
        super().__init__(id="ralph", classes="pane")
        self.workspace = workspace
        self.specs: list[str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(COMING, style="dim"), id="ralph-coming")
        yield Static("", id="ralph-specs")

    def load(self) -> None:
        self._list_specs()

    @work(thread=True, exclusive=True, group="ralph.specs")
    def _list_specs(self) -> None:
        folder = self.workspace / "specs"
        names = sorted(path.name for path in folder.glob("*.md")) if folder.is_dir() else []
        self.app.call_from_thread(self._show, names, folder.is_dir())

    def _show(self, names: list[str], exists: bool) -> None:
        self.specs = names
        text = Text()
        if not exists:
            text.append(f"No specs/ folder in {fmt.home_short(self.workspace)}.")
        elif not names:
            text.append("specs/ has no .md files yet.")
        else:
            text.append(f"specs/ ({len(names)}):\n", style="bold")
            for name in names:
                text.append("  ")
                text.append(fmt.safe(name, 80))
                text.append("\n")
        self.query_one("#ralph-specs", Static).update(text)
        plural = "" if len(names) == 1 else "s"
        self.border_title = Text(f"Ralph · {len(names)} spec{plural}" if names else "Ralph")
