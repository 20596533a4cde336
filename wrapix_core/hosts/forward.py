"""Notifications from remote sandboxes: one SSH-forwarded socket per sandbox, kept up.

For each host, one ``ssh`` ControlMaster connection (``ssh -M -N``) that wrapix keeps up
(restarted with backoff when it drops). For each wrapix sandbox running there, a
remote-forwarded unix socket added to it (``ssh -O forward -R REMOTE:LOCAL``):

- REMOTE: ``<host runtime dir>/wrapix/sockets/NAME/notify.sock``, bound by the host's
  sshd (mode 0600, the host user's), in the directory ``wrapix run --on`` mounts at
  ``/run/wrapix`` in that sandbox (:func:`remote_socket_dir`);
- LOCAL: ``<runtime>/remote-sockets/HOST.NAME/notify.sock``, bound by the daemon, which
  therefore knows host and sandbox from the socket a message arrived on — never from what
  the message says (:mod:`wrapix_core.notify.daemon`).

The sandboxes there are followed with that host's ``podman events`` (a listing at each
change); nothing polls. A host that is down costs its own retries, in its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from wrapix_core import paths, proc
from wrapix_core.errors import WrapixError
from wrapix_core.hosts.target import Host, SshTarget, resolve, ssh_target
from wrapix_core.notify import socketdirs
from wrapix_core.sandbox.runtime import EventStreamStatus, Runtime
from wrapix_core.settings import Settings

log = logging.getLogger("wrapix.hosts.forward")

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
READY = "wrapix-forward-ready"
READY_COMMAND = f"echo {READY}; while :; do sleep 3600; done"


def remote_socket_dir(target: SshTarget, name: str) -> str:
    """Sandbox ``name``'s socket directory on the host: beside Podman's own runtime files
    (``/run/user/UID/podman/podman.sock`` -> ``/run/user/UID/wrapix/sockets/NAME``)."""
    runtime = PurePosixPath(target.socket).parent.parent
    return str(runtime / "wrapix" / "sockets" / name)


class HostLink:
    """Host ``found``'s forwarded sockets: :meth:`run` keeps them up until cancelled."""

    def __init__(self, found: Host, runtime: Runtime, local_root: Path):
        self.found = found
        self.runtime = runtime
        self.local_root = local_root
        self.control = paths.runtime_dir() / f"ssh-{found.name}.ctl"
        self.forwarded: dict[str, tuple[str, str]] = {}
        """Sandbox name to its (remote, local) socket paths."""
        self.connected = asyncio.Event()
        self._changed = asyncio.Condition()

    async def wait_until(self, predicate: Callable[[dict[str, tuple[str, str]]], bool]) -> None:
        """Until ``predicate(self.forwarded)`` holds (checked after each change)."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self.forwarded))

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                resolved = await resolve(self.found)
                assert resolved.url is not None
                target = ssh_target(resolved.url, resolved.identity)
                await self._session(target)
                failures = 0
            except asyncio.CancelledError:
                raise
            except (WrapixError, OSError) as exc:
                log.warning("host %s: notifications not forwarded: %s", self.found.name, exc)
            finally:
                self._forget()
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            failures += 1
            await asyncio.sleep(delay)

    def _ssh(self, target: SshTarget, *options: str) -> list[str]:
        return target.ssh_argv(self.found.timeout, "-S", str(self.control), *options)

    async def _session(self, target: SshTarget) -> None:
        with contextlib.suppress(OSError):
            self.control.unlink()
        # The remote command says when the login is done (then the control socket is
        # there) and holds the connection open; sshd ends it when the connection drops.
        master = [*self._ssh(target, "-M", "-o", "ControlPersist=no",
                             "-o", "ExitOnForwardFailure=no"), READY_COMMAND]
        follow: asyncio.Task[None] | None = None
        async with proc.open_lines(master, stderr_to_stdout=True,
                                   start_timeout=self.found.timeout) as output:
            try:
                async for line in output:
                    if line.strip() == READY and follow is None:
                        self.connected.set()
                        follow = asyncio.create_task(self._follow(target),
                                                     name=f"hosts-{self.found.name}")
                    else:
                        log.info("host %s: ssh: %s", self.found.name, line)
            finally:
                if follow is not None:
                    follow.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await follow
                self.connected.clear()
        raise WrapixError(f"the ssh connection to {target.login} ended")

    async def _control(self, target: SshTarget, *options: str, command: str | None = None
                       ) -> proc.Completed:
        argv = self._ssh(target, *options)
        return await proc.run([*argv, *([command] if command else [])],
                              timeout=self.found.timeout, check=False)

    async def _follow(self, target: SshTarget) -> None:
        async with contextlib.aclosing(self.runtime.events()) as events:
            async for event in events:
                if isinstance(event, EventStreamStatus):
                    if event.connected:
                        await self._reconcile(target)
                elif event.action in ("start", "died", "stop", "remove", "cleanup", "init"):
                    await self._reconcile(target)

    async def _reconcile(self, target: SshTarget) -> None:
        try:
            running = await self.runtime.containers()
        except WrapixError as exc:
            log.warning("host %s: cannot list sandboxes: %s", self.found.name, exc)
            return
        want = {item.name for item in running if socketdirs.valid_name(item.name)}
        for name in sorted(want - set(self.forwarded)):
            await self._add(target, name)
        for name in sorted(set(self.forwarded) - want):
            await self._drop(target, name)
        async with self._changed:
            self._changed.notify_all()

    async def _add(self, target: SshTarget, name: str) -> None:
        local_dir = self.local_root / socketdirs.remote_name(self.found.name, name)
        socketdirs.ensure(str(self.local_root))
        socketdirs.create(str(local_dir))
        remote_dir = remote_socket_dir(target, name)
        remote = f"{remote_dir}/{socketdirs.SOCKET_NAME}"
        local = str(local_dir / socketdirs.SOCKET_NAME)
        await self._control(target, command=f"mkdir -p -m 0700 {shlex.quote(remote_dir)}")
        done = await self._control(target, "-O", "forward", "-R", f"{remote}:{local}")
        if done.returncode != 0:
            log.warning("host %s: cannot forward %s's notifications: %s", self.found.name,
                        name, proc.last_lines(done.stderr, 1))
            socketdirs.remove(str(local_dir))
            return
        self.forwarded[name] = (remote, local)
        log.info("host %s: forwarding notifications of %s", self.found.name, name)

    async def _drop(self, target: SshTarget, name: str) -> None:
        remote, local = self.forwarded.pop(name)
        await self._control(target, "-O", "cancel", "-R", f"{remote}:{local}")
        socketdirs.remove(str(Path(local).parent))

    def _forget(self) -> None:
        """The master is gone (its forwards with it): drop the local directories."""
        for _remote, local in self.forwarded.values():
            socketdirs.remove(str(Path(local).parent))
        self.forwarded.clear()


class Forwarders:
    """One :class:`HostLink` per configured host, beside a running notification daemon."""

    def __init__(self, settings: Settings, host_socket: Path):
        from wrapix_core.hosts.fleet import host_runtime
        from wrapix_core.hosts.target import hosts

        root = Path(socketdirs.remote_sockets_dir(str(host_socket)))
        self.links = [HostLink(found, host_runtime(settings, found), root)
                      for found in hosts(settings)]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(link.run(), name=f"hosts-forward-{link.found.name}")
                       for link in self.links]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
