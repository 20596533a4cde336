"""`ralph board` and `ralph spec` (counts, --verbose, --json, --verify)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from tests.support.cli import script
from tests.tasks.shared_data import make_workspace
from wrapix_core.cli.ralph import ralph


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(ralph, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_board_json_over_real_workspace_via_console_script(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    done = subprocess.run([script("ralph"), "board", "--json", str(workspace)],
                          capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(done.stdout)
    assert [card["name"] for card in data["specs"]][:2] == ["architecture", "sandbox"]
    assert data["issues"]["ready"] == ["frankenredis-420d4", "frankenredis-8pvi2",
                                       "frankenredis-tr8aj"]
    text = invoke("board", str(workspace))
    assert "ralph-workflow.md" in text and "criteria 0/6" in text


def test_board_escapes_untrusted_titles(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "evil.md").write_text("# Evil \x1b[31m[bold]red[/bold]\n")
    output = invoke("board", str(tmp_path))
    assert "\x1b" not in output and "[bold]red[/bold]" in output


def test_board_escapes_untrusted_issue_ids(tmp_path: Path) -> None:
    # Ids come from .beads/issues.jsonl like titles do: a cloned repository can hold anything.
    (tmp_path / ".beads").mkdir()
    (tmp_path / ".beads" / "issues.jsonl").write_text(
        '{"id": "wx-\\u001b]0;pwn\\u0007", "title": "t", "labels": ["rl-evil"]}\n'
        '{"id": "wx-b", "title": "b", "labels": ["ralph:clarify"], "notes": "why?",'
        ' "dependencies": [{"depends_on_id": "wx-\\u001b[2J", "type": "blocks"}]}\n'
        '{"id": "wx-\\u001b[2J", "title": "blocker"}\n')
    output = invoke("board", str(tmp_path))
    assert "\x1b" not in output and "\x07" not in output
    assert "Ready: wx-\\x1b[2J, wx-\\x1b]0;pwn\\x07" in output
    assert "Blocked wx-b: by wx-\\x1b[2J (dependency, open)" in output


def test_spec_counts_verbose_and_json(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", issues=False)
    (workspace / "specs" / "live.md").write_text(
        "# Live\n\n## Success Criteria\n- [ ] a [verify](tests/a.sh#t)\n"
        "- [ ] b [judge](tests/j.sh::t)\n- [x] c\n")
    output = invoke("spec", "--dir", str(workspace))
    assert "live.md            1 verify, 1 judge, 1 unannotated" in output
    assert output.rstrip().endswith("Total: 1 verify, 1 judge, 37 unannotated")
    assert "(verify tests/a.sh#t)" in invoke("spec", "--verbose", "--dir", str(workspace))
    data = json.loads(invoke("spec", "--json", "--dir", str(workspace)))
    live = next(item for item in data if item["name"] == "live")
    assert live["counts"] == {"verify": 1, "judge": 1, "unannotated": 1}


def test_spec_verify_runs_functions_by_argv(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "checks.sh").write_text(
        "ok() { true; }\nbad() { echo broken >&2; return 3; }\nskip() { return 77; }\n"
        "slow() { sleep 30; }\n")
    marker = tmp_path / "pwned"
    (tmp_path / "specs" / "s.md").write_text(
        "# S\n\n## Success Criteria\n"
        "- [ ] passes [verify](tests/checks.sh#ok)\n"
        "- [ ] fails [verify](tests/checks.sh#bad)\n"
        "- [ ] skips [verify](tests/checks.sh#skip)\n"
        "- [ ] hangs [verify](tests/checks.sh#slow)\n"
        "- [ ] not a function [verify](tests/checks.sh#touch)\n"
        f"- [ ] injection [verify](tests/checks.sh#ok;touch%20{marker})\n"
        "- [ ] escapes [verify](../../etc/passwd#x)\n"
        "- [ ] judged [judge](tests/j.sh#x)\n")
    output = invoke("spec", "--verify", "--spec", "s", "--timeout", "2", "--dir", str(tmp_path),
                    code=1)
    assert "[PASS] passes" in output and "[SKIP] skips" in output
    assert "exit 3: broken" in output and "timed out after 2s" in output
    assert "no function touch" in output and "outside the workspace" in output
    assert "(judge only)" in output
    assert output.rstrip().splitlines()[-1] == "1 passed, 5 failed, 2 skipped"
    assert not marker.exists()
    data = json.loads(invoke("spec", "--verify", "--json", "--spec", "s.md", "--timeout", "2",
                             "--dir", str(tmp_path), code=1))
    assert (data["passed"], data["failed"], data["skipped"]) == (1, 5, 2)


def test_spec_verify_exit_zero_when_all_pass(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "t.sh").write_text("exit 0\n")
    (tmp_path / "specs" / "s.md").write_text("# S\n\n## Success Criteria\n- [x] ok "
                                             "[verify](t.sh)\n")
    assert invoke("spec", "--verify", "--dir", str(tmp_path)).rstrip().endswith(
        "1 passed, 0 failed, 0 skipped")
    assert "no spec nope.md" in invoke("spec", "--verify", "--spec", "nope", "--dir",
                                      str(tmp_path), code=2)


def test_spec_verify_refuses_a_timeout_that_cannot_be_met(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    for value in ("0", "-5"):
        assert "--timeout" in invoke("spec", "--verify", "--timeout", value, "--dir",
                                     str(tmp_path), code=2)
