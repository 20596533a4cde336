"""P3: spec file saved → board shows it (p95 ≤ 50 ms absolute).

A workspace with the sample specs and the real issues; the WorkspaceWatcher runs and every
event is applied to a Board. Each save is a rename-save of one spec (write a temporary
file, rename it over the spec), timed until the board holds the new parse. Floor: raw
``watchfiles.awatch`` on the same directory with the same debounce/step, save → first
yielded change, measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from watchfiles import awatch

from benchmarks.harness import Context, Row, Unavailable, ms, p95
from wrapix_core.specs.board import Board, load_board
from wrapix_core.specs.watcher import DEBOUNCE_MS, STEP_MS, WorkspaceWatcher

ID = "P3"
WHAT = "spec file saved → board shows it"
TIMEOUT = 5.0


def _shared() -> Path:
    root = Path(__file__).resolve().parents[2]
    for candidate in (os.environ.get("WRAPIX_SHARED_DATA"), str(root.parent / "shared" / "data")):
        if candidate and (Path(candidate) / "specs-sample").is_dir():
            return Path(candidate)
    raise Unavailable("shared/data not found (set WRAPIX_SHARED_DATA)")


def _save(path: Path, text: str) -> float:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    started = time.perf_counter()
    os.replace(temporary, path)
    return started


async def _floor(directory: Path, count: int) -> list[float]:
    stop = asyncio.Event()
    seen: asyncio.Queue[float] = asyncio.Queue()

    async def pump() -> None:
        async for _changes in awatch(directory, debounce=DEBOUNCE_MS, step=STEP_MS,
                                     stop_event=stop, rust_timeout=1_000):
            seen.put_nowait(time.perf_counter())

    task = asyncio.ensure_future(pump())
    await asyncio.sleep(0.2)
    target = directory / "floor.md"
    latencies = []
    for number in range(count):
        started = _save(target, f"# Floor {number}\n")
        latencies.append(await asyncio.wait_for(seen.get(), TIMEOUT) - started)
        await asyncio.sleep(0.02)
        while not seen.empty():
            seen.get_nowait()
    stop.set()
    await task
    return latencies


async def _measure(workspace: Path, count: int) -> list[float]:
    board = await load_board(workspace)
    watcher = WorkspaceWatcher(workspace, board=board)
    holder: dict[str, Board] = {"board": board}
    changed: asyncio.Queue[float] = asyncio.Queue()

    async def pump() -> None:
        async for event in watcher.events():
            holder["board"] = holder["board"].apply(event)
            card = holder["board"].card("sandbox")
            if card is not None and card.title and card.title.startswith("Sandbox v"):
                changed.put_nowait(time.perf_counter())

    task = asyncio.ensure_future(pump())
    await asyncio.wait_for(watcher.ready.wait(), TIMEOUT)
    path = workspace / "specs" / "sandbox.md"
    body = path.read_text().split("\n", 1)[1]
    latencies = []
    for number in range(count):
        started = _save(path, f"# Sandbox v{number}\n{body}")
        while True:
            finished = await asyncio.wait_for(changed.get(), TIMEOUT)
            card = holder["board"].card("sandbox")
            if card is not None and card.title == f"Sandbox v{number}":
                break
        latencies.append(finished - started)
        await asyncio.sleep(0.02)
    watcher.stop()
    await task
    return latencies


def run(ctx: Context) -> list[Row]:
    shared = _shared()
    workspace = ctx.workdir / "p3"
    shutil.copytree(shared / "specs-sample", workspace / "specs")
    for path in [workspace / "specs", *(workspace / "specs").iterdir()]:
        path.chmod(path.stat().st_mode | 0o200)  # the shared data is read-only; its copy not
    (workspace / ".beads").mkdir()
    shutil.copyfile(shared / "beads" / "frankenredis-issues.jsonl",
                    workspace / ".beads" / "issues.jsonl")
    floor_dir = ctx.workdir / "p3-floor"
    floor_dir.mkdir()
    count = ctx.reps(60, 10)
    floor = asyncio.run(_floor(floor_dir, count))
    measured = asyncio.run(_measure(workspace, count))
    value = p95(measured)
    return [Row(ID, f"{WHAT} (p95 of {count} rename-saves)", f"raw awatch p95: {ms(p95(floor))}",
                ms(value), ms(value), "p95 ≤ 50 ms", value <= 0.050)]
