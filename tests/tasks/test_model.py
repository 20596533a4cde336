"""The Issue model: cheap coercing accessors over the stored object, nothing lost."""

from __future__ import annotations

import io
import json

import pytest

from wrapix_core.tasks import timestamps
from wrapix_core.tasks.jsonl_file import read_lines
from wrapix_core.tasks.model import Dependency, Issue, coerce_priority, issue_from_json


def test_fields_read_through_with_bd_defaults() -> None:
    issue = Issue({"id": "wx-1", "title": "T"})
    assert (issue.status, issue.priority, issue.issue_type) == ("open", 2, "task")
    assert issue.labels == () and issue.dependencies == ()
    assert issue.description == "" and issue.defer_until == ""


def test_wrong_types_fall_back_instead_of_failing() -> None:
    issue = Issue({"id": "wx-1", "title": 5, "priority": "P1", "labels": ["a", 3, None],
                   "dependencies": [{"depends_on_id": "wx-2"}, "junk", {"type": "blocks"}]})
    assert issue.title == "5"
    assert issue.priority == 1
    assert issue.labels == ("a",)
    assert issue.dependencies == (Dependency("wx-1", "wx-2", "blocks"),)


def test_priority_coercion() -> None:
    assert [coerce_priority(v) for v in (0, 4, 9, -1, "3", "p2", True, None, 1.0, "x")] == \
        [0, 4, 4, 0, 3, 2, 2, 2, 1, 2]


def test_unknown_fields_kept_and_replace_keeps_order() -> None:
    data = {"id": "wx-1", "title": "T", "zz_custom": {"a": [1]}, "status": "open"}
    issue = Issue(data)
    changed = issue.replace(status="closed", new_field=1, title=None)
    assert list(changed.data) == ["id", "zz_custom", "status", "new_field"]
    assert changed.data["zz_custom"] == {"a": [1]}
    assert issue.data["status"] == "open"  # the original is untouched


def test_created_alias_and_pinned_flag() -> None:
    assert Issue({"id": "a", "created": "2026-01-01T00:00:00Z"}).created_at.startswith("2026")
    assert Issue({"id": "a", "pinned": True}).pinned
    assert Issue({"id": "a", "status": "pinned"}).pinned


def test_issue_from_json_needs_an_id() -> None:
    assert issue_from_json({"title": "no id"}) is None
    assert issue_from_json([1, 2]) is None
    assert issue_from_json({"id": ""}) is None
    assert issue_from_json({"id": "wx-1"}) is not None


def test_timestamps_in_bds_form_and_parsed() -> None:
    assert timestamps.format_ns(1_775_000_000_123_456_789) == "2026-03-31T23:33:20.123456789Z"
    assert timestamps.parse("2026-04-09T20:24:48.507423683Z") == 1775766288.507423
    assert timestamps.parse("2026-04-25T00:05:00Z") == 1777075500.0
    assert timestamps.parse("yesterday") is None
    stamp = timestamps.now()
    assert len(stamp) == 30 and stamp.endswith("Z")


def test_an_issue_read_from_its_line_answers_like_one_from_its_dict() -> None:
    """Issues from a file keep only what boards need and decode the rest from the line."""
    line = (b'{"id": "wx-1", "title": 7, "description": "Long **text**", "notes": "N",'
            b' "status": "closed", "priority": "P1", "issue_type": "bug", "labels": ["a", 3],'
            b' "dependencies": [{"depends_on_id": "wx-0", "type": "parent-child"}],'
            b' "created": "2026-01-01T00:00:00Z", "closed_at": "2026-01-02T00:00:00Z",'
            b' "updated_at": "2026-01-03T00:00:00Z", "assignee": "me", "zz": {"k": [1]}}')
    data = json.loads(line)
    from_line, from_dict = issue_from_json(json.loads(line), line), Issue(data)
    assert from_line is not None
    fields = ("id", "title", "description", "notes", "status", "priority", "issue_type",
              "labels", "dependencies", "created_at", "closed_at", "updated_at", "assignee",
              "close_reason", "defer_until", "pinned", "is_closed")
    assert [getattr(from_line, name) for name in fields] == \
        [getattr(from_dict, name) for name in fields]
    assert from_line.data == data and from_line.get("zz") == {"k": [1]}
    assert from_line == from_dict and from_line == issue_from_json(json.loads(line), line)
    changed = from_line.replace(status="open")
    assert list(changed.data) == list(data) and changed.data["zz"] == {"k": [1]}
    assert from_line.status == "closed"  # the original is untouched
    copy = from_line.to_dict()
    copy["zz"]["k"].append(2)
    assert from_line.get("zz") == {"k": [1]}  # to_dict is a copy, safe to change


@pytest.mark.parametrize("content", [b"", b"\n", b"a", b"a\n", b"a\nb", b"a\n\n", b"a\r\nb\r\n",
                                     b"\n\nx"])
def test_reading_line_by_line_splits_like_bytes_split(content: bytes) -> None:
    assert read_lines(io.BytesIO(content)) == content.split(b"\n")
