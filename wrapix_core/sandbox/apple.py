"""The Apple ``container`` runtime (macOS 26+, Apple silicon), tested at the argv level.

Differences from Podman that shape the plan:
- each container is a lightweight VM sharing directories over virtio-fs, which cannot
  share single files: known_hosts, the system prompt and keys are staged into one
  directory mounted read-only at ``/run/wrapix-files``; a single-file read-only path
  such as ``.git/config`` cannot be protected and the plan says so;
- there is no ``--userns=keep-id``: the entrypoint creates a user with the host UID/GID
  (``WRAPIX_UID``/``WRAPIX_GID``/``WRAPIX_USER``) and drops to it;
- the notify socket cannot cross virtio-fs: the client uses TCP to the gateway
  (``WRAPIX_NOTIFY_TCP=1``);
- there is no event stream: :meth:`AppleRuntime.events` compares listings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wrapix_core import paths, proc
from wrapix_core.runtime_cli import RuntimeCli
from wrapix_core.sandbox import naming, staging
from wrapix_core.sandbox.errors import (
    RuntimeFailed,
    RuntimeGarbage,
    RuntimeHung,
    RuntimeMissing,
    SandboxNotFound,
)
from wrapix_core.sandbox.model import (
    Bind,
    HostFacts,
    LaunchPlan,
    RuntimeCaps,
    SandboxSpec,
    StagingAction,
)
from wrapix_core.sandbox.plan import (
    KNOWN_HOSTS,
    SYSTEM_PROMPT,
    PlanBuilder,
    PlanError,
    env_args,
)
from wrapix_core.sandbox.runtime import (
    SHELL_COMMAND,
    ContainerInfo,
    ContainerStats,
    EventStreamStatus,
    RuntimeEvent,
    run_on_terminal,
)
from wrapix_core.settings import SandboxSettings

FILES_DIR = "/run/wrapix-files"
INSTALL_HINT = "install Apple's container CLI (https://github.com/apple/container) on macOS 26+"
CLI = RuntimeCli(program="container", missing="Apple's container CLI is not installed",
                 install_hint=INSTALL_HINT, hung_hint="check `container system status`")
POLL_SECONDS = 2.0


def plan_apple(spec: SandboxSpec, facts: HostFacts, settings: SandboxSettings,
               container: str = "container") -> LaunchPlan:
    """The ``container run`` invocation for ``spec``."""
    builder = PlanBuilder(spec, facts, settings)
    builder.workspace()
    builder.mounts()
    files = builder.staging_root / "files"
    file_sources = {Path(path) for path, fact in facts.paths.items() if fact.kind == "file"}
    single_files = [bind for bind in builder.binds if bind.source in file_sources]
    builder.binds = [bind for bind in builder.binds if bind not in single_files]
    for bind in single_files:
        builder.warnings.append(f"{bind.dest} cannot be mounted read-only on macOS "
                                "(virtio-fs shares directories only); it stays writable")
    staged = [("known_hosts", facts.known_hosts), ("system-prompt.md", facts.system_prompt)]
    if facts.deploy_key is not None:
        staged.append(("deploy_key", facts.deploy_key))
    if facts.signing_key is not None:
        staged.append(("signing_key", facts.signing_key))
    if not any(action.kind == "clear" for action in builder.staging):
        builder.staging.insert(0, StagingAction("clear", builder.staging_root))
    for filename, source in staged:
        builder.staging.append(StagingAction("copy", files / filename, source=source))
    builder.binds.append(Bind(files, FILES_DIR, "ro"))
    env, secrets = builder.environment()
    env.update({"WRAPIX_UID": str(facts.uid), "WRAPIX_GID": str(facts.gid),
                "WRAPIX_USER": facts.user, "WRAPIX_FILES": FILES_DIR,
                "WRAPIX_KNOWN_HOSTS": KNOWN_HOSTS, "WRAPIX_PROMPT": SYSTEM_PROMPT,
                "WRAPIX_NOTIFY_TCP": "1"})
    if facts.deploy_key is not None:
        env["WRAPIX_DEPLOY_KEY"] = f"{FILES_DIR}/deploy_key"
    if facts.signing_key is not None:
        env["WRAPIX_SIGNING_KEY"] = f"{FILES_DIR}/signing_key"

    argv = [container, "run", "--name", spec.name]
    labels = {naming.LABEL_SANDBOX: "1", naming.LABEL_PROFILE: spec.profile.name,
              naming.LABEL_WORKSPACE: str(spec.workspace), naming.LABEL_ROLE: spec.role}
    for key, value in labels.items():
        argv += ["--label", f"{key}={value}"]
    if spec.remove:
        argv.append("--rm")
    if spec.detach:
        argv.append("--detach")
    if spec.interactive:
        argv.append("--interactive")
    if spec.tty:
        argv.append("--tty")
    argv += ["--cpus", str(max(1, round(float(builder.cpus())))),
             "--memory", settings.memory.upper().removesuffix("B")]
    argv += ["--tmpfs", builder.home, "--workdir", "/workspace"]
    for bind in builder.binds:
        if bind.mode == "ro":
            argv += ["--mount", f"type=virtiofs,source={bind.source},target={bind.dest},readonly"]
        else:
            argv += ["--volume", f"{bind.source}:{bind.dest}"]
        if "," in str(bind.source) or "," in bind.dest:
            raise PlanError(f"mount path {bind.source} contains ',' which `container --mount` "
                            "cannot carry", "rename or move it")
    argv += list(env_args(env))
    for name in secrets:
        argv += ["-e", name]
    argv += [spec.image, *spec.command]
    return LaunchPlan(name=spec.name, argv=argv, env=dict(secrets), staging=builder.staging,
                      warnings=builder.warnings, binds=builder.binds, container_env=env)


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        # Apple reports seconds since 2001-01-01 (Foundation's reference date).
        return datetime.fromtimestamp(value + 978307200, UTC)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _info(item: dict[str, Any]) -> ContainerInfo:
    config = item.get("configuration") or {}
    image = (config.get("image") or {}).get("reference", "")
    labels = {str(k): str(v) for k, v in (config.get("labels") or {}).items()}
    return ContainerInfo(id=str(config.get("id", "")), name=str(config.get("id", "")),
                         image=str(image), state=str(item.get("status", "unknown")),
                         labels=labels, started=_time(item.get("startedDate")))


class AppleRuntime:
    """:class:`~wrapix_core.sandbox.runtime.Runtime` for Apple's ``container`` CLI."""

    name = "apple"

    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        self.executable = settings.container
        self.timeout = settings.command_timeout

    async def _run(self, *args: str, check: bool = True) -> proc.Completed:
        return await CLI.run(self.executable, args, timeout=self.timeout, check=check)

    async def caps(self) -> RuntimeCaps:
        done = await self._run("--version")
        return RuntimeCaps(runtime="apple", version=done.stdout.strip().split()[-1],
                           passwd_entry=False, init=False, rootless=True)

    async def image_exists(self, image: str) -> bool:
        done = await self._run("image", "inspect", image, check=False)
        return done.returncode == 0

    async def container_exists(self, name: str) -> bool:
        done = await self._run("inspect", name, check=False)
        return done.returncode == 0 and done.stdout.strip() not in ("", "[]")

    async def launch_detached(self, plan: LaunchPlan) -> str:
        try:
            done = await proc.run(plan.argv, timeout=self.timeout * 4, env=plan.env)
        except proc.CommandFailed as exc:
            raise RuntimeFailed(f"container could not start {plan.name}: "
                                f"{proc.last_lines(exc.stderr, 2)}") from None
        return done.stdout.strip()

    def launch_foreground(self, plan: LaunchPlan) -> int:
        return run_on_terminal(plan.argv, plan.env,
                               RuntimeMissing("Apple's container CLI is not installed",
                                              INSTALL_HINT))

    async def containers(self, *, all: bool = False, sandboxes_only: bool = True
                         ) -> list[ContainerInfo]:
        args = ["list", "--format", "json", *(["--all"] if all else [])]
        try:
            data = json.loads((await self._run(*args)).stdout or "[]")
        except json.JSONDecodeError:
            raise RuntimeGarbage("container list did not return JSON") from None
        infos = [_info(item) for item in data if isinstance(item, dict)]
        return [info for info in infos if info.is_sandbox or not sandboxes_only]

    async def inspect(self, name: str) -> ContainerInfo:
        done = await self._run("inspect", name, check=False)
        try:
            data = json.loads(done.stdout or "[]")
        except json.JSONDecodeError:
            raise RuntimeGarbage("container inspect did not return JSON") from None
        if done.returncode != 0 or not data:
            raise SandboxNotFound(f"no sandbox named '{name}'", "see `wrapix ls --all`")
        return _info(data[0])

    async def stop(self, name: str, timeout: int = 10) -> None:
        await self._run("stop", "--time", str(timeout), name)

    async def remove(self, name: str, force: bool = False) -> None:
        await self._run("delete", *(["--force"] if force else []), name)
        staging.clear(paths.cache_dir(), name)  # its staged files: keys among them

    async def restart(self, name: str) -> None:
        await self.stop(name)
        await self._run("start", name)

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None
                   ) -> AsyncGenerator[str, None]:
        argv = [self.executable, "logs", *(["--follow"] if follow else []),
                *(["-n", str(tail)] if tail is not None else []), name]
        async with contextlib.aclosing(proc.stream_lines(argv, stderr_to_stdout=True)) as lines:
            async for line in lines:
                yield line

    async def stats(self, names: Sequence[str]) -> list[ContainerStats]:
        if not names:
            return []
        done = await self._run("stats", "--format", "json", "--no-stream", *names, check=False)
        results: list[ContainerStats] = []
        with contextlib.suppress(json.JSONDecodeError, TypeError, ValueError):
            for item in json.loads(done.stdout or "[]"):
                results.append(ContainerStats(
                    name=str(item.get("id", "")), cpu_percent=float(item.get("cpuPercent", 0)),
                    memory_bytes=int(item.get("memoryUsageBytes", 0)),
                    memory_limit=int(item.get("memoryLimitBytes", 0)) or None))
        return results

    def running_argv(self, name: str) -> None:
        return None  # its attach is a shell: nothing is left running by leaving it

    def attach_argv(self, name: str, detach_keys: str) -> list[str]:
        # Apple's CLI has no attach; a login shell in the agent's container is the closest.
        return self.shell_argv(name)

    def shell_argv(self, name: str) -> list[str]:
        return [self.executable, "exec", "--interactive", "--tty", name, *SHELL_COMMAND]

    def exec_argv(self, name: str, command: Sequence[str], *, tty: bool = False) -> list[str]:
        flags = ["--interactive", "--tty"] if tty else ["--interactive"]
        return [self.executable, "exec", *flags, name, *command]

    async def events(self) -> AsyncGenerator[RuntimeEvent | EventStreamStatus, None]:
        """Apple's CLI has no event stream: compare listings every few seconds."""
        known: dict[str, str] = {}
        yield EventStreamStatus(connected=True)
        while True:
            try:
                current = {info.name: info for info in await self.containers(all=True)}
            except (RuntimeFailed, RuntimeHung, RuntimeGarbage, RuntimeMissing) as error:
                yield EventStreamStatus(connected=False, error=str(error), retry_in=POLL_SECONDS)
                await asyncio.sleep(POLL_SECONDS)
                continue
            now = datetime.now(UTC)
            for name, info in current.items():
                if known.get(name) != info.state:
                    action = "start" if info.running else "died"
                    yield RuntimeEvent(info.id, name, action, now, info.labels)
            for name in set(known) - set(current):
                yield RuntimeEvent(name, name, "remove", now)
            known = {name: info.state for name, info in current.items()}
            await asyncio.sleep(POLL_SECONDS)
