"""``wrapix hosts check NAME``: walk from TCP to Podman and stop at the first thing wrong.

Each step is bounded by the host's timeout and says, when it fails, what is wrong in
words and the command that fixes it: nothing listening (sshd down, wrong port), something
listening that never speaks SSH (a hung sshd, another service), an unknown host key, the
key refused, no Podman socket at the URL's path (the user's ``podman.socket`` not
enabled), Podman too old.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass

from wrapix_core import proc
from wrapix_core.errors import WrapixError
from wrapix_core.hosts.probe import HostStatus, probe_host
from wrapix_core.hosts.target import Host, SshTarget, resolve, ssh_target
from wrapix_core.sandbox.runtime import Runtime


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"step": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


async def _tcp(target: SshTarget, timeout: float) -> Step:
    """Connect, then wait for sshd's greeting (``SSH-2.0-…``)."""
    where = f"{target.hostname}:{target.port}"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(target.hostname, target.port)
    except TimeoutError:
        return Step("tcp", False, f"{where} did not answer within {timeout:g}s (the host is "
                    "down, or a firewall drops the connection)",
                    f"check the host is up and port {target.port} is open to you")
    except ConnectionRefusedError:
        return Step("tcp", False, f"nothing listens on {where} (connection refused): sshd is "
                    "not running there, or the port is wrong",
                    "start sshd on the host (`sudo systemctl enable --now ssh`) or fix "
                    "the port in the url")
    except OSError as exc:
        return Step("tcp", False, f"cannot connect to {where}: {exc.strerror or exc}",
                    "check the host name in the url")
    try:
        async with asyncio.timeout(timeout):
            greeting = await reader.readline()
    except TimeoutError:
        greeting = None
    finally:
        writer.close()
    if greeting is None or not greeting:
        what = "said nothing" if greeting is None else "closed the connection"
        return Step("ssh", False, f"{where} accepts connections but {what} within "
                    f"{timeout:g}s instead of greeting as SSH (a hung sshd, or another "
                    "service on that port)",
                    "restart sshd on the host, or point the url at sshd's port")
    if not greeting.startswith(b"SSH-"):
        return Step("ssh", False, f"{where} is not an SSH server (it said "
                    f"{greeting[:40].decode('ascii', 'replace')!r})",
                    "point the url at sshd's port")
    return Step("ssh", True, f"{where} speaks {greeting.decode('ascii', 'replace').strip()}")


async def _ssh(target: SshTarget, timeout: float, command: str) -> proc.Completed | Step:
    argv = [*target.ssh_argv(timeout), command]
    try:
        return await proc.run(argv, timeout=timeout, check=False)
    except proc.CommandNotFound:
        return Step("login", False, "ssh is not installed here",
                    "install the OpenSSH client (Debian: apt install openssh-client)")
    except proc.CommandTimeout:
        return Step("login", False, f"ssh to {target.login} did not finish within "
                    f"{timeout:g}s", "try `ssh -v` by hand to see where it stops")


def _login_failure(target: SshTarget, stderr: str) -> Step:
    key = str(target.identity) if target.identity else "your default key"
    port = f" -p {target.port}" if target.port != 22 else ""
    if "host key verification failed" in stderr.lower():
        return Step("login", False, f"{target.hostname}'s SSH host key is not in your "
                    "known_hosts (or it changed)",
                    f"check and accept it once: `ssh{port} {target.login}`")
    if "permission denied" in stderr.lower():
        pub = f"{target.identity}.pub" if target.identity else "~/.ssh/id_ed25519.pub"
        return Step("login", False, f"{target.login} refused the key {key}",
                    f"authorize it there: `ssh-copy-id -i {pub}{port} {target.login}` "
                    f"(or add {pub} to ~{target.user}/.ssh/authorized_keys)")
    return Step("login", False, f"ssh to {target.login} failed: "
                f"{proc.last_lines(stderr, 1) or 'no reason given'}",
                f"try `ssh -v{port} {target.login}` by hand")


async def _login(target: SshTarget, timeout: float) -> list[Step]:
    """Log in with the key and look for the socket in one ssh command."""
    done = await _ssh(target, timeout, f"test -S {shlex.quote(target.socket)}")
    if isinstance(done, Step):
        return [done]
    if done.returncode == 255:
        return [_login_failure(target, done.stderr)]
    steps = [Step("login", True, f"{target.login} accepts the key")]
    if done.returncode != 0:
        steps.append(Step(
            "socket", False, f"no Podman API socket at {target.socket} on {target.hostname}",
            f"enable it as {target.user} there: `systemctl --user enable --now podman.socket` "
            f"and `sudo loginctl enable-linger {target.user}` (or run `podman system service "
            f"--time=0 unix://{target.socket}`); the url's path must be that socket"))
    else:
        steps.append(Step("socket", True, f"{target.socket} is a socket"))
    return steps


async def check(runtime: Runtime, found: Host) -> list[Step]:
    """The steps to ``found``'s Podman, up to and including the first that fails."""
    try:
        resolved = await resolve(found)
        assert resolved.url is not None
        target = ssh_target(resolved.url, resolved.identity)
    except WrapixError as exc:
        return [Step("config", False, exc.message, exc.hint)]
    if target.identity is not None and not target.identity.is_file():
        return [Step("config", False, f"identity {target.identity} does not exist",
                     f"set identity in [hosts.{found.name}] to your private key's path")]
    steps = [Step("config", True, f"{target.login} port {target.port}, socket {target.socket}")]
    tcp = await _tcp(target, found.timeout)
    steps.append(tcp)
    if not tcp.ok:
        return steps
    login = await _login(target, found.timeout)
    steps += login
    if not all(step.ok for step in login):
        return steps
    steps.append(_podman_step(await probe_host(runtime, found)))
    return steps


def _podman_step(status: HostStatus) -> Step:
    if not status.reachable:
        return Step("podman", False, f"Podman over SSH failed: {status.error}",
                    "check the url's socket path and that the host's Podman works "
                    "(`podman info` there)")
    if status.error:
        return Step("podman", False, status.error, "upgrade Podman on the host")
    return Step("podman", True, f"Podman {status.version}, {status.sandboxes} sandboxes "
                f"({status.running} running), answered in {status.elapsed:.2f}s")
