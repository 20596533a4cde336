"""The launch plan: a pure function from (SandboxSpec, HostFacts, settings) to argv.

Everything a sandbox gets is decided here, flag by flag, so it can be printed
(``wrapix run --dry-run --json``) and unit-tested without a container runtime:

- the workspace at ``/workspace`` (rw), ``.claude`` as ``~/.claude``, and the
  protected paths read-only over it: ``.git/hooks`` and ``.git/config`` (a host ``git``
  would otherwise run what an agent planted there), ``.git/worktrees`` and
  ``.git/config.worktree`` (linked worktrees' config), ``wrapix.toml`` and ``.wrapix/``
  (wrapix and Ralph read them on the host: settings, prompts, state). Each directory
  above a protected path is mounted onto itself, so that the agent cannot rename it away
  and put its own copy in its place;
- a private tmpfs home, the host user mapped in (``--userns=keep-id``);
- no capabilities, no new privileges, never privileged or sharing host namespaces, never
  the Podman socket; limits on CPU, memory and processes;
- profile and user mounts (``~``/``$HOME``/``$USER`` expanded, nothing else), refused when
  they would expose the host wholesale unless explicitly allowed;
- keys, the pinned known_hosts, the system prompt, the sandbox's own notification
  socket directory (its socket only: :mod:`wrapix_core.notify.socketdirs`);
- the environment, with secrets passed by name so they never appear in argv;
- egress (:mod:`wrapix_core.egress`): ``open`` uses the runtime's network backend;
  ``none`` and ``allowlist`` run with ``--network none`` (loopback only), and an
  ``allowlist`` sandbox gets the proxy's socket directory and the proxy variables that
  lead to the forwarder the entrypoint starts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from wrapix_core.egress import policy
from wrapix_core.egress.paths import CONTAINER_DIR, proxy_env
from wrapix_core.errors import WrapixError
from wrapix_core.image.files import WORKSPACE
from wrapix_core.profiles import ENV_NAME, Mount
from wrapix_core.sandbox import naming
from wrapix_core.sandbox.expand import expand
from wrapix_core.sandbox.model import (
    Bind,
    HostFacts,
    LaunchPlan,
    PathFact,
    SandboxSpec,
    SessionMount,
    StagingAction,
)
from wrapix_core.settings import PROJECT_FILE, SandboxSettings

NOTIFY_DIR = "/run/wrapix"
KEYS_DIR = "/run/wrapix-keys"
KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
SYSTEM_PROMPT = "/etc/wrapix/system-prompt.md"
PROTECTED_PATHS = (".git/hooks", ".git/config", ".git/worktrees", ".git/config.worktree",
                   ".git/objects/info/alternates", PROJECT_FILE, ".wrapix")
"""Always mounted read-only over the workspace when they exist; settings can add to these,
not remove. Ralph's directory is added when it lies in the workspace elsewhere
(``RALPH_DIR``). What git reads that cannot be protected this way (``.git/commondir``,
nested repositories) is detected instead: :mod:`wrapix_core.sandbox.gitguard`."""
CREATED_WHEN_MISSING = (".wrapix", ".git/hooks", ".git/worktrees")
"""Protected directories created empty when missing (the ``.git`` ones only in a repository
whose ``.git`` is a directory), so that an agent cannot plant them either: an empty
``.git/worktrees`` is what git itself leaves behind. Files are never created (nor mounted
when missing: the runtime would create the mount point on the host)."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A container name as Podman accepts it (it also names the staging directory)."""
SECRET_NAMES = ("CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY")
"""Passed to the runtime by name, their values in its environment, never in argv."""


class PlanError(WrapixError):
    """The requested sandbox cannot be planned; nothing was started."""


def container_home(user: str) -> str:
    return f"/home/{user}"


def _safe_relative(rel: str) -> str | None:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return pure.as_posix()


def protected_paths(spec: SandboxSpec, settings: SandboxSettings) -> list[str]:
    """Workspace paths mounted read-only: :data:`PROTECTED_PATHS`, Ralph's directory and
    ``sandbox.readonly_paths``; one of each, none inside another."""
    found: list[str] = []
    for rel in (*PROTECTED_PATHS, *settings.readonly_paths):
        safe = _safe_relative(rel)
        if safe is None:
            raise PlanError(f"readonly path '{rel}' must be relative to the workspace "
                            "without '..'", "fix sandbox.readonly_paths")
        found.append(safe)
    if spec.ralph is not None:
        ralph_dir = _safe_relative(spec.ralph.dir)  # None: outside the workspace
        if ralph_dir is not None:
            found.append(ralph_dir)
    unique = list(dict.fromkeys(found))
    return [rel for rel in unique
            if not any(PurePosixPath(other) in PurePosixPath(rel).parents for other in unique)]


