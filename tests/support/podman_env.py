"""Finding out whether real rootless Podman can run here, and making test images.

Facts of these machines (docs/architecture.md, Testing): Podman works rootless only;
rootful Podman fails.
In CI (``WRAPIX_CI=1``) a missing prerequisite fails the test loudly; elsewhere the
test is skipped with the reason, so a developer laptop without Podman still runs the rest.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

BUSYBOX_IMAGE = "localhost/wrapix-test-busybox:latest"
DEBIAN_IMAGE = os.environ.get("WRAPIX_TEST_DEBIAN_IMAGE", "localhost/wrapix-test-debian:bookworm")
BUSYBOX_APPLETS = [
    "sh", "ls", "cat", "id", "touch", "echo", "sleep", "true", "false", "grep", "mkdir", "rm",
    "stat", "env", "test", "printf", "head", "tail", "wc", "ps", "kill", "mount", "whoami",
    "nc", "wget", "sed", "tr", "cut", "find", "chmod", "uname", "date",
]


def in_ci() -> bool:
    return os.environ.get("WRAPIX_CI") == "1"


def unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"real Podman is mandatory in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(f"real Podman unavailable: {reason}")


@functools.cache
def _probe() -> tuple[str | None, str]:
    exe = shutil.which("podman")
    if exe is None:
        return None, "podman is not installed (apt install podman runc uidmap slirp4netns)"
    if os.geteuid() == 0:
        return None, ("running as root; rootful Podman cannot run on these machines. "
                      "Run the tests as an unprivileged user (see .ci/run)")
    try:
        done = subprocess.run([exe, "info", "--format", "{{.Host.OCIRuntime.Name}}"],
                              capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return None, "`podman info` hung for 60 s"
    if done.returncode != 0:
        return None, f"`podman info` failed: {done.stderr.strip()[-300:]}"
    return exe, ""


def require_podman() -> str:
    exe, reason = _probe()
    if exe is None:
        unavailable(reason)
    assert exe is not None
    return exe


def image_exists(podman: str, image: str) -> bool:
    return subprocess.run([podman, "image", "exists", image], check=False,
                          timeout=60).returncode == 0


def _import_busybox(podman: str, tag: str, files: dict[str, str] | None = None,
                    changes: tuple[str, ...] = ()) -> None:
    """``podman import`` a static busybox tree (plus ``files``: path -> executable script)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not Path(busybox).is_file():
        unavailable("static busybox is not installed (apt install busybox-static)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # the image's "/": mkdtemp made it 0700
        (root / "bin").mkdir()
        (root / "etc").mkdir()
        (root / "tmp").mkdir()
        (root / "tmp").chmod(0o1777)
        shutil.copy2(busybox, root / "bin" / "busybox")
        for applet in BUSYBOX_APPLETS:
            (root / "bin" / applet).symlink_to("busybox")
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\n")
        for path, text in (files or {}).items():
            (root / path).write_text(text)
            (root / path).chmod(0o755)
        archive = root.parent / f"{root.name}.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(root, arcname=".")
        try:
            subprocess.run([podman, "import", "--quiet",
                            *(arg for change in changes for arg in ("--change", change)),
                            str(archive), tag], check=True, capture_output=True, timeout=120)
        finally:
            archive.unlink(missing_ok=True)


def busybox_image(podman: str) -> str:
    if not image_exists(podman, BUSYBOX_IMAGE):
        _import_busybox(podman, BUSYBOX_IMAGE)
    return BUSYBOX_IMAGE


PAUSE_SCRIPT = """#!/bin/sh
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""


def pod_infra_image(podman: str) -> None:
    """Make sure ``podman kube play`` can start a Pod's infra container.

    Podman builds its "pause" image from the ``catatonit`` binary, which these machines
    do not install (and installing it would change what ``--init`` means for every other
    sandbox test). Podman looks for ``localhost/podman-pause:<version>-<build time>``
    first, so a busybox image under that name, whose entrypoint waits for SIGTERM, stands
    in for it. Nothing is made when catatonit is there.
    """
    from wrapix_core.sandbox.podman import CATATONIT

    if shutil.which("catatonit") or any(Path(path).is_file() for path in CATATONIT):
        return
    done = subprocess.run([podman, "version", "--format",
                           "{{.Client.Version}}-{{.Client.Built}}"],
                          capture_output=True, text=True, timeout=60, check=True)
    tag = f"localhost/podman-pause:{done.stdout.strip()}"
    if not image_exists(podman, tag):
        _import_busybox(podman, tag, {"catatonit": PAUSE_SCRIPT},
                        ('ENTRYPOINT ["/catatonit", "-P"]',))


def debian_image(podman: str) -> str:
    if not image_exists(podman, DEBIAN_IMAGE):
        unavailable(f"the Debian base image {DEBIAN_IMAGE} is missing: "
                    "create it with `sudo scripts/make-debian-base` (what .ci/run does)")
    return DEBIAN_IMAGE
