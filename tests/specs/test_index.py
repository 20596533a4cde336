"""specs/README.md: the index table (with the optional Beads and Status columns) and terms."""

from __future__ import annotations

import os
from pathlib import Path

from tests.tasks.capped import run_capped
from tests.tasks.shared_data import real_specs_dir
from wrapix_core.specs.index import parse_index, read_index


def test_sample_readme() -> None:
    index = read_index(real_specs_dir())
    assert index is not None and index.problems == ()
    assert [entry.spec for entry in index.entries] == [
        "architecture", "sandbox", "profiles", "image-builder", "notifications",
        "linux-builder", "ralph-workflow", "beads"]
    sandbox = index.entry("sandbox")
    assert sandbox is not None
    assert sandbox.code == ("lib/sandbox/default.nix",) and sandbox.epic is None
    assert sandbox.purpose == "Platform-agnostic container isolation"
    assert index.entry("architecture") is not None
    assert len(index.terms) == 8 and index.terms[0].term == "Sandbox"


def test_beads_and_status_columns() -> None:
    index = parse_index("""# Specs

| Spec | Code | Beads | Status | Purpose |
|------|------|-------|--------|---------|
| [live.md](./live.md) | [`a.sh`](../a.sh), [`b/`](../b/) | wx-a13n | WIP | Live |
| [done.md](./done.md) | — | — | | Done |
| [rev.md](./rev.md) | — | wx-9 | review | Rev |
""")
    live, done, rev = index.entries
    assert (live.code, live.epic, live.state, live.purpose) == (("a.sh", "b/"), "wx-a13n",
                                                                "WIP", "Live")
    assert (done.code, done.epic, done.state) == ((), None, None)
    assert (rev.epic, rev.state) == ("wx-9", "REVIEW")


def test_marker_in_purpose_without_status_column() -> None:
    index = parse_index("| Spec | Purpose |\n|---|---|\n| a.md | WIP: building |\n"
                        "| [b](b.md) | **REVIEW** check |\n| c.md | Reviewing WIP later |\n")
    assert [(entry.spec, entry.state, entry.purpose) for entry in index.entries] == [
        ("a", "WIP", "building"), ("b", "REVIEW", "check"), ("c", None, "Reviewing WIP later")]


def test_no_table_is_a_problem_not_an_error() -> None:
    assert parse_index(b"\xff# nothing here").problems[-1].startswith("no spec table")


def test_links_to_devices_and_fifos_are_problems_not_hangs(tmp_path: Path) -> None:
    """A checkout may link specs/README.md to /dev/zero or hold a FIFO: neither may be read
    without end or waited on. Run apart, with a memory cap, so a regression fails fast."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "README.md").symlink_to("/dev/zero")
    os.mkfifo(specs / "pipe.md")
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from wrapix_core.specs.index import read_index\n"
            "from wrapix_core.specs.parser import read_spec\n"
            "specs = Path(sys.argv[1])\n"
            "print(read_index(specs).problems[0])\n"
            "print(read_spec(specs / 'pipe.md').problems[0])\n")
    link, fifo = run_capped(code, str(specs))
    assert link.startswith(f"{specs / 'README.md'}: cannot read: {specs / 'README.md'} is a "
                           "symbolic link; wrapix does not follow links in the workspace")
    assert fifo == f"cannot read: {specs / 'pipe.md'} is not a regular file"


def test_a_huge_index_is_read_only_in_part(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    with path.open("wb") as handle:
        handle.write(b"| Spec | Purpose |\n|---|---|\n| a.md | A |\n")
        handle.truncate(50_000_000)  # sparse: cheap to make, costly to read whole
    index = read_index(tmp_path)
    assert index is not None and [entry.spec for entry in index.entries] == ["a"]
    assert index.problems[0].startswith("file is 50000000 bytes; only the first")
