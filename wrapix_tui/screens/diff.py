"""A session's work, file by file: review it, then merge it, discard it or ask for changes.

- Left: the files (committed on the branch, then uncommitted, then untracked) with their
  +/− counts; right: the selected file's diff. One widget draws both
  (:class:`~wrapix_tui.widgets.diff_view.DiffView`), only what is on screen.
- A 10,000-line diff opens at once: git starts as the screen is built and the first
  frame shows the files it has finished; the others, then the uncommitted and untracked
  work, join the list as they are read (on the event loop).
- ``n``/``p`` jump between hunks, ``]``/``[`` between files, ``tab`` to the list and
  back, ``f`` shows the whole file as context (and back).
- ``m`` merges (asking which way), ``X`` discards (asking first), ``c`` sends a comment
  (about the file and line under the cursor, or not) to the agent as its next
  instruction. What these do is the sessions core's; this screen asks and shows results.

The diff is the repository's text (an agent wrote it): names and lines are escaped, never
markup (see the widgets).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen

from wrapix_core.errors import WrapixError
from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.diff_view import DiffView
from wrapix_tui.widgets.textbar import TextBar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from wrapix_core.gitdiff.model import Diff, FileDiff
    from wrapix_core.gitdiff.source import Reading
    from wrapix_tui.widgets.diff_files import FileList

log = logging.getLogger("wrapix.tui.diff")

FIRST_FRAME_WAIT = 0.2
"""Seconds the screen waits for git before drawing its first frame without the diff."""


def _reason(error: WrapixError) -> str:
    """What went wrong, short enough for the status line: what git said, not the whole
    command it was given (that goes to the log)."""
    from wrapix_core import proc

    if isinstance(error, proc.CommandFailed):
        said = proc.last_lines(error.stderr or error.stdout, 1)
        if said:
            log.warning("%s", error.message)
            return f"git said: {said}"
    return error.message


@dataclass
class DiffTarget:
    """What to review: a session's repository and base, and what the actions call.

    ``resolve()`` (blocking, run in a thread) may check the repository and
    return the ``(base, head)`` to diff instead of the fields. ``merge(strategy)``,
    ``discard()``, ``instruct(text, path, line)`` come from the sessions core; each returns
    a line to show, or raises :class:`WrapixError` (shown with its hint); ``lost()`` says
    what a discard would throw away. None: the action is not offered.
    """

    name: str
    repo: Path
    base: str
    head: str = "HEAD"
    branch: str = ""
    base_label: str = ""
    """How the base is called (``main``); the commit when empty."""
    resolve: Callable[[], tuple[str, str]] | None = field(default=None, repr=False)
    merge: Callable[[str], Awaitable[str]] | None = field(default=None, repr=False)
    discard: Callable[[], Awaitable[str]] | None = field(default=None, repr=False)
    lost: Callable[[], Awaitable[list[str]]] | None = field(default=None, repr=False)
    instruct: Callable[[str, str | None, int | None], Awaitable[str]] | None = field(
        default=None, repr=False)


class DiffScreen(Screen[str | None]):
    """Dismissed with a line saying what was done (merged, discarded), or None."""

    CSS_PATH = stylesheet("diff.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="diff.close"),
        Binding("right_square_bracket", "file(1)", "Next file", id="diff.next_file"),
        Binding("left_square_bracket", "file(-1)", "Prev file", id="diff.prev_file"),
        Binding("n", "hunk(1)", "Next hunk", id="diff.next_hunk"),
        Binding("p", "hunk(-1)", "Prev hunk", id="diff.prev_hunk"),
        Binding("f", "whole_file", "Whole file", id="diff.whole_file"),
        Binding("m", "merge", "Merge", id="diff.merge"),
        Binding("X", "discard", "Discard", id="diff.discard"),
        Binding("c", "comment", "Request changes", id="diff.comment"),
        Binding("R", "reload", "Reload", show=False, id="diff.reload"),
    ]

    def __init__(self, target: DiffTarget, diff: Diff | None = None) -> None:
        super().__init__(id="diff-screen")
        self.target = target
        self.diff = diff
        self.whole: dict[int, FileDiff] = {}
        """Files shown with whole-file context, by index in ``diff.files``."""
        self.error: str | None = None
        self.busy: str | None = None
        self.partial = False
        """True while the file list shows only the files git has finished so far."""
        self._reading: Reading | None = None
        self._resumed = False
        if diff is None and target.resolve is None:
            from wrapix_core.gitdiff.source import Reading

            # git starts now, while the screen is being built; the loop parses its output
            # as it comes (a thread would take the GIL from the mounting screen)
            self._reading = Reading(target.repo, target.base, target.head)
            self._reading.watch()

    def compose(self) -> ComposeResult:
        title = TextBar(id="diff-title")
        title.set_line(0, self._title())
        yield title
        yield TextBar(2, id="diff-status")  # the status line, then the keys
        yield DiffView(id="diff-view")  # the file list on its left

    async def on_mount(self) -> None:
        self.bindings_updated_signal.subscribe(self, self._keys_changed)
        self._keys_changed()
        if self.diff is not None:
            self._loaded(self.diff)
            return
        from wrapix_core.gitdiff.model import Diff

        loop = asyncio.get_running_loop()
        deadline = loop.time() + FIRST_FRAME_WAIT
        # git started with the screen, or starts once the target is resolved (a thread:
        # the repository is checked, a host's work fetched)
        starting = asyncio.ensure_future(self._started(self._reading))
        self._reading = None
        await asyncio.wait({starting}, timeout=FIRST_FRAME_WAIT)
        if not starting.done() or starting.exception() is not None:
            self._set_status("reading the diff…")  # load() says why, or shows it later
            self.load(asyncio.ensure_future(self._finish(starting)))
            return
        reading = starting.result()
        # git's first file is usually done within a frame or two: the first frame then
        # shows the diff, instead of a "reading" frame and a layout after it
        files = await self._first_files(reading, deadline)
        if files:
            # the files git has finished (of a large diff, or all of a small one) are
            # the first frame; the others join the list when git is done (read on the
            # event loop: no thread takes the GIL from the frames)
            self._loaded(Diff(files), partial=True)
            self.load(asyncio.ensure_future(self._finish(starting)))
            return
        fetch = asyncio.ensure_future(self._finish(starting))
        if reading.ended:  # no committed work: the rest is quick to read
            await asyncio.wait({fetch}, timeout=FIRST_FRAME_WAIT)
        if fetch.done() and fetch.exception() is None:
            self._loaded(fetch.result())
        else:  # a slow git: the screen now, the diff when it comes (or why not)
            self._set_status("reading the diff…")
            self.load(fetch)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # (runs before Screen's own handler) The first resume follows the mount, which
        # has just worked out every style: restyling them all again would cost the first
        # frame ~1.5 ms. Later resumes (back from a dialog) restyle as usual.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_unmount(self) -> None:
        self.bindings_updated_signal.unsubscribe(self)
        # A closed screen leaves thousands of objects in reference cycles (its widgets
        # and their caches of drawn lines). wrapix-tui keeps start-up's objects out of
        # the cyclic collector (gc.freeze); collect these now, after the screen below has
        # drawn, rather than in a full pass that stalls a later frame by 10-30 ms.
        with contextlib.suppress(Exception):  # (the app may be closing)
            self.app.screen.call_after_refresh(gc.collect)

    def _keys_changed(self, _screen: object = None) -> None:
        bar = self.status_bar
        bar.set_line(1, bar.keys(self))

    # -- loading --------------------------------------------------------------------

    @staticmethod
    async def _first_files(reading: Reading, deadline: float) -> list[FileDiff]:
        """The files git has finished, waiting until ``deadline`` (loop time) for one."""
        assert reading.changed is not None
        files = reading.so_far()
        while not files and not reading.ended:
            reading.changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reading.changed.wait(), left)
            files = reading.so_far()
        return files

    async def _started(self, reading: Reading | None) -> Reading:
        """``reading`` (started with the screen), or one started now, after the target's
        ``resolve`` (in a thread) when it has one."""
        from wrapix_core.gitdiff.source import Reading

        if reading is None:
            target = self.target
            if target.resolve is not None:
                target.base, target.head = await asyncio.to_thread(target.resolve)
            reading = Reading(target.repo, target.base, target.head)
            reading.watch()
        return reading

    async def _finish(self, starting: Awaitable[Reading]) -> Diff:
        """The whole diff of the reading ``starting`` gives."""
        reading = await starting
        try:
            return await reading.finish_async()
        except asyncio.CancelledError:  # the screen closed (or a reload): git stops too
            reading.stop()
            raise

    @work(exclusive=True, group="diff.load")
    async def load(self, diff: asyncio.Future[Diff] | None = None) -> None:
        """Show the whole diff ``diff`` (a task under way) gives, or that of a new read.
        (Cancelling this worker cancels the task it waits for, and so stops git.)"""
        try:
            whole = await (diff if diff is not None
                           else self._finish(self._started(None)))
        except WrapixError as exc:
            if self in self.app.screen_stack:
                self._failed(str(exc), f"cannot read the diff: {_reason(exc)}"
                             + (f" — {exc.hint}" if exc.hint else ""))
            return
        except (OSError, UnicodeError, ValueError) as exc:  # not git's: the files' own
            log.exception("reading the diff failed")
            if self in self.app.screen_stack:
                self._failed(str(exc), f"cannot read the diff: {exc}")
            return
        if self in self.app.screen_stack:  # (not closed while git worked)
            self._loaded(whole)

    def _failed(self, error: str, line: str) -> None:
        """The read failed: say so; files already shown stay, the title saying the list
        is incomplete."""
        self.error = error
        if self.partial:
            self.query_one("#diff-title", TextBar).set_line(0, self._title())
        self._set_status(line, True)

    def _loaded(self, diff: Diff, *, partial: bool = False) -> None:
        """Show ``diff``. After a partial one (``partial``: git was still writing), the
        whole one keeps the file, row and scroll shown: its first files are the same
        objects (:class:`~wrapix_core.gitdiff.source.Reading` parsed them once)."""
        rest = self.partial and self.diff is not None and self.view.file is not None
        self.diff, self.partial = diff, partial
        self.error = None
        self.query_one("#diff-title", TextBar).set_line(0, self._title())
        files = self.files_list
        self.view.set_files(diff.files)
        if rest:
            self._update_status()
            return
        self.whole.clear()
        first = files.first_file()
        if first is None:
            self.view.show(None)
            self._set_status("no changes: the session's branch and working tree are "
                             "its base's")
        else:
            files.highlight_file(first)
            self._show(first)
        self.view.focus()

    def _title(self) -> Text:
        target = self.target
        text = Text("Diff · ", style="bold") + fmt.safe(target.name, 63, "bold")
        if target.branch:
            text += Text(" · ") + fmt.safe(target.branch, 80)
        text += Text(" against ") + fmt.safe(target.base_label or target.base[:12], 60)
        if self.diff is not None and self.partial:
            text.append(f" · {len(self.diff.files)} files so far, "
                        + ("the rest could not be read" if self.error else
                           "reading the rest…"))
        elif self.diff is not None:
            text.append(f" · {len(self.diff.files)} files ")
            text.append(f"+{self.diff.added}", style="green")
            text.append(" ")
            text.append(f"-{self.diff.removed}", style="red")
        return text

    # -- showing --------------------------------------------------------------------

    @property
    def status_bar(self) -> TextBar:
        return self.query_one("#diff-status", TextBar)

    @property
    def view(self) -> DiffView:
        return self.query_one("#diff-view", DiffView)

    @property
    def files_list(self) -> FileList:
        return self.view.files

    @property
    def selected(self) -> int | None:
        return self.files_list.selected_file

    def _file(self, index: int) -> FileDiff:
        assert self.diff is not None
        return self.whole.get(index, self.diff.files[index])

    def _show(self, index: int, cursor: int = 0) -> None:
        item = self._file(index)
        self.view.show(item, cursor)
        self._update_status()

    @on(DiffView.FileHighlighted)
    def _highlighted(self, event: DiffView.FileHighlighted) -> None:
        event.stop()
        if self.view.file is not self._file(event.index):
            self._show(event.index)

    @on(DiffView.FileSelected)
    def _selected(self, event: DiffView.FileSelected) -> None:
        event.stop()
        if self.view.file is not self._file(event.index):
            self._show(event.index)
        self.view.focus()

    @on(DiffView.CursorMoved)
    def _cursor_moved(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        index = self.selected
        if index is None or self.diff is None:
            return
        item = self._file(index)
        text = Text()
        text.append(f" {self.files_list.part_title(item.part)} ", style="reverse")
        text.append(" ")
        text += fmt.safe(item.path, 80)
        row = self.view.current
        if row is not None and (row.new or row.old):
            text.append(f":{row.new if row.new is not None else row.old}")
        hunks = item.hunks
        if hunks:
            at = sum(1 for hunk in hunks if hunk.row <= self.view.cursor)
            text.append(f" · hunk {max(at, 1)}/{len(hunks)}")
        if index in self.whole:
            text.append(" · whole file", style="bold")
        if self.busy:
            text.append(f" · {self.busy}", style="yellow")
        self.status_bar.set_line(0, text)

    def _set_status(self, line: str, error: bool = False) -> None:
        self.status_bar.set_line(0, fmt.safe(line, 400, "bold red" if error else ""))

    # -- navigation -----------------------------------------------------------------

    def action_file(self, step: int) -> None:
        files = self.files_list
        index = files.step_file(step)
        if index is not None:
            self._show(index)

    def action_hunk(self, step: int) -> None:
        view = self.view
        rows = view.hunk_rows()
        if step > 0:
            later = [row for row in rows if row > view.cursor]
            if later:
                view.move_to(later[0], top=True)
            else:
                self.action_file(1)
        else:
            earlier = [row for row in rows if row < view.cursor]
            if earlier:
                view.move_to(earlier[-1], top=True)
            else:
                self.action_file(-1)
        self._update_status()

    def action_whole_file(self) -> None:
        index = self.selected
        if index is None:
            return
        if index in self.whole:
            row = self.view.current
            del self.whole[index]
            self._show(index, self._row_for(self._file(index), row))
            return
        self._load_whole(index)

    @work(exclusive=True, group="diff.whole")
    async def _load_whole(self, index: int) -> None:
        from wrapix_core.gitdiff import source

        assert self.diff is not None
        item = self.diff.files[index]
        self.busy = "reading the whole file…"
        self._update_status()
        try:
            whole = await source.whole_file(self.target.repo, item, self.target.base,
                                            self.target.head)
        except WrapixError as exc:
            self.busy = None
            self._set_status(_reason(exc) + (f" — {exc.hint}" if exc.hint else ""), True)
            return
        self.busy = None
        row = self.view.current
        self.whole[index] = whole
        if self.selected == index:
            self._show(index, self._row_for(whole, row))

    @staticmethod
    def _row_for(item: FileDiff, row: Any) -> int:
        """The row of ``item`` with the same line numbers as ``row`` (of another view of
        the same file), else 0."""
        if row is None or (row.new is None and row.old is None):
            return 0
        for index, other in enumerate(item.rows):
            if (row.new is not None and other.new == row.new) or (
                    row.new is None and other.old == row.old):
                return index
        return 0

    def action_reload(self) -> None:
        self.load()

    # -- landing or dropping --------------------------------------------------------

    def action_merge(self) -> None:
        from wrapix_tui.screens.diff_actions import run_merge

        run_merge(self)

    def action_discard(self) -> None:
        from wrapix_tui.screens.diff_actions import run_discard

        run_discard(self)

    def action_comment(self) -> None:
        from wrapix_tui.screens.diff_actions import run_comment

        run_comment(self)

    def action_close(self) -> None:
        self.dismiss(None)
