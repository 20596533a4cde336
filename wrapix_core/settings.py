"""The one settings model.

Sources, later wins: built-in defaults, the user file
``$XDG_CONFIG_HOME/wrapix/config.toml``, the project file ``<workspace>/wrapix.toml``,
then ``WRAPIX_*`` environment variables (nested with ``__``, e.g.
``WRAPIX_SANDBOX__MEMORY=8g``). Each file is validated on its own first, so an error
names the file and the key. ``[profiles.*]`` tables in the same files are read by
:mod:`wrapix_core.profiles`, not here.

Importing pydantic-settings costs about a quarter of a second; the TUI therefore
loads settings in a worker after its first frame.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from wrapix_core import paths
from wrapix_core.agents.registry import AgentName
from wrapix_core.egress import policy
from wrapix_core.errors import ConfigError

PROJECT_FILE = "wrapix.toml"
NETWORK_BACKENDS = ("auto", "pasta", "slirp4netns")
"""Values ``sandbox.network`` took before it named the egress mode (now
``sandbox.network_backend``); still accepted there and moved, see the README."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class SandboxSettings(_Section):
    runtime: Literal["auto", "podman", "apple"] = "auto"
    """Container runtime; ``auto`` picks Apple ``container`` on macOS, Podman elsewhere."""
    podman: str = "podman"
    """Podman executable (name on PATH or absolute path)."""
    container: str = "container"
    """Apple ``container`` executable (macOS)."""
    profile: str = "base"
    """Profile used when none is given on the command line."""
    agent: AgentName = "claude"
    """Agent a sandbox runs when neither ``--agent`` nor its profile names one:
    ``claude``, ``codex``, ``gemini`` or ``opencode``."""
    agent_credentials: dict[AgentName, list[str]] = {}
    """Per agent, the environment variables passed into its sandboxes by name (never in
    argv), replacing the built-in list (e.g. ``codex = ["OPENAI_API_KEY"]``)."""
    cpus: float | None = None
    """CPU limit; default max(nproc / 2, 2)."""
    memory: str = "4096m"
    """Memory limit passed to ``--memory``."""
    home_size: str | None = None
    """Size of the sandbox's tmpfs home (``512m``, ``2g``; the ``size=`` of its mount,
    which the kernel enforces even where cgroups ignore ``--memory``); default: ``memory``.
    Writing more into ``$HOME`` fails with "No space left on device"."""
    pids_limit: int = Field(default=4096, ge=64)
    """Process limit passed to ``--pids-limit``."""
    network: policy.Mode | None = None
    """Egress: ``open``, ``allowlist`` (only the hosts in ``allowlist``, through a proxy
    on the host) or ``none``; default: the profile's, else ``open``."""
    network_backend: Literal["auto", "pasta", "slirp4netns"] = "auto"
    """Podman network backend in ``open`` mode; ``auto`` uses pasta where this Podman
    supports it."""
    allowlist: list[str] = []
    """Hosts sandboxes may reach in ``allowlist`` mode, added to the profile's and the
    agent's (``github.com``, ``*.npmjs.org``); the user's and the project's lists add up."""
    readonly_paths: list[str] = []
    """Workspace paths mounted read-only in addition to ``.git/hooks`` and ``.git/config``
    (those two are always protected and cannot be removed here)."""
    git_sign: bool = True
    """Sign commits with the signing key when one exists (``WRAPIX_GIT_SIGN``)."""
    known_hosts: Path | None = None
    """SSH known_hosts mounted read-only; default: the pinned file shipped with wrapix."""
    deploy_key: str | None = None
    """Deploy key name under ``~/.ssh/deploy_keys/``; default: the workspace directory name."""
    env: dict[str, str] = {}
    """Extra environment variables for every sandbox."""
    detach_keys: str = "ctrl-p,ctrl-q"
    """Key sequence that detaches from ``wrapix attach`` without stopping the agent."""
    command_timeout: float = Field(default=30.0, gt=0)
    """Seconds any runtime command may take before it is treated as hung."""

    @model_validator(mode="before")
    @classmethod
    def _old_network_key(cls, data: Any) -> Any:
        """``network = "pasta"`` (the backend, before egress modes) still works."""
        if isinstance(data, dict) and data.get("network") in NETWORK_BACKENDS:
            data = dict(data)
            data.setdefault("network_backend", data.pop("network"))
        return data

    @field_validator("allowlist")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        try:
            return list(policy.merge(value))
        except policy.PatternError as exc:
            raise ValueError(str(exc)) from None


