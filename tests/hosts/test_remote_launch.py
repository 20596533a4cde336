"""How a launch plan moves to a host (no SSH here: what would be sent is recorded)."""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath

import pytest

from wrapix_core.hosts import remote_launch
from wrapix_core.sandbox.model import Bind, LaunchPlan, StagingAction
from wrapix_core.sessions.model import Session


def test_mounts_move_to_the_hosts_copy_or_are_sent(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = tmp_path / "session"
    objects = tmp_path / "proj" / ".git" / "objects"
    prompt = tmp_path / "prompt.md"
    for path in (workspace / ".git", objects):
        path.mkdir(parents=True)
    prompt.write_text("be careful\n")
    socket_dir = Path("/run/user/1002/wrapix/sockets/sbx")
    binds = [Bind(workspace, "/workspace", "rw"),
             Bind(workspace / ".git" / "config", "/workspace/.git/config", "ro"),
             Bind(objects, str(objects), "ro"),
             Bind(prompt, "/etc/wrapix/prompt.md", "ro"),
             Bind(socket_dir, "/run/wrapix", "ro")]
    argv = ["podman", "run", "--name", "sbx", "-e", "A=-v"]
    for bind in binds:
        argv += ["-v", f"{bind.source}:{bind.dest}:{bind.mode}"]
    argv += ["image:tag", "-v", f"{prompt}:/x:ro"]  # the command's own words stay
    plan = LaunchPlan(name="sbx", argv=argv, env={}, warnings=[], binds=binds,
                      container_env={}, staging=[
                          StagingAction("mkdir", workspace / ".git" / "hooks", anchor=workspace),
                          StagingAction("socketdir", socket_dir)])
    session = Session(name="s", project=tmp_path / "proj", path=workspace, base_ref="main",
                      base_commit="0" * 40, objects=objects)
    sent: list[tuple[PurePosixPath, list[tuple[Path, str]], list[str]]] = []

    async def record(_remote: object, files_dir: PurePosixPath,
                     items: list[tuple[Path, str]], mkdirs: list[str]) -> None:
        sent.append((files_dir, items, mkdirs))

    monkeypatch.setattr(remote_launch, "_send", record)
    there = PurePosixPath("/home/r/.local/share/wrapix/sessions/p/s")
    moved = asyncio.run(remote_launch._move(plan, workspace, there, object(),  # type: ignore[arg-type]
                                            PurePosixPath("/home/r"), session, tail=3))
    files = PurePosixPath("/home/r/.local/share/wrapix/sandbox-files/sbx")
    assert sent == [(files, [(prompt, "1-prompt.md")],
                     [f"{there}/.git/hooks", str(socket_dir)])]
    volumes = [moved.argv[i + 1] for i, part in enumerate(moved.argv[:-3]) if part == "-v"]
    assert volumes == [f"{there}:/workspace:rw",
                       f"{there}/.git/config:/workspace/.git/config:ro",
                       f"{files}/1-prompt.md:/etc/wrapix/prompt.md:ro",
                       f"{socket_dir}:/run/wrapix:ro"]
    assert moved.argv[:6] == ["podman", "run", "--name", "sbx", "-e", "A=-v"]
    assert moved.argv[-3:] == ["image:tag", "-v", f"{prompt}:/x:ro"]
    assert moved.staging == [] and len(moved.binds) == 4
    assert str(objects) not in " ".join(moved.argv[:-3])
