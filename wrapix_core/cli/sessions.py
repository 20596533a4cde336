"""`wrapix sessions|diff|merge|discard|say`, and how `wrapix run` picks a session.

Each agent sandbox on a git repository runs on a session of its own by default
(:mod:`wrapix_core.sessions`); `--direct` (or ``session.direct``) mounts the checkout as
before. Every command takes the project as ``--project DIR`` (default: here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.errors import WrapixError
from wrapix_core.sessions.opening import drop_new, open_session
from wrapix_core.settings import Settings

__all__ = ["drop_new", "open_session"]  # `wrapix run` and the TUI's modal use them here

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wrapix_core.sessions.model import Session, SessionStats

PROG = "wrapix"


def wants_session(directory: Path, *, name: str | None, from_ref: str | None, direct: bool,
                  command: tuple[str, ...], settings: Settings) -> bool:
    """Whether `wrapix run` runs on a session: asked for (``--session``, ``--from``), or
    by default for the agent (no command) in a git repository, unless direct."""
    if direct and (name or from_ref):
        raise WrapixError("--direct runs in your checkout, --session/--from in a session",
                          "pass one or the other")
    if name or from_ref:
        return True
    if direct or settings.session.direct or command:
        return False
    from wrapix_core.sessions import store

    return store.can_branch(directory)


def exists(directory: Path, name: str | None) -> bool:
    """Whether session ``name`` of the repository holding ``directory`` exists."""
    from wrapix_core.sessions import store

    if name is None:
        return False
    return store.record_file(store.project_root(directory), name).exists()


def _project(directory: Path | None) -> Path:
    from wrapix_core.sessions import store

    return store.project_root(directory or Path.cwd())


def _get(project_dir: Path | None, name: str, *, synced: bool = False) -> Session:
    """Session ``name``; ``synced``: a session on a host with its work fetched first."""
    from wrapix_core.sessions import store

    session = store.get_session(_project(project_dir), name)
    return _synced(session) if synced else session


def _synced(session: Session) -> Session:
    """``session`` with the work on its host fetched into its copy here (as it is, for a
    session on this machine)."""
    if session.host is None:
        return session
    from wrapix_core.hosts.remote_session import sync
    from wrapix_core.settings import load_settings

    return run_async(sync(load_settings(session.project), session))


project_option = click.option("--project", "project_dir", type=click.Path(path_type=Path),
                              help="The project's checkout (default: this directory).")


def _figures(stats: SessionStats) -> str:
    if stats.head is None:
        return "branch gone"
    text = f"+{stats.ahead}" + (f" -{stats.behind}" if stats.behind else "")
    return text


def _merges(stats: SessionStats) -> str:
    if stats.merged:
        return "merged"
    if stats.merges_cleanly is None:
        return "-"
    return "clean" if stats.merges_cleanly else f"conflicts ({len(stats.conflicts)})"


def _sandbox_states(project: Path, hosts: set[str | None]) -> dict[str, str]:
    """Sandbox name -> state for the project's session sandboxes, on this machine and
    on the ``hosts`` its sessions run on ({} where Podman cannot be asked)."""
    from wrapix_core.hosts.fleet import runtime_for
    from wrapix_core.sandbox import naming
    from wrapix_core.settings import load_settings

    settings = load_settings(project)
    states: dict[str, str] = {}
    for host in sorted(hosts, key=lambda name: name or ""):
        try:
            found = run_async(runtime_for(settings, host).containers(all=True))
        except (WrapixError, OSError):
            continue
        states.update({item.name: item.state if host is None else f"{item.state} on {host}"
                       for item in found
                       if item.labels.get(naming.LABEL_PROJECT) == str(project)})
    return states


@click.command()
@project_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sessions(project_dir: Path | None, as_json: bool) -> None:
    """List the project's sessions with their branch's figures.

    COMMITS: ahead of the base (-behind); FILES and +/- lines: committed work; UNCOMMITTED:
    files changed but not committed in the session; MERGE: whether it merges into its base
    cleanly now."""
    from wrapix_core.sessions import store
    from wrapix_core.sessions.stats import session_stats

    project = _project(project_dir)
    found = []
    for session in store.list_sessions(project):
        try:
            session = _synced(session)
        except WrapixError as error:  # its figures are then those of the last fetch
            click.echo(f"{PROG}: {session.name}: {error}", err=True)
        found.append((session, session_stats(session)))
    states = _sandbox_states(project, {session.host for session, _ in found}) if found else {}
    if as_json:
        echo_json([{**session.to_json(), "stats": stats.to_json(),
                    "sandbox": states.get(session.container)} for session, stats in found])
        return
    if not found:
        click.echo(f"no sessions for {project} (start one with `wrapix run --session NAME`)")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for column in ("NAME", "BRANCH", "BASE", "COMMITS", "FILES", "LINES", "UNCOMMITTED",
                   "MERGE", "SANDBOX"):
        table.add_column(column)
    for session, stats in found:
        lines = f"+{stats.added} -{stats.removed}"
        dirty = (f"{len(stats.uncommitted)} (+{stats.uncommitted_added} "
                 f"-{stats.uncommitted_removed})" if stats.uncommitted else "-")
        table.add_row(*(Text(value) for value in (
            session.name, session.branch, session.base_ref or session.base_commit[:12],
            _figures(stats), str(stats.files), lines, dirty, _merges(stats),
            states.get(session.container) or "-")))
    Console().print(table)
    for session, stats in found:
        for problem in stats.problems:
            click.echo(f"{PROG}: {session.name}: {problem}", err=True)


@click.command()
@click.argument("name")
@project_option
@click.option("--stat", is_flag=True, help="Files and +/- counts only.")
def diff(name: str, project_dir: Path | None, stat: bool) -> None:
    """Show what session NAME changed: committed on its branch (base...branch), then
    uncommitted and untracked work, each under its own title."""
    from wrapix_core.gitdiff import render
    from wrapix_core.sessions.diff import load

    session = _get(project_dir, name, synced=True)
    found = run_async(load(session))
    for line in (render.stat_lines(found) if stat else render.patch_lines(found)):
        click.echo(line)


@click.command()
@click.argument("name")
@project_option
@click.option("--squash", "strategy", flag_value="squash", help="One commit on the base.")
@click.option("--rebase", "strategy", flag_value="rebase",
              help="The session's commits replayed on the base (linear history).")
@click.option("--ff-only", "strategy", flag_value="ff-only",
              help="Only when the base has not moved on.")
@click.option("--message", "-m", help="Message of the merge or squashed commit.")
def merge(name: str, project_dir: Path | None, strategy: str | None,
          message: str | None) -> None:
    """Land session NAME's branch on its base branch in your checkout (a merge commit, or
    a fast-forward when the base has not moved on).

    Refused, with nothing changed, when the session has uncommitted work, when it
    conflicts with the base, or when your checkout has uncommitted changes in files the
    merge changes: the message lists the files and says what to do."""
    from wrapix_core.sessions.merge import merge_session
    from wrapix_core.sessions.model import MergeRefused

    session = _get(project_dir, name, synced=True)
    try:
        result = merge_session(session, strategy or "merge", message=message)  # type: ignore[arg-type]
    except MergeRefused as refused:
        click.echo(f"{PROG}: merge refused: {refused.message}", err=True)
        for path in refused.files[:200]:
            click.echo(f"  {click.style(path, bold=True)}", err=True)
        if refused.hint:
            click.echo(f"{PROG}: {refused.hint}", err=True)
        sys.exit(refused.exit_code)
    if result.commits == 0:
        click.echo(f"nothing to merge: {result.base_ref} already has session {name}'s work")
        return
    where = " (your checkout was updated)" if result.checkout_updated else ""
    click.echo(f"merged session {name} into {result.base_ref} ({result.strategy}, "
               f"{result.commits} commit(s)): {result.old[:12]} -> {result.new[:12]}{where}")


@click.command()
@click.argument("name")
@project_option
@click.option("--force", is_flag=True, help="Also when its work is not merged.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
def discard(name: str, project_dir: Path | None, force: bool, yes: bool) -> None:
    """Stop session NAME's sandbox and remove its workspace and branch."""
    from wrapix_core.sessions.discard import discard_session, unlanded

    session = _get(project_dir, name)
    try:
        session = _synced(session)
    except WrapixError as error:
        if not force:
            raise WrapixError(f"session {name}'s work on host {session.host} cannot be "
                              f"fetched: {error}", "pass --force to discard it unseen") \
                from None
    lost = unlanded(session)
    if lost and not force:
        raise WrapixError(f"session {name} has work that is not merged: {'; '.join(lost)}",
                          f"merge it (`wrapix merge {name}`), or pass --force to throw it "
                          "away")
    if not yes:
        what = f" and LOSE {'; '.join(lost)}" if lost else ""
        if not click.confirm(f"discard session {name} ({session.path}){what}?",
                             default=False):
            click.echo("nothing was discarded")
            sys.exit(1)
    if session.host is not None:
        from wrapix_core.hosts.remote_session import discard_on_host
        from wrapix_core.settings import load_settings

        run_async(discard_on_host(load_settings(session.project), session))
    discard_session(session, force=force, podman="podman" if session.host is None else "true")
    click.echo(f"discarded session {name}")



@click.command()
@click.argument("name")
@click.argument("text", nargs=-1, required=True)
@project_option
def say(name: str, text: tuple[str, ...], project_dir: Path | None) -> None:
    """Type TEXT into session NAME's running agent as its next instruction."""
    from wrapix_core.sessions.instruct import send_instruction

    session = _get(project_dir, name)
    options: list[str] = []
    if session.host is not None:
        from wrapix_core.hosts.target import host
        from wrapix_core.settings import load_settings

        options = host(load_settings(session.project), session.host).podman_args()
    sent = send_instruction(session.container, " ".join(text), options=options)
    click.echo(f"sent to {session.container}: {len(sent)} characters")