def _ancestors(rel: str) -> list[str]:
    """The directories above ``rel`` inside the workspace, outermost first."""
    return [parent.as_posix() for parent in reversed(PurePosixPath(rel).parents)
            if parent.parts]


def all_mounts(spec: SandboxSpec) -> tuple[Mount, ...]:
    return (*spec.profile.mounts, *spec.mounts)


def paths_to_probe(spec: SandboxSpec, settings: SandboxSettings, home: Path,
                   user: str) -> list[str]:
    """Host paths whose facts the plan needs (the host gatherer stats exactly these)."""
    wanted = [str(spec.workspace), str(spec.workspace / ".claude")]
    for rel in protected_paths(spec, settings):
        wanted += [str(spec.workspace / part) for part in (*_ancestors(rel), rel)]
    wanted += [expand(mount.source, home=str(home), user=user) for mount in all_mounts(spec)]
    if spec.session is not None:
        wanted.append(str(spec.session.objects))
    return list(dict.fromkeys(wanted))


def _fact(facts: HostFacts, path: str) -> PathFact:
    try:
        return facts.paths[path]
    except KeyError:
        raise AssertionError(f"host facts lack {path}; gather them with paths_to_probe") from None


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def exposure(path: Path, facts: HostFacts) -> str | None:
    """Why mounting ``path`` would hand over the host, or None when it would not."""
    if path == Path("/"):
        return "it is the host's root directory"
    if _is_within(facts.home, path):
        return "it would expose your whole home directory"
    for danger in facts.forbidden:
        if _is_within(path, danger) or _is_within(danger, path):
            return f"it would expose {danger}"
    return None


def _refuse_exposure(what: str, path: Path, facts: HostFacts, spec: SandboxSpec) -> None:
    reason = exposure(path, facts)
    if reason and not spec.allow_host_mounts:
        raise PlanError(f"{what} {path} is refused: {reason}",
                        "mount something narrower, or pass --allow-host-mount if you mean it")


def _check_path_syntax(path: str, what: str) -> None:
    if ":" in path or "\n" in path or "\0" in path:
        raise PlanError(f"{what} '{path}' contains ':' or a control character, which the "
                        "runtime's mount syntax cannot carry", "rename or move it")


def _check_env(env: Mapping[str, str], origin: str) -> None:
    for name, value in env.items():
        if not ENV_NAME.match(name):
            raise PlanError(f"environment name '{name}' ({origin}) is not an identifier",
                            "use letters, digits and _, not starting with a digit")
        if "\0" in value:
            raise PlanError(f"environment value of {name} ({origin}) contains a NUL byte")


def _expand_values(env: Mapping[str, str], home: str, user: str) -> dict[str, str]:
    return {name: expand(value, home=home, user=user) for name, value in env.items()}


