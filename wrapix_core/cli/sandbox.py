"""`wrapix run|ls|attach|shell|stop|rm|logs`: sandboxes from the command line."""

from __future__ import annotations

import contextlib
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import ValidationError

from wrapix_core.agents.registry import NAMES as AGENT_NAMES
from wrapix_core.agents.registry import AgentName
from wrapix_core.cli.base import echo_json, run_async, warn
from wrapix_core.cli.progress import build_progress
from wrapix_core.egress.policy import Mode
from wrapix_core.errors import WrapixError
from wrapix_core.profiles import Mount
from wrapix_core.sandbox import naming
from wrapix_core.sandbox.launcher import LaunchRequest, prepare, run_detached, run_foreground
from wrapix_core.sandbox.runtime import ContainerInfo, Runtime, get_runtime
from wrapix_core.settings import Settings, load_settings
from wrapix_core.units import age

PROG = "wrapix"
SETUP_FAILED = 3
"""The entrypoint's exit status when a ``[session] setup`` command failed."""


def _parse_env(items: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise WrapixError(f"--env '{item}' is not NAME=VALUE", "write it as NAME=VALUE")
        env[name] = value
    return env


def _parse_mount(item: str) -> Mount:
    parts = item.split(":")
    mode = "ro"
    if len(parts) == 3 and parts[2] in ("ro", "rw"):
        mode = parts[2]
        parts = parts[:2]
    if len(parts) != 2 or not all(parts):
        raise WrapixError(f"--mount '{item}' is not SOURCE:DEST[:ro|rw]",
                          "write it as SOURCE:DEST, SOURCE:DEST:ro or SOURCE:DEST:rw")
    try:
        return Mount(source=parts[0], dest=parts[1], mode="rw" if mode == "rw" else "ro")
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise WrapixError(f"--mount '{item}': {message}") from None


def _settings(workspace: Path | None) -> Settings:
    return load_settings(workspace if workspace and workspace.is_dir() else None)


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--profile", "-p", help="Profile to use (see `wrapix profiles`).")
@click.option("--image", help="Run this image instead of the profile's.")
@click.option("--detach", "-d", is_flag=True, help="Start in the background (attach later).")
@click.option("--dry-run", is_flag=True, help="Print the plan; start nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--env", "-e", "env", multiple=True, metavar="NAME=VALUE",
              help="Extra environment variable (repeatable).")
@click.option("--mount", "-m", "mounts", multiple=True, metavar="SRC:DEST[:ro|rw]",
              help="Extra mount, read-only unless :rw (repeatable).")
@click.option("--name", help="Container name (default: wrapix-<dir>-<hash>).")
@click.option("--allow-host-mount", is_flag=True,
              help="Allow mounts that expose the host wholesale ($HOME, /, ~/.ssh, …).")
@click.option("--network", type=click.Choice(["open", "allowlist", "none"]),
              help="Egress: open, allowlist (only the allowed hosts, through a proxy on "
                   "the host) or none (default: sandbox.network, then the profile's).")
@click.option("--emit", type=click.Choice(["kube"]),
              help="Print the plan as a Kubernetes Pod manifest (YAML; JSON with --json); "
                   "start nothing.")
@click.option("--session", "session_name", metavar="NAME",
              help="Run on session NAME (branch wrapix/NAME in a repository of its own), "
                   "created when new. The agent on a git repository gets a new session by "
                   "default.")
@click.option("--from", "from_ref", metavar="REF",
              help="A new session starts from REF (default: the checkout's HEAD).")
@click.option("--direct", is_flag=True,
              help="Mount this checkout itself instead of a session (see the README).")
@click.option("--agent", "-A", type=click.Choice(list(AGENT_NAMES)),
              help="Agent to run (default: the profile's, then sandbox.agent); the image "
                   "gets it when the profile's has not.")
@click.option("--on", "on", metavar="HOST",
              help="Run on host HOST ([hosts.NAME]) in a session pushed there with git; "
                   "`wrapix diff/merge` fetch its work back.")
def run(directory: Path | None, command: tuple[str, ...], profile: str | None,
        image: str | None, detach: bool, dry_run: bool, as_json: bool, env: tuple[str, ...],
        mounts: tuple[str, ...], name: str | None, allow_host_mount: bool,
        network: Mode | None, session_name: str | None, from_ref: str | None,
        direct: bool, agent: AgentName | None, emit: str | None, on: str | None) -> None:
    """Launch a sandbox for DIRECTORY (default: here).

    In the foreground the agent runs attached to this terminal (detach with the detach
    keys, ctrl-p ctrl-q by default, and it keeps running); with --detach it runs in the
    background for `wrapix attach` or wrapix-tui.
    To run a different command, name the directory first: `wrapix run . -- sh`.
    """
    workspace = directory or Path.cwd()
    settings = _settings(workspace)
    if on is not None and on != "local":
        from wrapix_core.cli.run_on import refuse, run_on

        refuse(direct, dry_run or bool(emit), workspace)
        run_on(on, LaunchRequest(
            workspace=workspace, profile=profile, image=image, detach=detach,
            command=command, env=_parse_env(env),
            mounts=tuple(_parse_mount(item) for item in mounts),
            allow_host_mounts=allow_host_mount, name=name, network=network, agent=agent),
            settings, session_name=session_name, from_ref=from_ref, as_json=as_json)
        return
    from wrapix_core.cli import sessions as session_cli

    session = None
    catalog = None
    created: list[str] = []
    explicit = bool(session_name or from_ref)
    planning = dry_run or bool(emit)  # nothing is started, so no session is made
    if session_cli.wants_session(workspace, name=session_name, from_ref=from_ref,
                                 direct=direct, command=command, settings=settings) and (
            not planning or explicit):
        if planning and not session_cli.exists(workspace, session_name):
            flag = "--dry-run" if dry_run else "--emit"
            raise WrapixError(f"{flag} would have to create the session to plan it",
                              f"{flag} an existing session, or with --direct")
        from wrapix_core.profiles import load_catalog

        opened, session, created = session_cli.open_session(workspace, session_name,
                                                            from_ref, settings)
        catalog = load_catalog(opened.project)  # never the session's own wrapix.toml
        workspace, name = opened.path, name or opened.container
    request = LaunchRequest(
        workspace=workspace, profile=profile, image=image, detach=detach, command=command,
        env=_parse_env(env), mounts=tuple(_parse_mount(item) for item in mounts),
        allow_host_mounts=allow_host_mount, name=name, network=network, session=session,
        agent=agent,
    )
    if planning and session is None and not direct and session_cli.wants_session(
            workspace, name=None, from_ref=None, direct=False, command=command,
            settings=settings):
        warn(PROG, "a launch runs the agent in a new session (see `wrapix sessions`); "
                   "this is the plan of `--direct`, in this checkout")
    if emit:
        from wrapix_core.cli.kube import emit_kube

        emit_kube(request, settings, as_json=as_json, catalog=catalog)
        return
    if dry_run:
        prepared = run_async(prepare(request, settings, check_image=False))
    else:
        try:
            with build_progress("image") as on_build:
                prepared = run_async(prepare(request, settings, on_build=on_build,
                                             catalog=catalog))
        except BaseException:
            if session is not None and created:  # made for this launch, still untouched
                session_cli.drop_new(opened)
            raise
        for note in created if session is not None else ():
            click.echo(f"{PROG}: {note}", err=True)
    if dry_run:
        if as_json:
            echo_json(prepared.plan.to_json())
        else:
            click.echo(shlex.join(prepared.plan.argv))
            click.echo(f"# network: {prepared.plan.network}"
                       + (f" ({', '.join(prepared.plan.allowlist)})"
                          if prepared.plan.network == "allowlist" else ""))
            for action in prepared.plan.staging:
                click.echo(f"# stage: {action.to_json()}")
        for warning in prepared.warnings:
            warn(PROG, warning)
        return
    if session is None:  # a session launch creates or opens the session first: no replay
        from wrapix_core.sandbox.launchrecord import record

        record(sys.argv[1:], prepared, settings, as_json=as_json)
    for note in prepared.notes:
        click.echo(f"{PROG}: {note}", err=True)
    for warning in prepared.warnings:
        warn(PROG, warning)
    if detach:
        container_id = run_async(run_detached(prepared))
        if as_json:
            echo_json({"name": prepared.plan.name, "id": container_id})
        else:
            click.echo(f"{prepared.plan.name} started; attach with `wrapix attach "
                       f"{prepared.plan.name}` (detach keys: {settings.sandbox.detach_keys})")
        return
    code = run_foreground(prepared)
    if session is not None and code == SETUP_FAILED:
        warn(PROG, f"session {session.name}'s setup failed (its output is above); the agent "
                   "was not started")
    from wrapix_core.sandbox import gitguard

    if gitguard.say_after_stop(str(prepared.spec.workspace), PROG):
        sys.exit(gitguard.REDIRECTED)
    sys.exit(code)


def _runtime(workspace: Path | None = None, on: str | None = None
             ) -> tuple[Settings, Runtime]:
    settings = _settings(workspace)
    if on is None:
        return settings, get_runtime(settings.sandbox)
    from wrapix_core.hosts.fleet import runtime_for

    return settings, runtime_for(settings, on)


def _target(name: str | None, on: str | None) -> tuple[Settings, Runtime, str]:
    """The runtime and container for ``NAME``, ``HOST/NAME`` or ``--on HOST NAME``."""
    from wrapix_core.hosts.fleet import split_target

    host, bare = split_target(name, on)
    settings, runtime = _runtime(on=host)
    return settings, runtime, _default_name(bare)


def _default_name(name: str | None) -> str:
    return name or naming.container_name(Path.cwd().resolve())


ON_HELP = "The host it runs on ([hosts.NAME]; default: this machine). NAME may be HOST/NAME."


def _home_short(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home):] if path == home or path.startswith(home + "/") else path


