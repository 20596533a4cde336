"""``ralph status``: label, spec, counts and progress, the next task, review and clarify
waits, running and interrupted steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from wrapix_core import untrusted
from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.cli.ralph.output import dir_option, paths_for, say
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.state import known_labels, resolve_label


def status_lines(status: Any) -> list[str]:
    lines = [f"Ralph: {status.label}{' (current)' if status.current else ''}"]
    spec = status.spec + (f" — {untrusted.line(status.spec_title)}" if status.spec_title else "")
    if status.spec_state:
        spec += f" [{status.spec_state}]"
    if status.spec_exists:
        spec += f"  criteria {status.criteria[0]}/{status.criteria[1]}"
    else:
        spec += "  (not written yet: `ralph plan`)"
    lines.append(f"  spec:     {spec}")
    if status.epic:
        lines.append(f"  epic:     {status.epic} ({status.epic_status})")
    counts = ", ".join(f"{count} {untrusted.line(name)}"
                       for name, count in status.by_status.items())
    lines.append(f"  issues:   {status.total}" + (f" — {counts}" if counts else "")
                 + f"  ({status.percent}% done)")
    if status.next is not None:
        lines.append(f"  next:     {status.next.id} [P{status.next.priority}] "
                     f"{untrusted.line(status.next.title)}  ({len(status.ready)} ready)")
    else:
        lines.append("  next:     none ready")
    if status.awaiting_review:
        lines.append(f"  review:   {status.awaiting_review} await"
                     f"{'s' if status.awaiting_review == 1 else ''} review: "
                     f"ralph review {status.label}")
    for issue_id, question in status.clarify:
        lines.append(f"  clarify:  {issue_id}: {untrusted.line(question)[:160]}  (ralph msg)")
    if status.blocked:
        lines.append(f"  blocked:  {status.blocked}")
    for run in status.running:
        if run.alive:
            where = f", sandbox {run.sandbox}" if run.sandbox else ""
            lines.append(f"  running:  {run.issue} since {run.started_at} (pid {run.pid} on "
                         f"{untrusted.line(run.host)}{where}); log {run.log}")
        else:
            lines.append(f"  interrupted: {run.issue} — its step (pid {run.pid}, started "
                         f"{run.started_at}) ended without finishing; the next `ralph step` "
                         f"reopens it. Log {run.log}")
    if status.agent_error:
        at, said, log = status.agent_error
        lines.append(f"  agent:    {untrusted.line(said)[:300]} ({at})"
                     + (f"; log {log}" if log else ""))
    if status.iterations:
        lines.append("  sessions: " + ", ".join(f"{phase} {count}" for phase, count
                                                in status.iterations.items()))
    if status.last_log:
        lines.append(f"  last log: {status.last_log}")
    return lines


@click.command()
@click.argument("label", required=False)
@click.option("--all", "every", is_flag=True, help="Every started label.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@dir_option
def status(label: str | None, every: bool, as_json: bool, directory: Path | None) -> None:
    """Label, spec, counts and progress, the next task, review and clarify waits, running
    and interrupted steps."""
    from wrapix_core.ralph.status import label_status
    from wrapix_core.tasks.store import open_store

    paths = paths_for(directory)
    if not paths.exists:
        raise RalphError(f"Ralph has not been started in {paths.workspace}",
                         "run `ralph start LABEL` first")
    labels = known_labels(paths) if every else [resolve_label(paths, label)]
    store = open_store(paths.workspace)

    async def gather() -> list[Any]:
        return [await label_status(paths, store, name) for name in labels]

    found = run_async(gather())
    if as_json:
        echo_json([item.to_json() for item in found] if every else found[0].to_json())
        return
    for number, item in enumerate(found):
        if number:
            say("")
        for line in status_lines(item):
            say(line)
