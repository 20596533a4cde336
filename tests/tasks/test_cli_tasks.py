"""`wrapix tasks` through click's runner and through the installed console script."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.cli import script
from wrapix_core import untrusted
from wrapix_core.cli.wrapix import wrapix

Invoke = Callable[..., str]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(wrapix, ["tasks", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_agent_workflow_with_bd_flags_and_json_shapes(run: Invoke, tmp_path: Path) -> None:
    run("init", "--prefix", "wx")
    epic = json.loads(run("create", "--title=Epic", "--type=epic", "-p", "P1", "--json"))
    assert epic["id"].startswith("wx-") and epic["issue_type"] == "epic"
    assert run("create", "Second", "--labels=a,b", f"--deps={epic['id']}").startswith(
        "Created issue: wx-")
    listed = json.loads(run("list", "--json"))
    second = next(item for item in listed if item["title"] == "Second")
    assert second["labels"] == ["a", "b"] and second["dependency_count"] == 1
    assert next(item for item in listed if item["id"] == epic["id"])["dependent_count"] == 1
    assert [item["id"] for item in json.loads(run("ready", "--json"))] == [epic["id"]]
    shown = json.loads(run("show", second["id"], "--json"))
    assert shown[0]["dependencies"][0]["id"] == epic["id"]
    assert shown[0]["dependencies"][0]["dependency_type"] == "blocks"
    assert json.loads(run("show", epic["id"], "--json"))[0]["dependents"][0]["id"] == second["id"]
    run("update", epic["id"], "--status", "in_progress", "--notes", "working")
    assert run("ready") == "No ready work.\n"
    closed = json.loads(run("close", epic["id"], "--reason", "shipped", "--json"))
    assert closed[0]["close_reason"] == "shipped"
    assert [item["id"] for item in json.loads(run("list", "--ready", "--json"))] == \
        [second["id"]]
    assert json.loads(run("label", "add", second["id"], "ralph:clarify", "--json"))[0] == \
        {"status": "added", "issue_id": second["id"], "label": "ralph:clarify"}
    assert run("ready") == "No ready work.\n"
    assert len(json.loads(run("list", "--label", "a", "--json"))) == 1
    assert json.loads(run("list", "--status", "closed", "--json"))[0]["id"] == epic["id"]
    assert len(json.loads(run("list", "--all", "--json"))) == 2
    third = json.loads(run("create", "Third", "--json"))
    assert json.loads(run("dep", "add", third["id"], second["id"], "--type", "related",
                          "--json"))["type"] == "related"


def test_bad_input_exits_2_missing_issue_exits_1(run: Invoke) -> None:
    assert "no .beads/" in run("list", code=2)
    run("init")
    assert "priority" in run("create", "x", "-p", "9", code=2)
    assert "not found" in run("show", "nope-1", code=1)
    assert "status" in run("update", "nope-1", "--status", "bogus", code=2)


def test_titles_are_printed_with_control_characters_escaped(run: Invoke) -> None:
    run("create", "evil \x1b]0;pwned\x07 \x1b[2J title")
    output = run("list")
    assert "\x1b" not in output and "\x07" not in output
    assert "\\x1b]0;pwned\\x07" in output


def test_closing_several_reports_each_one_closed_before_a_failure(run: Invoke) -> None:
    run("init", "--prefix", "wx")
    first = json.loads(run("create", "first", "--json"))["id"]
    output = run("close", first, "wx-missing", code=1)
    assert f"Closed {first}: Closed" in output and "wx-missing not found" in output


def test_ids_from_the_file_are_escaped_too(run: Invoke, tmp_path: Path) -> None:
    run("init", "--prefix", "wx")
    (tmp_path / ".beads" / "issues.jsonl").write_text(
        '{"id": "wx-\\u001b]0;pwn\\u0007", "title": "evil id"}\n'
        '{"id": "wx-2", "title": "blocked",'
        ' "dependencies": [{"depends_on_id": "wx-\\u001b]0;pwn\\u0007", "type": "blocks"}]}\n')
    evil = "wx-\x1b]0;pwn\x07"
    outputs = [run("list"), run("ready"), run("show", "wx-2"), run("show", evil),
               run("update", evil, "--notes", "n"), run("label", "add", evil, "x"),
               run("dep", "add", "wx-2", evil, "--type", "related"), run("close", evil)]
    for output in outputs:
        assert "\x1b" not in output and "\x07" not in output, output
    assert "(blocked by: wx-\\x1b]0;pwn\\x07)" in outputs[0]
    assert "Added label 'x' to wx-\\x1b]0;pwn\\x07" in outputs[5]


def test_text_that_cannot_be_encoded_is_escaped_not_a_traceback(run: Invoke,
                                                                tmp_path: Path) -> None:
    # JSON allows a lone surrogate ("\\ud800"); printed raw it cannot be encoded as UTF-8.
    run("init", "--prefix", "wx")
    (tmp_path / ".beads" / "issues.jsonl").write_text(
        '{"id": "wx-1", "title": "half \\ud800 pair\\u2028next", "notes": "a\\ud800\\nb"}\n')
    assert "half \\ud800 pair\\u2028next" in run("list")
    shown = run("show", "wx-1")
    assert "a\\ud800\nb" in shown  # block text keeps its newline


def test_display_escapes_what_sanitize_calls_unsafe() -> None:
    assert untrusted.line("ok \x1b[2J\u202e\ud800\U000f0000 ok\n") == \
        "ok \\x1b[2J\\u202e\\ud800\\U000f0000 ok\\x0a"
    assert untrusted.block("a\tb\nc\x07\u2029") == "a\tb\nc\\x07\\u2029"
    assert untrusted.line("Grüße 日本 🚀\u00a0") == "Grüße 日本 🚀\u00a0"


def test_installed_console_script_finds_workspace_above_cwd(tmp_path: Path) -> None:
    wrapix_bin = script("wrapix")
    subprocess.run([wrapix_bin, "tasks", "init", "--prefix", "cs"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)
    nested = tmp_path / "src" / "deep"
    nested.mkdir(parents=True)
    made = subprocess.run([wrapix_bin, "tasks", "create", "--title=From below", "--json"],
                          cwd=nested, check=True, capture_output=True, text=True, timeout=60)
    created = json.loads(made.stdout)
    assert created["id"].startswith("cs-")
    listed = subprocess.run([wrapix_bin, "tasks", "--dir", str(nested), "list", "--json"],
                            check=True, capture_output=True, text=True, timeout=60)
    assert [item["id"] for item in json.loads(listed.stdout)] == [created["id"]]
    assert (tmp_path / ".beads" / "issues.jsonl").read_text().count("\n") == 1
