"""Session tests commit as a fixed identity, whatever the machine's git config says."""

from __future__ import annotations

import pytest

from tests.sandbox.test_podman_gitguard import cleanup  # noqa: F401 (the fixture)


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tester@example.com")
