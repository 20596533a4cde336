"""`wrapix-builder`: the Linux builder container (docs/architecture.md, Packages).

``start``, ``stop`` and ``status`` call :mod:`wrapix_core.builder.lifecycle` (the TUI
calls the same functions); ``ssh`` hands this terminal to ``ssh``; ``setup`` prints
every privileged change and asks first; ``config`` prints Nix configuration. Progress
goes to stderr, results to stdout. Exit codes: 0 done; 1 an operation failed; 2 bad
input or a missing prerequisite (nothing was created); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from typing import Any

import click

from wrapix_core import units, untrusted
from wrapix_core.builder.events import BuilderEvent
from wrapix_core.builder.status import BuilderStatus
from wrapix_core.cli.base import CliGroup, echo_json, run_async
from wrapix_core.errors import WrapixError
from wrapix_core.image.progress import ProgressCallback

PROG = "wrapix-builder"


def _load() -> tuple[Any, Any]:
    from wrapix_core.sandbox.runtime import get_runtime
    from wrapix_core.settings import load_settings

    settings = load_settings(None)
    return settings, get_runtime(settings.sandbox)


class _Progress:
    """Renders builder events on stderr: the image build with the image builder's
    progress display, the store copy as a bar (or a few lines in a pipe), the rest as
    one line each."""

    def __init__(self) -> None:
        self._build: AbstractContextManager[ProgressCallback] | None = None
        self._build_callback: ProgressCallback | None = None
        self._bar: Any = None
        self._task: Any = None
        self._last_tenth = -1

    def __call__(self, event: BuilderEvent) -> None:
        if event.build is not None:
            if self._build_callback is None:
                from wrapix_core.cli.progress import build_progress

                self._build = build_progress("building the builder image")
                self._build_callback = self._build.__enter__()
            self._build_callback(event.build)
            return
        self._end_build()
        if event.phase == "store" and event.total and event.done is not None:
            self._store(event.done, event.total, event.line)
            return
        self._end_bar()
        click.echo(f"{PROG}: {event.line}", err=True)

    def _store(self, done: int, total: int, line: str) -> None:
        if not sys.stderr.isatty():
            tenth = done * 10 // total
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                click.echo(f"{PROG}: {line} ({done * 100 // total}%)", err=True)
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("copying the Nix store"), BarColumn(),
                                 MofNCompleteColumn(), console=Console(stderr=True),
                                 transient=True)
            self._task = self._bar.add_task("store", total=total)
            self._bar.start()
        self._bar.update(self._task, completed=done, total=total)

    def _end_build(self) -> None:
        if self._build is not None:
            self._build.__exit__(None, None, None)
            self._build = None

    def _end_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def close(self) -> None:
        self._end_build()
        self._end_bar()


def _print_status(status: BuilderStatus) -> None:
    style = {"running": "green", "stopped": "red"}.get(status.state)
    click.echo("state  " + click.style(status.state, fg=style, bold=True)
               + f"   ({status.name} on 127.0.0.1:{status.port})")
    click.echo(f"ssh    {status.ssh}")
    click.echo(f"keys   {status.keys}")
    click.echo(f"store  {status.store} ({units.size(status.store_bytes)})")
    if status.image:
        click.echo(f"image  {status.image}")
    if status.error:  # may quote the runtime's own output
        click.echo(click.style(f"error  {untrusted.line(status.error)}", fg="red"))


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
def builder() -> None:
    """The Linux builder: a container running sshd and the Nix daemon, reachable as
    ssh-ng://builder@127.0.0.1 on the builder port (default 2222), for remote Nix builds.
    """


@builder.command()
@click.option("--base", help="Base image for building the builder image (default: image.base).")
@click.option("--json", "as_json", is_flag=True, help="Print the resulting status as JSON.")
def start(base: str | None, as_json: bool) -> None:
    """Start the builder (nothing to do when it runs; a stopped one is recreated)."""
    from wrapix_core.builder import lifecycle

    settings, runtime = _load()
    progress = _Progress()
    try:
        status = run_async(lifecycle.start(runtime, settings, base=base, on_event=progress))
    finally:
        progress.close()
    if as_json:
        echo_json(status.to_json())
        return
    _print_status(status)
    click.echo(f"\nnext: `{PROG} ssh` logs in; `{PROG} config` prints the Nix configuration; "
               f"`{PROG} setup` lets root's nix-daemon use it (sudo).")


@builder.command()
@click.option("--keep", is_flag=True, help="Leave the stopped container (default: remove it).")
@click.option("--json", "as_json", is_flag=True, help="Print the resulting status as JSON.")
def stop(keep: bool, as_json: bool) -> None:
    """Stop the builder and remove its container; the store and keys are kept."""
    from wrapix_core.builder import lifecycle

    settings, runtime = _load()
    status = run_async(lifecycle.stop(runtime, settings, keep=keep,
                                      on_event=lambda e: click.echo(f"{PROG}: {e.line}",
                                                                    err=True)))
    if as_json:
        echo_json(status.to_json())
    else:
        _print_status(status)


@builder.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Show the builder's state, SSH command, keys and store (exit 1 when the runtime
    cannot be asked)."""
    from wrapix_core.builder.status import read_status

    settings, runtime = _load()
    result = run_async(read_status(runtime, settings.builder))
    if as_json:
        echo_json(result.to_json())
    else:
        _print_status(result)
    if result.error:
        sys.exit(1)


