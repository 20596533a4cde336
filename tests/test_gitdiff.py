"""The diff model on real git output: statuses, paths (spaces, escapes, non-ASCII),
counts, hunks and line numbers, committed/uncommitted/untracked parts, and a repository's
own configuration (external diff, textconv, colour, prefixes) changing nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from wrapix_core.gitdiff import render, source
from wrapix_core.gitdiff.model import parse, split_lines, unquote

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@e"}
ESC_NAME = "esc\x1b[31mred [bold]x.txt"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], env=ENV, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """``main`` with six files; branch ``work`` renames, edits, deletes, adds, changes a
    mode and a binary; then uncommitted and untracked work on top."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "keep.py").write_text("".join(f"line {n}\n" for n in range(1, 41)))
    (repo / "old name.txt").write_text("a\nb\nc\nd\ne\n")
    (repo / ESC_NAME).write_text("gone\n")
    (repo / "run.sh").write_text("echo hi\n")
    (repo / "blob.bin").write_bytes(b"\0\1\2")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "work")
    lines = [f"line {n}\n" for n in range(1, 41)]
    lines[2] = "line three\n"
    lines[35] = "line thirty-six\n"
    lines.insert(36, "added\n")
    (repo / "keep.py").write_text("".join(lines))
    git(repo, "mv", "old name.txt", "new name.txt")
    (repo / "new name.txt").write_text("a\nb\nC\nd\ne\n")
    git(repo, "rm", "-q", ESC_NAME)
    (repo / "nëw.md").write_text("# new\n\x1b]0;title\x07 [red]x[/red]\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "blob.bin").write_bytes(b"\0\1\3")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "work")
    (repo / "keep.py").write_text("".join(lines) + "uncommitted\n")
    (repo / "fresh.txt").write_text("one\ntwo\n")
    return repo


def test_committed_files_statuses_paths_and_counts(repo: Path) -> None:
    files = asyncio.run(source.committed(repo, "main"))
    by = {item.path: item for item in files}
    assert set(by) == {"blob.bin", ESC_NAME, "keep.py", "new name.txt", "nëw.md", "run.sh"}
    assert by["blob.bin"].binary and by["blob.bin"].status == "modified"
    assert by[ESC_NAME].status == "deleted" and (by[ESC_NAME].added, by[ESC_NAME].removed) \
        == (0, 1)
    assert (by["keep.py"].added, by["keep.py"].removed) == (3, 2)
    renamed = by["new name.txt"]
    assert renamed.status == "renamed" and renamed.old_path == "old name.txt"
    assert (renamed.added, renamed.removed) == (1, 1)
    assert by["nëw.md"].status == "added" and by["nëw.md"].added == 2
    assert by["run.sh"].status == "mode" and not by["run.sh"].hunks
    assert all(item.part == "committed" for item in files)


def test_hunks_and_line_numbers(repo: Path) -> None:
    keep = next(item for item in asyncio.run(source.committed(repo, "main"))
                if item.path == "keep.py")
    assert [(h.old_start, h.new_start) for h in keep.hunks] == [(1, 1), (33, 33)]
    rows = keep.rows
    changed = [(row.kind, row.old, row.new, row.text) for row in rows
               if row.kind in ("add", "del")]
    assert changed == [("del", 3, None, "line 3"), ("add", None, 3, "line three"),
                       ("del", 36, None, "line 36"), ("add", None, 36, "line thirty-six"),
                       ("add", None, 37, "added")]
    context = [row for row in rows if row.kind == "context"]
    assert (context[-1].old, context[-1].new, context[-1].text) == (39, 40, "line 39")


def test_whole_file_context(repo: Path) -> None:
    keep = next(item for item in asyncio.run(source.committed(repo, "main"))
                if item.path == "keep.py")
    whole = asyncio.run(source.whole_file(repo, keep, "main"))
    assert len(whole.hunks) == 1
    assert sum(1 for row in whole.rows if row.kind != "note") == 1 + 41 + 2


def test_load_tells_committed_uncommitted_and_untracked_apart(repo: Path) -> None:
    diff = source.load_sync(repo, "main")
    assert [item.path for item in diff.part("uncommitted")] == ["keep.py"]
    assert diff.part("uncommitted")[0].added == 1
    untracked = diff.part("untracked")
    assert [item.path for item in untracked] == ["fresh.txt"]
    assert [row.text for row in untracked[0].rows if row.kind == "add"] == ["one", "two"]
    assert asyncio.run(source.load(repo, "main")).files[-1].path == "fresh.txt"
    stat = list(render.stat_lines(diff))
    assert stat[0] == "committed on the branch:"
    assert "uncommitted (working tree vs HEAD):" in stat
    assert any(line.startswith("untracked") for line in stat)


def test_an_untracked_link_is_not_followed(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("host secret\n")
    (repo / "link").symlink_to(secret)
    diff = source.load_sync(repo, "main")
    link = next(item for item in diff.files if item.path == "link")
    assert "host secret" not in "\n".join(row.text for row in link.rows)
    assert "not followed" in link.rows[0].text


def test_repository_config_runs_nothing_and_changes_no_format(repo: Path) -> None:
    marker = repo.parent / "ran"
    script = repo.parent / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho EVIL\n")
    script.chmod(0o755)
    for key, value in (("diff.external", str(script)), ("diff.evil.textconv", str(script)),
                       ("color.diff", "always"), ("color.ui", "always"),
                       ("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"),
                       ("core.quotePath", "false"), ("diff.relative", "true"),
                       ("core.fsmonitor", str(script)), ("core.pager", str(script))):
        git(repo, "config", key, value)
    (repo / ".gitattributes").write_text("*.py diff=evil\n")
    diff = source.load_sync(repo, "main")
    assert not marker.exists()
    keep = next(item for item in diff.part("committed") if item.path == "keep.py")
    assert (keep.added, keep.removed) == (3, 2)
    text = "\n".join(line for item in diff.files
                     for line in item.lines[item.start:item.end])
    assert "\x1b[" not in text  # no colour (the content's own escape is an OSC, "\x1b]")
    assert "EVIL" not in text


def test_rendered_text_is_inert(repo: Path) -> None:
    diff = source.load_sync(repo, "main")
    lines = list(render.patch_lines(diff)) + list(render.stat_lines(diff))
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert any("esc\\e[31mred [bold]x.txt" in line for line in render.stat_lines(diff))
    assert any("\\e]0;title\\x07 [red]x[/red]" in line for line in lines)


def test_parser_edges() -> None:
    assert unquote('"a\\tb\\303\\251\\"q\\\\"') == 'a\tbé"q\\'
    assert unquote("plain") == "plain"
    assert parse("") == []
    assert split_lines("a\r\nb\x0bc\n") == ["a\r", "b\x0bc"]
    text = ("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n--- not a header\n"
            "+++ not one either\n \n\\ No newline at end of file\n")
    (item,) = parse(text)
    assert (item.path, item.added, item.removed) == ("x", 1, 1)
    assert [row.kind for row in item.rows] == ["hunk", "del", "add", "context", "note"]


def test_parse_counts_and_kinds_of_file() -> None:
    """The string-search parser: changes below the first @@ only (an added line may start
    with "+++"), a mode change, a binary file, a rename, a final line without newline."""
    text = ("diff --git a/a b/a\nindex 1..2 100644\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n"
            "-+++x\n++++y\n\\ No newline at end of file\n"
            "diff --git a/b b/b\nold mode 100644\nnew mode 100755\n"
            "diff --git a/c.bin b/c.bin\nindex 1..2\nBinary files a/c.bin and b/c.bin differ\n"
            "diff --git a/d b/e\nsimilarity index 90%\nrename from d\nrename to e\n"
            "--- a/d\n+++ b/e\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n")
    files = parse(text)
    assert [(f.path, f.old_path, f.status, f.added, f.removed, f.binary) for f in files] == [
        ("a", None, "modified", 1, 1, False), ("b", None, "mode", 0, 0, False),
        ("c.bin", None, "modified", 0, 0, True), ("e", "d", "renamed", 1, 1, False)]
    assert [row.kind for row in files[0].rows] == ["hunk", "del", "add", "note"]
    assert [(row.kind, row.old, row.new) for row in files[3].rows][-3:] == [
        ("context", 1, 1), ("del", 2, None), ("add", None, 2)]
    assert [row.text for row in files[1].rows] == ["old mode 100644", "new mode 100755"]
    assert parse("warning: not a diff\n") == []


async def test_reading_hands_over_finished_files_before_git_ends(tmp_path: Path) -> None:
    """Reading parses git's output as the loop receives it: files before the last header
    seen are whole, are handed over at once, and are the very objects of the finished
    diff (a screen showing them keeps its place when the rest comes)."""
    repo = tmp_path / "big"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for index in range(30):
        (repo / f"f{index:02d}.py").write_text("".join(f"v = {n}\n" for n in range(400)))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "work")
    for index in range(30):
        (repo / f"f{index:02d}.py").write_text("".join(f"w = {n}\n" for n in range(400)))
    git(repo, "commit", "-qam", "work")
    (repo / "f00.py").write_text("uncommitted\n")

    reading = source.Reading(repo, "main", "work")
    reading.watch()
    assert reading.changed is not None
    seen: list[int] = []
    while not reading.ended:
        await reading.changed.wait()
        reading.changed.clear()
        seen.append(len(reading.so_far()))
    first = reading.so_far()
    diff = await reading.finish_async()
    assert [item.path for item in first] == [f"f{index:02d}.py" for index in range(30)]
    assert all(mine is theirs for mine, theirs in zip(first, diff.files, strict=False))
    assert [(item.part, item.path) for item in diff.files[30:]] == [("uncommitted", "f00.py")]
    assert seen == sorted(seen) and seen[-1] == 30
    assert all(item.added == item.removed == 400 for item in first)
    # the blocking path (CLI, threads) gives the same
    assert [(i.path, i.added) for i in source.load_sync(repo, "main", "work").files] == [
        (i.path, i.added) for i in diff.files]
