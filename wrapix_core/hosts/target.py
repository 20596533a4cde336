"""A configured host as wrapix reaches it: Podman's options, ssh's options, its timeout.

``[hosts.NAME]`` names either a URL (``ssh://user@host[:port]/path/podman.sock``, with an
``identity``) or a ``podman system connection`` (whose URL and identity Podman keeps;
:func:`resolve` reads them when ssh itself is needed: ``hosts check``, forwarding).
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from wrapix_core import proc
from wrapix_core.errors import WrapixError
from wrapix_core.settings import LOCAL_HOST, Settings


class UnknownHost(WrapixError):
    """A host name that is not in ``[hosts]``."""


@dataclass(frozen=True)
class Host:
    name: str
    timeout: float
    url: str | None = None
    identity: Path | None = None
    connection: str | None = None

    def podman_args(self) -> list[str]:
        """The options that make ``podman`` talk to this host."""
        if self.url is None:
            return ["--connection", str(self.connection)]
        return ["--url", self.url, *(["--identity", str(self.identity)] if self.identity else [])]

    @property
    def where(self) -> str:
        return self.url or f"podman system connection {self.connection}"


@dataclass(frozen=True)
class SshTarget:
    """The SSH side of a host's URL."""

    user: str
    hostname: str
    port: int
    socket: str
    identity: Path | None

    @property
    def login(self) -> str:
        return f"{self.user}@{self.hostname}"

    def ssh_argv(self, timeout: float, *options: str) -> list[str]:
        """``ssh`` to this host, never asking anything (a prompt would hang a worker)."""
        argv = ["ssh", "-p", str(self.port), "-o", "BatchMode=yes",
                "-o", f"ConnectTimeout={max(1, math.ceil(timeout))}",
                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=2"]
        if self.identity is not None:
            argv += ["-i", str(self.identity), "-o", "IdentitiesOnly=yes"]
        return [*argv, *options, self.login]

    def git_ssh_command(self, timeout: float) -> str:
        """``core.sshCommand`` for git to this host (git adds the port and the login from
        the URL): never asking, bounded like every other connection."""
        return shlex.join(["ssh", *self.ssh_argv(timeout)[3:-1]])

    def git_url(self, path: str) -> str:
        """A repository at absolute ``path`` on this host, as git reaches it over SSH."""
        return f"ssh://{self.login}:{self.port}{path}"


def ssh_target(url: str, identity: Path | None) -> SshTarget:
    """``ssh://user@host[:port]/path`` split; WrapixError when it is not one."""
    parts = urlsplit(url)
    try:
        port = parts.port or 22
    except ValueError:
        port = -1
    if parts.scheme != "ssh" or not parts.hostname or not parts.username or port < 1:
        raise WrapixError(f"{url!r} is not ssh://user@host[:port]/path/to/podman.sock")
    return SshTarget(user=unquote(parts.username), hostname=parts.hostname, port=port,
                     socket=unquote(parts.path), identity=identity)


def hosts(settings: Settings) -> list[Host]:
    """Every configured host, in the order of its name."""
    return [Host(name=name, timeout=conf.timeout, url=conf.url,
                 identity=Path(conf.identity).expanduser() if conf.identity else None,
                 connection=conf.connection)
            for name, conf in sorted(settings.hosts.items())]


def host(settings: Settings, name: str) -> Host:
    for found in hosts(settings):
        if found.name == name:
            return found
    known = ", ".join([LOCAL_HOST, *(h.name for h in hosts(settings))])
    raise UnknownHost(f"no host named {name!r} (hosts: {known})",
                      "add it as [hosts.NAME] in your config.toml (see `wrapix hosts`)")


async def resolve(found: Host, podman: str = "podman") -> Host:
    """``found`` with the URL and identity of its ``podman system connection`` filled in."""
    if found.url is not None:
        return found
    done = await proc.run([podman, "system", "connection", "list", "--format", "json"],
                          timeout=found.timeout, check=False)
    try:
        items = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        items = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("Name") == found.connection:
            identity = str(item.get("Identity") or "")
            return replace(found, url=str(item.get("URI", "")),
                           identity=Path(identity) if identity else None)
    raise WrapixError(f"host {found.name}: no podman system connection named "
                      f"{found.connection!r}",
                      f"add it: `podman system connection add {found.connection} "
                      "ssh://user@host[:port]/run/user/UID/podman/podman.sock --identity KEY`, "
                      "or set url and identity in [hosts."
                      f"{found.name}] instead")
