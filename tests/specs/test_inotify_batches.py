"""The inotify stream loses nothing. asyncinotify reads the kernel's events in its reader
callback and hands them to the waiting ``get()`` through a future; a ``get()`` cancelled
by a timeout (``asyncio.wait_for``) in the loop turn before that callback ran dropped
them. A lost "moved to issues.jsonl" left the Ralph board stale for good: seen twice in
CI as a board that never updated. The stream now keeps one read outstanding and never
cancels it; this test writes files into place, spaced around the stream's quiet time,
and checks every one is reported (the exact turn of the race cannot be forced here)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from wrapix_core.specs.inotify_watch import inotify_available, watch


@pytest.mark.skipif(not inotify_available(), reason="Linux inotify only")
async def test_renames_into_place_all_arrive(tmp_path: Path) -> None:
    """Real inotify: writes renamed into place (as issues.jsonl is written), spaced
    around the stream's quiet time, are every one reported."""
    seen: set[str] = set()
    names = [f"f{index:03d}" for index in range(200)]
    everything = asyncio.Event()
    stream = watch(tmp_path, debounce_ms=50, step_ms=5)

    async def read() -> None:
        async for batch in stream:
            seen.update(Path(raw).name for _change, raw in batch)
            if set(names) <= seen:
                everything.set()

    reader = asyncio.ensure_future(read())
    await asyncio.sleep(0.05)  # the watch is set on the stream's first step
    for index, name in enumerate(names):
        temp = tmp_path / f".{name}.tmp"
        temp.write_text(name)
        os.replace(temp, tmp_path / name)
        await asyncio.sleep((3 + index % 5) / 1000)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everything.wait(), 10)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    assert not sorted(set(names) - seen)
