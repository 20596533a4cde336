"""The Ralph run panel, docked under the board: the run going on (its step, the check
running now, the agent's last lines) or the last one, then the result lines.

It renders a :class:`~wrapix_tui.ralph_run.RalphRun` and the running steps of parallel
loops (:class:`~wrapix_tui.widgets.ralph_steps.Steps`: this TUI's own under its head, and
those of loops started in another terminal above it). Agent output is
gathered into one redraw per :data:`OUTPUT_FLUSH`; while a run goes on, a one-second
clock redraws the elapsed times. Every string from issues and the agent is inert text.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from wrapix_tui import format as fmt
from wrapix_tui.widgets.ralph_steps import Steps, render_others, render_steps

if TYPE_CHECKING:
    from wrapix_tui.ralph_run import RalphRun

TAIL_LINES = 4
"""Agent output lines shown under the running issue."""
OUTPUT_FLUSH = 0.1
"""Seconds to gather agent output into one redraw."""


class RunPanel(Static):
    def __init__(self, run: RalphRun, stop_key: Callable[[], str],
                 steps: Steps | None = None) -> None:
        super().__init__("", id="ralph-run")
        self.run = run
        self.steps = steps or Steps()
        self.stop_key = stop_key
        """The key that stops a run, as the person's keymap has it now."""
        self.drawn_width = 0
        """The width the text was last laid out for (its steps' titles fill it)."""
        self._output_timer: Timer | None = None
        self._clock: Timer | None = None

    def changed(self, output_only: bool = False) -> None:
        """The run changed: redraw now, or soon for agent output (coalesced)."""
        if not output_only:
            self.redraw()
        elif self._output_timer is None:
            self._output_timer = self.set_timer(OUTPUT_FLUSH, self._flush_output)

    def _flush_output(self) -> None:
        self._output_timer = None
        self.redraw()

    def follow(self, running: bool) -> None:
        """Show the panel and tick its clock while a run goes on."""
        if running:
            self.display = True
            if self._clock is None:
                self._clock = self.set_interval(1.0, self.redraw)
        else:
            if self._clock is not None:
                self._clock.stop()
                self._clock = None
            if self.run.label is None:  # only another terminal's loop was shown: gone
                self.display = False
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()  # the steps' titles take the width there is

    def redraw(self) -> None:
        self.drawn_width = self.content_size.width or 80
        self.update(render_run(self.run, self.stop_key(), self.steps, self.drawn_width))


def render_run(run: RalphRun, stop_key: str, steps: Steps | None = None,
               width: int = 80) -> Text:
    """The panel's text for ``run`` (``stop_key``: the key named in "… stops") and the
    parallel loops' ``steps``, for a panel ``width`` cells wide."""
    steps = steps or Steps()
    others = Text()
    render_others(others, steps.others(os.getpid()), steps.steps, width)
    text = _render_own(run, stop_key, steps, width)
    if others:
        return others + Text("\n") + text if run.mode or run.results else others
    return text


def _render_own(run: RalphRun, stop_key: str, steps: Steps, width: int) -> Text:
    text = Text()
    if run.mode == "parallel":
        text.append(f" parallel {run.parallel} " if run.parallel else " parallel ",
                    style="bold reverse green")
        text.append(f" {run.label} ", style="bold")
        own = [step for step in steps.steps if step.pid == os.getpid()]
        text.append("choosing the next issues…" if not own else
                    f"{len(own)} at once", style="dim")
        text.append("   stopping…" if run.stopping else f"   {stop_key} stops all",
                    style="bold yellow" if run.stopping else "dim")
        render_steps(text, own, width)
    elif run.mode:
        text.append(f" {run.mode} ", style="bold reverse green")
        text.append(f" {run.label} ", style="bold")
        current, command = run.current, run.command
        if current is not None:
            elapsed = max(0.0, time.time() - current.started)
            text.append(fmt.safe(current.issue.id, 40, style="bold"))
            text.append(" ")
            text.append(fmt.safe(current.issue.title, 80))
            text.append(f"  {fmt.age(elapsed)}", style="yellow")
            if current.attempt > 1:
                text.append(f"  attempt {current.attempt}/{current.attempts}", style="red")
            text.append(f"  {current.where}", style="dim")
            if command is not None:
                text.append(f"\n ▷ {command.kind} ", style="bold cyan")
                text.append(fmt.safe(command.name, 80, style="bold"))
                text.append(f"  {fmt.age(max(0.0, time.time() - run.command_at))}",
                            style="yellow")
        elif command is not None:
            text.append(f"{command.kind} ", style="bold cyan")
            text.append(fmt.safe(command.name, 80, style="bold"))
        elif run.asking is not None:
            text.append("waiting for your approval of ", style="yellow")
            text.append(fmt.safe(run.asking.issue.id, 40, style="bold yellow"))
        else:
            text.append("choosing the next issue…", style="dim")
        if run.stopping:
            text.append("   stopping…", style="bold yellow")
        else:
            text.append(f"   {stop_key} stops", style="dim")
        lines = list(run.tail.lines[-TAIL_LINES:]) if run.tail else []
        for line in (line for line in lines if line.strip()):
            text.append("\n │ ", style="dim")
            text.append(fmt.safe(line, 300, style="dim"))
    else:
        text.append(" last run ", style="bold reverse")
        if run.label:
            text.append(f" {run.label}", style="bold")
    for result in run.results:
        text.append("\n ")
        text.append(fmt.safe(result.text, 300, style=result.style))
    return text
