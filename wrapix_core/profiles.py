"""Profiles: the tools, environment and mounts a sandbox gets.

Built-ins are ``base``, ``rust`` and ``python``; :func:`derive_profile` extends any
profile (derivation composes). Users add profiles as TOML: one file per profile in
``$XDG_CONFIG_HOME/wrapix/profiles/NAME.toml``, or ``[profiles.NAME]`` tables in the
user ``config.toml`` or a project ``wrapix.toml``. Errors name the file and the key.

Paths in mounts and env values may use ``~``, ``$HOME`` and ``$USER`` (expanded for the
host in mount sources, for the container in destinations and env values) and nothing
else: no shell ever evaluates them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wrapix_core import paths
from wrapix_core.egress import policy
from wrapix_core.errors import ConfigError
from wrapix_core.settings import PROJECT_FILE, config_files, read_toml

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DEST_PREFIXES = ("/", "~/", "$HOME/", "${HOME}/")
_KERNEL_DIRS = ("proc", "sys", "dev")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Package(_Frozen):
    """One tool, with the names each image backend installs it by."""

    name: str
    nix: str
    """Attribute in nixpkgs."""
    debian: tuple[str, ...] = ()
    """Debian packages that provide it (empty: none in Debian; see ``pip``)."""
    pip: str | None = None
    """PyPI requirement, for tools Debian does not ship (installed in its own venv)."""

    @classmethod
    def simple(cls, name: str, debian: str | None = None, nix: str | None = None) -> Package:
        return cls(name=name, nix=nix or name, debian=(debian or name,))


class Mount(_Frozen):
    source: str
    """Host path; ``~``, ``$HOME`` and ``$USER`` are expanded, nothing else."""
    dest: str
    """Container path: absolute, or under ``~``/``$HOME`` (the sandbox home)."""
    mode: Literal["ro", "rw"] = "ro"
    optional: bool = False
    """Skip silently when the source does not exist (else: an error naming it)."""

    @field_validator("dest")
    @classmethod
    def _dest_is_absolute(cls, value: str) -> str:
        if value not in ("~", "$HOME") and not value.startswith(_DEST_PREFIXES):
            raise ValueError(f"destination {value!r} must be absolute or start with ~/")
        parts = PurePosixPath(value).parts
        if ".." in parts:
            raise ValueError(f"destination {value!r} must not contain '..'")
        if len(parts) > 1 and parts[1] in _KERNEL_DIRS:
            raise ValueError(f"destination {value!r} is inside /{parts[1]}, which belongs "
                             "to the kernel")
        return value

    @field_validator("source")
    @classmethod
    def _source_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("source must not be empty")
        return value


def _check_env(env: Mapping[str, str]) -> dict[str, str]:
    for name, value in env.items():
        if not ENV_NAME.match(name):
            raise ValueError(f"environment name {name!r} is not an identifier "
                             "(letters, digits and _, not starting with a digit)")
        if "\0" in value:
            raise ValueError(f"environment value of {name} contains a NUL byte")
    return dict(env)


def _check_allowlist(patterns: Iterable[str]) -> tuple[str, ...]:
    try:
        return policy.merge(patterns)
    except policy.PatternError as exc:
        raise ValueError(str(exc)) from None


class Profile(_Frozen):
    name: str
    description: str = ""
    packages: tuple[Package, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    image: str | None = None
    """Use this image instead of building one from the packages."""
    agent: bool = True
    """Install the agent (Claude Code) into the image; off for fast test profiles."""
    network: policy.Mode | None = None
    """Egress mode for this profile's sandboxes (settings and ``--network`` win)."""
    allowlist: tuple[str, ...] = ()
    """Hosts its sandboxes may reach in ``allowlist`` mode (the agent's are added)."""

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_env(value)

    @field_validator("allowlist")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_allowlist(value)

    def package_names(self) -> list[str]:
        return [package.name for package in self.packages]


