"""Following a step log from a snapshot loses nothing written after the snapshot."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wrapix_core.ralph import logs


async def collect(path: Path, start: int, count: int) -> list[str]:
    seen: list[str] = []
    done = asyncio.Event()

    def emit(line: str) -> None:
        seen.append(line)
        if len(seen) >= count:
            done.set()

    task = asyncio.create_task(logs.follow(path, emit, start=start))
    try:
        async with asyncio.timeout(10):
            await done.wait()
    finally:
        task.cancel()
    return seen


async def test_a_line_written_between_snapshot_and_follow_is_emitted(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_text("one\ntwo\n")
    lines, offset = logs.snapshot(log)
    assert lines == ["one", "two"]
    with log.open("a") as handle:  # before following starts
        handle.write("three\n")
    assert await collect(log, offset, 1) == ["three"]


async def test_a_half_written_line_is_completed_not_split(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_text("done\npart")
    lines, offset = logs.snapshot(log)
    assert lines == ["done"]  # the partial line is not shown yet
    follower = asyncio.create_task(collect(log, offset, 2))
    await asyncio.sleep(0)
    with log.open("a") as handle:
        handle.write("ial\nnext\n")
    assert await follower == ["partial", "next"]
