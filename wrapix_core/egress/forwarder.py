"""`wrapix-netfwd`: inside an allowlist sandbox, the way to the host's egress proxy.

The entrypoint starts it before the agent. It listens on ``127.0.0.1:PORT`` (the
sandbox's own loopback; ``HTTP_PROXY`` points there) and relays each connection to the
proxy's Unix socket mounted from the host. It decides nothing: the host checks every
request. When the proxy cannot be reached the sandbox stays cut off: the client gets
``502`` saying so, and the user gets one notification.

Standard library only, started before the agent on every launch: it must be quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys

from wrapix_core.egress.relay import Listener, relay

DOWN_MESSAGE = (b"wrapix egress: the host's egress proxy for this sandbox is not running, "
                b"so this sandbox has no network; restart the sandbox\n")


class Forwarder:
    def __init__(self, socket_path: str):
        self.socket_path = socket_path
        self.told = False

    async def handle(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.setblocking(False)
        try:
            await loop.sock_connect(upstream, self.socket_path)
        except OSError:
            upstream.close()
            await self._down(loop, conn)
            return
        await relay(conn, upstream)

    async def _down(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        head = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n"
                b"X-Wrapix-Egress: proxy-down\r\n\r\n" % len(DOWN_MESSAGE))
        with contextlib.suppress(OSError):
            await loop.sock_sendall(conn, head + DOWN_MESSAGE)
            conn.shutdown(socket.SHUT_WR)
        conn.close()
        if not self.told:
            self.told = True
            await asyncio.to_thread(_notify)


def _notify() -> None:
    from wrapix_core.notify import client

    target = client.resolve_target(os.environ)
    if target is None:
        return
    with contextlib.suppress(OSError):
        client.send(client.build_line(
            "Sandbox network cut off",
            "its egress proxy on the host is not running; nothing leaves the sandbox "
            "(restart it to get the allowlist back)"), target)


def main() -> int:
    """Bind, then detach into the background (so the entrypoint goes on only once the
    port is listening); exit 1 with a message when it cannot bind."""
    socket_path = os.environ.get("WRAPIX_EGRESS_SOCKET", "")
    port = int(os.environ.get("WRAPIX_EGRESS_PORT", "3128"))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
    except OSError as exc:
        print(f"wrapix-netfwd: cannot listen on 127.0.0.1:{port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    if "--foreground" not in sys.argv[1:]:
        if os.fork() != 0:
            return 0
        os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    forwarder = Forwarder(socket_path)

    async def serve() -> None:
        await Listener(listener, forwarder.handle).task

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
