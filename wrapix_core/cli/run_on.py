"""`wrapix run --on HOST`: a session whose sandbox runs on another host.

The session is made here, pushed to the host with git over SSH and run there by its
Podman with the same plan (:mod:`wrapix_core.hosts.run_on`); `wrapix sessions`, `diff`,
`merge` and `discard` fetch its work back first, so review and merge stay here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wrapix_core.cli.base import echo_json, run_async, warn
from wrapix_core.errors import WrapixError
from wrapix_core.sandbox.launcher import LaunchRequest
from wrapix_core.settings import Settings

PROG = "wrapix"


def run_on(host_name: str, request: LaunchRequest, settings: Settings, *,
           session_name: str | None, from_ref: str | None, as_json: bool) -> None:
    """Launch ``request`` on host ``host_name`` in a session (new unless named)."""
    from wrapix_core.cli.progress import build_progress
    from wrapix_core.hosts.run_on import prepare_on_host
    from wrapix_core.sandbox.launcher import run_detached, run_foreground

    with build_progress("image") as on_build:
        planned = run_async(prepare_on_host(host_name, request, settings,
                                            session_name=session_name, from_ref=from_ref,
                                            on_build=on_build))
    prepared = planned.prepared
    for note in planned.notes:
        click.echo(f"{PROG}: {note}", err=True)
    for warning in prepared.warnings:
        warn(PROG, warning)
    target = f"{host_name}/{prepared.plan.name}"
    if request.detach:
        container_id = run_async(run_detached(prepared))
        if as_json:
            echo_json({"name": prepared.plan.name, "host": host_name, "id": container_id,
                       "session": planned.session.name})
        else:
            click.echo(f"{target} started on host {host_name} (session "
                       f"{planned.session.name}); attach with `wrapix attach {target}`")
        return
    sys.exit(run_foreground(prepared))


def refuse(direct: bool, planning: bool, workspace: Path) -> None:
    """What `--on` cannot be combined with."""
    if direct:
        raise WrapixError("--on runs a session on the host, never your checkout itself",
                          "drop --direct")
    if planning:
        raise WrapixError("--dry-run and --emit plan for this machine",
                          "drop --on to see the plan (the host runs the same one)")
    from wrapix_core.sessions import store

    if not store.can_branch(workspace):
        raise WrapixError(f"--on runs a session, and {workspace} is not the top of a git "
                          "repository with a commit", "commit your project first, or run "
                          "it here without --on")
