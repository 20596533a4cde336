"""`wrapix doctor`'s verdicts and fixes, with Podman's answers stood in for."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from wrapix_core import doctor, proc
from wrapix_core.settings import Settings


class FakePodman:
    """Answers ``podman ARGS`` from a table; records what was asked."""

    def __init__(self, driver: str = "vfs", runtime: str = "runc", images: int = 0,
                 containers: int = 0, run_ok: bool = True, image_present: bool = False):
        self.driver, self.runtime = driver, runtime
        self.images, self.containers = images, containers
        self.run_ok, self.image_present = run_ok, image_present
        self.asked: list[tuple[str, ...]] = []

    async def __call__(self, *args: str, timeout: float | None = None,
                       check: bool = False) -> proc.Completed:
        self.asked.append(args)
        out, code = "", 0
        if args[:1] == ("info",):
            out = json.dumps({
                "version": {"Version": "4.3.1"},
                "host": {"security": {"rootless": True}, "ociRuntime": {"name": self.runtime},
                         "cgroupVersion": "v2", "cgroupControllers": ["cpu", "memory", "pids"]},
                "store": {"graphDriverName": self.driver, "graphRoot": "/"}})
        elif args[:1] == ("images",) and "--quiet" in args:
            out = "\n".join(f"id{i}" for i in range(self.images))
        elif args[:1] == ("images",):
            out = "localhost/x:1\n" if self.image_present else ""
        elif args[:1] == ("ps",):
            out = "\n".join(f"c{i}" for i in range(self.containers))
        elif args[:2] == ("image", "exists"):
            code = 0 if self.image_present else 1
        elif args[:1] == ("run",):
            code = 0 if self.run_ok else 126
        elif args[:1] == ("system",):
            self.driver = "overlay"
        elif args[:1] == ("manifest",):
            code = 125
        return proc.Completed(["podman", *args], code, out,
                              "" if code == 0 else "Error: crun: cannot start")


def make(fake: FakePodman, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> doctor.Doctor:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    found = doctor.Doctor(Settings())
    monkeypatch.setattr(found, "_run", fake)
    return found


def run(check: Any) -> doctor.Check:
    result: doctor.Check = asyncio.run(check())
    return result


def test_vfs_on_an_empty_podman_is_fixable(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    checker = make(FakePodman(driver="vfs"), monkeypatch, tmp_path)
    check = run(checker.check_storage)
    assert check.status == "warn" and check.fixable
    assert "vfs driver" in check.detail and "storage.conf" in (check.fix or "")


def test_vfs_with_images_is_never_reset_for_the_user(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    fake = FakePodman(driver="vfs", images=3, containers=1)
    checker = make(fake, monkeypatch, tmp_path)
    check = run(checker.check_storage)
    assert check.status == "warn" and not check.fixable
    assert "podman system reset" in (check.fix or "") and "DELETES your 3 image(s)" in (
        check.fix or "")
    said: list[str] = []
    asyncio.run(checker.fix(doctor.Report([doctor.Check("storage driver", "warn", "x", "y",
                                                        fixable=True)]), said.append))
    assert not any(args[:1] == ("system",) for args in fake.asked)
    assert not (tmp_path / "config" / "containers" / "storage.conf").exists()
    assert "left alone" in said[0]


def test_the_fix_writes_overlay_and_resets_an_empty_storage(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakePodman(driver="vfs")
    checker = make(fake, monkeypatch, tmp_path)
    said: list[str] = []
    report = doctor.Report([run(checker.check_storage)])
    asyncio.run(checker.fix(report, said.append))
    conf = tmp_path / "config" / "containers" / "storage.conf"
    assert conf.read_text() == '[storage]\ndriver = "overlay"\n'
    assert ("system", "reset", "--force") in fake.asked
    assert any("now uses overlay" in line for line in said)


def test_an_existing_storage_conf_is_left_to_the_user(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    conf = tmp_path / "config" / "containers" / "storage.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('[storage]\ndriver = "vfs"\n')
    checker = make(FakePodman(driver="vfs"), monkeypatch, tmp_path)
    check = run(checker.check_storage)
    assert check.status == "warn" and not check.fixable and "it exists" in (check.fix or "")


def test_overlay_is_ok(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert run(make(FakePodman(driver="overlay"), monkeypatch, tmp_path).check_storage
               ).status == "ok"


def test_a_runtime_that_cannot_start_containers_fails_with_the_runc_fix(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(doctor.shutil, "which", lambda name: f"/usr/bin/{name}")
    fake = FakePodman(runtime="crun", run_ok=False, image_present=True)
    checker = make(fake, monkeypatch, tmp_path)
    check = run(checker.check_runtime)
    assert check.status == "fail" and check.fixable
    assert "crun could not start a container" in check.detail
    assert 'runtime = \\"runc\\"' in json.dumps(check.fix)
    said: list[str] = []
    asyncio.run(checker.fix(doctor.Report([check]), said.append))
    conf = tmp_path / "config" / "containers" / "containers.conf"
    assert conf.read_text() == '[engine]\nruntime = "runc"\n'


def test_crun_on_hybrid_cgroups_is_flagged_before_any_image(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(doctor, "cgroup_hybrid", lambda: True)
    monkeypatch.setattr(doctor.shutil, "which", lambda name: f"/usr/bin/{name}")
    check = run(make(FakePodman(runtime="crun"), monkeypatch, tmp_path).check_runtime)
    assert check.status == "warn" and check.fixable and "hybrid cgroups" in check.detail


def test_a_hung_check_fails_with_its_name(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    checker = make(FakePodman(), monkeypatch, tmp_path)
    checker.timeout = 0.05

    async def hang() -> doctor.Check:
        await asyncio.sleep(60)
        raise AssertionError

    monkeypatch.setattr(checker, "checks", lambda: [("tmux", hang)])
    report = asyncio.run(checker.run())
    assert report.checks[0].name == "tmux" and report.checks[0].status == "fail"
    assert "did not answer" in report.checks[0].detail and not report.ok


def test_every_check_is_in_the_report_and_rendered(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    report = asyncio.run(make(FakePodman(driver="overlay"), monkeypatch, tmp_path).run())
    names = [check.name for check in report.checks]
    assert names == ["podman", "OCI runtime", "storage driver", "subuid/subgid",
                     "/dev/net/tun", "XDG_RUNTIME_DIR", "cgroup limits", "notifications",
                     "tmux", "base image", "disk space"]
    text = doctor.render(report)
    assert len([line for line in text if line[:4] in ("ok  ", "WARN", "FAIL")]) == 11
    assert json.loads(json.dumps(report.to_json()))["checks"][0]["name"] == "podman"


def test_details_are_escaped_when_rendered() -> None:
    report = doctor.Report([doctor.Check("podman", "fail", "bad \x1b[31mred", "fix \x07")])
    assert all("\x1b" not in line and "\x07" not in line for line in doctor.render(report))


@pytest.mark.parametrize(("release", "native"), [("6.1.0-18-amd64", True), ("5.13.0", True),
                                                 ("5.10.0-28-amd64", False), ("4.19", False)])
def test_native_rootless_overlay_by_kernel(release: str, native: bool) -> None:
    assert doctor.kernel_has_rootless_overlay(release) is native


def test_a_failed_start_points_to_the_doctor() -> None:
    from wrapix_core.sandbox.podman import start_hint

    hint = start_hint("Error: OCI runtime error: crun: cannot set memory limit")
    assert 'runtime = "runc"' in hint and "wrapix doctor --fix" in hint
    assert start_hint("Error: name is in use") == (
        "`wrapix doctor` checks every prerequisite of a sandbox")


@pytest.mark.parametrize(("makeable", "status", "words"), [
    (True, "ok", "the first build makes a Debian base"),
    (False, "warn", "wrapix cannot make it here"),
])
def test_an_unpullable_base_is_made_or_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, makeable: bool, status: str,
        words: str) -> None:
    monkeypatch.setattr(doctor.base_recipes, "cannot_make",
                        lambda base: None if makeable else "mmdebstrap is not installed; "
                        "install it (Debian/Ubuntu: `sudo apt-get install mmdebstrap`)")
    monkeypatch.setenv("WRAPIX_IMAGE__BACKEND", "containerfile")
    checker = make(FakePodman(), monkeypatch, tmp_path)
    checker.settings = Settings()
    check = run(checker.check_base)
    assert check.status == status and words in check.detail
    if not makeable:
        assert "apt-get install mmdebstrap" in (check.fix or "")
