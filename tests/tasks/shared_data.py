"""Locating the real data in ``shared/data`` (docs/architecture.md, Testing): tests copy
it, never edit it.

Looked up in ``$WRAPIX_SHARED_DATA``, then in ``shared/data`` beside the checkout. In CI
(``WRAPIX_CI=1``) missing data is a failure, as missing Podman is; elsewhere a skip that
says why.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ISSUES = Path("beads") / "frankenredis-issues.jsonl"
# Read at import: the autouse fixture in tests/conftest.py clears WRAPIX_* before each test.
_FROM_ENV = os.environ.get("WRAPIX_SHARED_DATA")
SPECS = Path("specs-sample")


def shared_data() -> Path:
    candidates = [_FROM_ENV, str(ROOT.parent / "shared" / "data")]
    for candidate in candidates:
        if candidate and (Path(candidate) / ISSUES).is_file():
            return Path(candidate)
    why = ("real data not found: set WRAPIX_SHARED_DATA to the shared/data directory "
           f"(looked in {[c for c in candidates if c]})")
    if os.environ.get("WRAPIX_CI"):
        pytest.fail(why)
    pytest.skip(why)


def real_issues_file() -> Path:
    return shared_data() / ISSUES


def real_specs_dir() -> Path:
    return shared_data() / SPECS


def make_workspace(target: Path, *, issues: bool = True, specs: bool = True) -> Path:
    """A workspace under ``target`` with copies of the real issues and specs."""
    target.mkdir(parents=True, exist_ok=True)
    if issues:
        (target / ".beads").mkdir(exist_ok=True)
        shutil.copyfile(real_issues_file(), target / ".beads" / "issues.jsonl")
    if specs:
        # The shared files are read-only (0444, in a 0555 directory); the copies must not
        # be, or tests that edit them pass only as root.
        shutil.copytree(real_specs_dir(), target / "specs", copy_function=shutil.copyfile)
        (target / "specs").chmod(0o755)
    return target
