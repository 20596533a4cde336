"""Recording a planned launch for the fast path (:mod:`.launchcache`).

An ``allowlist`` launch is never recorded: its egress proxy must be started (and be
listening) before the container, which only the full launcher does; the fast path
replays a bare ``podman run`` and would start the sandbox cut off from its proxy.

The validators list everything the plan was derived from. Paths that change with normal
use — the workspace, ``.claude``, mount sources — are checked for their kind and real
path only; a new symlink leading out of an already-mounted directory is therefore not
noticed until the next full launch (which re-checks staging).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from wrapix_core import paths, trust
from wrapix_core.image.wheel import collect
from wrapix_core.sandbox import launchcache
from wrapix_core.sandbox.host import deploy_key_paths
from wrapix_core.sandbox.launcher import Prepared, check_target
from wrapix_core.settings import PROJECT_FILE, Settings, user_config_file


def _git_configs() -> list[str]:
    home = Path.home()
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return [str(home / ".gitconfig"), f"{xdg}/git/config", "/etc/gitconfig"]


def record(args: list[str], prepared: Prepared, settings: Settings, *, as_json: bool) -> bool:
    """Record ``prepared`` for ``wrapix ARGS``; False when it is not cacheable."""
    plan = prepared.plan
    if plan.network == "allowlist":
        return False  # its proxy must start first (module docstring)
    if any(not (action.kind == "socketdir"
                or (action.kind == "mkdir" and action.anchor is not None))
           for action in plan.staging):
        return False  # staged copies must be refreshed each launch
    spec = prepared.spec
    profiles = paths.config_dir() / "profiles"
    full = [str(user_config_file()), str(spec.workspace / PROJECT_FILE), str(profiles),
            *(str(path) for path in profiles.glob("*.toml")),
            *(str(path) for _, path in collect().files), *_git_configs(),
            str(spec.workspace / ".git" / "config"),  # the repository's user.name/email
            str(trust.store_file())]  # revoking trust must stop the recorded plan
    podman = shutil.which(prepared.runtime.executable)
    if podman:
        full.append(podman)
    caps = prepared.facts.caps
    if caps.graph_root and caps.graph_driver:
        full.append(f"{caps.graph_root}/{caps.graph_driver}-images/images.json")
    full += [str(path) for path in deploy_key_paths(
        settings.sandbox.deploy_key or spec.workspace.name, Path.home())]
    created = {str(action.target) for action in plan.staging}  # the fast path makes these
    kinds = [path for path in (*prepared.facts.paths, *(str(b.source) for b in plan.binds),
                               str(paths.notify_socket())) if path not in created]
    key = launchcache.launch_key(args, os.getcwd(), os.environ, sys.stdin.isatty())
    data = {
        "argv": plan.argv,
        "name": plan.name,
        "detach": spec.detach,
        "json": as_json,
        "detach_keys": settings.sandbox.detach_keys,
        "warnings": prepared.warnings,
        "mkdir": [[str(action.anchor), str(action.target)] for action in plan.staging
                  if action.kind == "mkdir"],
        "checks": check_target(spec, settings.sandbox).to_record(),
        "socket_dir": next((str(action.target) for action in plan.staging
                            if action.kind == "socketdir"), None),
        "session_id": plan.container_env.get("WRAPIX_SESSION_ID"),
        "timeout": settings.sandbox.command_timeout * 4,
        "validators": launchcache.validators(full, kinds),
    }
    try:
        launchcache.store(key, data)
    except OSError:  # a cache: the launch goes on without a record
        return False
    return True
