"""`wrapix net log|allow`: what a sandbox's egress proxy refused, and allowing it."""

from __future__ import annotations

import click

from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.errors import WrapixError


@click.group()
def net() -> None:
    """Egress of allowlist sandboxes: denied connections, allowing hosts."""


@net.command("log")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def log_command(name: str, as_json: bool) -> None:
    """The connections sandbox NAME was refused, oldest first."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from wrapix_core.egress import control
    from wrapix_core.egress import log as denial_log
    from wrapix_core.egress import paths as egress_paths
    from wrapix_core.untrusted import line

    egress_paths.check_name(name)
    records = denial_log.read(name)
    running = control.running(name)
    if as_json:
        echo_json({"sandbox": name, "proxy_running": running, "denied": records})
        return
    click.echo(f"{name}: egress proxy {'running' if running else 'not running'}; "
               f"{len(records)} denied")
    if not records:
        return
    table = Table(box=None, header_style="bold")
    for column in ("TIME", "METHOD", "HOST", "PORT", "REASON"):
        table.add_column(column)
    for record in records:  # what the agent asked for: inert text only
        table.add_row(*(Text(line(str(record.get(key, "")))) for key in
                        ("time", "method", "host", "port", "reason")))
    Console().print(table)


@net.command("allow")
@click.argument("name")
@click.argument("host")
@click.option("--project", is_flag=True,
              help="Add it to the project's wrapix.toml instead (then `wrapix trust` it).")
def allow_command(name: str, host: str, project: bool) -> None:
    """Let sandbox NAME reach HOST: now, for this sandbox; or in its project."""
    from wrapix_core.egress import allow, control
    from wrapix_core.egress import paths as egress_paths

    egress_paths.check_name(name)
    if not project:
        pattern = allow.allow_now(name, host)
        if not control.running(name):
            raise WrapixError(f"{name} has no running egress proxy; {pattern} was noted "
                              "but nothing can use it", "start the sandbox with "
                              "--network allowlist")
        click.echo(f"{name} may reach {pattern} now (until it stops)")
        return
    from pathlib import Path

    from wrapix_core.sandbox.runtime import get_runtime
    from wrapix_core.settings import load_settings

    info = run_async(get_runtime(load_settings().sandbox).inspect(name))
    if not info.workspace:
        raise WrapixError(f"{name} has no workspace label", "is it a wrapix sandbox?")
    path = allow.allow_in_project(Path(info.workspace), host)
    click.echo(f"added {host} to {path}; trust it again with `wrapix trust "
               f"{path.parent}` before the next launch")
