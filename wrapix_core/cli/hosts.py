"""`wrapix hosts [--json]` and `wrapix hosts check NAME`: the remote Podman hosts."""

from __future__ import annotations

import asyncio
import sys

import click

from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.hosts.probe import HostStatus


async def _statuses() -> list[HostStatus]:
    from wrapix_core.hosts.fleet import host_runtime
    from wrapix_core.hosts.probe import probe, probe_host
    from wrapix_core.hosts.target import hosts as configured
    from wrapix_core.sandbox.runtime import get_runtime
    from wrapix_core.settings import LOCAL_HOST, load_settings

    settings = load_settings()
    looks = [probe(get_runtime(settings.sandbox), name=LOCAL_HOST, where="this machine",
                   timeout=settings.sandbox.command_timeout)]
    looks += [probe_host(host_runtime(settings, found), found) for found in configured(settings)]
    return list(await asyncio.gather(*looks))


def _table(statuses: list[HostStatus]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from wrapix_core.untrusted import line

    table = Table(box=None, header_style="bold")
    for column in ("HOST", "STATE", "PODMAN", "SANDBOXES", "WHERE"):
        table.add_column(column)
    for status in statuses:
        state = ("ok" if status.reachable and not status.error else
                 "problem" if status.reachable else "unreachable")
        count = ("-" if status.sandboxes is None
                 else f"{status.sandboxes} ({status.running} running)")
        table.add_row(*(Text(line(value)) for value in (
            status.name, state, status.version or "-", count, status.where)))
    Console().print(table)
    for status in statuses:
        if status.error:
            click.echo(f"wrapix: host {status.name}: {status.error}; see `wrapix hosts check "
                       f"{status.name}`", err=True)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def hosts(ctx: click.Context, as_json: bool) -> None:
    """List the Podman hosts (this machine and each [hosts.NAME]): reachable or not,
    Podman's version and how many sandboxes run there. Each host is asked at once,
    bounded by its own timeout."""
    if ctx.invoked_subcommand is not None:
        return
    statuses = run_async(_statuses())
    if as_json:
        echo_json([status.to_json() for status in statuses])
    else:
        _table(statuses)


@hosts.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(name: str, as_json: bool) -> None:
    """Check host NAME step by step (TCP, SSH, the key, Podman's socket, Podman's version)
    and say what is wrong and how to fix it. Exit status 1 when something is."""
    from wrapix_core.hosts.check import check as walk
    from wrapix_core.hosts.fleet import host_runtime
    from wrapix_core.hosts.target import host
    from wrapix_core.settings import load_settings

    settings = load_settings()
    found = host(settings, name)
    steps = run_async(walk(host_runtime(settings, found), found))
    if as_json:
        echo_json([step.to_json() for step in steps])
    else:
        from wrapix_core.untrusted import line

        for step in steps:
            click.echo(f"{'ok  ' if step.ok else 'FAIL'} {step.name:7} {line(step.detail)}")
            if step.fix:
                click.echo(f"     fix:    {line(step.fix)}")
    if not all(step.ok for step in steps):
        sys.exit(1)
