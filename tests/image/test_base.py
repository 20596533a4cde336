"""The Debian base wrapix makes itself when the configured base cannot be pulled."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from wrapix_core.image import base
from wrapix_core.image.builder import BaseImageMissing, ImageBuilder
from wrapix_core.image.progress import BuildEvent
from wrapix_core.settings import ImageSettings, SandboxSettings


@pytest.mark.parametrize(("name", "suite"), [
    ("docker.io/library/debian:bookworm-slim", "bookworm"),
    ("debian:bookworm", "bookworm"),
    ("library/debian:trixie-slim", "trixie"),
    ("docker.io/library/debian:latest", None),
    ("docker.io/library/ubuntu:24.04", None),
    ("localhost/wrapix-test-debian:bookworm", None),
    ("quay.io/debian:bookworm", None),
])
def test_which_bases_wrapix_can_make(name: str, suite: str | None) -> None:
    assert base.debian_suite(name) == suite


def test_the_tag_names_everything_that_decides_the_content() -> None:
    amd = base.BaseRecipe("bookworm", "amd64")
    assert amd.tag == base.BaseRecipe("bookworm", "amd64").tag
    assert amd.tag.startswith("localhost/wrapix-base-debian:bookworm-")
    assert amd.tag != base.BaseRecipe("bookworm", "arm64").tag
    assert amd.tag != base.BaseRecipe("trixie", "amd64").tag
    argv = amd.mmdebstrap_argv(Path("/x/out.tar"))
    assert argv[:3] == ["mmdebstrap", "--mode=unshare", "--variant=minbase"]
    assert argv[-2:] == ["bookworm", "/x/out.tar"]


def test_subordinate_ids_are_read_per_user(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "current_user", lambda: ("alice", 1234))
    (tmp_path / "subuid").write_text("bob:100000:65536\nalice:165536:65536\n")
    (tmp_path / "subgid").write_text("bob:100000:65536\n1234:165536:1000\n")
    problem = base.subid_problem(tmp_path)
    assert problem == "alice has no range of 65536 ids in /etc/subgid"
    (tmp_path / "subgid").write_text("1234:165536:65536\n")
    assert base.subid_problem(tmp_path) is None
    assert "usermod --add-subuids" in base.subid_fix() and "alice" in base.subid_fix()


def test_what_to_install_when_the_base_cannot_be_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(base, "find", lambda name: None)
    why = base.cannot_make("docker.io/library/debian:bookworm-slim")
    assert why is not None and "apt-get install mmdebstrap" in why
    monkeypatch.setattr(base, "find",
                        lambda name: None if name == "newuidmap" else f"/usr/bin/{name}")
    why = base.cannot_make("docker.io/library/debian:bookworm-slim")
    assert why is not None and "apt-get install uidmap" in why
    why = base.cannot_make("docker.io/library/ubuntu:24.04")
    assert why is not None and "set image.base" in why


FAKE_MMDEBSTRAP = """#!/bin/sh
# Stands in for mmdebstrap: records its arguments, writes a one-file root tarball.
echo "$@" >> "$WRAPIX_FAKE_LOG"
for last; do :; done
tree=$(mktemp -d)
mkdir -p "$tree/etc" && echo fake > "$tree/etc/debian_version"
echo "I: fake mmdebstrap done"
tar -C "$tree" -cf "$last" . && rm -rf "$tree"
"""


@pytest.mark.podman
def test_an_unpullable_debian_base_is_made_once_and_reused(
        podman: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `podman pull` fails (no such suite), the base is made (mmdebstrap stood in
    for, podman import real), labelled, reported, and reused without making it again."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mmdebstrap"
    fake.write_text(FAKE_MMDEBSTRAP)
    fake.chmod(0o755)
    log = tmp_path / "calls"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("WRAPIX_FAKE_LOG", str(log))
    wanted = "docker.io/library/debian:wrapixnosuchsuite-slim"
    recipe = base.recipe_for(wanted)
    assert recipe is not None
    subprocess.run([podman, "rmi", "--force", recipe.tag], capture_output=True, timeout=60,
                   check=False)
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=wanted))
    events: list[BuildEvent] = []
    try:
        reference, image_id = asyncio.run(builder.resolve_base(wanted, events.append))
        assert reference == recipe.tag and image_id
        assert log.read_text().count("--mode=unshare") == 1
        notes = [event.line for event in events if event.note]
        assert "could not be pulled" in notes[0] and recipe.tag in notes[0]
        assert notes[-1].startswith(f"built the base {recipe.tag}")
        label = subprocess.run(
            [podman, "image", "inspect", "--format",
             "{{index .Labels \"wrapix.base-recipe\"}}", recipe.tag],
            capture_output=True, text=True, timeout=60, check=True).stdout.strip()
        assert label == recipe.digest
        again = asyncio.run(builder.resolve_base(wanted))
        assert again == (reference, image_id)
        assert log.read_text().count("--mode=unshare") == 1  # made once
    finally:
        subprocess.run([podman, "rmi", "--force", recipe.tag], capture_output=True,
                       timeout=60, check=False)


@pytest.mark.podman
def test_no_mmdebstrap_says_what_to_install(podman: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "find",
                        lambda name: None if name == "mmdebstrap" else f"/usr/bin/{name}")
    wanted = "docker.io/library/debian:wrapixnosuchsuite-slim"
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=wanted))
    with pytest.raises(BaseImageMissing, match="apt-get install mmdebstrap"):
        asyncio.run(builder.resolve_base(wanted))
