"""Real images with real agents from the npm registry, in real sandboxes (real Podman;
mandatory in CI). One image holds all four agents and is built once per run (shared by
every test here); how long each agent's layer took and how big it is is printed, and
written to ``$WRAPIX_AGENT_BUILD_REPORT`` when that is set.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.notify.test_from_sandbox import Notifyd
from tests.support import images
from tests.support.cli import script
from wrapix_core.image.builder import ImageBuilder
from wrapix_core.image.progress import BuildEvent
from wrapix_core.profiles import derive_profile
from wrapix_core.settings import ImageSettings, SandboxSettings

pytestmark = [pytest.mark.podman]

HOOKS = Path(__file__).resolve().parent.parent / "support" / "agent_hooks.py"
ALL = ("claude", "codex", "gemini", "opencode")
VERSION = {"claude": r"\d+\.\d+\.\d+ \(Claude Code\)", "codex": r"codex-cli \d+\.\d+\.\d+",
           "gemini": r"^\d+\.\d+\.\d+$", "opencode": r"^\d+\.\d+\.\d+$"}


def _layers(podman: str, image: str) -> list[tuple[str, int]]:
    done = subprocess.run([podman, "history", "--no-trunc", "--format", "json", image],
                          capture_output=True, text=True, timeout=60, check=True)
    return [(entry.get("CreatedBy") or entry.get("createdBy") or "",
             int(entry.get("Size") or entry.get("size") or 0))
            for entry in json.loads(done.stdout)]


@pytest.fixture(scope="module")
def agents_image(debian_image: str, podman: str) -> str:
    """The test profile with all four agents (the latest of each), built once."""
    profile = derive_profile(images.TEST_PROFILE, name="wrapix-test-agents", agent="claude",
                             agents=("codex", "gemini", "opencode"))
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=debian_image))
    steps: list[tuple[float, str]] = []

    def on_event(event: BuildEvent) -> None:
        if event.starts_step:
            steps.append((time.monotonic(), event.line))

    started = time.monotonic()
    built = asyncio.run(builder.ensure(profile, backend="containerfile", on_event=on_event))
    ended = time.monotonic()
    report: dict[str, dict[str, float]] = {}
    bounds = [*steps, (ended, "")]
    for (at, line), (after, _next) in itertools.pairwise(bounds):
        found = re.search(r"install-agent\.py (\w+)", line)
        if found:
            report.setdefault(found.group(1), {})["build_seconds"] = round(after - at, 1)
    for created_by, size in _layers(podman, built.tag):
        found = re.search(r"install-agent\.py (\w+)", created_by)
        if found and found.group(1) in report:
            report[found.group(1)]["size_mb"] = round(size / 1e6, 1)
    report["_image"] = {"built": float(built.built), "seconds": round(ended - started, 1)}
    print("agent layers (build seconds, size MB):", json.dumps(report, sort_keys=True))
    if os.environ.get("WRAPIX_AGENT_BUILD_REPORT"):
        Path(os.environ["WRAPIX_AGENT_BUILD_REPORT"]).write_text(json.dumps(report, indent=2))
    return built.tag


def _workspace(root: Path) -> Path:
    ws = root / "proj"
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n")
    return ws


def _wrapix(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script("wrapix"), *args], capture_output=True, text=True, cwd=cwd,
                          env=env or dict(os.environ), timeout=timeout, check=False)


def test_each_agent_runs_its_version_in_a_sandbox(agents_image: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    command = "; ".join(f"echo '== {name}'; {name} --version" for name in ALL)
    done = _wrapix("run", "--image", agents_image, str(ws), "--", "bash", "-c", command, cwd=ws)
    assert done.returncode == 0, done.stderr
    print(done.stdout)  # the evidence
    outputs = dict(re.findall(r"== (\w+)\n(.*?)(?=\n== |\Z)", done.stdout, re.DOTALL))
    for name in ALL:
        assert re.search(VERSION[name], outputs[name].strip(), re.MULTILINE), (name, outputs)


def test_the_recipe_installs_only_the_profiles_agents(agents_image: str, wrapix_image: str,
                                                       tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    probe = "for a in claude codex gemini opencode node; do command -v $a || echo no-$a; done"
    with_all = _wrapix("run", "--image", agents_image, str(ws), "--", "sh", "-c", probe, cwd=ws)
    without = _wrapix("run", "--image", wrapix_image, str(ws), "--", "sh", "-c", probe, cwd=ws)
    assert with_all.returncode == 0 and without.returncode == 0, with_all.stderr + without.stderr
    assert "no-" not in with_all.stdout, with_all.stdout
    for name in ("claude", "codex", "gemini", "opencode", "node"):
        assert f"no-{name}" in without.stdout  # the no-agent test profile has none of them


def test_each_agents_own_notification_hook_reaches_the_inbox(agents_image: str,
                                                              tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    daemon = Notifyd(dict(os.environ), tmp_path / "notifyd.log")
    daemon.start()
    runs = {}
    try:
        for name in ALL:
            runs[name] = _wrapix("run", "--image", agents_image, "--agent", name, "--mount",
                                 f"{HOOKS}:/opt/agent_hooks.py", str(ws), "--", "python3",
                                 "/opt/agent_hooks.py", name, cwd=ws)
        inbox = _wrapix("inbox", "--json", cwd=ws, timeout=60)
    finally:
        daemon.stop()
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stdout, done.stderr)
        assert f"{name} hook ran" in done.stdout
    assert "gemini hook stdout: {}" in runs["gemini"].stdout
    entries = json.loads(inbox.stdout)
    mine = {entry["title"]: entry["message"] for entry in entries
            if entry["sandbox"].startswith("wrapix-proj-")}
    assert mine == {"Claude Code": "Waiting for input...", "Codex": "Turn finished",
                    "Gemini CLI": "Turn finished", "opencode": "Turn finished"}, entries


FAKE = """#!/bin/sh
name=$(basename "$0")
for arg in "$@"; do printf '%s\\0' "$arg"; done > "/workspace/$name-args"
for file in .codex/AGENTS.md .codex/config.toml .gemini/GEMINI.md .gemini/settings.json \\
            .config/opencode/AGENTS.md .config/opencode/opencode.json \\
            .config/opencode/plugins/wrapix-notify.js .claude.json; do
    [ -f "$HOME/$file" ] && echo "$file"
