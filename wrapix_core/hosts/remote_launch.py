"""`wrapix run --on HOST`: the same launch plan, run by that host's Podman.

The plan is made here exactly as for a local sandbox (the same checks, mounts, hardening
flags and environment), against the session's copy on this machine, then moved to the
host:

- a mount from the workspace comes from the session's repository there (the same path
  below it: both were made by wrapix the same way, :mod:`.remote_session`);
- every other mount source (the agent's settings, the system prompt, known_hosts, keys,
  staged copies) is sent once, as tar over SSH, into
  ``~/.local/share/wrapix/sandbox-files/NAME`` there (0700), and mounted from there;
- the notification socket directory is the one the host's forwarded socket lives in
  (:func:`wrapix_core.hosts.forward.remote_socket_dir`), so the sandbox notifies this
  machine's inbox through ``ssh -R``;
- the user inside is the host's (``--userns=keep-id`` maps the host user's uid, so the
  passwd entry names that one);
- the project's object directory is not mounted: the host's repository has its own.

The image is the profile's content-addressed one. When the host lacks it, it is built
here if needed and copied there (``podman save | podman --url … load``): building needs
wrapix's build context and cache on this machine, and a copy sends the layers once where
a build there would fetch every package again. ``allowlist`` egress runs its proxy on
this machine and is refused on a host for now.
"""

from __future__ import annotations

import asyncio
import io
import os
import shlex
import subprocess
import tarfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from wrapix_core.errors import WrapixError
from wrapix_core.hosts.fleet import host_runtime
from wrapix_core.hosts.forward import remote_socket_dir
from wrapix_core.hosts.remote_session import FILES_ROOT, RemoteHost, RemoteSessionError
from wrapix_core.image.progress import BuildEvent, ProgressCallback
from wrapix_core.profiles import ProfileCatalog
from wrapix_core.sandbox import staging
from wrapix_core.sandbox.launcher import (
    LaunchRequest,
    Prepared,
    choose_profile,
    prepare,
    resolve_image,
    resolve_workspace,
)
from wrapix_core.sandbox.model import Bind, LaunchPlan
from wrapix_core.sandbox.plan import network_mode, plan_podman
from wrapix_core.sandbox.runtime import Runtime, get_runtime
from wrapix_core.sessions.model import Session
from wrapix_core.settings import Settings

if TYPE_CHECKING:
    from wrapix_core.sandbox.podman import PodmanRuntime

COPY_TIMEOUT = 1800.0


async def prepare_remote(request: LaunchRequest, settings: Settings, remote: RemoteHost,
                         session: Session, *, catalog: ProfileCatalog,
                         on_build: ProgressCallback | None = None) -> Prepared:
    """Plan ``request`` (on ``session``, placed on ``remote``) for that host's Podman and
    put there what it mounts; raises before anything is started."""
    if session.remote_path is None:
        raise RemoteSessionError(f"session {session.name} is not on host {remote.name}")
    workspace = resolve_workspace(request.workspace)
    profile, _agent = choose_profile(request, settings, catalog)
    local = get_runtime(settings.sandbox)
    runtime = host_runtime(settings, remote.found)
    notes: list[str] = []
    image = await resolve_image(request, profile, settings, local, on_build, notes)
    notes.append(await ensure_image(local, runtime, remote.name, image, on_build))
    prepared = await prepare(replace(request, image=image), settings, catalog=catalog,
                             runtime=runtime, check_image=False)
    if network_mode(prepared.spec, settings.sandbox) == "allowlist":
        raise WrapixError("--network allowlist is not available on a remote host yet (its "
                          "proxy runs on this machine)", "use --network open or none there")
    account = await remote.account()
    facts = replace(prepared.facts, uid=account.uid, gid=account.gid, session_id=None,
                    notify_dir=Path(remote_socket_dir(remote.target, prepared.spec.name)),
                    egress_dir=None)
    plan = plan_podman(prepared.spec, facts, settings.sandbox, runtime.executable)
    moved = await _move(plan, workspace, PurePosixPath(session.remote_path), remote,
                        account.home, session, tail=1 + len(prepared.spec.command))
    return Prepared(prepared.spec, moved, runtime, facts, [*prepared.notes, *notes],
                    list(moved.warnings))


