"""Everything an image is built from, and the hash that names it.

The tag ``localhost/wrapix-<profile>:<hash>`` covers every input: the profile (packages
and env), the backend, the base image's id, wrapix's version and every file copied in
(the rendered recipe included). An unchanged profile therefore never rebuilds, and any
change gets a new tag.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from wrapix_core import __version__
from wrapix_core.agents import files as agent_files
from wrapix_core.errors import WrapixError
from wrapix_core.image import containerfile, files, nixexpr
from wrapix_core.image.recipe import Recipe
from wrapix_core.image.wheel import WheelSource, collect, wheel_bytes
from wrapix_core.paths import open_regular
from wrapix_core.profiles import Profile
from wrapix_core.settings import ImageSettings

Backend = Literal["containerfile", "nix"]
REPOSITORY = "localhost/wrapix"
LABEL_IMAGE = "wrapix.image"
LABEL_PROFILE = "wrapix.profile"
LABEL_INPUTS = "wrapix.inputs"
_UNSAFE = re.compile(r"[^a-z0-9_.-]+")


def repository(profile: str) -> str:
    return f"{REPOSITORY}-{_UNSAFE.sub('-', profile.lower()).strip('-.') or 'profile'}"


@dataclass(frozen=True)
class BuildInputs:
    recipe: Recipe
    backend: Backend
    base_id: str | None
    files: dict[str, bytes]
    digest: str

    @property
    def tag(self) -> str:
        return f"{repository(self.recipe.profile.name)}:{self.digest[:12]}"

    def recipe_text(self) -> str:
        if self.backend == "nix":
            name, _, tag = self.tag.partition(":")
            return nixexpr.render(self.recipe, name, tag)
        return containerfile.render(self.recipe)

    def write_context(self, directory: Path) -> Path:
        """Write the build context; returns the recipe file's path."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            path = directory / name
            path.write_bytes(data)
            path.chmod(0o755 if name == "entrypoint.sh" else 0o644)
        recipe = directory / ("default.nix" if self.backend == "nix" else "Containerfile")
        recipe.write_text(self.recipe_text())
        return recipe


HOST_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/cert.pem")


_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----",
                          re.DOTALL)
MAX_BUNDLE_BYTES = 16 << 20


def certificates(data: bytes) -> bytes:
    """Only the certificates of a PEM file, one after another.

    A PEM file can hold a private key next to its certificate (a client certificate
    bundle, say): whatever goes into the image, the agent can read.
    """
    return b"".join(match.group(0) + b"\n" for match in _CERTIFICATE.finditer(data))


def extra_ca(setting: str) -> bytes | None:
    """The certificates ``image.ca_bundle`` names (None for ``none`` or no host bundle)."""
    if setting == "none":
        return None
    if setting == "host":
        found = next((Path(p) for p in HOST_BUNDLES if Path(p).is_file()), None)
        if found is None:
            return None
        path = found
    else:
        path = Path(setting).expanduser()
    try:
        with open_regular(path) as handle:
            data = handle.read(MAX_BUNDLE_BYTES)
    except OSError as exc:
        raise WrapixError(f"image.ca_bundle {path} cannot be read ({exc.strerror})",
                          "point it at a PEM file, or set it to 'host' or 'none'") from None
    found_certificates = certificates(data)
    if not found_certificates:
        raise WrapixError(f"image.ca_bundle {path} holds no PEM certificate",
                          "point it at a PEM file, or set it to 'host' or 'none'")
    return found_certificates


def context_files(source: WheelSource | None = None, ca_bundle: str = "none", *,
                  entrypoint: bytes | None = None) -> dict[str, bytes]:
    """The files every image gets, plus the wheel of the running wrapix."""
    wheel_name, wheel = wheel_bytes(source)
    extra = extra_ca(ca_bundle)
    return {
        **({"extra-ca.crt": extra} if extra else {}),
        wheel_name: wheel,
        "entrypoint.sh": entrypoint if entrypoint is not None else files.ENTRYPOINT.read_bytes(),
        "install-agent.py": files.INSTALL_AGENT.read_bytes(),
        "claude-config.json": files.claude_config().encode(),
        "claude-settings.json": files.claude_settings().encode(),
        **{name: text().encode() for name, text in agent_files.CONTEXT_FILES.items()},
        "system-prompt.md": files.SYSTEM_PROMPT.read_bytes(),
        "nix.conf": files.nix_conf().encode(),
    }


def gather(profile: Profile, settings: ImageSettings, backend: Backend, *,
           base: str | None = None, base_id: str | None = None,
           context: dict[str, bytes] | None = None,
           entrypoint: bytes | None = None) -> BuildInputs:
    """The inputs for ``profile`` and their hash (pure given ``base_id`` and ``context``).

    ``entrypoint`` replaces the sandbox entrypoint (the Linux builder's image runs sshd).
    The image holds the profile's agents (:meth:`Profile.installed_agents`, sorted, each
    with its version); which of them a sandbox runs is not part of the image, so
    profiles differing only in their default agent share one.
    """
    source = collect()
    if context is None:
        context = context_files(source, settings.ca_bundle, entrypoint=entrypoint)
    wheel = next(name for name in context if name.endswith(".whl"))
    requirements = tuple(req for req in source.requirements if "extra ==" not in req)
    agents = tuple((name, settings.version_of(name))
                   for name in sorted(profile.installed_agents())) if settings.agent else ()
    recipe = Recipe(profile=profile, base=base or settings.base, wheel=wheel,
                    requirements=requirements, agents=agents,
                    node_version=settings.node_version, npm_registry=settings.npm_registry,
                    extra_ca="extra-ca.crt" in context)
    unlabelled = BuildInputs(recipe, backend, base_id, context, digest="0" * 64)
    material = {
        "wrapix": __version__,
        "backend": backend,
        "base": recipe.base,
        "base_id": base_id,
        "profile": profile.model_dump(mode="json", exclude={"agent", "agents"}),
        "agent": [list(recipe.agents), recipe.npm_registry,
                  recipe.node_version if recipe.needs_node() else None],
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(context.items())},
        "recipe": unlabelled.recipe_text() if backend == "containerfile" else "nix",
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    labels = {LABEL_IMAGE: "1", LABEL_PROFILE: profile.name, LABEL_INPUTS: digest,
              "wrapix.version": __version__}
    return BuildInputs(replace(recipe, labels=labels), backend, base_id, context, digest)
