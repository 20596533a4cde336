"""A project repository and its sessions for the session tests (real git)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.gitplant import git
from wrapix_core.sessions.create import create_session
from wrapix_core.sessions.model import Session


def make_project(path: Path, files: int = 3) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for index in range(files):
        (path / f"f{index}.txt").write_text("".join(f"line {n}\n" for n in range(10)))
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "init")
    return path


def commit(repo: Path, message: str, **files: str) -> str:
    for name, text in files.items():
        target = repo / name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def new_session(project: Path, name: str, **kwargs: object) -> Session:
    session, _ = create_session(project, name, **kwargs)  # type: ignore[arg-type]
    return session


def snapshot(repo: Path) -> tuple[str, str, str, bytes]:
    """Everything a refused merge must leave as it was: refs, HEAD, status, index."""
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads",
               "refs/tags").stdout
    head = git(repo, "symbolic-ref", "-q", "HEAD", check=False).stdout
    status = git(repo, "status", "--porcelain=v1", "--untracked-files=all").stdout
    index = (repo / ".git" / "index").read_bytes()
    return refs, head, status, index


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=60)
