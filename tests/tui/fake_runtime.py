"""A test double of wrapix's own ``Runtime`` protocol, for Pilot tests where Podman is
not the point. It keeps containers in memory, emits events the way Podman does for each
operation, records calls, and fails on request with the core's own error types."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox.errors import RuntimeFailed, SandboxNotFound
from wrapix_core.sandbox.model import LaunchPlan, RuntimeCaps
from wrapix_core.sandbox.runtime import (
    ContainerInfo,
    ContainerStats,
    EventStreamStatus,
    RuntimeEvent,
)

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
"""The fixed "now" of snapshot tests."""


def sandbox(name: str, *, state: str = "running", profile: str = "base",
            workspace: str = "/home/alice/src/proj", started_ago: float = 125.0,
            wrapix: bool = True, image: str = "localhost/wrapix-base:latest") -> ContainerInfo:
    labels = ({"wrapix.sandbox": "1", "wrapix.profile": profile,
               "wrapix.workspace": workspace} if wrapix else {})
    return ContainerInfo(id=f"id-{name}", name=name, image=image, state=state, labels=labels,
                         created=T0 - timedelta(seconds=started_ago + 5),
                         started=T0 - timedelta(seconds=started_ago),
                         exit_code=0 if state == "exited" else None)


class FakeRuntime:
    name = "podman"
    executable = "podman"

    def __init__(self, containers: Sequence[ContainerInfo] = (), *,
                 images: Sequence[str] = ("localhost/wrapix-base:latest",),
                 caps: RuntimeCaps | None = None) -> None:
        self.items: dict[str, ContainerInfo] = {info.name: info for info in containers}
        self.images = set(images)
        self.caps_value = caps or RuntimeCaps(version="4.3.1")
        self.fail: dict[str, WrapixError] = {}
        """Operation name (``caps``, ``containers``, ``stop``…) → the error it raises."""
        self.calls: list[tuple[str, Any]] = []
        self.stats_values: dict[str, tuple[float, int]] = {}
        self.log_lines: dict[str, list[str]] = {}
        self.hold: dict[str, asyncio.Event] = {}
        """Operation name → an event the operation waits for (to observe "in progress")."""
        self._queue: asyncio.Queue[RuntimeEvent | EventStreamStatus] | None = None
        self._backlog: list[RuntimeEvent | EventStreamStatus] = []
        self._log_queues: dict[str, asyncio.Queue[str | None]] = {}
        self.now = lambda: datetime.now(UTC)

    # -- helpers for tests ----------------------------------------------------------

    def emit(self, action: str, name: str, exit_code: int | None = None) -> None:
        info = self.items.get(name)
        event = RuntimeEvent(id=info.id if info else f"id-{name}", name=name, action=action,
                             time=self.now(), labels=dict(info.labels) if info else {},
                             exit_code=exit_code)
        self._put(event)

    def drop_stream(self, error: str = "podman events ended") -> None:
        self._put(EventStreamStatus(connected=False, error=error, retry_in=0.5))

    def reconnect(self) -> None:
        self._put(EventStreamStatus(connected=True))

    def _put(self, item: RuntimeEvent | EventStreamStatus) -> None:
        if self._queue is None:
            self._backlog.append(item)
        else:
            self._queue.put_nowait(item)

    def write_log(self, name: str, line: str | None) -> None:
        """A new output line of ``name`` (None: the output ends)."""
        self._log_queues.setdefault(name, asyncio.Queue()).put_nowait(line)

    async def _maybe_fail(self, operation: str) -> None:
        self.calls.append((operation, None))
        if operation in self.hold:
            await self.hold[operation].wait()
        error = self.fail.get(operation)
        if error is not None:
            raise error

    # -- the Runtime protocol -------------------------------------------------------

    async def caps(self) -> RuntimeCaps:
        await self._maybe_fail("caps")
        return self.caps_value

    async def image_exists(self, image: str) -> bool:
        return image in self.images

    async def container_exists(self, name: str) -> bool:
        return name in self.items

    async def launch_detached(self, plan: LaunchPlan) -> str:
        await self._maybe_fail("launch")
        self.calls.append(("launch_argv", list(plan.argv)))
        labels = {}
        for index, item in enumerate(plan.argv):
            if item == "--label":
                key, _, value = plan.argv[index + 1].partition("=")
                labels[key] = value
        image = next((a for a in plan.argv if a in self.images), "?")
        info = ContainerInfo(id=f"id-{plan.name}", name=plan.name, image=image,
                             state="running", labels=labels, created=self.now(),
                             started=self.now())
        self.items[plan.name] = info
        self.emit("create", plan.name)
        self.emit("start", plan.name)
        return info.id

    def launch_foreground(self, plan: LaunchPlan) -> int:
        raise AssertionError("the TUI never launches in the foreground")

    async def containers(self, *, all: bool = False, sandboxes_only: bool = True
                         ) -> list[ContainerInfo]:
        await self._maybe_fail("containers")
        return [info for info in self.items.values()
                if (all or info.running) and (not sandboxes_only or info.is_sandbox)]

    async def inspect(self, name: str) -> ContainerInfo:
        await self._maybe_fail("inspect")
        if name not in self.items:
            raise SandboxNotFound(f"no sandbox named '{name}'", "see `wrapix ls --all`")
        return self.items[name]

    def _existing(self, name: str) -> ContainerInfo:
        if name not in self.items:
            raise SandboxNotFound(f"no sandbox named '{name}'", "see `wrapix ls --all`")
        return self.items[name]

    async def stop(self, name: str, timeout: int = 10) -> None:
        await self._maybe_fail("stop")
        info = self._existing(name)
        self.calls.append(("stop_name", name))
        if info.running:
            self.items[name] = replace(info, state="exited", exit_code=137)
            self.emit("died", name, exit_code=137)
            self.emit("stop", name)

    async def remove(self, name: str, force: bool = False) -> None:
        await self._maybe_fail("remove")
        info = self._existing(name)
        self.calls.append(("remove_name", (name, force)))
        if info.running and not force:
            raise RuntimeFailed(f"`podman rm` failed: cannot remove container {name} as it "
                                "is running")
        del self.items[name]
        self.emit("remove", name)

    async def restart(self, name: str) -> None:
        await self._maybe_fail("restart")
        info = self._existing(name)
        self.calls.append(("restart_name", name))
        self.items[name] = replace(info, state="running", started=self.now())
        self.emit("restart", name)

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None
                   ) -> AsyncGenerator[str, None]:
        await self._maybe_fail("logs")
        self._existing(name)
        self.calls.append(("logs_args", (name, follow, tail)))
        lines = self.log_lines.get(name, [])
        for line in lines[max(len(lines) - tail, 0):] if tail is not None else lines:
            yield line
        if not follow:
            return
        queue = self._log_queues.setdefault(name, asyncio.Queue())
        while True:
            line = await queue.get()
            if line is None:
                return
            yield line

    async def stats(self, names: Sequence[str]) -> list[ContainerStats]:
        await self._maybe_fail("stats")
        self.calls.append(("stats_names", list(names)))
        return [ContainerStats(name, *self.stats_values.get(name, (0.0, 0)))
                for name in names if name in self.items]

    def attach_argv(self, name: str, detach_keys: str) -> list[str]:
        return [sys.executable, "-c", "print('attached')", name, detach_keys]

    def running_argv(self, name: str) -> list[str] | None:
        return None

    def shell_argv(self, name: str) -> list[str]:
        return [sys.executable, "-c", "print('shell')", name]

    def exec_argv(self, name: str, command: Sequence[str], *, tty: bool = False) -> list[str]:
        return [sys.executable, "-c", "pass", name, *command]

    async def events(self) -> AsyncGenerator[RuntimeEvent | EventStreamStatus, None]:
        error = self.fail.get("events")
        if error is not None:  # like Podman's stream: it reports and retries, never raises
            yield EventStreamStatus(connected=False, error=str(error), retry_in=30.0)
            await asyncio.Event().wait()
        self._queue = asyncio.Queue()
        yield EventStreamStatus(connected=True)
        for item in self._backlog:
            self._queue.put_nowait(item)
        self._backlog.clear()
        while True:
            yield await self._queue.get()
