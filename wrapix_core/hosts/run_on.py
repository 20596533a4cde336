"""Starting a session on a host, for `wrapix run --on` and wrapix-tui's new-sandbox modal.

The session (named, or new) is opened here; a new one is pushed to the host
(:mod:`.remote_session`), then the launch is planned for the host's Podman
(:mod:`.remote_launch`). A failure before anything ran removes what this launch made,
here and there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from wrapix_core.errors import WrapixError
from wrapix_core.hosts.remote_launch import prepare_remote
from wrapix_core.hosts.remote_session import RemoteHost, push_session, remove
from wrapix_core.image.progress import BuildEvent, ProgressCallback
from wrapix_core.sandbox.launcher import LaunchRequest, Prepared
from wrapix_core.sessions.model import Session
from wrapix_core.sessions.opening import drop_new, open_session
from wrapix_core.settings import Settings


@dataclass
class OnHost:
    """A launch planned on a host, not started yet."""

    prepared: Prepared
    session: Session
    notes: list[str]
    """What was done on the way (the session made, the image copied), for the user."""


async def prepare_on_host(host_name: str, request: LaunchRequest, settings: Settings, *,
                          session_name: str | None = None, from_ref: str | None = None,
                          on_build: ProgressCallback | None = None) -> OnHost:
    """Open (or make and push) the session ``request`` runs on, on ``host_name``, and
    plan its sandbox there."""
    from wrapix_core.profiles import load_catalog

    remote = await RemoteHost.open(settings, host_name)
    opened, mount, created = open_session(request.workspace, session_name, from_ref,
                                          settings)
    pushed: Session | None = None
    try:
        if created:
            if on_build is not None:  # the first push sends the project's history
                on_build(BuildEvent(f"pushing session {opened.name} to host {host_name}"))
            pushed = opened = await push_session(remote, opened,
                                                 tuple(settings.session.copy_paths))
            created.append(f"session {opened.name} pushed to host {host_name} "
                           f"({opened.remote_path})")
        elif opened.host != host_name:
            raise WrapixError(f"session {opened.name} runs on "
                              f"{'host ' + opened.host if opened.host else 'this machine'}",
                              f"run it there, or start a new session on {host_name} with "
                              "another name")
        launch = replace(request, workspace=opened.path, session=mount,
                         name=request.name or opened.container)
        prepared = await prepare_remote(launch, settings, remote, opened,
                                        catalog=load_catalog(opened.project),
                                        on_build=on_build)
    except BaseException:
        if created:  # made for this launch, still untouched
            if pushed is not None and pushed.remote_path is not None:
                with contextlib.suppress(WrapixError):
                    await remove(remote, PurePosixPath(pushed.remote_path))
            drop_new(opened)
        raise
    return OnHost(prepared, opened, [*created, *prepared.notes])
