"""What the engine reports: typed results, events, and the approval callback.

The CLI prints these; the TUI turns them into Textual messages. Events arrive through one
synchronous callback (:data:`EventCallback`) on the engine's event loop, in order; the
approval callback (:data:`ApproveCallback`) is awaited before each step when given.

Exit codes (``ralph step`` / ``ralph loop``): 0 done (issues completed, or parked with a
question for a person; the loop stopped or reached ``max_steps``); 1 failed (an issue's
attempts were used up and it was parked with ``ralph:clarify``, an agent could not run, a
``pre_loop`` hook failed) — for a loop, 1 whenever any step failed, even when it went on
and ended with nothing left; 100 nothing left to do; 101 stuck (open issues of the label,
none ready: blocked, awaiting review or answers).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wrapix_core.tasks.model import Dependency, Issue

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_NOTHING_LEFT = 100
EXIT_STUCK = 101


class StepOutcome(enum.StrEnum):
    COMPLETED = "completed"
    """The agent said WORK_COMPLETE; the issue is closed."""
    CLARIFY = "clarify"
    """The agent asked a question; the issue is open with ``ralph:clarify``."""
    FAILED = "failed"
    """Every attempt failed; the issue is open with ``ralph:clarify`` and the reason."""
    NOTHING_LEFT = "nothing-left"
    """No open issue of the label remains."""
    STUCK = "stuck"
    """Open issues remain, none ready."""
    STOPPED = "stopped"
    """The approval callback said stop."""
    SKIPPED = "skipped"
    """Every ready issue was skipped in this loop."""

    @property
    def exit_code(self) -> int:
        return {StepOutcome.FAILED: EXIT_FAILED, StepOutcome.NOTHING_LEFT: EXIT_NOTHING_LEFT,
                StepOutcome.STUCK: EXIT_STUCK}.get(self, EXIT_DONE)


OUTCOME_MARKS: dict[str, str] = {
    StepOutcome.COMPLETED: "✓", StepOutcome.CLARIFY: "?", StepOutcome.FAILED: "✗",
    StepOutcome.NOTHING_LEFT: "·", StepOutcome.STUCK: "!", StepOutcome.STOPPED: "■",
    StepOutcome.SKIPPED: "·",
}
"""The mark before a step's result line, in ``ralph`` and on the TUI's board alike."""


def outcome_mark(outcome: str) -> str:
    """The mark of a step outcome (``·`` for one this table does not know)."""
    return OUTCOME_MARKS.get(outcome, "·")


class Decision(enum.StrEnum):
    """What the approval callback answers before a step."""

    APPROVE = "approve"
    SKIP = "skip"
    """Not this issue (not offered again in this loop)."""
    STOP = "stop"
    """End the loop now."""
    APPROVE_ALL = "approve-all"
    """This and every following step of the loop, without asking."""


@dataclass(frozen=True)
class DependencyView:
    id: str
    type: str
    status: str
    """The issue depended on's status, ``missing`` when it is not in the store."""
    title: str

    @classmethod
    def of(cls, dependency: Dependency, by_id: Mapping[str, Issue]) -> DependencyView:
        other = by_id.get(dependency.depends_on_id)
        return cls(dependency.depends_on_id, dependency.type,
                   other.status if other is not None else "missing",
                   other.title if other is not None else "")


@dataclass(frozen=True)
class IssueRef:
    """An issue as the engine shows it (a snapshot; text is untrusted)."""

    id: str
    title: str
    priority: int
    status: str
    description: str = ""
    labels: tuple[str, ...] = ()
    dependencies: tuple[DependencyView, ...] = ()

    @classmethod
    def of(cls, issue: Issue, by_id: dict[str, Issue] | None = None) -> IssueRef:
        deps = tuple(DependencyView.of(dep, by_id or {}) for dep in issue.dependencies)
        return cls(issue.id, issue.title, issue.priority, issue.status, issue.description,
                   issue.labels, deps)


@dataclass(frozen=True)
class StepProposal:
    """The step the approval callback is asked about."""

    label: str
    issue: IssueRef
    spec_path: str
    spec_title: str
    number: int
    """1 for the first step of this loop."""
    ready: int
    """Ready issues of the label (this one included) not skipped in this loop."""


ApproveCallback = Callable[[StepProposal], Awaitable[Decision]]


@dataclass(frozen=True)
class StepResult:
    outcome: StepOutcome
    label: str
    message: str
    """One line for people (untrusted parts escaped by the printer, not here)."""
    issue: IssueRef | None = None
    attempts: int = 0
    reason: str = ""
    """Why it failed, the question asked, or why nothing is ready."""
    logs: tuple[Path, ...] = ()
    elapsed: float = 0.0
    hint: str = ""
    """What to do next, when there is something to do."""
    fatal: bool = False
    """A failure that is not the issue's (the agent cannot run or cannot log in, the
    settings changed): retrying or taking the next issue cannot help, the loop ends."""

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code

    @property
    def log(self) -> Path | None:
        return self.logs[-1] if self.logs else None


