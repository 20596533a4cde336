"""A session on another host: its repository pushed there with git over SSH, its work
fetched back here, where review and merge stay.

The session is made here as always (:mod:`wrapix_core.sessions.create`: a shared clone of
the project). Its branch is then pushed over SSH into a new repository on the host, under
that user's ``~/.local/share/wrapix/sessions/<project>/<NAME>``, whose work tree git
checks out as it receives the push (``receive.denyCurrentBranch=updateInstead``). The
sandbox runs there on it. Nothing but ``sshd``, ``git`` and Podman is used on the host.

:func:`sync` brings the work back: on the host, the work tree as it is now (tracked and
untracked files, by a temporary index, never the sandbox's own) becomes a commit on
``refs/wrapix/wip``; here, the branch and that commit are fetched (objects checked with
``fsckObjects``) into the local copy, whose work tree is then set to the host's. So
``wrapix sessions``, ``diff``, ``merge`` and ``discard`` read the host's work, committed and
uncommitted, from a repository on this machine, and never run git here in a tree an
agent writes.

Only a new session is pushed: a push could overwrite an agent's work, so an existing
session on a host is never pushed to again.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from wrapix_core import proc
from wrapix_core.errors import WrapixError
from wrapix_core.hosts.target import Host, SshTarget, host, resolve, ssh_target
from wrapix_core.sessions import gitcmd, store
from wrapix_core.sessions.model import Session
from wrapix_core.settings import Settings

REMOTE_ROOT = PurePosixPath(".local/share/wrapix/sessions")
"""Where sessions live on a host, under its user's home."""
FILES_ROOT = PurePosixPath(".local/share/wrapix/sandbox-files")
"""Where a sandbox's mount sources from this machine are put, under the host's home."""
WIP_REF = "refs/wrapix/wip"
"""On the host: the work tree as :func:`sync` last found it, as a commit."""
LOCAL_WIP_REF = "refs/wrapix/host-wip"
"""Here: that commit, fetched."""
TRANSFER_TIMEOUT = 1800.0
"""Seconds a push or fetch may take (a first push sends the project's history)."""
SESSION_CONFIG = {"receive.denyCurrentBranch": "updateInstead", "core.logAllRefUpdates": "true",
                  "gc.auto": "0", "wrapix.session": "true"}
"""The host repository's ``.git/config`` (read-only in its sandbox, like here)."""
HOST_GIT = ("git -c core.fsmonitor=false -c core.hooksPath=/dev/null "
            "-c core.untrackedCache=false -c user.name=wrapix -c user.email=wrapix@localhost")
"""git on the host, in a tree an agent writes: no hooks, no fsmonitor."""


class RemoteSessionError(WrapixError):
    """A session could not be placed on, or brought back from, its host."""


@dataclass(frozen=True)
class Account:
    """The host user wrapix reaches over SSH."""

    uid: int
    gid: int
    home: PurePosixPath


