"""``wrapix tasks``: the built-in issue store's command line, with bd's verbs and flags.

An agent told "use ``wrapix tasks`` like ``bd``" needs nothing else: ``create``, ``list``,
``ready``, ``show``, ``update``, ``close``, ``dep add``, ``label add|remove`` take bd's
flags (``--title=…`` and a positional title both work) and ``--json`` prints bd's shapes.
The workspace is the nearest directory at or above the current one (or ``--dir``) that
holds ``.beads/``; ``create`` and ``init`` make one in the current directory when there is
none. When ``bd`` runs the workspace, the same commands go through it.

Exit codes: 0 done; 1 the store failed or an issue was not found; 2 bad input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from wrapix_core.cli.base import CliGroup, echo_json, run_async, warn
from wrapix_core.errors import WrapixError
from wrapix_core.tasks import bd_json, display
from wrapix_core.tasks.model import Issue
from wrapix_core.tasks.readiness import Readiness, compute_readiness
from wrapix_core.tasks.store import IssueUpdate, NewIssue, TaskStore, open_store
from wrapix_core.tasks.workspace import BEADS_DIR, find_workspace, init_workspace


@dataclass
class _Options:
    start: Path


def _options(ctx: click.Context) -> _Options:
    found = ctx.find_object(_Options)
    return found if found is not None else _Options(Path.cwd())


def _store(ctx: click.Context, *, create: bool = False) -> TaskStore:
    options = _options(ctx)
    workspace = find_workspace(options.start)
    if workspace is None:
        if not create:
            raise WrapixError(f"no {BEADS_DIR}/ in {options.start} or any directory above it",
                              "`wrapix tasks init` creates one here (so does the first "
                              "`wrapix tasks create`)")
        workspace = options.start.resolve()
        init_workspace(workspace)
    return open_store(workspace)


class _Priority(click.ParamType[int, Any]):
    name = "priority"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip().upper().removeprefix("P")
        if text.isdigit() and 0 <= int(text) <= 4:
            return int(text)
        self.fail(f"{value!r} is not a priority 0-4 (or P0-P4)", param, ctx)


PRIORITY = _Priority()


def _split(values: Iterable[str]) -> tuple[str, ...]:
    """``--labels a,b --labels c`` and ``-l a`` → ("a", "b", "c")."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _deps(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """bd's ``--deps``: ``id`` (blocks) or ``type:id``, comma-separated."""
    found: list[tuple[str, str]] = []
    for item in _split(values):
        kind, _, target = item.rpartition(":")
        found.append((kind or "blocks", target))
    return tuple(found)


def _line(issue: Issue, readiness: Readiness | None = None) -> str:
    text = (f"{display.line(issue.id)}  [P{issue.priority}] [{display.line(issue.issue_type)}] "
            f"{display.line(issue.status)}  {display.line(issue.title)}")
    if issue.labels:
        text += "  [" + ", ".join(display.line(label) for label in issue.labels) + "]"
    if readiness is not None:
        blockers = readiness.blockers(issue.id)
        if blockers:
            text += "  (blocked by: " + ", ".join(display.line(blocker.id)
                                                   for blocker in blockers) + ")"
    return text


def _listed(ctx: click.Context) -> list[Issue]:
    """Every issue, with a warning on stderr for each line of the store that is not one
    (an issue that cannot be read must not vanish silently)."""
    issues, problems = run_async(_store(ctx).list_with_problems())
    for problem in problems:
        warn("wrapix tasks", display.line(problem))
    return issues


def _list_json(issues: Sequence[Issue], everything: Sequence[Issue]) -> list[dict[str, Any]]:
    dependents = bd_json.reverse_dependencies(everything)
    return [bd_json.list_entry(issue, len(dependents.get(issue.id, ()))) for issue in issues]


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace (default: the nearest directory holding .beads/).")
@click.pass_context
def tasks(ctx: click.Context, directory: Path | None) -> None:
    """Track issues in .beads/issues.jsonl with bd's commands (bd's --json shapes too)."""
    ctx.obj = _Options(directory or Path.cwd())


@tasks.command()
@click.option("--prefix", help="Id prefix (default: the directory name).")
@click.pass_context
def init(ctx: click.Context, prefix: str | None) -> None:
    """Create .beads/ with config.yaml here (never overwrites)."""
    directory = init_workspace(_options(ctx).start.resolve(), prefix)
    click.echo(f"Initialized {display.line(str(directory))}")


@tasks.command()
@click.argument("title_arg", metavar="[TITLE]", required=False)
@click.option("--title", help="Title (or give it as the argument).")
@click.option("-t", "--type", "issue_type", default="task", show_default=True,
              help="task, bug, feature, epic, chore, docs, ...")