class PlanBuilder:
    """Accumulates binds, staging and env while the plan is decided."""

    def __init__(self, spec: SandboxSpec, facts: HostFacts, settings: SandboxSettings):
        self.spec, self.facts, self.settings = spec, facts, settings
        self.home = container_home(facts.user)
        self.binds: list[Bind] = []
        self.staging: list[StagingAction] = []
        self.warnings: list[str] = []
        if not NAME.fullmatch(spec.name):
            raise PlanError(f"sandbox name {spec.name!r} is not valid",
                            "use letters, digits, '_', '.' and '-', starting with a letter "
                            "or digit")
        self.staging_root = facts.cache_dir / "staging" / spec.name

    def bind(self, source: Path, dest: str, mode: str) -> None:
        _check_path_syntax(str(source), "mount source")
        _check_path_syntax(dest, "mount destination")
        if any(bind.dest == dest for bind in self.binds):
            raise PlanError(f"two mounts target {dest}", "remove one of them")
        self.binds.append(Bind(source, dest, "ro" if mode == "ro" else "rw"))

    def workspace(self) -> None:
        ws = self.spec.workspace
        fact = _fact(self.facts, str(ws))
        if fact.kind == "missing":
            raise PlanError(f"workspace {ws} does not exist", "create it or pass another DIR")
        if fact.kind != "dir":
            raise PlanError(f"workspace {ws} is not a directory", "pass a directory")
        _refuse_exposure("workspace", fact.resolved, self.facts, self.spec)
        self.bind(ws, WORKSPACE, "rw")
        claude = ws / ".claude"
        claude_fact = _fact(self.facts, str(claude))
        if claude_fact.kind == "missing":
            self.staging.append(StagingAction("mkdir", claude, anchor=ws))
        elif claude_fact.kind != "dir" or claude_fact.resolved != fact.resolved / ".claude":
            raise PlanError(f"{claude} is not a directory of the workspace (it leads to "
                            f"{claude_fact.resolved}), so it cannot be mounted as the "
                            "agent's ~/.claude", "replace the link with a real directory "
                            "(an agent may have planted it)")
        # Also onto itself: a mount point cannot be removed or replaced by a link inside.
        self.bind(claude, f"{self.home}/.claude", "rw")
        self.bind(claude, f"{WORKSPACE}/.claude", "rw")
        for rel in protected_paths(self.spec, self.settings):
            self._protect(rel, fact.resolved)
        if self.spec.session is not None:
            self._session_objects(self.spec.session)

    def _session_objects(self, session: SessionMount) -> None:
        """The project's objects the session borrows (its ``alternates`` names this
        absolute path), read-only at the same path, so git inside finds them and can
        write none."""
        objects = session.objects
        fact = _fact(self.facts, str(objects))
        if fact.kind != "dir" or fact.resolved != objects:
            raise PlanError(f"the project's object directory {objects} is not a directory",
                            "the session's project moved or is gone: discard the session")
        if _is_within(objects, Path(WORKSPACE)) or _is_within(Path(WORKSPACE), objects):
            raise PlanError(f"the project's objects at {objects} collide with {WORKSPACE}",
                            "move the project out of /workspace")
        self.bind(objects, str(objects), "ro")

    def _protect(self, rel: str, real_workspace: Path) -> None:
        """Mount ``rel`` read-only, and each directory above it onto itself: a mount point
        cannot be renamed or removed, so the agent cannot swap in a copy of its own. A
        file above it (a git worktree's ``.git``, which points git elsewhere) is the
        thing mounted read-only instead."""
        ws = self.spec.workspace
        pins: list[str] = []
        target = rel
        for part in (*_ancestors(rel), rel):
            fact = _fact(self.facts, str(ws / part))
            if fact.kind == "missing":
                if part != rel or rel not in CREATED_WHEN_MISSING:
                    return
                self.staging.append(StagingAction("mkdir", ws / rel, anchor=ws))
                break
            if fact.kind == "other":
                return
            if fact.resolved != real_workspace / part:
                where = ("out of the workspace" if not _is_within(fact.resolved, real_workspace)
                         else "elsewhere in the workspace")
                raise PlanError(f"{ws / part} leads {where} (to {fact.resolved}), so it "
                                "cannot be protected from the agent", "replace the link with "
                                "what it points to (an agent may have planted it)")
            if part == rel or fact.kind == "file":
                target = part
                break
            pins.append(part)
        for part, mode in (*((pin, "rw") for pin in pins), (target, "ro")):
            dest = f"{WORKSPACE}/{part}"
            if all(bind.dest != dest for bind in self.binds):
                self.bind(ws / part, dest, mode)

    def mounts(self) -> None:
        staged = 0
        for mount in all_mounts(self.spec):
            source = expand(mount.source, home=str(self.facts.home), user=self.facts.user)
            if not source.startswith("/"):
                raise PlanError(f"mount source '{mount.source}' must be an absolute path "
                                "(or start with ~/)", "fix the profile or --mount")
            dest = expand(mount.dest, home=self.home, user=self.facts.user)
            fact = _fact(self.facts, source)
            if fact.kind == "missing":
                if mount.optional:
                    continue
                raise PlanError(f"mount source {source} does not exist",
                                "create it, or mark the mount optional in the profile")
            _refuse_exposure("mount source", fact.resolved, self.facts, self.spec)
            host = Path(source)
            if fact.needs_staging:
                if not staged:
                    self.staging.append(StagingAction("clear", self.staging_root))
                staged += 1
                target = self.staging_root / f"{staged}-{host.name or 'root'}"
                self.staging.append(StagingAction("copy", target, source=host))
                host = target
            self.bind(host, dest, mount.mode)

    def files(self) -> None:
        facts = self.facts
        self.bind(facts.known_hosts, KNOWN_HOSTS, "ro")
        self.bind(facts.system_prompt, SYSTEM_PROMPT, "ro")
        if facts.notify_dir is not None:
            # The sandbox's own directory, holding its socket and nothing else (never
            # the runtime directory: without XDG_RUNTIME_DIR that is the data directory,
            # with the builder's keys). Made before the start, removed after the end.
            self.staging.append(StagingAction("socketdir", facts.notify_dir))
            self.bind(facts.notify_dir, NOTIFY_DIR, "ro")
        if not facts.notify_daemon:
            self.warnings.append("no notification daemon is running, so this sandbox cannot "
                                 "notify you until one starts: start one with "
                                 "`wrapix-notifyd` (or wrapix-tui)")
        if facts.deploy_key is not None:
            self.bind(facts.deploy_key, f"{KEYS_DIR}/deploy_key", "ro")
        if facts.signing_key is not None:
            self.bind(facts.signing_key, f"{KEYS_DIR}/signing_key", "ro")

    def environment(self) -> tuple[dict[str, str], dict[str, str]]:
        """(container env with values, secrets by name)."""
        facts, spec = self.facts, self.spec
        name = facts.git_name or "Wrapix Sandbox"
        email = facts.git_email or "sandbox@wrapix.dev"
        env: dict[str, str] = {
            "HOME": self.home,
            "USER": facts.user,
            "WRAPIX_SANDBOX": spec.name,
            "WRAPIX_WORKSPACE": str(spec.workspace),
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "WRAPIX_GIT_SIGN": "1" if self.settings.git_sign else "0",
            "BD_NO_DAEMON": "1",
        }
        if facts.term and spec.tty:
            env["TERM"] = facts.term
        if facts.session_id:
            env["WRAPIX_SESSION_ID"] = facts.session_id
        if facts.deploy_key is not None:
            env["WRAPIX_DEPLOY_KEY"] = f"{KEYS_DIR}/deploy_key"
        if facts.signing_key is not None:
            env["WRAPIX_SIGNING_KEY"] = f"{KEYS_DIR}/signing_key"
        if spec.session is not None:
            env["WRAPIX_SESSION"] = spec.session.name
            if spec.session.setup:
                env["WRAPIX_SESSION_SETUP"] = "\n".join(shlex.join(argv)
                                                        for argv in spec.session.setup)
            if spec.tty and spec.ralph is None and spec.role == "agent":
                env["WRAPIX_AGENT_TMUX"] = "1"  # `wrapix say` types into its tmux pane
        if spec.ralph is not None:
            env.update({"RALPH_MODE": "1", "RALPH_CMD": spec.ralph.cmd,
                        "RALPH_ARGS": shlex.join(spec.ralph.args), "RALPH_DIR": spec.ralph.dir})
        for origin, extra in (("profile", spec.profile.env), ("settings", self.settings.env),
                              ("--env", spec.env)):
            _check_env(extra, origin)
            env.update(_expand_values(extra, self.home, facts.user))
        secrets = {key: value for key, value in facts.secrets.items()
                   if key in SECRET_NAMES and key not in env}
        return env, secrets

    def cpus(self) -> str:
        if self.settings.cpus is not None:
            return f"{self.settings.cpus:g}"
        nproc = max(self.facts.nproc, 1)
        return f"{min(float(nproc), max(nproc / 2, 2.0)):g}"


