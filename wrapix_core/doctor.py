"""`wrapix doctor`: every prerequisite of a sandbox, checked in one place.

Each check gives a verdict (ok, warn, fail), what it found, and the fix. The checks run
concurrently, each bounded by a timeout, and share one ``podman info``. Some fixes are
safe to apply for the user (``--fix``): writing a Podman setting to a file that does not
exist yet, switching the storage driver of a Podman that holds nothing yet. A fix that
would destroy anything (``podman system reset`` with images present) is only ever
described, never applied. The base image is made by the first build that needs it.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import platform
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from wrapix_core import proc
from wrapix_core.errors import WrapixError
from wrapix_core.image import base as base_recipes
from wrapix_core.settings import Settings

Status = Literal["ok", "warn", "fail"]
CHECK_TIMEOUT = 30.0
MIN_PODMAN = (4, 0)
DISK_FAIL = 2 << 30
DISK_WARN = 10 << 30
OVERLAY_LINE = '[storage]\ndriver = "overlay"\n'
RUNC_LINE = '[engine]\nruntime = "runc"\n'


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None
    fixable: bool = False
    """``wrapix doctor --fix`` can apply :attr:`fix` without destroying anything."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def problems(self) -> list[Check]:
        return [check for check in self.checks if check.status != "ok"]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_json() for check in self.checks]}


def containers_config_dir() -> Path:
    """Where rootless Podman reads the user's storage.conf and containers.conf."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return root / "containers"


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in version.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits) if digits else 0)
    return tuple(numbers)


def kernel_has_rootless_overlay(release: str | None = None) -> bool:
    """Linux 5.13+ mounts overlay in a user namespace: Podman's fast driver, no FUSE."""
    return _version_tuple(release or platform.release())[:2] >= (5, 13)


def cgroup_hybrid(root: Path = Path("/sys/fs/cgroup")) -> bool:
    """cgroup v1 controllers with a v2 hierarchy beside them (systemd's "hybrid" mode)."""
    return (root / "unified").is_dir() and (root / "memory").is_dir()