class RemoteHost:
    """SSH and git to one configured host."""

    def __init__(self, found: Host, target: SshTarget) -> None:
        self.found = found
        self.target = target

    @classmethod
    async def open(cls, settings: Settings, name: str) -> RemoteHost:
        found = await resolve(host(settings, name))
        assert found.url is not None
        return cls(found, ssh_target(found.url, found.identity))

    @property
    def name(self) -> str:
        return self.found.name

    async def sh(self, command: str, *, timeout: float | None = None,
                 what: str = "a command") -> str:
        """Run ``command`` (a shell line, every untrusted part quoted) on the host; its
        output, or a :class:`RemoteSessionError` with the host's words."""
        bound = timeout or max(self.found.timeout, 30.0)
        argv = [*self.target.ssh_argv(self.found.timeout), command]
        try:
            done = await proc.run(argv, timeout=bound, check=False)
        except proc.ProcError as error:
            raise RemoteSessionError(f"host {self.name}: {what} failed: {error}") from None
        if done.returncode != 0:
            words = proc.last_lines(done.stderr or done.stdout, 3) or f"exit {done.returncode}"
            raise RemoteSessionError(f"host {self.name}: {what} failed: {words}",
                                     f"see `wrapix hosts check {self.name}`")
        return done.stdout

    async def account(self) -> Account:
        out = (await self.sh('id -u; id -g; printf "%s\\n" "$HOME"',
                             what="reading the user")).splitlines()
        try:
            uid, gid, home = int(out[0]), int(out[1]), PurePosixPath(out[2])
        except (IndexError, ValueError):
            raise RemoteSessionError(f"host {self.name}: `id` and $HOME said {out!r}") from None
        if not home.is_absolute():
            raise RemoteSessionError(f"host {self.name}: the home {home} is not absolute")
        return Account(uid, gid, home)

    def session_dir(self, account: Account, session: Session) -> PurePosixPath:
        return account.home / REMOTE_ROOT / store.project_key(session.project) / session.name

    def git_options(self) -> list[str]:
        """``-c`` options that let the session git reach this host (and no other)."""
        return ["-c", "protocol.ssh.allow=always",
                "-c", f"core.sshCommand={self.target.git_ssh_command(self.found.timeout)}"]


