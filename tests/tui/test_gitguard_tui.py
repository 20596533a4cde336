"""Pilot tests: git redirection a sandbox planted is said loudly in the TUI (issue 13):
a banner naming the file and a notification in the inbox, when the sandbox's container
dies and live while it runs (the workspace watcher's .git stream); the banner goes when
`wrapix audit --fix` has moved the files aside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.gitplant import make_repo
from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from wrapix_core.notify.inbox import InboxStore
from wrapix_core.sandbox import gitguard
from wrapix_tui.app import WrapixApp

MakeApp = Callable[..., WrapixApp]


def banner(app: WrapixApp) -> dict[str, str]:
    return app.dashboard.banner.problems


def git_notes() -> list[str]:
    return [f"{entry.title}: {entry.message}" for entry in InboxStore().load()
            if entry.kind == "security"]


async def test_a_sandbox_that_dies_having_planted_a_nested_repo_is_reported(
        make_app: MakeApp, fake: FakeRuntime, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")  # not the TUI's workspace: found by its label
    nested = make_repo(other / "sub")
    (nested / ".git" / "config").write_text("[core]\n\tfsmonitor = evil\n")
    fake.items["wrapix-x"] = sandbox("wrapix-x", workspace=str(other))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.daemon is not None, what="the daemon")
        fake.items["wrapix-x"] = sandbox("wrapix-x", workspace=str(other), state="exited")
        fake.emit("died", "wrapix-x", exit_code=0)
        await wait_until(pilot, lambda: "git other" in banner(app), what="the banner")
        text = banner(app)["git other"]
        assert "sub/.git/config (repository config)" in text
        assert f"wrapix audit --fix {other}" in text
        await wait_until(pilot, lambda: git_notes(), what="the notification")
        [note] = git_notes()
        assert "git redirected in other" in note and "sub/.git/config" in note
        # The same finding again (another stop): no second notification.
        fake.emit("died", "wrapix-x", exit_code=0)
        await pilot.pause(0.5)
        assert len(git_notes()) == 1


async def test_a_commondir_planted_while_running_is_reported_live_and_cleared(
        make_app: MakeApp, workspace: Path) -> None:
    make_repo(workspace)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        board = app.dashboard.ralph.board_view
        await wait_until(pilot, lambda: board.watcher is not None
                         and board.watcher.ready.is_set(), what="the watcher")
        (workspace / ".git" / "commondir").write_text("c\n")
        await wait_until(pilot, lambda: "git proj" in banner(app), what="the banner")
        assert ".git/commondir (commondir)" in banner(app)["git proj"]
        await wait_until(pilot, lambda: git_notes(), what="the notification")
        gitguard.neutralise(str(workspace), gitguard.quick(str(workspace)))
        await wait_until(pilot, lambda: "git proj" not in banner(app), what="cleared")
