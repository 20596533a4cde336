"""Where the daemon listens, and the rules that keep that safe.

Unix socket: its directory is private (0700, ours), the socket is 0600. A daemon holds
an exclusive lock (``notify.sock.lock``) for as long as it runs, so a second one knows a
live daemon exists without racing it for the socket path; a socket file left by a
daemon that died is replaced, a live daemon's socket never is. That directory is never
mounted into a sandbox (each sandbox gets a directory of its own holding only its socket,
see :mod:`.socketdirs`), so nothing a sandbox can reach — ``flock`` works on a read-only
descriptor — decides whether the daemon runs.

TCP (macOS, where containers cannot reach a Unix socket through virtio-fs): an IP
address literal, never an unspecified one (``0.0.0.0``, ``::``) — the gateway address
of the container network, so only containers can connect.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import stat
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as LockTimeout

from wrapix_core.errors import WrapixError

DEFAULT_TCP_PORT = 5959
MACOS_GATEWAY = "192.168.64.1"
"""The default gateway of Apple's container network (vmnet), as the original used."""
BACKLOG = 1024
MAX_UNIX_PATH = 107


class DaemonAlreadyRunning(WrapixError):
    def __init__(self, path: Path):
        super().__init__(f"a notification daemon is already running on {path}",
                         "use it, or stop it first (wrapix-notifyd exits on SIGTERM)",
                         exit_code=1)
        self.path = path


class ListenError(WrapixError):
    """The daemon cannot listen where it was asked to."""


def socket_is_live(path: Path, timeout: float = 0.5) -> bool:
    """Whether something accepts connections on the Unix socket at ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        return False
    except OSError as exc:
        # EAGAIN: the backlog is full — a live but very busy daemon.
        return exc.errno in (errno.EAGAIN, errno.ETIMEDOUT) or isinstance(exc, TimeoutError)
    else:
        return True
    finally:
        probe.close()


def private_directory(directory: Path) -> None:
    """Create ``directory`` 0700, or check an existing one is ours and make it 0700."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = directory.stat()
    except OSError as exc:
        raise ListenError(f"cannot create the socket directory {directory}: {exc.strerror}",
                          "choose another path with --socket", exit_code=1) from None
    if info.st_uid != os.getuid():
        raise ListenError(f"the socket directory {directory} belongs to another user",
                          "choose a directory of your own with --socket", exit_code=1)
    if stat.S_IMODE(info.st_mode) != 0o700:
        directory.chmod(0o700)


class UnixListener:
    """The claimed socket path: lock, bound listening socket, and its clean removal."""

    def __init__(self, path: Path):
        self.path = path
        self.sock: socket.socket | None = None
        self._lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=0, mode=0o600)
        self._inode: int | None = None

    def claim(self) -> socket.socket:
        """Lock, replace a stale socket, bind 0600 and listen. Raises on a live daemon."""
        if len(os.fsencode(self.path)) > MAX_UNIX_PATH:
            raise ListenError(f"socket path {self.path} is longer than {MAX_UNIX_PATH} bytes",
                              "choose a shorter path with --socket")
        private_directory(self.path.parent)
        try:
            self._lock.acquire()
        except LockTimeout:
            raise DaemonAlreadyRunning(self.path) from None
        try:
            self.sock = self._bind()
        except BaseException:
            self._lock.release()
            raise
        return self.sock

    def _bind(self) -> socket.socket:
        if self.path.exists() or self.path.is_symlink():
            if not stat.S_ISSOCK(self.path.lstat().st_mode):
                raise ListenError(f"{self.path} exists and is not a socket",
                                  "move it away or choose another path with --socket",
                                  exit_code=1)
            if socket_is_live(self.path):  # not ours, yet alive: never steal it
                raise DaemonAlreadyRunning(self.path)
            self.path.unlink()
        try:
            sock, self._inode = bind_unix(self.path)
        except OSError as exc:
            raise ListenError(f"cannot listen on {self.path}: {exc.strerror}",
                              exit_code=1) from None
        return sock

    def release(self) -> None:
        """Remove the socket (if it is still ours) and drop the lock."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        with contextlib.suppress(OSError):
            if self._inode is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()
        self._inode = None
        if self._lock.is_locked:
            self._lock.release()


def bind_unix(path: Path) -> tuple[socket.socket, int]:
    """A listening, non-blocking Unix socket bound at ``path`` (0600): (socket, inode).

    ``path``'s directory must be private (0700), so the moment before the chmod exposes
    nothing. A path longer than a socket address holds (a sandbox's socket directory is
    named after the sandbox) is bound through ``/proc/self/fd`` on Linux: clients connect
    to it by another, short path (``/run/wrapix/notify.sock`` inside the sandbox).
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    directory_fd = None
    try:
        address = str(path)
        if len(os.fsencode(address)) > MAX_UNIX_PATH and os.path.isdir("/proc/self/fd"):
            directory_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
                                   | os.O_NOFOLLOW)
            address = f"/proc/self/fd/{directory_fd}/{path.name}"
        sock.bind(address)
        path.chmod(0o600)
        inode = path.stat().st_ino
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    finally:
        if directory_fd is not None:
            os.close(directory_fd)
    return sock, inode


def parse_tcp(value: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[V6]:PORT`` for IPv6) as (ip, port); refuses 0.0.0.0 and ``::``."""
    text = value.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ListenError(f"TCP address '{value}' is not an IP address",
                          "give the container gateway's address, e.g. "
                          f"{MACOS_GATEWAY}:{DEFAULT_TCP_PORT}") from None
    if address.is_unspecified:
        raise ListenError(f"refusing to listen on {address}: that exposes notifications to "
                          "every network", "bind to the container gateway address only, "
                          f"e.g. {MACOS_GATEWAY}:{DEFAULT_TCP_PORT}")
    try:
        port = int(port_text) if port_text else DEFAULT_TCP_PORT
    except ValueError:
        raise ListenError(f"TCP port in '{value}' is not a number") from None
    if not 0 < port < 65536:
        raise ListenError(f"TCP port {port} is out of range (1-65535)")
    return str(address), port


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
