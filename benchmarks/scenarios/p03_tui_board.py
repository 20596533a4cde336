"""P3 (TUI): a spec file saved → the running wrapix-tui's board shows it (p95 ≤ 50 ms).

The whole path: the editor's rename-save, the workspace watcher, the board update, the
message to the board pane, the spec row redrawn on screen. wrapix-tui runs in this
process (headless, Textual's test driver, 120×40); the pane records when each spec's
row was last drawn (``BoardView.shown_at``, stamped after the refresh that painted it).
Two workspaces: the sample specs with the real 1,185 issues, and 200 specs with 10,000
issues (P2's). Floor: raw ``watchfiles.awatch`` on a directory, save → first change,
same debounce and step as the watcher, in the same run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from benchmarks.harness import Context, Row, ms, p95
from benchmarks.scenarios.p02_board_startup import make_workspace, shared
from benchmarks.scenarios.p03_spec_watch import _floor, _save
from benchmarks.scenarios.p05_inbox import _environment

ID = "P3"
WHAT = "spec file saved → the TUI board shows it"
TIMEOUT = 5.0
LIMIT = 0.050


async def _measure(workspace: Path, spec: str, count: int) -> list[float]:
    from wrapix_tui.app import WrapixApp
    from wrapix_tui.widgets.ralph import RalphPane

    app = WrapixApp(workspace)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(RalphPane)
        deadline = time.monotonic() + 60
        watching = pane.board_view
        while pane.board is None or watching.watcher is None \
                or not watching.watcher.ready.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError("the board did not load")
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        path = workspace / "specs" / f"{spec}.md"
        body = path.read_text().split("\n", 1)[1]
        for number in range(-1, count):  # -1: one warm-up save, not counted (harness rule)
            title = f"Bench v{number}"
            started = _save(path, f"# {title}\n{body}")
            limit = time.monotonic() + TIMEOUT
            while True:
                card = pane.board.card(spec) if pane.board else None
                shown = pane.board_view.shown_at.get(spec, 0.0)
                if card is not None and card.title == title and shown > started:
                    if number >= 0:
                        latencies.append(shown - started)
                    break
                if time.monotonic() > limit:
                    raise RuntimeError(f"the board never showed {title}")
                await asyncio.sleep(0.001)
            await pilot.pause(0.02)
    return latencies


def run(ctx: Context) -> list[Row]:
    data = shared()
    root = ctx.workdir / "p3-tui"
    _environment(root / "dirs")
    real = root / "real"
    shutil.copytree(data / "specs-sample", real / "specs")
    (real / ".beads").mkdir()
    shutil.copyfile(data / "beads" / "frankenredis-issues.jsonl", real / ".beads" / "issues.jsonl")
    for path in [real / "specs", *(real / "specs").iterdir()]:
        path.chmod(path.stat().st_mode | 0o200)
    floor_dir = root / "floor"
    floor_dir.mkdir()
    count = ctx.reps(60, 10)
    floor = asyncio.run(_floor(floor_dir, count))
    small = asyncio.run(_measure(real, "sandbox", count))
    big_workspace = make_workspace(ctx.workdir / "p2" / "big-workspace")
    big = asyncio.run(_measure(big_workspace, "sandbox-007", count))
    load = os.getloadavg()[0]
    rows = []
    for label, values in (("sample specs, 1,185 real issues", small),
                          ("200 specs, 10,000 issues", big)):
        value = p95(values)
        rows.append(Row(ID, f"{WHAT} ({label}; p95 of {count} rename-saves, load {load:.1f})",
                        f"raw awatch p95: {ms(p95(floor))}", ms(value), ms(value),
                        "p95 ≤ 50 ms", value <= LIMIT))
    return rows