class ImageSettings(_Section):
    backend: Literal["auto", "containerfile", "nix"] = "auto"
    """Image backend; ``auto`` uses Nix when it is installed with a nixpkgs to build from,
    else a Containerfile."""
    base: str = "docker.io/library/debian:bookworm-slim"
    """Base image for the Containerfile backend."""
    agent: bool = True
    """Install agents into images (profiles can turn it off)."""
    agent_version: str = "latest"
    """Claude Code version for new images (``latest`` is resolved when the layer is built)."""
    agent_versions: dict[AgentName, str] = {}
    """Version per agent (``codex = "0.171.0"``); unset: ``latest`` (Claude:
    ``agent_version``). Part of the image's hash."""
    node_version: str = "22.23.5"
    """Node for agents that need it (Gemini CLI), from the npm registry's
    ``node-linux-<arch>`` package."""
    npm_registry: str = "https://registry.npmjs.org"
    """Where the agents' (and Node's) npm packages are fetched from."""
    ca_bundle: str = "host"
    """CA certificates images trust besides Debian's: ``host`` (the host's system bundle,
    so a TLS-inspecting proxy the host trusts works inside), ``none``, or a PEM file path."""
    build_timeout: float = Field(default=3600.0, gt=0)
    """Seconds an image build may take."""

    def version_of(self, agent: str) -> str:
        """The version to install of ``agent``."""
        default = self.agent_version if agent == "claude" else "latest"
        return next((version for name, version in self.agent_versions.items()
                     if name == agent), default)


class NotifySettings(_Section):
    socket: Path | None = None
    """Daemon socket; default ``$XDG_RUNTIME_DIR/wrapix/notify.sock``."""
    tcp: str | None = None
    """``HOST:PORT`` the daemon also listens on (macOS: the container gateway, never 0.0.0.0)."""
    backend: Literal["auto", "notify-send", "terminal-notifier", "none"] = "auto"
    """Desktop notification backend."""
    inbox_limit: int = Field(default=10_000, ge=10)
    """Entries kept in the inbox; the oldest are dropped by rotation."""


class BuilderSettings(_Section):
    port: int = Field(default=2222, ge=1, le=65535)
    """Host port for the builder's SSH, bound to 127.0.0.1 only."""
    name: str = "wrapix-builder"
    """Builder container name."""
    image: str | None = None
    """Builder image; default: built by wrapix from the builder profile."""
    start_timeout: float = Field(default=120.0, gt=0)
    """Seconds to wait for the builder's SSH to answer."""


def command_argv(command: list[str] | str) -> list[str]:
    """A ``ralph.check`` command as argv: a list as it is, a line split like a shell
    splits words (:func:`shlex.split`; no shell ever runs it). ValueError when it is
    empty or its quotes do not close."""
    import shlex

    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv or not argv[0]:
        raise ValueError("a command needs at least a program name")
    return argv


def _command(value: Any) -> Any:
    if isinstance(value, str | list):
        command_argv(value)
    return value


def _argv_list(value: Any) -> Any:
    if isinstance(value, list) and value and not value[0]:
        raise ValueError("the program name is empty")
    return value


Command = Annotated[list[str] | str, AfterValidator(_command)]
"""A command: an argv list, or a line split like a shell splits words (never a shell)."""
HookCommand = Annotated[list[str], Field(min_length=1), AfterValidator(_argv_list)]
"""A hook: an argv list only (a string is refused: it would look like a shell line)."""


class RalphHooks(_Section):
    """Host commands (argv lists, never a shell string) Ralph runs around its work, in
    the workspace, with ``RALPH_HOOK``, ``RALPH_LABEL``, ``RALPH_ISSUE``,
    ``RALPH_ISSUE_TITLE``, ``RALPH_OUTCOME``, ``RALPH_REASON``, ``RALPH_LOG``,
    ``RALPH_ATTEMPTS`` and, after a loop, ``RALPH_DONE``, ``RALPH_PARKED``,
    ``RALPH_ASKED``, ``RALPH_SKIPPED`` and ``RALPH_EXIT`` in their environment. Only from
    the user's config or a trusted ``wrapix.toml``: never from Ralph's ``config.toml``."""

    pre_loop: HookCommand | None = None
    """Before ``ralph loop`` takes its first issue; failing ends the loop (exit 1)."""
    pre_step: HookCommand | None = None
    """Before each step's agent; failing skips the issue (its output in the notes)."""
    post_step: HookCommand | None = None
    """After each step (after a failed one only with ``hooks_on_failure``)."""
    post_loop: HookCommand | None = None
    """After ``ralph loop`` (after one with a failure only with ``hooks_on_failure``)."""


class RalphAgents(_Section):
    """An agent per phase: its name (``codex``: that agent's own non-interactive command)
    or a command line; an unset phase uses ``ralph.agent``."""

    plan: str | None = None
    """The plan interview's agent."""
    ready: str | None = None
    """The agent that turns the spec into issues."""
    step: str | None = None
    """The agent that works one issue."""
    check: str | None = None
    """The reviewer of ``ralph check``."""


