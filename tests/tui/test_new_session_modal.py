"""The new-sandbox modal on a git repository: "new session on a branch" is ticked whenever
a sandbox already runs for that project (even with ``session.direct`` set), follows the
setting otherwise, cannot be ticked off git; a launch with it ticked creates a session
and runs the sandbox on it (real git; the runtime is the fake one)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Checkbox, Input

from tests.sessions.conftest import git_identity  # noqa: F401  (autouse: a fixed identity)
from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from tests.tui.test_screens import open_new, ready
from wrapix_core.sessions import store
from wrapix_tui.app import WrapixApp
from wrapix_tui.screens.new_sandbox import NewSandboxScreen

TINY = """
[sandbox]
profile = "tiny"
{session}
[profiles.tiny]
base = "none"
image = "localhost/wrapix-base:latest"
"""


def make_git(path: Path) -> None:
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(path), *argv], check=True, capture_output=True)


async def test_session_is_the_default_when_a_sandbox_runs_and_the_launch_uses_one(
        make_app: Callable[..., WrapixApp], fake: FakeRuntime, workspace: Path) -> None:
    (workspace / "wrapix.toml").write_text(TINY.format(session="[session]\ndirect = true\n"))
    make_git(workspace)
    fake.items["wrapix-proj-1"] = sandbox("wrapix-proj-1", workspace=str(workspace))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        screen = await open_new(pilot, app)
        box = screen.query_one("#session", Checkbox)
        assert box.value and not box.disabled
        assert "already runs" in str(screen.query_one("#session-hint").render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, NewSandboxScreen),
                         what="the launch", timeout=30)
        (session,) = store.list_sessions(workspace)
        argv = next(c[1] for c in fake.calls if c[0] == "launch_argv")
        assert f"wrapix.session={session.name}" in argv
        assert f"wrapix.project={workspace}" in argv
        assert f"wrapix.workspace={session.path}" in argv


async def test_session_follows_the_setting_and_needs_git(
        make_app: Callable[..., WrapixApp], fake: FakeRuntime, workspace: Path,
        tmp_path: Path) -> None:
    (workspace / "wrapix.toml").write_text(TINY.format(session="[session]\ndirect = true\n"))
    make_git(workspace)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        screen = await open_new(pilot, app)
        box = screen.query_one("#session", Checkbox)
        assert not box.value and not box.disabled  # direct by setting, nothing runs
        plain = tmp_path / "plain"
        plain.mkdir()
        screen.query_one("#workspace", Input).value = str(plain)
        await wait_until(pilot, lambda: box.disabled, what="a non-git workspace")
        assert not box.value
        assert "not a git repository" in str(screen.query_one("#session-hint").render())