done > "/workspace/$name-files"
exit 0
"""


@pytest.mark.parametrize(("agent", "argv", "instructions"), [
    ("codex", ["--dangerously-bypass-approvals-and-sandbox"], ".codex/AGENTS.md"),
    ("gemini", ["--yolo", "--skip-trust"], ".gemini/GEMINI.md"),
    ("opencode", ["--auto"], ".config/opencode/AGENTS.md"),
])
def test_the_entrypoint_starts_the_chosen_agent_in_full_permission_mode_with_its_files(
        wrapix_image: str, tmp_path: Path, agent: str, argv: list[str],
        instructions: str) -> None:
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / agent).write_text(FAKE)
    (fake / agent).chmod(0o755)
    ws = _workspace(tmp_path)
    (ws / "specs").mkdir()
    (ws / "specs" / "README.md").write_text("| Spec | Purpose |\n|---|---|\n| x.md | PINNED-X |\n")
    path = "/opt/fake:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    # The prompt the agent finds in its instructions file, read back by a second command.
    done = _wrapix("run", "--image", wrapix_image, "--agent", agent, "--mount",
                   f"{fake}:/opt/fake", "-e", f"PATH={path}", str(ws), cwd=ws)
    assert done.returncode == 0, done.stderr
    assert (ws / f"{agent}-args").read_text().split("\0")[:-1] == argv
    seeded = (ws / f"{agent}-files").read_text().split()
    assert instructions in seeded and ".claude.json" not in seeded
    shown = _wrapix("run", "--image", wrapix_image, "--agent", agent, str(ws), "--", "sh", "-c",
                    f'cat "$HOME/{instructions}"; echo "agent=$WRAPIX_AGENT"', cwd=ws)
    assert "wrapix sandbox" in shown.stdout and "PINNED-X" in shown.stdout  # Claude's prompt
    assert f"agent={agent}" in shown.stdout
