"""Install one agent (or Node) from the npm registry, integrity-checked.

Agents ship on npm as a small wrapper plus one package per platform holding the real
program. This resolves the version (``latest`` asks the registry), fetches the
platform's package, checks its sha512 against the registry's integrity field, and
installs what it needs:

- ``native``: one binary (MEMBER inside the tarball) as /usr/local/bin/NAME;
- ``node``: the package's files under /usr/local/lib/wrapix-agents/NAME and a
  /usr/local/bin/NAME that runs its ``bin`` entry with /usr/local/bin/node.

The build runs it with the facts of wrapix's agent registry as arguments (this runs
inside the image before wrapix is installed, with the standard library only).

usage: python3 install-agent.py NAME KIND PACKAGE VERSION PLATFORM_PACKAGE
                                PLATFORM_VERSION MEMBER REGISTRY
({arch}, {triple} and {version} in the last four are filled in here)
"""

import base64
import hashlib
import io
import json
import platform
import posixpath
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ARCH = {"x86_64": "x64", "aarch64": "arm64"}
TRIPLE = {"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl"}
BIN = Path("/usr/local/bin")
LIB = Path("/usr/local/lib/wrapix-agents")


def fail(message: str) -> None:
    sys.exit(f"install-agent: {message}")


def fetch(url: str, timeout: float) -> bytes:
    if not url.startswith("https://"):
        fail(f"refusing a non-https URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
        data: bytes = response.read()
    return data


def metadata(registry: str, package: str, version: str) -> dict[str, Any]:
    quoted = urllib.parse.quote(package, safe="@")
    found: dict[str, Any] = json.loads(
        fetch(f"{registry}/{quoted}/{urllib.parse.quote(version)}", 120))
    return found


def checked_tarball(meta: dict[str, Any]) -> bytes:
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    if algorithm != "sha512":
        fail(f"unexpected integrity algorithm {algorithm}")
    data = fetch(meta["dist"]["tarball"], 900)
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != expected:
        fail("integrity check failed for " + meta["dist"]["tarball"])
    return data


def safe_name(name: str, prefix: str) -> str | None:
    """The path below ``prefix`` a member may be written to, or None (skipped)."""
    normal = posixpath.normpath(name)
    if not normal.startswith(prefix) or normal.startswith("/") or ".." in normal.split("/"):
        return None
    return normal[len(prefix):]


def install_native(name: str, archive: tarfile.TarFile, member: str) -> None:
    handle = archive.extractfile(member)
    if handle is None:
        sys.exit(f"install-agent: the package has no {member}")
    target = BIN / name
    target.write_bytes(handle.read())
    target.chmod(0o755)  # an executable for every user


def install_node(name: str, archive: tarfile.TarFile, prefix: str) -> None:
    root = LIB / name
    for info in archive.getmembers():
        relative = safe_name(info.name, prefix)
        if not relative or not (info.isfile() or info.isdir()):
            continue  # links and devices are never written
        path = root / relative
        if info.isdir():
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = archive.extractfile(info)
        path.write_bytes(handle.read() if handle else b"")
        path.chmod(0o755 if info.mode & 0o111 else 0o644)
    manifest = json.loads((root / "package.json").read_text())
    entry = manifest.get("bin")
    entry = entry.get(name) if isinstance(entry, dict) else entry
    if not isinstance(entry, str) or safe_name(entry, "") is None:
        fail(f"the package names no program {name}")
    launcher = BIN / name
    script = root / posixpath.normpath(entry)
    launcher.write_text(f'#!/bin/sh\nexec /usr/local/bin/node {script} "$@"\n')
    launcher.chmod(0o755)


def main() -> None:
    name, kind, package, version, platform_package, platform_version, member, registry = \
        sys.argv[1:9]
    registry = registry.rstrip("/")
    machine = platform.machine()
    if machine not in ARCH:
        fail(f"no {name} build for {machine}")
    fill = {"arch": ARCH[machine], "triple": TRIPLE[machine]}
    if version == "latest":
        version = metadata(registry, package.format(**fill), "latest")["version"]
    fill["version"] = version
    platform_package = platform_package.format(**fill)
    meta = metadata(registry, platform_package, platform_version.format(**fill))
    data = checked_tarball(meta)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        if kind == "native":
            install_native(name, archive, member.format(**fill))
        elif kind == "node":
            install_node(name, archive, member.format(**fill))
        else:
            fail(f"unknown kind {kind}")
    print(f"installed {name} {meta['version']} ({platform_package})")


if __name__ == "__main__":
    main()
