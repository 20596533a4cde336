"""Start and stop the Linux builder through the core's lifecycle, reporting progress.

The one place the TUI calls :mod:`wrapix_core.builder.lifecycle` (the same functions as
``wrapix-builder start|stop``); the pane shows the events and the final status. Nothing
here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wrapix_core.builder.events import BuilderEvent
    from wrapix_core.builder.status import BuilderStatus
    from wrapix_tui.core import Core


async def run(verb: str, core: Core, on_event: Callable[[BuilderEvent], None]
              ) -> BuilderStatus:
    """``start`` or ``stop`` the builder; returns its status afterwards."""
    from wrapix_core.builder import lifecycle

    if verb == "start":
        return await lifecycle.start(core.runtime, core.settings, on_event=on_event)
    return await lifecycle.stop(core.runtime, core.settings, on_event=on_event)
