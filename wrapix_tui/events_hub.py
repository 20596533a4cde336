"""One ``podman events`` stream for the whole app, shared by every consumer.

The sandbox pane and the builder's :func:`~wrapix_core.builder.status.watch_status` both
need container events; one subprocess serves both. :class:`SharedEvents` is a runtime
whose ``events()`` is a subscription to the hub, everything else delegated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from wrapix_core.sandbox.runtime import EventStreamStatus, Runtime, RuntimeEvent

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


class SharedEvents:
    """``runtime`` with ``events()`` served by ``hub`` (see the module docstring)."""

    def __init__(self, runtime: Runtime, hub: EventHub) -> None:
        self._runtime = runtime
        self._hub = hub

    def events(self) -> AsyncGenerator[Item, None]:
        return self._hub.subscribe()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)
