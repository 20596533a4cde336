"""Progress of a builder start or stop, as events the CLI and the TUI both render.

Each event has a ``line`` for people (the TUI shows it as is). Copying the store
carries ``done``/``total``; the image build passes the image builder's own
:class:`~wrapix_core.image.progress.BuildEvent` along in ``build``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from wrapix_core.image.progress import BuildEvent

Phase = Literal["check", "keys", "image", "store", "container", "wait", "stop", "done"]


@dataclass(frozen=True)
class BuilderEvent:
    phase: Phase
    line: str
    done: int | None = None
    total: int | None = None
    build: BuildEvent | None = None


BuilderCallback = Callable[[BuilderEvent], None]


def ignore(event: BuilderEvent) -> None:
    """A callback that shows nothing."""
