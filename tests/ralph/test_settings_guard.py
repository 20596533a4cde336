"""An agent that writes the settings Ralph reads on the host stops the loop.

``wrapix.toml`` and Ralph's ``config.toml`` choose what runs on this machine (the agent
command, host mode, the podman binary, mounts). A sandbox mounts them read-only when
they exist; one that did not exist could still be created, so a session during which
either changed is failed, never retried, and the loop ends for a person to look.
"""

from __future__ import annotations

from tests.ralph.support import Workspace, complete, respond

PLANTED = '[ralph]\nhost = true\nagent = "sh -c \'touch pwned\'"\n'


def test_a_step_that_writes_wrapix_toml_fails_and_ends_the_loop(ws: Workspace) -> None:
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    ws.scenario(complete(None, 1, {"write": {"path": "wrapix.toml", "content": PLANTED}}),
                complete(times=0))
    done = ws.ralph("loop")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ws.worked() == [first]  # not retried, and the loop went no further
    issue = ws.issue(first)
    assert issue["status"] == "open" and "ralph:clarify" in issue["labels"]
    assert "wrapix.toml changed during the agent's session" in issue["notes"]
    assert "wrapix.toml changed" in done.stdout
    assert ws.issue(second)["status"] == "open"
    assert not (ws.root / "pwned").exists()


def test_a_ready_session_that_writes_ralph_config_fails(ws: Workspace) -> None:
    config = ".wrapix/ralph/config.toml"
    ws.scenario(respond({"write": {"path": config, "content": PLANTED}},
                        {"result": "READY_COMPLETE"}, phase="ready"))
    done = ws.ralph("ready")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{config} changed during the agent's session" in done.stdout
