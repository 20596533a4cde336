"""Fixtures for the Ralph tests: a started workspace with the fake agent on PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ralph.support import Workspace, make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A workspace with specs/demo.md, `ralph start demo` done, agents run on the host."""
    return make_workspace(tmp_path / "proj")