class RalphSettings(_Section):
    agent: str = "claude --dangerously-skip-permissions"
    """Agent: a name (``claude``, ``codex``, ``gemini``, ``opencode``) or a command line
    (split like a shell splits words, never run by a shell) whose program is one of them
    or speaks Claude's stream-json; ``RALPH_AGENT`` overrides it."""
    agents: RalphAgents = RalphAgents()
    """Agent command line per phase (``plan``, ``ready``, ``step``, ``check``); a phase set
    here wins over ``agent`` and ``RALPH_AGENT``."""
    host: bool = False
    """Run agents directly on the host instead of in a sandbox."""
    profile: str | None = None
    """Sandbox profile for agent sessions; default: ``sandbox.profile``."""
    review: bool = True
    """``ralph ready`` proposes issues for review before the loop may take them."""
    retries: int = Field(default=2, ge=0, le=10)
    """Extra attempts for a step that fails or ends without a signal."""
    watchdog: float = Field(default=30.0, gt=0)
    """Seconds an agent may keep running after its final result before it is ended."""
    step_timeout: float = Field(default=3600.0, gt=0)
    """Seconds one agent session may take in all."""
    pause_on_failure: bool = False
    """``ralph loop`` stops at the first failed issue (by default it parks the issue with
    ``ralph:clarify`` and goes on with the next ready one)."""
    check: list[Command] = []
    """Commands run after ``WORK_COMPLETE``, before the issue closes, in a sandbox like
    the agent's (on the host with ``--host``): each an argv list or a command line split
    like a shell splits words, never run by a shell. A failing one makes the attempt a
    failure, its output's tail given to the next attempt."""
    check_timeout: float = Field(default=1800.0, gt=0)
    """Seconds each ``check`` command may take."""
    hooks: RalphHooks = RalphHooks()
    """Host commands around the loop and each step (see ``ralph.hooks.*``)."""
    hooks_on_failure: bool = False
    """Run ``post_step`` after a failed step and ``post_loop`` after a loop with a failure
    (by default they run after successes and questions only)."""
    hook_timeout: float = Field(default=300.0, gt=0)
    """Seconds each hook may take."""
    parallel: int = Field(default=2, ge=1, le=16)
    """Issues at once in a parallel loop started from the TUI board (its parallel-loop
    key); ``ralph loop --parallel N`` names its own."""
    max_iterations: int = Field(default=3, ge=1, le=50)
    """``ralph loop --check``: at most this many rounds of loop, then ``ralph check``; the
    loop ends (exit 1) when the checker still creates fix-up issues after the last one."""


class SessionSettings(_Section):
    """Sessions: each agent sandbox on a branch ``wrapix/NAME`` in a repository of its
    own under wrapix's data directory (see the README's Sessions section)."""

    direct: bool = False
    """Agent sandboxes on a git repository mount your checkout directly (as with
    ``wrapix run --direct``) instead of running in a new session."""
    copy_paths: list[str] = Field(default=[], alias="copy")
    """``copy``: files and directories a fresh checkout lacks (``.env``, local configuration),
    copied from the project into each new session; links are never followed."""
    setup: list[Command] = []
    """Commands run inside a session's sandbox before the agent starts (each an argv list
    or a line split like a shell splits words, never run by a shell); their output is in
    the sandbox's log, and a failing one ends the sandbox before the agent starts."""


HOST_NAME = r"[a-z0-9][a-z0-9_-]{0,31}"
"""A ``[hosts.NAME]`` key: no dot (a remote sandbox's socket directory is ``HOST.NAME``)."""
LOCAL_HOST = "local"
"""This machine's name among the hosts (reserved)."""


class HostSettings(_Section):
    """A remote Podman engine reached over SSH (``[hosts.NAME]``; see ``wrapix hosts``)."""

    connection: str | None = None
    """A ``podman system connection`` name (its URL and identity are used)."""
    url: str | None = None
    """``ssh://user@host[:port]/run/user/UID/podman/podman.sock``."""
    identity: Path | None = None
    """The SSH private key for ``url`` (default: ssh's own)."""
    timeout: float = Field(default=10.0, gt=0, le=600)
    """Seconds any one call to this host may take before it is marked unreachable."""

    @model_validator(mode="after")
    def _one_target(self) -> HostSettings:
        if (self.connection is None) == (self.url is None):
            raise ValueError("set exactly one of `connection` (a podman system connection "
                             "name) or `url` (ssh://user@host[:port]/path/to/podman.sock)")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme != "ssh" or not parts.hostname or not parts.username \
                    or not parts.path.startswith("/"):
                raise ValueError(f"url {self.url!r} is not ssh://user@host[:port]/path/to/"
                                 "podman.sock")
        return self


