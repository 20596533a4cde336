"""Real images built by wrapix from a Debian base, run in real sandboxes (mandatory in CI)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support import images
from tests.support.cli import script
from wrapix_core.errors import WrapixError
from wrapix_core.image.builder import BaseImageMissing, ImageBuilder, ImageBuildError
from wrapix_core.profiles import Package, Profile, derive_profile
from wrapix_core.settings import ImageSettings, SandboxSettings

pytestmark = [pytest.mark.podman]


def workspace(root: Path, toml: str = "") -> Path:
    ws = root / "proj"
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n")
    if toml:
        (ws / "wrapix.toml").write_text(toml)
    return ws


def wrapix(*args: str, cwd: Path, env: dict[str, str] | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([script("wrapix"), *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=900, check=False)
    if check and done.returncode != 0:
        pytest.fail(f"wrapix {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done


def layers(podman: str, image: str) -> list[str]:
    done = subprocess.run([podman, "image", "inspect", "--format", "{{json .RootFS.Layers}}",
                           image], capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(done.stdout))


def test_profile_tools_and_wrapix_commands_work_inside(wrapix_image: str,
                                                       tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    done = wrapix("run", "--image", wrapix_image, str(ws), "--", "sh", "-c",
                  "jq --version && git --version && wrapix-notify --help && ralph --help "
                  "&& wrapix --version && test -x /entrypoint.sh "
                  "&& cat /etc/claude-code/managed-settings.json /etc/nix/nix.conf", cwd=ws)
    assert re.search(r"jq-1\.\d", done.stdout)
    assert "git version" in done.stdout
    assert "usage: wrapix-notify TITLE" in done.stdout
    assert "Turn a spec into issues" in done.stdout
    assert "wrapix, version" in done.stdout
    settings = json.loads(done.stdout[done.stdout.index("{"):done.stdout.rindex("}") + 1])
    assert settings["env"]["DISABLE_AUTOUPDATER"] == "1"
    assert "wrapix-notify 'Claude Code' 'Waiting for input...'" in json.dumps(settings["hooks"])
    assert "experimental-features = nix-command flakes" in done.stdout


def test_entrypoint_runs_claude_with_prompt_and_pinned_specs(wrapix_image: str,
                                                             tmp_path: Path) -> None:
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "claude").write_text(
        '#!/bin/sh\nfor arg in "$@"; do printf "%s\\0" "$arg"; done > /workspace/claude-args\n'
        'test -f "$HOME/.claude.json" && cp "$HOME/.claude.json" /workspace/claude-json\n')
    (fake / "claude").chmod(0o755)
    ws = workspace(tmp_path)
    (ws / "specs").mkdir()
    (ws / "specs" / "README.md").write_text("| Spec | Purpose |\n|---|---|\n| x.md | PINNED-X |\n")
    path = "/opt/fake:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    wrapix("run", "--image", wrapix_image, "--mount", f"{fake}:/opt/fake", "-e",
           f"PATH={path}", str(ws), cwd=ws)
    args = (ws / "claude-args").read_text().split("\0")[:-1]
    assert args[:2] == ["--dangerously-skip-permissions", "--append-system-prompt"]
    prompt = args[2]
    assert "wrapix sandbox" in prompt  # wrapix's own text
    assert "PINNED-X" in prompt  # specs/README.md appended
    config = json.loads((ws / "claude-json").read_text())
    assert config["hasCompletedOnboarding"] is True
    assert config["bypassPermissionsModeAccepted"] is True
    assert config["projects"]["/workspace"]["hasTrustDialogAccepted"] is True  # no trust prompt


def test_ralph_mode_dispatches_to_ralph(wrapix_image: str, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    done = wrapix("run", "--image", wrapix_image, "-e", "RALPH_MODE=1", "-e",
                  "RALPH_CMD=--version", str(ws), cwd=ws)
    assert "ralph, version" in done.stdout


def test_same_inputs_build_nothing(wrapix_image: str, debian_image: str) -> None:
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=debian_image))
    again = asyncio.run(builder.ensure(images.TEST_PROFILE, backend="containerfile"))
    assert again.tag == wrapix_image
    assert again.built is False


def test_run_builds_the_image_on_first_use_and_says_so(wrapix_image: str, debian_image: str,
                                                       podman: str, tmp_path: Path) -> None:
    # Same packages as the test profile (cached layers), an env of this run only: an image
    # no earlier run on this machine can have built.
    marker = f"first-use-{uuid.uuid4().hex}"
    ws = workspace(tmp_path, f'[image]\nbase = "{debian_image}"\n'
                             '[profiles.firstuse]\nbase = "none"\npackages = ["git", "jq", '
                             '"procps"]\nagent = false\n'
                             f'env = {{ FIRST_USE = "{marker}" }}\n')
    done = wrapix("run", "--profile", "firstuse", str(ws), "--", "sh", "-c", 'echo "$FIRST_USE"',
                  cwd=ws)
    built = re.search(r"built (localhost/wrapix-firstuse:\w+)", done.stderr)
    try:
        assert "(first use)" in done.stderr
        assert built is not None, done.stderr
        assert done.stdout.strip().endswith(marker)
        listed = json.loads(wrapix("image", "ls", "--json", cwd=ws).stdout)
        assert any(item["tag"] == built.group(1) for item in listed)
        again = wrapix("run", "--profile", "firstuse", str(ws), "--", "true", cwd=ws)
        assert "first use" not in again.stderr
    finally:
        if built is not None:
            subprocess.run([podman, "rmi", "-f", built.group(1)], capture_output=True,
                           timeout=120, check=False)


def test_a_failing_build_names_the_step_and_tags_nothing(debian_image: str, podman: str) -> None:
    broken = derive_profile(images.TEST_PROFILE, name="broken-build",
                            packages=[Package.simple("wrapix-no-such-package-xyz")])
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=debian_image))
    inputs = asyncio.run(builder.inputs(broken, "containerfile"))
    with pytest.raises(ImageBuildError) as info:
        asyncio.run(builder.build(inputs))
    message = str(info.value)
    assert "STEP 3/" in message and "apt-get install" in message
    assert "Unable to locate package wrapix-no-such-package-xyz" in message
    exists = subprocess.run([podman, "image", "exists", inputs.tag], timeout=60, check=False)
    assert exists.returncode == 1


def test_missing_base_image_is_a_clear_error() -> None:
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base="localhost/wrapix-no-base:1"))
    with pytest.raises(BaseImageMissing, match="could not be pulled") as info:
        asyncio.run(builder.inputs(Profile(name="x", agent=False), "containerfile"))
    assert "image.base" in str(info.value)
    assert isinstance(info.value, WrapixError)


@pytest.mark.slow
def test_no_cache_builds_give_identical_wrapix_layers(wrapix_image: str, debian_image: str,
                                                      podman: str) -> None:
    """A from-scratch rebuild of the test profile's inputs gives the same wrapix layers as
    the test image (itself built from the same inputs), whatever the OS layers contain."""
    before = layers(podman, wrapix_image)
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=debian_image))
    inputs = asyncio.run(builder.inputs(images.TEST_PROFILE, "containerfile"))
    assert inputs.tag == wrapix_image
    rebuilt = asyncio.run(builder.build(inputs, no_cache=True))
    assert rebuilt.built
    after = layers(podman, rebuilt.image_id)
    assert len(before) == len(after)
    # The layers wrapix writes itself: its wheel, its install, its bytecode, config files
    # (three COPY layers) and the entrypoint.
    owned = 7
    assert before[-owned:] == after[-owned:]
    assert before[0] == after[0]  # the base


@pytest.mark.slow
def test_an_agent_image_runs_claude(debian_image: str, wrapix_image: str,
                                    tmp_path: Path) -> None:
    # The test profile plus the agent: its OS packages layer comes from the cache.
    profile = derive_profile(images.TEST_PROFILE, name="agent-test", agent=True)
    tag = images.build(debian_image, profile)
    ws = workspace(tmp_path)
    done = wrapix("run", "--image", tag, str(ws), "--", "claude", "--version", cwd=ws)
    assert re.search(r"\d+\.\d+\.\d+ \(Claude Code\)", done.stdout), done.stdout
