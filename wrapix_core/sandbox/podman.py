"""The Podman runtime: every ``podman`` command wrapix runs, with timeouts and JSON.

Podman's own capabilities (version, pasta, ``--passwd-entry``, cgroup version) are
probed once per Podman binary and cached on disk, keyed by the binary's path, size and
modification time, because ``podman info`` costs a few hundred milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncGenerator, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from wrapix_core import paths, proc
from wrapix_core.runtime_cli import (
    PODMAN_INSTALL_HINT,
    call_podman,
    without_noise,
)
from wrapix_core.sandbox import cidfile as cidfiles
from wrapix_core.sandbox import staging, tty
from wrapix_core.sandbox.errors import (
    RuntimeFailed,
    RuntimeGarbage,
    RuntimeMissing,
    SandboxNotFound,
)
from wrapix_core.sandbox.model import LaunchPlan, RuntimeCaps
from wrapix_core.sandbox.runtime import (
    SHELL_COMMAND,
    ContainerInfo,
    ContainerStats,
    EventStreamStatus,
    RuntimeEvent,
    run_on_terminal,
)
from wrapix_core.settings import SandboxSettings

if TYPE_CHECKING:
    from wrapix_core.sandbox.remote_stats import Rates

INSTALL_HINT = PODMAN_INSTALL_HINT
CATATONIT = ("/usr/libexec/podman/catatonit", "/usr/bin/catatonit",
             "/usr/libexec/catatonit/catatonit")
GONE_HINT = ("it may be gone already (a sandbox started in the foreground is removed when "
             "it stops); see `wrapix ls --all`")
EVENT_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
STATS_TEMPLATE = ("{{.Name}}\t{{.ContainerStats.CPU}}\t{{.ContainerStats.MemUsage}}\t"
                  "{{.ContainerStats.MemLimit}}")


def version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


_FRACTION = re.compile(r"\.(\d+)")


def _time(value: Any) -> datetime | None:
    """Podman timestamps: unix seconds (ps) or RFC 3339 with nanoseconds (inspect,
    events); always returned timezone-aware."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    # Python parses at most microseconds: trim the fraction to six digits.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], value.replace("Z", "+00:00"), count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _info_from_ps(item: dict[str, Any]) -> ContainerInfo:
    names = item.get("Names") or [""]
    exited = item.get("Exited")
    return ContainerInfo(
        id=str(item.get("Id", "")), name=str(names[0]), image=str(item.get("Image", "")),
        state=str(item.get("State", "unknown")), labels=_labels(item.get("Labels")),
        created=_time(item.get("Created")), started=_time(item.get("StartedAt")),
        pid=item.get("Pid") or None,
        exit_code=item.get("ExitCode") if exited else None,
    )


def _info_from_inspect(item: dict[str, Any]) -> ContainerInfo:
    state = item.get("State") or {}
    config = item.get("Config") or {}
    status = str(state.get("Status", "unknown"))
    return ContainerInfo(
        id=str(item.get("Id", "")), name=str(item.get("Name", "")).lstrip("/"),
        image=str(item.get("ImageName") or config.get("Image", "")), state=status,
        labels=_labels(config.get("Labels")), created=_time(item.get("Created")),
        started=_time(state.get("StartedAt")), pid=state.get("Pid") or None,
        exit_code=state.get("ExitCode") if status in ("exited", "stopped") else None,
        auto_remove=bool((item.get("HostConfig") or {}).get("AutoRemove")),
    )


def _event(item: dict[str, Any]) -> RuntimeEvent | None:
    if item.get("Type") != "container":
        return None
    when = _time(item.get("Time")) or datetime.now(UTC)
    code = item.get("ContainerExitCode")
    return RuntimeEvent(id=str(item.get("ID", "")), name=str(item.get("Name", "")),
                        action=str(item.get("Status", "")), time=when,
                        labels=_labels(item.get("Attributes")),
                        exit_code=code if isinstance(code, int) else None)


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        raise RuntimeGarbage(f"podman answered `{what}` with something that is not JSON: "
                             f"{text.strip()[:120]!r}", "check `podman info` by hand") from None


