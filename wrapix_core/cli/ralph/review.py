"""``ralph review``: the review session over the issues ``ralph ready`` proposed, in
dependency order: approve, edit (in ``$EDITOR``), reject (asking first when others depend
on it), approve all remaining, or quit (the rest stay proposed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from wrapix_core import untrusted
from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.cli.ralph.output import dir_option, paths_for, say
from wrapix_core.cli.ralph.prompts import ask, edit_problems, edit_text
from wrapix_core.ralph import clarify
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.state import RalphPaths, resolve_label

_REVIEW_ANSWERS = {"y": "approve", "yes": "approve", "e": "edit", "edit": "edit",
                   "r": "reject", "reject": "reject", "a": "all", "all": "all",
                   "q": "quit", "quit": "quit"}


def _review_lines(item: Any, number: int, total: int) -> list[str]:
    issue = item.issue
    lines = [f"[{number}/{total}] {issue.id} [P{issue.priority}] {untrusted.line(issue.title)}"]
    for dep in item.depends_on:
        lines.append(f"  depends on {dep.id} ({untrusted.line(dep.status)}) "
                     f"{untrusted.line(dep.title)}")
    if item.needed_by:
        lines.append(f"  needed by {', '.join(item.needed_by)}")
    if item.flagged:
        lines.append(f"  ! flagged: {untrusted.line(clarify.latest_paragraph(issue.notes))}")
    for line in (issue.description.strip() or "(no description)").splitlines()[:20]:
        lines.append(f"  {untrusted.line(line)}")
    return lines


async def _review_session(paths: RalphPaths, label: str) -> int:
    from wrapix_core.ralph import review as core
    from wrapix_core.ralph.state import read_label_state
    from wrapix_core.tasks.store import open_store

    store = open_store(paths.workspace)
    epic = read_label_state(paths, label).epic
    queue = await core.pending(store, label, epic)
    if not queue.items:
        say(f"nothing awaits review for {label}")
        return 100
    counts = {"approved": 0, "edited": 0, "rejected": 0}
    total = len(queue.items)
    for number, item in enumerate(queue.items, start=1):
        current = (await core.pending(store, label, epic)).items
        fresh = next((entry for entry in current if entry.issue.id == item.issue.id), None)
        if fresh is None:  # decided meanwhile (another reviewer, the TUI)
            continue
        while True:
            for line in _review_lines(fresh, number, total):
                say(line)
            choice = await ask("[y] approve, [e]dit, [r]eject, [a]pprove all remaining, "
                               "[q]uit: ", _REVIEW_ANSWERS)
            if choice == "approve":
                await core.approve(store, fresh.issue.id)
                counts["approved"] += 1
                say(f"  approved {fresh.issue.id}")
                break
            if choice == "edit":
                try:
                    edited = edit_text(core.edit_document(fresh.issue), ".md",
                                       edit_problems(core.parse_edit_document))
                except RalphError as exc:
                    say(f"  ✗ {untrusted.line(str(exc))}")
                    edited = None
                if edited is not None:
                    await core.edit(store, fresh.issue.id, core.parse_edit_document(edited))
                    counts["edited"] += 1
                    say(f"  edited {fresh.issue.id}")
                fresh = next(entry for entry in (await core.pending(store, label, epic)).items
                             if entry.issue.id == fresh.issue.id)
                continue
            if choice == "reject":
                if fresh.needed_by:
                    many = len(fresh.needed_by) > 1
                    say(f"  {', '.join(fresh.needed_by)} depend{'' if many else 's'} on "
                        f"{fresh.issue.id}: {'they' if many else 'it'} will be flagged to "
                        "wait for your decision")
                    sure = await ask("  Reject anyway? [y/n]: ",
                                     {"y": "yes", "yes": "yes", "n": "no", "no": "no"})
                    if sure != "yes":
                        continue
                rejected = await core.reject(store, fresh.issue.id)
                counts["rejected"] += 1
                say(f"  rejected {fresh.issue.id}"
                    + (f"; flagged {', '.join(rejected.flagged)}" if rejected.flagged else "")
                    + (f"; closed epic {rejected.epic_closed}" if rejected.epic_closed
                       else ""))
                break
            if choice == "all":
                done = await core.approve_all(store, label, epic=epic)
                counts["approved"] += len(done)
                say(f"  approved {len(done)}: {', '.join(done)}")
                return _review_summary(counts, label, await core.pending(
                    store, label, epic))
            return _review_summary(counts, label,
                                   await core.pending(store, label, epic))
    return _review_summary(counts, label, await core.pending(store, label, epic))


def _review_summary(counts: dict[str, int], label: str, left: Any) -> int:
    say(f"review: {counts['approved']} approved, {counts['edited']} edited, "
        f"{counts['rejected']} rejected, {len(left.items)} still proposed")
    if left.items:
        say(f"next: `ralph review {label}` for the rest, or `ralph loop {label}`")
    else:
        say(f"next: `ralph loop {label}`")
    return 0


@click.command()
@click.argument("label", required=False)
@click.option("--json", "as_json", is_flag=True, help="List what awaits review as JSON.")
@dir_option
def review(label: str | None, as_json: bool, directory: Path | None) -> None:
    """Review the issues `ralph ready` proposed, in dependency order: approve, edit
    (in $EDITOR), reject, approve all remaining, or quit (the rest stay proposed).

    Exit codes: 0 reviewed (or listed), 100 nothing awaits review.
    """
    from wrapix_core.ralph import review as core
    from wrapix_core.ralph.state import read_label_state
    from wrapix_core.tasks.store import open_store

    paths = paths_for(directory)
    name = resolve_label(paths, label)
    if as_json:
        queue = run_async(core.pending(open_store(paths.workspace), name,
                                       read_label_state(paths, name).epic))
        echo_json(queue.to_json())
        return
    sys.exit(run_async(_review_session(paths, name)))
