"""Ralph end to end in real sandboxes (rootless Podman; mandatory in CI): the fake agent
runs inside the wrapix image, mounted in and first on PATH as `claude`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.ralph.support import SPEC, Workspace, complete, final, install_agent, respond

pytestmark = [pytest.mark.podman]

PROFILE = """
[sandbox]
profile = "ralphtest"

[profiles.ralphtest]
base = "none"
image = "{image}"
env = {{ PATH = "/opt/fake:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }}

[[profiles.ralphtest.mounts]]
source = "{bin}"
dest = "/opt/fake"
mode = "ro"
"""


def ready_breakdown(review: bool) -> dict[str, object]:
    """The fake agent's ready session: an epic and two tasks, the second after the first."""
    labels = "rl-demo,ralph:proposed" if review else "rl-demo"
    create = ["wrapix", "tasks", "create", "--labels", labels, "--json"]
    return respond(
        {"say": "Reading specs/demo.md."},
        {"run": [*create, "--type", "epic", "--title", "Demo feature"], "save": "epic"},
        {"run": [*create, "--parent", "{epic}", "--priority", "1", "--title", "Do the thing",
                 "--description", "Implement requirement 1."], "save": "first"},
        {"run": [*create, "--parent", "{epic}", "--priority", "1", "--title", "Test the thing",
                 "--deps", "{first}"], "save": "second"},
        {"result": "Created the epic and two issues.\n\nREADY_COMPLETE"},
        phase="ready")


def sandbox_workspace(root: Path, image: str) -> Workspace:
    root.mkdir(parents=True)
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n\tbare = false\n")
    ws = Workspace(root, root.parent / "fakebin",
                   env_extra={"WRAPIX_RALPH__HOST": "false", "WRAPIX_RALPH__WATCHDOG": "5"})
    install_agent(ws.bin)
    (root / "wrapix.toml").write_text(PROFILE.format(image=image, bin=ws.bin))
    (root / "specs").mkdir()
    (root / "specs" / "demo.md").write_text(SPEC)
    return ws


def leftover_sandboxes(ws: Workspace) -> list[str]:
    listed = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}", "--filter",
                             f"label=wrapix.workspace={ws.root.resolve()}"],
                            capture_output=True, text=True, timeout=60, check=True)
    return listed.stdout.split()


def test_start_ready_loop_confirm_in_real_sandboxes(wrapix_image: str, tmp_path: Path) -> None:
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    ws.scenario(ready_breakdown(review=False),
                complete(None, 0, {"write": {"path": "built-{ISSUE_ID}.txt",
                                             "content": "made in the sandbox\n"}}))
    started = ws.ralph("start", "demo")
    assert started.returncode == 0, started.stderr
    ready = ws.ralph("ready", "--no-review", timeout=600)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "ready: 3 new issues under epic" in ready.stdout
    looped = ws.ralph("loop", "--confirm", input="y\na\n", timeout=600)
    assert looped.returncode == 100, looped.stdout + looped.stderr
    print(started.stdout, ready.stdout, looped.stdout, looped.stderr, sep="\n")

    calls = ws.calls()
    assert [call["phase"] for call in calls] == ["ready", "step", "step"]
    for call in calls:
        assert call["cwd"] == "/workspace"  # inside the sandbox
        assert call["env"]["RALPH_MODE"] == "1"
        assert call["env"]["RALPH_CMD"] == call["phase"]
        assert call["env"]["RALPH_DIR"] == ".wrapix/ralph"
        assert call["env"]["WRAPIX_SANDBOX"].endswith(
            f"-ralph-{call['issue']}" if call["issue"] else "-ralph-ready-demo")
    first, second = ws.worked()
    assert ws.issue(first)["title"] == "Do the thing"
    assert ws.issue(second)["title"] == "Test the thing"
    for issue in (first, second):
        assert ws.issue(issue)["status"] == "closed"
        made = ws.root / f"built-{issue}.txt"
        assert made.read_text() == "made in the sandbox\n"
        assert made.stat().st_uid == os.getuid()
    epic = json.loads((ws.ralph_dir / "state" / "demo.json").read_text())["epic"]
    assert ws.issue(epic)["status"] == "closed"
    assert looped.stdout.count("Work on it?") == 2  # y for the first, a(ll) for the rest
    assert leftover_sandboxes(ws) == []


