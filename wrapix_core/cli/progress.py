"""Rendering image-build progress on a terminal (Rich), or as plain lines in a pipe.

The display starts with the first event, so a command that turns out to need no build
(the usual `wrapix run`) prints nothing and imports nothing extra. Build output is other
programs' text (package managers, downloaded installers): it is escaped before it
reaches the terminal (Rich passes escape sequences through).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wrapix_core.image.progress import BuildEvent, ProgressCallback
from wrapix_core.untrusted import line as safe_line


class _RichBar:
    def __init__(self, title: str):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
        )

        self.progress: Any = Progress(
            SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}", style="dim", markup=False),
            console=Console(stderr=True))
        self.task = self.progress.add_task(safe_line(title), total=None, detail="")
        self.progress.start()

    def __call__(self, event: BuildEvent) -> None:
        if event.note:
            from rich.text import Text

            self.progress.console.print(Text(safe_line(event.line.strip())))
            return
        detail = safe_line(event.line.strip())[:70]
        if event.starts_step and event.step is not None:
            self.progress.update(self.task, total=event.total, completed=event.step - 1,
                                 detail=detail)
        elif detail:
            self.progress.update(self.task, detail=detail)

    def close(self) -> None:
        total = self.progress.tasks[0].total
        if total:
            self.progress.update(self.task, completed=total, detail="done")
        self.progress.stop()


@contextmanager
def build_progress(title: str) -> Iterator[ProgressCallback]:
    """A progress callback for the duration of a possible build."""
    bar: _RichBar | None = None

    def report(event: BuildEvent) -> None:
        nonlocal bar
        if not sys.stderr.isatty():
            if event.starts_step or event.note or (event.step is None
                                                   and event.line.startswith("building ")):
                print(safe_line(f"{title}: {event.line.strip()}"), file=sys.stderr,
                      flush=True)
            return
        if bar is None:
            bar = _RichBar(title)
        bar(event)

    try:
        yield report
    finally:
        if bar is not None:
            bar.close()
