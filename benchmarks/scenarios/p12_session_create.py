"""P12: creating a session on a repository with 20,000 files and 5,000 commits, against
`git worktree add` of the same commit in the same run.

A session is a shared clone (objects borrowed through alternates, nothing copied) checked
out on its own branch, so its cost must be the checkout's, never the history's. The
repository is made with `git fast-import` (a first commit with 20,000 small files in 200
directories, then 4,999 commits changing one file each). Floor: `git worktree add --detach
DIR HEAD` (the same checkout git does for a worktree). Measured:
:func:`wrapix_core.sessions.create.create_session` in this process (every git call it
makes, the base ref it keeps, the record it writes). Each is removed before the next
(not timed); the two alternate, so both see the same cache state.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from benchmarks.harness import Context, Row, median, ratio_row, timed

ID = "P12"
WHAT = "session creation, 20,000 files and 5,000 commits"
FILES = 20_000
COMMITS = 5_000
DIRS = 200


def _git(repo: Path, *args: str, input: bytes | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          input=input)


def _stream() -> bytes:
    out: list[bytes] = []
    stamp = 1_700_000_000
    who = b"Bench <bench@example.com>"
    content = b"".join(b"line %d\n" % n for n in range(8))
    out.append(b"blob\nmark :1\ndata %d\n%s\n" % (len(content), content))
    files = [f"d{index % DIRS:03d}/file{index:05d}.txt".encode() for index in range(FILES)]
    for number in range(COMMITS):
        message = b"commit %d" % number
        out.append(b"commit refs/heads/main\ncommitter %s %d +0000\ndata %d\n%s\n"
                   % (who, stamp + number, len(message), message))
        if number == 0:
            out.extend(b"M 100644 :1 %s\n" % name for name in files)
        else:
            text = b"change %d\n" % number
            out.append(b"M 100644 inline %s\ndata %d\n%s\n"
                       % (files[number % FILES], len(text), text))
        out.append(b"\n")
    return b"".join(out)


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "fast-import", "--quiet", input=_stream())
    _git(path, "reset", "-q", "--hard", "main")
    _git(path, "gc", "-q")
    return path


def run(ctx: Context) -> list[Row]:
    root = ctx.workdir / "p12"
    saved = os.environ.get("WRAPIX_DATA_DIR")
    os.environ["WRAPIX_DATA_DIR"] = str(root / "data")
    try:
        return _measure(ctx, root)
    finally:
        if saved is None:
            os.environ.pop("WRAPIX_DATA_DIR", None)
        else:
            os.environ["WRAPIX_DATA_DIR"] = saved


def _measure(ctx: Context, root: Path) -> list[Row]:
    from wrapix_core.sessions import store
    from wrapix_core.sessions.create import create_session
    from wrapix_core.sessions.discard import discard_session

    project = make_repo(root / "proj")
    commits = int(_git(project, "rev-list", "--count", "HEAD").stdout)
    tracked = len(_git(project, "ls-files", "-z").stdout.split(b"\0")) - 1
    assert (commits, tracked) == (COMMITS, FILES), (commits, tracked)
    worktree = root / "wt"
    floor_times: list[float] = []
    session_times: list[float] = []
    for index in range(ctx.reps(7)):
        os.sync()  # the last removal's writes must not land inside the next timing
        floor_times.append(timed(lambda: _git(project, "worktree", "add", "-q", "--detach",
                                              str(worktree), "HEAD")))
        _git(project, "worktree", "remove", "--force", str(worktree))
        name = f"bench-{index}"
        os.sync()
        session_times.append(timed(lambda: create_session(project, name)))  # noqa: B023
        discard_session(store.get_session(project, name), force=True, podman="true")
    shutil.rmtree(root, ignore_errors=True)
    return [ratio_row(ID, WHAT, "git worktree add of the same commit", median(floor_times),
                      median(session_times), 1.3,
                      note=f"median of {len(floor_times)}")]
