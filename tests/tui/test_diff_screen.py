"""The diff screen: navigation by file and hunk, whole-file context, a 10,000-line diff
drawn only where visible, untrusted names and lines shown inert, merge/discard/request
changes through the target's calls, and ``D`` on a real session's row."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from tests.tui.conftest import wait_until
from wrapix_core.errors import WrapixError
from wrapix_tui.screens.diff import DiffScreen, DiffTarget
from wrapix_tui.screens.diff_actions import CommentScreen, MergeStrategyScreen, OutcomeScreen
from wrapix_tui.widgets.diff_view import AHEAD, CACHE_PAGES, DiffView
from wrapix_tui.widgets.textbar import TextBar

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@e", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00",
       "GIT_COMMITTER_DATE": "2026-01-01T00:00:00"}
HOSTILE = "[bold red]x[reverse] \x1b[2J\x1b]0;pwned\x07.py"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], env=ENV, check=True, capture_output=True)


def make_repo(root: Path, files: dict[str, tuple[str, str]]) -> Path:
    """``main`` with each file's first text, branch ``work`` with its second."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for name, (before, _after) in files.items():
        if before:
            (repo / name).write_text(before)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base", "--allow-empty")
    git(repo, "checkout", "-qb", "work")
    for name, (_before, after) in files.items():
        (repo / name).write_text(after)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "work")
    return repo


def numbered(count: int, changed: Callable[[int], bool] = lambda n: False) -> str:
    return "".join(f"value_{n} = {n * 2 + 1 if changed(n) else n}\n" for n in range(count))


class Host(App[None]):
    def __init__(self, target: DiffTarget) -> None:
        super().__init__()
        self.target = target
        self.result: Any = "not dismissed"

    def on_mount(self) -> None:
        self.push_screen(DiffScreen(self.target), self._done)

    def _done(self, result: str | None) -> None:
        self.result = result


async def opened(pilot: Pilot[Any]) -> DiffScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen)
                     and app.screen.diff is not None and not app.screen.partial,
                     what="the diff to load")
    screen = app.screen
    assert isinstance(screen, DiffScreen)
    await wait_until(pilot, lambda: screen.view.shown_at > 0, what="the first frame")
    return screen


def strip_text(view: DiffView, y: int) -> tuple[str, list[str]]:
    strip = view.render_line(y)
    return strip.text, [segment.text for segment in strip]


@pytest.fixture
def three(tmp_path: Path) -> Path:
    return make_repo(tmp_path, {
        "a.py": (numbered(60), numbered(60, lambda n: n in (5, 40))),
        "b.txt": ("", "new file\n"),
        "c.py": (numbered(10), numbered(10, lambda n: n == 9)),
    })


