"""P2: `wrapix-tui` start to first full frame with 10,000 issues and 200 specs, against
the same floor as P1 (a bare Textual app with a Header, DataTable and Footer), measured
the same way (a 120×40 pty, spawn to exit after the first frame) in the same run.

The workspace is generated from the real data: the 1,185 issues of
``shared/data/beads`` copied with new ids (dependencies rewritten to the copies) until
there are 10,000, each labelled for one of 200 specs copied from ``specs-sample``.

A second row (information, no target of its own) shows the time until the board itself
is loaded and drawn with all 10,000 issues: the board loads in a worker after the first
frame, so it never delays the first frame, and this row says what it costs after it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable, median, ms, ratio_row
from benchmarks.scenarios.p01_startup import BARE, _env, _in_pty

ID = "P2"
WHAT = "start to first frame, 10,000 issues and 200 specs"
TARGET = 2.0
ISSUES = 10_000
SPECS = 200


def shared() -> Path:
    root = Path(__file__).resolve().parents[2]
    for candidate in (os.environ.get("WRAPIX_SHARED_DATA"), str(root.parent / "shared" / "data")):
        if candidate and (Path(candidate) / "specs-sample").is_dir():
            return Path(candidate)
    raise Unavailable("shared/data not found (set WRAPIX_SHARED_DATA)")


def make_workspace(root: Path, issues: int = ISSUES, specs: int = SPECS) -> Path:
    """A workspace with ``specs`` specs and ``issues`` issues made from the real data."""
    data = shared()
    if (root / ".beads" / "issues.jsonl").exists():
        return root
    (root / "specs").mkdir(parents=True, exist_ok=True)
    samples = sorted(path for path in (data / "specs-sample").glob("*.md")
                     if path.name != "README.md")
    names = []
    for number in range(specs):
        sample = samples[number % len(samples)]
        name = f"{sample.stem}-{number:03d}"
        names.append(name)
        (root / "specs" / f"{name}.md").write_text(sample.read_text())
    real = [json.loads(line) for line in
            (data / "beads" / "frankenredis-issues.jsonl").read_text().splitlines() if line]
    lines: list[str] = []
    copy = 0
    while len(lines) < issues:
        renamed = {item["id"]: f"bench-{copy}-{index}" for index, item in enumerate(real)}
        for item in real:
            if len(lines) >= issues:
                break
            new = dict(item)
            new["id"] = renamed[item["id"]]
            new["dependencies"] = [
                {**dep, "issue_id": new["id"],
                 "depends_on_id": renamed.get(dep.get("depends_on_id"), dep.get("depends_on_id"))}
                for dep in item.get("dependencies") or [] if isinstance(dep, dict)]
            spec = names[len(lines) % len(names)]
            new["labels"] = [*(item.get("labels") or []), f"rl-{spec}"]
            lines.append(json.dumps(new))
        copy += 1
    (root / ".beads").mkdir(exist_ok=True)
    (root / ".beads" / "issues.jsonl").write_text("\n".join(lines) + "\n")
    return root


def run(ctx: Context) -> list[Row]:
    root = ctx.workdir / "p2"
    workspace = make_workspace(root / "big-workspace")
    env = _env(root)
    here = Path(__file__).resolve().parents[2]
    bare = [sys.executable, "-c", BARE]
    tui = [sys.executable, "-m", "wrapix_tui", str(workspace)]
    first = {**env, "WRAPIX_TUI_EXIT_AFTER_FIRST_FRAME": "1"}
    board = {**env, "WRAPIX_TUI_EXIT_AFTER_BOARD": "1"}
    _in_pty(bare, env, root)  # warm the file cache and bytecode for both
    _, out, _ = _in_pty(tui, board, here)
    if b"Ralph" not in out or b"200" not in out:
        raise RuntimeError("wrapix-tui exited without drawing the board")
    floor: list[float] = []
    value: list[float] = []
    loaded: list[float] = []
    for _ in range(ctx.reps(11, 3)):
        floor.append(_in_pty(bare, env, root)[0])
        value.append(_in_pty(tui, first, here)[0])
        loaded.append(_in_pty(tui, board, here)[0])
    load = os.getloadavg()[0]
    rows = [ratio_row(ID, WHAT, "bare Textual app (Header, DataTable, Footer)",
                      median(floor), median(value), TARGET,
                      note=f"median of {len(value)} alternating runs; load average {load:.1f}")]
    ratio = median(loaded) / median(floor)
    rows.append(Row(ID, "start to the board drawn with all 10,000 issues (information: "
                        "loaded after the first frame)",
                    f"same floor: {ms(median(floor))}", ms(median(loaded)), f"{ratio:.2f}×",
                    "—", True))
    return rows
