"""Builders for plan inputs, so each test states only what it is about."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from wrapix_core.profiles import BASE, Profile
from wrapix_core.sandbox.model import HostFacts, PathFact, RuntimeCaps, SandboxSpec
from wrapix_core.sandbox.plan import paths_to_probe
from wrapix_core.settings import SandboxSettings

HOME = Path("/home/alice")
WS = Path("/home/alice/src/proj")


def spec(**changes: Any) -> SandboxSpec:
    base = SandboxSpec(workspace=WS, profile=Profile(name="t"), image="localhost/img:1",
                       name="wrapix-proj-abc123")
    return replace(base, **changes)


def facts(spec_: SandboxSpec, settings: SandboxSettings | None = None, *,
          missing: set[str] = frozenset(), files: set[str] = frozenset(),
          staged: set[str] = frozenset(), resolved: dict[str, str] | None = None,
          **changes: Any) -> HostFacts:
    """Facts where every probed path exists as a directory unless told otherwise."""
    settings = settings or SandboxSettings()
    probed = {}
    for path in paths_to_probe(spec_, settings, HOME, "alice"):
        kind = "missing" if path in missing else "file" if path in files else "dir"
        real = Path((resolved or {}).get(path, path))
        probed[path] = PathFact(resolved=real, kind=kind, needs_staging=path in staged)
    base = HostFacts(
        uid=1000, gid=1000, user="alice", home=HOME, nproc=8,
        caps=RuntimeCaps(version="4.9.0", pasta=True), cache_dir=Path("/cache"),
        known_hosts=Path("/pkg/known_hosts"), system_prompt=Path("/pkg/prompt.md"),
        paths=probed, forbidden=(HOME / ".ssh", Path("/run/user/1000/podman/podman.sock")),
    )
    return replace(base, **changes)


__all__ = ["BASE", "HOME", "WS", "facts", "spec"]
