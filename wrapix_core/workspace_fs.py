"""Host-side file access inside a workspace that never follows a link.

Everything in a workspace can be written by the agent in its sandbox, so a path such as
``.beads/issues.jsonl`` may be a symbolic link to ``~/.ssh/id_ed25519``, or ``.beads``
itself a link to a host directory. The host must then neither read nor write through it.
Every function here takes the directory it is anchored at (the workspace, the trusted
part) and a path inside it, opens each component below the anchor relative to the one
above with ``O_NOFOLLOW`` (``openat``), and so can never leave the anchor, whatever the
agent renames meanwhile. Files are opened ``O_NOFOLLOW`` and must be regular; replacing a
file renames a temporary file created beside it in the same directory descriptor.

A link (or a file where a directory belongs) is refused with :class:`LinkRefused`, which
names it and says what to do. Standard library only: the launch fast path imports it.
"""

from __future__ import annotations

import errno
import os
import stat

from wrapix_core.errors import WrapixError

TYPE_CHECKING = False  # typing costs milliseconds on the fast path; mypy honours this name
if TYPE_CHECKING:
    from pathlib import PurePath
    from typing import BinaryIO, TextIO

    PathLike = str | PurePath

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_TMP_SUFFIX = ".tmp"
LINK = "a symbolic link"


class LinkRefused(WrapixError):
    """A workspace path is a symbolic link (or not what it must be); nothing was done."""


def refusal(shown: str, what: str, wanted: str = "file") -> tuple[str, str]:
    """(message, hint) for ``shown`` being ``what`` where a real ``wanted`` belongs."""
    if what == LINK:
        return (f"{shown} is a symbolic link; wrapix does not follow links in the workspace "
                "(an agent may have planted it to make the host read or write elsewhere)",
                f"look at it, then remove it (`rm {shown}`) and put a real {wanted} there "
                "if one belongs")
    return f"{shown} is {what}", f"replace it with a regular {wanted}, or remove it"


def _refuse(shown: str, what: str, wanted: str = "file") -> LinkRefused:
    return LinkRefused(*refusal(shown, what, wanted))


def relative_parts(anchor: PathLike, path: PathLike) -> list[str]:
    """The components of ``path`` below ``anchor`` (``path`` absolute inside it, or
    relative to it); ValueError when it is not inside, or climbs with ``..``."""
    text = os.fspath(path)
    if os.path.isabs(text):
        base = os.path.abspath(os.fspath(anchor))
        full = os.path.abspath(text)
        if full != base and not full.startswith(base.rstrip("/") + "/"):
            raise ValueError(f"{text} is not inside {base}")
        text = full[len(base):]
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{text} climbs out with '..'")
    return parts


def _what_is(name: str, dir_fd: int) -> str | None:
    """Why ``name`` cannot be walked into: 'a symbolic link', 'not a directory', None."""
    try:
        info = os.lstat(name, dir_fd=dir_fd)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return LINK
    if not stat.S_ISDIR(info.st_mode):
        return "not a directory"
    return None