def _git_env(directory: PurePosixPath) -> str:
    """The environment of host git in session ``directory``: that repository and no
    other, no user or system configuration."""
    git_dir = directory / ".git"
    return " ".join(f"{name}={shlex.quote(value)}" for name, value in (
        ("GIT_DIR", str(git_dir)), ("GIT_WORK_TREE", str(directory)),
        ("GIT_COMMON_DIR", str(git_dir)), ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_CONFIG_NOSYSTEM", "1")))


async def push_session(remote: RemoteHost, session: Session,
                       copied: tuple[str, ...] = ()) -> Session:
    """Place new session ``session`` on ``remote``: a repository of its own there with
    the branch pushed and checked out, plus the ``[session] copy`` files ``copied``.
    Returns the session as recorded (host and path there)."""
    account = await remote.account()
    directory = remote.session_dir(account, session)
    quoted = shlex.quote(str(directory))
    config = "; ".join(f"git config --file {quoted}/.git/config {key} {shlex.quote(value)}"
                       for key, value in SESSION_CONFIG.items())
    await remote.sh(
        f"set -e; umask 077; if [ -e {quoted} ]; then echo 'already there' >&2; exit 1; fi; "
        f"mkdir -p {shlex.quote(str(directory.parent))}; "
        f"git init -q --template= --initial-branch={shlex.quote(session.branch)} {quoted}; "
        f"chmod 0755 {quoted}; {config}; "
        # Empty, and read-only in the sandbox like here (it is a protected path): no
        # alternates can point git on the host at another repository's objects.
        f"mkdir -p {quoted}/.git/objects/info; : > {quoted}/.git/objects/info/alternates",
        what=f"making {directory}")
    try:
        gitcmd.session(session.path, *remote.git_options(), "push", "--quiet", "--no-verify",
                       remote.target.git_url(str(directory)),
                       f"+refs/heads/{session.branch}:refs/heads/{session.branch}",
                       timeout=TRANSFER_TIMEOUT)
        if copied:
            await _send_files(remote, session.path, directory, copied)
    except BaseException:
        await remove(remote, directory)
        raise
    recorded = replace(session, host=remote.name, remote_path=str(directory))
    store.save(recorded)
    return recorded


async def _send_files(remote: RemoteHost, source: Path, directory: PurePosixPath,
                      names: tuple[str, ...]) -> None:
    """The ``[session] copy`` files (copied here from the user's checkout, never
    links) sent into the host's work tree, as tar over SSH."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in names:
            path = source / name
            if path.is_symlink() or not path.exists():
                continue
            archive.add(path, arcname=name, recursive=True)
    argv = [*remote.target.ssh_argv(remote.found.timeout),
            f"tar -C {shlex.quote(str(directory))} -xf -"]
    done = await proc.run(argv, input=buffer.getvalue(), timeout=TRANSFER_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        raise RemoteSessionError(f"host {remote.name}: copying {', '.join(names)} failed: "
                                 f"{proc.last_lines(done.stderr, 2)}")


async def remove(remote: RemoteHost, directory: PurePosixPath) -> None:
    """Delete a session's repository (or a sandbox's files) on the host, under wrapix's
    directory there only (links removed, never followed)."""
    if "/.local/share/wrapix/" not in directory.as_posix():
        raise RemoteSessionError(f"refusing to remove {directory}: not a session directory")
    quoted = shlex.quote(str(directory))
    await remote.sh(f"chmod -R u+rwX {quoted} 2>/dev/null; rm -rf {quoted}",
                    what=f"removing {directory}")


SNAPSHOT = """set -e
export {env}
index=$(mktemp)
trap 'rm -f "$index"' EXIT
export GIT_INDEX_FILE="$index"
g() {{ {git} "$@"; }}
head=$(g rev-parse --verify -q HEAD || true)
[ -n "$head" ] || {{ echo none; exit 0; }}
g read-tree HEAD
g add -A
tree=$(g write-tree)
if [ "$tree" = "$(g rev-parse "HEAD^{{tree}}")" ]; then
  g update-ref -d {wip} 2>/dev/null || true
  echo clean
else
  commit=$(echo "work tree as wrapix found it" | g commit-tree "$tree" -p HEAD)
  g update-ref {wip} "$commit"
  echo wip
fi
"""


async def sync(settings: Settings, session: Session) -> Session:
    """Bring ``session``'s work on its host into its copy here (see the module
    docstring); a session on this machine is returned as it is."""
    if session.host is None or session.remote_path is None:
        return session
    remote = await RemoteHost.open(settings, session.host)
    directory = PurePosixPath(session.remote_path)
    state = (await remote.sh(SNAPSHOT.format(env=_git_env(directory), git=HOST_GIT,
                                             wip=WIP_REF),
                             what=f"reading session {session.name}'s work")).strip()
    if state == "none":
        raise RemoteSessionError(f"session {session.name} on {remote.name} has no branch "
                                 "any more", f"discard it: `wrapix discard {session.name}`")
    refspecs = [f"+refs/heads/{session.branch}:refs/heads/{session.branch}"]
    if state == "wip":
        refspecs.append(f"+{WIP_REF}:{LOCAL_WIP_REF}")
    gitcmd.session(session.path, *remote.git_options(), "-c", "fetch.fsckObjects=true",
                   "-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--no-tags",
                   "--update-head-ok", remote.target.git_url(str(directory)), *refspecs,
                   timeout=TRANSFER_TIMEOUT)
    gitcmd.session(session.path, "reset", "-q", "--hard", f"refs/heads/{session.branch}")
    gitcmd.session(session.path, "clean", "-fdq")
    if state == "wip":  # the host's uncommitted work, as uncommitted work here
        gitcmd.session(session.path, "read-tree", "-u", "--reset", LOCAL_WIP_REF)
        gitcmd.session(session.path, "reset", "-q")
    else:
        gitcmd.session(session.path, "update-ref", "-d", LOCAL_WIP_REF, check=False)
    return session


async def discard_on_host(settings: Settings, session: Session) -> None:
    """Remove ``session``'s sandbox, repository and sent files on its host (its copy
    here is left to :func:`wrapix_core.sessions.discard.discard_session`)."""
    from wrapix_core.hosts.fleet import runtime_for

    if session.host is None:
        return
    runtime = runtime_for(settings, session.host)
    if await runtime.container_exists(session.container):
        await runtime.remove(session.container, force=True)
    remote = await RemoteHost.open(settings, session.host)
    home = (await remote.account()).home
    await remove(remote, home / FILES_ROOT / session.container)
    if session.remote_path is not None:
        await remove(remote, PurePosixPath(session.remote_path))
