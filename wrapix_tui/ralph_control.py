"""Which Ralph label a board row drives, and the one-line summaries of engine results.

Nothing here imports Textual: the board pane calls these from its workers. The engine,
the clarify inbox and the review gate are the core's own (the same calls as ``ralph``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wrapix_core.errors import WrapixError

if TYPE_CHECKING:
    from wrapix_core.ralph.events import CommandEnded, CommandStarted, StepResult
    from wrapix_core.specs.board import SpecCard


class NoLabel(WrapixError):
    """No Ralph label drives this spec."""


@dataclass(frozen=True)
class LabelInfo:
    label: str
    spec: str
    epic: str | None


def label_for(workspace: Path, card: SpecCard | None) -> LabelInfo:
    """The Ralph label whose spec is ``card`` (its state names the spec file), else the
    label named like the spec, else (for the workspace row) the current label."""
    from wrapix_core.ralph.state import (
        current_label,
        known_labels,
        ralph_paths,
        read_label_state,
    )

    paths = ralph_paths(workspace)
    if not paths.exists:
        raise NoLabel(f"Ralph has not been started in {workspace}",
                      "run `ralph start LABEL` in the workspace first")
    if card is None:
        label = current_label(paths)
        if label is None:
            raise NoLabel("no current Ralph label", "select a spec, or `ralph use LABEL`")
        state = read_label_state(paths, label)
        return LabelInfo(label, state.spec, state.epic)
    found: LabelInfo | None = None
    for label in known_labels(paths):
        try:
            state = read_label_state(paths, label)
        except WrapixError:
            continue
        if Path(state.spec).name == card.file or state.spec_name == card.name:
            info = LabelInfo(label, state.spec, state.epic)
            if label == card.name:
                return info
            found = found or info
    if found is None:
        raise NoLabel(f"no Ralph label works on {card.file}",
                      f"start one with `ralph start {card.name}`")
    return found


def result_line(result: StepResult) -> str:
    """What a step result says on the board (escaping is the renderer's job)."""
    from wrapix_core.ralph.events import outcome_mark

    return f"{outcome_mark(result.outcome)} {result.message}"


COMMAND_NAME = 60
"""Characters of a check's command line shown in a result line."""


def _name(name: str) -> str:
    flat = " ".join(name.split())
    return flat if len(flat) <= COMMAND_NAME else flat[: COMMAND_NAME - 1] + "…"


def command_started_line(event: CommandStarted) -> str:
    """A check or hook starting, in the run panel."""
    return f"▷ {event.kind} {_name(event.name)}" + (
        f" ({event.issue_id})" if event.issue_id else "")


def command_ended_line(event: CommandEnded) -> tuple[str, str]:
    """(line, style) for a check or hook that ended."""
    mark, style = ("✓", "green") if event.ok else ("✗", "red")
    return (f"{mark} {event.kind} {_name(event.name)}: {event.detail} "
            f"({event.elapsed:.1f}s)", style)


NOTIFY_KIND = "ralph-step"


def notification_for(result: StepResult) -> tuple[str, str] | None:
    """(title, message) for a step result the engine does not notify itself.

    The engine already notifies a question (clarify) and a failure; a closed issue and
    a stuck label are told here, through the same daemon path (``clarify.notify``).
    """
    outcome = str(result.outcome)
    issue = result.issue
    if outcome == "completed" and issue is not None:
        return f"Ralph: {issue.id} closed", f"{issue.title}: {result.message}"
    if outcome == "stuck":
        return f"Ralph: {result.label} is blocked", result.message
    return None