class Doctor:
    """Runs the checks for one user's settings."""

    def __init__(self, settings: Settings, *, timeout: float = CHECK_TIMEOUT):
        self.settings = settings
        self.podman = settings.sandbox.podman
        self.timeout = timeout
        self._info: asyncio.Task[dict[str, Any]] | None = None

    # -- podman plumbing ------------------------------------------------------------

    async def _run(self, *args: str, timeout: float | None = None,
                   check: bool = False) -> proc.Completed:
        return await proc.run([self.podman, *args], timeout=timeout or self.timeout,
                              check=check)

    async def _load_info(self) -> dict[str, Any]:
        done = await self._run("info", "--format", "json")
        if done.returncode != 0:
            detail = proc.last_lines(done.stderr or done.stdout, 2) or f"exit {done.returncode}"
            raise WrapixError(f"`podman info` failed: {detail}",
                              "a stuck Podman often needs `podman system migrate`")
        try:
            data = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise WrapixError("`podman info` did not return JSON") from None
        if not isinstance(data, dict):
            raise WrapixError("`podman info` did not return a JSON object")
        return data

    async def info(self) -> dict[str, Any]:
        """``podman info``, asked once however many checks need it."""
        if self._info is None:
            self._info = asyncio.ensure_future(self._load_info())
        return await asyncio.shield(self._info)

    async def _count(self, *args: str) -> int:
        done = await self._run(*args, "--quiet")
        return len(done.stdout.split()) if done.returncode == 0 else 0

    # -- the checks -----------------------------------------------------------------

    async def check_podman(self) -> Check:
        if shutil.which(self.podman) is None:
            return Check("podman", "fail", f"{self.podman} is not installed",
                         "install rootless Podman (Debian: `sudo apt-get install podman runc "
                         "uidmap slirp4netns`) or set sandbox.podman to its path")
        try:
            info = await self.info()
        except WrapixError as exc:
            return Check("podman", "fail", exc.message, exc.hint)
        version = str((info.get("version") or {}).get("Version", "?"))
        rootless = bool(((info.get("host") or {}).get("security") or {}).get("rootless"))
        if _version_tuple(version) < MIN_PODMAN:
            return Check("podman", "warn", f"Podman {version} is older than wrapix is tested "
                         "with", "install Podman 4 or newer")
        if not rootless and os.geteuid() != 0:
            return Check("podman", "warn", f"Podman {version} does not run rootless")
        return Check("podman", "ok", f"Podman {version}, rootless" if rootless
                     else f"Podman {version}")

    async def _images(self) -> int:
        return await self._count("images", "--all")

    async def _containers(self) -> int:
        return await self._count("ps", "--all")

    async def check_storage(self) -> Check:
        try:
            info = await self.info()
        except WrapixError:
            return Check("storage driver", "fail", "unknown: `podman info` failed",
                         "see the podman check")
        driver = str((info.get("store") or {}).get("graphDriverName", ""))
        if driver != "vfs":
            return Check("storage driver", "ok", driver or "unknown")
        conf = containers_config_dir() / "storage.conf"
        slow = ("Podman stores images with the vfs driver: a full copy per layer "
                "(a first build takes minutes and gigabytes more than with overlay)")
        if not kernel_has_rootless_overlay() and shutil.which("fuse-overlayfs") is None:
            return Check("storage driver", "warn", slow,
                         "install fuse-overlayfs (or use Linux 5.13+), then set "
                         f"driver = \"overlay\" under [storage] in {conf}")
        if conf.exists():
            return Check("storage driver", "warn", slow,
                         f"set driver = \"overlay\" under [storage] in {conf} (it exists: "
                         "wrapix leaves it to you), then `podman system reset` (it deletes "
                         "every image and container of this user)")
        images, containers = await asyncio.gather(self._images(), self._containers())
        if images or containers:
            return Check("storage driver", "warn", slow,
                         f"write '[storage]' + 'driver = \"overlay\"' to {conf}, then "
                         f"`podman system reset` — it DELETES your {images} image(s) and "
                         f"{containers} container(s), so wrapix will not do it for you")
        return Check("storage driver", "warn", slow,
                     f"write '[storage]' + 'driver = \"overlay\"' to {conf} and reset the "
                     "(empty) storage: `wrapix doctor --fix` does both", fixable=True)

    async def _test_image(self) -> str | None:
        """A local image to start a throwaway container from (None: there is none yet)."""
        candidates = [self.settings.image.base]
        recipe = base_recipes.recipe_for(self.settings.image.base)
        if recipe is not None:
            candidates.append(recipe.tag)
        for candidate in candidates:
            if (await self._run("image", "exists", candidate)).returncode == 0:
                return candidate
        done = await self._run("images", "--format", "{{.Repository}}:{{.Tag}}")
        for line in done.stdout.splitlines():
            if line.strip() and "<none>" not in line:
                return line.strip()
        return None

    async def check_runtime(self) -> Check:
        try:
            info = await self.info()
        except WrapixError:
            return Check("OCI runtime", "fail", "unknown: `podman info` failed",
                         "see the podman check")
        host = info.get("host") or {}
        name = str((host.get("ociRuntime") or {}).get("name", "?"))
        conf = containers_config_dir() / "containers.conf"
        to_runc = (f"write '[engine]' + 'runtime = \"runc\"' to {conf}"
                   + (" (`wrapix doctor --fix` does)" if not conf.exists()
                      else " (it exists: add the line under [engine] yourself)"))
        runc = name != "runc" and shutil.which("runc") is not None
        image = await self._test_image()
        if image is None:
            if name == "crun" and cgroup_hybrid():
                return Check("OCI runtime", "warn",
                             "crun cannot start containers on this host's hybrid cgroups",
                             to_runc if runc else "install runc (`sudo apt-get install runc`), "
                             f"then {to_runc}", fixable=runc and not conf.exists())
            return Check("OCI runtime", "ok", f"{name} (not tried yet: no image to start)")
        done = await self._run("run", "--rm", "--pull=never", "--network=none",
                               "--entrypoint", "/bin/sh", image, "-c", ":",
                               timeout=self.timeout)
        if done.returncode == 0:
            return Check("OCI runtime", "ok", f"{name} starts containers")
        detail = proc.last_lines(done.stderr, 1) or f"exit {done.returncode}"
        if "not found" in detail.lower() or "no such file" in detail.lower():
            return Check("OCI runtime", "ok", f"{name} (not tried: {image} has no /bin/sh)")
        return Check("OCI runtime", "fail", f"{name} could not start a container: {detail}",
                     to_runc if runc else f"check `podman --log-level=debug run --rm {image}`",
                     fixable=runc and not conf.exists())

    async def check_subids(self) -> Check:
        if os.geteuid() == 0:
            return Check("subuid/subgid", "ok", "root needs none")
        missing = [helper for helper in ("newuidmap", "newgidmap") if shutil.which(helper) is None]
        if missing:
            return Check("subuid/subgid", "fail", f"{' and '.join(missing)} not installed",
                         "install uidmap (`sudo apt-get install uidmap`)")
        problem = base_recipes.subid_problem()
        if problem:
            return Check("subuid/subgid", "fail", problem, base_recipes.subid_fix())
        user, _ = base_recipes.current_user()
        return Check("subuid/subgid", "ok", f"{user} has subordinate uid and gid ranges")

    async def check_tun(self) -> Check:
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return Check("/dev/net/tun", "fail", "missing: sandboxes get no network",
                             "as root: `modprobe tun`")
            return Check("/dev/net/tun", "fail",
                         f"not usable ({exc.strerror}): sandboxes get no network",
                         "as root: `chmod 0666 /dev/net/tun` (Debian's default)")
        os.close(fd)
        return Check("/dev/net/tun", "ok", "usable")

    async def check_runtime_dir(self) -> Check:
        value = os.environ.get("XDG_RUNTIME_DIR", "")
        fix = ("log in through a session that sets it (console, ssh, `machinectl shell "
               "USER@`), not `su`; or `export XDG_RUNTIME_DIR=/run/user/$(id -u)` when that "
               "directory exists")
        if not value:
            return Check("XDG_RUNTIME_DIR", "warn",
                         "not set: Podman and wrapix fall back to directories under /tmp "
                         "and ~/.local/share", fix)
        try:
            stat = os.stat(value)
        except OSError:
            return Check("XDG_RUNTIME_DIR", "warn", f"{value} does not exist", fix)
        if stat.st_uid != os.getuid() or not os.access(value, os.W_OK):
            return Check("XDG_RUNTIME_DIR", "warn", f"{value} is not yours to write", fix)
        return Check("XDG_RUNTIME_DIR", "ok", value)

    async def check_cgroups(self) -> Check:
        try:
            info = await self.info()
        except WrapixError:
            return Check("cgroup limits", "warn", "unknown: `podman info` failed")
        host = info.get("host") or {}
        version = str(host.get("cgroupVersion", "?"))
        rootless = bool((host.get("security") or {}).get("rootless"))
        if version == "v1" and rootless:
            return Check("cgroup limits", "warn",
                         "not enforced: rootless Podman on cgroup v1 ignores --cpus, --memory "
                         "and --pids-limit (sandboxes run without them)",
                         "boot with cgroup v2 (`systemd.unified_cgroup_hierarchy=1` on the "
                         "kernel command line)")
        controllers = {str(c) for c in host.get("cgroupControllers") or []}
        missing = sorted({"cpu", "memory", "pids"} - controllers)
        if version == "v2" and rootless and missing:
            return Check("cgroup limits", "warn",
                         f"partly enforced: the {', '.join(missing)} controller(s) are not "
                         "delegated to this user",
                         "delegate them: a systemd drop-in for user@.service with "
                         "`Delegate=cpu cpuset io memory pids`, then log in again")
        return Check("cgroup limits", "ok", f"enforced (cgroup {version})")

    async def check_notify(self) -> Check:
        from wrapix_core.notify.backends import choose_backend

        backend = choose_backend(self.settings.notify.backend)
        if backend is None:
            return Check("notifications", "ok", "desktop popups off (notify.backend = none); "
                         "the inbox still collects them")
        if shutil.which(backend.executable) is None:
            return Check("notifications", "warn",
                         f"{backend.executable} not found: no desktop popups (the inbox still "
                         "collects notifications)",
                         f"{backend.install_hint}, or set notify.backend = \"none\"")
        return Check("notifications", "ok", f"popups with {backend.name}")

    async def check_tmux(self) -> Check:
        if shutil.which("tmux") is None:
            return Check("tmux", "warn",
                         "not installed: no focus-aware notifications for sandboxes in tmux",
                         "install tmux (`sudo apt-get install tmux`)")
        return Check("tmux", "ok", "installed")

    async def check_base(self) -> Check:
        from wrapix_core.image.builder import choose_backend

        wanted = self.settings.image.base
        try:
            if choose_backend(self.settings.image) == "nix":
                return Check("base image", "ok", "not needed (the nix backend builds from "
                                                  "nixpkgs)")
        except WrapixError as exc:
            return Check("base image", "fail", exc.message, exc.hint)
        if (await self._run("image", "exists", wanted)).returncode == 0:
            return Check("base image", "ok", f"{wanted} is present")
        recipe = base_recipes.recipe_for(wanted)
        if recipe and (await self._run("image", "exists", recipe.tag)).returncode == 0:
            return Check("base image", "ok",
                         f"{recipe.tag}, made from Debian's packages ({wanted} is not pullable)")
        remote = await self._run("manifest", "inspect", wanted, timeout=min(self.timeout, 20))
        if remote.returncode == 0:
            return Check("base image", "ok", f"{wanted} is pullable (pulled on first build)")
        why = base_recipes.cannot_make(wanted)
        if why is None:
            return Check("base image", "ok",
                         f"{wanted} cannot be pulled; the first build makes a Debian base "
                         "from Debian's packages with mmdebstrap (once, about a minute)")
        detail = proc.last_lines(remote.stderr, 1) or f"exit {remote.returncode}"
        return Check("base image", "warn",
                     f"{wanted} is not present, its registry did not answer ({detail}), and "
                     "wrapix cannot make it here", why)

    async def check_disk(self) -> Check:
        try:
            info = await self.info()
            root = Path(str((info.get("store") or {}).get("graphRoot", "")))
        except WrapixError:
            root = Path.home()
        while not root.exists() and root != root.parent:
            root = root.parent
        free = shutil.disk_usage(root).free
        text = f"{free / (1 << 30):.1f} GiB free for Podman's storage ({root})"
        if free < DISK_FAIL:
            return Check("disk space", "fail", text, "free space: an image build needs ~2 GiB")
        if free < DISK_WARN:
            return Check("disk space", "warn", text, "images take ~1–2 GiB each; free space "
                                                     "or `podman image prune`")
        return Check("disk space", "ok", text)

    def checks(self) -> list[tuple[str, Callable[[], Awaitable[Check]]]]:
        return [("podman", self.check_podman), ("OCI runtime", self.check_runtime),
                ("storage driver", self.check_storage), ("subuid/subgid", self.check_subids),
                ("/dev/net/tun", self.check_tun), ("XDG_RUNTIME_DIR", self.check_runtime_dir),
                ("cgroup limits", self.check_cgroups), ("notifications", self.check_notify),
                ("tmux", self.check_tmux), ("base image", self.check_base),
                ("disk space", self.check_disk)]

    async def _bounded(self, name: str, check: Callable[[], Awaitable[Check]]) -> Check:
        try:
            async with asyncio.timeout(self.timeout + 5):
                return await check()
        except TimeoutError:
            return Check(name, "fail", f"did not answer within {self.timeout + 5:g} s",
                         "check `podman info` by hand; a stuck Podman may need "
                         "`podman system migrate`")
        except proc.ProcError as exc:
            return Check(name, "fail", exc.message, exc.hint)

    async def run(self) -> Report:
        """Every check, concurrently; each bounded by the timeout."""
        self._info = None
        results = await asyncio.gather(*(self._bounded(name, check)
                                         for name, check in self.checks()))
        return Report(list(results))

    # -- fixes ----------------------------------------------------------------------

    async def fix(self, report: Report, say: Callable[[str], None]) -> None:
        """Apply the fixes of ``report`` that destroy nothing; ``say`` what is done."""
        from wrapix_core.sandbox.podman import forget_caps

        forget_caps()  # the storage driver or runtime may change under it
        for check in report.checks:
            if not check.fixable:
                continue
            if check.name == "storage driver":
                await self._fix_storage(say)
            elif check.name == "OCI runtime":
                self._write_new(containers_config_dir() / "containers.conf", RUNC_LINE, say)

    def _write_new(self, path: Path, text: str, say: Callable[[str], None]) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x") as handle:
                handle.write(text)
        except FileExistsError:
            say(f"{path} exists now; left as it is")
            return False
        say(f"wrote {path}: {' '.join(text.split())}")
        return True

    async def _fix_storage(self, say: Callable[[str], None]) -> None:
        images, containers = await asyncio.gather(self._images(), self._containers())
        if images or containers:
            say(f"storage driver: left alone, Podman now holds {images} image(s) and "
                f"{containers} container(s)")
            return
        path = containers_config_dir() / "storage.conf"
        if not self._write_new(path, OVERLAY_LINE, say):
            return
        done = await self._run("system", "reset", "--force", timeout=120)
        self._info = None
        driver = str(((await self.info()).get("store") or {}).get("graphDriverName", ""))
        if done.returncode != 0 or driver != "overlay":
            path.unlink()
            say(f"storage driver: overlay did not take ({driver or done.stderr.strip()}); "
                f"removed {path} again")
            await self._run("system", "reset", "--force", timeout=120)
            return
        say("storage driver: reset the empty Podman storage; it now uses overlay")


MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def render(report: Report) -> list[str]:
    """The report as text lines: one line per check, its fix indented under it (control
    characters escaped: details can quote Podman's stderr)."""
    from wrapix_core.untrusted import line

    width = max(len(check.name) for check in report.checks)
    lines: list[str] = []
    for check in report.checks:
        lines.append(line(f"{MARKS[check.status]}  {check.name:<{width}}  {check.detail}"))
        if check.fix and (check.status != "ok" or check.fixable):
            lines.append(line(f"{'':{width + 8}}fix: {check.fix}"))
    failed = [check.name for check in report.checks if check.status == "fail"]
    warned = [check.name for check in report.checks if check.status == "warn"]
    if failed:
        lines.append(f"{len(failed)} check(s) failed: sandboxes may not start.")
    elif warned:
        lines.append(f"sandboxes can start; {len(warned)} warning(s).")
    else:
        lines.append("everything wrapix needs is in place.")
    if any(check.fixable for check in report.checks):
        lines.append("`wrapix doctor --fix` applies the fixes marked safe (it deletes nothing).")
    return lines