def derive_profile(
    base: Profile,
    *,
    name: str | None = None,
    description: str | None = None,
    packages: Iterable[Package] = (),
    env: Mapping[str, str] | None = None,
    mounts: Iterable[Mount] = (),
    image: str | None = None,
    agent: bool | None = None,
    network: policy.Mode | None = None,
    allowlist: Iterable[str] = (),
) -> Profile:
    """A profile extending ``base``: packages, mounts and allowlist appended, env overlaid.

    A package already in ``base`` (same name) is replaced in place, so deriving twice
    never duplicates a tool.
    """
    added = {package.name: package for package in packages}
    merged = [added.pop(package.name, package) for package in base.packages]
    merged.extend(added.values())
    return Profile(
        name=name or base.name,
        description=base.description if description is None else description,
        packages=tuple(merged),
        env={**base.env, **_check_env(env or {})},
        mounts=(*base.mounts, *mounts),
        image=image if image is not None else base.image,
        agent=base.agent if agent is None else agent,
        network=network if network is not None else base.network,
        allowlist=policy.merge(base.allowlist, allowlist),
    )


BASE = Profile(
    name="base",
    description="Core tools for any project",
    packages=(
        Package.simple("git"),
        Package.simple("ripgrep"),
        Package.simple("fd", debian="fd-find"),
        Package.simple("jq"),
        Package.simple("vim"),
        Package.simple("openssh", debian="openssh-client"),
        Package.simple("curl"),
        Package.simple("less"),
        Package.simple("tree"),
        Package.simple("procps", nix="procps"),
        Package.simple("tmux"),
        Package.simple("nix", debian="nix-bin"),
    ),
    allowlist=policy.BASE_HOSTS,
)

RUST = derive_profile(
    BASE,
    name="rust",
    description="Rust toolchain",
    packages=(
        # bookworm has no rustup package; Debian's rustc and cargo stand in there.
        Package(name="rustup", nix="rustup", debian=("rustc", "cargo")),
        Package.simple("gcc"),
        Package(name="openssl", nix="openssl", debian=("libssl-dev",)),
        Package.simple("pkg-config"),
        Package(name="postgresql.lib", nix="postgresql.lib", debian=("libpq-dev",)),
    ),
    env={
        "RUSTUP_HOME": "~/.rustup",
        "CARGO_HOME": "~/.cargo",
        "OPENSSL_DIR": "/usr",
        "OPENSSL_INCLUDE_DIR": "/usr/include",
    },
    mounts=(
        Mount(source="~/.cargo/registry", dest="~/.cargo/registry", mode="ro", optional=True),
        Mount(source="~/.cargo/git", dest="~/.cargo/git", mode="ro", optional=True),
    ),
    allowlist=policy.RUST_HOSTS,
)

PYTHON = derive_profile(
    BASE,
    name="python",
    description="Python with uv and ruff",
    packages=(
        Package(name="python3", nix="python3", debian=("python3", "python3-venv")),
        Package(name="uv", nix="uv", pip="uv"),
        Package(name="ruff", nix="ruff", pip="ruff"),
    ),
    env={"UV_CACHE_DIR": "~/.cache/uv"},
    mounts=(Mount(source="~/.cache/uv", dest="~/.cache/uv", mode="ro", optional=True),),
    allowlist=policy.PYTHON_HOSTS,
)

BUILTIN: dict[str, Profile] = {profile.name: profile for profile in (BASE, RUST, PYTHON)}


class _ProfileFile(_Frozen):
    """What a user writes for one profile in TOML."""

    base: str | None = "base"
    """Profile to derive from (``none`` or empty for an empty profile)."""
    description: str | None = None
    packages: list[Package] = []
    env: dict[str, str] = {}
    mounts: list[Mount] = []
    image: str | None = None
    agent: bool | None = None
    network: policy.Mode | None = None
    allowlist: list[str] = []

    @field_validator("packages", mode="before")
    @classmethod
    def _package_names(cls, value: Any) -> Any:
        """A package is a name (same in Nix and Debian) or a table with name/nix/debian/pip."""
        if not isinstance(value, list):
            return value
        items: list[Any] = []
        for item in value:
            if isinstance(item, str):
                items.append({"name": item, "nix": item, "debian": [item]})
            elif isinstance(item, dict):
                items.append({"nix": item.get("name"), **item})
            else:
                raise ValueError("each package is a name or a table with name, nix, debian, pip")
        return items

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_env(value)

    @field_validator("allowlist")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return list(_check_allowlist(value))


