"""The 1,185 real issues bd wrote: loaded without loss, round-tripped byte for byte, and
counted and judged ready exactly as a straightforward independent computation says."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.tasks.shared_data import make_workspace
from wrapix_core.tasks import timestamps
from wrapix_core.tasks.jsonl_store import JsonlIssues
from wrapix_core.tasks.readiness import compute_readiness
from wrapix_core.tasks.store import IssueUpdate, NewIssue

NOW = 1_800_000_000.0


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws", specs=False)


def _records(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def _naive_ready(records: list[dict[str, Any]]) -> list[str]:
    """The rule written the slow, obvious way (last line wins for a duplicated id)."""
    by_id = {record["id"]: record for record in records}

    def deps(record: dict[str, Any]) -> list[dict[str, Any]]:
        return record.get("dependencies") or []

    def directly_blocked(record: dict[str, Any]) -> bool:
        if record.get("status") == "closed":
            return False
        return record.get("status") == "blocked" or any(
            dep["type"] in ("blocks", "conditional-blocks") and dep["depends_on_id"] in by_id
            and by_id[dep["depends_on_id"]].get("status") != "closed" for dep in deps(record))

    def blocked(issue_id: str, seen: frozenset[str] = frozenset()) -> bool:
        record = by_id[issue_id]
        if directly_blocked(record):
            return True
        return any(blocked(dep["depends_on_id"], seen | {issue_id}) for dep in deps(record)
                   if dep["type"] == "parent-child" and dep["depends_on_id"] in by_id
                   and dep["depends_on_id"] not in seen | {issue_id})

    ready = [record for record in by_id.values()
             if record.get("status", "open") == "open" and not record.get("pinned")
             and not blocked(record["id"])
             and not {"ralph:clarify", "ralph:proposed"} & set(record.get("labels") or [])
             and not (record.get("defer_until")
                      and (timestamps.parse(record["defer_until"]) or 0) > NOW)]
    ready.sort(key=lambda record: (record["priority"], timestamps.parse(
        record.get("created_at") or record.get("created")) or float("inf"), record["id"]))
    return [record["id"] for record in ready]


def test_every_line_is_kept_and_every_issue_loads(workspace: Path) -> None:
    raw = (workspace / ".beads" / "issues.jsonl").read_bytes()
    document = JsonlIssues(workspace).document()
    lines = raw.splitlines()
    assert len(lines) == 1185
    # Each line is an issue or a reported problem; here the one problem is bd's duplicate.
    assert len(document) + len(document.problems) == 1185
    assert [problem.reason for problem in document.problems] == [
        "duplicate id frankenredis-ehnk (line 442 is ignored)"]
    assert document.render() == raw
    records = _records(raw)
    by_id = {record["id"]: record for record in records}
    assert {issue.id: dict(issue.data) for issue in document.issues()} == by_id


def test_status_counts_and_ready_set_match_independent_computation(workspace: Path) -> None:
    raw = (workspace / ".beads" / "issues.jsonl").read_bytes()
    records = _records(raw)
    issues = JsonlIssues(workspace).issues()
    by_id = {record["id"]: record for record in records}
    assert Counter(issue.status for issue in issues) == \
        Counter(record["status"] for record in by_id.values())
    assert Counter(issue.status for issue in issues) == {"closed": 1181, "open": 3}
    result = compute_readiness(issues, NOW)
    assert list(result.ready_ids) == _naive_ready(records)
    assert len(result.ready_ids) == 3


def test_ready_rule_on_real_graph_with_everything_reopened(workspace: Path) -> None:
    """Reopening every issue makes the real blocks/parent-child edges decide readiness."""
    records = [{**record, "status": "open"} for record in
               _records((workspace / ".beads" / "issues.jsonl").read_bytes())]
    data = b"\n".join(json.dumps(record).encode() for record in records) + b"\n"
    (workspace / ".beads" / "issues.jsonl").write_bytes(data)
    issues = JsonlIssues(workspace).issues()
    result = compute_readiness(issues, NOW)
    expected = _naive_ready(records)
    assert list(result.ready_ids) == expected
    assert 0 < len(expected) < len(issues)  # the edges really block some


def test_round_trip_rewrites_only_the_changed_lines(workspace: Path) -> None:
    path = workspace / ".beads" / "issues.jsonl"
    before = path.read_bytes().split(b"\n")
    store = JsonlIssues(workspace)
    spaced = "frankenredis-019w"  # a {"id": ...} line with escaped non-ASCII
    compact = "frankenredis-01ht"
    store.update(spaced, IssueUpdate(status="open", add_labels=("ralph:clarify",)))
    store.close("frankenredis-420d4", "done")
    store.add_dependency(compact, "frankenredis-03c8", "related")
    created = store.create(NewIssue("Brand new", labels=("rl-beads",)))
    after = path.read_bytes().split(b"\n")
    assert len(after) == len(before) + 1
    assert before[-1] == after[-1] == b""  # still newline-terminated
    changed = [number for number, (old, new) in enumerate(zip(before[:-1], after, strict=False))
               if old != new]
    assert sorted(changed) == sorted(
        before.index(line) for line in before
        if any(f'"{key}"'.encode() in line[:40] for key in (spaced, compact,
                                                            "frankenredis-420d4")))
    updated = json.loads(after[changed[0]])
    assert set(json.loads(before[changed[0]])) - set(updated) <= {"closed_at"}
    spaced_line = next(line for line in after if line.startswith(b'{"id": "frankenredis-019w"'))
    assert spaced_line.isascii() and b"\\u2208" in spaced_line  # its style kept
    assert json.loads(spaced_line)["labels"] == ["ralph:clarify"]
    assert created.id.startswith("frankenredis-")
    assert json.loads(after[-2])["id"] == created.id
