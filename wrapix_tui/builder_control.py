"""Start and stop the Linux builder through the core's lifecycle module.

The one place the TUI calls ``wrapix_core.builder.lifecycle``; the pane shows what this
returns or raises. Nothing here imports Textual.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wrapix_core.errors import WrapixError

if TYPE_CHECKING:
    from wrapix_tui.core import Core


class BuilderUnavailable(WrapixError):
    """This version of wrapix has no builder lifecycle yet."""


async def run(verb: str, core: Core, progress: Callable[[str], None]) -> str:
    """``start`` or ``stop`` the builder; returns what to show when it worked."""
    try:
        lifecycle = importlib.import_module("wrapix_core.builder.lifecycle")
    except ModuleNotFoundError:
        raise BuilderUnavailable(
            f"builder {verb} is not available in this version of wrapix",
            "the builder lifecycle (wrapix_core.builder.lifecycle) has not landed yet"
        ) from None
    function = getattr(lifecycle, verb, None)
    if function is None:
        raise BuilderUnavailable(f"builder {verb} is not available in this version of wrapix")
    params = inspect.signature(function).parameters
    kwargs: dict[str, Any] = {}
    for name in ("progress", "on_progress", "on_event"):
        if name in params:
            kwargs[name] = lambda event: progress(str(getattr(event, "line", event)))
    if "runtime" in params:
        kwargs["runtime"] = core.runtime
    if "settings" in params:
        annotation = str(params["settings"].annotation)
        kwargs["settings"] = (core.settings.builder if "BuilderSettings" in annotation
                              else core.settings)
    result = await function(**kwargs)
    return f"Builder {'started' if verb == 'start' else 'stopped'}." if result is None \
        else str(result)