@click.command()
@click.option("--all", "-a", "show_all", is_flag=True, help="Include stopped sandboxes.")
@click.option("--others", is_flag=True, help="Include containers wrapix did not start.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--on", "on", metavar="HOST", help="Only this host's ([hosts.NAME] or local).")
def ls(show_all: bool, others: bool, as_json: bool, on: str | None) -> None:
    """List sandboxes, on this machine and every configured host (a HOST column then);
    a host that cannot be reached within its timeout is named on stderr."""
    settings = _settings(None)
    if not settings.hosts and on is None:
        items = run_async(get_runtime(settings.sandbox).containers(
            all=show_all, sandboxes_only=not others))
    else:
        from wrapix_core.hosts.fleet import list_everywhere

        listing = run_async(list_everywhere(settings, all=show_all, sandboxes_only=not others,
                                            only=on))
        items = listing.containers
        for host, error in listing.errors.items():
            warn(PROG, f"host {host} unreachable: {error} (see `wrapix hosts check {host}`)")
    if as_json:
        echo_json([item.to_json() for item in items])
        return
    if not items:
        click.echo("no sandboxes" + ("" if show_all else " running (see --all)"))
        return
    _table(items, hosts=bool(settings.hosts))


def _table(items: list[ContainerInfo], *, hosts: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from wrapix_core.untrusted import line

    table = Table(box=None, header_style="bold")
    for column in ("NAME", *(["HOST"] if hosts else []), "PROFILE", "STATE", "UPTIME",
                   "WORKSPACE"):
        table.add_column(column)
    now = datetime.now(UTC)
    for item in items:  # labels are anyone's text (--others), paths any directory's name
        table.add_row(*(Text(line(value)) for value in (
            item.name, *([item.host] if hosts else []), item.profile or "-", item.state,
            age(item.uptime(now)), _home_short(item.workspace) or "-")))
    Console().print(table)


def _hand_over(runtime: Runtime, name: str, argv: list[str], *, redraw: bool) -> None:
    """Give this terminal to podman (attach, shell), take it back as it was (see
    :func:`wrapix_core.sandbox.tty.hand_over`) and exit with its status."""
    from wrapix_core.sandbox import tty

    sys.stdout.flush()
    sys.stderr.flush()
    try:
        code = tty.hand_over(argv, redraw_after=redraw, running=runtime.running_argv(name))
    except FileNotFoundError:
        raise WrapixError(f"{argv[0]} is not installed", "install Podman") from None
    sys.exit(code)


@click.command()
@click.argument("name", required=False)
@click.option("--on", "on", metavar="HOST", help=ON_HELP)
def attach(name: str | None, on: str | None) -> None:
    """Attach this terminal to sandbox NAME (default: the one for this directory)."""
    settings, runtime, target = _target(name, on)
    info = run_async(runtime.inspect(target))
    if not info.running:
        raise WrapixError(f"sandbox {target} is not running ({info.state})",
                          f"start a new one with `wrapix run --detach {info.workspace or '.'}`")
    click.echo(f"attaching to {target}; detach with {settings.sandbox.detach_keys}", err=True)
    _hand_over(runtime, target, runtime.attach_argv(target, settings.sandbox.detach_keys),
               redraw=True)


@click.command()
@click.argument("name", required=False)
@click.option("--on", "on", metavar="HOST", help=ON_HELP)
def shell(name: str | None, on: str | None) -> None:
    """Open a shell in sandbox NAME (bash when it has one, else sh)."""
    _, runtime, target = _target(name, on)
    info = run_async(runtime.inspect(target))
    if not info.running:
        raise WrapixError(f"sandbox {target} is not running ({info.state})")
    _hand_over(runtime, target, runtime.shell_argv(target), redraw=False)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--time", "-t", "grace", default=10, show_default=True,
              help="Seconds to wait before killing.")
