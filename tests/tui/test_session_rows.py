"""Session sandboxes in the TUI: their rows show the session's branch and figures, kept
live from the sessions watch (a commit in the session updates the row), and ``D`` opens
the session's diff. Real git and a real session; the runtime is the fake one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text

from tests.sessions.conftest import git_identity  # noqa: F401  (autouse: a fixed identity)
from tests.sessions.support import commit, make_project, new_session
from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from wrapix_core.sandbox import naming
from wrapix_tui.app import WrapixApp
from wrapix_tui.screens.diff import DiffScreen


def plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


async def test_session_row_is_live_and_opens_its_diff(
        tmp_path: Path, fake: FakeRuntime, make_app: Callable[..., WrapixApp]) -> None:
    project = make_project(tmp_path / "project")
    session = new_session(project, "s1")
    commit(session.path, "first change", **{"f0.txt": "changed\n"})
    info = sandbox(session.container, workspace=str(session.path))
    info.labels.update({naming.LABEL_SESSION: "s1", naming.LABEL_PROJECT: str(project)})
    plain_sandbox = sandbox("wrapix-other-1", workspace=str(tmp_path / "other"))
    fake.items.update({info.name: info, plain_sandbox.name: plain_sandbox})
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.dashboard.sandboxes.table

        def work() -> str:
            return plain(table.cell(info.name, "work")) if table.shows(info.name) else ""

        await wait_until(pilot, lambda: work().startswith("↑1"), what="the session figures")
        assert plain(table.cell(info.name, "branch")) == "wrapix/s1"
        assert work() == "↑1 1f +1 −10 ✓"
        assert plain(table.cell(plain_sandbox.name, "branch")) == ""
        assert plain(table.cell(plain_sandbox.name, "work")) == ""
        # live: a commit and uncommitted work in the session show without a key or a poll
        commit(session.path, "second", **{"f1.txt": "also changed\n"})
        (session.path / "f2.txt").write_text("dirty\n")
        await wait_until(pilot, lambda: work().startswith("↑2"), what="the new commit")
        await wait_until(pilot, lambda: "✎1" in work(), what="the uncommitted file")
        assert work() == "↑2 2f +2 −20 ✎1 ✓"
        # D opens its diff: committed and uncommitted work apart
        app.dashboard.sandboxes.table.move_to(info.name)
        app.dashboard.sandboxes.table.focus()
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen)
                         and app.screen.diff is not None
                         and not app.screen.partial, what="the diff screen")
        diff = app.screen.diff
        assert [(item.part, item.path) for item in diff.files] == [
            ("committed", "f0.txt"), ("committed", "f1.txt"), ("uncommitted", "f2.txt")]
        await pilot.press("escape")
        # a sandbox that is not a session: said, no screen
        app.dashboard.sandboxes.table.move_to(plain_sandbox.name)
        await pilot.press("D")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, DiffScreen)
