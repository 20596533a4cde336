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
from wrapix_core.gitdiff.model import Diff, FileDiff, Part, new_file, parse

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
    return parse(text, "committed")


async def uncommitted(repo: Path, *, timeout: float = TIMEOUT) -> list[FileDiff]:
    """Files changed in the working tree or index since ``HEAD``."""
    text = await diff_text(repo, "HEAD", timeout=timeout)
    return parse(text, "uncommitted")


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

    On an event loop, :meth:`watch` parses git's output as it comes (the loop reads the
    pipe, :class:`~wrapix_core.proc.Watched`), so :meth:`so_far` hands over the files
    git has finished while it still works on the others: a screen shows the first file
    of a large diff without waiting for the last. :meth:`finish_async` (or, without a
    loop, :meth:`finish`) waits for that git, then reads the uncommitted and untracked
    work: after it, not beside it, so the diff shown first gets the machine to itself.
    """

    def __init__(self, repo: Path, base: str, head: str = "HEAD", *, work: bool = True,
                 timeout: float = TIMEOUT):
        from wrapix_core import proc

        self.repo, self.work, self.timeout = repo, work, timeout
        self._git = proc.Watched(safegit.argv(repo, *diff_args(f"{base}...{head}")),
                                 env=safegit.safe_env())
        self._files: list[FileDiff] = []
        self._upto = 0
        """Bytes of git's output already parsed into ``_files`` (whole files only)."""
        self.changed: asyncio.Event | None = None
        """After :meth:`watch`: set when files were added or git ended (clear it to wait
        for the next)."""

    def watch(self) -> None:
        """Parse git's output on the running loop as it comes (see the class doc)."""
        self.changed = asyncio.Event()
        self._git.watch(self._take)

    @property
    def ended(self) -> bool:
        """Whether git's output is complete (then :meth:`so_far` has every committed file)."""
        return self._git.ended

    def stop(self) -> None:
        """Stop git if it still runs (the screen that wanted the diff closed)."""
        self._git.stop()

    def so_far(self) -> list[FileDiff]:
        """The committed files git has finished writing, in order."""
        return list(self._files)

    def _take(self) -> None:
        data = self._git.output
        cut = len(data) if self._git.ended else data.rfind(b"\ndiff --git ") + 1
        if cut > self._upto:  # whole files only: up to the last header seen
            self._files.extend(parse(data[self._upto:cut].decode(errors="replace"),
                                     "committed"))
            self._upto = cut
            if self.changed is not None:
                self.changed.set()
        elif self._git.ended and self.changed is not None:
            self.changed.set()

    def finish(self) -> Diff:
        """The whole review, blocking (raises the committed git's failure, as :func:`load`)."""
        self._git.wait(self.timeout)
        self._take()
        files = self.so_far()
        if self.work:
            files.extend(parse(safegit.run_sync(
                self.repo, *diff_args("HEAD"), timeout=self.timeout, spool=True).stdout,
                "uncommitted"))
            names = safegit.run_sync(self.repo, *CONFIG, "ls-files", "--others",
                                     "--exclude-standard", "-z", timeout=self.timeout)
            files.extend(read_untracked(self.repo, name) for name in
                         [name for name in names.stdout.split("\0") if name][:MAX_UNTRACKED])
        return Diff(files)

    async def finish_async(self) -> Diff:
        """:meth:`finish` on the event loop, after :meth:`watch` (no thread: one that
        woke for git would take the GIL from the screen drawing the diff)."""
        await self._git.wait_async(self.timeout)
        files = self.so_far()
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
    for found in parse(text, item.part):
        if found.path == item.path:
            return found
    raise WrapixError(f"{item.path}: git showed no diff for it any more",
                      "the file changed meanwhile: reload the diff")


PART_TITLES: dict[Part, str] = {
    "committed": "committed on the branch",
    "uncommitted": "uncommitted (working tree vs HEAD)",
    "untracked": "untracked (new files git does not know yet)",
}
