"""The spec parser on the real sample specs, on annotations, and on hostile input."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tasks.shared_data import real_specs_dir
from wrapix_core.specs.model import Annotation, Spec
from wrapix_core.specs.parser import MAX_SPEC_BYTES, parse_spec, read_spec

EXPECTED = {  # file: (title, criteria total) — counted by hand from the files
    "architecture.md": ("Architecture", 0),
    "beads.md": ("Beads Issue Tracking", 5),
    "image-builder.md": ("OCI Image Builder", 5),
    "linux-builder.md": ("Linux Builder", 5),
    "notifications.md": ("Notification System", 5),
    "profiles.md": ("Profiles System", 5),
    "ralph-workflow.md": ("Ralph Workflow", 6),  # the 2 in its fenced example do not count
    "sandbox.md": ("Core Sandbox", 5),
}


def test_sample_specs_titles_and_criteria() -> None:
    for file, (title, total) in EXPECTED.items():
        spec = read_spec(real_specs_dir() / file)
        assert (spec.title, spec.criteria_total, spec.criteria_done) == (title, total, 0), file
        assert spec.problems == ()


def test_ralph_workflow_sections_in_detail() -> None:
    spec = read_spec(real_specs_dir() / "ralph-workflow.md")
    assert spec.summary == "Spec-driven AI orchestration for feature development."
    assert spec.requirements[0].text == \
        "Feature Initialization - ralph start creates feature workspace"
    assert {req.group for req in spec.requirements} == {"Functional", "Non-Functional"}
    assert len(spec.requirements) == 11
    assert spec.affected_files[0].path == "lib/ralph/ralph.sh"
    assert len(spec.affected_files) == 10
    assert spec.out_of_scope == ("Multi-feature parallel work", "Automated testing integration",
                                 "PR creation automation")
    assert spec.criteria[0].text == "ralph start creates valid spec structure"


def test_annotations_new_and_legacy_forms() -> None:
    spec = parse_spec("""# T

## Success Criteria

- [x] Fast [verify](tests/a.sh#test_fast)
- [ ] Clear
  [judge](tests/judges/b.sh::test_clear)
- [ ] Both [verify](tests/c%20d.sh) and [judge](j.sh#x), see [docs](https://x)
  - [x] nested counts too
- not a criterion
""", "t")
    assert [(c.text, c.done) for c in spec.criteria] == [
        ("Fast", True), ("Clear", False), ("Both and , see docs", False),
        ("nested counts too", True)]
    assert spec.criteria[0].annotations == (Annotation("verify", "tests/a.sh", "test_fast"),)
    assert spec.criteria[1].annotations == (
        Annotation("judge", "tests/judges/b.sh", "test_clear", legacy=True),)
    assert spec.criteria[2].annotations == (Annotation("verify", "tests/c d.sh", None),
                                            Annotation("judge", "j.sh", "x"))
    counts = spec.annotation_counts()
    assert (counts.verify, counts.judge, counts.unannotated) == (2, 2, 1)
    assert (spec.criteria_done, spec.criteria_total) == (2, 4)


def test_missing_headings_and_empty_input() -> None:
    assert parse_spec("", "e").problems == ("no title (a first-level '# Title' heading)",)
    spec = parse_spec("just text\n\n- [ ] orphan checkbox\n", "x")
    assert spec.title is None and spec.criteria == () and spec.summary == "just text"


def test_invalid_utf8_is_replaced_and_reported() -> None:
    spec = parse_spec(b"# Caf\xe9\n\n## Success Criteria\n- [ ] ok\n", "u")
    assert spec.title == "Caf\ufffd"
    assert spec.criteria_total == 1
    assert spec.problems == ("invalid UTF-8 at byte 5 (shown as U+FFFD)",)


def test_ten_megabyte_file_is_cut_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    chunk = b"# Huge\n\n## Success Criteria\n" + b"- [ ] item\n" * 1000
    path.write_bytes(chunk * (10_000_000 // len(chunk) + 1))
    spec = read_spec(path)
    assert spec.title == "Huge"
    assert spec.problems and "only the first" in spec.problems[0]
    assert 0 < spec.criteria_total <= MAX_SPEC_BYTES // 11


def test_unreadable_and_vanishing_files_give_problems(tmp_path: Path) -> None:
    assert read_spec(tmp_path / "gone.md").problems[0].startswith("cannot read")
    assert read_spec(tmp_path).problems[0].startswith("cannot read")  # a directory
    path = tmp_path / "flaky.md"
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            path.write_text("# Flaky\n\n## Success Criteria\n- [ ] a\n")
            path.unlink(missing_ok=True)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        results = {read_spec(path).title for _ in range(300)}
    finally:
        stop.set()
        worker.join()
    assert results <= {"Flaky", None}


def assert_parsed(spec: Spec) -> None:
    """parse_spec turns any exception into a problem, so "it did not raise" proves nothing:
    the parser itself must have coped, without its catch-all."""
    assert not [problem for problem in spec.problems if problem.startswith("could not parse")]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises_on_text(text: str) -> None:
    assert_parsed(parse_spec(text, "h"))


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_never_raises_on_bytes(data: bytes) -> None:
    assert_parsed(parse_spec(data, "h"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["# ", "## Success Criteria\n", "- [ ] ", "- [x] ", "[verify](",
                                 ")", "#", "::", "|a|b|\n|-|-|\n", "\n", "> ", "```\n", "*",
                                 "[", "]", "\x00", "\ufeff"]), max_size=60))
def test_never_raises_on_markdown_shaped_noise(parts: list[str]) -> None:
    spec = parse_spec("".join(parts), "n")
    assert_parsed(spec)
    assert spec.criteria_done <= spec.criteria_total


def test_file_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("# Secret\n")
    path.chmod(0)
    try:
        spec = read_spec(path)
        if os.geteuid() == 0:  # root reads anyway
            assert spec.title == "Secret"
        else:
            assert spec.problems[0].startswith("cannot read")
    finally:
        path.chmod(0o644)