@click.option("--on", "on", metavar="HOST", help=ON_HELP)
def stop(names: tuple[str, ...], grace: int, on: str | None) -> None:
    """Stop sandboxes (default: the one for this directory).

    Then checks each one's workspace for git redirection (see `wrapix audit`): exit
    status 2 when something was planted."""
    from wrapix_core.sandbox import gitguard

    redirected = False
    for given in names or (None,):
        _, runtime, target = _target(given, on)
        info = run_async(runtime.inspect(target))
        run_async(runtime.stop(target, grace))
        if not info.auto_remove:
            click.echo(f"stopped {target}")
        else:
            click.echo(f"stopped {target}; it is gone (started in the foreground, it is "
                       "removed when it stops: nothing to `wrapix rm`)")
        if info.host == "local" and info.workspace and Path(info.workspace).is_dir():
            redirected |= gitguard.say_after_stop(info.workspace, PROG)
    if redirected:
        sys.exit(gitguard.REDIRECTED)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--force", "-f", is_flag=True, help="Remove even when running.")
@click.option("--on", "on", metavar="HOST", help=ON_HELP)
def rm(names: tuple[str, ...], force: bool, on: str | None) -> None:
    """Remove stopped sandboxes (default: the one for this directory)."""
    for given in names or (None,):
        _, runtime, target = _target(given, on)
        run_async(runtime.remove(target, force=force))
        click.echo(f"removed {target}")


