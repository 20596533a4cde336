"""Shared test fixtures.

- Every test gets its own wrapix directories (``WRAPIX_*_DIR``), so nothing touches the
  user's config, inbox or caches. XDG variables are left alone: rootless Podman reads
  them for its own storage.
- Real-Podman tests use the ``podman`` fixture: in CI (``WRAPIX_CI=1``) a Podman that
  cannot run is a failure; elsewhere those tests skip with the reason.
- Snapshots are stored in ``snapshots/`` at the top of the repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_textual_snapshot import SVGImageExtension

from tests.support import podman_env

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "snapshots"


def _snapshot_dirname(cls: type, *, test_location: object) -> str:
    return str(SNAPSHOTS / test_location.basename)  # type: ignore[attr-defined]


SVGImageExtension.dirname = classmethod(_snapshot_dirname)  # type: ignore[assignment,method-assign]

_DIR_VARS = {
    "WRAPIX_CONFIG_DIR": "config",
    "WRAPIX_STATE_DIR": "state",
    "WRAPIX_CACHE_DIR": "cache",
    "WRAPIX_DATA_DIR": "data",
    "WRAPIX_RUNTIME_DIR": "run",
}
_KEEP = {"WRAPIX_CI", "WRAPIX_TEST_DEBIAN_IMAGE", "WRAPIX_SHARED_DATA"}


@pytest.fixture(autouse=True)
def isolated_wrapix(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Fresh wrapix directories per test, and no WRAPIX_* settings leaking in from outside."""
    for name in list(os.environ):
        if (name.startswith(("WRAPIX_", "RALPH_")) and name not in _KEEP):
            monkeypatch.delenv(name, raising=False)
    # Short base path: Unix socket paths are limited to 107 bytes.
    base = tmp_path_factory.mktemp("wx")
    for name, sub in _DIR_VARS.items():
        path = base / sub
        path.mkdir(mode=0o700)
        monkeypatch.setenv(name, str(path))
    # Tests write project files freely; the trust gate has tests of its own.
    monkeypatch.setenv("WRAPIX_TRUST_PROJECTS", "all")
    yield base


@pytest.fixture(scope="session")
def podman() -> str:
    """The Podman executable, verified to run rootless containers here."""
    return podman_env.require_podman()


@pytest.fixture(scope="session")
def busybox_image(podman: str) -> str:
    """A tiny image from a static busybox tree (``podman import``), built once per machine."""
    return podman_env.busybox_image(podman)


@pytest.fixture(scope="session")
def debian_image(podman: str) -> str:
    """A real Debian base image (made by .ci/run with debootstrap), mandatory in CI."""
    return podman_env.debian_image(podman)


@pytest.fixture(scope="session")
def wrapix_image(debian_image: str) -> str:
    """An image wrapix built for a small test profile: wrapix, git, jq; no agent."""
    from tests.support import images

    return images.build(debian_image)
