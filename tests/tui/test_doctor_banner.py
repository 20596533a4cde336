"""The start-up check (`wrapix doctor`) after the first frame: banner lines and a screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime
from wrapix_core import doctor
from wrapix_tui.app import WrapixApp

REPORT = doctor.Report([
    doctor.Check("podman", "ok", "Podman 4.3.1, rootless"),
    doctor.Check("storage driver", "warn", "Podman stores images with the vfs driver",
                 "write [storage] driver = \"overlay\"", fixable=True),
    doctor.Check("tmux", "warn", "not installed", "install tmux"),
    doctor.Check("notifications", "warn", "notify-send not found", "install libnotify-bin"),
    doctor.Check("subuid/subgid", "fail", "nobody has no range of 65536 ids in /etc/subuid",
                 "as root: `usermod --add-subuids …`"),
])


async def test_problems_become_banner_lines_after_the_first_frame(
        workspace: Path, fake: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def run(self: doctor.Doctor) -> doctor.Report:
        calls.append("run")
        return REPORT

    monkeypatch.setattr(doctor.Doctor, "run", run)
    app = WrapixApp(workspace, runtime_factory=lambda _settings: fake, doctor=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: "subuid/subgid" in app.dashboard.banner.problems,
                         what="the doctor's banner")
        problems = app.dashboard.banner.problems
        assert calls == ["run"]
        assert "podman" not in problems  # ok checks stay quiet
        assert problems["storage driver"].startswith("WARN Podman stores images with")
        assert "fix: write [storage]" in problems["storage driver"]
        assert problems["subuid/subgid"].startswith("FAIL nobody has no range")
        assert problems["doctor"].startswith("2 warning(s): tmux, notifications")
        assert "tmux" not in problems and "notifications" not in problems
        await pilot.pause()
        header, banner = app.dashboard.header.region, app.dashboard.banner.region
        assert banner.y >= header.bottom and banner.height >= 3  # under the header
        app.action_doctor()
        await pilot.pause()
        shown = str(app.screen.query_one("#doctor-report").render())
        assert "FAIL  subuid/subgid" in shown and "wrapix doctor --fix" in shown


async def test_no_check_with_a_fake_runtime(make_app: Callable[..., WrapixApp],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async def run(self: doctor.Doctor) -> doctor.Report:
        raise AssertionError("the doctor must not run against a fake runtime")

    monkeypatch.setattr(doctor.Doctor, "run", run)
    app = make_app()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.core is not None, what="the core")
        await pilot.pause(0.1)
        assert app.doctor is False and app.doctor_report is None

