"""Plain data passed between the launcher, the planner and the runtimes.

The planner is a pure function of :class:`SandboxSpec` and :class:`HostFacts`; every
fact about the host that it needs (uid, which paths exist, Podman's capabilities) is
gathered beforehand, so plans are printable (``--dry-run``) and unit-testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from wrapix_core.egress.policy import Mode
from wrapix_core.profiles import Mount, Profile

PathKind = Literal["dir", "file", "missing", "other"]


@dataclass(frozen=True)
class RuntimeCaps:
    """What the container runtime can do (probed once per binary, cached)."""

    runtime: Literal["podman", "apple"] = "podman"
    version: str = "0"
    pasta: bool = False
    passwd_entry: bool = True
    init: bool = True
    rootless: bool = True
    cgroup_v1: bool = False
    graph_root: str = ""
    """Where the runtime stores images (the launch fast path watches its index)."""
    graph_driver: str = ""

    @property
    def limits_ignored(self) -> bool:
        """Rootless Podman on cgroup v1 accepts --cpus/--memory/--pids-limit and ignores them."""
        return self.runtime == "podman" and self.rootless and self.cgroup_v1


@dataclass(frozen=True)
class PathFact:
    """A mount source as found on the host."""

    resolved: Path
    kind: PathKind
    needs_staging: bool = False
    """A directory with symlinks that lead outside it: copied with links dereferenced."""


@dataclass(frozen=True)
class RalphEnv:
    cmd: str
    args: tuple[str, ...] = ()
    dir: str = ".wrapix/ralph"


@dataclass(frozen=True)
class SessionMount:
    """A sandbox on a session (:mod:`wrapix_core.sessions`): the workspace is the
    session's repository, and the project's object directory it borrows through
    alternates is mounted read-only at the same path."""

    name: str
    project: Path
    objects: Path
    setup: tuple[tuple[str, ...], ...] = ()
    """``[session] setup`` commands (argv), run by the entrypoint before the agent."""


@dataclass(frozen=True)
class SandboxSpec:
    """What the user asked for."""

    workspace: Path
    profile: Profile
    image: str
    name: str
    detach: bool = False
    interactive: bool = True
    tty: bool = True
    remove: bool = True
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    allow_host_mounts: bool = False
    ralph: RalphEnv | None = None
    role: str = "agent"
    network: Mode | None = None
    """Egress mode asked for on the command line (None: settings, then the profile)."""
    session: SessionMount | None = None


@dataclass(frozen=True)
class HostFacts:
    """Everything about the host the plan depends on."""

    uid: int
    gid: int
    user: str
    home: Path
    nproc: int
    caps: RuntimeCaps
    cache_dir: Path
    known_hosts: Path
    system_prompt: Path
    git_name: str | None = None
    git_email: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)
    notify_dir: Path | None = None
    """This sandbox's own notification socket directory (mounted at /run/wrapix): it
    holds its socket and nothing else. None: no notifications (not Podman)."""
    notify_daemon: bool = False
    """Whether a notification daemon runs now (else the launch says how to start one)."""
    deploy_key: Path | None = None
    signing_key: Path | None = None
    session_id: str | None = None
    term: str | None = None
    paths: Mapping[str, PathFact] = field(default_factory=dict)
    """Facts for every host path the plan may mount, keyed by its expanded form."""
    forbidden: tuple[Path, ...] = ()
    """Paths whose exposure would hand over the host (the Podman socket, …)."""
    egress_dir: Path | None = None
    """This sandbox's egress directory on the host (the proxy's socket), mounted into
    it in ``allowlist`` mode."""


@dataclass(frozen=True)
class Bind:
    source: Path
    dest: str
    mode: Literal["ro", "rw"]


@dataclass(frozen=True)
class StagingAction:
    kind: Literal["mkdir", "copy", "clear", "socketdir"]
    """``socketdir``: the sandbox's notification socket directory, made 0700 before it
    starts and removed when it ends (:mod:`wrapix_core.notify.socketdirs`)."""
    target: Path
    source: Path | None = None
    anchor: Path | None = None
    """For ``mkdir`` in the workspace: the workspace, below which no link is followed."""

    def to_json(self) -> dict[str, str]:
        data = {"action": self.kind, "target": str(self.target)}
        if self.source is not None:
            data["source"] = str(self.source)
        return data


@dataclass(frozen=True)
class LaunchPlan:
    """A ready-to-run command: argv, the environment to run it with, what to stage first."""

    name: str
    argv: list[str]
    env: dict[str, str]
    """Extra environment for the runtime process (secrets passed by name only)."""
    staging: list[StagingAction]
    warnings: list[str]
    binds: list[Bind]
    container_env: dict[str, str]
    """The sandbox's environment (secrets excluded), for display."""
    network: Mode = "open"
    allowlist: tuple[str, ...] = ()
    """The hosts an ``allowlist`` sandbox may reach (empty in the other modes)."""

    def to_json(self, *, reveal_secrets: bool = False) -> dict[str, object]:
        env = self.env if reveal_secrets else {name: "<redacted>" for name in self.env}
        return {"name": self.name, "argv": self.argv, "env": env,
                "staging": [action.to_json() for action in self.staging],
                "warnings": self.warnings,
                "network": {"mode": self.network, "allowlist": list(self.allowlist)}}
