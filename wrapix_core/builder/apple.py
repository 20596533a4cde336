"""The builder container's Apple ``container`` argv (macOS 26+), tested at the argv level.

Apple's containers are lightweight VMs sharing directories over virtio-fs, which
cannot share single files: the keys the container may see are staged into one
directory (``builder-keys/container/``) and that is mounted read-only. virtio-fs
cannot hold sockets either, which is why the entrypoint puts the Nix daemon's socket
in ``/run``. The VM gets explicit CPUs and memory (Apple's default is 1 GiB).
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any

from wrapix_core.builder.podman import (
    HELPER_TARGET,
    KEYS_TARGET,
    ROLE,
    ROLE_HELPER,
    HelperMode,
    helper_name,
)
from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import naming
from wrapix_core.settings import BuilderSettings

MEMORY = "4096M"
NETWORK = "default"
BRIDGE = "bridge100"
"""The host interface of Apple's default container network (vmnet's first bridge)."""


def cpus() -> int:
    return max(2, (os.cpu_count() or 4) // 2)


def run_argv(container: str, settings: BuilderSettings, image: str, keys_share: Path,
             store: Path) -> list[str]:
    """``container run --detach`` for the builder VM."""
    _check_mount_path(keys_share)
    _check_mount_path(store)
    return [container, "run", "--detach", "--name", settings.name,
            "--label", f"{naming.LABEL_ROLE}={ROLE}",
            "--cpus", str(cpus()), "--memory", MEMORY,
            "--publish", f"127.0.0.1:{settings.port}:22",
            "--env", f"WRAPIX_BUILDER_KEYS={KEYS_TARGET}",
            "--mount", f"type=virtiofs,source={keys_share},target={KEYS_TARGET},readonly",
            "--volume", f"{store}:/nix", image]


def helper_argv(container: str, settings: BuilderSettings, image: str, store: Path,
                mode: HelperMode) -> list[str]:
    _check_mount_path(store)
    return [container, "run", "--rm", "--name", helper_name(settings),
            "--label", f"{naming.LABEL_ROLE}={ROLE_HELPER}",
            "--volume", f"{store}:{HELPER_TARGET}", image, mode, HELPER_TARGET]


def image_inspect_argv(container: str, image: str) -> list[str]:
    return [container, "image", "inspect", image]


def remove_argv(container: str, name: str) -> list[str]:
    return [container, "delete", "--force", name]


def network_inspect_argv(container: str) -> list[str]:
    return [container, "network", "inspect", NETWORK]


def _check_mount_path(path: Path) -> None:
    if "," in str(path) or ":" in str(path):
        raise WrapixError(f"{path} contains ',' or ':', which `container` mounts cannot carry",
                          "set WRAPIX_DATA_DIR to a plainer path")


def _walk(value: Any) -> list[Any]:
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found += _walk(item)
    elif isinstance(value, list):
        for item in value:
            found += _walk(item)
    return found


def image_digest(text: str) -> str | None:
    """The image digest in ``container image inspect`` JSON (its layout varies by
    release, so the first ``sha256:`` digest found is taken)."""
    try:
        data = json.loads(text or "null")
    except json.JSONDecodeError:
        return None
    for item in _walk(data):
        if isinstance(item, str) and item.startswith("sha256:") and len(item) == 71:
            return item
    return None


def network_subnet(text: str) -> str:
    """The IPv4 subnet of the default network from ``container network inspect``."""
    try:
        data = json.loads(text or "null")
    except json.JSONDecodeError:
        raise WrapixError("`container network inspect default` did not return JSON",
                          "is the container system running? try `container system start`"
                          ) from None
    for item in _walk(data):
        if isinstance(item, str) and "/" in item:
            try:
                network = ipaddress.ip_network(item.replace("\\/", "/"), strict=False)
            except ValueError:
                continue
            if network.version == 4 and network.prefixlen < 32:
                return str(network)
    raise WrapixError("could not find the container network's subnet in "
                      "`container network inspect default`",
                      "is the container system running? try `container system start`")
