"""Stats, merging and discarding sessions with real git; a refused merge changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sessions.support import commit, make_project, new_session, snapshot
from tests.support.gitplant import git
from wrapix_core.sessions import store
from wrapix_core.sessions.discard import discard_session, unlanded
from wrapix_core.sessions.merge import merge_session
from wrapix_core.sessions.model import HIDDEN_REFS, MergeRefused, SessionError
from wrapix_core.sessions.stats import session_stats

TEN = "".join(f"line {n}\n" for n in range(10))


def edit(text: str, line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line] = new + "\n"
    return "".join(lines)


def test_stats_follow_commits_uncommitted_work_and_the_base(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    stats = session_stats(session)
    assert (stats.ahead, stats.files, stats.dirty, stats.merged) == (0, 0, False, True)
    commit(session.path, "s1", **{"f0.txt": edit(TEN, 0, "changed"), "new.txt": "a\nb\n"})
    (session.path / "f1.txt").write_text(TEN + "more\n")
    (session.path / "scratch").write_text("x\n")
    stats = session_stats(session)
    assert (stats.ahead, stats.behind, stats.files, stats.added, stats.removed) == (
        1, 0, 2, 3, 1)
    assert stats.uncommitted == ("f1.txt", "scratch")
    assert (stats.uncommitted_added, stats.uncommitted_removed) == (1, 0)
    assert stats.merges_cleanly is True and not stats.merged
    commit(project, "base moves, touching the same line", **{"f0.txt": edit(TEN, 0, "other")})
    stats = session_stats(session)
    assert (stats.ahead, stats.behind) == (1, 1)
    assert stats.merges_cleanly is False and stats.conflicts == ("f0.txt",)
    assert stats.base_tip == git(project, "rev-parse", "main").stdout.strip()


def test_a_clean_merge_updates_the_checked_out_base_keeping_other_local_changes(
        tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    commit(session.path, "session work", **{"f0.txt": edit(TEN, 0, "session")})
    commit(project, "base work", **{"f2.txt": edit(TEN, 5, "base")})
    (project / "f1.txt").write_text("my local edit\n")  # not touched by the merge
    result = merge_session(session)
    assert result.checkout_updated and result.commits == 1
    log = git(project, "log", "--format=%P %s", "-1").stdout
    assert len(log.split(" ", 2)[0:2]) == 2 and "Merge session one" in log
    assert (project / "f0.txt").read_text().startswith("session\n")
    assert (project / "f1.txt").read_text() == "my local edit\n"
    assert git(project, "status", "--porcelain").stdout == " M f1.txt\n"
    assert session_stats(store.get_session(project, "one")).merged
    assert unlanded(store.get_session(project, "one")) == []


def test_fast_forward_squash_and_rebase(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    ff = new_session(project, "ff")
    head = commit(ff.path, "ff work", **{"a.txt": "a\n"})
    assert merge_session(ff, "ff-only").new == head
    assert git(project, "rev-parse", "main").stdout.strip() == head

    squash = new_session(project, "sq")
    commit(squash.path, "one", **{"b.txt": "b\n"})
    commit(squash.path, "two", **{"c.txt": "c\n"})
    commit(project, "base moves", **{"d.txt": "d\n"})
    with pytest.raises(MergeRefused, match="cannot be fast-forwarded"):
        merge_session(squash, "ff-only")
    result = merge_session(squash, "squash")
    parents = git(project, "log", "-1", "--format=%P").stdout.split()
    assert parents == [result.old]
    assert "squashed: 2 commit(s)" in git(project, "log", "-1", "--format=%B").stdout
    assert (project / "b.txt").exists() and (project / "c.txt").exists()

    rebased = new_session(project, "rb")
    commit(rebased.path, "r1", **{"e.txt": "e\n"})
    commit(rebased.path, "r2", **{"f0.txt": edit(TEN, 9, "end")})
    commit(project, "base moves again", **{"g.txt": "g\n"})
    result = merge_session(rebased, "rebase")
    subjects = git(project, "log", "--format=%s %P", f"{result.old}..main").stdout.splitlines()
    assert [line.split()[0] for line in subjects] == ["r2", "r1"]
    assert all(len(line.split()) == 2 for line in subjects)  # linear: one parent each
    assert (project / "e.txt").read_text() == "e\n"
    assert (project / "f0.txt").read_text().endswith("end\n")


def test_a_conflict_is_refused_with_nothing_changed_then_lands_after_a_rebase(
        tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    commit(session.path, "session", **{"f0.txt": edit(TEN, 0, "session")})
    tip = commit(project, "base", **{"f0.txt": edit(TEN, 0, "base")})
    (project / "f2.txt").write_text("dirty but untouched\n")
    git(project, "add", "f2.txt")
    before = snapshot(project)
    with pytest.raises(MergeRefused) as refused:
        merge_session(session)
    assert refused.value.files == ("f0.txt",)
    assert "conflicts with main" in refused.value.message and "rebase" in str(refused.value)
    assert snapshot(project) == before
    # The session rebases (its sandbox sees the base commit through alternates).
    git(session.path, "rebase", tip, check=False)
    (session.path / "f0.txt").write_text(edit(TEN, 0, "base and session"))
    git(session.path, "add", "f0.txt")
    done = git(session.path, "-c", "core.editor=true", "rebase", "--continue", check=False)
    assert done.returncode == 0, done.stderr
    result = merge_session(session)
    assert result.new == git(session.path, "rev-parse", "HEAD").stdout.strip()  # ff
    assert (project / "f0.txt").read_text().startswith("base and session\n")
    assert git(project, "diff", "--cached", "--name-only").stdout == "f2.txt\n"


def test_dirty_files_in_the_way_and_uncommitted_session_work_are_refused(
        tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    commit(session.path, "session", **{"f0.txt": edit(TEN, 0, "session"),
                                       "dir__new.txt": "n\n"})
    (project / "f0.txt").write_text("my unsaved work\n")
    (project / "dir").mkdir()
    (project / "dir" / "new.txt").write_text("mine, untracked\n")
    before = snapshot(project)
    with pytest.raises(MergeRefused) as refused:
        merge_session(session)
    assert refused.value.files == ("dir/new.txt", "f0.txt")
    assert "stash" in str(refused.value)
    assert snapshot(project) == before
    assert (project / "f0.txt").read_text() == "my unsaved work\n"
    (session.path / "wip.txt").write_text("half done\n")
    with pytest.raises(MergeRefused, match="uncommitted work in 1 file") as refused:
        merge_session(session)
    assert refused.value.files == ("wip.txt",)
    assert snapshot(project) == before


def test_merging_into_a_base_that_is_not_checked_out_moves_only_its_ref(
        tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    head = commit(session.path, "session", **{"a.txt": "a\n"})
    git(project, "switch", "-q", "-c", "elsewhere")
    (project / "f0.txt").write_text("dirty on another branch\n")
    status = git(project, "status", "--porcelain").stdout
    result = merge_session(session)
    assert not result.checkout_updated and result.new == head
    assert git(project, "rev-parse", "main").stdout.strip() == head
    assert git(project, "status", "--porcelain").stdout == status
    assert not (project / "a.txt").exists()


def test_discard_refuses_unmerged_work_unless_forced(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    commit(session.path, "work", **{"a.txt": "a\n"})
    assert unlanded(session) == ["1 commit(s) not merged into main"]
    with pytest.raises(SessionError, match="not merged"):
        discard_session(session, podman="true")
    assert session.path.is_dir()
    lost = discard_session(session, force=True, podman="true")
    assert lost == ["1 commit(s) not merged into main"]
    assert not session.path.exists() and store.list_sessions(project) == []
    refs = git(project, "for-each-ref", HIDDEN_REFS).stdout
    assert refs == ""
    clean = new_session(project, "two")
    assert discard_session(clean, podman="true") == []


def test_planted_redirection_in_a_session_stops_merge_and_diff_before_git_runs(
        tmp_path: Path) -> None:
    import asyncio
    import subprocess

    from tests.support.gitplant import attack
    from wrapix_core.errors import WrapixError
    from wrapix_core.sessions.diff import load

    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    commit(session.path, "work", **{"a.txt": "a\n"})
    mark = tmp_path / "mark"
    subprocess.run(["sh", "-c", attack("commondir", str(mark))], cwd=session.path,
                   check=True, timeout=60)
    before = snapshot(project)
    with pytest.raises(WrapixError, match="redirection was planted"):
        merge_session(session)
    with pytest.raises(WrapixError, match="redirection was planted"):
        asyncio.run(load(session))
    stats = session_stats(session)  # pinned GIT_DIR/GIT_COMMON_DIR: the plant is not read
    assert stats.ahead == 1
    assert not mark.exists() and not Path(f"{mark}.hook").exists()
    assert snapshot(project) == before


def test_discard_removes_what_the_agent_made_read_only(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    locked = session.path / "locked"
    locked.mkdir()
    (locked / "file").write_text("x\n")
    locked.chmod(0o500)
    git(session.path, "add", "-A")
    git(session.path, "commit", "-q", "-m", "locked")
    discard_session(session, force=True, podman="true")
    assert not session.path.exists()
