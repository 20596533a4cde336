"""The notification daemon: receive, decide, record, pop up.

It runs as ``wrapix-notifyd`` or inside ``wrapix-tui`` (when no daemon runs) through the
same API::

    daemon = NotifyDaemon(DaemonConfig.from_settings(settings))
    await daemon.start()          # raises DaemonAlreadyRunning
    async for entry in daemon.subscribe(): ...   # new inbox entries, straight from memory
    await daemon.stop()           # or: async with NotifyDaemon(...) as daemon: ...

Where it listens: the host socket (host clients: ``wrapix-notify`` on the host, Ralph on
the host), one socket per sandbox (:mod:`.sandboxes`: the only thing mounted into that
sandbox, at ``/run/wrapix/notify.sock``), and TCP on macOS.

Who sent it: the listener a connection arrived on, never the message. A notification
from a sandbox's socket is recorded under that sandbox, whatever its ``sandbox`` field
claims (the claim is dropped: the socket already says who it is). On the host socket the
claim stands (only the host user can reach it: the same trust as writing the inbox file).
On TCP (macOS: any container on the network can connect, and nothing identifies it) the
claim is kept apart, as the entry's ``claimed_sandbox``, never as its ``sandbox``.

Connection quotas: each sandbox's socket may hold ``sandbox_connections`` connections at
once (default 256), and all listeners together ``max_connections``; a connection over
either is closed at once. So a sandbox that opens thousands of connections only refuses
its own, and every other sandbox and the host still get through.

Per connection: lines are framed with a per-line size limit (:mod:`.protocol`), and a
connection must complete a line every ``idle_timeout`` seconds or it is closed, so a
slow or hostile client holds at most one buffer and one timer, never the daemon. Bad
lines are logged (rate-limited) and skipped; the connection and the daemon go on.

Per notification: :class:`.focus.FocusChecker` decides whether to suppress the popup,
the :class:`.backends.PopupRunner` starts it in the background, and the entry joins a
bounded queue that one writer task drains into the :class:`.inbox.InboxStore` in batches
(one lock and one write per batch, in a thread) — the queue bound is the backpressure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import socket
import sys
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from wrapix_core import paths
from wrapix_core.notify import listener
from wrapix_core.notify.backends import PopupRunner, choose_backend
from wrapix_core.notify.focus import FocusChecker, FocusResult
from wrapix_core.notify.inbox import Entry, InboxStore, NewEntry, PopupOutcome
from wrapix_core.notify.listener import DaemonAlreadyRunning, UnixListener
from wrapix_core.notify.protocol import (
    MAX_LINE,
    LineFramer,
    Notification,
    Oversized,
    ProtocolError,
    parse_line,
)
from wrapix_core.notify.sandboxes import SandboxSockets
from wrapix_core.untrusted import display_text

if TYPE_CHECKING:
    from wrapix_core.settings import Settings

__all__ = ["DaemonAlreadyRunning", "DaemonConfig", "DaemonStats", "NotifyDaemon",
           "daemon_running"]

log = logging.getLogger("wrapix.notify.daemon")

READ_CHUNK = 64 * 1024
QUEUE_LIMIT = 10_000
BATCH_LIMIT = 1024
RECONNECT_RESERVE = 64
"""File descriptors kept free for everything that is not a connection."""
SANDBOX_CONNECTIONS = 256
"""Connections one sandbox's socket may hold at once (its quota)."""


def raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard one, as servers do: each client holds
    a descriptor, and the usual soft limit (1024) is below a busy agent fleet's need."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def daemon_running(socket_path: Path | None = None) -> bool:
    """Whether a daemon answers on ``socket_path`` (default: the standard socket)."""
    return listener.socket_is_live(socket_path or paths.notify_socket())


