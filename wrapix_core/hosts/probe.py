"""Is a host there, which Podman does it run, how many sandboxes: one bounded look.

Used by ``wrapix hosts`` and by the TUI's per-host health workers. The host's version
and its sandboxes are asked for at once; the whole look takes at most the host's timeout.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from wrapix_core.errors import WrapixError
from wrapix_core.hosts.target import Host
from wrapix_core.sandbox.podman import PodmanRuntime, version_tuple
from wrapix_core.sandbox.runtime import Runtime
from wrapix_core.settings import LOCAL_HOST

MIN_PODMAN = (4, 0)
"""The oldest Podman wrapix drives over SSH (its remote API: ``--url ssh://``, events)."""


@dataclass(frozen=True)
class HostStatus:
    name: str
    where: str
    reachable: bool
    version: str | None = None
    sandboxes: int | None = None
    """Sandboxes there (running or not)."""
    running: int | None = None
    error: str | None = None
    elapsed: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "where": self.where, "reachable": self.reachable,
                "version": self.version, "sandboxes": self.sandboxes, "running": self.running,
                "error": self.error, "elapsed": round(self.elapsed, 3)}


def too_old(version: str) -> str | None:
    """Why Podman ``version`` cannot serve wrapix remotely, or None."""
    if version_tuple(version) >= MIN_PODMAN:
        return None
    wanted = ".".join(map(str, MIN_PODMAN))
    return f"Podman {version} is too old: wrapix needs {wanted} or newer there"


async def _server_version(runtime: Runtime) -> str:
    if isinstance(runtime, PodmanRuntime) and runtime.remote:
        return await runtime.server_version()
    return (await runtime.caps()).version


async def probe(runtime: Runtime, *, name: str, where: str, timeout: float) -> HostStatus:
    """Ask ``runtime`` (host ``name``) for its version and sandboxes within ``timeout``."""
    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            version, found = await asyncio.gather(
                _server_version(runtime), runtime.containers(all=True))
    except TimeoutError:
        return HostStatus(name, where, False, error=f"no answer within {timeout:g}s",
                          elapsed=time.monotonic() - start)
    except WrapixError as exc:
        return HostStatus(name, where, False, error=exc.message,
                          elapsed=time.monotonic() - start)
    return HostStatus(name, where, True, version=version or None, sandboxes=len(found),
                      running=sum(1 for item in found if item.running),
                      error=too_old(version) if name != LOCAL_HOST else None,
                      elapsed=time.monotonic() - start)


async def probe_host(runtime: Runtime, found: Host) -> HostStatus:
    return await probe(runtime, name=found.name, where=found.where, timeout=found.timeout)
