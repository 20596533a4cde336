"""Copying bytes both ways between two stream pairs (the proxy and the forwarder).

Standard library only: the forwarder imports it inside sandboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

CHUNK = 256 * 1024
STREAM_LIMIT = 1024 * 1024
"""Reader buffer size for relayed streams (the default 64 KiB halves throughput)."""


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                broken: asyncio.Event) -> None:
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except (ConnectionError, OSError, RuntimeError):
        broken.set()


async def relay(a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter,
                b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter) -> None:
    """Copy A to B and B to A until both sides are done (half-closes are passed on), or
    either breaks (then both are aborted); both writers are closed on return."""
    broken = asyncio.Event()
    pipes = [asyncio.ensure_future(_pipe(a_reader, b_writer, broken)),
             asyncio.ensure_future(_pipe(b_reader, a_writer, broken))]
    waiter = asyncio.ensure_future(broken.wait())
    both: list[asyncio.Future[Any]] = [asyncio.gather(*pipes), waiter]
    try:
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (*pipes, waiter):
            task.cancel()
        for writer in (a_writer, b_writer):
            if broken.is_set():
                writer.transport.abort()
            else:
                writer.close()
        for writer in (a_writer, b_writer):
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()
