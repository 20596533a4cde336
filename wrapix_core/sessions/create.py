"""Creating a session: a shared clone of the project on branch ``wrapix/NAME``.

The cost is the checkout's, never the history's (benchmark P12): an empty repository is
made, told to borrow the project's objects (``objects/info/alternates``, an absolute path
that the sandbox sees too: the project's object directory is mounted read-only there),
given the branch at the base commit, and checked out. No object is copied, no ref of the
project is shared. The project gets one ref, ``refs/wrapix/sessions/NAME/base``, so that
its own ``git gc`` never prunes the commit the session starts from.

It is built in a temporary directory beside its final place and renamed there, so a
failure leaves no half session; the record (:mod:`.store`) is written last.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from wrapix_core import paths
from wrapix_core.sessions import gitcmd, store
from wrapix_core.sessions.copyfiles import copy_into
from wrapix_core.sessions.model import HIDDEN_REFS, Session, SessionError, check_name

SESSION_CONFIG = "[core]\n\tlogAllRefUpdates = true\n[gc]\n\tauto = 0\n[wrapix]\n\tsession = true\n"
"""Written into the session's ``.git/config`` (read-only in its sandbox)."""


def base_of(project: Path, from_ref: str | None) -> tuple[str, str | None]:
    """(commit, branch name or None) that a session made from ``from_ref`` (default: the
    checkout's ``HEAD``) starts from."""
    ref = from_ref or "HEAD"
    if ref.startswith("-"):
        raise SessionError(f"--from {ref!r} is not a revision", "name a branch or a commit")
    commit = gitcmd.rev(gitcmd.project(project, "rev-parse", "--verify", "--quiet",
                                       f"{ref}^{{commit}}", check=False))
    if commit is None:
        raise SessionError(f"{ref} names no commit in {project}",
                           "commit something first, or pass --from with a branch or commit")
    full = gitcmd.project(project, "rev-parse", "--symbolic-full-name", ref,
                          check=False).stdout.strip()
    branch = full.removeprefix("refs/heads/") if full.startswith("refs/heads/") else None
    return commit, branch


def object_dir(project: Path) -> Path:
    """The project's object directory (of its common directory, for a linked worktree)."""
    done = gitcmd.project(project, "rev-parse", "--path-format=absolute", "--git-common-dir")
    objects = Path(done.stdout.strip()) / "objects"
    if not objects.is_dir():
        raise SessionError(f"{project} has no object directory at {objects}")
    return objects.resolve()


def create_session(directory: Path, name: str, *, from_ref: str | None = None,
                   copy: Sequence[str] = ()) -> tuple[Session, list[str]]:
    """Create session ``name`` for the repository holding ``directory``; returns it and
    notes for the user (files ``copy`` left out). :class:`SessionError` when it exists."""
    project = store.project_root(directory)
    check_name(name)
    final = store.session_path(project, name)
    if final.exists() or store.record_file(project, name).exists():
        raise SessionError(f"session {name!r} already exists for {project}",
                           f"run on it with `wrapix run --session {name}`, or remove it with "
                           f"`wrapix discard {name}`")
    commit, branch = base_of(project, from_ref)
    objects = object_dir(project)
    paths.ensure_private_dir(final.parent)
    building = final.with_name(f".{name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        notes = _build(project, building, name, commit, objects, copy)
        gitcmd.project(project, "update-ref", f"{HIDDEN_REFS}/{name}/base", commit)
        building.rename(final)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    session = Session(name=name, project=project, path=final, base_ref=branch,
                      base_commit=commit, objects=objects, created=store.now())
    store.save(session)
    return session, notes


def _build(project: Path, path: Path, name: str, commit: str, objects: Path,
           copy: Sequence[str]) -> list[str]:
    branch = f"wrapix/{name}"
    path.mkdir(mode=0o755)
    gitcmd.session(path, "init", "-q", "--template=", f"--initial-branch={branch}")
    info = path / ".git" / "objects" / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "alternates").write_text(f"{objects}\n", encoding="utf-8")
    with (path / ".git" / "config").open("a", encoding="utf-8") as config:  # just made by us
        config.write(SESSION_CONFIG)
    gitcmd.session(path, "update-ref", f"refs/heads/{branch}", commit)
    # The project's own commit, checked out with the user's configuration (an LFS smudge
    # filter, say) as `git worktree add` would: nothing of an agent's is in it yet.
    gitcmd.session(path, "reset", "-q", "--hard", commit, isolated=False)
    return copy_into(project, path, copy) if copy else []
