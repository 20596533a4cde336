"""One worker per remote host: its health and its containers, never anyone else's delay.

Each :class:`HostWatcher` runs in a worker of its own (the sandbox pane starts one per
``[hosts.NAME]``, after the first frame). It looks at its host (version and sandboxes,
bounded by the host's timeout), then follows the host's ``podman events`` and lists
its containers after each burst of them. A host that refuses, or accepts and never
answers, is marked unreachable within its timeout and looked at again in the
background with backoff; the other hosts' workers and the local rows go on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message

from wrapix_core.errors import WrapixError
from wrapix_core.hosts.probe import HostStatus, probe_host
from wrapix_core.hosts.target import Host
from wrapix_core.sandbox.runtime import ContainerInfo, EventStreamStatus, Runtime

BACKOFF = (2.0, 5.0, 10.0, 30.0, 60.0)
COALESCE = 0.1


@dataclass(frozen=True)
class HostHealth:
    status: HostStatus
    retry_at: float | None = None
    """When the next look is due (``time.monotonic()``), while unreachable."""


class HostListed(Message):
    def __init__(self, host: str, containers: list[ContainerInfo]) -> None:
        super().__init__()
        self.host = host
        self.containers = containers


class HostHealthChanged(Message):
    def __init__(self, health: HostHealth) -> None:
        super().__init__()
        self.health = health


class HostWatcher:
    def __init__(self, found: Host, runtime: Runtime,
                 post: Callable[[Message], object]) -> None:
        self.found = found
        self.runtime = runtime
        self._post = post
        self.health: HostHealth | None = None

    async def run(self) -> None:
        failures = 0
        while True:
            status = await probe_host(self.runtime, self.found)
            if status.reachable:
                failures = 0
                self._say(HostHealth(status))
                await self._follow()  # returns when the host stops answering
                continue
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            failures += 1
            self._say(HostHealth(status, retry_at=time.monotonic() + delay))
            await asyncio.sleep(delay)

    def _say(self, health: HostHealth) -> None:
        self.health = health
        self._post(HostHealthChanged(health))

    async def _follow(self) -> None:
        wanted = asyncio.Event()
        wanted.set()

        async def events() -> None:
            async with contextlib.aclosing(self.runtime.events()) as stream:
                async for item in stream:
                    if not isinstance(item, EventStreamStatus) or item.connected:
                        wanted.set()

        follower = asyncio.create_task(events(), name=f"host-events-{self.found.name}")
        try:
            while True:
                await wanted.wait()
                await asyncio.sleep(COALESCE)  # one listing per burst of events
                wanted.clear()
                try:
                    async with asyncio.timeout(self.found.timeout):
                        found = await self.runtime.containers(all=True, sandboxes_only=False)
                except (TimeoutError, WrapixError) as exc:
                    error = (f"no answer within {self.found.timeout:g}s"
                             if isinstance(exc, TimeoutError) else exc.message)
                    self._say(HostHealth(HostStatus(self.found.name, self.found.where, False,
                                                    error=error)))
                    return
                self._post(HostListed(self.found.name, found))
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower


def health_line(local_error: str | None, healths: list[HostHealth], now: float) -> str:
    """``hosts: local ok · big ok (Podman 4.3.1, 3 sandboxes) · lab unreachable: …``"""
    parts = [f"local {'ok' if local_error is None else 'not answering'}"]
    for health in healths:
        status = health.status
        if status.reachable and not status.error:
            parts.append(f"{status.name} ok (Podman {status.version}, "
                         f"{status.sandboxes} sandboxes)")
        elif status.reachable:
            parts.append(f"{status.name}: {status.error}")
        else:
            retry = (f"; retrying in {max(0, round(health.retry_at - now))}s"
                     if health.retry_at is not None else "")
            parts.append(f"{status.name} unreachable: {status.error}{retry}")
    return "hosts: " + " · ".join(parts)
