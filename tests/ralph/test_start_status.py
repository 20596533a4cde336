"""`ralph start`, `use`, `status`, `logs`, and the state directory (RALPH_DIR, config.toml)."""

from __future__ import annotations

import json
import select
from pathlib import Path

import pytest

from tests.ralph.support import SPEC, Workspace, complete, install_agent, make_workspace
from wrapix_core.ralph.state import ralph_paths, ralph_settings
from wrapix_core.settings import Settings


def test_start_creates_state_and_never_overwrites(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "proj", spec=None)
    state = ws.ralph_dir / "state" / "demo.json"
    data = json.loads(state.read_text())
    assert data["label"] == "demo" and data["spec"] == "specs/demo.md"
    assert (ws.ralph_dir / "state" / "current").read_text().strip() == "demo"
    for phase in ("plan", "ready", "step"):
        assert (ws.ralph_dir / "templates" / f"{phase}.md").is_file()
    assert (ws.ralph_dir / "config.toml").is_file()
    assert (ws.root / ".beads" / "issues.jsonl").is_file()
    readme = (ws.root / "specs" / "README.md").read_text()
    assert "[demo.md](./demo.md)" in readme
    # run again after local changes: nothing is overwritten
    (ws.ralph_dir / "templates" / "step.md").write_text("mine WORK_COMPLETE\n")
    state.write_text(json.dumps({**data, "epic": "x-1", "custom": 1}))
    again = ws.ralph("start", "demo")
    assert again.returncode == 0
    assert "exists: kept as it is" in again.stdout
    assert (ws.ralph_dir / "templates" / "step.md").read_text() == "mine WORK_COMPLETE\n"
    assert json.loads(state.read_text())["custom"] == 1
    assert (ws.root / "specs" / "README.md").read_text() == readme


def test_start_adds_a_row_to_an_existing_index(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "README.md").write_text(
        "# Specs\n\n| Spec | Code | Beads | Purpose |\n|---|---|---|---|\n"
        "| [old.md](./old.md) | `x` | — | Old |\n\nMore text.\n")
    ws = make_workspace(root, "new-thing", spec=SPEC)
    readme = (root / "specs" / "README.md").read_text()
    assert "| [new-thing.md](./new-thing.md) | — | — | WIP: planned with `ralph plan` |\n" \
        "\nMore text." in readme
    board = json.loads(ws.ralph("board", "--json").stdout)
    assert [card["name"] for card in board["specs"]] == ["old", "new-thing"]


