"""P11: load 10,000 real-sized issues into the model vs bare json.loads of the same lines.

The 1,185 real issues (shared/data) are repeated with new ids to 10,000 lines (~12 MB).
Floor: ``[json.loads(l) for l in lines]`` over the file's lines (bytes). Measured: the JSONL
store reading and parsing the file from disk into Issue objects (what Ralph and the TUI
do). A second row times the readiness rule over the loaded issues and checks it stays
linear (20,000 issues vs 10,000).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable, median, ms, ratio_row, samples
from wrapix_core.tasks.jsonl_store import JsonlIssues
from wrapix_core.tasks.model import Issue
from wrapix_core.tasks.readiness import compute_readiness

ID = "P11"
WHAT = "load 10k real-sized issues (~12 MB JSONL)"
COUNT = 10_000


def _shared_issues() -> Path:
    root = Path(__file__).resolve().parents[2]
    for candidate in (os.environ.get("WRAPIX_SHARED_DATA"), str(root.parent / "shared" / "data")):
        if candidate and (Path(candidate) / "beads" / "frankenredis-issues.jsonl").is_file():
            return Path(candidate) / "beads" / "frankenredis-issues.jsonl"
    raise Unavailable("shared/data not found (set WRAPIX_SHARED_DATA)")


def _lines(count: int) -> list[bytes]:
    real = [line for line in _shared_issues().read_bytes().split(b"\n") if line.strip()]
    out: list[bytes] = []
    round_ = 0
    while len(out) < count:
        for line in real:
            record = json.loads(line)
            suffix = f"-r{round_}"
            record["id"] += suffix
            for dep in record.get("dependencies") or []:
                dep["issue_id"] += suffix
                dep["depends_on_id"] += suffix
            out.append(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode())
            if len(out) == count:
                break
        round_ += 1
    return out


def run(ctx: Context) -> list[Row]:
    lines = _lines(COUNT)
    workspace = ctx.workdir / "p11"
    (workspace / ".beads").mkdir(parents=True, exist_ok=True)
    path = workspace / ".beads" / "issues.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    size_mb = path.stat().st_size / 1e6
    reps = ctx.reps(15)

    def floor() -> object:
        return [json.loads(line) for line in lines]

    def load() -> object:
        return JsonlIssues(workspace).issues()  # a fresh store: no cache, reads the file

    floor_times = samples(floor, reps)
    load_times = samples(load, reps)
    issues: list[Issue] = JsonlIssues(workspace).issues()
    assert len(issues) == len({json.loads(line)['id'] for line in lines})  # bd's duplicate
    ready_10k = median(samples(lambda: compute_readiness(issues), reps))
    doubled = [*issues, *(Issue({**issue.data, "id": issue.id + "-b"}) for issue in issues)]
    ready_20k = median(samples(lambda: compute_readiness(doubled), reps))
    growth = ready_20k / ready_10k if ready_10k > 0 else float("inf")
    return [
        ratio_row(ID, f"{WHAT}, {size_mb:.1f} MB", "json.loads per line", median(floor_times),
                  median(load_times), 1.5),
        Row(ID, "ready set over the 10k issues (linear: 20k ≤ 2.5× 10k)",
            f"10k: {ms(ready_10k)}", f"20k: {ms(ready_20k)}", f"{growth:.2f}×", "≤ 2.5×",
            growth <= 2.5),
    ]