class ProfileCatalog:
    """Built-in and user profiles for one workspace, with derivation resolved lazily."""

    def __init__(self, definitions: Mapping[str, tuple[str, _ProfileFile]]):
        self._definitions = dict(definitions)
        self._resolved: dict[str, Profile] = dict(BUILTIN)
        for name in self._definitions:
            self._resolved.pop(name, None)  # a user profile may replace a built-in

    def names(self) -> list[str]:
        return sorted({*BUILTIN, *self._definitions})

    def source(self, name: str) -> str:
        """Where a profile was defined: a file path, or ``built-in``."""
        return self._definitions[name][0] if name in self._definitions else "built-in"

    def get(self, name: str) -> Profile:
        return self._resolve(name, ())

    def all(self) -> list[Profile]:
        return [self.get(name) for name in self.names()]

    def _resolve(self, name: str, chain: tuple[str, ...]) -> Profile:
        if name in self._resolved:
            return self._resolved[name]
        if name not in self._definitions:
            known = ", ".join(self.names())
            raise ConfigError(f"unknown profile '{name}'",
                              f"use one of: {known} (or define it in {PROJECT_FILE})")
        if name in chain:
            raise ConfigError(f"profile '{name}' derives from itself "
                              f"({' -> '.join((*chain, name))})", "break the cycle")
        source, spec = self._definitions[name]
        if spec.base in (None, "", "none"):
            parent = Profile(name=name)
        elif spec.base == name and name in BUILTIN:
            parent = BUILTIN[name]  # [profiles.base] extends the built-in base
        else:
            try:
                parent = self._resolve(spec.base, (*chain, name))
            except ConfigError as error:
                if spec.base in self._definitions or spec.base in BUILTIN:
                    raise
                raise ConfigError(f"{source}: key 'profiles.{name}.base': unknown profile "
                                  f"'{spec.base}'", f"use one of: {', '.join(self.names())}"
                                  ) from error
        profile = derive_profile(
            parent, name=name, description=spec.description, packages=spec.packages,
            env=spec.env, mounts=spec.mounts, image=spec.image, agent=spec.agent,
            network=spec.network, allowlist=spec.allowlist,
        )
        self._resolved[name] = profile
        return profile


def _describe(exc: ValidationError, source: str, prefix: str) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join([prefix, *(str(part) for part in first["loc"])])
    message = first["msg"].removeprefix("Value error, ")
    return ConfigError(f"{source}: key '{key}': {message}", "fix the profile definition")


def _parse(data: Any, source: str, name: str) -> _ProfileFile:
    prefix = f"profiles.{name}"
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: key '{prefix}' must be a table")
    try:
        return _ProfileFile.model_validate(data)
    except ValidationError as exc:
        raise _describe(exc, source, prefix) from None


def profile_files() -> list[Path]:
    directory = paths.config_dir() / "profiles"
    return sorted(directory.glob("*.toml")) if directory.is_dir() else []


def load_catalog(workspace: Path | None = None) -> ProfileCatalog:
    """Read user profiles (lowest precedence first: profile files, user config, project)."""
    definitions: dict[str, tuple[str, _ProfileFile]] = {}
    for path in profile_files():
        definitions[path.stem] = (str(path), _parse(read_toml(path), str(path), path.stem))
    for path, project in config_files(workspace):
        profiles = read_toml(path, project=project).get("profiles", {})
        if not isinstance(profiles, dict):
            raise ConfigError(f"{path}: key 'profiles' must be a table of profiles")
        for name, data in profiles.items():
            definitions[name] = (str(path), _parse(data, str(path), name))
    return ProfileCatalog(definitions)