@click.command()
@click.argument("name", required=False)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output.")
@click.option("--tail", "-n", type=int, help="Only the last N lines.")
@click.option("--raw", is_flag=True,
              help="Print the output byte for byte, terminal escapes included.")
@click.option("--on", "on", metavar="HOST", help=ON_HELP)
def logs(name: str | None, follow: bool, tail: int | None, raw: bool, on: str | None) -> None:
    """Print sandbox NAME's output.

    It is what the agent wrote to its terminal: escape sequences are dropped (an agent
    could otherwise set your window title, or your clipboard) and other control
    characters shown as escapes, unless --raw. With --tail, the last N lines of what it
    drew (its screen as a terminal shows it, full-screen agents included).
    """
    from wrapix_core.untrusted import output_lines

    _, runtime, target = _target(name, on)

    async def show() -> None:
        if tail is not None and not raw:
            # What it drew: a full-screen agent writes almost no newlines to count.
            from wrapix_core.sandbox.screen import drawn_tail

            for shown in await drawn_tail(runtime, target, tail):
                click.echo(shown)
            if not follow:
                return
            tail_now: int | None = 0
        else:
            tail_now = tail
        async with contextlib.aclosing(runtime.logs(target, follow=follow, tail=tail_now)
                                       ) as lines:
            async for line in lines:
                if raw:
                    click.echo(line)
                    continue
                for shown in output_lines(line):
                    click.echo(shown)

    with contextlib.suppress(KeyboardInterrupt):
        run_async(show())
