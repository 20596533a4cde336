"""Build progress as events, from the builder's own output lines.

The CLI renders them with Rich; the TUI with a progress bar. Both get the same events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_STEP = re.compile(r"^(?:\[\d+/\d+\] )?STEP (\d+)/(\d+): (.*)$")


@dataclass(frozen=True)
class BuildEvent:
    """One line of build output; ``step``/``total`` are set when a new step starts."""

    line: str
    step: int | None = None
    total: int | None = None
    note: bool = False
    """A line to keep on screen (what wrapix decided and why), not just build output."""

    @property
    def starts_step(self) -> bool:
        return self.step is not None


ProgressCallback = Callable[[BuildEvent], None]


def parse(line: str) -> BuildEvent:
    match = _STEP.match(line.strip())
    if match:
        return BuildEvent(line, int(match.group(1)), int(match.group(2)))
    return BuildEvent(line)


def ignore(event: BuildEvent) -> None:
    """A progress callback that shows nothing."""