class SettingsData(BaseModel):
    """All settings as plain data; also the schema each TOML file is checked against."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    sandbox: SandboxSettings = SandboxSettings()
    """Sandbox launch options."""
    image: ImageSettings = ImageSettings()
    """Image builder options."""
    notify: NotifySettings = NotifySettings()
    """Notification daemon and inbox options."""
    builder: BuilderSettings = BuilderSettings()
    """Linux builder options."""
    ralph: RalphSettings = RalphSettings()
    """Ralph workflow options."""
    session: SessionSettings = SessionSettings()
    """Session options: direct mode, files copied in, setup commands."""
    keymap: dict[str, str] = {}
    """TUI key remapping: binding id to keys, e.g. ``attach = "ctrl+a"``."""
    profiles: dict[str, Any] = {}
    """User profiles; validated by the profile loader, which names the file and key."""
    hosts: dict[str, HostSettings] = {}
    """Remote Podman hosts over SSH, by name (user config only, never a project's)."""

    @field_validator("hosts")
    @classmethod
    def _host_names(cls, value: dict[str, HostSettings]) -> dict[str, HostSettings]:
        for name in value:
            if name == LOCAL_HOST or not re.fullmatch(HOST_NAME, name):
                raise ValueError(f"host name {name!r}: use lowercase letters, digits, - and _ "
                                 f"(at most 32; {LOCAL_HOST!r} is this machine)")
        return value


class Settings(BaseSettings, SettingsData):
    """Effective settings: file data under ``WRAPIX_*`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="WRAPIX_",
        env_nested_delimiter="__",
        extra="forbid",
        use_attribute_docstrings=True,
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # File data arrives as init kwargs; the environment must beat it.
        return (env_settings, init_settings)


def user_config_file() -> Path:
    return paths.config_dir() / "config.toml"


def read_toml(path: Path, *, project: bool = False) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a ConfigError naming the file.

    ``project`` files live where agents can write, so they must be trusted first
    (:mod:`wrapix_core.trust`), and a link there is refused, never followed
    (:mod:`wrapix_core.workspace_fs`).
    """
    try:
        if project:
            from wrapix_core import workspace_fs

            data = workspace_fs.read_bytes(path.parent, path.name)
        else:
            data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if project:
        from wrapix_core import trust

        trust.require(path, data)
    return parse_toml(path, data)


def parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    """``data`` (the content of ``path``) as TOML; a ConfigError naming the file and the
    line otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})", "fix the file or remove it") from None
    return toml_text(path, text)


def toml_text(path: Path, text: str) -> dict[str, Any]:
    """``text`` (read from ``path``) parsed; a syntax error becomes a ConfigError naming
    the file and the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        if "line" not in detail:
            # "at end of document": say which line that is.
            detail += f", line {text.rstrip(chr(10)).count(chr(10)) + 1}"
        raise ConfigError(f"{path}: invalid TOML ({detail})", "fix the file or remove it"
                          ) from None


def _describe(exc: ValidationError, source: str) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ConfigError(f"{source}: key '{key}': {first['msg']}{more}", "fix the value or remove it")


ADDED_LISTS = {("sandbox", "allowlist")}
"""Lists that add up across files (the project's allowlist extends the user's) instead
of the later file's replacing the earlier's."""


def _deep_merge(base: dict[str, Any], top: dict[str, Any],
                where: tuple[str, ...] = ()) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value, (*where, key))
        elif ((*where, key) in ADDED_LISTS and isinstance(value, list)
              and isinstance(merged.get(key), list)):
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def config_files(workspace: Path | None) -> list[tuple[Path, bool]]:
    """The TOML files that feed settings, lowest precedence first, existing ones only,
    each with whether it is the project's (which must be trusted before it is obeyed)."""
    found = [(user_config_file(), False)] if user_config_file().is_file() else []
    # The project's file as it is, not where a link leads: a link is read (and refused).
    project = None if workspace is None else workspace / PROJECT_FILE
    if project is not None and (project.is_symlink() or project.is_file()):
        found.append((project, True))
    return found


def load_settings(workspace: Path | None = None) -> Settings:
    """Load effective settings for ``workspace`` (None: user file and env only)."""
    merged: dict[str, Any] = {}
    for path, project in config_files(workspace):
        data = read_toml(path, project=project)
        if project and "hosts" in data:
            raise ConfigError(f"{path}: [hosts] is not allowed in a project's {PROJECT_FILE} "
                              "(it would send your sandboxes, and your SSH key, where the "
                              "project says)", f"move it to {user_config_file()}")
        try:
            SettingsData.model_validate(data)
        except ValidationError as exc:
            raise _describe(exc, str(path)) from None
        merged = _deep_merge(merged, data)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise _describe(exc, "environment (WRAPIX_*)") from None
