"""Starting and stopping the builder: what ``wrapix-builder start|stop`` and the TUI call.

``start`` is idempotent: a running builder is left alone; a stopped one (stale) is
removed and created afresh. Checks that cost nothing to undo come first (runtime,
port, store directory), then the image (built on first use), the keys, the store,
and the container. It returns only when a real ``ssh`` with the generated key runs
``true``; when that does not happen in time, the error says which part did not come
up, with the container's last log lines, and everything this start created is
removed again (the image and the keys, which are complete, are kept).

One start or stop runs at a time (a file lock in the data directory, across processes:
the TUI and the CLI): the cleanup of a failed start removes the container and the store
by name, which must never be another start's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from wrapix_core import paths, proc
from wrapix_core.builder import image as builder_image
from wrapix_core.builder import keys as builder_keys
from wrapix_core.builder import ports, store
from wrapix_core.builder.commands import Commands
from wrapix_core.builder.errors import BuilderBusy, BuilderNotUp, PortInUse
from wrapix_core.builder.events import BuilderCallback, BuilderEvent
from wrapix_core.builder.events import ignore as ignore_events
from wrapix_core.builder.podman import ROLE
from wrapix_core.builder.status import BuilderStatus, read_status, ssh_argv, store_dir
from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import naming
from wrapix_core.sandbox.errors import RuntimeFailed, SandboxNotFound
from wrapix_core.sandbox.runtime import ContainerInfo, Runtime
from wrapix_core.settings import BuilderSettings, Settings

POLL_SECONDS = 0.5
SSH_PROBE_TIMEOUT = 20.0
LOG_LINES = 15
STOP_GRACE = 10


async def _inspect(runtime: Runtime, name: str) -> ContainerInfo | None:
    try:
        return await runtime.inspect(name)
    except SandboxNotFound:
        return None


def _ensure_ours(info: ContainerInfo) -> None:
    """Never stop or remove someone else's container that happens to have the name."""
    if info.labels.get(naming.LABEL_ROLE) != ROLE:
        raise WrapixError(f"a container named {info.name} exists and is not wrapix's builder "
                          f"(no {naming.LABEL_ROLE}={ROLE} label)",
                          "rename or remove it, or set builder.name to another name")


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Hold the builder's lock, or raise :class:`BuilderBusy` at once.

    Without a writable data directory there is no lock, and nothing to guard: no start
    can create anything there (``start`` then says the store is not writable).
    """
    lock = FileLock(str(paths.data_dir() / "builder.lock"), thread_local=False)
    try:
        paths.ensure_private_dir(paths.data_dir())
        lock.acquire(timeout=0)
    except Timeout:
        raise BuilderBusy("another start or stop of the builder is in progress",
                          "wait for it to finish, then try again") from None
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


async def status(runtime: Runtime, settings: Settings) -> BuilderStatus:
    """The builder's status now (see :mod:`wrapix_core.builder.status`)."""
    return await read_status(runtime, settings.builder)


async def start(runtime: Runtime, settings: Settings, *, base: str | None = None,
                on_event: BuilderCallback = ignore_events) -> BuilderStatus:
    """Start the builder (idempotent) and return its status once SSH answers."""
    with _exclusive():
        return await _start(runtime, settings, base, on_event)


async def _start(runtime: Runtime, settings: Settings, base: str | None,
                 on_event: BuilderCallback) -> BuilderStatus:
    config = settings.builder
    on_event(BuilderEvent("check", f"checking {config.name}"))
    info = await _inspect(runtime, config.name)
    if info is not None:
        _ensure_ours(info)
    if info is not None and info.running:
        on_event(BuilderEvent("done", f"{config.name} is already running"))
        return await read_status(runtime, config)
    commands = Commands.for_runtime(runtime, config)
    if info is not None:
        on_event(BuilderEvent("container", f"removing the stopped {config.name} container "
                                           f"({info.state}) to create it afresh"))
        await runtime.remove(config.name, force=True)
    ports.ensure_free(config.port)
    store.check_writable(store_dir())

    image = await builder_image.ensure(runtime, settings, base=base, on_event=on_event)
    image_id = await commands.image_id(image)
    keys, generated = await builder_keys.ensure()
    if generated:
        on_event(BuilderEvent("keys", f"generated ed25519 keys in {keys.directory}"))
    if commands.apple:
        builder_keys.stage_share(keys)

    store_path = store_dir()
    created_store = store.prepare_dir(store_path)
    try:
        await store.initialise(commands, image, image_id, store_path, on_event=on_event)
        on_event(BuilderEvent("container", f"creating {config.name} from {image} "
                                           f"(SSH on 127.0.0.1:{config.port})"))
        await _create(commands, image, keys, store_path)
        on_event(BuilderEvent("wait", "waiting for sshd and the Nix daemon"))
        await wait_ready(runtime, config, timeout=config.start_timeout)
    except BaseException:
        # Nothing half-created stays: the container (no builder existed before this
        # start), and the store directory when this start created it.
        with contextlib.suppress(Exception):
            await commands.remove_quietly(config.name)
            if created_store:
                await store.remove(commands, image, store_path)
        raise
    on_event(BuilderEvent("done", f"{config.name} is up: ssh with the generated key works"))
    return await read_status(runtime, config)


