"""Where one sandbox's egress files live, on the host and inside the sandbox.

Two directories per sandbox, both private to the user:

- ``<runtime dir>-egress/NAME/`` (``$XDG_RUNTIME_DIR/wrapix-egress/NAME``) holds only
  the proxy's socket; it is what the sandbox gets mounted (read-only) at
  :data:`CONTAINER_DIR`. It is beside wrapix's runtime directory, not in it: that one
  holds the notification socket and may be mounted into every sandbox, which must not
  reach another sandbox's proxy (a ``none`` sandbox would get that one's network);
- ``<state dir>/egress/NAME/`` holds what the sandbox must never touch: the proxy's
  configuration, the hosts allowed for this sandbox only, the denial log, the proxy's
  pid and log.
"""

from __future__ import annotations

import re
from pathlib import Path

from wrapix_core import paths
from wrapix_core.errors import WrapixError

CONTAINER_DIR = "/run/wrapix-egress"
CONTAINER_SOCKET = f"{CONTAINER_DIR}/proxy.sock"
SOCKET_NAME = "proxy.sock"
FORWARDER_PORT = 3128
"""Where the in-sandbox forwarder listens (127.0.0.1 in the sandbox's own namespace)."""
NO_PROXY = "localhost,127.0.0.1,::1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

CONFIG = "config.json"
ALLOWED = "allowed"
"""Hosts allowed for this sandbox only, one per line (``wrapix net allow``, the TUI)."""
DENIED = "denied.jsonl"
PID = "proxy.pid"
LOG = "proxy.log"
DOWN = "down"
"""Written when the proxy stops while its sandbox still runs: why, for CLI and TUI."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise WrapixError(f"sandbox name {name!r} is not valid",
                          "use letters, digits, '_', '.' and '-'")
    return name


def socket_root() -> Path:
    runtime = paths.runtime_dir()
    return runtime.with_name(runtime.name + "-egress")


def socket_dir(name: str) -> Path:
    return socket_root() / check_name(name)


def socket_path(name: str) -> Path:
    return socket_dir(name) / SOCKET_NAME


def state_dir(name: str) -> Path:
    return paths.state_dir() / "egress" / check_name(name)


def proxy_env() -> dict[str, str]:
    """The sandbox's environment that leads every proxy-aware tool to the forwarder."""
    url = f"http://127.0.0.1:{FORWARDER_PORT}"
    env = {"WRAPIX_EGRESS_SOCKET": CONTAINER_SOCKET,
           "WRAPIX_EGRESS_PORT": str(FORWARDER_PORT)}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[name] = url
    env["NO_PROXY"] = env["no_proxy"] = NO_PROXY
    return env
