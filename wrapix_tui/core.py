"""The core, loaded off the start-up path.

Importing pydantic-settings and the Podman runtime costs a few hundred milliseconds, so
the app draws its first frame first and then calls :func:`load_core` in a thread worker.
Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wrapix_core.errors import WrapixError

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import Runtime
    from wrapix_core.settings import SandboxSettings, Settings

RuntimeFactory = Callable[["SandboxSettings"], "Runtime"]


@dataclass
class Core:
    workspace: Path
    settings: Settings
    runtime: Runtime
    problems: list[WrapixError] = field(default_factory=list)
    """What went wrong while loading (shown as banners); defaults were used instead."""


def load_settings_for(workspace: Path | None) -> tuple[Settings, list[WrapixError]]:
    """Settings for ``workspace``; an invalid file falls back to defaults and says why."""
    from wrapix_core.settings import Settings, load_settings

    problems: list[WrapixError] = []
    try:
        return load_settings(workspace), problems
    except WrapixError as exc:
        problems.append(exc)
    try:
        return load_settings(None), problems
    except WrapixError as exc:
        problems.append(exc)
    return Settings.model_construct(), problems


def load_core(workspace: Path, runtime_factory: RuntimeFactory | None = None) -> Core:
    """Settings, then the runtime they choose (blocking: call from a thread)."""
    settings, problems = load_settings_for(workspace)
    if runtime_factory is None:
        from wrapix_core.sandbox.runtime import get_runtime

        runtime_factory = get_runtime
    runtime = runtime_factory(settings.sandbox)
    return Core(workspace, settings, runtime, problems)
