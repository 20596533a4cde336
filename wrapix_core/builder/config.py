"""Configuration snippets that make the builder a Nix remote builder (pure text).

Nix's daemon connects as root, so it reaches the builder through an ssh config entry
(``Host wrapix-builder``: address, port, user, key, ``HostKeyAlias``) and pins its
host key with ``publicHostKey`` (base64 of the public key line). Three forms: the ssh
config block, nix-darwin's ``buildMachines`` with that block in ``/etc/ssh``, and a
plain ``nix.conf`` ``builders`` line — all with this machine's key path and port.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from wrapix_core.builder.keys import Keys
from wrapix_core.builder.status import HOST_ALIAS, SSH_USER
from wrapix_core.settings import BuilderSettings

FEATURES = ("big-parallel", "benchmark")
SSH_CONFIG_ETC = "ssh/ssh_config.d/100-wrapix-builder.conf"


def linux_system(machine: str | None = None) -> str:
    """The Nix system the builder runs: Linux on this machine's CPU."""
    arch = (machine or platform.machine()).lower()
    if arch in ("arm64", "aarch64"):
        return "aarch64-linux"
    if arch in ("x86_64", "amd64"):
        return "x86_64-linux"
    return f"{arch}-linux"


@dataclass(frozen=True)
class Snippets:
    ssh_config: str
    nix_darwin: str
    nix_conf: str


def ssh_config(settings: BuilderSettings, keys: Keys, indent: str = "") -> str:
    lines = [f"Host {HOST_ALIAS}",
             "  HostName 127.0.0.1",
             f"  Port {settings.port}",
             f"  User {SSH_USER}",
             f"  HostKeyAlias {HOST_ALIAS}",
             f"  IdentityFile {_ssh_quote(str(keys.client))}",
             "  IdentitiesOnly yes"]
    return "".join(f"{indent}{line}\n" for line in lines)


def _ssh_quote(value: str) -> str:
    """A value ssh's config parser reads back unchanged (quotes, backslash escapes)."""
    if not any(c.isspace() or c in "\"'\\#" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _nix_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def _nix_indented(text: str) -> str:
    """Text for a Nix ``'' … ''`` string (escapes ``''`` and ``${``)."""
    return text.replace("''", "'''").replace("${", "''${")


def _ssh_key_attribute(keys: Keys) -> str:
    key = str(keys.client)
    if any(c.isspace() for c in key):
        # nix-darwin writes /etc/nix/machines, whose fields cannot hold spaces (macOS's
        # "Application Support"); the ssh config's IdentityFile names the key instead.
        return "    # sshKey: the ssh config entry's IdentityFile (the path has spaces)\n"
    return f"    sshKey = {_nix_string(key)};\n"


def nix_darwin(settings: BuilderSettings, keys: Keys, system: str, max_jobs: int) -> str:
    features = " ".join(_nix_string(f) for f in FEATURES)
    block = _nix_indented(ssh_config(settings, keys, indent="    "))
    return (
        "# nix-darwin (e.g. in darwin-configuration.nix or your flake's darwin module)\n"
        "{\n"
        f"  environment.etc.{_nix_string(SSH_CONFIG_ETC)}.text = ''\n"
        f"{block}"
        "  '';\n"
        "  nix.distributedBuilds = true;\n"
        "  nix.buildMachines = [{\n"
        f"    hostName = {_nix_string(HOST_ALIAS)};\n"
        f"    sshUser = {_nix_string(SSH_USER)};\n"
        f"{_ssh_key_attribute(keys)}"
        '    protocol = "ssh-ng";\n'
        f"    systems = [ {_nix_string(system)} ];\n"
        f"    maxJobs = {max_jobs};\n"
        f"    supportedFeatures = [ {features} ];\n"
        f"    publicHostKey = {_nix_string(keys.host_public_key_base64())};\n"
        "  }];\n"
        "}\n")


def nix_conf_line(keys: Keys, system: str, max_jobs: int) -> str:
    """``builders = …``: URI, systems, key, jobs, speed, features, mandatory, host key."""
    key = str(keys.client)
    if any(c.isspace() for c in key):
        key = "-"  # the field cannot hold spaces; the ssh config's IdentityFile applies
    return (f"builders = ssh-ng://{SSH_USER}@{HOST_ALIAS} {system} {key} {max_jobs} 1 "
            f"{','.join(FEATURES)} - {keys.host_public_key_base64()}\n")


def snippets(settings: BuilderSettings, keys: Keys, *, machine: str | None = None,
             max_jobs: int | None = None) -> Snippets:
    system = linux_system(machine)
    jobs = max_jobs or max(1, os.cpu_count() or 1)
    return Snippets(ssh_config(settings, keys), nix_darwin(settings, keys, system, jobs),
                    nix_conf_line(keys, system, jobs))


def render(settings: BuilderSettings, keys: Keys, *, machine: str | None = None,
           max_jobs: int | None = None) -> str:
    """All three snippets with comments saying where each goes."""
    parts = snippets(settings, keys, machine=machine, max_jobs=max_jobs)
    return (
        "# 1. ssh config for root (nix-daemon connects as root), e.g.\n"
        "#    /etc/ssh/ssh_config.d/wrapix-builder.conf (`wrapix-builder setup-ssh` "
        "installs it):\n"
        f"{parts.ssh_config}\n"
        f"# 2. {parts.nix_darwin.removeprefix('# ')}\n"
        "# 3. Or plain nix.conf (/etc/nix/nix.conf, then restart nix-daemon), with the\n"
        "#    ssh config from 1:\n"
        f"{parts.nix_conf}"
        "builders-use-substitutes = true\n")
