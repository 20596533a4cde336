"""Gathering the host facts a launch plan depends on (the impure half of planning)."""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

from wrapix_core import paths, proc
from wrapix_core.egress import paths as egress_paths
from wrapix_core.sandbox.expand import expand
from wrapix_core.sandbox.model import HostFacts, PathFact, PathKind, RuntimeCaps, SandboxSpec
from wrapix_core.sandbox.plan import PlanError, all_mounts, paths_to_probe, secret_names
from wrapix_core.sandbox.staging import has_escaping_symlinks
from wrapix_core.settings import SandboxSettings

DATA = Path(__file__).parent / "data"
_PASSWD_SAFE = re.compile(r"[a-z_][a-z0-9_.-]{0,31}\Z")


def sandbox_user() -> str:
    """The host user's name when it is safe in a passwd line, else ``wrapix``."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return "wrapix"
    return name if _PASSWD_SAFE.match(name) else "wrapix"


def podman_sockets(uid: int) -> tuple[Path, ...]:
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{uid}"
    return (Path(runtime) / "podman" / "podman.sock", Path(f"/run/user/{uid}/podman/podman.sock"),
            Path("/run/podman/podman.sock"), Path("/var/run/docker.sock"),
            Path("/run/docker.sock"))


def _kind(path: Path) -> PathKind:
    try:
        if path.is_dir():
            return "dir"
        if path.is_file():
            return "file"
        return "other" if path.exists() else "missing"
    except OSError:
        return "missing"


def path_fact(path: str, *, check_staging: bool) -> PathFact:
    host = Path(path)
    kind = _kind(host)
    resolved = host.resolve() if kind != "missing" else host
    staging = check_staging and kind == "dir" and has_escaping_symlinks(host)
    return PathFact(resolved=resolved, kind=kind, needs_staging=staging)


async def git_identity(workspace: Path) -> tuple[str | None, str | None]:
    """``user.name`` and ``user.email`` as git sees them from the workspace."""
    try:
        done = await proc.run(["git", "config", "--get-regexp", r"^user\.(name|email)$"],
                              timeout=5, cwd=workspace, check=False)
    except (proc.CommandNotFound, proc.CommandTimeout):
        return None, None
    values: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value.strip()
    return values.get("user.name") or None, values.get("user.email") or None


def deploy_key_paths(name: str, home: Path) -> tuple[Path, Path]:
    """Where the deploy key and the signing key for ``name`` would be.

    ``name`` is a file name in ``~/.ssh/deploy_keys``: a path (``../id_ed25519``) would
    mount any of the user's keys into the sandbox.
    """
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise PlanError(f"deploy key name {name!r} is not a file name in "
                        "~/.ssh/deploy_keys", "set sandbox.deploy_key to a key's file name")
    directory = home / ".ssh" / "deploy_keys"
    return directory / name, directory / f"{name}-signing"


def deploy_keys(name: str, home: Path) -> tuple[Path | None, Path | None]:
    key, signing = deploy_key_paths(name, home)
    return (key if key.is_file() else None, signing if signing.is_file() else None)


async def gather(spec: SandboxSpec, settings: SandboxSettings, caps: RuntimeCaps, *,
                 session_id: str | None = None) -> HostFacts:
    uid, gid = os.getuid(), os.getgid()
    user = sandbox_user()
    home = Path.home()
    mount_sources = {expand(mount.source, home=str(home), user=user)
                     for mount in all_mounts(spec)}
    facts = {path: path_fact(path, check_staging=path in mount_sources)
             for path in paths_to_probe(spec, settings, home, user)}
    git_name, git_email = await git_identity(spec.workspace)
    key, signing = deploy_keys(settings.deploy_key or spec.workspace.name, home)
    try:
        notify_dir = paths.sandbox_socket_dir(spec.name) if caps.runtime == "podman" else None
    except ValueError:  # the plan refuses the name, saying why
        notify_dir = None
    return HostFacts(
        uid=uid, gid=gid, user=user, home=home, nproc=os.cpu_count() or 1, caps=caps,
        cache_dir=paths.cache_dir(),
        known_hosts=settings.known_hosts or DATA / "known_hosts",
        system_prompt=DATA / "system-prompt.md",
        git_name=git_name, git_email=git_email,
        secrets={name: os.environ[name] for name in secret_names(spec, settings)
                 if os.environ.get(name)},
        notify_dir=notify_dir, notify_daemon=paths.notify_socket().is_socket(),
        deploy_key=key, signing_key=signing, session_id=session_id,
        term=os.environ.get("TERM"), paths=facts,
        forbidden=(home / ".ssh", *podman_sockets(uid)),
        egress_dir=egress_paths.socket_dir(spec.name),
    )
