"""The builder's SSH port on 127.0.0.1: is it free, who holds it, does sshd answer.

Checked before anything is created, so a taken port costs nothing to undo.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket

import psutil

from wrapix_core.builder.errors import PortInUse

LOOPBACK = "127.0.0.1"


def holder(port: int) -> str | None:
    """``name (pid N)`` of the process listening on ``port``, when this user may see it."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return None
                with contextlib.suppress(psutil.Error):
                    return f"{psutil.Process(conn.pid).name()} (pid {conn.pid})"
                return f"pid {conn.pid}"
    return None


def ensure_free(port: int, setting: str = "builder.port") -> None:
    """Raise :class:`PortInUse` when something listens on 127.0.0.1:``port`` (or on
    every address, which includes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            who = holder(port)
            reason = "already in use" if exc.errno == errno.EADDRINUSE else "not allowed"
            raise PortInUse(
                f"port {port} on {LOOPBACK} is {reason}" + (f" (by {who})" if who else ""),
                f"stop what uses it, or choose another port with {setting} "
                f"(e.g. WRAPIX_BUILDER__PORT={port + 1})") from None


async def ssh_banner(port: int, timeout: float = 2.0) -> str | None:
    """The SSH server's identification line on 127.0.0.1:``port``, or None.

    A published port can accept connections before sshd listens inside (Podman's port
    forwarder answers first), so only a banner proves sshd is up.
    """
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            try:
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return None
    text = line.decode(errors="replace").strip()
    return text if text.startswith("SSH-") else None