_SIZE = re.compile(r"([0-9]+)\s*([kmgt]?)i?b?\Z", re.IGNORECASE)


def home_size(settings: SandboxSettings) -> str:
    """The tmpfs home's ``size=`` (``sandbox.home_size``, else ``sandbox.memory``) in the
    kernel's syntax: a number with an optional k, m, g or t."""
    value = settings.home_size or settings.memory
    found = _SIZE.match(value.strip())
    if found is None or int(found.group(1)) == 0:
        key = "home_size" if settings.home_size else "memory"
        raise PlanError(f"sandbox.{key} {value!r} is not a size",
                        "write a number with k, m or g, e.g. \"2g\"")
    return f"{int(found.group(1))}{found.group(2).lower()}"


def _network(facts: HostFacts, settings: SandboxSettings) -> str:
    if settings.network_backend == "auto":
        return "pasta" if facts.caps.pasta else "slirp4netns"
    if settings.network_backend == "pasta" and not facts.caps.pasta:
        raise PlanError(f"this Podman ({facts.caps.version}) cannot use pasta networking",
                        "set sandbox.network_backend to 'auto' or 'slirp4netns'")
    return settings.network_backend


def network_mode(spec: SandboxSpec, settings: SandboxSettings) -> policy.Mode:
    """``--network``, else ``sandbox.network``, else the profile's, else ``open``."""
    return spec.network or settings.network or spec.profile.network or policy.DEFAULT_MODE


