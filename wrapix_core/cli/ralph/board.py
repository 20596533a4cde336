"""``ralph board [--json] [DIR]``: the spec/task board of a workspace, once.

The same :class:`~wrapix_core.specs.board.Board` the TUI's board pane shows: each spec
with its criteria progress, epic, review state and issues (counts, ready queue, clarify
questions, blockers), then the workspace's issues as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from wrapix_core import untrusted
from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.specs.board import Board, IssueSummary, load_board
from wrapix_core.tasks.workspace import BEADS_DIR, find_workspace
from wrapix_core.units import plural

WORKSPACE_MARKERS = ("specs", BEADS_DIR)


def resolve_workspace(directory: Path | None) -> Path:
    """DIR, or the nearest directory at or above the current one with specs/ or .beads/."""
    if directory is not None:
        return directory.resolve()
    return find_workspace(Path.cwd(), WORKSPACE_MARKERS) or Path.cwd().resolve()


def _counts(summary: IssueSummary) -> str:
    parts = [f"{count} {untrusted.line(status)}" for status, count in summary.by_status.items()]
    return plural(summary.total, "issue") + (f" ({', '.join(parts)})" if parts else "")


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(untrusted.line(issue_id) for issue_id in ids)


def render(board: Board) -> list[str]:
    """The board as plain lines (untrusted text escaped)."""
    lines: list[str] = []
    width = max((len(card.file) for card in board.cards), default=4)
    for card in board.cards:
        head = (f"{untrusted.line(card.file):<{width}}  criteria {card.criteria_done}/"
                f"{card.criteria_total}")
        if card.epic:
            head += f"  epic {untrusted.line(card.epic)}"
        if card.state:
            head += f"  [{card.state}]"
        if card.issues.total:
            head += f"  {_counts(card.issues)}"
        lines.append(head)
        if card.title:
            lines.append(f"    {untrusted.line(card.title)}")
        if card.issues.ready:
            lines.append("    ready: " + _ids(card.issues.ready))
        for item in card.issues.clarify:
            lines.append(f"    clarify {untrusted.line(item.id)}: "
                         f"{untrusted.line(item.question or item.title)}")
        if card.issues.awaiting_review:
            lines.append(f"    awaiting review: {card.issues.awaiting_review} (ralph review "
                         f"{untrusted.line(card.name)})")
        for problem in card.problems:
            lines.append(f"    ! {untrusted.line(problem)}")
    issues = board.issues
    lines.append("")
    lines.append(f"All: {_counts(issues)}")
    lines.append("Ready: " + (_ids(issues.ready) if issues.ready else "none"))
    if issues.awaiting_review:
        lines.append(f"Awaiting review: {issues.awaiting_review}")
    for item in issues.clarify:
        lines.append(f"Clarify {untrusted.line(item.id)}: "
                     f"{untrusted.line(item.question or item.title)}")
    for stuck in issues.blocked[:20]:
        lines.append(f"Blocked {untrusted.line(stuck.id)}: by " + ", ".join(
            f"{untrusted.line(blocker.id)} ({blocker.kind}, {untrusted.line(blocker.status)})"
            for blocker in stuck.blockers))
    if len(issues.blocked) > 20:
        lines.append(f"... and {len(issues.blocked) - 20} more blocked")
    for problem in board.problems:
        lines.append(f"! {untrusted.line(problem)}")
    return lines


@click.command()
@click.argument("directory", metavar="[DIR]", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the board model as JSON.")
def board(directory: Path | None, as_json: bool) -> None:
    """Show every spec with its criteria progress and issues."""
    loaded = run_async(load_board(resolve_workspace(directory)))
    if as_json:
        echo_json(loaded.to_json())
    else:
        click.echo("\n".join(render(loaded)))