async def _create(commands: Commands, image: str, keys: builder_keys.Keys,
                  store_path: Path) -> None:
    argv = commands.run_argv(image, keys, store_path)
    try:
        await commands.call(argv, timeout=commands.timeout * 4)
    except RuntimeFailed as exc:
        await commands.remove_quietly(commands.settings.name)
        text = str(exc).lower()
        if "address already in use" in text:
            raise PortInUse(f"port {commands.settings.port} on 127.0.0.1 was taken while "
                            "the builder was being prepared",
                            "stop what uses it, or choose another port with builder.port"
                            ) from None
        raise


async def _logs(runtime: Runtime, name: str) -> str:
    lines: list[str] = []
    with contextlib.suppress(WrapixError, proc.ProcError, TimeoutError):
        async with asyncio.timeout(10):
            async with contextlib.aclosing(runtime.logs(name, tail=LOG_LINES)) as stream:
                async for line in stream:
                    lines.append(line)
    return "\n  ".join(lines[-LOG_LINES:]) or "(no log lines)"


def _ssh_failure(stderr: str) -> str:
    text = stderr.lower()
    if "permission denied" in text:
        return ("sshd answered but refused the builder key "
                f"({proc.last_lines(stderr, 1)})")
    if "host key verification failed" in text or "identification has changed" in text:
        return "sshd answered with a host key other than the pinned one"
    return f"ssh failed: {proc.last_lines(stderr, 1) or 'no message'}"


async def wait_ready(runtime: Runtime, settings: BuilderSettings, *, timeout: float) -> None:
    """Wait until ``ssh builder@127.0.0.1 true`` works with the generated key.

    Raises :class:`BuilderNotUp` naming what did not come up: the container (exited),
    sshd (no SSH banner on the port), or the login (key or host key refused).
    """
    deadline = time.monotonic() + timeout
    problem = "nothing answered yet"
    while True:
        info = await _inspect(runtime, settings.name)
        if info is None or not info.running:
            state = "vanished" if info is None else (
                f"exited (code {info.exit_code})" if info.exit_code is not None else info.state)
            logs = await _logs(runtime, settings.name) if info is not None else ""
            raise BuilderNotUp(f"the builder container {settings.name} {state} before SSH "
                               "answered", "fix the cause and start again"
                               + (f"; the container's last log lines:\n  {logs}" if logs
                                  else ""))
        if await ports.ssh_banner(settings.port) is None:
            problem = f"sshd is not answering on 127.0.0.1:{settings.port}"
        else:
            done = await proc.run(ssh_argv(settings, ["true"], batch=True),
                                  timeout=SSH_PROBE_TIMEOUT, check=False)
            if done.returncode == 0:
                return
            problem = _ssh_failure(done.stderr)
        if time.monotonic() >= deadline:
            logs = await _logs(runtime, settings.name)
            raise BuilderNotUp(f"the builder did not come up within {timeout:g}s: {problem}",
                               "fix the cause and start again (raise builder.start_timeout "
                               "if it is merely slow); the container's last log lines:\n  "
                               + logs)
        await asyncio.sleep(POLL_SECONDS)


async def stop(runtime: Runtime, settings: Settings, *, keep: bool = False,
               on_event: BuilderCallback = ignore_events) -> BuilderStatus:
    """Stop the builder and remove its container (``keep``: leave it stopped).

    The store and the keys stay; the next start reuses them.
    """
    with _exclusive():
        return await _stop(runtime, settings, keep, on_event)


async def _stop(runtime: Runtime, settings: Settings, keep: bool,
                on_event: BuilderCallback) -> BuilderStatus:
    config = settings.builder
    info = await _inspect(runtime, config.name)
    if info is None:
        on_event(BuilderEvent("done", f"{config.name} is not created; nothing to stop"))
        return await read_status(runtime, config)
    _ensure_ours(info)
    if info.running:
        on_event(BuilderEvent("stop", f"stopping {config.name}"))
        await runtime.stop(config.name, timeout=STOP_GRACE)
    if keep:
        on_event(BuilderEvent("done", f"{config.name} is stopped (kept; `start` recreates it)"))
    else:
        await runtime.remove(config.name, force=True)
        on_event(BuilderEvent("done", f"{config.name} is stopped and removed (the store and "
                                      "keys are kept)"))
    return await read_status(runtime, config)