def open_anchor(anchor: PathLike) -> int:
    """A descriptor of the anchor directory itself (the user chose it: links in the
    path to it are theirs and are followed)."""
    return os.open(os.fspath(anchor), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_dir(anchor: PathLike, path: PathLike = "", *, create: bool = False) -> int:
    """A descriptor of the directory ``path`` below ``anchor``, walked without following
    links; ``create`` makes missing directories (0o755). FileNotFoundError when missing."""
    parts = relative_parts(anchor, path)
    fd = open_anchor(anchor)
    shown = os.fspath(anchor)
    try:
        for part in parts:
            shown = os.path.join(shown, part)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                _mkdir(part, fd)
                child = _open_child_dir(part, fd, shown)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise _refuse(shown, _what_is(part, fd) or "not a directory",
                                  "directory") from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _mkdir(name: str, dir_fd: int) -> None:
    """Make directory ``name``; one made meanwhile is fine (and a link planted meanwhile
    is refused when it is opened). No contextlib: the fast path pays for every import."""
    try:
        os.mkdir(name, 0o755, dir_fd=dir_fd)
    except FileExistsError:
        return


def _unlink(name: str, dir_fd: int) -> bool:
    """Remove ``name`` (a link itself, never its target); False when it was not there."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


def _open_child_dir(part: str, fd: int, shown: str) -> int:
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise _refuse(shown, _what_is(part, fd) or "not a directory",
                                  "directory") from None
        raise


def _split(anchor: PathLike, path: PathLike) -> tuple[str, str]:
    parts = relative_parts(anchor, path)
    if not parts:
        raise ValueError(f"{os.fspath(path)} names the anchor itself, not a file in it")
    return "/".join(parts[:-1]), parts[-1]


def regular_fd(path: PathLike, flags: int = os.O_RDONLY, mode: int = 0o644, *,
               dir_fd: int | None = None, nofollow: bool = False) -> int:
    """A descriptor of ``path`` opened with ``flags``, if it is a regular file; raises
    ``OSError`` otherwise (``EINVAL`` for a FIFO, device or directory).

    The open never blocks (a FIFO must not be waited on, a device not read without end);
    ``nofollow`` refuses a link at ``path`` itself (``ELOOP``).
    """
    extra = os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if nofollow else 0)
    fd = os.open(path, flags | extra, mode, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_file(dir_fd: int, name: str, flags: int, shown: str, mode: int = 0o644) -> int:
    try:
        return regular_fd(name, flags, mode, dir_fd=dir_fd, nofollow=True)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise _refuse(shown, LINK) from None
        if exc.errno in (errno.EISDIR, errno.EINVAL):
            raise _refuse(shown, "not a regular file") from None
        raise


def open_file(anchor: PathLike, path: PathLike, flags: int = os.O_RDONLY,
              mode: int = 0o644, *, create_dirs: bool = False) -> int:
    """A descriptor of the regular file ``path`` below ``anchor`` opened with ``flags``
    (``O_NOFOLLOW`` added); no link is followed on the way."""
    directory, name = _split(anchor, path)
    dir_fd = open_dir(anchor, directory, create=create_dirs)
    try:
        return _open_file(dir_fd, name, flags, os.path.join(os.fspath(anchor), directory,
                                                             name), mode)
    finally:
        os.close(dir_fd)


def open_read(anchor: PathLike, path: PathLike) -> BinaryIO:
    """``path`` open for reading (binary); FileNotFoundError when it is missing."""
    return os.fdopen(open_file(anchor, path), "rb")


def read_bytes(anchor: PathLike, path: PathLike, limit: int = -1) -> bytes:
    with open_read(anchor, path) as handle:
        return handle.read(limit)


def read_text(anchor: PathLike, path: PathLike, errors: str = "strict") -> str:
    return read_bytes(anchor, path).decode("utf-8", errors)


def open_append(anchor: PathLike, path: PathLike, mode: int = 0o644) -> BinaryIO:
    """``path`` open for appending (created, with its directories, when missing)."""
    fd = open_file(anchor, path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode,
                   create_dirs=True)
    return os.fdopen(fd, "ab")


def open_append_text(anchor: PathLike, path: PathLike, errors: str = "strict") -> TextIO:
    """:func:`open_append` as UTF-8 text (for logs)."""
    import io

    return io.TextIOWrapper(open_append(anchor, path), encoding="utf-8", errors=errors)


def open_new(anchor: PathLike, path: PathLike, mode: int = 0o644) -> BinaryIO:
    """``path`` created or truncated for writing (its directories too)."""
    fd = open_file(anchor, path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode,
                   create_dirs=True)
    return os.fdopen(fd, "wb")


def lstat(anchor: PathLike, path: PathLike) -> os.stat_result | None:
    """The ``lstat`` of ``path`` (a link is described, not followed); None when missing."""
    directory, name = _split(anchor, path)
    try:
        dir_fd = open_dir(anchor, directory)
    except FileNotFoundError:
        return None
    try:
        return os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    finally:
        os.close(dir_fd)


def kind(anchor: PathLike, path: PathLike) -> str:
    """'missing', 'dir', 'file', 'link' or 'other' for ``path``; a link above it is
    refused."""
    info = lstat(anchor, path)
    if info is None:
        return "missing"
    if stat.S_ISLNK(info.st_mode):
        return "link"
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    return "file" if stat.S_ISREG(info.st_mode) else "other"


def listdir(anchor: PathLike, path: PathLike = "") -> list[str]:
    """The names in directory ``path`` ([] when it is missing)."""
    try:
        fd = open_dir(anchor, path)
    except FileNotFoundError:
        return []
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def is_real_dir(anchor: PathLike, path: PathLike) -> bool:
    """True when directory ``path`` exists below ``anchor`` (no link on the way), False
    when it is missing; a link or a file there is refused (:class:`LinkRefused`)."""
    try:
        os.close(open_dir(anchor, path))
    except FileNotFoundError:
        return False
    return True


def unlink(anchor: PathLike, path: PathLike) -> bool:
    """Remove file ``path`` (a link itself, never its target; no link above it is
    followed); False when it was not there."""
    directory, name = _split(anchor, path)
    try:
        dir_fd = open_dir(anchor, directory)
    except FileNotFoundError:
        return False
    try:
        return _unlink(name, dir_fd)
    finally:
        os.close(dir_fd)


def makedirs(anchor: PathLike, path: PathLike) -> None:
    os.close(open_dir(anchor, path, create=True))


def write_atomic(anchor: PathLike, path: PathLike, data: bytes,
                 mode: int | None = 0o644) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half,
    and never write through a link: a temporary file made (``O_EXCL``) in the same
    directory descriptor is renamed over it. ``mode`` None keeps the old file's."""
    directory, name = _split(anchor, path)
    shown = os.path.join(os.fspath(anchor), directory, name)
    dir_fd = open_dir(anchor, directory, create=True)
    try:
        try:
            old = os.lstat(name, dir_fd=dir_fd)
        except FileNotFoundError:
            old = None
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise _refuse(shown, LINK if stat.S_ISLNK(old.st_mode) else "not a regular file")
        if mode is None:
            mode = stat.S_IMODE(old.st_mode) if old is not None else 0o644
        tmp = _make_temp(dir_fd, name, mode)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            _unlink(tmp, dir_fd)
            raise
    finally:
        os.close(dir_fd)


def temp_prefix(name: str) -> str:
    """Temporary files replacing ``name`` are ``.<name>.<random>.tmp``."""
    return f".{name}."


def _make_temp(dir_fd: int, name: str, mode: int) -> str:
    for _ in range(100):
        tmp = f"{temp_prefix(name)}{os.urandom(6).hex()}{_TMP_SUFFIX}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, mode, dir_fd=dir_fd)
        except FileExistsError:
            continue
        os.fchmod(fd, mode)  # the umask must not narrow what the old file had
        os.close(fd)
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", name)


def remove_stale_temps(anchor: PathLike, path: PathLike) -> int:
    """Remove temporary files a killed :func:`write_atomic` of ``path`` left behind (call
    while holding the lock that serialises its writers); returns how many."""
    directory, name = _split(anchor, path)
    try:
        dir_fd = open_dir(anchor, directory)
    except FileNotFoundError:
        return 0
    removed = 0
    try:
        prefix = temp_prefix(name)
        for entry in os.listdir(dir_fd):
            if entry.startswith(prefix) and entry.endswith(_TMP_SUFFIX):
                removed += _unlink(entry, dir_fd)
    finally:
        os.close(dir_fd)
    return removed


class Lock:
    """An exclusive ``flock`` on a lock file below ``anchor``, opened without following
    links (a planted ``issues.jsonl.lock`` link is refused, never created through).
    Released when the holder dies. Not reentrant."""

    def __init__(self, anchor: PathLike, path: PathLike) -> None:
        self.anchor, self.path = anchor, path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""
        import fcntl

        if self._fd is not None:
            raise RuntimeError(f"{os.fspath(self.path)} is already held by this object")
        fd = open_file(self.anchor, self.path, os.O_RDWR | os.O_CREAT, 0o644,
                       create_dirs=True)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def acquire(self, timeout: float, poll: float = 0.05) -> bool:
        """Wait up to ``timeout`` seconds for the lock; False when it stayed taken."""
        import time

        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock
