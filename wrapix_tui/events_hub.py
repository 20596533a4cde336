"""One ``podman events`` stream for the whole app, shared by every consumer.

The sandbox pane and the builder's :func:`~wrapix_core.builder.status.watch_status` both
need container events; one subprocess serves both. :class:`SharedEvents` is a runtime
whose ``events()`` is a subscription to the hub, everything else delegated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from wrapix_core.sandbox.runtime import EventStreamStatus, Runtime, RuntimeEvent

if TYPE_CHECKING:
    from wrapix_core.sandbox.model import LaunchPlan, RuntimeCaps
    from wrapix_core.sandbox.runtime import ContainerInfo, ContainerStats

Item = RuntimeEvent | EventStreamStatus


class EventHub:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.status: EventStreamStatus | None = None
        """The stream's latest status; replayed to each new subscriber."""
        self._queues: set[asyncio.Queue[Item]] = set()

    async def run(self) -> None:
        """Read the runtime's stream (it reconnects by itself) and fan it out."""
        async with contextlib.aclosing(self.runtime.events()) as events:
            async for item in events:
                if isinstance(item, EventStreamStatus):
                    self.status = item
                for queue in list(self._queues):
                    queue.put_nowait(item)

    async def subscribe(self) -> AsyncGenerator[Item, None]:
        queue: asyncio.Queue[Item] = asyncio.Queue()
        if self.status is not None:
            queue.put_nowait(self.status)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)


class SharedEvents(Runtime):
    """``runtime`` with ``events()`` served by ``hub`` (see the module docstring); a
    :class:`~wrapix_core.sandbox.runtime.Runtime` whose every other call is the
    runtime's own."""

    def __init__(self, runtime: Runtime, hub: EventHub) -> None:
        self.runtime = runtime
        self.hub = hub
        self.name = runtime.name
        self.executable = runtime.executable

    def events(self) -> AsyncGenerator[Item, None]:
        return self.hub.subscribe()

    async def caps(self) -> RuntimeCaps:
        return await self.runtime.caps()

    async def image_exists(self, image: str) -> bool:
        return await self.runtime.image_exists(image)

    async def container_exists(self, name: str) -> bool:
        return await self.runtime.container_exists(name)

    async def launch_detached(self, plan: LaunchPlan) -> str:
        return await self.runtime.launch_detached(plan)

    def launch_foreground(self, plan: LaunchPlan) -> int:
        return self.runtime.launch_foreground(plan)

    async def containers(self, *, all: bool = False, sandboxes_only: bool = True
                         ) -> list[ContainerInfo]:
        return await self.runtime.containers(all=all, sandboxes_only=sandboxes_only)

    async def inspect(self, name: str) -> ContainerInfo:
        return await self.runtime.inspect(name)

    async def stop(self, name: str, timeout: int = 10) -> None:
        await self.runtime.stop(name, timeout)

    async def remove(self, name: str, force: bool = False) -> None:
        await self.runtime.remove(name, force)

    async def restart(self, name: str) -> None:
        await self.runtime.restart(name)

    def logs(self, name: str, *, follow: bool = False, tail: int | None = None
             ) -> AsyncGenerator[str, None]:
        return self.runtime.logs(name, follow=follow, tail=tail)

    async def stats(self, names: Sequence[str]) -> list[ContainerStats]:
        return await self.runtime.stats(names)

    def attach_argv(self, name: str, detach_keys: str) -> list[str]:
        return self.runtime.attach_argv(name, detach_keys)

    def shell_argv(self, name: str) -> list[str]:
        return self.runtime.shell_argv(name)

    def running_argv(self, name: str) -> list[str] | None:
        return self.runtime.running_argv(name)

    def exec_argv(self, name: str, command: Sequence[str], *, tty: bool = False
                  ) -> list[str]:
        return self.runtime.exec_argv(name, command, tty=tty)
