"""A Ralph step or loop driven from the TUI, as plain state: no widget, no screen.

:class:`RalphRun` drives the core's :class:`~wrapix_core.ralph.engine.Engine` and keeps
what the run panel shows: the mode and label, the step and the check running now, the
step waiting for approval, the agent's last output lines and the result lines. The pane
renders it and tells it what the person decided; tests drive it with a plain approver.

The engine calls back on the event loop, in order. A stop answers nothing itself: the
pane first answers a pending approval "stop" (its modal is the pane's), else it calls
:meth:`RalphRun.stop`, which cancels the running step once (the engine then puts its
issue back, clears its running record and frees its lock); :meth:`RalphRun.wait` waits
for that clean-up (a quit does).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wrapix_core.errors import WrapixError
from wrapix_tui import format as fmt

if TYPE_CHECKING:
    from wrapix_core.ralph.events import (
        CommandStarted,
        Decision,
        OutputTail,
        StepProposal,
        StepResult,
        StepStarted,
    )
    from wrapix_core.settings import Settings

log = logging.getLogger("wrapix.tui.ralph")

RESULT_LINES = 8
"""Result lines kept (the panel shows them all)."""

OUTCOME_STYLE = {"completed": "green", "clarify": "magenta", "failed": "red",
                 "stuck": "yellow", "stopped": "yellow"}
TOASTED = {"completed": "information", "clarify": "information", "failed": "error",
           "stuck": "warning"}
"""Step outcomes told in a toast too, with the toast's severity."""


@dataclass(frozen=True)
class ResultLine:
    """One line of the run panel's history (``text`` is untrusted: shown escaped)."""

    text: str
    style: str


class RunView(Protocol):
    """What a run needs from whoever shows it (the Ralph pane, or a test)."""

    def run_changed(self, output_only: bool) -> None:
        """Something shown changed (``output_only``: only new agent output lines)."""

    def say(self, text: str, severity: str = "information", title: str = "",
            timeout: float | None = None, limit: int = 300) -> None:
        """A toast; ``text`` is untrusted (shown escaped, at most ``limit`` characters)."""


Approver = Callable[["StepProposal"], Awaitable["Decision | None"]]


