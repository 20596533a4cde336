"""Workspaces for the Ralph board tests: the real shared data, or a small Ralph project
with fixed issue ids and times (so snapshots do not change from run to run)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
T0 = "2026-01-05T09:00:00Z"


def shared_data() -> Path:
    for candidate in (os.environ.get("WRAPIX_SHARED_DATA"), str(ROOT.parent / "shared" / "data")):
        if candidate and (Path(candidate) / "specs-sample").is_dir():
            return Path(candidate)
    if os.environ.get("WRAPIX_CI") == "1":
        pytest.fail("shared/data is mandatory in CI (WRAPIX_SHARED_DATA)", pytrace=False)
    pytest.skip("shared/data not found (set WRAPIX_SHARED_DATA)")


def real_workspace(root: Path) -> Path:
    """The sample specs and the 1,185 real issues, copied (never edited in place)."""
    data = shared_data()
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(data / "specs-sample", root / "specs")
    (root / ".beads").mkdir()
    shutil.copyfile(data / "beads" / "frankenredis-issues.jsonl", root / ".beads" / "issues.jsonl")
    for path in [root / "specs", *(root / "specs").iterdir(), root / ".beads" / "issues.jsonl"]:
        path.chmod(path.stat().st_mode | 0o200)
    return root


def issue(ident: str, title: str, *, status: str = "open", priority: int = 2,
          labels: tuple[str, ...] = ("rl-demo",), deps: tuple[tuple[str, str], ...] = (),
          description: str = "", notes: str = "", issue_type: str = "task",
          minute: int = 0) -> dict[str, Any]:
    when = f"2026-01-05T09:{minute:02d}:00Z"
    data: dict[str, Any] = {
        "id": ident, "title": title, "description": description, "status": status,
        "priority": priority, "issue_type": issue_type, "created_at": when,
        "updated_at": when, "labels": list(labels),
        "dependencies": [{"issue_id": ident, "depends_on_id": target, "type": kind}
                         for kind, target in deps]}
    if notes:
        data["notes"] = notes
    if status == "closed":
        data["closed_at"] = when
    return data


def write_issues(root: Path, issues: list[dict[str, Any]]) -> None:
    beads = root / ".beads"
    beads.mkdir(parents=True, exist_ok=True)
    (beads / "config.yaml").write_text("issue-prefix: demo\n")
    (beads / "issues.jsonl").write_text("".join(json.dumps(item) + "\n" for item in issues))


QUESTION = """Question from the agent (2026-01-05T09:30:00Z, log .wrapix/ralph/logs/demo-q.log): \
Which network backend should the sandbox use?

## Options — pick one

### Option 1 — pasta
Faster; needs Podman 4.4 or later.

### Option 2 -- slirp4netns
Works on Debian 12's Podman 4.3."""

SPEC = """# Demo feature

A small feature for the board tests.

## Requirements

1. Do the thing

## Success Criteria

- [x] The thing is designed [verify](tests/demo.sh#designed)
- [ ] The thing is done [judge](tests/demo.md#done)
- [ ] It is tested
"""


def demo_issues() -> list[dict[str, Any]]:
    """One of each: ready (two, in Ralph's order), in progress, blocked, clarify with
    options, proposed (with a dependency between proposals), closed."""
    return [
        issue("demo-epic", "Demo epic", issue_type="epic", minute=0),
        issue("demo-a1", "Parse the config [b]file[/b]", priority=1, minute=1,
              deps=(("parent-child", "demo-epic"),),
              description="Read `wrapix.toml`.\n\n- keys\n- errors \x1b[31mred\x1b[0m"),
        issue("demo-a2", "Write the docs", priority=2, minute=2),
        issue("demo-b1", "Run the migration", status="in_progress", priority=1, minute=3),
        issue("demo-c1", "Ship it", priority=0, minute=4,
              deps=(("blocks", "demo-b1"), ("blocks", "demo-a2"))),
        issue("demo-q1", "Pick a network", priority=2, minute=5,
              labels=("rl-demo", "ralph:clarify"), notes=QUESTION),
        issue("demo-p1", "Proposed: staging directories", priority=2, minute=6,
              labels=("rl-demo", "ralph:proposed"),
              description="Copy mounts whose symlinks leave them."),
        issue("demo-p2", "Proposed: clean stale staging", priority=3, minute=7,
              labels=("rl-demo", "ralph:proposed"), deps=(("blocks", "demo-p1"),)),
        issue("demo-z1", "Set up the repository", status="closed", priority=2, minute=8),
    ]


def demo_workspace(root: Path, issues: list[dict[str, Any]] | None = None) -> Path:
    """A project with specs/demo.md, Ralph started for ``demo`` and fixed issues."""
    from wrapix_core.ralph.start import start
    from wrapix_core.ralph.state import ralph_paths

    root.mkdir(parents=True, exist_ok=True)
    (root / "specs").mkdir(exist_ok=True)
    (root / "specs" / "demo.md").write_text(SPEC)
    write_issues(root, demo_issues() if issues is None else issues)
    start(ralph_paths(root), "demo")
    return root
