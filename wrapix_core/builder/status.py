"""The builder's status: what ``wrapix-builder status`` prints and the TUI pane shows.

Status is read, never stored: the container's state from the runtime, the key and store
paths from the data directory, and the store's size from the filesystem. Watching it
reuses the runtime's event stream (no polling); the store size is recomputed only when
the container's state changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from wrapix_core import paths, units
from wrapix_core.errors import WrapixError
from wrapix_core.sandbox.errors import SandboxNotFound
from wrapix_core.sandbox.runtime import EventStreamStatus, Runtime, RuntimeEvent
from wrapix_core.settings import BuilderSettings

BuilderState = Literal["not-created", "stopped", "running"]
HOST_ALIAS = "wrapix-builder"
"""The name ssh configs and known_hosts use for the builder (``HostKeyAlias``)."""
SSH_USER = "builder"


def keys_dir() -> Path:
    return paths.data_dir() / "builder-keys"


def store_dir() -> Path:
    return paths.data_dir() / "builder-nix"


def client_key() -> Path:
    return keys_dir() / "client_ed25519"


def known_hosts() -> Path:
    """Pins the builder's host key (written with the keys), so ssh never asks."""
    return keys_dir() / "known_hosts"


@dataclass(frozen=True)
class BuilderStatus:
    state: BuilderState
    name: str
    port: int
    ssh: str
    """The command that reaches the builder."""
    keys: Path
    store: Path
    store_bytes: int
    image: str | None = None
    error: str | None = None
    """Why the state could not be read (runtime missing or hung), else None."""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["keys"], data["store"] = str(self.keys), str(self.store)
        return data

    def __str__(self) -> str:
        """One line for people (the TUI shows it after start and stop)."""
        where = f" on 127.0.0.1:{self.port}" if self.state == "running" else ""
        state = self.state.replace("-", " ")
        return (f"Builder {state}{where}; store {units.size(self.store_bytes)} "
                f"at {self.store}.")


def ssh_options(settings: BuilderSettings) -> list[str]:
    """ssh options that reach the builder with its key and pinned host key only."""
    return ["-i", str(client_key()), "-p", str(settings.port),
            "-o", "IdentitiesOnly=yes", "-o", f"HostKeyAlias={HOST_ALIAS}",
            "-o", f"UserKnownHostsFile={known_hosts()}", "-o", "StrictHostKeyChecking=yes"]


def ssh_argv(settings: BuilderSettings, command: list[str] | None = None, *,
             tty: bool = False, batch: bool = False) -> list[str]:
    """The ``ssh`` argv for the builder, optionally running ``command`` there."""
    argv = ["ssh", *ssh_options(settings)]
    if batch:
        argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]
    if tty:
        argv.append("-t")
    # "--" before the destination: nothing after it is read as an ssh option.
    return [*argv, "--", f"{SSH_USER}@127.0.0.1", *(command or [])]


def ssh_command(settings: BuilderSettings) -> str:
    """The command that reaches the builder, as a person would type it."""
    return shlex.join(["ssh", *ssh_options(settings), f"{SSH_USER}@127.0.0.1"])


def directory_size(path: Path) -> int:
    """Bytes used under ``path`` (hard links counted once), without following links."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += info.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
    return total


async def read_status(runtime: Runtime, settings: BuilderSettings) -> BuilderStatus:
    """The builder's current status; runtime failures are reported in ``error``."""
    state: BuilderState = "not-created"
    image: str | None = None
    error: str | None = None
    try:
        info = await runtime.inspect(settings.name)
        state = "running" if info.running else "stopped"
        image = info.image
    except SandboxNotFound:
        pass
    except WrapixError as exc:  # runtime missing, hung, garbage: shown, never fatal
        error = str(exc)
    size = await asyncio.to_thread(directory_size, store_dir())
    return BuilderStatus(state=state, name=settings.name, port=settings.port,
                         ssh=ssh_command(settings), keys=keys_dir(), store=store_dir(),
                         store_bytes=size, image=image, error=error)


async def watch_status(runtime: Runtime, settings: BuilderSettings
                       ) -> AsyncGenerator[BuilderStatus, None]:
    """The status now, then again whenever the builder container changes state."""
    yield await read_status(runtime, settings)
    async with contextlib.aclosing(runtime.events()) as events:
        async for event in events:
            if isinstance(event, EventStreamStatus):
                if event.connected:
                    yield await read_status(runtime, settings)
                continue
            if isinstance(event, RuntimeEvent) and event.name == settings.name:
                yield await read_status(runtime, settings)
