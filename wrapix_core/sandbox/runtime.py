"""What every container runtime offers wrapix, and the models it returns.

Podman on Linux and Apple ``container`` on macOS implement :class:`Runtime`; the CLI
and the TUI only talk to this interface (see :func:`get_runtime`).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import naming

if TYPE_CHECKING:
    from wrapix_core.sandbox.model import LaunchPlan, RuntimeCaps
    from wrapix_core.settings import SandboxSettings


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    state: str
    """``running``, ``exited``, ``created``, ``paused``, … as the runtime says."""
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    started: datetime | None = None
    pid: int | None = None
    exit_code: int | None = None
    auto_remove: bool = False
    """Removed when it stops (a sandbox started in the foreground: ``--rm``)."""
    host: str = "local"
    """The ``[hosts.NAME]`` it runs on (``local``: this machine)."""

    @property
    def is_sandbox(self) -> bool:
        return self.labels.get(naming.LABEL_SANDBOX) == "1"

    @property
    def profile(self) -> str:
        return self.labels.get(naming.LABEL_PROFILE, "")

    @property
    def workspace(self) -> str:
        return self.labels.get(naming.LABEL_WORKSPACE, "")

    @property
    def running(self) -> bool:
        return self.state == "running"

    def uptime(self, now: datetime | None = None) -> float | None:
        """Seconds since start while running, else None."""
        if not self.running or self.started is None:
            return None
        return max(0.0, ((now or datetime.now(UTC)) - self.started).total_seconds())

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "name": self.name, "image": self.image, "state": self.state,
            "labels": self.labels, "profile": self.profile, "workspace": self.workspace,
            "created": self.created.isoformat() if self.created else None,
            "started": self.started.isoformat() if self.started else None,
            "pid": self.pid, "exit_code": self.exit_code, "host": self.host,
        }


@dataclass(frozen=True)
class ContainerStats:
    name: str
    cpu_percent: float
    memory_bytes: int
    memory_limit: int | None = None
    source: str = "runtime"
    """``runtime`` (the runtime's own stats) or ``host`` (the host process tree)."""


@dataclass(frozen=True)
class RuntimeEvent:
    """A container lifecycle event (``start``, ``died``, ``stop``, ``remove``, …)."""

    id: str
    name: str
    action: str
    time: datetime
    labels: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None


@dataclass(frozen=True)
class EventStreamStatus:
    """Emitted by :meth:`Runtime.events` when the stream drops or recovers."""

    connected: bool
    error: str | None = None
    retry_in: float | None = None


class Runtime(Protocol):
    name: str
    executable: str

    async def caps(self) -> RuntimeCaps: ...
    async def image_exists(self, image: str) -> bool: ...
    async def container_exists(self, name: str) -> bool: ...
    async def launch_detached(self, plan: LaunchPlan) -> str: ...
    def launch_foreground(self, plan: LaunchPlan) -> int: ...
    async def containers(self, *, all: bool = False, sandboxes_only: bool = True
                         ) -> list[ContainerInfo]: ...
    async def inspect(self, name: str) -> ContainerInfo: ...
    async def stop(self, name: str, timeout: int = 10) -> None: ...
    async def remove(self, name: str, force: bool = False) -> None: ...
    async def restart(self, name: str) -> None: ...
    def logs(self, name: str, *, follow: bool = False, tail: int | None = None
             ) -> AsyncGenerator[str, None]: ...
    async def stats(self, names: Sequence[str]) -> list[ContainerStats]: ...
    def attach_argv(self, name: str, detach_keys: str) -> list[str]: ...
    def shell_argv(self, name: str) -> list[str]: ...
    def running_argv(self, name: str) -> list[str] | None:
        """A command that prints ``true`` while NAME runs (tells a detach from an exit)."""
    def exec_argv(self, name: str, command: Sequence[str], *, tty: bool = False
                  ) -> list[str]: ...
    def events(self) -> AsyncGenerator[RuntimeEvent | EventStreamStatus, None]: ...


SHELL_COMMAND = ["sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"]


def run_on_terminal(argv: Sequence[str], env: Mapping[str, str], missing: WrapixError, *,
                    running: Sequence[str] | None = None) -> int:
    """Run a runtime's foreground ``run`` on this terminal until it ends; its exit status.

    Not through :mod:`wrapix_core.proc`: the sandbox owns the terminal, for as long as
    the person keeps it (see :func:`wrapix_core.sandbox.tty.hand_over`, which also gives
    the terminal back as it was, after a detach too; ``running`` tells one from an exit).
    """
    import os

    from wrapix_core.sandbox import tty

    try:
        return tty.hand_over(argv, env={**os.environ, **env}, running=running)
    except FileNotFoundError:
        raise missing from None


def get_runtime(settings: SandboxSettings, platform: str | None = None) -> Runtime:
    """The runtime for this platform (or the one settings name)."""
    choice = settings.runtime
    if choice == "auto":
        choice = "apple" if (platform or sys.platform) == "darwin" else "podman"
    if choice == "apple":
        from wrapix_core.sandbox.apple import AppleRuntime

        return AppleRuntime(settings)
    from wrapix_core.sandbox.podman import PodmanRuntime

    return PodmanRuntime(settings)