def test_start_without_a_label_picks_one_and_rejects_bad_ones(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    ws = Workspace(root, tmp_path / "bin")
    install_agent(ws.bin)
    done = ws.ralph("start")
    assert done.returncode == 0
    label = (root / ".wrapix" / "ralph" / "state" / "current").read_text().strip()
    assert f"Ralph label: {label}" in done.stdout
    bad = ws.ralph("start", "Bad Label")
    assert bad.returncode == 2
    assert "label 'Bad Label' is not valid" in bad.stderr


def test_use_switches_and_refuses_unknown_labels(ws: Workspace) -> None:
    assert ws.ralph("start", "second").returncode == 0
    assert ws.ralph("use", "demo").stdout.strip() == "current label: demo"
    missing = ws.ralph("use", "nope")
    assert missing.returncode == 2
    assert "label 'nope' has no Ralph state" in missing.stderr
    assert "started labels: demo, second" in missing.stderr


def test_commands_before_start_say_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    ws = Workspace(root, tmp_path / "bin")
    for args in (["step"], ["loop"], ["status"], ["ready"]):
        done = ws.ralph(*args)
        assert done.returncode == 2, args
        assert "ralph start" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize("spec", ["/etc/passwd", "../../.ssh/notes.md", "specs/../../x.md"])
def test_a_spec_outside_the_workspace_is_refused(ws: Workspace, spec: str) -> None:
    state = ws.ralph_dir / "state" / "demo.json"
    data = json.loads(state.read_text())
    state.write_text(json.dumps({**data, "spec": spec}))
    for args in (["status"], ["step"], ["ready"]):
        done = ws.ralph(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "is not a path inside the workspace" in done.stderr
    assert ws.calls() == []


def test_status_counts_next_and_json(ws: Workspace) -> None:
    first = ws.create("First", priority=1)
    ws.create("Second", priority=2)
    closed = ws.create("Closed")
    ws.tasks("close", closed)
    ws.create("Asks", labels=("rl-demo", "ralph:clarify"))
    done = ws.ralph("status")
    assert done.returncode == 0
    out = done.stdout
    assert "Ralph: demo (current)" in out
    assert "specs/demo.md — Demo feature [WIP]  criteria 0/2" in out
    assert "issues:   4 — 1 closed, 3 open  (25% done)" in out
    assert f"next:     {first} [P1] First  (2 ready)" in out
    assert "clarify:" in out
    data = json.loads(ws.ralph("status", "--json").stdout)
    assert data["issues"]["percent"] == 25
    assert data["next"]["id"] == first
    assert data["spec"]["state"] == "WIP"


def test_logs_selectors(ws: Workspace) -> None:
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    ws.scenario(complete(times=0))
    assert ws.ralph("loop").returncode == 100
    listed = ws.ralph("logs", "--list").stdout.split()
    assert len(listed) == 2
    assert ws.ralph("logs", "--list", first).stdout.split() == [listed[0]]
    latest = ws.ralph("logs", "-n", "3")
    assert f"Implemented and tested {second}." in latest.stdout
    assert len(latest.stdout.splitlines()) == 3
    assert ws.ralph("logs", "step", "--list").stdout.split() == listed
    none = ws.ralph("logs", "ready")
    assert none.returncode == 2 and "no Ralph logs for ready" in none.stderr


def test_ralph_dir_override_and_config_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    ws = Workspace(root, tmp_path / "bin", env_extra={"RALPH_DIR": "elsewhere/ralph"})
    install_agent(ws.bin)
    assert ws.ralph("start", "demo").returncode == 0
    assert (root / "elsewhere" / "ralph" / "state" / "demo.json").is_file()
    assert not (root / ".wrapix").exists()
    paths = ralph_paths(root, {"RALPH_DIR": "elsewhere/ralph"})
    paths.config.write_text('retries = 0\nagent = "my-agent --flag"\n')
    assert ralph_settings(Settings(), paths).retries == 0  # config.toml over the default
    assert ralph_settings(Settings(), paths).agent == "my-agent --flag"
    monkeypatch.setenv("WRAPIX_RALPH__RETRIES", "5")  # the environment wins over the file
    assert ralph_settings(Settings(), paths).retries == 5
    settings = Settings()
    paths.config.write_text("retries = 99\n")
    with pytest.raises(Exception, match=r"config\.toml: key 'retries'"):
        ralph_settings(settings, paths, env={})


def test_logs_follow_prints_new_lines(ws: Workspace) -> None:
    issue = ws.create("Followed")
    ws.scenario(complete())
    assert ws.ralph("step").returncode == 0
    follower = ws.popen("logs", issue, "-f", "-n", "1")

    def next_line() -> str:
        assert follower.stdout is not None
        ready, _, _ = select.select([follower.stdout], [], [], 30)
        assert ready, "ralph logs -f printed nothing within 30 s"
        return follower.stdout.readline()

    try:
        first = next_line()
        assert "WORK_COMPLETE" in first
        [log] = ws.logs()
        # Appended at once: the follower must not lose a line written between its first
        # read and the start of its watch.
        with log.open("a") as handle:
            handle.write('{"type": "assistant", "message": {"content": [{"type": "text", '
                         '"text": "appended later \\u001b[31m"}]}}\n')
        assert next_line() == "appended later \\x1b[31m\n"
        with log.open("a") as handle:
            handle.write('{"type": "assistant", "message": {"content": [{"type": "text", '
                         '"text": "and later still"}]}}\n')
        assert next_line() == "and later still\n"
    finally:
        follower.terminate()
        follower.communicate(timeout=30)
