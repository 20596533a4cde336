"""Creating a session: a shared clone on wrapix/NAME, outside the project, O(checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.sessions.support import commit, make_project, new_session
from tests.support.gitplant import git
from wrapix_core import paths
from wrapix_core.sessions import store
from wrapix_core.sessions.create import create_session
from wrapix_core.sessions.model import HIDDEN_REFS, SessionError


def test_a_session_is_a_shared_clone_on_its_own_branch(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    base = git(project, "rev-parse", "HEAD").stdout.strip()
    session = new_session(project, "one")
    assert session.path.parent.parent == paths.data_dir() / "sessions"
    assert not session.path.is_relative_to(project)
    assert git(session.path, "symbolic-ref", "HEAD").stdout.strip() == "refs/heads/wrapix/one"
    assert git(session.path, "rev-parse", "HEAD").stdout.strip() == base
    assert session.base_ref == "main" and session.base_commit == base
    alternates = (session.path / ".git/objects/info/alternates").read_text().strip()
    assert alternates == str((project / ".git/objects").resolve())
    # No object was copied: the session's own store is empty.
    own = [name for name in os.listdir(session.path / ".git/objects")
           if name not in ("info", "pack")]
    assert own == [] and os.listdir(session.path / ".git/objects/pack") == []
    # The project keeps the base alive, and gains no branch.
    assert git(project, "rev-parse", f"{HIDDEN_REFS}/one/base").stdout.strip() == base
    assert git(project, "branch", "--format=%(refname)").stdout.split() == ["refs/heads/main"]
    assert (session.path / "f0.txt").read_text() == (project / "f0.txt").read_text()
    assert git(session.path, "status", "--porcelain").stdout == ""
    assert not (session.path / ".git/hooks").exists()  # no sample hooks from a template
    assert store.list_sessions(project) == [session]
    assert store.get_session(project, "one") == session


def test_from_a_ref_and_from_a_detached_commit(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    first = git(project, "rev-parse", "HEAD").stdout.strip()
    git(project, "switch", "-q", "-c", "feature")
    commit(project, "feature work", extra="x\n")
    from_branch = new_session(project, "a", from_ref="main")
    assert (from_branch.base_ref, from_branch.base_commit) == ("main", first)
    assert not (from_branch.path / "extra").exists()
    here = new_session(project, "b")
    assert here.base_ref == "feature" and (here.path / "extra").exists()
    detached = new_session(project, "c", from_ref=first)
    assert detached.base_ref is None and detached.base_commit == first


def test_bad_names_refs_and_duplicates_are_refused_leaving_nothing(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    for name in ("", "Upper", "-x", "a/b", "..", "x" * 41):
        with pytest.raises(SessionError, match="not valid"):
            create_session(project, name)
    with pytest.raises(SessionError, match="names no commit"):
        create_session(project, "nope", from_ref="no-such-branch")
    new_session(project, "one")
    with pytest.raises(SessionError, match="already exists"):
        create_session(project, "one")
    leftovers = sorted(p.name for p in store.project_dir(project).iterdir())
    assert leftovers == ["one", "one.json"]
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SessionError, match="not in a git repository"):
        create_session(plain, "x")


def test_session_copy_copies_files_and_never_follows_links(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret\n")
    (project / ".env").write_text("TOKEN=1\n")
    (project / "conf").mkdir()
    (project / "conf" / "local.toml").write_text("a = 1\n")
    (project / "conf" / "leak").symlink_to(secret)
    (project / "linked.env").symlink_to(secret)
    session, notes = create_session(project, "one",
                                    copy=[".env", "conf", "linked.env", "missing"])
    assert (session.path / ".env").read_text() == "TOKEN=1\n"
    assert (session.path / "conf" / "local.toml").read_text() == "a = 1\n"
    assert not (session.path / "conf" / "leak").exists()
    assert not (session.path / "linked.env").exists()
    joined = "\n".join(notes)
    assert "conf/leak is a symbolic link" in joined
    assert "linked.env is a symbolic link" in joined
    assert "missing does not exist" in joined
    with pytest.raises(SessionError, match="inside the project"):
        create_session(project, "two", copy=["../secret.txt"])


def test_the_agent_runs_on_a_session_only_where_one_can_start(tmp_path: Path) -> None:
    """The default (a session for the agent) needs a repository with a commit; a `.git`
    git does not take for a repository, or a repository with no commit yet, runs the
    agent in the directory itself instead of failing the launch."""
    from wrapix_core.cli.sessions import wants_session
    from wrapix_core.settings import Settings

    settings = Settings()

    def default(directory: Path) -> bool:
        return wants_session(directory, name=None, from_ref=None, direct=False, command=(),
                             settings=settings)

    fake = tmp_path / "fake"
    (fake / ".git" / "hooks").mkdir(parents=True)
    (fake / ".git" / "config").write_text("[core]\n\tbare = false\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    project = make_project(tmp_path / "proj")
    assert not store.can_branch(fake) and not default(fake)
    assert not store.can_branch(empty) and not default(empty)
    assert not default(tmp_path)  # no .git at all
    assert store.can_branch(project) and default(project)
    assert not wants_session(project, name=None, from_ref=None, direct=False,
                             command=("sh",), settings=settings)  # a command: direct
