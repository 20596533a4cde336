"""The Apple `container` plan: argv-level (it needs macOS to run for real)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from tests.sandbox.factories import HOME, WS, facts, spec
from wrapix_core import paths
from wrapix_core.errors import WrapixError
from wrapix_core.profiles import Mount, Profile
from wrapix_core.sandbox.apple import FILES_DIR, AppleRuntime, plan_apple
from wrapix_core.sandbox.model import RuntimeCaps
from wrapix_core.sandbox.podman import PodmanRuntime
from wrapix_core.sandbox.runtime import get_runtime
from wrapix_core.settings import SandboxSettings

APPLE = RuntimeCaps(runtime="apple", version="0.5.0", passwd_entry=False, init=False)


def plan(spec_=None, **changes):  # type: ignore[no-untyped-def]
    spec_ = spec_ or spec()
    settings = SandboxSettings()
    return plan_apple(spec_, facts(spec_, settings, caps=APPLE, **changes), settings)


def values(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == name]


def test_basic_argv() -> None:
    argv = plan().argv
    assert argv[:4] == ["container", "run", "--name", "wrapix-proj-abc123"]
    assert "--rm" in argv and "--interactive" in argv and "--tty" in argv
    assert values(argv, "--workdir") == ["/workspace"]
    assert values(argv, "--cpus") == ["4"]
    assert values(argv, "--memory") == ["4096M"]
    assert values(argv, "--tmpfs") == ["/home/alice"]
    assert argv[-1] == "localhost/img:1"
    assert "--userns=keep-id" not in argv and "--cap-drop" not in argv


def test_workspace_rw_and_git_hooks_readonly_over_virtiofs() -> None:
    argv = plan(files={f"{WS}/.git/config"}).argv
    assert f"{WS}:/workspace" in values(argv, "--volume")
    mounts = values(argv, "--mount")
    assert f"type=virtiofs,source={WS}/.git/hooks,target=/workspace/.git/hooks,readonly" in mounts


def test_single_files_are_staged_into_one_directory() -> None:
    result = plan(files={f"{WS}/.git/config"}, deploy_key=HOME / ".ssh/deploy_keys/proj")
    staged = {a.target.name: a.source for a in result.staging if a.kind == "copy"}
    assert staged["known_hosts"] == Path("/pkg/known_hosts")
    assert staged["system-prompt.md"] == Path("/pkg/prompt.md")
    assert staged["deploy_key"] == HOME / ".ssh/deploy_keys/proj"
    files_dir = Path("/cache/staging/wrapix-proj-abc123/files")
    assert (f"type=virtiofs,source={files_dir},target={FILES_DIR},readonly"
            in values(result.argv, "--mount"))
    assert any(".git/config cannot be mounted read-only" in w for w in result.warnings)


def test_user_created_by_entrypoint_and_tcp_notifications() -> None:
    env = dict(item.partition("=")[::2] for item in values(plan().argv, "-e") if "=" in item)
    assert (env["WRAPIX_UID"], env["WRAPIX_GID"], env["WRAPIX_USER"]) == ("1000", "1000", "alice")
    assert env["WRAPIX_NOTIFY_TCP"] == "1"
    assert env["HOME"] == "/home/alice"


def test_profile_mounts_and_detach() -> None:
    profile = Profile(name="p", mounts=(Mount(source="~/data", dest="/data", mode="rw"),))
    result = plan(spec(profile=profile, detach=True, remove=False))
    assert f"{HOME}/data:/data" in values(result.argv, "--volume")
    assert "--detach" in result.argv and "--rm" not in result.argv


def test_secrets_by_name() -> None:
    result = plan(secrets={"CLAUDE_CODE_OAUTH_TOKEN": "tok"})
    assert "tok" not in " ".join(result.argv)
    assert "CLAUDE_CODE_OAUTH_TOKEN" in values(result.argv, "-e")


def test_runtime_argv_helpers() -> None:
    runtime = AppleRuntime(SandboxSettings())
    assert runtime.shell_argv("s")[:5] == ["container", "exec", "--interactive", "--tty", "s"]
    assert runtime.exec_argv("s", ["true"]) == ["container", "exec", "--interactive", "s", "true"]


def test_removing_a_sandbox_removes_its_staged_files(tmp_path: Path) -> None:
    # Keys are staged (copied) for virtio-fs: they must not outlive the sandbox.
    container = tmp_path / "container"
    container.write_text("#!/bin/sh\nexit 0\n")
    container.chmod(0o755)
    files = paths.cache_dir() / "staging" / "wrapix-proj-abc123" / "files"
    files.mkdir(parents=True)
    (files / "deploy_key").write_text("PRIVATE")
    runtime = AppleRuntime(SandboxSettings(container=str(container)))
    asyncio.run(runtime.remove("wrapix-proj-abc123", force=True))
    assert not files.parent.exists()


def test_foreground_leaves_ctrl_c_to_the_sandbox(tmp_path: Path) -> None:
    # Ctrl-C reaches the whole foreground group: the runtime passes it to the agent;
    # wrapix must not die of it and leave the runtime running on the terminal.
    container = tmp_path / "container"
    container.write_text("#!/bin/sh\nkill -INT $PPID\nsleep 0.2\nexit 7\n")
    container.chmod(0o755)
    runtime = AppleRuntime(SandboxSettings(container=str(container)))
    result = plan()
    argv = [str(container), *result.argv[1:]]
    assert runtime.launch_foreground(replace(result, argv=argv)) == 7
    missing = replace(result, argv=[str(tmp_path / "none"), *result.argv[1:]])
    with pytest.raises(WrapixError, match="not installed"):
        runtime.launch_foreground(missing)


def test_dispatch_by_platform_and_setting() -> None:
    assert isinstance(get_runtime(SandboxSettings(), platform="darwin"), AppleRuntime)
    assert isinstance(get_runtime(SandboxSettings(), platform="linux"), PodmanRuntime)
    assert isinstance(get_runtime(SandboxSettings(runtime="podman"), platform="darwin"),
                      PodmanRuntime)
