"""`wrapix run --on HOST`: a session whose sandbox runs on another host.

The session is made here, pushed to the host with git over SSH and run there by its
Podman with the same plan (:mod:`wrapix_core.hosts.remote_launch`); `wrapix sessions`,
`diff`, `merge` and `discard` fetch its work back first, so review and merge stay here.
"""

from __future__ import annotations

import sys
from dataclasses import replace
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
    from wrapix_core.cli import sessions as session_cli
    from wrapix_core.cli.progress import build_progress
    from wrapix_core.hosts.remote_launch import prepare_remote
    from wrapix_core.hosts.remote_session import RemoteHost, push_session, remove
    from wrapix_core.profiles import load_catalog
    from wrapix_core.sandbox.launcher import run_detached, run_foreground

    remote = run_async(RemoteHost.open(settings, host_name))
    opened, mount, created = session_cli.open_session(request.workspace, session_name,
                                                      from_ref, settings)
    pushed = None
    try:
        if created:
            click.echo(f"{PROG}: pushing session {opened.name} to host {host_name}…", err=True)
            pushed = opened = run_async(push_session(remote, opened,
                                                     tuple(settings.session.copy_paths)))
        elif opened.host != host_name:
            raise WrapixError(f"session {opened.name} runs on "
                              f"{'host ' + opened.host if opened.host else 'this machine'}",
                              f"run it there, or start a new session on {host_name} with "
                              "another --session NAME")
        launch = replace(request, workspace=opened.path, session=mount,
                         name=request.name or opened.container)
        with build_progress("image") as on_build:
            prepared = run_async(prepare_remote(launch, settings, remote, opened,
                                                catalog=load_catalog(opened.project),
                                                on_build=on_build))
    except BaseException:
        if created:  # made for this launch, still untouched
            if pushed is not None and pushed.remote_path is not None:
                from pathlib import PurePosixPath

                try:
                    run_async(remove(remote, PurePosixPath(pushed.remote_path)))
                except WrapixError as error:
                    warn(PROG, f"could not remove the session on {host_name}: {error}")
            session_cli.drop_new(opened)
        raise
    for note in [*created, *prepared.notes]:
        click.echo(f"{PROG}: {note}", err=True)
    for warning in prepared.warnings:
        warn(PROG, warning)
    target = f"{host_name}/{prepared.plan.name}"
    if request.detach:
        container_id = run_async(run_detached(prepared))
        if as_json:
            echo_json({"name": prepared.plan.name, "host": host_name, "id": container_id,
                       "session": opened.name})
        else:
            click.echo(f"{target} started on host {host_name} (session {opened.name}); "
                       f"attach with `wrapix attach {target}`")
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