class PodmanRuntime:
    """:class:`~wrapix_core.sandbox.runtime.Runtime` for rootless Podman."""

    name = "podman"

    def __init__(self, settings: SandboxSettings, *, remote: Sequence[str] = (),
                 host: str | None = None, timeout: float | None = None):
        """``remote`` (``--url URL --identity KEY``) makes every command reach host
        ``host``'s Podman over SSH instead of this machine's (see :mod:`wrapix_core.hosts`);
        ``timeout`` then bounds each call (the host's own)."""
        self.settings = settings
        self.executable = settings.podman
        self.remote = list(remote)
        self.host = host
        self.timeout = timeout or settings.command_timeout
        self._caps: RuntimeCaps | None = None
        self._stats_via_host = False
        self._rates: Rates | None = None
        """A remote host's CPU seconds per container, for CPU % over each round."""
        self._stats_via_top = False
        """The host said it cannot report stats (rootless on cgroup v1)."""
        self._processes: dict[int, psutil.Process] = {}

    # -- plumbing -------------------------------------------------------------------

    async def _run(self, *args: str, timeout: float | None = None, check: bool = True,
                   env: dict[str, str] | None = None) -> proc.Completed:
        return await call_podman(self.executable, args, timeout=timeout or self.timeout,
                                 check=check, env=env, options=self.remote, host=self.host)

    @property
    def base_argv(self) -> list[str]:
        """``podman`` with the options that reach this runtime's host."""
        return [self.executable, *self.remote]

    # -- capabilities ---------------------------------------------------------------

    def _caps_cache_key(self) -> str | None:
        found = shutil.which(self.executable)
        if not found:
            return None
        real = Path(found).resolve()
        stat = real.stat()
        return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"

    async def caps(self) -> RuntimeCaps:
        if self._caps is not None:
            return self._caps
        key = self._caps_cache_key()
        if key is None:
            raise RuntimeMissing(f"podman ({self.executable}) is not installed", INSTALL_HINT)
        cached = _read_caps_cache(key)
        if cached is None:
            cached = await self._probe()
            _write_caps_cache(key, cached)
        self._caps = cached
        return cached

    async def _probe(self) -> RuntimeCaps:
        info = _loads((await self._run("info", "--format", "json")).stdout, "podman info")
        if not isinstance(info, dict):
            raise RuntimeGarbage("podman info did not return a JSON object")
        host = info.get("host") or {}
        version = str((info.get("version") or {}).get("Version", "0"))
        numbers = version_tuple(version)
        security = host.get("security") or {}
        store = info.get("store") or {}
        pasta = numbers >= (4, 4) and (bool(host.get("pasta")) or shutil.which("pasta") is not None)
        return RuntimeCaps(
            runtime="podman", version=version, pasta=pasta,
            passwd_entry=numbers >= (4, 2),
            init=_has_init(),
            rootless=bool(security.get("rootless", os.geteuid() != 0)),
            cgroup_v1=str(host.get("cgroupVersion", "v2")) == "v1",
            graph_root=str(store.get("graphRoot", "")),
            graph_driver=str(store.get("graphDriverName", "")),
        )

    async def server_version(self) -> str:
        """The version of the Podman serving a remote runtime (the host's, over SSH)."""
        return (await self._run("version", "--format", "{{.Server.Version}}")).stdout.strip()

    # -- images and containers ------------------------------------------------------

    async def image_exists(self, image: str) -> bool:
        done = await self._run("image", "exists", image, check=False)
        return done.returncode == 0

    async def container_exists(self, name: str) -> bool:
        done = await self._run("container", "exists", name, check=False)
        return done.returncode == 0

    async def launch_detached(self, plan: LaunchPlan) -> str:
        with tempfile.TemporaryDirectory(prefix="wrapix-cid-") as tmp:
            cidfile = str(Path(tmp) / "cid")
            done = await call_podman(self.executable, cidfiles.run_argv(plan.argv, cidfile)[1:],
                                     timeout=self.timeout * 4, env=plan.env, check=False,
                                     options=self.remote, host=self.host)
            if done.returncode != 0:
                created = cidfiles.created(cidfile)
                if created:
                    await self._run(*cidfiles.removal(created), check=False)
                detail = proc.last_lines(without_noise(done.stderr), 2)
                raise RuntimeFailed(f"podman could not start {plan.name}: {detail}",
                                    start_hint(detail))
        return done.stdout.strip()

    def launch_foreground(self, plan: LaunchPlan) -> int:
        """Run attached to this terminal; returns the sandbox's exit code."""
        argv = [plan.argv[0], *self.remote, *plan.argv[1:]]  # a remote host's --url
        return run_on_terminal(argv, plan.env, RuntimeMissing(
            f"podman ({self.executable}) is not installed", INSTALL_HINT),
            running=self.running_argv(plan.name))

    async def containers(self, *, all: bool = False, sandboxes_only: bool = True
                         ) -> list[ContainerInfo]:
        args = ["ps", "--format", "json"]
        if all:
            args.append("--all")
        if sandboxes_only:
            args += ["--filter", "label=wrapix.sandbox=1"]
        data = _loads((await self._run(*args)).stdout, "podman ps")
        if not isinstance(data, list):
            raise RuntimeGarbage("podman ps did not return a JSON list")
        found = [_info_from_ps(item) for item in data if isinstance(item, dict)]
        return [replace(info, host=self.host) for info in found] if self.host else found

    async def inspect(self, name: str) -> ContainerInfo:
        done = await self._run("container", "inspect", "--format", "json", name, check=False)
        if done.returncode != 0:
            if "no such container" in done.stderr.lower():
                raise SandboxNotFound(f"no sandbox named '{name}'", GONE_HINT)
            raise RuntimeFailed(f"`podman inspect {name}` failed: "
                                f"{proc.last_lines(done.stderr, 1)}")
        data = _loads(done.stdout, "podman container inspect")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise RuntimeGarbage(f"podman inspect {name} returned no container")
        info = _info_from_inspect(data[0])
        return replace(info, host=self.host) if self.host else info

    async def _existing(self, name: str) -> None:
        if not await self.container_exists(name):
            raise SandboxNotFound(f"no sandbox named '{name}'", GONE_HINT)

    async def stop(self, name: str, timeout: int = 10) -> None:
        info = await self.inspect(name)
        if not self.remote and info.pid and not catches_sigterm(info.pid):
            # Its PID 1 (a `-- sh`, `-- sleep` without an init: catatonit is not
            # installed) ignores SIGTERM, as the kernel makes a namespace's init do:
            # waiting for it would only delay the SIGKILL that follows anyway.
            timeout = 0
        await self._run("stop", "-t", str(timeout), name, timeout=self.timeout + timeout)

    async def remove(self, name: str, force: bool = False) -> None:
        await self._existing(name)
        await self._run("rm", *(["-f"] if force else []), name)
        if not self.remote:
            staging.clear(paths.cache_dir(), name)

    async def restart(self, name: str) -> None:
        await self._existing(name)
        await self._run("restart", name, timeout=self.timeout + 10)

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None
                   ) -> AsyncGenerator[str, None]:
        await self._existing(name)
        argv = [*self.base_argv, "logs"]
        if follow:
            argv.append("--follow")
        if tail is not None:
            argv += ["--tail", str(tail)]
        argv.append(name)
        async with contextlib.aclosing(proc.stream_lines(argv, stderr_to_stdout=True)) as lines:
            async for line in lines:
                yield line

    # -- stats ----------------------------------------------------------------------

    async def stats(self, names: Sequence[str]) -> list[ContainerStats]:
        """CPU and memory per container; falls back to the host process tree where
        rootless Podman cannot report stats (cgroup v1)."""
        if not names:
            return []
        if self.remote:
            return await self._remote_stats(names)
        if not self._stats_via_host:
            done = await self._run("stats", "--no-stream", "--format", STATS_TEMPLATE, *names,
                                   check=False)
            parsed = _runtime_stats(done.stdout) if done.returncode == 0 else None
            if parsed is not None:
                return parsed
            # Rootless on cgroup v1 ("not supported") or an unexpected answer: from now
            # on read the container's process tree on the host instead.
            self._stats_via_host = True
        return await asyncio.to_thread(self._host_stats, await self._pids(names))

    async def _remote_stats(self, names: Sequence[str]) -> list[ContainerStats]:
        """The host's Podman's figures (see :mod:`wrapix_core.sandbox.remote_stats`): one
        ``stats`` call, or ``top`` per container on a host that cannot (cgroup v1)."""
        from wrapix_core.sandbox import remote_stats

        if self._rates is None:
            self._rates = remote_stats.Rates()
        if not self._stats_via_top:
            done = await self._run(*remote_stats.STATS_ARGS, *names, check=False)
            if done.returncode == 0:
                return self._rates.stats(remote_stats.parse_stats(done.stdout, names))
            if remote_stats.NEEDS_CGROUP_V2 not in done.stderr:
                raise RuntimeFailed(f"podman stats on host {self.host} failed: "
                                    f"{proc.last_lines(without_noise(done.stderr), 1)}")
            self._stats_via_top = True
        gate = asyncio.Semaphore(remote_stats.TOP_CONCURRENCY)

        async def top(name: str) -> tuple[str, remote_stats.Sample | None]:
            async with gate:
                done = await self._run("top", name, *remote_stats.TOP_DESCRIPTORS,
                                       check=False)
            return name, remote_stats.parse_top(done.stdout) if done.returncode == 0 else None

        answers = await asyncio.gather(*(top(name) for name in names))
        return self._rates.stats({name: found for name, found in answers if found})

    async def _pids(self, names: Sequence[str]) -> dict[str, int]:
        done = await self._run("container", "inspect", "--format", "{{.Name}} {{.State.Pid}}",
                               *names, check=False)
        pids: dict[str, int] = {}
        for line in done.stdout.splitlines():
            name, _, pid = line.strip().rpartition(" ")
            if pid.isdigit() and int(pid) > 0:
                pids[name.lstrip("/")] = int(pid)
        return pids

    def _host_stats(self, pids: dict[str, int]) -> list[ContainerStats]:
        results: list[ContainerStats] = []
        for name, pid in pids.items():
            cpu = 0.0
            memory = 0
            try:
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for process in tree:
                tracked = self._processes.setdefault(process.pid, process)
                with contextlib.suppress(psutil.Error):
                    cpu += tracked.cpu_percent(None)
                    memory += tracked.memory_info().rss
            results.append(ContainerStats(name, cpu, memory, source="host"))
        alive = {process.pid for process in self._processes.values() if process.is_running()}
        self._processes = {pid: p for pid, p in self._processes.items() if pid in alive}
        return results

    # -- terminals ------------------------------------------------------------------

    def attach_argv(self, name: str, detach_keys: str) -> list[str]:
        return [*self.base_argv, "attach", "--detach-keys", detach_keys, name]

    def shell_argv(self, name: str) -> list[str]:
        return [*self.base_argv, "exec", "-it", name, *SHELL_COMMAND]

    def running_argv(self, name: str) -> list[str]:
        return tty.podman_running(self.base_argv, name)

    def exec_argv(self, name: str, command: Sequence[str], *, tty: bool = False) -> list[str]:
        return [*self.base_argv, "exec", *(["-it"] if tty else ["-i"]), name, *command]

    # -- events ---------------------------------------------------------------------

    async def events(self) -> AsyncGenerator[RuntimeEvent | EventStreamStatus, None]:
        """Container events as they happen; reconnects with backoff.

        A reconnect replays from the last event seen (or from when the dropped stream
        connected) with ``--since``, so a stop or removal during the gap is still
        reported; the event at the boundary is not repeated.
        """
        since: datetime | None = None
        seen_at_since: set[tuple[str, str]] = set()
        failures = 0
        while True:
            argv = [*self.base_argv, "events", "--format", "json", "--filter", "type=container"]
            if since is not None:
                argv += ["--since", since.isoformat()]
            error = "podman events ended"
            try:
                async with proc.open_lines(argv) as lines:
                    since = since or datetime.now(UTC)
                    yield EventStreamStatus(connected=True)
                    async for line in lines:
                        try:
                            item = json.loads(line)
                        except json.JSONDecodeError:
                            continue
                        event = _event(item) if isinstance(item, dict) else None
                        if event is None:
                            continue
                        key = (event.id, event.action)
                        if event.time < since or (event.time == since and key in seen_at_since):
                            continue  # already reported before the reconnect
                        if event.time > since:
                            since, seen_at_since = event.time, set()
                        seen_at_since.add(key)
                        failures = 0
                        yield event
            except proc.CommandNotFound:
                error = f"podman ({self.executable}) is not installed"
            except proc.CommandFailed as exc:
                error = f"podman events failed: {proc.last_lines(exc.stderr, 1)}"
            delay = EVENT_BACKOFF[min(failures, len(EVENT_BACKOFF) - 1)]
            failures += 1
            yield EventStreamStatus(connected=False, error=error, retry_in=delay)
            await asyncio.sleep(delay)


