"""The "remote Podman host" that .ci/remote-host provisions: a second unprivileged user's
Podman API socket behind an sshd of its own on 127.0.0.1 (mandatory in CI, skipped
elsewhere with the reason), and servers that play broken hosts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.support.podman_env import unavailable

DESCRIPTOR = Path.home() / ".config" / "wrapix-ci" / "remote-host.json"


@dataclass(frozen=True)
class RemoteHost:
    user: str
    port: int
    uid: int
    socket: str
    url: str
    identity: str

    def podman(self, podman: str, *args: str, timeout: float = 120,
               check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([podman, "--url", self.url, "--identity", self.identity, *args],
                              capture_output=True, text=True, timeout=timeout, check=check)

    def toml(self, name: str = "remote", timeout: float = 20, **changes: str) -> str:
        url = changes.get("url", self.url)
        identity = changes.get("identity", self.identity)
        return (f'[hosts.{name}]\nurl = "{url}"\nidentity = "{identity}"\n'
                f"timeout = {timeout}\n")


def remote_host(podman: str) -> RemoteHost:
    """The provisioned remote host, checked to answer over SSH."""
    try:
        data = json.loads(DESCRIPTOR.read_text())
    except (OSError, ValueError):
        unavailable(f"no remote Podman host: {DESCRIPTOR} is missing (as root: "
                    ".ci/remote-host USER, which .ci/run does)")
    remote = RemoteHost(user=data["user"], port=int(data["port"]), uid=int(data["uid"]),
                        socket=data["socket"], url=data["url"], identity=data["identity"])
    done = remote.podman(podman, "version", check=False, timeout=60)
    if done.returncode != 0:
        unavailable(f"the remote Podman host does not answer over SSH: {done.stderr[-300:]}")
    return remote


def copy_image(podman: str, remote: RemoteHost, image: str) -> str:
    """``image`` on the remote host too (saved here, loaded there over SSH)."""
    if remote.podman(podman, "image", "exists", image, check=False).returncode == 0:
        return image
    save = subprocess.Popen([podman, "save", image], stdout=subprocess.PIPE)
    try:
        subprocess.run([podman, "--url", remote.url, "--identity", remote.identity, "load"],
                       stdin=save.stdout, capture_output=True, timeout=300, check=True)
    finally:
        assert save.stdout is not None
        save.stdout.close()
        save.wait(timeout=60)
    return image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never says a word: a hung host."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.took(conn)

    def took(self, conn: socket.socket) -> None:
        """A connection came: held, never answered."""
        self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()
