"""The builder container's ``podman`` argv (rootless Podman, Linux).

Unlike an agent sandbox, the builder runs sshd, so it runs as container root
(user-namespaced: root inside is the host user outside, never ``--userns=keep-id``)
with only the capabilities sshd and the Nix daemon need. Its SSH port is published on
127.0.0.1 only. The store directory is mounted at ``/nix``; the container gets the host
key pair and the client's public key as single read-only files, never the client's
private key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from wrapix_core.builder.keys import Keys
from wrapix_core.sandbox import naming
from wrapix_core.settings import BuilderSettings

KEYS_TARGET = "/run/wrapix-builder"
"""Where the entrypoint finds the keys (``WRAPIX_BUILDER_KEYS``)."""
HELPER_TARGET = "/mnt/store"
"""Where the one-shot store helper sees the store directory."""
ROLE = "builder"
ROLE_HELPER = "builder-helper"

CAPABILITIES = ("CHOWN", "FOWNER", "SETUID", "SETGID", "SYS_CHROOT", "NET_BIND_SERVICE")
"""sshd: switch to the user (SETUID/SETGID), privilege separation (SYS_CHROOT), port
22 (NET_BIND_SERVICE); the entrypoint and the Nix daemon: own files (CHOWN, FOWNER)."""
HELPER_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID")
"""The store helper copies /nix keeping owners and modes, and deletes what the
builder's users created."""

HelperMode = Literal["init-store", "wipe-store"]


def helper_name(settings: BuilderSettings) -> str:
    return f"{settings.name}-store"


def run_argv(podman: str, settings: BuilderSettings, image: str, keys: Keys,
             store: Path) -> list[str]:
    """``podman run -d`` for the builder container."""
    argv = [podman, "run", "--detach", "--name", settings.name,
            "--label", f"{naming.LABEL_ROLE}={ROLE}",
            "--cap-drop", "all", "--cap-add", ",".join(CAPABILITIES),
            "--security-opt", "no-new-privileges",
            "--publish", f"127.0.0.1:{settings.port}:22",
            "--env", f"WRAPIX_BUILDER_KEYS={KEYS_TARGET}"]
    for path in keys.container_files:
        argv += ["--volume", f"{path}:{KEYS_TARGET}/{path.name}:ro"]
    argv += ["--volume", f"{store}:/nix:rw", image]
    return argv


def helper_argv(podman: str, settings: BuilderSettings, image: str, store: Path,
                mode: HelperMode) -> list[str]:
    """A one-shot container that initialises or empties the store directory."""
    return [podman, "run", "--rm", "--name", helper_name(settings),
            "--label", f"{naming.LABEL_ROLE}={ROLE_HELPER}",
            "--cap-drop", "all", "--cap-add", ",".join(HELPER_CAPABILITIES),
            "--security-opt", "no-new-privileges", "--network", "none",
            "--volume", f"{store}:{HELPER_TARGET}:rw", image, mode, HELPER_TARGET]


def image_id_argv(podman: str, image: str) -> list[str]:
    return [podman, "image", "inspect", "--format", "{{.Id}}", image]


def remove_argv(podman: str, name: str) -> list[str]:
    return [podman, "rm", "--force", "--ignore", name]