def catches_sigterm(pid: int) -> bool:
    """Whether host process ``pid`` handles SIGTERM (True when it cannot be told)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (15 - 1)))
    except (OSError, ValueError, IndexError):
        pass
    return True


def _has_init() -> bool:
    return any(Path(path).exists() for path in CATATONIT)


def _caps_cache() -> Path:
    return paths.cache_dir() / "podman-caps.json"


def start_hint(detail: str) -> str:
    """What to do when ``podman run`` failed with ``detail``."""
    lowered = detail.lower()
    if "oci runtime" in lowered or "crun" in lowered:
        return ("the OCI runtime cannot start containers here (crun on hybrid cgroups, "
                "say): `wrapix doctor` checks it, and `wrapix doctor --fix` sets "
                "[engine] runtime = \"runc\" in ~/.config/containers/containers.conf")
    return "`wrapix doctor` checks every prerequisite of a sandbox"


def forget_caps() -> None:
    """Drop the cached capabilities (after Podman's storage or runtime was reconfigured)."""
    with contextlib.suppress(OSError):
        _caps_cache().unlink()


def _read_caps_cache(key: str) -> RuntimeCaps | None:
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        cached = json.loads(_caps_cache().read_text())
        if cached.get("key") == key:
            return RuntimeCaps(**cached["caps"])
    return None


def _write_caps_cache(key: str, caps: RuntimeCaps) -> None:
    with contextlib.suppress(OSError):
        paths.atomic_write_text(_caps_cache(), json.dumps({"key": key, "caps": asdict(caps)}))


def _runtime_stats(text: str) -> list[ContainerStats] | None:
    """Parse :data:`STATS_TEMPLATE` lines; None when the answer is not what was asked."""
    results: list[ContainerStats] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            return None
        try:
            limit = int(parts[3])
            results.append(ContainerStats(parts[0], float(parts[1]), int(parts[2]),
                                          limit or None))
        except ValueError:
            return None
    return results
