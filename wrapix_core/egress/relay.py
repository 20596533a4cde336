"""Serving connections and copying bytes both ways (the proxy and the forwarder).

The copying is done by two threads per connection, one per direction, with
``splice(2)`` through a pipe where the platform has it: the bytes never enter Python,
which keeps a relayed download near the speed of a direct one (P14); elsewhere a plain
``recv_into``/``sendall`` loop. Threads block in the kernel, so an idle connection costs
nothing. Accepting and the request head stay on the event loop.

Standard library only: the forwarder imports it inside sandboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Callable, Coroutine
from typing import Any

CHUNK = 1 << 20
_SPLICE = hasattr(os, "splice")


def _shut(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _pipe() -> tuple[int, int]:
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, CHUNK)
    return read_end, write_end


def _copy(source: socket.socket, sink: socket.socket, first: bytes) -> None:
    """Copy ``source`` to ``sink`` until end of file, then pass the half-close on; on
    an error end both connections (the other direction's thread wakes up too)."""
    try:
        if first:
            sink.sendall(first)
        if _SPLICE:
            read_end, write_end = _pipe()
            try:
                while moved := os.splice(source.fileno(), write_end, CHUNK):
                    while moved:
                        moved -= os.splice(read_end, sink.fileno(), moved)
            finally:
                os.close(read_end)
                os.close(write_end)
        else:
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            while count := source.recv_into(buffer):
                sink.sendall(view[:count])
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
    except OSError:
        _shut(source, sink)


async def relay(a: socket.socket, b: socket.socket, *, to_a: bytes = b"",
                to_b: bytes = b"") -> None:
    """Send ``to_b`` to B and ``to_a`` to A, then copy A to B and B to A until both
    directions are done; both sockets are closed on return (or cancellation)."""
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    left = [2]
    lock = threading.Lock()

    def run(source: socket.socket, sink: socket.socket, first: bytes) -> None:
        try:
            _copy(source, sink, first)
        finally:
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:  # only now may the descriptors go (and their numbers be reused)
                a.close()
                b.close()
                with contextlib.suppress(RuntimeError):  # the loop is gone
                    loop.call_soon_threadsafe(finish)

    def finish() -> None:
        if not finished.done():
            finished.set_result(None)

    started = 0
    try:
        for sock in (a, b):
            sock.setblocking(True)
        for args in ((a, b, to_b), (b, a, to_a)):
            threading.Thread(target=run, args=args, daemon=True).start()
            started += 1
        await finished
    finally:
        _shut(a, b)  # wakes the threads when cancelled; the last one closes both
        if started < 2:
            with lock:
                left[0] -= 2 - started
                if left[0] == 0:
                    a.close()
                    b.close()


class Listener:
    """Accepts connections on a listening socket and runs ``handle`` for each."""

    def __init__(self, sock: socket.socket,
                 handle: Callable[[socket.socket], Coroutine[Any, Any, None]]):
        self.sock, self.handle = sock, handle
        self.connections: set[asyncio.Task[None]] = set()
        sock.setblocking(False)
        self.task = asyncio.ensure_future(self._accept())

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError:
                await asyncio.sleep(0.05)  # out of descriptors: let some close
                continue
            conn.setblocking(False)
            task = asyncio.ensure_future(self._serve(conn))
            self.connections.add(task)
            task.add_done_callback(self.connections.discard)

    async def _serve(self, conn: socket.socket) -> None:
        try:
            await self.handle(conn)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.task.cancel()
        for task in list(self.connections):
            task.cancel()
        self.sock.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.connections:
            await asyncio.gather(*self.connections, return_exceptions=True)