async def test_navigation_by_file_and_hunk_and_whole_file(three: Path) -> None:
    app = Host(DiffTarget("s1", three, "main", branch="wrapix/s1", base_label="main"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        view = screen.view
        assert view.file is not None and view.file.path == "a.py"
        assert [(item.path, item.added, item.removed) for item in screen.diff.files] == [
            ("a.py", 2, 2), ("b.txt", 1, 0), ("c.py", 1, 1)]
        assert view.current is not None and view.current.kind == "hunk"  # the first hunk
        await pilot.press("n")
        second = view.cursor
        assert second > 0 and view.current.kind == "hunk"
        await pilot.press("p")
        assert view.cursor == 0
        await pilot.press("n", "n")  # past the last hunk: the next file
        assert view.file.path == "b.txt"
        await pilot.press("right_square_bracket")
        assert view.file.path == "c.py"
        await pilot.press("right_square_bracket")  # at the end: stays
        assert view.file.path == "c.py"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert view.file.path == "a.py"
        hunked = len(view.rows)
        await pilot.press("down", "down", "down")
        line = view.current.new
        await pilot.press("f")
        await wait_until(pilot, lambda: 0 in screen.whole, what="the whole file")
        assert len(view.rows) > hunked and len(view.file.hunks) == 1
        assert view.current.new == line  # the cursor stays on the same line
        assert sum(1 for row in view.rows if row.kind == "context") == 58
        await pilot.press("f")
        assert len(view.rows) == hunked
        await pilot.press("escape")
        assert app.result is None


async def test_file_list_by_key_steps_over_headings(three: Path) -> None:
    (three / "c.py").write_text("changed, not committed\n")  # a second part: uncommitted
    app = Host(DiffTarget("s1", three, "main"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        files, view = screen.files_list, screen.view
        assert [files.row_text(row)[:2] for row in range(len(files.rows))] == [
            "──", "M ", "A ", "M ", "──", "M "]
        await pilot.press("tab")  # keys to the file list (drawn in the view's left columns)
        assert view.list_active and view.file is not None and view.file.path == "a.py"
        await pilot.press("up")  # a heading above: stays on the first file
        assert files.selected_file == 0 and view.file.path == "a.py"
        await pilot.press("down", "down", "down")  # over the "uncommitted" heading
        await wait_until(pilot, lambda: view.file is not None and view.file.part
                         == "uncommitted", what="the uncommitted file")
        assert files.cursor == 5 and view.file.path == "c.py"
        await pilot.press("down")  # the end: stays
        assert files.cursor == 5
        await pilot.press("home")
        await wait_until(pilot, lambda: view.file is not None and view.file.path == "a.py",
                         what="the first file again")
        await pilot.press("enter")  # the file chosen: keys back to the diff
        assert view.has_focus and not view.list_active
        await pilot.press("down")
        assert view.cursor == 1 and files.selected_file == 0
        # the list is drawn in the view's left columns: a click on a file shows it, a
        # click on a heading does nothing, a click on the diff moves its cursor
        await pilot.click("#diff-view", offset=(3, 3))
        await wait_until(pilot, lambda: view.file is not None and view.file.path == "c.py",
                         what="the clicked file")
        assert files.selected_file == 2 and not view.list_active
        await pilot.click("#diff-view", offset=(3, 4))  # "── uncommitted ──"
        assert view.file.path == "c.py" and files.selected_file == 2
        await pilot.click("#diff-view", offset=(view.list_width + 10, 1))
        assert view.cursor == 1
        keys = screen.status_bar.plain(1)
        assert " ] Next file " in keys and " c Request changes " in keys


async def test_large_diff_draws_only_what_is_visible(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"big.py": (numbered(7000),
                                           numbered(7000, lambda n: n % 2 == 0))})
    app = Host(DiffTarget("big", repo, "main"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        view = screen.view
        assert view.file is not None and view.file.added == view.file.removed == 3500
        assert len(view.rows) > 10_000
        await wait_until(pilot, lambda: not view._highlighting, what="highlighting")
        height = view.size.height
        # styled: what is on screen and the next pages (coloured ahead), nothing else
        assert height < len(view._cache) <= (AHEAD + 1) * height
        assert max(view._cache) < (AHEAD + 1) * height
        await pilot.press("pagedown", "pagedown", "end")
        await wait_until(pilot, lambda: not view._highlighting, what="highlighting")
        assert view.cursor == len(view.rows) - 1
        assert len(view._cache) <= CACHE_PAGES * height
        text, _ = strip_text(view, height - 1)
        assert "value_6999" in text


async def test_untrusted_names_and_lines_are_inert(tmp_path: Path) -> None:
    content = "[link=http://x]click[/link] \x1b[31mred\x1b[0m\r\n"
    repo = make_repo(tmp_path, {HOSTILE: ("", content)})
    app = Host(DiffTarget("[b]s[/b]", repo, "main"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await wait_until(pilot, lambda: not screen.view._highlighting, what="highlighting")
        assert screen.view.file is not None and screen.view.file.path == HOSTILE
        drawn = [strip_text(screen.view, y) for y in range(4)]
        segments = [piece for _, pieces in drawn for piece in pieces]
        assert not any("\x1b" in piece or "\r" in piece or "\x07" in piece
                       for piece in segments)
        assert any("[link=http://x]click[/link] \\e[31mred\\e[0m\\r" in text
                   for text, _ in drawn)
        shown = screen.files_list.row_text(1)
        assert "[bold red]x[reverse] \\e[2J\\e]0;pwned\\x07.py" in shown
        assert "[b]s[/b]" in screen.query_one("#diff-title", TextBar).plain()


async def test_merge_asks_which_way_and_shows_a_refusal(three: Path) -> None:
    calls: list[str] = []

    async def merge(strategy: str) -> str:
        calls.append(strategy)
        if strategy == "ff-only":
            raise WrapixError("your checkout has changes in files the merge touches: "
                              "a.py, c.py; nothing was merged",
                              "commit or stash them, then merge again")
        return f"Merged s1 ({strategy})"

    app = Host(DiffTarget("s1", three, "main", merge=merge))
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MergeStrategyScreen))
        await pilot.press("down", "down", "down", "enter")  # ff-only
        await wait_until(pilot, lambda: isinstance(app.screen, OutcomeScreen),
                         what="the refusal")
        shown = " ".join(str(widget.render()) for widget in app.screen.query("Static"))
        assert "a.py, c.py" in shown and "commit or stash them" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MergeStrategyScreen))
        await pilot.press("down", "enter")  # squash
        await wait_until(pilot, lambda: app.result != "not dismissed", what="the merge")
        assert calls == ["ff-only", "squash"] and app.result == "Merged s1 (squash)"


async def test_comment_on_a_line_and_discard(three: Path) -> None:
    sent: list[tuple[str, str | None, int | None]] = []
    discarded: list[bool] = []

    async def instruct(text: str, path: str | None, line: int | None) -> str:
        sent.append((text, path, line))
        return "sent"

    async def lost() -> list[str]:
        return ["1 commit(s) not merged into main"]

    async def discard() -> str:
        discarded.append(True)
        return "Discarded session s1"

    app = Host(DiffTarget("s1", three, "main", instruct=instruct, discard=discard, lost=lost))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("down", "down", "down")
        line = screen.view.current.new
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CommentScreen))
        await pilot.press(*"use a constant", "enter")
        await wait_until(pilot, lambda: bool(sent), what="the comment")
        assert sent == [("use a constant", "a.py", line)]
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CommentScreen))
        await pilot.click("#comment-about")
        app.screen.query_one("#comment-text").focus()
        await pilot.press(*"in general", "enter")
        await wait_until(pilot, lambda: len(sent) == 2, what="the second comment")
        assert sent[1] == ("in general", None, None)
        await pilot.press("X")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        shown = " ".join(str(widget.render()) for widget in app.screen.query("Static"))
        assert "THROWS AWAY 1 commit(s) not merged into main" in shown
        await pilot.press("y")
        await wait_until(pilot, lambda: app.result != "not dismissed", what="the discard")
        assert discarded == [True] and app.result == "Discarded session s1"


