"""Lasting problems (Podman missing or hung, the daemon socket taken, a bad config) as
one banner line per source, each with what to do; a toast is for one-off failures."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from wrapix_core.errors import WrapixError


class Banner(Static):
    def __init__(self) -> None:
        super().__init__("", id="banner")
        self.problems: dict[str, str] = {}
        self.display = False

    def show(self, source: str, error: WrapixError | str) -> None:
        self.problems[source] = str(error)
        self._render_problems()

    def clear(self, source: str) -> None:
        if self.problems.pop(source, None) is not None:
            self._render_problems()

    def _render_problems(self) -> None:
        text = Text()
        for index, (source, message) in enumerate(self.problems.items()):
            if index:
                text.append("\n")
            text.append(f" {source} ", style="bold reverse")
            text.append(" ")
            text.append(message)  # plain text: messages may quote anything
        self.update(text)
        self.display = bool(self.problems)
