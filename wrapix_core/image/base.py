"""A Debian base image made on this machine when the configured one cannot be pulled.

On a machine that reaches Debian's package mirrors but no container registry, the
default base (``docker.io/library/debian:bookworm-slim``) cannot be pulled. Wrapix then
makes an equivalent base itself, rootless: ``mmdebstrap --mode=unshare
--variant=minbase SUITE OUT.tar`` (it needs no root, only the user's subuid range, and
uses the host's apt configuration), then ``podman import``. The result is tagged by a
hash of everything that decides its content (suite, variant, architecture, the
mmdebstrap command), so it is made once and reused, like every other image input.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from wrapix_core.errors import WrapixError

REPOSITORY = "localhost/wrapix-base-debian"
LABEL = "wrapix.base-recipe"
VARIANT = "minbase"
RECIPE_VERSION = 1
"""Bump when the way the base is made changes (a new tag, so a fresh base)."""

_DEBIAN = re.compile(
    r"^(?:(?:docker\.io/)?(?:library/)?)debian:(?P<suite>[a-z]+)(?:-slim)?$")
_SUBID_NEEDED = 65536


def debian_suite(base: str) -> str | None:
    """The Debian suite ``base`` is an image of (``debian:bookworm-slim`` → ``bookworm``),
    or None for anything wrapix cannot make itself."""
    match = _DEBIAN.match(base.strip())
    if not match or match.group("suite") in ("latest", "stable", "testing", "unstable"):
        return None
    return match.group("suite")


def architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf",
            "i686": "i386", "ppc64le": "ppc64el", "s390x": "s390x"}.get(machine, machine)


@dataclass(frozen=True)
class BaseRecipe:
    """How the base for one Debian suite is made, and the tag that names the result."""

    suite: str
    arch: str

    def mmdebstrap_argv(self, output: Path) -> list[str]:
        # No mirror argument: mmdebstrap then uses deb.debian.org with the updates and
        # security suites, fetched through the host's apt configuration (proxies,
        # snapshot settings). stdin is not read because a mirror-less SUITE is given.
        return ["mmdebstrap", "--mode=unshare", f"--variant={VARIANT}",
                f"--architectures={self.arch}", "--format=tar", self.suite, str(output)]

    @property
    def digest(self) -> str:
        material = {"version": RECIPE_VERSION, "suite": self.suite, "arch": self.arch,
                    "variant": VARIANT, "argv": self.mmdebstrap_argv(Path("OUT"))}
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    @property
    def tag(self) -> str:
        return f"{REPOSITORY}:{self.suite}-{self.digest[:12]}"


def recipe_for(base: str) -> BaseRecipe | None:
    suite = debian_suite(base)
    return BaseRecipe(suite, architecture()) if suite else None


def _subid_count(path: Path, user: str, uid: int) -> int:
    """How many subordinate ids ``path`` (/etc/subuid or /etc/subgid) grants ``user``."""
    try:
        text = path.read_text()
    except OSError:
        return 0
    total = 0
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) != 3 or parts[0] not in (user, str(uid)):
            continue
        try:
            total += int(parts[2])
        except ValueError:
            continue
    return total


def find(command: str) -> str | None:
    """``shutil.which``, as a seam for tests."""
    return shutil.which(command)


def current_user() -> tuple[str, int]:
    uid = os.getuid()
    try:
        return getpass.getuser(), uid
    except (KeyError, OSError):
        return str(uid), uid


def subid_problem(etc: Path = Path("/etc")) -> str | None:
    """Why the user has no usable subordinate uid/gid range, or None."""
    user, uid = current_user()
    missing = [name for name in ("subuid", "subgid")
               if _subid_count(etc / name, user, uid) < _SUBID_NEEDED]
    if not missing:
        return None
    return (f"{user} has no range of {_SUBID_NEEDED} ids in "
            + " and ".join(f"/etc/{name}" for name in missing))


def subid_fix() -> str:
    user, _ = current_user()
    return (f"as root: `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "
            f"{user}` (pick a range no other user has), then `podman system migrate`")


def cannot_make(base: str) -> str | None:
    """Why wrapix cannot make ``base`` itself on this machine (None: it can).

    The answer says exactly what to install or do.
    """
    recipe = recipe_for(base)
    if recipe is None:
        return (f"wrapix can only make Debian bases itself (debian:SUITE[-slim]), not {base}; "
                "set image.base (or --base) to an image you have (see `podman images`) "
                "or to docker.io/library/debian:bookworm-slim")
    if find("mmdebstrap") is None:
        return ("mmdebstrap is not installed; install it (Debian/Ubuntu: "
                "`sudo apt-get install mmdebstrap`)")
    if os.geteuid() == 0:
        return None  # root needs no subordinate ids
    for helper in ("newuidmap", "newgidmap"):
        if find(helper) is None:
            return (f"{helper} is not installed; install it (Debian/Ubuntu: "
                    "`sudo apt-get install uidmap`)")
    problem = subid_problem()
    if problem:
        return f"{problem}; {subid_fix()}"
    return None


class BaseUnavailable(WrapixError):
    """The base can neither be pulled nor made here."""
