"""The running steps of parallel loops on the board, whichever terminal started them.

``ralph loop --parallel N`` records its steps in Ralph's ``state/`` (the core's
:mod:`~wrapix_core.ralph.runsteps`); the board's watcher follows that directory
(:class:`~wrapix_core.specs.events.StateChanged`, inotify: nothing polls) and this module
turns it into what the board shows: a mark on each running issue's row, and one line
per step in the run panel (issue, title, session, elapsed, where it is).

The file is read as untrusted (see the core module): only steps whose issue is on the
board are shown, every string is inert text, and what cannot be read is logged once
per change, never raised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message

from wrapix_tui import format as fmt

if TYPE_CHECKING:
    from wrapix_core.ralph.runsteps import RunsRead
    from wrapix_core.ralph.state import RalphPaths
    from wrapix_core.specs.board import Board
    from wrapix_core.specs.events import StateChanged

log = logging.getLogger("wrapix.tui.ralph")

MARKS = {"running": ("▶", "bold yellow"), "queued": ("⋯", "bold cyan"),
         "landing": ("⇡", "bold cyan"), "conflict": ("✗", "bold red")}
"""Each step state's mark on its issue's row and in the panel."""
clock = time.time
"""Now, for elapsed times (a snapshot fixes it)."""
SAID = {"running": "running", "queued": "queued to land", "landing": "landing",
        "conflict": "conflict (back open)"}


class RunsChanged(Message):
    """The parallel loops' records changed (read in a worker)."""

    def __init__(self, read: RunsRead) -> None:
        super().__init__()
        self.read = read


@dataclass(frozen=True)
class ShownStep:
    """One step as the board shows it (its issue is on the board)."""

    issue: str
    title: str
    state: str
    session: str
    started: float
    label: str
    pid: int


@dataclass(frozen=True)
class ShownRun:
    label: str
    parallel: int
    pid: int


async def read_if_changed(paths: RalphPaths, event: StateChanged) -> RunsRead | None:
    """The runs, read in a thread, when ``event`` may concern them (else None)."""
    from wrapix_core.ralph.runsteps import FILE_RE, read_runs

    if event.names and not any(FILE_RE.fullmatch(name) for name in event.names):
        return None  # a label's state, a temporary file: not a run's record
    return await asyncio.to_thread(read_runs, paths)


class Steps:
    """The steps shown now, from the last runs read and the board (plain state)."""

    def __init__(self) -> None:
        self.read: RunsRead | None = None
        self.steps: tuple[ShownStep, ...] = ()
        self.runs: tuple[ShownRun, ...] = ()
        self._logged: tuple[str, ...] = ()

    def update(self, board: Board | None, read: RunsRead | None = None) -> bool:
        """Take ``read`` (None: the last one) against ``board``; True when what is shown
        changed."""
        if read is not None:
            self.read = read
        if self.read is None or board is None:
            return False
        by_id = board.readiness.by_id
        steps, unknown = [], []
        for run in self.read.runs:
            for step in run.steps:
                issue = by_id.get(step.issue)
                if issue is None:
                    unknown.append(step.issue)
                    continue
                steps.append(ShownStep(step.issue, issue.title, step.state, step.session,
                                       step.started, run.label, run.pid))
        problems = tuple(self.read.problems) + tuple(
            f"a parallel run names {fmt.plain(issue_id, 60)}, which is not on the board"
            for issue_id in unknown)
        if problems != self._logged:  # once per change, not on every board
            self._logged = problems
            for problem in problems:
                log.warning("Ralph's running steps: %s", fmt.plain(problem, 300))
        runs = tuple(ShownRun(run.label, run.parallel, run.pid) for run in self.read.runs)
        fresh = tuple(steps)
        if fresh == self.steps and runs == self.runs:
            return False
        self.steps, self.runs = fresh, runs
        return True

    def marks(self) -> dict[str, str]:
        """Issue id → its step's state (the first loop naming it wins)."""
        found: dict[str, str] = {}
        for step in self.steps:
            found.setdefault(step.issue, step.state)
        return found

    def running(self) -> int:
        return sum(1 for step in self.steps if step.state != "conflict")

    def others(self, own_pid: int | None) -> list[ShownRun]:
        """The loops started elsewhere (another terminal), not this TUI's own."""
        return [run for run in self.runs if run.pid != own_pid]


def render_steps(text: Text, steps: Sequence[ShownStep], width: int = 80,
                 now: float | None = None) -> None:
    """One line per step under the run panel's head: mark, issue, elapsed, where it is,
    session, then the title in what is left of ``width``."""
    now = clock() if now is None else now
    for step in steps:
        mark, style = MARKS.get(step.state, ("·", "dim"))
        line = Text(f" {mark} ", style=style)
        line.append(fmt.safe(step.issue, 24, style="bold"))
        if step.started:
            line.append(f" {fmt.age(max(0.0, now - step.started)):>6}", style="yellow")
        line.append(f" {SAID.get(step.state, step.state)}", style=style)
        line.append(" ")
        line.append(fmt.safe(step.session or "(making its session)", 40, style="dim"))
        room = width - line.cell_len - 2
        if room >= 8:
            title = fmt.safe(step.title, 200)
            title.truncate(room, overflow="ellipsis")
            line.append("  ")
            line.append(title)
        text.append("\n")
        text.append(line)


def render_others(text: Text, runs: Sequence[ShownRun], steps: Sequence[ShownStep],
                  width: int = 80) -> None:
    """The head for parallel loops started in another terminal (not stoppable here)."""
    for run in runs:
        if text:
            text.append("\n")
        text.append(f" parallel {run.parallel} ", style="bold reverse green")
        text.append(fmt.safe(f" {run.label} ", 60, style="bold"))
        text.append(f" another terminal's (pid {run.pid}): stop it there", style="dim")
        render_steps(text, [step for step in steps if step.pid == run.pid], width)
