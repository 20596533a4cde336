"""Install Claude Code's native binary from the npm registry, integrity-checked.

The npm package ``@anthropic-ai/claude-code`` is a wrapper whose postinstall copies the
platform's native binary into place; the binary itself needs no Node. This fetches the
same platform package, checks its sha512 against the registry's integrity field, and
installs the binary as /usr/local/bin/claude.

usage: python3 install-agent.py VERSION REGISTRY
"""

import base64
import hashlib
import io
import json
import platform
import sys
import tarfile
import urllib.request
from pathlib import Path

ARCH = {"x86_64": "x64", "aarch64": "arm64"}
TARGET = Path("/usr/local/bin/claude")


def fetch(url: str, timeout: float) -> bytes:
    if not url.startswith("https://"):
        sys.exit(f"install-agent: refusing a non-https URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
        data: bytes = response.read()
    return data


def main() -> None:
    version, registry = sys.argv[1], sys.argv[2].rstrip("/")
    machine = platform.machine()
    if machine not in ARCH:
        sys.exit(f"install-agent: no Claude Code build for {machine}")
    name = f"@anthropic-ai/claude-code-linux-{ARCH[machine]}"
    meta = json.loads(fetch(f"{registry}/{name}/{version}", 120))
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    if algorithm != "sha512":
        sys.exit(f"install-agent: unexpected integrity algorithm {algorithm}")
    data = fetch(meta["dist"]["tarball"], 600)
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != expected:
        sys.exit("install-agent: integrity check failed for " + meta["dist"]["tarball"])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.extractfile("package/claude")
        if member is None:
            sys.exit("install-agent: the package has no claude binary")
        TARGET.write_bytes(member.read())
    TARGET.chmod(0o755)  # an executable for every user
    print(f"installed Claude Code {meta['version']} ({name})")


if __name__ == "__main__":
    main()
