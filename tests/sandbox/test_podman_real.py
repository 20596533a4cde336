"""Real rootless Podman: what a sandbox can and cannot do (mandatory in CI).

One detached sandbox per module serves the read-only checks; tests that change state
start their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import hardening
from tests.support.cli import script
from wrapix_core.sandbox.podman import PodmanRuntime
from wrapix_core.sandbox.runtime import EventStreamStatus, RuntimeEvent
from wrapix_core.settings import SandboxSettings

pytestmark = [pytest.mark.podman]

PROFILE_TOML = """
[profiles.probe]
base = "none"
env = {PROBE_ENV = "from-profile", PROBE_HOME = "~/x"}

[[profiles.probe.mounts]]
source = "{data}"
dest = "/data"
mode = "ro"

[[profiles.probe.mounts]]
source = "~/does-not-exist-wrapix"
dest = "/optional"
optional = true
"""


@dataclass
class Env:
    """A workspace and wrapix directories of its own, for CLI calls as a subprocess."""

    root: Path
    workspace: Path
    data: Path

    def vars(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPIX_")}
        env["WRAPIX_TRUST_PROJECTS"] = "all"  # these tests write wrapix.toml freely
        for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
            path = self.root / name.lower()
            path.mkdir(exist_ok=True, mode=0o700)
            env[f"WRAPIX_{name}_DIR"] = str(path)
        return env

    def wrapix(self, *args: str, check: bool = True, timeout: float = 120,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([script("wrapix"), *args], capture_output=True, text=True,
                              env={**self.vars(), **(env or {})}, cwd=self.workspace,
                              timeout=timeout, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"wrapix {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done


def make_env(root: Path) -> Env:
    workspace = root / "proj"
    (workspace / ".git" / "hooks").mkdir(parents=True)
    (workspace / ".git" / "config").write_text("[core]\n\tbare = false\n")
    data = root / "data"
    data.mkdir()
    (data / "hello.txt").write_text("from the host\n")
    (root / "outside-secret.txt").write_text("must not be visible\n")
    (workspace / "wrapix.toml").write_text(PROFILE_TOML.replace("{data}", str(data)))
    return Env(root, workspace, data)


def podman_exec(podman: str, name: str, script_: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([podman, "exec", name, "sh", "-c", script_], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def sandbox(podman: str, busybox_image: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, str, str]]:
    env = make_env(tmp_path_factory.mktemp("real"))
    started = env.wrapix("run", "--detach", "--json", "--profile", "probe",
                         "--image", busybox_image, str(env.workspace), "--", "sleep", "600")
    name = json.loads(started.stdout)["name"]
    try:
        yield env, name, started.stderr
    finally:
        subprocess.run([podman, "rm", "-f", name], capture_output=True, timeout=60, check=False)


def test_workspace_files_belong_to_the_host_user(sandbox: tuple[Env, str, str],
                                                 podman: str) -> None:
    env, name, _ = sandbox
    done = podman_exec(podman, name, "echo made-inside > /workspace/inside.txt && id -u")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(os.getuid())
    created = env.workspace / "inside.txt"
    assert created.read_text() == "made-inside\n"
    assert created.stat().st_uid == os.getuid()
    assert created.stat().st_gid == os.getgid()


def test_host_paths_are_not_visible(sandbox: tuple[Env, str, str], podman: str) -> None:
    env, name, _ = sandbox
    marker = Path.home() / ".wrapix-test-marker"
    marker.write_text("host home\n")
    try:
        done = podman_exec(podman, name,
                           f"test -e {marker} && echo home-visible; "
                           f"test -e {env.root}/outside-secret.txt && echo sibling-visible; "
                           "find / -xdev -name outside-secret.txt 2>/dev/null; "
                           "cat /etc/shadow 2>/dev/null | grep -c : ; true")
    finally:
        marker.unlink()
    assert "home-visible" not in done.stdout
    assert "sibling-visible" not in done.stdout
    assert "outside-secret.txt" not in done.stdout
    # No host shadow file: the image has none, and nothing mounts the host's.
    assert done.stdout.strip().splitlines()[-1] in ("0", "")


def test_no_effective_capabilities(sandbox: tuple[Env, str, str], podman: str) -> None:
    _, name, _ = sandbox
    hardening.assert_unprivileged(lambda script_: podman_exec(podman, name, script_),
                                  os.getuid())


def test_limits_are_recorded_and_cgroup_v1_warning_shown_once(sandbox: tuple[Env, str, str],
                                                             podman: str) -> None:
    _, name, stderr = sandbox
    done = subprocess.run([podman, "inspect", "--format", "json", name], capture_output=True,
                          text=True, timeout=60, check=True)
    info = json.loads(done.stdout)[0]
    host = info["HostConfig"]
    if host.get("PidsLimit"):  # cgroup v2 (or rootful): the runtime applies them
        assert host["PidsLimit"] == 4096
        hardening.assert_cpu_and_memory_applied(host)
        assert "cgroup v1" not in stderr
    else:  # rootless on cgroup v1: Podman drops them; the request is still on record
        create = info["Config"]["CreateCommand"]
        assert create[create.index("--memory") + 1] == "4096m"
        assert create[create.index("--pids-limit") + 1] == "4096"
        assert "--cpus" in create
        assert stderr.count("cgroup v1") == 1
        assert "Resource limits are not supported" not in stderr  # said once, in our words
    assert info["Config"]["Labels"]["wrapix.limits"].startswith("cpus=")


def test_git_hooks_and_config_are_read_only(sandbox: tuple[Env, str, str], podman: str) -> None:
    env, name, _ = sandbox
    hardening.assert_git_protected(lambda script_: podman_exec(podman, name, script_),
                                   env.workspace)
    assert (env.workspace / ".git/config").read_text() == "[core]\n\tbare = false\n"


def test_protected_paths_cannot_be_swapped_for_copies(sandbox: tuple[Env, str, str],
                                                      podman: str) -> None:
    env, name, _ = sandbox
    hardening.assert_protected_paths_hold(lambda script_: podman_exec(podman, name, script_),
                                          env.workspace)


def test_profile_env_and_mounts_arrive(sandbox: tuple[Env, str, str], podman: str) -> None:
    _, name, _ = sandbox
    done = podman_exec(podman, name, 'echo "$PROBE_ENV|$PROBE_HOME|$HOME"; cat /data/hello.txt; '
                       "echo x > /data/nope 2>/dev/null && echo data-writable; "
                       "test -e /optional && echo optional-present; "
                       "touch $HOME/tmpfile && echo home-writable; id -un")
    lines = done.stdout.splitlines()
    user = lines[-1]
    assert lines[0] == f"from-profile|/home/{user}/x|/home/{user}"
    assert "from the host" in done.stdout
    assert "data-writable" not in done.stdout
    assert "optional-present" not in done.stdout
    assert "home-writable" in done.stdout


def test_ls_json_shows_the_sandbox_with_labels(sandbox: tuple[Env, str, str]) -> None:
    env, name, _ = sandbox
    listed = json.loads(env.wrapix("ls", "--json").stdout)
    mine = next(item for item in listed if item["name"] == name)
    assert mine["state"] == "running"
    assert mine["labels"]["wrapix.sandbox"] == "1"
    assert mine["labels"]["wrapix.profile"] == "probe"
    assert mine["labels"]["wrapix.workspace"] == str(env.workspace)
    assert mine["workspace"] == str(env.workspace)
    human = env.wrapix("ls").stdout
    assert name in human and "probe" in human and "running" in human


def test_second_launch_for_a_running_workspace_is_refused(sandbox: tuple[Env, str, str],
                                                          busybox_image: str) -> None:
    env, name, _ = sandbox
    again = env.wrapix("run", "--detach", "--profile", "probe", "--image", busybox_image,
                       str(env.workspace), check=False)
    assert again.returncode == 2
    assert f"sandbox {name} is already running" in again.stderr
    assert "Traceback" not in again.stderr


def test_stats_fall_back_to_the_host_process_tree(sandbox: tuple[Env, str, str]) -> None:
    _, name, _ = sandbox
    runtime = PodmanRuntime(SandboxSettings())
    stats = asyncio.run(runtime.stats([name]))
    assert [s.name for s in stats] == [name]
    assert stats[0].memory_bytes > 0


def test_stop_and_rm_with_events(podman: str, busybox_image: str,
                                 tmp_path: Path) -> None:
    env = make_env(tmp_path)
    name = json.loads(env.wrapix("run", "--detach", "--json", "--image", busybox_image,
                                 str(env.workspace), "--", "sleep", "600").stdout)["name"]

    async def watch_stop() -> list[RuntimeEvent]:
        runtime = PodmanRuntime(SandboxSettings())
        seen: list[RuntimeEvent] = []
        stream = runtime.events()
        async with contextlib.aclosing(stream):
            first = await anext(stream)
            assert isinstance(first, EventStreamStatus) and first.connected
            stopper = asyncio.create_task(asyncio.to_thread(env.wrapix, "stop", name))
            async with asyncio.timeout(30):
                async for event in stream:
                    if isinstance(event, RuntimeEvent) and event.name == name:
                        seen.append(event)
                        if event.action in ("died", "stop"):
                            break
            done = await stopper
            assert f"stopped {name}" in done.stdout
        return seen

    events = asyncio.run(watch_stop())
    assert events[-1].action in ("died", "stop")
    assert events[-1].labels.get("wrapix.sandbox") == "1"
    listed = json.loads(env.wrapix("ls", "--all", "--json").stdout)
    assert next(i for i in listed if i["name"] == name)["state"] in ("exited", "stopped")
    assert f"removed {name}" in env.wrapix("rm", name).stdout
    assert name not in env.wrapix("ls", "--all", "--json").stdout
    gone = env.wrapix("stop", name, check=False)
    assert gone.returncode == 2 and f"no sandbox named '{name}'" in gone.stderr


def test_foreground_run_passes_exit_code_and_cleans_up(podman: str, busybox_image: str,
                                                       tmp_path: Path) -> None:
    env = make_env(tmp_path)
    done = env.wrapix("run", "--image", busybox_image, str(env.workspace), "--",
                      "sh", "-c", "echo inside-$(id -u); exit 7", check=False)
    assert done.returncode == 7
    assert f"inside-{os.getuid()}" in done.stdout
    listed = env.wrapix("ls", "--all", "--json").stdout
    assert str(env.workspace) not in listed  # --rm: nothing left behind
    assert (env.workspace / ".claude").is_dir()  # created for ~/.claude


def test_staged_symlink_farm_is_readable_inside(podman: str, busybox_image: str,
                                                tmp_path: Path) -> None:
    env = make_env(tmp_path)
    real = tmp_path / "store" / "init.vim"
    real.parent.mkdir()
    real.write_text("set number\n")
    farm = tmp_path / "farm"
    farm.mkdir()
    (farm / "init.vim").symlink_to(real)
    (env.workspace / "wrapix.toml").write_text(
        f'[profiles.farm]\nbase = "none"\n[[profiles.farm.mounts]]\nsource = "{farm}"\n'
        'dest = "~/.config/nvim"\n')
    done = env.wrapix("run", "--profile", "farm", "--image", busybox_image, str(env.workspace),
                      "--", "sh", "-c", "cat ~/.config/nvim/init.vim")
    assert done.stdout.strip() == "set number"
    staging = Path(env.vars()["WRAPIX_CACHE_DIR"]) / "staging"
    assert not any(staging.glob("*/*"))  # removed when the sandbox ended


def test_bad_input_is_one_line_exit_2_nothing_started(podman: str, busybox_image: str,
                                                      tmp_path: Path) -> None:
    env = make_env(tmp_path)
    cases = {
        ("run", str(tmp_path / "nope")): "does not exist",
        ("run", str(env.data / "hello.txt")): "is not a directory",
        ("run", "--profile", "nosuch", str(env.workspace)): "unknown profile 'nosuch'",
        ("run", "--image", busybox_image, "-e", "BAD-NAME=1", str(env.workspace)):
            "not an identifier",
        ("run", "--image", busybox_image, "--mount", "/etc:relative", str(env.workspace)):
            "must be absolute",
        ("run", "--image", busybox_image, "--mount", "/etc:/x/../y", str(env.workspace)):
            "'..'",
        ("run", "--image", busybox_image, "--mount", f"{Path.home()}:/h", str(env.workspace)):
            "whole home",
        ("run", "--image", "localhost/wrapix-no-such-image:1", str(env.workspace)):
            "is not available",
        ("run", "--image", busybox_image, "--mount", "/etc:/proc/x", str(env.workspace)):
            "belongs to the kernel",
    }
    for args, message in cases.items():
        done = env.wrapix(*args, check=False)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr  # one line
        assert "Traceback" not in done.stderr
    # Nothing was started for this workspace (other tests may run containers meanwhile).
    listed = subprocess.run([podman, "ps", "-a", "--format", "json"], capture_output=True,
                            text=True, timeout=60, check=True).stdout
    assert str(env.workspace) not in listed


def test_failed_detached_launch_leaves_nothing_behind(podman: str, busybox_image: str,
                                                      tmp_path: Path) -> None:
    # A file mounted over a directory: Podman creates the container, then runc cannot
    # start it. The half-created container must not be left behind.
    env = make_env(tmp_path)
    (tmp_path / "a-file").write_text("not a directory\n")
    done = env.wrapix("run", "--detach", "--image", busybox_image, "--mount",
                      f"{tmp_path / 'a-file'}:/bin", str(env.workspace), "--", "/bin/true",
                      check=False)
    assert done.returncode == 1
    assert "could not start" in done.stderr and "Traceback" not in done.stderr
    assert str(env.workspace) not in env.wrapix("ls", "--all", "--json").stdout


def test_attach_in_a_real_terminal_and_detach(podman: str, busybox_image: str,
                                              tmp_path: Path) -> None:
    from tests.support.tmux import attached

    env = make_env(tmp_path)
    name = json.loads(env.wrapix("run", "--detach", "--json", "--image", busybox_image,
                                 str(env.workspace), "--", "sh").stdout)["name"]
    try:
        with attached(env.vars(), str(env.workspace), name) as tmux:
            tmux.type("echo inside-$((6*7)) && cd /workspace && touch attached.txt")
            tmux.send("Enter")
            tmux.wait_for("inside-42")
            tmux.send("C-p", "C-q")  # detach: the agent keeps running
            screen = tmux.wait_for("$ ", timeout=20)
            assert "inside-42" in screen
            assert (env.workspace / "attached.txt").exists()
            listed = json.loads(env.wrapix("ls", "--json").stdout)
            assert next(i for i in listed if i["name"] == name)["state"] == "running"
            tmux.type("echo back-on-host")
            tmux.send("Enter")
            tmux.wait_for("back-on-host")
    finally:
        subprocess.run([podman, "rm", "-f", name], capture_output=True, timeout=60, check=False)


def test_events_stream_reconnects_and_misses_nothing(podman: str, busybox_image: str,
                                                     tmp_path: Path) -> None:
    import psutil

    env = make_env(tmp_path)
    name = json.loads(env.wrapix("run", "--detach", "--json", "--image", busybox_image,
                                 str(env.workspace), "--", "sleep", "600").stdout)["name"]

    async def scenario() -> list[object]:
        runtime = PodmanRuntime(SandboxSettings())
        seen: list[object] = []
        stream = runtime.events()
        async with contextlib.aclosing(stream):
            seen.append(await anext(stream))  # connected
            await asyncio.sleep(0.5)  # let `podman events` start
            watchers = [p for p in psutil.Process().children(recursive=True)
                        if "events" in p.cmdline()]
            assert watchers, "no podman events process found"
            for process in watchers:
                process.kill()
            # While the stream is down, the sandbox stops: the replay must report it.
            await asyncio.to_thread(env.wrapix, "stop", "-t", "1", name)
            async with asyncio.timeout(40):
                async for item in stream:
                    seen.append(item)
                    if isinstance(item, RuntimeEvent) and item.name == name and \
                            item.action in ("died", "stop"):
                        break
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        subprocess.run([podman, "rm", "-f", name], capture_output=True, timeout=60, check=False)
    statuses = [item for item in seen if isinstance(item, EventStreamStatus)]
    assert any(not status.connected and status.retry_in for status in statuses)
    assert [s.connected for s in statuses][-1] is True  # reconnected
    assert isinstance(seen[-1], RuntimeEvent) and seen[-1].name == name


def test_repeat_launch_uses_the_recorded_plan_until_something_changes(
        podman: str, busybox_image: str, tmp_path: Path) -> None:
    env = make_env(tmp_path)
    records = Path(env.vars()["WRAPIX_CACHE_DIR"]) / "launch"
    args = ("run", "--detach", "--json", "--image", busybox_image, str(env.workspace), "--",
            "sleep", "600")

    def launch() -> str:
        name: str = json.loads(env.wrapix(*args).stdout)["name"]
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=True)
        return name

    first = launch()
    [record] = list(records.glob("*.plan"))
    recorded_at = record.stat().st_mtime_ns
    assert launch() == first
    assert record.stat().st_mtime_ns == recorded_at  # the fast path did not re-plan
    assert list(records.glob("*.plan")) == [record]  # same key: no second record
    # A setting changes: the record is stale, the full path re-plans and records again.
    (env.workspace / "wrapix.toml").write_text(
        PROFILE_TOML.replace("{data}", str(env.data)) + '\n[sandbox]\nmemory = "2g"\n')
    name = json.loads(env.wrapix(*args).stdout)["name"]
    try:
        create = json.loads(subprocess.run(
            [podman, "inspect", "--format", "json", name], capture_output=True, text=True,
            timeout=60, check=True).stdout)[0]["Config"]["CreateCommand"]
        assert create[create.index("--memory") + 1] == "2g"
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)
    assert record.stat().st_mtime_ns != recorded_at


def test_fast_path_falls_back_when_the_name_is_taken(podman: str, busybox_image: str,
                                                     tmp_path: Path) -> None:
    env = make_env(tmp_path)
    args = ("run", "--detach", "--image", busybox_image, str(env.workspace), "--", "sleep",
            "600")
    name = env.wrapix(*args).stdout.split()[0]
    subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60,
                   check=True)
    env.wrapix(*args)  # recorded plan, sandbox running again
    try:
        again = env.wrapix(*args, check=False)  # fast path refused by podman -> full path
        assert again.returncode == 2
        assert f"sandbox {name} is already running" in again.stderr
        listed = json.loads(env.wrapix("ls", "--json").stdout)
        assert [i["state"] for i in listed if i["name"] == name] == ["running"]
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)


def test_a_container_that_exits_125_runs_once_on_the_fast_path(
        busybox_image: str, tmp_path: Path) -> None:
    # 125 is also podman's own failure code; the fast path falls back to the full path
    # only when podman created no container, or the command would run a second time.
    env = make_env(tmp_path)
    args = ("run", "--image", busybox_image, str(env.workspace), "--", "sh", "-c",
            "echo ran >> /workspace/runs; exit 125")
    assert env.wrapix(*args, check=False).returncode == 125  # full path, recorded
    assert env.wrapix(*args, check=False).returncode == 125  # fast path
    assert (env.workspace / "runs").read_text() == "ran\nran\n"


def test_a_launch_cache_that_cannot_be_written_does_not_stop_the_launch(
        busybox_image: str, podman: str, tmp_path: Path) -> None:
    env = make_env(tmp_path)
    cache = Path(env.vars()["WRAPIX_CACHE_DIR"])
    (cache / "launch").write_text("not a directory")
    done = env.wrapix("run", "--detach", "--json", "--image", busybox_image,
                      str(env.workspace), "--", "sleep", "600", check=False)
    try:
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    finally:
        if done.returncode == 0:
            subprocess.run([podman, "rm", "-f", "-t", "0", json.loads(done.stdout)["name"]],
                           capture_output=True, timeout=60, check=False)


def test_the_repositorys_git_identity_is_not_taken_from_a_stale_record(
        podman: str, busybox_image: str, tmp_path: Path) -> None:
    env = make_env(tmp_path)
    subprocess.run(["git", "init", "-q", str(env.workspace)], check=True, timeout=60)
    args = ("run", "--detach", "--json", "--image", busybox_image, str(env.workspace), "--",
            "sleep", "600")

    def email() -> str:
        name = json.loads(env.wrapix(*args).stdout)["name"]
        try:
            found = subprocess.run([podman, "inspect", "--format", "json", name],
                                   capture_output=True, text=True, timeout=60, check=True)
            variables = json.loads(found.stdout)[0]["Config"]["Env"]
        finally:
            subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                           timeout=60, check=False)
        return next(v.partition("=")[2] for v in variables
                    if v.startswith("GIT_AUTHOR_EMAIL="))

    first = email()  # recorded
    config = env.workspace / ".git" / "config"
    config.write_text(config.read_text() + "[user]\n\temail = repo@example.org\n")
    assert first != "repo@example.org"
    assert email() == "repo@example.org"


def test_logs_drop_terminal_escapes_unless_raw(podman: str, busybox_image: str,
                                               tmp_path: Path) -> None:
    env = make_env(tmp_path)
    program = r'printf "\033]0;pwned-title\007\033[31mred\033[0m plain\tend\n"; sleep 600'
    started = env.wrapix("run", "--detach", "--json", "--profile", "probe", "--image",
                         busybox_image, str(env.workspace), "--", "sh", "-c", program)
    name = json.loads(started.stdout)["name"]
    try:
        deadline = time.monotonic() + 30
        while "plain" not in (shown := env.wrapix("logs", name).stdout):
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
        assert "\x1b" not in shown and "pwned-title" not in shown  # no OSC title reaches us
        assert "red plain" in shown and "end" in shown
        raw = env.wrapix("logs", "--raw", name).stdout
        assert "\x1b]0;pwned-title\x07" in raw  # --raw is byte for byte
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60,
                       check=False)