class RalphRun:
    """The state of the TUI's Ralph run; one instance lives as long as the pane."""

    def __init__(self, workspace: Path, view: RunView) -> None:
        self.workspace = workspace
        self.view = view
        self.mode: str | None = None
        """``step``, ``loop`` or ``parallel`` while a run is going on."""
        self.parallel = 0
        """Issues at once, in a ``parallel`` run (its steps are in Ralph's state: the
        pane shows them from there, like a parallel loop of another terminal)."""
        self.label: str | None = None
        """The label of the run going on, or of the last one."""
        self.stopping = False
        """A stop was asked: the run is cancelled once, then left to clean up."""
        self.current: StepStarted | None = None
        """The step running now."""
        self.command: CommandStarted | None = None
        """The check or hook running now (started at :attr:`command_at`)."""
        self.command_at = 0.0
        self.asking: StepProposal | None = None
        """The step waiting for an answer."""
        self.results: list[ResultLine] = []
        self.tail: OutputTail | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ended = asyncio.Event()
        """Set while no run is going on."""
        self._ended.set()
        self._sending: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        return self.mode is not None

    @property
    def what(self) -> str:
        """The run in words: ``step``, ``loop``, ``parallel loop``."""
        return "parallel loop" if self.mode == "parallel" else str(self.mode)

    # -- start, stop, wait --------------------------------------------------------------
    def start(self, mode: str, label: str, settings: Settings | None,
              approve: Approver) -> Coroutine[Any, Any, None]:
        """Mark a ``mode`` run of ``label`` as going on (from now: a second start is
        refused by the caller) and return the coroutine that drives it, for the caller
        to run (a Textual worker; ``approve`` may push a modal from it)."""
        from wrapix_core.ralph.events import OutputTail

        self.mode, self.label, self.stopping = mode, label, False
        self.current = self.command = self.asking = None
        self.results = []
        self.tail = OutputTail(limit=50)
        self._ended.clear()
        self.view.run_changed(False)
        return self._drive(mode, label, settings, approve)

    async def _drive(self, mode: str, label: str, settings: Settings | None,
                     approve: Approver) -> None:
        from wrapix_core.ralph.engine import Engine

        self._task = asyncio.current_task()
        error = ""
        try:
            engine = Engine(self.workspace, settings=settings, on_event=self.on_event)
            asking = self._asker(approve)
            if mode == "step":
                await engine.step(label, approve=asking)
            elif mode == "parallel":  # unattended: N steps at once cannot each be asked
                from wrapix_core.ralph.parallel import ParallelLoop

                self.parallel = engine.ralph.parallel
                self.view.run_changed(False)
                await ParallelLoop(engine, self.parallel).run(label)
            else:
                await engine.loop(label, approve=asking)
        except WrapixError as exc:
            error = str(exc)
        except asyncio.CancelledError:
            self._finished("", stopped=True)
            raise
        except Exception as exc:
            log.exception("the Ralph run failed")
            error = f"the run failed: {exc!r}"
        self._finished(error, stopped=False)

    def stop(self) -> bool:
        """Cancel the running step once; False when nothing runs or it is stopping."""
        if not self.running or self.stopping:
            return False
        self.stopping = True
        if self._task is not None:
            self._task.cancel()
        self.view.run_changed(False)
        return True

    async def wait(self, timeout: float) -> bool:
        """Wait for the run to end; False if it outlasts ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._ended.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _finished(self, error: str, stopped: bool) -> None:
        if error:
            self.add(f"✗ {error}", "red")
            self.view.say(error, severity="error", timeout=10, limit=500)
        elif stopped:
            self.add("■ stopped (the running steps' issues were put back)"
                     if self.mode == "parallel" else
                     "■ stopped (the running step's issue was put back)", "yellow")
        self.mode = None
        self.stopping = False
        self.current = self.command = self.asking = None
        self._task = None
        self._ended.set()
        self.view.run_changed(False)

    def summary(self) -> str | None:
        """What a quit would stop, in a sentence (plain text); None when nothing runs."""
        if not self.running:
            return None
        if self.current is not None:
            what = fmt.plain(self.current.issue.id, 40)
        elif self.asking is not None:
            what = f"waiting for your approval of {fmt.plain(self.asking.issue.id, 40)}"
        else:
            what = f"label {fmt.plain(self.label, 40)}"
        return f"A Ralph {self.what} is running ({what})."

    # -- the engine's callbacks ---------------------------------------------------------
    def _asker(self, approve: Approver) -> Callable[[StepProposal], Awaitable[Decision]]:
        async def asking(proposal: StepProposal) -> Decision:
            """Nothing runs without an answer; no answer at all means stop."""
            from wrapix_core.ralph.events import Decision

            self.asking = proposal
            self.view.run_changed(False)
            try:
                decision = await approve(proposal)
            finally:
                self.asking = None
            chosen = decision if decision is not None else Decision.STOP
            if chosen == Decision.SKIP:
                self.add(f"· skipped {proposal.issue.id}", "dim")
            else:
                self.view.run_changed(False)
            return chosen
        return asking

    def on_event(self, event: Any) -> None:
        """The engine's event callback (on the loop, in order)."""
        from wrapix_core.ralph.events import (
            AgentLine,
            AttemptFailed,
            CommandEnded,
            CommandLine,
            CommandStarted,
            LoopEnded,
            Note,
            StepEnded,
            StepStarted,
        )
        from wrapix_tui.ralph_control import command_ended_line, command_started_line

        if isinstance(event, AgentLine | CommandLine):
            if self.tail is not None and self.mode != "parallel":  # N agents: not one tail
                self.tail.add(event)
            self.view.run_changed(True)
            return
        if isinstance(event, StepStarted):
            if self.mode == "parallel":  # its steps are shown from Ralph's state
                self.view.run_changed(False)
                return
            self.current = event
            if self.tail is not None and event.attempt == 1:
                self.tail.lines.clear()
        elif isinstance(event, AttemptFailed):
            self.add(f"✗ {event.issue_id} attempt {event.attempt} failed: {event.reason}",
                     "red")
        elif isinstance(event, StepEnded):
            self._step_ended(event.result)
        elif isinstance(event, CommandStarted):
            self.command, self.command_at = event, time.time()
            self.add(command_started_line(event), "cyan")
        elif isinstance(event, CommandEnded):
            self.command = None
            self.add(*command_ended_line(event))
        elif isinstance(event, LoopEnded):
            style = "bold red" if event.result.exit_code == 1 else "bold"
            for line in event.result.summary():
                self.add(line, style)
        elif isinstance(event, Note):
            self.view.say(event.message,
                          severity="warning" if event.level == "warning" else "information")
        self.view.run_changed(False)

    def _step_ended(self, result: StepResult) -> None:
        from wrapix_tui.ralph_control import notification_for, result_line

        self.current = None
        outcome = str(result.outcome)
        line = result_line(result)
        self.add(line, OUTCOME_STYLE.get(outcome, "dim"))
        if outcome in TOASTED:
            self.view.say(line, severity=TOASTED[outcome], title="Ralph", timeout=8)
        note = notification_for(result)
        if note is not None:
            self._tell_daemon(*note)

    def _tell_daemon(self, title: str, message: str) -> None:
        """Through the notification daemon (the inbox, a desktop popup), like ``ralph``."""
        from wrapix_core.ralph import clarify
        from wrapix_tui.ralph_control import NOTIFY_KIND

        task = asyncio.ensure_future(clarify.notify(title, message, kind=NOTIFY_KIND))
        self._sending.add(task)  # held until sent (the loop keeps only weak references)
        task.add_done_callback(self._sending.discard)

    def add(self, text: str, style: str) -> None:
        """A result line (the last :data:`RESULT_LINES` are kept)."""
        self.results.append(ResultLine(text, style))
        del self.results[:-RESULT_LINES]
        self.view.run_changed(False)
