"""The host-side egress proxy: HTTP ``CONNECT`` and plain HTTP, checked by name.

One :class:`EgressProxy` serves one sandbox on a Unix socket. For each connection it
reads one request head (bounded in size and time), takes the destination from the
``CONNECT`` target, the absolute URI or the ``Host`` header, and lets it through only
when :mod:`.policy` allows the name. It resolves names itself (a test may map names to
addresses with ``hosts``; nothing else does), refuses names that resolve to the host's
own or link-local addresses, and then relays bytes both ways. A plain HTTP request is
sent on with ``Connection: close``, so one connection carries one request to the host
that was checked. Everything refused is reported to ``on_denied``. At most
``max_connections`` are served at once (each relayed one costs two threads on the host).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from wrapix_core.egress import policy
from wrapix_core.egress.relay import Listener, relay

HEAD_LIMIT = 64 * 1024
HEAD_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0
MAX_CONNECTIONS = 256
"""Connections one sandbox's proxy serves at once (a relayed one costs two host threads);
one more is answered 503 and closed, so a sandbox cannot exhaust the host's threads."""
_HOP_HEADERS = {"proxy-connection", "proxy-authorization", "connection", "keep-alive"}


@dataclass(frozen=True)
class Denial:
    """One refused connection."""

    time: str
    host: str
    port: int
    method: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"time": self.time, "host": self.host, "port": self.port,
                "method": self.method, "reason": self.reason}


class _Refused(Exception):
    def __init__(self, status: int, message: str, denial: tuple[str, int, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.denial = status, message, denial


_STATUS = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


def _split_host_port(text: str, default: int | None) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") if rest.startswith(":") else ""
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            host, port_text = text, ""
    if not port_text:
        if default is None:
            raise _Refused(400, f"'{text}' has no port")
        return host, default
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _Refused(400, f"'{text}' has no valid port")
    return host, int(port_text)


def _local(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 to a dual-stack socket
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


class EgressProxy:
    def __init__(self, is_allowed: Callable[[str], bool], *,
                 on_denied: Callable[[Denial], None],
                 hosts: Mapping[str, str] | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS):
        self.is_allowed = is_allowed
        self.on_denied = on_denied
        self.hosts = {policy.normalize_host(name) or name: address
                      for name, address in (hosts or {}).items()}
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self.open = 0

    async def serve(self, path: Path) -> Listener:
        """Listen on ``path`` (replaced if stale), readable by the user only."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(path))
            os.chmod(path, 0o600)
            sock.listen(128)
        except BaseException:
            sock.close()
            raise
        return Listener(sock, self.handle)

    async def handle(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        if self.open >= self.max_connections:
            with contextlib.suppress(TimeoutError, OSError, _Refused):  # read, or it is reset
                await asyncio.wait_for(_read_head(loop, conn), 1.0)
            await _answer(loop, conn, 503, f"{self.open} connections open (the limit)")
            return
        self.open += 1
        try:
            await self._serve(loop, conn)
        finally:
            self.open -= 1

    async def _serve(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        try:
            head, rest = await asyncio.wait_for(_read_head(loop, conn), HEAD_TIMEOUT)
        except (TimeoutError, OSError, _Refused):
            conn.close()
            return
        try:
            upstream, first = await self._open(head)
        except _Refused as refused:
            if refused.denial is not None:
                host, port, method = refused.denial
                self.on_denied(Denial(datetime.now(UTC).isoformat(timespec="seconds"),
                                      host, port, method, refused.message))
            await _answer(loop, conn, refused.status, refused.message)
            return
        if first is None:
            try:  # at once, from the loop: the client waits for it before anything else
                await loop.sock_sendall(conn, b"HTTP/1.1 200 Connection established\r\n\r\n")
            except OSError:
                conn.close()
                upstream.close()
                return
            await relay(conn, upstream, to_b=rest)
        else:
            await relay(conn, upstream, to_b=first + rest)

    async def _open(self, head: bytes) -> tuple[socket.socket, bytes | None]:
        """Check the request and connect; (upstream socket, the head to send on, or
        None for a ``CONNECT`` tunnel)."""
        lines = head.decode("latin-1").split("\r\n")[:-2]
        parts = lines[0].split(" ") if lines else []
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _Refused(400, "not an HTTP proxy request")
        method, target, version = parts
        headers = lines[1:]
        forward: bytes | None = None
        if method.upper() == "CONNECT":
            raw_host, port = _split_host_port(target, None)
        else:
            path = target
            if target.lower().startswith("http://"):
                url = urlsplit(target)
                raw_host, port = _split_host_port(url.netloc.rpartition("@")[2], 80)
                path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            elif target.startswith("/"):
                host_header = next((line.split(":", 1)[1].strip() for line in headers
                                    if line.lower().startswith("host:")), "")
                if not host_header:
                    raise _Refused(400, "request has no Host")
                raw_host, port = _split_host_port(host_header, 80)
            else:
                raise _Refused(400, f"cannot proxy '{target[:100]}' (use CONNECT for https)")
            kept = [line for line in headers
                    if line.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
            forward = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close",
                                   "", ""]).encode("latin-1")
        host = policy.normalize_host(raw_host)
        shown = (host or raw_host)[:255]
        if host is None:
            raise _Refused(403, f"'{shown}' is not a host name", (shown, port, method))
        if not self.is_allowed(host):
            what = "IP address" if policy.ip_literal(host) else "host"
            raise _Refused(403, f"{what} {host} is not in this sandbox's allowlist",
                           (host, port, method))
        return await self._connect(host, port, method), forward

    async def _connect(self, host: str, port: int, method: str) -> socket.socket:
        loop = asyncio.get_running_loop()
        if host in self.hosts:
            addresses = [self.hosts[host]]
        elif policy.ip_literal(host) is not None:
            addresses = [host]
        else:
            try:
                infos = await asyncio.wait_for(loop.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM), self.connect_timeout)
            except (OSError, TimeoutError):
                raise _Refused(502, f"cannot resolve {host}") from None
            found = list(dict.fromkeys(str(info[4][0]) for info in infos))
            addresses = [address for address in found if not _local(address)]
            if found and not addresses:
                raise _Refused(403, f"{host} resolves to a local address ({found[0]})",
                               (host, port, method))
        error = "no address"
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (address, port)),
                                       self.connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except TimeoutError:
                error = "timed out"
            except OSError as exc:
                error = exc.strerror or str(exc)
            sock.close()
        raise _Refused(502, f"cannot connect to {host}:{port} ({error})")


async def _read_head(loop: asyncio.AbstractEventLoop, conn: socket.socket
                     ) -> tuple[bytes, bytes]:
    """The request head (through its blank line) and whatever came after it."""
    data = b""
    while True:
        chunk = await loop.sock_recv(conn, 65536)
        if not chunk:
            raise OSError("closed before the request head ended")
        data += chunk
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            return data[:end + 4], data[end + 4:]
        if len(data) > HEAD_LIMIT:
            raise _Refused(431, "request head too large")


async def _answer(loop: asyncio.AbstractEventLoop, conn: socket.socket, status: int,
                  message: str) -> None:
    body = f"wrapix egress: {message}\n".encode()
    head = (f"HTTP/1.1 {status} {_STATUS.get(status, 'Error')}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "X-Wrapix-Egress: refused\r\n\r\n").encode()
    with contextlib.suppress(OSError):
        await asyncio.wait_for(loop.sock_sendall(conn, head + body), HEAD_TIMEOUT)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
    conn.close()
