"""`wrapix run --emit kube`: the launch plan printed as a Pod manifest; nothing is started.

The plan is made exactly as for a launch (same checks, same refusals), with the profile's
image resolved to its content-addressed tag (it must be built: a cluster needs it pushed
somewhere anyway), then handed to :func:`wrapix_core.sandbox.kube.pod_manifest`.
"""

from __future__ import annotations

from dataclasses import replace

import click

from wrapix_core.cli.base import echo_json, run_async, warn
from wrapix_core.profiles import ProfileCatalog
from wrapix_core.sandbox.launcher import LaunchRequest, prepare, resolve_image, resolve_workspace
from wrapix_core.settings import Settings

PROG = "wrapix"


async def _image(request: LaunchRequest, settings: Settings,
                 catalog: ProfileCatalog | None) -> str:
    """The image the sandbox would run: named, or the profile's built image's tag."""
    if request.image:
        return request.image  # may live in a registry this host does not reach
    from wrapix_core.profiles import load_catalog
    from wrapix_core.sandbox.runtime import get_runtime

    catalog = catalog or load_catalog(resolve_workspace(request.workspace))
    profile = catalog.get(request.profile or settings.sandbox.profile)
    if profile.image:
        return profile.image
    return await resolve_image(request, profile, settings, get_runtime(settings.sandbox),
                               None, [])


def emit_kube(request: LaunchRequest, settings: Settings, *, as_json: bool,
              catalog: ProfileCatalog | None = None) -> None:
    """Print the manifest; ``catalog``: the project's profiles (for a session, never the
    session's own files)."""
    from wrapix_core.sandbox.kube import pod_manifest

    # A Pod runs in the background with a terminal to attach to, like --detach.
    request = replace(request, detach=True, tty=True)
    request = replace(request, image=run_async(_image(request, settings, catalog)))
    prepared = run_async(prepare(request, settings, check_image=False, catalog=catalog))
    manifest = pod_manifest(prepared.plan, prepared.spec, prepared.facts, settings.sandbox)
    if as_json:
        echo_json(manifest.to_json())
    else:
        click.echo(manifest.to_yaml(), nl=False)
    for warning in manifest.warnings:
        warn(PROG, warning)
    for action in prepared.plan.staging:
        if action.kind == "copy":
            warn(PROG, f"{action.source} is mounted from a copy wrapix makes at launch "
                       f"({action.target}): make it before applying the manifest")
    click.echo(f"{PROG}: with Podman on this host: podman kube play --userns=keep-id FILE",
               err=True)