@click.option("-p", "--priority", type=PRIORITY, default=2, show_default=True,
              help="0 (critical) to 4 (backlog).")
@click.option("-d", "--description", default="")
@click.option("--design", default="")
@click.option("--acceptance", default="", help="Acceptance criteria.")
@click.option("--notes", default="")
@click.option("--assignee", default="")
@click.option("-l", "--labels", "labels", multiple=True, help="Comma-separated labels.")
@click.option("--deps", multiple=True, help="'id' or 'type:id', comma-separated.")
@click.option("--parent", help="Make it a child of this issue (id becomes PARENT.N).")
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON.")
@click.pass_context
def create(ctx: click.Context, title_arg: str | None, title: str | None, issue_type: str,
           priority: int, description: str, design: str, acceptance: str, notes: str,
           assignee: str, labels: tuple[str, ...], deps: tuple[str, ...], parent: str | None,
           as_json: bool) -> None:
    """Create an issue."""
    if title_arg and title and title_arg != title:
        raise WrapixError("two titles given", "give the title once (argument or --title)")
    new = NewIssue(title=title or title_arg or "", issue_type=issue_type, priority=priority,
                   description=description, labels=_split(labels), deps=_deps(deps),
                   parent=parent, design=design, acceptance_criteria=acceptance, notes=notes,
                   assignee=assignee)
    issue = run_async(_store(ctx, create=True).create(new))
    if as_json:
        echo_json(issue.data)
    else:
        click.echo(f"Created issue: {display.line(issue.id)}")


@tasks.command(name="list")
@click.option("-s", "--status", help="Only this status (closed ones included if asked).")
@click.option("-l", "--label", "labels", multiple=True, help="Only issues with all these labels.")
@click.option("-t", "--type", "issue_type", help="Only this issue type.")
@click.option("--ready", is_flag=True, help="Only ready issues (the readiness rule), in order.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Include closed issues.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, status: str | None, labels: tuple[str, ...],
          issue_type: str | None, ready: bool, show_all: bool, as_json: bool) -> None:
    """List issues (open ones unless --all or --status)."""
    everything = _listed(ctx)
    readiness = compute_readiness(everything)
    wanted = _split(labels)
    chosen = readiness.ready_issues() if ready else everything
    chosen = [issue for issue in chosen
              if (status is None or issue.status == status)
              and (ready or show_all or status is not None or not issue.is_closed)
              and (issue_type is None or issue.issue_type == issue_type)
              and all(label in issue.labels for label in wanted)]
    if as_json:
        echo_json(_list_json(chosen, everything))
        return
    for issue in chosen:
        click.echo(_line(issue, readiness))


@tasks.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ready(ctx: click.Context, as_json: bool) -> None:
    """Issues ready to work on, in the order Ralph takes them."""
    everything = _listed(ctx)
    chosen = compute_readiness(everything).ready_issues()
    if as_json:
        echo_json(_list_json(chosen, everything))
        return
    if not chosen:
        click.echo("No ready work.")
    for issue in chosen:
        click.echo(_line(issue))


def _show_text(issue: Issue, readiness: Readiness) -> list[str]:
    lines = [f"{display.line(issue.id)}: {display.line(issue.title)}",
             f"Status: {display.line(issue.status)}"
             + ("  (ready)" if readiness.is_ready(issue.id) else ""),
             f"Priority: P{issue.priority}", f"Type: {display.line(issue.issue_type)}"]
    for label, value in (("Assignee", issue.assignee), ("Created", issue.created_at),
                         ("Updated", issue.updated_at), ("Closed", issue.closed_at),
                         ("Close reason", issue.close_reason)):
        if value:
            lines.append(f"{label}: {display.line(value)}")
    if issue.labels:
        lines.append("Labels: " + ", ".join(display.line(label) for label in issue.labels))
    for dep in issue.dependencies:
        target = readiness.by_id.get(dep.depends_on_id)
        state = target.status if target is not None else "missing"
        lines.append(f"Depends on ({display.line(dep.type)}): {display.line(dep.depends_on_id)}"
                     f" [{display.line(state)}]")
    for blocker in readiness.blockers(issue.id):
        lines.append(f"Blocked by {blocker.kind} {display.line(blocker.id)} "
                     f"[{display.line(blocker.status)}]")
    for heading, text in (("Description", issue.description), ("Design", issue.design),
                          ("Acceptance criteria", issue.acceptance_criteria),
                          ("Notes", issue.notes)):
        if text:
            lines += ["", f"{heading}:", display.block(text)]
    return lines


