"""`ralph check` and `ralph loop --check`, per-phase agents, and the smaller gaps of issue 17:
the whole question in `ralph msg` and `-a N`, `status --all` logs, the spec's README row
marked done, the spec's diff for a second `ralph ready`, `profile:NAME` issues."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ralph.support import FAKE_AGENT, Workspace, complete, final, respond
from wrapix_core.ralph.agent import HostRunner, LineCallback, SandboxRunner, Session, SessionResult
from wrapix_core.ralph.engine import Engine
from wrapix_core.ralph.events import StepOutcome
from wrapix_core.settings import load_settings

FIXUP = "Fix-up: handle empty input"


def checker_finds_one_then_approves() -> list[dict[str, object]]:
    """The reviewer: the first check creates one fix-up (labelled only, no parent: Ralph
    links it to the epic), the second finds nothing."""
    return [
        respond({"say": "Reading the spec and the diff."},
                {"run": ["wrapix", "tasks", "create", "--title", FIXUP, "--labels", "rl-demo",
                         "--description", "Empty input crashes.", "--json"], "save": "fix"},
                {"result": "One requirement is untested; created {fix}.\n\nCHECK_COMPLETE"},
                phase="check"),
        respond({"result": "Everything the spec asks is there.\n\nCHECK_COMPLETE"},
                phase="check"),
    ]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                           *args], cwd=root, capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout.strip()


def test_loop_check_works_the_fixup_then_ends_when_the_checker_is_satisfied(
        ws: Workspace) -> None:
    git(ws.root, "init", "-q")
    git(ws.root, "commit", "-q", "--allow-empty", "-m", "before ralph")
    base = git(ws.root, "rev-parse", "HEAD")
    epic = ws.create("Demo feature", issue_type="epic")
    first = ws.create("Do the thing", parent=epic)
    second = ws.create("Test the thing", parent=epic, deps=[first])
    ws.scenario(*checker_finds_one_then_approves(),
                complete(None, 0, {"run": ["git", "-c", "user.name=a", "-c",
                                           "user.email=a@example.com", "commit", "-q",
                                           "--allow-empty", "-m", "{ISSUE_ID}"]}))
    done = ws.ralph("loop", "--check", WRAPIX_RALPH__REVIEW="false")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ loop --check done: the checker is satisfied after 2 rounds" in done.stdout
    assert "check: the reviewer created 1 fix-up issue" in done.stdout
    assert "check complete: the reviewer found nothing missing in specs/demo.md" in done.stdout

    calls = ws.calls()
    assert [call["phase"] for call in calls] == ["step", "step", "check", "step", "check"]
    fixup = calls[3]["issue"]
    assert ws.worked() == [first, second, fixup]
    stored = ws.issue(fixup)
    assert stored["title"] == FIXUP and stored["status"] == "closed"
    assert "rl-demo" in stored["labels"]
    [listed] = [item for item in ws.tasks("list", "--all") if item["id"] == fixup]
    assert {"issue_id": fixup, "depends_on_id": epic, "type": "parent-child"}.items() <= \
        listed["dependencies"][0].items()
    assert "Fix-up from ralph check" in stored["notes"]
    assert ws.issue(epic)["status"] == "closed"  # reopened for the fix-up, closed again
    # the reviewer was told where the work started: the commit before the first step
    check_prompt = calls[2]["prompt"]
    assert check_prompt.startswith("# Ralph check: demo")
    assert f"`git diff {base}`" in check_prompt
    assert f"--parent {epic}" in check_prompt and "--labels rl-demo " in check_prompt
    assert "check round 1" in check_prompt and "check round 2" in calls[4]["prompt"]
    state = json.loads((ws.ralph_dir / "state" / "demo.json").read_text())
    assert state["base_commit"] == base
    assert state["iterations"]["check"] == 2
    # the last issue closed: the spec's row in specs/README.md is marked done
    readme = (ws.root / "specs" / "README.md").read_text()
    assert "| [demo.md](./demo.md) | — | Done: planned with `ralph plan` |" in readme
    assert "marked demo.md done in specs/README.md" in done.stderr


def test_check_alone_proposes_fixups_when_review_is_on_and_fails_without_a_signal(
        ws: Workspace) -> None:
    epic = ws.create("Demo feature", issue_type="epic")
    ws.create("Do the thing", parent=epic)
    ws.scenario(checker_finds_one_then_approves()[0],
                respond({"result": "I looked around."}, phase="check"))
    found = ws.ralph("check")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "review them with `ralph review demo`" in found.stdout
    [fixup] = [issue["id"] for issue in ws.tasks("list", "--label", "ralph:proposed")]
    assert ws.issue(fixup)["title"] == FIXUP
    assert json.loads(ws.ralph("review", "--json").stdout)["pending"] == 1
    silent = ws.ralph("check")
    assert silent.returncode == 1
    assert "check did not complete: the agent's final message has no signal" in silent.stdout
    assert ws.ralph("logs", "check", "-n", "3").returncode == 0


def test_loop_check_gives_up_after_max_iterations(ws: Workspace) -> None:
    ws.create("Do the thing")
    ws.scenario(respond({"run": ["wrapix", "tasks", "create", "--title", "Another gap {N}",
                                 "--labels", "rl-demo", "--json"]},
                        {"result": "CHECK_COMPLETE"}, phase="check", times=0),
                complete(times=0))
    done = ws.ralph("loop", "--check", WRAPIX_RALPH__REVIEW="false",
                    WRAPIX_RALPH__MAX_ITERATIONS="2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the checker still created fix-up issues after 2 rounds (ralph.max_iterations)" \
        in done.stdout
    assert [call["phase"] for call in ws.calls()] == ["step", "check", "step", "check"]


def test_per_phase_agents_fall_back_to_ralph_agent(ws: Workspace) -> None:
    (ws.ralph_dir / "config.toml").write_text(
        f'[agents]\ncheck = "{sys.executable} {FAKE_AGENT} --model reviewer"\n')
    ws.create("Do the thing")
    ws.scenario(complete(), respond({"result": "CHECK_COMPLETE"}, phase="check"))
    assert ws.ralph("step").returncode == 0
    assert ws.ralph("check").returncode == 0
    step_call, check_call = ws.calls()
    assert "--model" not in step_call["argv"]  # ralph.agent: `claude` on PATH
    assert check_call["argv"][:2] == ["--model", "reviewer"]


def test_msg_shows_the_whole_question_and_a_number_picks_an_option(ws: Workspace) -> None:
    issue = ws.create("Pick a store")
    ws.scenario(final("RALPH_CLARIFY: Which store should the cache use?\n\n"
                      "It must survive restarts.\n\n"
                      "## Options — pick one\n\n### Option 1 — SQLite\nOne file, no server.\n\n"
                      "### Option 2 — Postgres\nNeeds a server."))
    assert ws.ralph("step").returncode == 0
    listed = ws.ralph("msg").stdout
    for text in ("Which store should the cache use?", "It must survive restarts.",
                 "options — pick one:", "1. SQLite", "One file, no server.", "2. Postgres"):
        assert text in listed, listed
    shown = ws.ralph("msg", "-n", "1").stdout
    assert "2. Postgres" in shown and "(-a N picks option N)" in shown
    wrong = ws.ralph("msg", "-n", "1", "-a", "3")
    assert wrong.returncode == 2
    assert "offers options 1, 2; there is no option 3" in wrong.stderr
    picked = ws.ralph("msg", "-n", "1", "-a", "2")
    assert picked.returncode == 0, picked.stderr
    assert "with Option 2 — Postgres" in picked.stdout
    stored = ws.issue(issue)
    assert "ralph:clarify" not in stored["labels"]
    assert stored["notes"].endswith("): Option 2 — Postgres")


def test_status_all_shows_each_labels_own_last_log(ws: Workspace) -> None:
    demo = ws.create("Demo work")
    ws.scenario(complete(times=0))
    assert ws.ralph("step", "demo").returncode == 0
    (ws.root / "specs" / "other.md").write_text("# Other\n")
    assert ws.ralph("start", "other").returncode == 0
    other = ws.create("Other work", labels=["rl-other"])
    assert ws.ralph("step", "other").returncode == 0
    found = {item["label"]: item["last_log"]
             for item in json.loads(ws.ralph("status", "--all", "--json").stdout)}
    assert Path(found["demo"]).name.startswith(f"{demo}-")
    assert Path(found["other"]).name.startswith(f"{other}-")
    text = ws.ralph("status", "--all").stdout
    assert f"last log: {found['demo']}" in text and f"last log: {found['other']}" in text


def test_a_second_ready_gets_the_specs_diff(ws: Workspace) -> None:
    create = ["wrapix", "tasks", "create", "--labels", "rl-demo", "--json"]
    ws.scenario(respond({"run": [*create, "--type", "epic", "--title", "Demo"], "save": "epic"},
                        {"run": [*create, "--parent", "{epic}", "--title", "Do the thing"]},
                        {"result": "READY_COMPLETE"}, phase="ready"))
    assert ws.ralph("ready", "--no-review").returncode == 0
    assert "already has issues" not in ws.calls()[0]["prompt"]
    spec = ws.root / "specs" / "demo.md"
    spec.write_text(spec.read_text().replace("1. Do the thing\n",
                                             "1. Do the thing\n2. Log every call\n"))
    ws.scenario(respond({"run": [*create, "--title", "Log every call"]},
                        {"result": "READY_COMPLETE"}, phase="ready"))
    again = ws.ralph("ready", "--no-review")
    assert again.returncode == 0, again.stdout + again.stderr
    prompt = ws.calls()[0]["prompt"]
    assert "`specs/demo.md` changed since the last `ralph ready`" in prompt
    assert "+2. Log every call" in prompt and " 1. Do the thing" in prompt
    # unchanged since: said so, no diff
    ws.scenario(respond({"result": "READY_COMPLETE"}, phase="ready"))
    assert ws.ralph("ready", "--no-review").returncode == 0
    assert "has not changed since the last `ralph ready`" in ws.calls()[0]["prompt"]


def test_a_second_epic_is_reported_not_counted(ws: Workspace) -> None:
    create = ["wrapix", "tasks", "create", "--labels", "rl-demo", "--json"]
    breakdown = respond({"run": [*create, "--type", "epic", "--title", "Demo"], "save": "epic"},
                        {"run": [*create, "--parent", "{epic}", "--title", "Do {N}"]},
                        {"result": "READY_COMPLETE"}, phase="ready", times=2)
    ws.scenario(breakdown)
    assert ws.ralph("ready", "--no-review").returncode == 0
    epic = json.loads((ws.ralph_dir / "state" / "demo.json").read_text())["epic"]
    again = ws.ralph("ready", "--no-review")
    assert again.returncode == 1
    assert "the agent created another epic for demo" in again.stdout
    assert f"although {epic} is its epic" in again.stdout
    assert f"0 new issues under epic {epic}" in again.stdout
    held = ws.tasks("list", "--label", "ralph:proposed")
    assert len(held) == 2 and all("second epic" in ws.issue(item["id"])["notes"]
                                  for item in held)


class RecordingSandbox(SandboxRunner):
    """The real sandbox runner's launch request is recorded; the agent runs on the host."""

    def __init__(self, host: HostRunner, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.host = host
        self.profiles: list[str | None] = []

    async def run(self, session: Session, on_line: LineCallback) -> SessionResult:
        request = self.request(session, self.argv(session, interactive=False),
                               interactive=False)
        self.profiles.append(request.profile)
        return await self.host.run(session, on_line)


async def test_profile_label_picks_the_profile_and_an_unknown_one_parks_the_issue(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", ws.env()["PATH"])
    (ws.root / "wrapix.toml").write_text('[profiles.heavy]\nbase = "base"\n')
    plain = ws.create("Plain", priority=1)
    heavy = ws.create("Heavy", priority=2, labels=["rl-demo", "profile:heavy"])
    missing = ws.create("Missing", priority=3, labels=["rl-demo", "profile:nosuch"])
    ws.scenario(complete(times=0))
    settings = load_settings(ws.root)
    from wrapix_core.ralph.agent import agent_command
    from wrapix_core.ralph.state import ralph_paths, ralph_settings

    ralph = ralph_settings(settings, ralph_paths(ws.root)).model_copy(update={"host": False})
    agent = agent_command(ralph)
    runner = RecordingSandbox(HostRunner(ws.root, agent), ws.root, settings, ralph,
                              agent, ".wrapix/ralph")
    engine = Engine(ws.root, settings=settings, runner=runner, host=False)
    results = [await engine.step() for _ in range(3)]
    assert [result.outcome for result in results] == [
        StepOutcome.COMPLETED, StepOutcome.COMPLETED, StepOutcome.FAILED]
    assert runner.profiles == [None, "heavy"]  # the third never launched
    assert ws.worked() == [plain, heavy]
    parked = ws.issue(missing)
    assert "ralph:clarify" in parked["labels"] and parked["status"] == "open"
    assert "its label profile:nosuch names a profile that cannot be used: unknown profile " \
           "'nosuch'" in parked["notes"]
    assert "before starting the agent" in results[2].message


def test_host_side_reads_and_writes_never_follow_a_link_out_of_the_workspace(
        tmp_path: Path) -> None:
    from wrapix_core.ralph.history import read_workspace_text
    from wrapix_core.ralph.start import mark_spec_done

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "demo.md").write_text("# host secret\n")
    readme_text = "| Spec | Purpose |\n|---|---|\n| [demo.md](./demo.md) | WIP: x |\n"
    (outside / "README.md").write_text(readme_text)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "specs").symlink_to(outside)
    # the spec's text goes into a prompt: never read through a linked directory or file
    assert read_workspace_text(workspace, workspace / "specs" / "demo.md") is None
    real = tmp_path / "ws2"
    (real / "specs").mkdir(parents=True)
    (real / "specs" / "demo.md").symlink_to(outside / "demo.md")
    assert read_workspace_text(real, real / "specs" / "demo.md") is None
    (real / "specs" / "plain.md").write_text("# Plain\n")
    assert read_workspace_text(real, real / "specs" / "plain.md") == "# Plain\n"
    # the README row: not written through a linked specs/ or README.md
    assert "specs is a symbolic link" in mark_spec_done(workspace, "demo")
    (real / "specs" / "README.md").symlink_to(outside / "README.md")
    assert "README.md is a symbolic link" in mark_spec_done(real, "demo")
    assert (outside / "README.md").read_text() == readme_text
    (real / "specs" / "README.md").unlink()
    (real / "specs" / "README.md").write_text(readme_text.replace("| WIP: x |",
                                                                  "| REVIEW: x |"))
    assert mark_spec_done(real, "demo") == "marked demo.md done in specs/README.md"
    assert "| [demo.md](./demo.md) | Done: x |" in (real / "specs" / "README.md").read_text()
    assert "already marked done" in mark_spec_done(real, "demo")
    (real / "specs" / "README.md").write_text(
        "| Spec | Code | Status | Purpose |\n|---|---|---|---|\n"
        "| [other.md](./other.md) | — | WIP | Other |\n"
        "| [demo.md](./demo.md) | `x.py` | WIP | Demo |\n")
    assert mark_spec_done(real, "demo") == "marked demo.md done in specs/README.md"
    text = (real / "specs" / "README.md").read_text()
    assert "| [demo.md](./demo.md) | `x.py` | Done | Demo |" in text
    assert "| [other.md](./other.md) | — | WIP | Other |" in text
