"""Real rootless Podman and real git: sessions of one project running at once.

Two sandboxes on two sessions commit at the same time; `wrapix sessions` shows each one's
figures; from inside a session's sandbox every write that would reach the project's
repository (hooks, config, refs, objects, other branches) or another session's workspace
fails; setup commands run before the agent and a failing one is said; an instruction
typed with `wrapix say` reaches the agent running inside tmux (a fake agent that writes
down every line it reads).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.sandbox.test_podman_real import Env, podman_exec
from tests.sessions.support import make_project, snapshot
from tests.support.gitplant import git

pytestmark = [pytest.mark.podman]

ECHO_AGENT = ("sh", "-c", 'while IFS= read -r line; do printf "%s\\n" "$line" >> '
              '/workspace/received.txt; done')
"""The fake agent: writes down every line typed into it."""


@pytest.fixture
def env(tmp_path: Path) -> Env:
    project = make_project(tmp_path / "proj")
    git(project, "config", "user.name", "Tester")
    git(project, "config", "user.email", "tester@example.com")
    (project / ".git" / "hooks").mkdir(exist_ok=True)
    return Env(tmp_path, project, tmp_path / "data")


def start(env: Env, image: str, session: str, names: list[str],
          command: tuple[str, ...] = ("sleep", "600")) -> str:
    done = env.wrapix("run", "--session", session, "--detach", "--json", "--image", image,
                      str(env.workspace), "--", *command)
    name: str = json.loads(done.stdout)["name"]
    names.append(name)
    return name


def inside(podman: str, name: str, script_: str) -> subprocess.CompletedProcess[str]:
    return podman_exec(podman, name, f"cd /workspace && {script_}")


def session_path(env: Env, name: str) -> Path:
    listed = json.loads(env.wrapix("sessions", "--json").stdout)
    return Path(next(item["path"] for item in listed if item["name"] == name))


def wait_for(check: object, what: str, timeout: float = 30.0) -> None:
    """Wait until ``check()`` is true (a process in a container: nothing to subscribe to)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_two_sessions_commit_at_once_and_sessions_shows_each(
        podman: str, wrapix_image: str, env: Env, cleanup: list[str]) -> None:
    one = start(env, wrapix_image, "one", cleanup)
    two = start(env, wrapix_image, "two", cleanup)
    procs = [subprocess.Popen([podman, "exec", name, "sh", "-c", f"cd /workspace && {script}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, script in (
                 (one, "echo one >> f0.txt && git commit -qam 'one: f0'"
                       " && echo new > one.txt && git add one.txt && git commit -qm 'one: new'"),
                 (two, "printf 'a\\nb\\nc\\n' > two.txt && git add two.txt"
                       " && git commit -qm 'two: add' && echo wip >> f1.txt"))]
    for process in procs:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    listed = {item["name"]: item for item in json.loads(env.wrapix("sessions", "--json").stdout)}
    assert set(listed) == {"one", "two"}
    first, second = listed["one"]["stats"], listed["two"]["stats"]
    assert (first["ahead"], first["files"], first["added"], first["uncommitted"]) == (
        2, 2, 2, [])
    assert (second["ahead"], second["files"], second["added"], second["uncommitted"]) == (
        1, 1, 3, ["f1.txt"])
    assert first["merges_cleanly"] is True and second["merges_cleanly"] is True
    assert listed["one"]["sandbox"] == "running" and listed["two"]["sandbox"] == "running"
    table = env.wrapix("sessions").stdout
    assert "wrapix/one" in table and "wrapix/two" in table
    # The user's checkout saw none of it.
    assert git(env.workspace, "log", "--oneline").stdout.count("\n") == 1
    assert git(env.workspace, "status", "--porcelain").stdout == ""
    # Landed: the session's commits arrive in the checkout.
    merged = env.wrapix("merge", "one")
    assert "merged session one into main" in merged.stdout
    assert (env.workspace / "one.txt").read_text() == "new\n"
    refused = env.wrapix("discard", "two", "--yes", check=False)
    assert refused.returncode == 2 and "not merged" in refused.stderr
    gone = env.wrapix("discard", "two", "--yes", "--force")
    assert "discarded session two" in gone.stdout
    assert subprocess.run([podman, "container", "exists", two],
                          timeout=60).returncode == 1


def test_escapes_from_a_session_sandbox_all_fail(
        podman: str, wrapix_image: str, env: Env, cleanup: list[str]) -> None:
    project = env.workspace
    one = start(env, wrapix_image, "one", cleanup)
    start(env, wrapix_image, "two", cleanup)
    other = session_path(env, "two")
    objects = (project / ".git" / "objects").resolve()
    before = snapshot(project)
    config_before = (project / ".git" / "config").read_bytes()
    other_before = sorted(str(p) for p in other.rglob("*"))
    main = git(project, "rev-parse", "main").stdout.strip()
    attempts = {
        "project hook": f"printf '#!/bin/sh\\ntouch /tmp/x\\n' > {project}/.git/hooks/pre-commit",
        "project config": f"git config --file {project}/.git/config core.fsmonitor evil",
        "project ref": f"echo {main} > {project}/.git/refs/heads/evil",
        "project branch by push": f"git push {project} HEAD:refs/heads/main",
        "project objects": f"touch {objects}/planted",
        "project pack": f"cp -r .git/objects/info {objects}/pack/x",
        "other session": f"touch {other}/planted",
        "other session by path": "ls /workspace/../ | grep -q two && touch ../two/planted",
        "own hooks": "printf '#!/bin/sh\\n' > .git/hooks/post-commit",
        "own config": "git config core.fsmonitor evil",
        "own alternates": "echo /tmp > .git/objects/info/alternates",
        "own alternates removed": "rm .git/objects/info/alternates",
        "own objects dir swapped": "mv .git/objects .git/objects.away",
    }
    reasons = ("Read-only file system", "No such file or directory", "nonexistent", "busy",
               "does not appear to be a git repository", "could not lock config file")
    for what, script_ in attempts.items():
        done = inside(podman, one, script_)
        assert done.returncode != 0, f"{what} succeeded from inside: {done.stdout}"
        if what != "other session by path":  # grep finds nothing: no error to show
            assert any(reason in done.stderr for reason in reasons), (what, done.stderr)
    # The same kind of writes in the session's own work tree work (a control).
    done = inside(podman, one, "touch planted-ok && git add planted-ok && git commit -qm ok")
    assert done.returncode == 0, done.stderr
    # And the sandbox still works as a repository: it reads the project's objects.
    done = inside(podman, one, "git log --oneline | wc -l && git status --porcelain")
    assert done.returncode == 0 and done.stdout.split()[0] == "2", done.stderr
    assert snapshot(project) == before
    assert (project / ".git" / "config").read_bytes() == config_before
    assert not (project / ".git" / "hooks" / "pre-commit").exists()
    assert not (objects / "planted").exists()
    assert sorted(str(p) for p in other.rglob("*")) == other_before
    assert git(project, "for-each-ref", "--format=%(refname)", "refs/heads").stdout == (
        "refs/heads/main\n")


def test_setup_runs_before_the_agent_and_a_failure_is_said(
        podman: str, wrapix_image: str, env: Env) -> None:
    project = env.workspace
    (project / ".env").write_text("SECRET=1\n")
    (project / "wrapix.toml").write_text(
        '[session]\ncopy = [".env"]\nsetup = [["sh", "-c", "cat .env > setup.out"], '
        '"echo hello from setup"]\n')
    done = env.wrapix("run", "--session", "ok", "--image", wrapix_image, str(project), "--",
                      "cat", "setup.out", check=False)
    assert done.returncode == 0, done.stderr
    assert "wrapix: setup: echo hello from setup" in done.stdout
    assert "hello from setup" in done.stdout and "SECRET=1" in done.stdout
    assert done.stdout.index("wrapix: setup done") < done.stdout.rindex("SECRET=1")
    (project / "wrapix.toml").write_text('[session]\nsetup = [["sh", "-c", "exit 4"]]\n')
    failed = env.wrapix("run", "--session", "bad", "--image", wrapix_image, str(project),
                        "--", "touch", "agent-ran", check=False)
    assert failed.returncode == 3
    assert "wrapix: setup failed: sh -c 'exit 4'" in failed.stderr
    assert "setup failed" in failed.stderr and "agent was not started" in failed.stderr
    assert not (session_path(env, "bad") / "agent-ran").exists()


def test_an_instruction_arrives_in_the_running_agent(
        podman: str, wrapix_image: str, env: Env, cleanup: list[str]) -> None:
    name = start(env, wrapix_image, "talk", cleanup, command=ECHO_AGENT)
    wait_for(lambda: podman_exec(podman, name, "tmux -L wrapix has-session -t agent"
                                 ).returncode == 0, "the agent's tmux session")
    said = env.wrapix("say", "talk", "please fix the failing test\x1b[2J")
    assert "sent to" in said.stdout
    received = session_path(env, "talk") / "received.txt"
    wait_for(lambda: received.exists() and received.read_text().endswith("\n"),
             "the instruction to arrive")
    assert received.read_text() == "please fix the failing test[2J\n"
    direct = env.wrapix("run", "--direct", "--detach", "--json", "--name", "plain-one",
                        "--image", wrapix_image, str(env.workspace), "--", "sleep", "600")
    cleanup.append(json.loads(direct.stdout)["name"])
    refused = subprocess.run(
        [podman, "exec", "-i", "plain-one", "sh", "-c", "tmux -L wrapix has-session"],
        capture_output=True, timeout=60, check=False)
    assert refused.returncode != 0  # a direct sandbox runs no agent tmux
