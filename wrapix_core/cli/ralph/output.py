"""What the ``ralph`` commands share: the workspace and the common options, printing
(everything escaped), and the engine with its events printed as terminal lines.

The workspace is ``--dir`` or the nearest directory at or above the current one holding
``.wrapix/ralph``, ``specs/`` or ``.beads/``. Text from issues, specs and agents is
escaped before it is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from wrapix_core import untrusted
from wrapix_core.ralph import events
from wrapix_core.ralph.state import RalphPaths, ralph_paths
from wrapix_core.tasks.workspace import BEADS_DIR, find_workspace

WORKSPACE_MARKERS = (".wrapix/ralph", "specs", BEADS_DIR)
PROG = "ralph"


def workspace_of(directory: Path | None) -> Path:
    if directory is not None:
        return directory.resolve()
    return find_workspace(Path.cwd(), WORKSPACE_MARKERS) or Path.cwd().resolve()


def dir_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False,
                                                              path_type=Path),
                        help="Workspace (default: the nearest one holding .wrapix/ralph, "
                             "specs/ or .beads/).")(function)


def host_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--host", "host", is_flag=True, default=None,
                        help="Run the agent here instead of in a sandbox.")(function)


def quiet_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-q", "--quiet", is_flag=True,
                        help="Do not show the agent's output.")(function)


def review_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--review/--no-review``: whether the issues a phase creates (``what``) wait for
    ``ralph review``."""
    return click.option("--review/--no-review", default=None,
                        help=f"Create {what} as proposed, for `ralph review` (default: the "
                             "ralph.review setting, on).")


def say(text: str, *, err: bool = False) -> None:
    """Print a line. Everything printed goes through here, escaped (ids, paths and other
    text from the store included); fields are escaped again where they are put together,
    which changes nothing for text that is already safe."""
    click.echo(untrusted.block(text), err=err)


class Printer:
    """Engine events as terminal lines (agent text escaped, optionally hidden)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.Note):
            say(f"{PROG}: {'warning: ' if event.level == 'warning' else ''}"
                f"{untrusted.line(event.message)}", err=True)
        elif isinstance(event, events.StepStarted):
            retry = f" (attempt {event.attempt} of {event.attempts})" if event.attempt > 1 else ""
            say(f"▶ {event.issue.id} [P{event.issue.priority}] "
                f"{untrusted.line(event.issue.title)}{retry} — {event.where}")
            say(f"  log: {event.log}")
        elif isinstance(event, events.PhaseStarted):
            say(f"▶ {event.phase} {event.label} — {event.where}")
            say(f"  log: {event.log}")
        elif isinstance(event, events.AgentLine):
            if not self.quiet:
                for text in event.text:
                    say(f"  │ {untrusted.line(text)}")
        elif isinstance(event, events.AttemptFailed):
            then = "retrying" if event.retrying else "no attempts left"
            say(f"  ✗ attempt {event.attempt} failed: {untrusted.line(event.reason)} ({then})")
        elif isinstance(event, events.StepEnded):
            _print_result(event.result)
        elif isinstance(event, events.PhaseEnded):
            mark = "✓" if event.result.ok else "✗"
            say(f"{mark} {untrusted.line(event.result.message)}")
        elif isinstance(event, events.CommandStarted):
            say(f"  ▷ {event.kind} {untrusted.line(event.name)} — {event.where}")
        elif isinstance(event, events.CommandLine):
            if not self.quiet:
                say(f"  ┆ {untrusted.line(event.line)}")
        elif isinstance(event, events.CommandEnded):
            mark = "✓" if event.ok else "✗"
            say(f"  {mark} {event.kind} {untrusted.line(event.name)}: "
                f"{untrusted.line(event.detail)} ({event.elapsed:.1f}s)")
        elif isinstance(event, events.LoopEnded):
            for line in event.result.summary():
                say(untrusted.line(line))
        elif isinstance(event, events.CheckLoopEnded):
            mark = "✓" if event.result.exit_code == 0 else "✗"
            say(f"{mark} {untrusted.line(event.result.message)}")


def _print_result(result: events.StepResult) -> None:
    say(f"{events.outcome_mark(result.outcome)} {untrusted.line(result.message)}")
    asked = (events.StepOutcome.FAILED, events.StepOutcome.CLARIFY)
    if result.log is not None and result.outcome in asked:
        say(f"  log: {result.log}")
    if result.hint:
        say(f"  next: {untrusted.line(result.hint)}")


def engine_for(directory: Path | None, host: bool | None, quiet: bool = False) -> Any:
    from wrapix_core.ralph.engine import Engine

    return Engine(workspace_of(directory), host=host, on_event=Printer(quiet))


def paths_for(directory: Path | None) -> RalphPaths:
    return ralph_paths(workspace_of(directory))
