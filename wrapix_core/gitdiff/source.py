"""Getting a session's diff from git, committed and uncommitted work told apart.

- committed: ``git diff BASE...HEAD`` — what the branch did since it left its base (from
  their merge base, so later commits on the base do not show as removals);
- uncommitted: ``git diff HEAD`` — the working tree and index against the last commit;
- untracked: files git does not know yet (``ls-files --others --exclude-standard``),
  read without following a link (:mod:`wrapix_core.workspace_fs`) and shown as new.

The repository is written by an agent: git runs through :mod:`wrapix_core.safegit`, with
no external diff driver, no text conversion and no colour, and with the options the
parser relies on fixed here whatever the user's or the repository's configuration says
(``a/``/``b/`` prefixes, quoted paths, blank context lines kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from wrapix_core import safegit, workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.gitdiff.model import Diff, FileDiff, Part, iter_files, new_file, split_lines

TIMEOUT = 60.0
WHOLE_FILE = 1_000_000_000
"""Context lines asked for when a whole file is wanted."""
MAX_UNTRACKED = 2000
"""Untracked files listed at most (a tree of generated files is not reviewable anyway)."""
MAX_UNTRACKED_BYTES = 1024 * 1024
"""An untracked file larger than this is listed, not shown."""

CONFIG = ("-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
          "-c", "core.quotePath=true", "-c", "diff.suppressBlankEmpty=false",
          "-c", "color.diff=false", "-c", "color.ui=false")
OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv", "-M", "--src-prefix=a/",
           "--dst-prefix=b/", "--no-relative", "--submodule=short")


def diff_args(*revs: str, context: int | None = None, paths: Sequence[str] = ()) -> list[str]:
    """The git arguments (after ``git -C REPO``) of the diff this module parses."""
    args = [*CONFIG, "diff", *OPTIONS]
    if context is not None:
        args.append(f"-U{context}")
    args.extend(revs)
    args.append("--")
    args.extend(paths)
    return args


async def diff_text(repo: Path, *revs: str, context: int | None = None,
                    paths: Sequence[str] = (), timeout: float = TIMEOUT) -> str:
    """The patch text of ``git diff REVS`` in ``repo`` (see :func:`diff_args`)."""
    done = await safegit.run(repo, *diff_args(*revs, context=context, paths=paths),
                             timeout=timeout)
    return done.stdout


async def committed(repo: Path, base: str, head: str = "HEAD", *,
                    timeout: float = TIMEOUT) -> list[FileDiff]:
    """Files the commits on ``head`` since it left ``base`` changed."""
    text = await diff_text(repo, f"{base}...{head}", timeout=timeout)
    return list(iter_files(split_lines(text), "committed"))


async def uncommitted(repo: Path, *, timeout: float = TIMEOUT) -> list[FileDiff]:
    """Files changed in the working tree or index since ``HEAD``."""
    text = await diff_text(repo, "HEAD", timeout=timeout)
    return list(iter_files(split_lines(text), "uncommitted"))


async def untracked(repo: Path, *, timeout: float = TIMEOUT) -> list[str]:
    """Paths git does not track and does not ignore (at most :data:`MAX_UNTRACKED`)."""
    done = await safegit.run(repo, *CONFIG, "ls-files", "--others", "--exclude-standard", "-z",
                             timeout=timeout)
    return [name for name in done.stdout.split("\0") if name][:MAX_UNTRACKED]


def read_untracked(repo: Path, path: str, limit: int = MAX_UNTRACKED_BYTES) -> FileDiff:
    """An untracked file as an all-added diff, read without following any link; a link,
    a binary or an oversized file is described instead of shown."""
    try:
        data = workspace_fs.read_bytes(repo, path, limit + 1)
    except workspace_fs.LinkRefused:
        return _described(path, "a symbolic link or special file: not followed, not shown")
    except (OSError, ValueError) as exc:
        return _described(path, f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
    if len(data) > limit:
        return _described(path, f"larger than {limit // 1024} KiB: not shown")
    if b"\0" in data[:8000]:
        return _described(path, "binary: not shown", binary=True)
    return new_file(path, data.decode("utf-8", errors="replace"))


def _described(path: str, why: str, *, binary: bool = False) -> FileDiff:
    lines = [f"diff --git a/{path} b/{path}", f"untracked file, {why}"]
    return FileDiff(path, None, "added", "untracked", 0, 0, binary, lines, 0, 2, 2)


async def load(repo: Path, base: str, head: str = "HEAD", *, work: bool = True,
               timeout: float = TIMEOUT) -> Diff:
    """The whole review: committed files, then (``work``) uncommitted and untracked ones.
    The git calls run at once."""
    if not work:
        return Diff(await committed(repo, base, head, timeout=timeout))
    done, changed, new = await asyncio.gather(
        committed(repo, base, head, timeout=timeout), uncommitted(repo, timeout=timeout),
        untracked(repo, timeout=timeout))
    loaded = await asyncio.to_thread(lambda: [read_untracked(repo, name) for name in new])
    return Diff([*done, *changed, *loaded])


class Reading:
    """A review's diff being read; the committed diff's git starts at construction.

    Its output is spooled (:class:`~wrapix_core.proc.Spooled`), so :meth:`so_far` can
    hand over the files git has finished writing while it still works on the rest: a
    screen shows the first file of a large diff without waiting for the last.
    :meth:`finish` (blocking, in a thread) waits for that git, then runs the uncommitted
    and untracked reads: after it, not beside it, so the diff shown first gets the
    machine to itself. Both may be called from different threads.
    """

    def __init__(self, repo: Path, base: str, head: str = "HEAD", *, work: bool = True,
                 timeout: float = TIMEOUT):
        import threading

        from wrapix_core import proc

        self.repo, self.work, self.timeout = repo, work, timeout
        self._git = proc.Spooled(safegit.argv(repo, *diff_args(f"{base}...{head}")),
                                 env=safegit.safe_env())
        self._lock = threading.Lock()
        self._files: list[FileDiff] = []
        self._upto = 0
        """Bytes of git's output already parsed into ``_files`` (whole files only)."""
        self._complete = False

    def so_far(self) -> list[FileDiff]:
        """The committed files git has finished writing (all of them once it ended)."""
        with self._lock:
            if not self._complete:
                ended = self._git.exited()
                data = self._git.peek()
                cut = len(data) if ended else data.rfind(b"\ndiff --git ") + 1
                self._take(data, cut)
                self._complete = ended
            return list(self._files)

    def _take(self, data: bytes, cut: int) -> None:
        if cut > self._upto:
            text = data[self._upto:cut].decode(errors="replace")
            self._files.extend(iter_files(split_lines(text), "committed"))
            self._upto = cut

    def finish(self) -> Diff:
        """The whole review (raises the committed git's failure, as :func:`load`)."""
        git = self._git
        try:
            git.wait_end(self.timeout)
            failure = git.failure()
            if failure is not None:
                raise failure
            with self._lock:
                if not self._complete:
                    data = git.peek()
                    self._take(data, len(data))
                    self._complete = True
                files = list(self._files)
        finally:
            with self._lock:
                git.close()
        if self.work:
            files.extend(iter_files(split_lines(safegit.run_sync(
                self.repo, *diff_args("HEAD"), timeout=self.timeout, spool=True).stdout),
                "uncommitted"))
            names = safegit.run_sync(self.repo, *CONFIG, "ls-files", "--others",
                                     "--exclude-standard", "-z", timeout=self.timeout)
            files.extend(read_untracked(self.repo, name) for name in
                         [name for name in names.stdout.split("\0") if name][:MAX_UNTRACKED])
        return Diff(files)


    async def finish_async(self) -> Diff:
        """:meth:`finish` on the event loop, without a thread (see ``wait_end_async``):
        a thread that wakes for git would take the GIL from the screen drawing the diff."""
        git = self._git
        try:
            await git.wait_end_async(self.timeout)
            failure = git.failure()
            if failure is not None:
                raise failure
            files = self.so_far()
        finally:
            with self._lock:
                git.close()
        if self.work:
            changed, names = await asyncio.gather(
                uncommitted(self.repo, timeout=self.timeout),
                untracked(self.repo, timeout=self.timeout))
            files.extend(changed)
            if names:
                files.extend(await asyncio.to_thread(
                    lambda: [read_untracked(self.repo, name) for name in names]))
        return Diff(files)


def load_sync(repo: Path, base: str, head: str = "HEAD", *, work: bool = True,
              timeout: float = TIMEOUT) -> Diff:
    """:func:`load` without an event loop (see :class:`Reading`)."""
    return Reading(repo, base, head, work=work, timeout=timeout).finish()


async def whole_file(repo: Path, item: FileDiff, base: str, head: str = "HEAD", *,
                     timeout: float = TIMEOUT) -> FileDiff:
    """``item`` again with the whole file as context (untracked files already are)."""
    if item.part == "untracked" or item.binary:
        return item
    revs = (f"{base}...{head}",) if item.part == "committed" else ("HEAD",)
    paths = [item.path] if not item.old_path else [item.old_path, item.path]
    text = await diff_text(repo, *revs, context=WHOLE_FILE, paths=paths, timeout=timeout)
    for found in iter_files(split_lines(text), item.part):
        if found.path == item.path:
            return found
    raise WrapixError(f"{item.path}: git showed no diff for it any more",
                      "the file changed meanwhile: reload the diff")


PART_TITLES: dict[Part, str] = {
    "committed": "committed on the branch",
    "uncommitted": "uncommitted (working tree vs HEAD)",
    "untracked": "untracked (new files git does not know yet)",
}