@dataclass(frozen=True)
class LoopResult:
    label: str
    steps: tuple[StepResult, ...]
    final: StepResult | None
    """The result that ended the loop (None: ``max_steps`` reached)."""
    skipped: tuple[tuple[str, str], ...] = ()
    """(issue id, why) of the issues passed over: by the person, or by a ``pre_step``
    hook that failed."""
    error: str = ""
    """Why the loop did not start or ended early (a ``pre_loop`` hook failed)."""

    @property
    def exit_code(self) -> int:
        if self.error or self.failed:
            return EXIT_FAILED
        return self.final.exit_code if self.final is not None else EXIT_DONE

    def _ids(self, outcome: StepOutcome) -> tuple[str, ...]:
        return tuple(step.issue.id for step in self.steps
                     if step.outcome == outcome and step.issue is not None and step.attempts)

    @property
    def worked(self) -> tuple[str, ...]:
        """Ids of the issues steps worked on, in order."""
        return tuple(step.issue.id for step in self.steps if step.issue is not None
                     and step.attempts)

    @property
    def done(self) -> tuple[str, ...]:
        return self._ids(StepOutcome.COMPLETED)

    @property
    def parked(self) -> tuple[str, ...]:
        """Failed issues (parked with ``ralph:clarify`` and the reason)."""
        return self._ids(StepOutcome.FAILED)

    @property
    def asked(self) -> tuple[str, ...]:
        return self._ids(StepOutcome.CLARIFY)

    @property
    def failed(self) -> bool:
        return any(step.outcome == StepOutcome.FAILED for step in self.steps)

    def summary(self) -> list[str]:
        """The loop in a few lines for people (ids, counts, why it ended)."""
        def part(name: str, ids: tuple[str, ...]) -> str:
            return f"{name} {len(ids)}" + (f" ({', '.join(ids)})" if ids else "")

        skipped = tuple(issue for issue, _why in self.skipped)
        lines = [f"loop {self.label}: " + ", ".join((
            part("done", self.done), part("parked", self.parked),
            part("asked", self.asked), part("skipped", skipped)))]
        for issue, why in self.skipped:
            lines.append(f"  skipped {issue}: {why}")
        if self.error:
            lines.append(f"  ended: {self.error}")
        elif self.final is not None:
            lines.append(f"  ended: {self.final.message}")
        else:
            lines.append("  ended: max steps reached")
        lines.append(f"  exit {self.exit_code}" + (" (a step failed)" if self.failed else ""))
        return lines


@dataclass(frozen=True)
class PhaseResult:
    """``plan``, ``ready`` or ``check``."""

    phase: str
    label: str
    ok: bool
    message: str
    log: Path | None = None
    reason: str = ""
    created: tuple[str, ...] = ()
    """Ids of the issues the ready session created."""
    epic: str | None = None
    proposed: int = 0
    """How many of them await review."""
    outcome: str = ""
    """``check``: ``complete``, ``fixups`` (``created`` holds them) or ``failed``."""

    @property
    def exit_code(self) -> int:
        return EXIT_DONE if self.ok else EXIT_FAILED


@dataclass(frozen=True)
class CheckLoopResult:
    """``ralph loop --check``: the loops and checks it ran, how it ended."""

    label: str
    loops: tuple[LoopResult, ...]
    checks: tuple[PhaseResult, ...]
    exit_code: int
    message: str

    @property
    def satisfied(self) -> bool:
        return bool(self.checks) and self.checks[-1].ok

    @property
    def fixups(self) -> tuple[str, ...]:
        """Every fix-up issue the checks created, in order."""
        return tuple(issue for check in self.checks for issue in check.created)


# -- events -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    """Something worth a line: an interrupted step recovered, an image being built."""

    message: str
    level: str = "info"
    """``info`` or ``warning``."""


@dataclass(frozen=True)
class StepStarted:
    label: str
    issue: IssueRef
    attempt: int
    attempts: int
    """Attempts allowed in all (1 + retries)."""
    log: Path
    started: float
    """``time.time()`` at the start, for an elapsed clock."""
    where: str
    """``sandbox NAME`` or ``host``."""


@dataclass(frozen=True)
class PhaseStarted:
    phase: str
    label: str
    log: Path
    started: float
    where: str


@dataclass(frozen=True)
class AgentLine:
    """One line of agent output, raw and as a person reads it (may be empty)."""

    issue_id: str | None
    """The step's issue, or None in the plan/ready phases."""
    raw: str
    text: tuple[str, ...]


@dataclass(frozen=True)
class AttemptFailed:
    issue_id: str
    attempt: int
    reason: str
    log: Path
    retrying: bool


@dataclass(frozen=True)
class CommandStarted:
    """A ``check`` command or a hook starts."""

    kind: str
    """``check`` or ``hook``."""
    name: str
    """The hook's name (``pre_step`` …) or the check's command line."""
    issue_id: str | None
    where: str
    """``host`` or ``sandbox NAME``."""


@dataclass(frozen=True)
class CommandLine:
    """One output line of a running check or hook (untrusted text)."""

    kind: str
    name: str
    line: str


@dataclass(frozen=True)
class CommandEnded:
    kind: str
    name: str
    issue_id: str | None
    ok: bool
    detail: str
    """``exit 0``, ``exit 1``, ``timed out after 300s``, ``cannot run: …``."""
    elapsed: float


@dataclass(frozen=True)
class StepEnded:
    result: StepResult


@dataclass(frozen=True)
class PhaseEnded:
    result: PhaseResult


@dataclass(frozen=True)
class LoopEnded:
    result: LoopResult


@dataclass(frozen=True)
class CheckLoopEnded:
    result: CheckLoopResult


EngineEvent = (Note | StepStarted | PhaseStarted | AgentLine | AttemptFailed | StepEnded
               | PhaseEnded | LoopEnded | CommandStarted | CommandLine | CommandEnded
               | CheckLoopEnded)
EventCallback = Callable[[EngineEvent], None]


@dataclass
class OutputTail:
    """The last lines of readable agent output (what the TUI shows under the issue)."""

    limit: int = 200
    lines: list[str] = field(default_factory=list)

    def add(self, event: AgentLine | CommandLine) -> None:
        """An agent's readable lines, or a check's or hook's output line (marked)."""
        if isinstance(event, CommandLine):
            self.lines.append(f"┆ {event.line}")
        else:
            self.lines.extend(event.text)
        del self.lines[: max(0, len(self.lines) - self.limit)]