def test_snapshot(three: Path, snap_compare: Any) -> None:
    app = Host(DiffTarget("s1", three, "main", branch="wrapix/s1", base_label="main"))

    async def ready(pilot: Pilot[Any]) -> None:
        screen = await opened(pilot)
        await pilot.press("down", "down", "down")
        await wait_until(pilot, lambda: not screen.view._highlighting, what="highlighting")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(120, 40), run_before=ready)


async def test_a_diff_that_cannot_be_read_says_why(three: Path) -> None:
    """A base git does not know, and a target whose check refuses: the status line
    names the problem (and what to do), the screen stays usable, nothing is shown."""
    app = Host(DiffTarget("s1", three, "no-such-base"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen)
                         and app.screen.error is not None, what="the git error")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        status = screen.status_bar.plain(0)
        assert status.startswith("cannot read the diff") and "no-such-base" in status
        assert screen.view.file is None and not screen.partial
        await pilot.press("escape")
        assert app.result is None

    def refuse() -> tuple[str, str]:
        raise WrapixError("session s1: .git/config sets core.fsmonitor",
                          "remove it, then open the diff again")

    app = Host(DiffTarget("s1", three, "main", resolve=refuse))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen)
                         and app.screen.error is not None, what="the refusal")
        status = app.screen.status_bar.plain(0)
        assert "core.fsmonitor" in status and "remove it, then open the diff again" in status
