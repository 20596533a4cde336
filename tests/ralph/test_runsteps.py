"""The parallel loop's running-steps file: written atomically as steps change, read back
strictly (a bad file is a problem said, never trusted), gone when the loop ends, and
ignored once the loop that wrote it died."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wrapix_core.ralph import runsteps
from wrapix_core.ralph.state import RalphPaths, ralph_paths


@pytest.fixture
def paths(tmp_path: Path) -> RalphPaths:
    found = ralph_paths(tmp_path, env={})
    found.makedirs(found.state_dir)
    return found


def test_steps_written_as_they_change_and_the_file_gone_at_the_end(paths: RalphPaths) -> None:
    record = runsteps.RunRecorder(paths, "demo", 2)
    record.start()
    assert runsteps.read_runs(paths).runs[0].steps == ()
    record.set("wx-1")
    record.set("wx-1", session="ralph-wx-1", sandbox="wrapix-ralph-wx-1")
    record.set("wx-2", session="ralph-wx-2")
    record.set("wx-2", "queued")
    read = runsteps.read_runs(paths)
    assert read.problems == []
    [run] = read.runs
    assert (run.label, run.parallel, run.pid) == ("demo", 2, os.getpid())
    steps = read.steps()
    assert steps["wx-1"].session == "ralph-wx-1" and steps["wx-1"].state == "running"
    assert steps["wx-1"].sandbox == "wrapix-ralph-wx-1" and steps["wx-1"].started > 0
    assert steps["wx-2"].state == "queued" and steps["wx-2"].session == "ralph-wx-2"
    record.drop("wx-1")
    record.set("wx-2", "conflict")
    assert {i: s.state for i, s in runsteps.read_runs(paths).steps().items()} == {
        "wx-2": "conflict"}
    record.end()
    assert runsteps.read_runs(paths).runs == []
    assert not record.path.exists()
    # never a label: `ralph` does not list it
    from wrapix_core.ralph.state import known_labels
    assert known_labels(paths) == []


def _plant(paths: RalphPaths, content: str | bytes, pid: int | None = None) -> Path:
    """A run file as if a live loop of this process wrote it (its lock held)."""
    path = runsteps.run_file(paths, pid or os.getpid())
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _good(**changes: object) -> dict[str, object]:
    step = {"issue": "wx-1", "session": "ralph-wx-1", "sandbox": "", "state": "running",
            "started_at": "2026-12-05T04:00:00Z"}
    data: dict[str, object] = {"label": "demo", "parallel": 2, "pid": os.getpid(),
                               "host": "here", "started_at": "2026-12-05T04:00:00Z",
                               "steps": [step]}
    data.update(changes)
    return data


@pytest.mark.parametrize(("content", "said"), [
    ("{not json", "not a parallel run"),
    (json.dumps([1, 2]), "not a JSON object"),
    (json.dumps(_good(label="../etc")), "bad label"),
    (json.dumps(_good(parallel="2")), "bad parallel"),
    (json.dumps(_good(pid=1)), "pid"),
    (json.dumps(_good(steps=[{"issue": "[red]x y", "state": "running",
                              "started_at": "2026-12-05T04:00:00Z"}])), "issue id"),
    (json.dumps(_good(steps=[{"issue": "wx-1", "state": "exploded",
                              "started_at": "2026-12-05T04:00:00Z"}])), "state"),
    (json.dumps(_good(steps=[{"issue": "wx-1", "state": "running", "session": "\x1b[2J",
                              "started_at": "2026-12-05T04:00:00Z"}])), "session"),
    (json.dumps(_good(steps=[{"issue": "wx-1", "state": "running",
                              "started_at": "yesterday"}])), "ISO 8601"),
    (b"\xff\xfe", "not a parallel run"),
    (json.dumps(_good(host="x" * 70_000)), "over"),
])
def test_a_bad_file_is_a_problem_not_a_run(paths: RalphPaths, content: str | bytes,
                                           said: str) -> None:
    lock = runsteps.RunRecorder(paths, "demo", 2)._lock
    paths.makedirs(paths.locks)
    assert lock.try_acquire()
    try:
        _plant(paths, content)
        read = runsteps.read_runs(paths)
    finally:
        lock.release()
    assert read.runs == []
    assert len(read.problems) == 1 and said in read.problems[0], read.problems


def test_a_link_is_never_followed(paths: RalphPaths, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(_good()))
    record = runsteps.RunRecorder(paths, "demo", 2)
    paths.makedirs(paths.locks)
    assert record._lock.try_acquire()
    try:
        record.path.symlink_to(outside)
        read = runsteps.read_runs(paths)
    finally:
        record._lock.release()
    assert read.runs == [] and "cannot read" in read.problems[0]


def test_a_dead_loops_file_is_ignored_and_the_next_loop_removes_it(paths: RalphPaths) -> None:
    dead = _plant(paths, json.dumps(_good(pid=999_999_999)), pid=999_999_999)
    assert runsteps.read_runs(paths).runs == []  # nobody holds its lock
    record = runsteps.RunRecorder(paths, "demo", 3)
    record.start()
    try:
        assert not dead.exists()
        assert [run.parallel for run in runsteps.read_runs(paths).runs] == [3]
    finally:
        record.end()