async def _move(plan: LaunchPlan, workspace: Path, directory: PurePosixPath,
                remote: RemoteHost, home: PurePosixPath, session: Session,
                tail: int) -> LaunchPlan:
    """``plan`` with its mounts on the host (see the module docstring), everything they
    need made there. ``tail``: the image and command at the end of ``plan.argv``."""
    files_dir = home / FILES_ROOT / plan.name
    local_steps = [action for action in plan.staging if action.kind in ("clear", "copy")]
    mkdirs: list[str] = []
    for action in plan.staging:
        if action.kind == "mkdir":
            mkdirs.append(str(_on_host(action.target, workspace, directory)))
        elif action.kind == "socketdir":
            mkdirs.append(str(action.target))
    moved: dict[str, Bind | None] = {}
    sent: list[tuple[Path, str]] = []
    for bind in plan.binds:
        if bind.source == session.objects:
            source = None  # the host's repository has its own objects
        elif bind.source == workspace or workspace in bind.source.parents:
            source = _on_host(bind.source, workspace, directory)
        elif str(bind.source) in mkdirs:
            source = PurePosixPath(bind.source)
        else:
            name = f"{len(sent) + 1}-{bind.source.name or 'root'}"
            sent.append((bind.source, name))
            source = files_dir / name
        moved[_volume(bind)] = (None if source is None
                                else Bind(Path(str(source)), bind.dest, bind.mode))
    staging.perform(local_steps)
    try:
        await _send(remote, files_dir, sent, mkdirs)
    finally:
        staging.undo(local_steps)
    options, rest = plan.argv[:len(plan.argv) - tail], plan.argv[len(plan.argv) - tail:]
    argv: list[str] = []
    index = 0
    while index < len(options):
        part = options[index]
        if part == "-v" and index + 1 < len(options) and options[index + 1] in moved:
            target = moved[options[index + 1]]
            argv += ["-v", _volume(target)] if target is not None else []
            index += 2
            continue
        argv.append(part)
        index += 1
    binds = [bind for bind in moved.values() if bind is not None]
    return replace(plan, argv=[*argv, *rest], binds=binds, staging=[])


def _volume(bind: Bind) -> str:
    return f"{bind.source}:{bind.dest}:{bind.mode}"


def _on_host(path: Path, workspace: Path, directory: PurePosixPath) -> PurePosixPath:
    rel = path.relative_to(workspace)
    return directory / rel.as_posix() if rel.parts else directory


async def _send(remote: RemoteHost, files_dir: PurePosixPath, sent: list[tuple[Path, str]],
                mkdirs: list[str]) -> None:
    """Make ``mkdirs`` on the host and put ``sent`` (local path, name) in ``files_dir``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, name in sent:
            archive.add(path, arcname=name, recursive=True)
    quoted = shlex.quote(str(files_dir))
    made = " ".join(shlex.quote(item) for item in mkdirs)
    script = (f"set -e; umask 077; rm -rf {quoted}; mkdir -p {quoted}; "
              f"tar -C {quoted} -xf -{f'; mkdir -p {made}' if made else ''}")
    argv = [*remote.target.ssh_argv(remote.found.timeout), script]
    from wrapix_core import proc

    done = await proc.run(argv, input=buffer.getvalue(), timeout=COPY_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RemoteSessionError(f"host {remote.name}: putting the sandbox's files in "
                                 f"{files_dir} failed: {proc.last_lines(done.stderr, 2)}",
                                 f"see `wrapix hosts check {remote.name}`")


async def ensure_image(local: Runtime, runtime: PodmanRuntime, host: str, image: str,
                       on_build: ProgressCallback | None) -> str:
    """``image`` on the host (copied from here when it lacks it); what was done, said."""
    if await runtime.image_exists(image):
        return f"host {host} has image {image}"
    if on_build is not None:
        on_build(BuildEvent(f"copying {image} to host {host}"))
    remote_argv = [*runtime.base_argv, "load"]
    await asyncio.to_thread(_copy, [local.executable, "save", image], remote_argv)
    return (f"copied image {image} to host {host} (built here: `podman save | podman load` "
            "over SSH sends its layers once, where a build there would fetch every package "
            "again)")


def _copy(save: list[str], load: list[str]) -> None:
    read, write = os.pipe()
    try:
        saver = subprocess.Popen(save, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    try:
        loaded = subprocess.run(load, stdin=read, capture_output=True, text=True,
                                timeout=COPY_TIMEOUT, check=False)
    finally:
        os.close(read)
        _, saved_err = saver.communicate(timeout=COPY_TIMEOUT)
    if saver.returncode != 0 or loaded.returncode != 0:
        said = (saved_err.decode(errors="replace") if saver.returncode else loaded.stderr)
        raise WrapixError(f"copying the image failed: {said.strip()[-300:]}",
                          "check the host's free space and `wrapix hosts check`")
