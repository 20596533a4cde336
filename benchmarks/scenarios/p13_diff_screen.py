"""P13: the diff screen's first frame for a 10,000-line diff ≤ 2× the time `git diff` takes
to produce it (same run), and no frame over 50 ms while paging through it.

The repository: 40 Python files on a base commit, a branch that rewrites a block of each
(the first file, shown when the screen opens, a large part), so that `git diff
base...branch` prints about 10,000 lines (the exact count is in the row). Floor: that
`git diff` (the same options the screen uses, through the same safe-git helper's argv),
wall time of the process, median; one run just before each opening of the screen, so
that floor and screen see the same machine. Measured: from the moment the screen is asked for (its
construction starts the git calls: committed, uncommitted, untracked) until the app has
written the first frame that shows the diff's rows (the end of the app's ``_display`` of
the frame in which ``DiffView`` first drew the file's rows): the git calls, the parse,
the screen's mount and layout, the file list and the visible rows.
Paging: page-down through the first file and next-file through all the others, each time
from the key's action to the end of the app's display of the frame that redrew the view;
the slowest one counts.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import os
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.harness import Context, Row, median, ms, ratio_row

if TYPE_CHECKING:
    from wrapix_tui.screens.diff import DiffScreen
    from wrapix_tui.widgets.diff_view import DiffView

ID = "P13"
WHAT = "diff screen first frame, 10,000-line diff"
TARGET = 2.0
FRAME_LIMIT = 0.050
FILES = 40

_GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@e",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@e"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, env=_GIT_ENV,
                          capture_output=True, text=True).stdout


def _source(index: int, lines: int, version: int) -> str:
    out = [f'"""Module {index}, version {version}."""', "", "import os", ""]
    for number in range(lines):
        if version and (number // 7) % 2 == 0:
            out.append(f"def function_{number}(value: int) -> int:  # v{version}\n"
                       f"    return value * {number + version} + len(os.sep)")
        else:
            out.append(f"def function_{number}(value: int) -> int:\n"
                       f"    return value + {number}")
    return "\n".join(out) + "\n"


def make_repo(root: Path) -> Path:
    """A repository whose branch ``work`` differs from ``main`` by about 10,000 diff lines."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    sizes = [1060] + [69] * (FILES - 1)
    for index, size in enumerate(sizes):
        (repo / f"mod_{index:02d}.py").write_text(_source(index, size, 0))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "work")
    for index, size in enumerate(sizes):
        (repo / f"mod_{index:02d}.py").write_text(_source(index, size, 1))
    _git(repo, "commit", "-qam", "work")
    return repo


def _git_diff(repo: Path) -> tuple[float, int]:
    """One run of the floor: the screen's ``git diff`` (same argv), wall time and lines."""
    from wrapix_core import safegit
    from wrapix_core.gitdiff.source import diff_args

    argv = safegit.argv(repo, *diff_args("main...HEAD"))
    start = time.perf_counter()
    out = subprocess.run(argv, env=safegit.safe_env(), capture_output=True, check=True).stdout
    return time.perf_counter() - start, out.count(b"\n")


class _Frames:
    """End times of the frames the app wrote (``App._display`` returning), and an event
    set at each: the measuring task waits on it instead of polling (a poll every half
    millisecond took the UI thread's time from the frames it measured)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.written = asyncio.Event()

    def add(self) -> None:
        self.times.append(time.perf_counter())
        self.written.set()

    def after(self, moment: float) -> float | None:
        """The end of the first frame written at or after ``moment``, if any yet."""
        index = bisect.bisect_left(self.times, moment)
        return self.times[index] if index < len(self.times) else None


async def _until_frame(frames: _Frames, painted: Callable[[], float], start: float) -> float:
    """Wait for a frame written after the view painted (``painted()``) after ``start``."""
    deadline = start + 30
    while True:
        moment = painted()
        if moment >= start:
            end = frames.after(moment)
            if end is not None:
                return end - start
        frames.written.clear()  # (no await since the look: a later frame sets it again)
        left = deadline - time.perf_counter()
        if left <= 0:
            raise RuntimeError("the diff view was not drawn")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(frames.written.wait(), left)


async def _measure(repo: Path, count: int
                   ) -> tuple[list[float], list[float], list[float], int]:
    from textual.app import App

    from wrapix_tui.screens.diff import DiffScreen, DiffTarget
    from wrapix_tui.widgets.diff_view import DiffView

    frames = _Frames()

    class Host(App[None]):
        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            frames.add()

    app = Host()
    firsts: list[float] = []
    floors: list[float] = []
    lines = 0
    paging: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        # wrapix-tui freezes what start-up made out of the cyclic collector's full passes
        # (widgets/ralph.py, after the first board); this stand-in app does the same.
        gc.freeze()
        for number in range(-1, count):  # -1: a warm-up (imports, lexer tables)
            # the floor is measured just before each opening, so both see the same
            # machine (a shared VM's speed drifts by tens of percent within a minute)
            took, lines = _git_diff(repo)
            await pilot.pause(0.02)
            start = time.perf_counter()
            screen = DiffScreen(DiffTarget("bench", repo, "main", branch="work"))
            await app.push_screen(screen)
            view = screen.query_one(DiffView)
            first = await _until_frame(frames, partial(_shown, view), start)
            if number >= 0:
                firsts.append(first)
                floors.append(took)
            if number == count - 1:
                paging = await _page(screen, view, frames)
            app.pop_screen()
            await pilot.pause(0.05)
    return firsts, paging, floors, lines


def _shown(view: DiffView) -> float:
    return view.shown_at


async def _frame(view: DiffView, frames: _Frames, act: Callable[[], object]) -> float:
    """From ``act`` to the end of the frame that shows the view redrawn after it."""
    start = time.perf_counter()
    act()
    return await _until_frame(frames, lambda: view.painted_at, start)


async def _page(screen: DiffScreen, view: DiffView, frames: _Frames) -> list[float]:
    done = []
    while view.cursor < len(view.rows) - 1:
        done.append(await _frame(view, frames, lambda: view.action_page(1)))
        await asyncio.sleep(0.03)  # key repeat: about 30 a second
    for _ in range(FILES - 1):
        done.append(await _frame(view, frames, lambda: screen.action_file(1)))
        await asyncio.sleep(0.03)
    return done


def run(ctx: Context) -> list[Row]:
    repo = make_repo(ctx.workdir / "p13")
    count = ctx.reps(11, 3)
    firsts, frames, floors, lines = asyncio.run(_measure(repo, count))
    floor = median(floors)
    load = os.getloadavg()[0]
    value = median(firsts)
    worst = max(frames)
    return [
        ratio_row(ID, f"{WHAT} ({lines:,} lines in {FILES} files; median of {count}, "
                  f"120×40, load {load:.1f})", "`git diff` producing it", floor, value,
                  TARGET),
        Row(ID, f"paging the diff: slowest of {len(frames)} frames (page-down through the "
            f"first file, then next-file through the others)", "—", ms(worst), ms(worst),
            "≤ 50 ms", worst <= FRAME_LIMIT),
    ]
