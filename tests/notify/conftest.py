"""Fixtures for the notification tests: an in-process daemon on a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from wrapix_core import paths
from wrapix_core.notify.backends import PopupRunner
from wrapix_core.notify.daemon import DaemonConfig, NotifyDaemon
from wrapix_core.notify.focus import FocusChecker
from wrapix_core.notify.inbox import Entry, InboxStore


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0,
                     what: str = "condition") -> None:
    """Wait until ``predicate()`` holds (checked every few ms), or fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.005)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
               what: str = "condition") -> None:
    """Blocking twin of :func:`eventually` for tests that drive other processes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.005)


async def send(path: Path, data: bytes) -> None:
    """One connection: send ``data``, close."""
    _reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def next_entry(stream: AsyncIterator[Entry], timeout: float = 5.0) -> Entry:
    return await asyncio.wait_for(anext(stream), timeout)


def make_daemon(*, idle_timeout: float = 10.0, popups: PopupRunner | None = None,
                focus: FocusChecker | None = None, socket: Path | None = None,
                **config: object) -> NotifyDaemon:
    cfg = DaemonConfig(socket_path=socket or paths.notify_socket(), backend="none",
                       idle_timeout=idle_timeout, **config)  # type: ignore[arg-type]
    return NotifyDaemon(cfg, store=InboxStore(limit=cfg.inbox_limit),
                        popups=popups or PopupRunner(None),
                        focus=focus or FocusChecker(window_probe=None))


@pytest.fixture
async def daemon() -> AsyncIterator[NotifyDaemon]:
    """A started daemon (no popups) on the test's own socket; stopped afterwards."""
    instance = make_daemon()
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()


