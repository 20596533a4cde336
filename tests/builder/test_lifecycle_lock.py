"""One start or stop of the builder at a time, across processes.

A failed start cleans up by name (the container, the store it created); a second start
running at the same time would have had its container and store removed under it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from filelock import FileLock

from wrapix_core import paths
from wrapix_core.builder import lifecycle
from wrapix_core.builder.errors import BuilderBusy
from wrapix_core.settings import Settings


class NoRuntime:
    name = "podman"
    executable = "podman"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the runtime was asked to {name} while another start ran")


def test_a_second_start_or_stop_is_refused_while_one_runs() -> None:
    other = FileLock(str(paths.data_dir() / "builder.lock"), thread_local=False)
    paths.data_dir().mkdir(parents=True, exist_ok=True)
    other.acquire(timeout=0)  # another process is starting the builder
    try:
        with pytest.raises(BuilderBusy, match="in progress"):
            asyncio.run(lifecycle.start(NoRuntime(), Settings()))  # type: ignore[arg-type]
        with pytest.raises(BuilderBusy, match="in progress"):
            asyncio.run(lifecycle.stop(NoRuntime(), Settings()))  # type: ignore[arg-type]
    finally:
        other.release()
    with lifecycle._exclusive():  # free again once it finished
        pass
