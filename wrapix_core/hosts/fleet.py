"""Every host's runtime, and what runs on all of them at once.

Each host is asked on its own, bounded by its own timeout, all at the same time: a host
that refuses, or accepts and never answers, costs its timeout once and is reported
(:class:`Listing`'s ``errors``), never the others' rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wrapix_core.errors import WrapixError
from wrapix_core.hosts.target import Host, host, hosts
from wrapix_core.sandbox.runtime import ContainerInfo, Runtime, get_runtime
from wrapix_core.settings import LOCAL_HOST, Settings

if TYPE_CHECKING:
    from wrapix_core.sandbox.podman import PodmanRuntime


def host_runtime(settings: Settings, found: Host) -> PodmanRuntime:
    """The Podman runtime of ``found``: every command with ``--url``/``--connection``, each
    bounded by the host's timeout."""
    from wrapix_core.sandbox.podman import PodmanRuntime

    return PodmanRuntime(settings.sandbox, remote=found.podman_args(), host=found.name,
                         timeout=found.timeout)


def runtime_for(settings: Settings, name: str | None) -> Runtime:
    """The runtime of host ``name`` (None or ``local``: this machine's)."""
    if name in (None, LOCAL_HOST):
        return get_runtime(settings.sandbox)
    return host_runtime(settings, host(settings, name))


def split_target(target: str | None, on: str | None) -> tuple[str | None, str | None]:
    """``HOST/NAME`` or ``--on HOST NAME`` as (host, name); a container name never holds
    a ``/``, so the split is unambiguous."""
    if target is not None and "/" in target:
        prefix, _, rest = target.partition("/")
        if on is not None and on != prefix:
            raise WrapixError(f"{target!r} names host {prefix!r} but --on says {on!r}",
                              "give the host once")
        return prefix, rest or None
    return on, target


@dataclass
class Listing:
    containers: list[ContainerInfo] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    """Host name to why it could not be listed."""


async def _listed(name: str, runtime: Runtime, timeout: float, *, all: bool,
                  sandboxes_only: bool) -> tuple[str, list[ContainerInfo] | str]:
    try:
        async with asyncio.timeout(timeout):
            return name, await runtime.containers(all=all, sandboxes_only=sandboxes_only)
    except TimeoutError:
        return name, f"no answer within {timeout:g}s"
    except WrapixError as exc:
        return name, exc.message


async def list_everywhere(settings: Settings, *, all: bool = False,
                          sandboxes_only: bool = True, only: str | None = None) -> Listing:
    """Sandboxes on this machine and every host (or only host ``only``), concurrently."""
    targets: list[tuple[str, Runtime, float]] = []
    if only in (None, LOCAL_HOST):
        targets.append((LOCAL_HOST, get_runtime(settings.sandbox),
                        settings.sandbox.command_timeout))
    for found in hosts(settings):
        if only in (None, found.name):
            targets.append((found.name, host_runtime(settings, found), found.timeout))
    if only is not None and not targets:
        host(settings, only)  # raises, naming the hosts there are
    results = await asyncio.gather(*(_listed(name, runtime, timeout, all=all,
                                             sandboxes_only=sandboxes_only)
                                     for name, runtime, timeout in targets))
    listing = Listing()
    for name, result in results:
        if isinstance(result, str):
            listing.errors[name] = result
        else:
            listing.containers.extend(result)
    return listing