def allowlist(spec: SandboxSpec, settings: SandboxSettings) -> tuple[str, ...]:
    """The hosts an ``allowlist`` sandbox may reach: the agent's, the profile's, then
    ``sandbox.allowlist`` (user config and project added up)."""
    return policy.effective(spec.profile.allowlist, spec.profile.agent, settings.allowlist)


def _egress(builder: PlanBuilder, env: dict[str, str], mode: policy.Mode) -> list[str]:
    """The ``--network`` flags for ``mode``; binds and env for an allowlist sandbox."""
    if mode == "open":
        return ["--network", _network(builder.facts, builder.settings)]
    env["WRAPIX_EGRESS"] = mode
    if mode == "allowlist":
        if builder.facts.egress_dir is None:
            raise PlanError("no egress directory for the allowlist proxy",
                            "this is a bug in wrapix; use --network none meanwhile")
        builder.bind(builder.facts.egress_dir, CONTAINER_DIR, "ro")
        env.update(proxy_env())
    return ["--network", "none"]


def plan_podman(spec: SandboxSpec, facts: HostFacts, settings: SandboxSettings,
                podman: str = "podman") -> LaunchPlan:
    """The ``podman run`` invocation for ``spec`` on this host."""
    builder = PlanBuilder(spec, facts, settings)
    builder.workspace()
    builder.mounts()
    builder.files()
    env, secrets = builder.environment()
    mode = network_mode(spec, settings)
    network_flags = _egress(builder, env, mode)
    home, caps = builder.home, facts.caps
    cpus = builder.cpus()
    limits = f"cpus={cpus},memory={settings.memory},pids={settings.pids_limit}"
    if caps.limits_ignored:
        builder.warnings.append(
            "rootless Podman on cgroup v1 ignores --cpus/--memory/--pids-limit: this sandbox "
            "runs without those limits (they are still recorded on the container)")
    labels = {naming.LABEL_SANDBOX: "1", naming.LABEL_PROFILE: spec.profile.name,
              naming.LABEL_WORKSPACE: str(spec.workspace), naming.LABEL_LIMITS: limits,
              naming.LABEL_ROLE: spec.role, naming.LABEL_NETWORK: mode}
    if spec.session is not None:
        labels[naming.LABEL_SESSION] = spec.session.name
        labels[naming.LABEL_PROJECT] = str(spec.session.project)

    argv = [podman, "run", "--name", spec.name, "--hostname", spec.name[:63]]
    for key, value in labels.items():
        argv += ["--label", f"{key}={value}"]
    argv += _flags(spec, caps.init)
    argv += ["--userns=keep-id"]
    if caps.passwd_entry:
        argv += ["--passwd-entry",
                 f"{facts.user}:*:{facts.uid}:{facts.gid}:wrapix sandbox:{home}:/bin/sh"]
    argv += ["--tmpfs", f"{home}:rw,exec,nosuid,nodev,mode=0700,size={home_size(settings)},U"]
    argv += ["--security-opt", "no-new-privileges", "--cap-drop", "all"]
    argv += network_flags
    argv += ["--cpus", cpus, "--memory", settings.memory,
             "--pids-limit", str(settings.pids_limit)]
    if spec.detach or spec.interactive:
        argv += ["--detach-keys", settings.detach_keys]
    argv += ["-w", WORKSPACE]
    for bind in builder.binds:
        argv += ["-v", f"{bind.source}:{bind.dest}:{bind.mode}"]
    argv += env_args(env)
    for name in secrets:
        argv += ["-e", name]
    argv += [spec.image, *spec.command]
    return LaunchPlan(name=spec.name, argv=argv, env=secrets, staging=builder.staging,
                      warnings=builder.warnings, binds=builder.binds, container_env=env,
                      network=mode,
                      allowlist=allowlist(spec, settings) if mode == "allowlist" else ())


def _flags(spec: SandboxSpec, init: bool) -> list[str]:
    flags: list[str] = []
    if spec.remove:
        flags.append("--rm")
    if spec.detach:
        flags.append("-d")
    if spec.interactive:
        flags.append("-i")
    if spec.tty:
        flags.append("-t")
    if init:
        flags.append("--init")
    return flags


def env_args(env: Mapping[str, str]) -> Iterable[str]:
    for name, value in env.items():
        yield "-e"
        yield f"{name}={value}"
