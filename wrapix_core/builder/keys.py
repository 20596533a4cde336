"""The builder's SSH keys: generated once with ``ssh-keygen``, never readable by others.

Two ed25519 pairs live in ``$XDG_DATA_HOME/wrapix/builder-keys/`` (directory 0700,
private keys 0600): ``client_ed25519`` logs the host in as ``builder``;
``host_ed25519`` is the builder's sshd host key, kept here so it survives container
restarts and the client can pin it (``known_hosts``). Only the host key pair and the
client's *public* key are given to the container; the client's private key never is.
"""

from __future__ import annotations

import base64
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wrapix_core import paths, proc
from wrapix_core.builder.status import HOST_ALIAS, keys_dir
from wrapix_core.errors import WrapixError

KEYGEN_TIMEOUT = 30.0


class KeysError(WrapixError):
    """The keys directory cannot be created, read or trusted."""


@dataclass(frozen=True)
class Keys:
    directory: Path

    @property
    def client(self) -> Path:
        return self.directory / "client_ed25519"

    @property
    def client_pub(self) -> Path:
        return self.directory / "client_ed25519.pub"

    @property
    def host(self) -> Path:
        return self.directory / "host_ed25519"

    @property
    def host_pub(self) -> Path:
        return self.directory / "host_ed25519.pub"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    @property
    def share_directory(self) -> Path:
        """Copies of :attr:`container_files` for runtimes that mount directories only
        (Apple's virtio-fs); see :func:`stage_share`."""
        return self.directory / "container"

    @property
    def container_files(self) -> tuple[Path, ...]:
        """What the container gets (read-only): never the client's private key."""
        return (self.host, self.host_pub, self.client_pub)

    def exist(self) -> bool:
        return all(path.is_file() for path in (self.client, self.client_pub, self.host,
                                                self.host_pub))

    def host_public_key(self) -> str:
        """``ssh-ed25519 AAAA…`` without the comment."""
        fields = self.host_pub.read_text().split()
        if len(fields) < 2:
            raise KeysError(f"{self.host_pub} is not an ssh public key",
                            f"remove {self.directory} and start the builder again")
        return f"{fields[0]} {fields[1]}"

    def host_public_key_base64(self) -> str:
        """The host public key line, base64-encoded, as Nix's ``publicHostKey`` wants."""
        return base64.b64encode(self.host_pub.read_bytes()).decode()

    def known_hosts_line(self) -> str:
        """The entry pinning the host key under the alias (ssh uses ``HostKeyAlias``,
        so the port never matters)."""
        return f"{HOST_ALIAS} {self.host_public_key()}\n"


def current() -> Keys:
    return Keys(keys_dir())


def _private_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.is_dir():
            raise KeysError(f"builder keys: {path} is not a directory", "move it away")
        path.chmod(0o700)
    except OSError as exc:
        raise KeysError(f"builder keys directory {path} cannot be created ({exc.strerror})",
                        "check the permissions of its parent (or set WRAPIX_DATA_DIR)"
                        ) from None


def check_private(keys: Keys) -> None:
    """Refuse keys others could read (ssh itself would refuse the client key)."""
    for path in (keys.directory, keys.client, keys.host):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeysError(f"{path} is readable by others (mode {mode:04o})",
                            f"chmod go-rwx {path}, or remove {keys.directory} to "
                            "generate new keys")


async def _generate(path: Path, comment: str) -> None:
    await proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                    "-f", str(path)], timeout=KEYGEN_TIMEOUT)


async def ensure(keys: Keys | None = None) -> tuple[Keys, bool]:
    """The builder's keys, generated when missing; returns (keys, generated now).

    Both pairs are generated in a private scratch directory and moved in only when
    both exist, so a failure leaves no half set behind.
    """
    keys = keys or current()
    _private_dir(keys.directory)
    if keys.exist():
        check_private(keys)
        _write_known_hosts(keys)
        return keys, False
    partial = [path for path in (keys.client, keys.client_pub, keys.host, keys.host_pub)
               if path.exists()]
    if partial:
        raise KeysError(f"builder keys in {keys.directory} are incomplete "
                        f"({', '.join(p.name for p in partial)} without the rest)",
                        f"remove {keys.directory} and start again to generate a new set")
    with tempfile.TemporaryDirectory(dir=keys.directory, prefix=".new-") as scratch:
        staged = Keys(Path(scratch))
        try:
            await _generate(staged.client, "wrapix-builder client")
            await _generate(staged.host, "wrapix-builder host")
        except proc.CommandNotFound:
            raise KeysError("ssh-keygen is not installed; it generates the builder's keys",
                            "install OpenSSH's client tools (Debian: apt install "
                            "openssh-client)") from None
        for path in (staged.client, staged.host):
            path.chmod(0o600)
        for path in (staged.client_pub, staged.host_pub):
            path.chmod(0o644)
        for name in ("client_ed25519", "client_ed25519.pub", "host_ed25519",
                     "host_ed25519.pub"):
            os.replace(staged.directory / name, keys.directory / name)
    _write_known_hosts(keys)
    return keys, True


def stage_share(keys: Keys) -> Path:
    """Copy what the container may see into :attr:`Keys.share_directory` (0700)."""
    share = keys.share_directory
    _private_dir(share)
    for path in keys.container_files:
        target = share / path.name
        target.unlink(missing_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(path.read_bytes())
    return share


def _write_known_hosts(keys: Keys) -> None:
    """known_hosts is derived from the host key: rewritten whenever it differs."""
    line = keys.known_hosts_line()
    try:
        if keys.known_hosts.read_text() == line:
            return
    except OSError:
        pass
    paths.atomic_write_text(keys.known_hosts, line, mode=0o644)