@dataclass(frozen=True)
class DaemonConfig:
    socket_path: Path = field(default_factory=paths.notify_socket)
    tcp: str | None = None
    """``HOST[:PORT]`` to listen on as well (see :func:`.listener.parse_tcp`)."""
    tcp_optional: bool = False
    """A TCP address that may fail to bind with a warning (the macOS default)."""
    backend: str = "auto"
    inbox_limit: int = 10_000
    idle_timeout: float = 10.0
    """Seconds a connection may go without completing a line."""
    max_connections: int | None = None
    """Concurrent connections; default from the open-file limit (at most 4096)."""
    sandbox_connections: int = SANDBOX_CONNECTIONS
    """Concurrent connections per sandbox socket (each sandbox's own quota)."""
    sandbox_sockets: bool = field(default_factory=lambda: sys.platform.startswith("linux"))
    """Serve the per-sandbox sockets under ``sockets/`` beside ``socket_path`` (Podman on
    Linux; Apple containers on macOS reach the daemon over TCP)."""
    verbose: bool = field(default_factory=lambda: os.environ.get("WRAPIX_NOTIFY_VERBOSE") == "1")
    """Log every decision; default from ``WRAPIX_NOTIFY_VERBOSE=1``."""

    @classmethod
    def from_settings(cls, settings: Settings, *, socket: Path | None = None,
                      tcp: str | None = None, verbose: bool = False) -> DaemonConfig:
        notify = settings.notify
        tcp_value = tcp or notify.tcp
        tcp_optional = False
        if tcp_value is None and sys.platform == "darwin":
            tcp_value = f"{listener.MACOS_GATEWAY}:{listener.DEFAULT_TCP_PORT}"
            tcp_optional = True
        return cls(socket_path=socket or notify.socket or paths.notify_socket(),
                   tcp=tcp_value, tcp_optional=tcp_optional, backend=notify.backend,
                   inbox_limit=notify.inbox_limit,
                   verbose=verbose or os.environ.get("WRAPIX_NOTIFY_VERBOSE") == "1")


@dataclass(eq=False)
class Source:
    """A listener, as connections arriving on it are attributed and counted."""

    label: str
    """For the log: ``the host socket``, ``sandbox NAME``, ``TCP``."""
    sandbox: str | None = None
    """The sandbox this listener belongs to: every message on it is that sandbox's."""
    trust_claims: bool = True
    """Whether a message's own ``sandbox`` field is believed (host socket only)."""
    limit: int | None = None
    """Connections this listener may hold at once (None: only the daemon-wide limit)."""
    open: int = 0

    def attribute(self, notification: Notification) -> tuple[Notification, str | None]:
        """``notification`` with its ``sandbox`` as this listener vouches for it, and the
        claim kept apart (``claimed_sandbox``) where it cannot be checked."""
        if self.sandbox is not None:
            if notification.sandbox == self.sandbox:
                return notification, None
            return replace(notification, sandbox=self.sandbox), None
        if self.trust_claims or notification.sandbox is None:
            return notification, None
        return replace(notification, sandbox=None), notification.sandbox


@dataclass
class DaemonStats:
    connections: int = 0
    open_connections: int = 0
    refused_connections: int = 0
    received: int = 0
    rejected: int = 0
    stored: int = 0


class _RejectLog:
    """Logs rejected lines, at most ``burst`` per ``window`` seconds, then a count."""

    def __init__(self, burst: int = 20, window: float = 10.0):
        self.burst, self.window = burst, window
        self._start = 0.0
        self._count = 0
        self._hidden = 0

    def __call__(self, peer: str, why: str) -> None:
        now = time.monotonic()
        if now - self._start > self.window:
            if self._hidden:
                log.warning("%d more rejected lines were not logged", self._hidden)
            self._start, self._count, self._hidden = now, 0, 0
        if self._count < self.burst:
            self._count += 1
            log.warning("rejected a line from %s: %s", peer, why)
        else:
            self._hidden += 1


def _default_max_connections() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, soft - RECONNECT_RESERVE))


class NotifyDaemon:
    """See the module docstring; one instance serves one socket (and maybe TCP)."""

    def __init__(self, config: DaemonConfig | None = None, *,
                 store: InboxStore | None = None, focus: FocusChecker | None = None,
                 popups: PopupRunner | None = None):
        self.config = config or DaemonConfig()
        self.store = store or InboxStore(limit=self.config.inbox_limit)
        self._focus = focus
        self._popups = popups
        self.stats = DaemonStats()
        self.max_connections = self.config.max_connections or 0
        """Set by :meth:`start`: the open-file limit it depends on is raised there first."""
        self.tcp_address: tuple[str, int] | None = None
        self._unix = UnixListener(self.config.socket_path)
        self._host = Source("the host socket")
        self._sandboxes: SandboxSockets | None = None
        self._servers: list[asyncio.Server] = []
        self._listening: list[socket.socket] = []
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._queue: asyncio.Queue[NewEntry] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._subscribers: set[Subscription] = set()
        self._reject = _RejectLog()
        self._running = False

    @property
    def socket_path(self) -> Path:
        return self.config.socket_path

    @property
    def running(self) -> bool:
        return self._running

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Claim the socket (and TCP address) and start serving; returns at once."""
        if self._running:
            return
        raise_open_file_limit()
        if not self.config.max_connections:
            self.max_connections = _default_max_connections()
        tcp = listener.parse_tcp(self.config.tcp) if self.config.tcp else None
        unix_sock = self._unix.claim()
        if self._focus is None:
            self._focus = FocusChecker()
        if self._popups is None:
            self._popups = PopupRunner(choose_backend(self.config.backend))
        self._queue = asyncio.Queue(QUEUE_LIMIT)
        self._writer = asyncio.create_task(self._write_inbox(), name="wrapix-inbox-writer")
        self._running = True
        try:
            self._listening.append(unix_sock)
            self._servers.append(await asyncio.start_unix_server(
                partial(self._serve_connection, self._host), sock=unix_sock,
                limit=READ_CHUNK, backlog=listener.BACKLOG))
            if tcp is not None:
                await self._start_tcp(*tcp)
            if self.config.sandbox_sockets:
                self._sandboxes = SandboxSockets(self.sockets_dir, self._serve_sandbox)
                await self._sandboxes.start()
        except BaseException:
            await self.stop()
            raise
        log.info("listening on %s%s", self.socket_path,
                 f" and {self.tcp_address[0]}:{self.tcp_address[1]}" if self.tcp_address
                 else "")

    @property
    def sockets_dir(self) -> Path:
        """Where the sandboxes' socket directories are (see :mod:`.socketdirs`)."""
        from wrapix_core.notify import socketdirs

        return Path(socketdirs.sockets_dir(str(self.socket_path)))

    def sandbox_names(self) -> list[str]:
        """The sandboxes the daemon listens for now."""
        return sorted(self._sandboxes.bound) if self._sandboxes is not None else []

    async def _serve_sandbox(self, name: str, sock: socket.socket) -> asyncio.Server:
        source = Source(f"sandbox {name}", sandbox=name, trust_claims=False,
                        limit=self.config.sandbox_connections)
        return await asyncio.start_unix_server(
            partial(self._serve_connection, source), sock=sock, limit=READ_CHUNK,
            backlog=listener.BACKLOG)

    async def _start_tcp(self, host: str, port: int) -> None:
        try:
            sock = listener.bind_tcp(host, port)
        except OSError as exc:
            if self.config.tcp_optional:
                log.warning("not listening on TCP %s:%d (%s): containers on this Mac cannot "
                            "notify until the container network is up; restart the daemon "
                            "then, or set notify.tcp", host, port, exc.strerror)
                return
            raise listener.ListenError(f"cannot listen on TCP {host}:{port}: {exc.strerror}",
                                       "check the address is this host's container "
                                       "gateway and the port is free", exit_code=1) from None
        self._listening.append(sock)
        tcp_source = Source("TCP", trust_claims=False)
        self._servers.append(await asyncio.start_server(
            partial(self._serve_connection, tcp_source), sock=sock, limit=READ_CHUNK,
            backlog=listener.BACKLOG))
        self.tcp_address = (host, port)

    async def stop(self) -> None:
        """Stop listening, finish open work, store what was received, remove the socket."""
        if not self._running:
            return
        self._running = False
        waiting = self._take_backlog()
        sandbox_servers = self._sandboxes.servers() if self._sandboxes is not None else []
        for server in [*self._servers, *sandbox_servers]:
            server.close()
        late = []
        for conn, source in waiting:  # connected before we closed: serve them too
            with contextlib.suppress(OSError):
                if conn.family == socket.AF_UNIX:
                    reader, writer = await asyncio.open_unix_connection(sock=conn)
                else:
                    reader, writer = await asyncio.open_connection(sock=conn)
                late.append(asyncio.create_task(
                    self._serve_connection(source, reader, writer)))
        await asyncio.sleep(0)  # let those tasks register themselves
        # Clients send at once: give them a moment, then hang up on the rest (closing
        # the transport ends their reads normally), and cancel only what still hangs.
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=1.0)
        for writer in list(self._connections.values()):
            writer.transport.abort()
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=1.0)
        for task in [*self._connections, *late]:
            task.cancel()
        if self._queue is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=5.0)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self._popups is not None:
            await self._popups.aclose()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        self._servers.clear()
        self._listening.clear()
        if self._sandboxes is not None:
            await self._sandboxes.stop()
            self._sandboxes = None
        self._unix.release()
        for subscription in list(self._subscribers):
            subscription.end()
        log.info("stopped; removed %s", self.socket_path)

    def _take_backlog(self) -> list[tuple[socket.socket, Source]]:
        """Connections the kernel accepted that the event loop has not picked up yet."""
        listening = [(sock, self._host if sock.family == socket.AF_UNIX
                      else Source("TCP", trust_claims=False)) for sock in self._listening]
        if self._sandboxes is not None:
            listening += [(bound.sock, Source(f"sandbox {name}", sandbox=name,
                                              trust_claims=False))
                          for name, bound in self._sandboxes.bound.items()]
        taken = []
        for sock, source in listening:
            while True:
                try:
                    conn, _address = sock.accept()
                except OSError:  # BlockingIOError: none left
                    break
                conn.setblocking(False)
                taken.append((conn, source))
        return taken

    async def __aenter__(self) -> NotifyDaemon:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def flush(self) -> None:
        """Wait until everything received so far is in the inbox."""
        if self._queue is not None:
            await self._queue.join()

    def subscribe(self) -> Subscription:
        """New inbox entries from now on, as they are stored, until the daemon stops.

        Registered at the call, so nothing stored after it is missed. A subscriber that
        falls more than ``QUEUE_LIMIT`` entries behind misses some (logged);
        :func:`.follow.follow_inbox` recovers them from the file. ``aclose()`` ends it.
        """
        subscription = Subscription(self._subscribers)
        if not self._running:
            subscription.end()
        return subscription

    # -- connections ----------------------------------------------------------------

    async def _serve_connection(self, source: Source, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        stats = self.stats
        stats.connections += 1
        full = None
        if len(self._connections) >= self.max_connections:
            full = f"{len(self._connections)} connections open (the daemon's limit)"
        elif source.limit is not None and source.open >= source.limit:
            full = f"{source.open} connections open on {source.label} (its quota)"
        if task is None or full is not None:
            stats.refused_connections += 1
            self._reject(f"a new connection on {source.label}", f"{full}; connection closed")
            writer.transport.abort()
            return
        self._connections[task] = writer
        stats.open_connections += 1
        source.open += 1
        peer = source.label if source.sandbox is not None else _peer_name(writer)
        try:
            await self._read_lines(reader, peer, source)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must cost one connection, never the daemon
            log.exception("error while serving %s", peer)
        finally:
            stats.open_connections -= 1
            source.open -= 1
            self._connections.pop(task, None)
            writer.close()

    async def _read_lines(self, reader: asyncio.StreamReader, peer: str,
                          source: Source) -> None:
        loop = asyncio.get_running_loop()
        framer = LineFramer(MAX_LINE)
        deadline = loop.time() + self.config.idle_timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    chunk = await reader.read(READ_CHUNK)
            except TimeoutError:
                if framer.incomplete:
                    self.stats.rejected += 1
                    self._reject(peer, f"no complete line within {self.config.idle_timeout:g}s;"
                                       " connection closed")
                return
            items = framer.feed(chunk) if chunk else framer.finish()
            for item in items:
                await self._handle_line(item, peer, source)
            if not chunk:
                return
            if items:
                deadline = loop.time() + self.config.idle_timeout

    async def _handle_line(self, item: bytes | Oversized, peer: str,
                           source: Source) -> None:
        if isinstance(item, Oversized):
            self.stats.rejected += 1
            self._reject(peer, f"line of {item.size}+ bytes exceeds the {MAX_LINE}-byte limit")
            return
        try:
            notification = parse_line(item)
        except ProtocolError as exc:
            self.stats.rejected += 1
            self._reject(peer, f"{exc} ({display_text(repr(item[:60]), 80)})")
            return
        self.stats.received += 1
        notification, claimed = source.attribute(notification)
        await self.submit(notification, claimed_sandbox=claimed)

    # -- deciding and recording ----------------------------------------------------

    async def submit(self, notification: Notification, *,
                     claimed_sandbox: str | None = None) -> None:
        """Handle one notification as if it had arrived on the host socket.

        ``claimed_sandbox``: a sandbox name the sender claimed and nothing vouches for
        (stored apart from ``sandbox``, see the module docstring)."""
        popup, reason = await self._decide(notification)
        if self.config.verbose:
            source = notification.sandbox or notification.session_id or "?"
            log.info("%s %r from %s: %s", popup, display_text(notification.title, 60),
                     display_text(source, 60), display_text(reason, 300))
        assert self._queue is not None, "the daemon is not started"
        await self._queue.put(NewEntry(notification, popup, reason,
                                       claimed_sandbox=claimed_sandbox))

    async def _decide(self, notification: Notification) -> tuple[PopupOutcome, str]:
        assert self._popups is not None and self._focus is not None
        unavailable = self._popups.unavailable()
        if unavailable is not None:
            return "skipped", unavailable
        focus: FocusResult = await self._focus.check(notification.session_id)
        if focus.focused:
            return "suppressed", focus.reason
        not_started = self._popups.show(notification)
        if not_started is not None:
            return "skipped", not_started
        return "shown", focus.reason

    async def _write_inbox(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH_LIMIT and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                entries = await self._store_batch(batch)
            finally:
                for _ in batch:
                    queue.task_done()
            self.stats.stored += len(entries)
            for entry in entries:
                self._publish(entry)

    async def _store_batch(self, batch: list[NewEntry]) -> list[Entry]:
        for attempt in range(3):
            try:
                return await asyncio.to_thread(self.store.append, batch)
            except Exception as exc:
                if attempt == 2:
                    log.error("dropped %d notifications: cannot write the inbox %s: %s",
                              len(batch), self.store.path, exc)
                else:
                    log.warning("cannot write the inbox %s (%s); retrying",
                                self.store.path, exc)
                    await asyncio.sleep(0.5)
        return []

    def _publish(self, entry: Entry) -> None:
        for subscription in list(self._subscribers):
            subscription.offer(entry)


class Subscription:
    """An async iterator of new :class:`Entry` objects (see :meth:`NotifyDaemon.subscribe`)."""

    def __init__(self, registry: set[Subscription]):
        self._queue: asyncio.Queue[Entry | None] = asyncio.Queue(QUEUE_LIMIT)
        self._registry = registry
        self._behind = False
        registry.add(self)

    def offer(self, entry: Entry) -> None:
        """Queue ``entry``; a full queue drops it, logged once."""
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            if not self._behind:
                log.warning("an inbox subscriber fell behind; it misses new entries until "
                            "it catches up")
            self._behind = True
        else:
            self._behind = False

    def end(self) -> None:
        """No more entries: iteration stops after what is already queued (even when the
        queue is too full to take an end marker)."""
        self._registry.discard(self)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)  # wakes a reader waiting on an empty queue

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Entry:
        if self not in self._registry and self._queue.empty():
            raise StopAsyncIteration
        entry = await self._queue.get()
        if entry is None:
            await self.aclose()
            raise StopAsyncIteration
        return entry

    async def aclose(self) -> None:
        """Stop receiving entries."""
        self._registry.discard(self)


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "the unix socket"
