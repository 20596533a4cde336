"""Where sessions live and how they are found.

``<data>/sessions/<project-key>/<NAME>/`` is a session's repository and work tree;
``<data>/sessions/<project-key>/<NAME>.json`` is what the host knows of it (project,
base, borrowed object store). The record is beside the repository, never in it: the
sandbox sees only the repository, so it cannot change what the host believes about the
session. The project key is the checkout's directory name and a hash of its real path.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from wrapix_core import paths
from wrapix_core.sandbox.naming import short_hash
from wrapix_core.sessions import gitcmd
from wrapix_core.sessions.model import Session, SessionError, SessionNotFound, check_name

RECORD_SUFFIX = ".json"


def sessions_root() -> Path:
    return paths.data_dir() / "sessions"


def project_root(directory: Path) -> Path:
    """The top of the git work tree holding ``directory`` (the user's checkout)."""
    done = gitcmd.project(directory, "rev-parse", "--show-toplevel", check=False)
    top = done.stdout.strip()
    if done.returncode != 0 or not top:
        raise SessionError(f"{directory} is not in a git repository",
                           "sessions need a git repository: run `git init` and commit, or "
                           "pass --direct")
    return Path(top).resolve()


def can_branch(directory: Path) -> bool:
    """Whether ``directory`` is the top of a git work tree whose HEAD is a commit: where a
    session can start. A ``.git`` that git does not take for a repository, or one with no
    commit yet, is not (the agent then runs in the directory itself)."""
    if not (directory / ".git").exists():
        return False
    done = gitcmd.project(directory, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                          check=False)
    return done.returncode == 0 and bool(done.stdout.strip())


def project_key(project: Path) -> str:
    stem = "".join(char if char.isalnum() or char in "-_" else "-"
                   for char in project.name.lower()).strip("-")[:40] or "root"
    return f"{stem}-{short_hash(str(project), 12)}"


def project_dir(project: Path) -> Path:
    return sessions_root() / project_key(project)


def session_path(project: Path, name: str) -> Path:
    return project_dir(project) / check_name(name)


def record_file(project: Path, name: str) -> Path:
    return project_dir(project) / f"{check_name(name)}{RECORD_SUFFIX}"


def save(session: Session) -> None:
    paths.ensure_private_dir(project_dir(session.project))
    paths.atomic_write_text(record_file(session.project, session.name),
                            json.dumps(session.to_json(), indent=2) + "\n", mode=0o600)


def _load(file: Path) -> Session | None:
    try:
        return Session.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, SessionError):
        return None


def get_session(project: Path, name: str) -> Session:
    """The session ``name`` of ``project``; :class:`SessionNotFound` when there is none."""
    found = _load(record_file(project, name))
    if found is None or not found.path.is_dir():
        raise SessionNotFound(f"no session {name!r} for {project}",
                              "list them with `wrapix sessions`, or create it with "
                              f"`wrapix run --session {name}`")
    return found


def list_sessions(project: Path) -> list[Session]:
    """The project's sessions, oldest first (records whose repository is gone are left
    out)."""
    directory = project_dir(project)
    try:
        files = sorted(directory.glob(f"*{RECORD_SUFFIX}"))
    except OSError:
        return []
    found = [session for file in files
             if (session := _load(file)) is not None and session.path.is_dir()]
    return sorted(found, key=lambda session: (session.created, session.name))


def all_sessions() -> list[Session]:
    """Every project's sessions (for a dashboard that spans projects)."""
    root = sessions_root()
    try:
        projects = sorted(path for path in root.iterdir() if path.is_dir())
    except OSError:
        return []
    found: list[Session] = []
    for directory in projects:
        for file in sorted(directory.glob(f"*{RECORD_SUFFIX}")):
            session = _load(file)
            if session is not None and session.path.is_dir():
                found.append(session)
    return found


def free_name(project: Path, prefix: str = "agent") -> str:
    """The first ``agent-N`` no session of ``project`` uses (the default session name)."""
    used = {session.name for session in list_sessions(project)}
    index = 1
    while f"{prefix}-{index}" in used or record_file(project, f"{prefix}-{index}").exists():
        index += 1
    return f"{prefix}-{index}"


def now() -> float:
    return time.time()
