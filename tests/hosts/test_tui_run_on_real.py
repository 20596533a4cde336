"""wrapix-tui's new-sandbox modal starts a session on a configured host (real Podman and
real SSH, mandatory in CI): the row comes as ``HOST/NAME`` from that host's own worker,
and the session is recorded with its host."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Select

from tests.sessions.support import make_project
from tests.support.remote_host import RemoteHost
from tests.tui.conftest import wait_until

pytestmark = [pytest.mark.podman, pytest.mark.slow]

PROFILE = """
[sandbox]
profile = "tiny"

[profiles.tiny]
base = "none"
image = "{image}"
"""


@pytest.fixture
def project(tmp_path: Path, remote: RemoteHost, podman: str,
            wrapix_image: str) -> Iterator[Path]:
    """A committed project whose profile runs the test image; what the test makes on the
    host is removed after it."""
    from wrapix_core.sessions import store

    made = make_project(tmp_path / "proj")
    (made / "wrapix.toml").write_text(PROFILE.format(image=wrapix_image))
    for argv in (["add", "wrapix.toml"], ["-c", "user.name=t", "-c", "user.email=t@x",
                                          "commit", "-qm", "profile"]):
        subprocess.run(["git", "-C", str(made), *argv], check=True, capture_output=True)
    (Path(os.environ["WRAPIX_CONFIG_DIR"]) / "config.toml").write_text(
        remote.toml("remote", timeout=20))
    yield made
    for session in store.list_sessions(made):
        remote.podman(podman, "rm", "-f", "-t", "0", session.container, check=False)
        if session.remote_path:
            subprocess.run(["ssh", "-p", str(remote.port), "-i", remote.identity, "-o",
                            "BatchMode=yes", f"{remote.user}@127.0.0.1",
                            f"rm -rf {session.remote_path}"],
                           capture_output=True, timeout=60, check=False)


async def test_the_modal_starts_a_session_on_the_host(
        podman: str, remote: RemoteHost, project: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.tui.test_screens import open_new
    from wrapix_core.sessions import store
    from wrapix_tui.app import WrapixApp
    from wrapix_tui.screens.diff import DiffScreen

    monkeypatch.setenv("WRAPIX_NOTIFY__BACKEND", "none")
    app = WrapixApp(project)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.core is not None, timeout=30)
        screen = await open_new(pilot, app)
        host = screen.query_one("#host", Select)
        assert host.display
        host.value = "remote"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not screen, timeout=150,
                         what="the launch")
        # The test image has no agent, so the sandbox ends at once: show ended ones too.
        pane = app.dashboard.sandboxes
        if not pane.show_all:
            await pilot.press("A")
        table = pane.table

        def shown() -> bool:  # other tests' sandboxes may be on the host too
            made = store.list_sessions(project)
            return bool(made) and f"remote/{made[0].container}" in table.names()

        await wait_until(pilot, shown, timeout=200,
                         what="the row of the session's sandbox on the host")
        sessions = store.list_sessions(project)
        assert [session.host for session in sessions] == ["remote"]
        name = sessions[0].container
        assert str(table.cell(f"remote/{name}", "host")) == "remote"
        # Work done there (committed and not) is fetched when its diff is opened.
        path = sessions[0].remote_path
        await asyncio.to_thread(
            subprocess.run, ["ssh", "-p", str(remote.port), "-i", remote.identity, "-o",
                             "BatchMode=yes", f"{remote.user}@127.0.0.1",
                             f"cd {path} && echo far > far.txt && git add far.txt && "
                             "git -c user.name=a -c user.email=a@x commit -qm far && "
                             "echo more >> f0.txt"], check=True, capture_output=True, timeout=60)
        table.move_to(f"remote/{name}")
        table.focus()
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen)
                         and app.screen.diff is not None
                         and not app.screen.partial, timeout=60, what="the diff")
        diff = app.screen.diff
        assert diff is not None
        assert [(item.part, item.path) for item in diff.files] == [
            ("committed", "far.txt"), ("uncommitted", "f0.txt")]
    inspected = await asyncio.to_thread(remote.podman, podman, "container", "inspect",
                                        "--format", "{{index .Config.Labels \"wrapix.session\"}}",
                                        name)
    assert inspected.stdout.strip() == sessions[0].name  # there, by that host's Podman