@builder.command(context_settings={"ignore_unknown_options": True,
                                   "allow_interspersed_args": False})
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def ssh(command: tuple[str, ...]) -> None:
    """Log in to the builder, or run COMMAND there (joined by ssh, as `ssh host CMD`)."""
    from wrapix_core.builder.errors import BuilderNotRunning
    from wrapix_core.builder.keys import current
    from wrapix_core.builder.status import read_status, ssh_argv

    settings, runtime = _load()
    result = run_async(read_status(runtime, settings.builder))
    if result.error:
        raise WrapixError(result.error)
    if result.state != "running":
        raise BuilderNotRunning(f"the builder is not running ({result.state})",
                                f"start it with `{PROG} start`")
    if not current().exist():
        raise WrapixError(f"the builder keys in {result.keys} are missing",
                          f"run `{PROG} stop` and `{PROG} start` to create new ones")
    argv = ssh_argv(settings.builder, list(command))
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        raise WrapixError("ssh is not installed", "install the OpenSSH client") from None


def _setup(kind: str, dry_run: bool, yes: bool) -> None:
    from wrapix_core.builder import apple, setup
    from wrapix_core.builder.commands import Commands
    from wrapix_core.builder.errors import SetupError
    from wrapix_core.builder.keys import current
    from wrapix_core.builder.status import read_status

    settings, runtime = _load()
    sudo = setup.sudo_prefix()
    steps: list[setup.Step] = []
    notes: list[str] = []
    if kind in ("all", "routes"):
        if runtime.name == "apple":
            commands = Commands.for_runtime(runtime, settings.builder)
            done = run_async(commands.call(apple.network_inspect_argv(runtime.executable)))
            steps += setup.route_steps(apple.network_subnet(done.stdout), apple.BRIDGE,
                                       sudo=sudo)
        else:
            notes.append(f"routes: nothing to do on Linux (Podman publishes the builder on "
                         f"127.0.0.1:{settings.builder.port})")
    if kind in ("all", "ssh"):
        keys = current()
        if not keys.exist():
            raise SetupError(f"there are no builder keys in {keys.directory} yet",
                             f"run `{PROG} start` first")
        state = run_async(read_status(runtime, settings.builder)).state
        if state != "running":
            notes.append("the builder is not running, so the final login check is left out "
                         f"(start it and run `{PROG} setup-ssh` again to check)")
        steps += setup.ssh_steps(settings.builder, keys, sudo=sudo, verify=state == "running")
    for note in notes:
        click.echo(f"{PROG}: {note}", err=True)
    if not steps:
        return
    who = "as root, with sudo" if sudo else "as root"
    click.echo(f"{PROG} setup makes these changes ({who}):\n{setup.render(steps)}")
    if dry_run:
        return
    setup.require_sudo(sudo)
    if not yes:
        if not sys.stdin.isatty():
            raise SetupError("setup asks before it changes anything, and there is no terminal "
                             "to ask on", "run it in a terminal, or pass --yes (after reading "
                             "--dry-run)")
        if not click.confirm("Make these changes?", default=False):
            raise WrapixError("cancelled: nothing was changed", exit_code=1)
    run_async(setup.run_steps(steps, on_step=lambda number, step: click.echo(
        f"[{number}/{len(steps)}] {step.description}", err=True)))
    click.echo("setup done")


_DRY = click.option("--dry-run", is_flag=True, help="Print the changes; make none.")
_YES = click.option("--yes", "-y", is_flag=True, help="Do not ask before making the changes.")


@builder.command()
@_DRY
@_YES
def setup(dry_run: bool, yes: bool) -> None:
    """Routes (macOS) and root's ssh trust of the builder (needs sudo; asks first)."""
    _setup("all", dry_run, yes)


@builder.command(name="setup-routes")
@_DRY
@_YES
def setup_routes(dry_run: bool, yes: bool) -> None:
    """Route Apple's container network through its bridge (macOS; needs sudo)."""
    _setup("routes", dry_run, yes)


@builder.command(name="setup-ssh")
@_DRY
@_YES
def setup_ssh(dry_run: bool, yes: bool) -> None:
    """Let root (nix-daemon) reach the builder: ssh config entry and host key (sudo)."""
    _setup("ssh", dry_run, yes)


@builder.command()
def config() -> None:
    """Print nix-darwin, ssh config and nix.conf snippets for this machine."""
    from wrapix_core.builder import config as builder_config
    from wrapix_core.builder import keys as builder_keys
    from wrapix_core.settings import load_settings

    settings = load_settings(None)
    keys, generated = run_async(builder_keys.ensure())
    if generated:
        click.echo(f"{PROG}: generated the builder keys in {keys.directory}", err=True)
    click.echo(builder_config.render(settings.builder, keys), nl=False)


def main() -> None:
    builder(prog_name=PROG)