def test_an_agent_hanging_in_a_sandbox_is_ended_and_its_container_removed(
        wrapix_image: str, tmp_path: Path) -> None:
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    ws.scenario(respond({"result": "WORK_COMPLETE"}, {"hang": 300, "ignore_term": True}))
    assert ws.ralph("start", "demo").returncode == 0
    issue = ws.create("Hang in the sandbox")
    done = ws.ralph("step", timeout=300, WRAPIX_RALPH__WATCHDOG="2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    assert leftover_sandboxes(ws) == []


def test_review_gate_with_real_sandboxes(wrapix_image: str, tmp_path: Path) -> None:
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    ws.scenario(ready_breakdown(review=True), complete(times=0))
    assert ws.ralph("start", "demo").returncode == 0
    ready = ws.ralph("ready", timeout=600)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "proposed for review: `ralph review demo`" in ready.stdout
    blocked = ws.ralph("loop", "--confirm", input="a\n", timeout=600)
    assert blocked.returncode == 101
    assert "2 issues await review: ralph review demo" in blocked.stdout
    assert "Work on it?" not in blocked.stdout
    reviewed = ws.ralph("review", input="y\ny\n")
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    looped = ws.ralph("loop", "--confirm", input="a\n", timeout=600)
    assert looped.returncode == 100, looped.stdout + looped.stderr
    assert [ws.issue(issue)["title"] for issue in ws.worked()] == ["Do the thing",
                                                                   "Test the thing"]
    assert leftover_sandboxes(ws) == []


def test_plan_interview_in_a_sandbox_on_a_terminal(wrapix_image: str, tmp_path: Path) -> None:
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    (ws.root / "specs" / "demo.md").unlink()
    ws.scenario(respond(
        {"text": "Hello from the sandbox."},
        {"ask": "What should the demo feature do?", "save": "goal"},
        {"write": {"path": "specs/demo.md", "content": "# Demo\n\n{goal}\n"}},
        {"text": "INTERVIEW_COMPLETE"}, phase="plan"))
    assert ws.ralph("start", "demo").returncode == 0
    # stdin is a pipe here; Ralph still gives `podman run -it` a terminal of its own
    done = ws.ralph("plan", input="Count the words\n", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "interview complete: the spec is specs/demo.md" in done.stdout
    assert (ws.root / "specs" / "demo.md").read_text() == "# Demo\n\nCount the words\n"
    [call] = ws.calls()
    assert call["cwd"] == "/workspace" and call["interactive"] is True
    assert call["env"]["RALPH_CMD"] == "plan"
    assert leftover_sandboxes(ws) == []


SANDBOX_CHECK = """\
import os, pathlib, sys
count = pathlib.Path(".check-count")
runs = int(count.read_text()) + 1 if count.exists() else 1
count.write_text(str(runs))
print(f"check run {runs} in {os.environ.get('WRAPIX_SANDBOX')}")
if runs == 1:
    print("FAILED test_thing - expected 2, got 3")
    sys.exit(1)
print("1 passed")
"""


def test_a_night_in_real_sandboxes_failure_question_checks_and_hooks(
        wrapix_image: str, tmp_path: Path) -> None:
    """Five issues: the second fails, the fourth asks; the others end with an inline
    signal; a check fails once (the first issue's first attempt) then passes; hooks on
    the host record their environment. The loop goes on and exits 1 with its summary."""
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    hooks = tmp_path / "hooks.jsonl"
    record = ["python3", "-c", "import json, os, sys; open(sys.argv[1], 'a').write(json.dumps("
              "{k: v for k, v in os.environ.items() if k.startswith('RALPH_')}) + '\\n')",
              str(hooks)]
    with (ws.root / "wrapix.toml").open("a") as handle:
        handle.write("\n[ralph]\ncheck = [\"python3 check.py\"]\nhooks_on_failure = true\n"
                     "[ralph.hooks]\n"
                     + "".join(f"{name} = {json.dumps(record)}\n"
                               for name in ("pre_loop", "post_step", "post_loop")))
    (ws.root / "check.py").write_text(SANDBOX_CHECK)
    assert ws.ralph("start", "demo").returncode == 0
    ids = [ws.create(f"Issue {n}", priority=1) for n in range(1, 6)]
    ws.scenario(final("no idea what to do", "Issue 2", times=0),
                final("RALPH_CLARIFY: which colour?", "Issue 4"),
                final("Implemented {ISSUE_ID}; the tests pass, so `WORK_COMPLETE`.",
                      times=0))
    done = ws.ralph("loop", timeout=900, WRAPIX_RALPH__RETRIES="1")
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 1, done.stdout + done.stderr
    first, second, third, fourth, fifth = ids
    # the first issue twice (its check failed once), the second twice (1 retry)
    assert ws.worked() == [first, first, second, second, third, fourth, fifth]
    assert all(call["cwd"] == "/workspace" for call in ws.calls())
    assert [ws.issue(i)["status"] for i in ids] == ["closed", "open", "closed", "open",
                                                    "closed"]
    assert "FAILED test_thing - expected 2, got 3" in ws.calls()[1]["prompt"]
    assert (f"loop demo: done 3 ({first}, {third}, {fifth}), parked 1 ({second}), "
            f"asked 1 ({fourth}), skipped 0") in done.stdout
    first_log = next(log for log in ws.logs() if log.name.startswith(first))
    text = first_log.read_text()
    assert "[check] check run 1 in " in text and f"-ralph-{first}-check" in text
    assert "[check] 1 passed" in text
    seen = [json.loads(line) for line in hooks.read_text().splitlines()]
    assert [env["RALPH_HOOK"] for env in seen] == ["pre_loop", *["post_step"] * 5,
                                                   "post_loop"]
    assert [(env["RALPH_ISSUE"], env["RALPH_OUTCOME"]) for env in seen[1:6]] == [
        (first, "completed"), (second, "failed"), (third, "completed"),
        (fourth, "clarify"), (fifth, "completed")]
    assert seen[-1]["RALPH_PARKED"] == second and seen[-1]["RALPH_EXIT"] == "1"
    assert seen[-1]["RALPH_DONE"] == f"{first} {third} {fifth}"
    assert seen[-1]["RALPH_ASKED"] == fourth
    assert leftover_sandboxes(ws) == []


def test_credentials_are_checked_for_the_sandbox(wrapix_image: str, tmp_path: Path) -> None:
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    assert ws.ralph("start", "demo").returncode == 0
    issue = ws.create("Needs a login")
    ws.scenario(complete())
    bare = ws.ralph("step", ANTHROPIC_API_KEY="", CLAUDE_CODE_OAUTH_TOKEN="")
    assert bare.returncode == 2
    assert "has no credentials in its sandbox" in bare.stderr
    assert not ws.calls() and ws.issue(issue)["status"] == "open"
    # a login kept in the workspace's .claude (the sandbox's ~/.claude) is enough
    (ws.root / ".claude").mkdir(exist_ok=True)
    (ws.root / ".claude" / ".credentials.json").write_text("{}")
    done = ws.ralph("step", timeout=300, ANTHROPIC_API_KEY="", CLAUDE_CODE_OAUTH_TOKEN="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    assert leftover_sandboxes(ws) == []


def test_children_of_an_agent_in_a_sandbox_end_with_it(wrapix_image: str,
                                                        tmp_path: Path) -> None:
    """The agent leaves `sleep 1000 &` holding its output and exits: the step ends soon
    after (not at the watchdog) and nothing of the sandbox is left."""
    import time

    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    assert ws.ralph("start", "demo").returncode == 0
    issue = ws.create("Leaves a child in the sandbox")
    ws.scenario(respond({"background": ["sleep", "1000"], "pid_file": "bg.pid"},
                        {"result": "Done. WORK_COMPLETE"}))
    started = time.monotonic()
    done = ws.ralph("step", timeout=300, WRAPIX_RALPH__WATCHDOG="120")
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    assert took < 90, f"the step took {took:.0f}s"
    assert leftover_sandboxes(ws) == []


PROFILE_TWO = """
[profiles.ralphtwo]
base = "none"
image = "{image}"

[profiles.ralphtwo.env]
PATH = "/opt/fake:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WHICH_PROFILE = "two"

[[profiles.ralphtwo.mounts]]
source = "{bin}"
dest = "/opt/fake"
mode = "ro"
"""


def test_loop_check_in_real_sandboxes_with_a_fixup_and_a_profile_label(
        wrapix_image: str, tmp_path: Path) -> None:
    """loop --check in real sandboxes: the reviewer runs in its own sandbox, creates one
    fix-up (labelled, linked to the epic by Ralph on the host), the loop works it, the
    second check is satisfied (exit 0). The fix-up asks for the profile `ralphtwo` with
    `profile:ralphtwo` and runs in that profile's sandbox."""
    ws = sandbox_workspace(tmp_path / "proj", wrapix_image)
    with (ws.root / "wrapix.toml").open("a") as handle:
        handle.write(PROFILE_TWO.format(image=wrapix_image, bin=ws.bin))
    record = {"run": ["sh", "-c", 'printf "%s" "${WHICH_PROFILE:-default}" > '
                                  'profile-{ISSUE_ID}.txt']}
    ws.scenario(
        respond({"say": "Reviewing specs/demo.md."},
                {"run": ["wrapix", "tasks", "create", "--title", "Fix-up: test empty input",
                         "--labels", "rl-demo,profile:ralphtwo", "--json"], "save": "fix"},
                {"result": "Created {fix} for a missing test.\n\nCHECK_COMPLETE"},
                phase="check"),
        respond({"result": "All requirements are met.\n\nCHECK_COMPLETE"}, phase="check"),
        complete(None, 0, record))
    assert ws.ralph("start", "demo").returncode == 0
    epic = ws.create("Demo feature", issue_type="epic")
    first = ws.create("Do the thing", parent=epic)
    done = ws.ralph("loop", "--check", timeout=900, WRAPIX_RALPH__REVIEW="false")
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ loop --check done: the checker is satisfied after 2 rounds" in done.stdout

    calls = ws.calls()
    assert [call["phase"] for call in calls] == ["step", "check", "step", "check"]
    for call in calls:
        assert call["cwd"] == "/workspace"  # every session inside a sandbox
        assert call["env"]["RALPH_CMD"] == call["phase"]
    assert calls[1]["env"]["WRAPIX_SANDBOX"].endswith("-ralph-check-demo")
    fixup = calls[2]["issue"]
    assert ws.worked() == [first, fixup]
    assert (ws.root / f"profile-{first}.txt").read_text() == "default"
    assert (ws.root / f"profile-{fixup}.txt").read_text() == "two"
    [listed] = [item for item in ws.tasks("list", "--all") if item["id"] == fixup]
    assert listed["status"] == "closed"
    assert any(dep["depends_on_id"] == epic and dep["type"] == "parent-child"
               for dep in listed["dependencies"])
    assert ws.issue(epic)["status"] == "closed"
    assert leftover_sandboxes(ws) == []
