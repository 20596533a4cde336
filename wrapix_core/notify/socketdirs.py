"""Per-sandbox notification socket directories: what a sandbox sees at ``/run/wrapix``.

Layout, beside the host socket (``paths.notify_socket()``, in ``paths.runtime_dir()``)::

    <runtime>/notify.sock            the host's socket: host clients only, never mounted
    <runtime>/notify.sock.lock       the daemon's lock: never mounted
    <runtime>/sockets/               0700, never mounted
    <runtime>/sockets/<sandbox>/     0700, created by the launcher before `podman run`,
                                     mounted read-only at /run/wrapix in that sandbox only
    <runtime>/sockets/<sandbox>/notify.sock   bound by the daemon, the only entry there

So a sandbox sees exactly one socket, whatever the runtime directory is (without
``XDG_RUNTIME_DIR`` it is wrapix's data directory, which holds the builder's keys), it
cannot reach the lock that decides whether the daemon runs, and the daemon knows which
sandbox sent a message from the socket it arrived on (:mod:`.sandboxes`), never from
what the message says.

The launcher (and its fast path) calls :func:`create` before the sandbox starts and
:func:`remove` when it is gone; the daemon binds and unbinds the sockets. Standard
library only and cheap: the launch fast path imports this.
"""

import os
import stat

SOCKET_NAME = "notify.sock"
SOCKETS = "sockets"
REMOTE_SOCKETS = "remote-sockets"
"""Beside ``sockets/``: one ``HOST.NAME/`` directory per sandbox on a remote host, whose
``notify.sock`` the daemon binds and ssh forwards to that sandbox
(:mod:`wrapix_core.hosts.forward`)."""
MAX_NAME = 128
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def valid_name(name: str) -> bool:
    """A sandbox (container) name as Podman accepts it; nothing else names a directory
    here (no ``re``: the launch fast path imports this module)."""
    return (0 < len(name) <= MAX_NAME and name[0] not in "_.-"
            and all(char in _NAME_CHARS for char in name))


class SocketDirError(OSError):
    """A socket directory that exists but is not one wrapix made (wrong owner, a link)."""


def sockets_dir(host_socket: str) -> str:
    """The directory holding every sandbox's socket directory, for the host socket's path."""
    return os.path.join(os.path.dirname(host_socket), SOCKETS)


def remote_sockets_dir(host_socket: str) -> str:
    """The directory holding the remote sandboxes' socket directories."""
    return os.path.join(os.path.dirname(host_socket), REMOTE_SOCKETS)


def remote_name(host: str, name: str) -> str:
    """``HOST.NAME``: a host name has no dot, so the first dot splits it back."""
    if not host or "." in host or not valid_name(name):
        raise ValueError(f"not a host and sandbox name: {host!r}, {name!r}")
    return f"{host}.{name}"


def split_remote(directory: str) -> tuple[str, str] | None:
    """``HOST.NAME`` back into (host, sandbox); None for anything else."""
    host, dot, name = directory.partition(".")
    return (host, name) if dot and host and valid_name(name) else None


def sandbox_dir(host_socket: str, name: str) -> str:
    """Sandbox ``name``'s socket directory (mounted at ``/run/wrapix`` in it)."""
    if not valid_name(name):
        raise ValueError(f"not a sandbox name: {name!r}")
    return os.path.join(sockets_dir(host_socket), name)


def _private(path: str) -> None:
    """``path`` exists as a real directory of ours, mode 0700; raises otherwise."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise SocketDirError(f"{path} is not a directory")
    if info.st_uid != os.getuid():
        raise SocketDirError(f"{path} belongs to another user")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)


def ensure(path: str) -> None:
    """Create ``path`` (and its parents) 0700, or check an existing one is ours and 0700."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    _private(path)


def create(directory: str) -> bool:
    """Make a sandbox's socket directory (0700, in a 0700 ``sockets/``) before it starts;
    True when it did not exist (the caller then removes it when the sandbox ends)."""
    ensure(os.path.dirname(directory))
    try:
        os.mkdir(directory, 0o700)
        created = True
    except FileExistsError:
        created = False
    _private(directory)
    return created


def remove_socket(path: str) -> None:
    """Unlink ``path`` if it is a socket; anything else there raises ``SocketDirError``."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketDirError(f"{path} exists and is not a socket")
    os.unlink(path)


def remove(directory: str) -> None:
    """Remove a sandbox's socket directory and its socket (the sandbox is gone).

    Only a socket is removed from it, and the directory only when nothing else is left:
    this never deletes a file it did not expect. Never raises.
    """
    try:
        remove_socket(os.path.join(directory, SOCKET_NAME))
        os.rmdir(directory)
    except OSError:  # gone already, or something else in it: leave it
        return