@tasks.command()
@click.argument("issue_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, issue_ids: tuple[str, ...], as_json: bool) -> None:
    """Show issues with their dependencies."""
    store = _store(ctx)
    everything = run_async(store.list_issues())
    readiness = compute_readiness(everything)
    chosen = []
    for issue_id in issue_ids:
        issue = readiness.by_id.get(issue_id)
        if issue is None:
            issue = run_async(store.show(issue_id))  # raises IssueNotFound
        chosen.append(issue)
    if as_json:
        dependents = bd_json.reverse_dependencies(everything)
        echo_json([bd_json.show_entry(issue, readiness.by_id, dependents.get(issue.id, ()))
                   for issue in chosen])
        return
    for number, issue in enumerate(chosen):
        if number:
            click.echo("")
        click.echo("\n".join(_show_text(issue, readiness)))


@tasks.command()
@click.argument("issue_id", metavar="ID")
@click.option("-s", "--status", help="open, in_progress, blocked, deferred, closed, ...")
@click.option("-p", "--priority", type=PRIORITY)
@click.option("--title")
@click.option("-d", "--description")
@click.option("--notes", help="Replace the notes.")
@click.option("--append-notes", help="Add a paragraph to the notes.")
@click.option("--assignee")
@click.option("--add-label", "add_labels", multiple=True)
@click.option("--remove-label", "remove_labels", multiple=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def update(ctx: click.Context, issue_id: str, status: str | None, priority: int | None,
           title: str | None, description: str | None, notes: str | None,
           append_notes: str | None, assignee: str | None, add_labels: tuple[str, ...],
           remove_labels: tuple[str, ...], as_json: bool) -> None:
    """Change an issue."""
    change = IssueUpdate(status=status, priority=priority, title=title,
                         description=description, notes=notes, append_notes=append_notes,
                         assignee=assignee, add_labels=_split(add_labels),
                         remove_labels=_split(remove_labels))
    if change.is_empty():
        raise WrapixError("nothing to update", "give --status, --notes, --priority, ...")
    issue = run_async(_store(ctx).update(issue_id, change))
    if as_json:
        echo_json([issue.data])
    else:
        click.echo(f"Updated issue: {display.line(issue.id)}")


@tasks.command()
@click.argument("issue_ids", metavar="ID...", nargs=-1, required=True)
@click.option("-r", "--reason", help="Why (default: Closed).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def close(ctx: click.Context, issue_ids: tuple[str, ...], reason: str | None,
          as_json: bool) -> None:
    """Close issues."""
    store = _store(ctx)
    closed = []
    for issue_id in issue_ids:
        issue = run_async(store.close(issue_id, reason))
        closed.append(issue)
        if not as_json:  # as it happens: a later id that fails must not hide this one
            click.echo(f"Closed {display.line(issue.id)}: {display.line(issue.close_reason)}")
    if as_json:
        echo_json([issue.data for issue in closed])


@tasks.group(cls=CliGroup)
def dep() -> None:
    """Dependencies between issues."""


@dep.command(name="add")
@click.argument("issue_id", metavar="ID")
@click.argument("depends_on", metavar="DEPENDS_ON")
@click.option("-t", "--type", "dep_type", default="blocks", show_default=True,
              help="blocks, parent-child, related, discovered-from, ...")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def dep_add(ctx: click.Context, issue_id: str, depends_on: str, dep_type: str,
            as_json: bool) -> None:
    """Make ID depend on DEPENDS_ON."""
    run_async(_store(ctx).add_dependency(issue_id, depends_on, dep_type))
    if as_json:
        echo_json(bd_json.dep_added(issue_id, depends_on, dep_type))
    else:
        click.echo(f"Added dependency: {display.line(issue_id)} depends on "
                   f"{display.line(depends_on)} ({display.line(dep_type)})")


@tasks.group(cls=CliGroup)
def label() -> None:
    """Labels on issues."""


def _label(ctx: click.Context, action: str, issue_id: str, name: str, as_json: bool) -> None:
    change = IssueUpdate(add_labels=(name,)) if action == "added" else \
        IssueUpdate(remove_labels=(name,))
    run_async(_store(ctx).update(issue_id, change))
    if as_json:
        echo_json([bd_json.label_changed(action, issue_id, name)])
    else:
        click.echo(f"{action.capitalize()} label '{display.line(name)}' "
                   f"{'to' if action == 'added' else 'from'} {display.line(issue_id)}")


@label.command(name="add")
@click.argument("issue_id", metavar="ID")
@click.argument("name", metavar="LABEL")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def label_add(ctx: click.Context, issue_id: str, name: str, as_json: bool) -> None:
    """Add LABEL to ID."""
    _label(ctx, "added", issue_id, name, as_json)


@label.command(name="remove")
@click.argument("issue_id", metavar="ID")
@click.argument("name", metavar="LABEL")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def label_remove(ctx: click.Context, issue_id: str, name: str, as_json: bool) -> None:
    """Remove LABEL from ID."""
    _label(ctx, "removed", issue_id, name, as_json)
