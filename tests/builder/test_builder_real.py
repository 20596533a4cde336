"""The builder under real rootless Podman: built from a real Debian image, reached with
real ssh and the generated key, Nix through it, its store kept across restarts, and
every failure leaving nothing behind. Each test uses its own container name and a free
port (never 2222), so a real builder on this machine is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import socket
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.support.cli import script
from wrapix_core.builder import image as builder_image
from wrapix_core.builder import keys as builder_keys
from wrapix_core.builder import lifecycle
from wrapix_core.builder.events import BuilderEvent
from wrapix_core.builder.status import BuilderStatus, watch_status
from wrapix_core.image.builder import ImageBuilder
from wrapix_core.sandbox.runtime import get_runtime
from wrapix_core.settings import ImageSettings, SandboxSettings, load_settings

pytestmark = [pytest.mark.podman]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def builder_image_tag(debian_image: str) -> str:
    """The real builder image (Debian, openssh-server, nix-bin), built once per machine
    for these inputs, exactly as `wrapix-builder start` builds it."""
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=debian_image))
    built = asyncio.run(builder.ensure(builder_image.PROFILE, backend="containerfile",
                                       base=debian_image, entrypoint=builder_image.entrypoint()))
    return built.tag


INIT_OK = 'mkdir -p "$2/store"; echo "wrapix-builder: total 0 0"; exit 0'


def build_fake(podman: str, tag: str, serve: str, tmp: Path, init: str = INIT_OK) -> str:
    """A busybox image whose entrypoint fakes the store helper and then does ``serve``."""
    (tmp / "entrypoint.sh").write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  init-store) {init} ;;\n"
        '  wipe-store) rm -rf "$2"/* "$2"/.image-version; exit 0 ;;\n'
        "esac\n" + serve + "\n")
    (tmp / "entrypoint.sh").chmod(0o755)
    (tmp / "Containerfile").write_text(f"FROM {BUSYBOX}\nCOPY entrypoint.sh /entrypoint.sh\n"
                                       'ENTRYPOINT ["/entrypoint.sh"]\n')
    subprocess.run([podman, "build", "-q", "-t", tag, str(tmp)], check=True,
                   capture_output=True, timeout=300)
    return tag


BUSYBOX = "localhost/wrapix-test-busybox:latest"


@dataclass
class Env:
    podman: str
    name: str
    port: int
    data: Path
    image: str

    @property
    def store(self) -> Path:
        return self.data / "builder-nix"

    @property
    def keys(self) -> Path:
        return self.data / "builder-keys"

    def cli(self, *args: str, check: bool = True, timeout: float = 900,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([script("wrapix-builder"), *args], capture_output=True,
                              text=True, timeout=timeout, check=False,
                              env={**os.environ, **(env or {})})
        if check and done.returncode != 0:
            pytest.fail(f"wrapix-builder {' '.join(args)}: exit {done.returncode}\n"
                        f"{done.stdout}\n{done.stderr}")
        return done

    def status(self) -> dict[str, object]:
        return dict(json.loads(self.cli("status", "--json").stdout))

    def container_exists(self, name: str | None = None) -> bool:
        return subprocess.run([self.podman, "container", "exists", name or self.name],
                              timeout=60, check=False).returncode == 0

    def container_id(self) -> str:
        return subprocess.run([self.podman, "inspect", "--format", "{{.Id}}", self.name],
                              capture_output=True, text=True, timeout=60,
                              check=True).stdout.strip()


@pytest.fixture
def env(podman: str, busybox_image: str, builder_image_tag: str, debian_image: str,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    name = f"wrapix-test-builder-{uuid.uuid4().hex[:8]}"
    port = free_port()
    monkeypatch.setenv("WRAPIX_BUILDER__NAME", name)
    monkeypatch.setenv("WRAPIX_BUILDER__PORT", str(port))
    monkeypatch.setenv("WRAPIX_IMAGE__BASE", debian_image)
    data = Path(os.environ["WRAPIX_DATA_DIR"])
    made = Env(podman, name, port, data, builder_image_tag)
    yield made
    for container in (name, f"{name}-store"):
        subprocess.run([podman, "rm", "--force", "--ignore", container], capture_output=True,
                       timeout=120, check=False)
    if made.store.exists():  # files of the builder's users belong to sub-ids
        subprocess.run([podman, "unshare", "rm", "-rf", str(made.store)], timeout=120,
                       check=False)


def ssh_argv(status: dict[str, object], *command: str) -> list[str]:
    argv = shlex.split(str(status["ssh"]))
    return [*argv[:-1], "-o", "BatchMode=yes", "--", argv[-1], *command]


def non_loopback_address() -> str | None:
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return str(address.address)
    return None


def test_not_created_running_stopped_running_with_the_store_kept(env: Env) -> None:
    before = env.status()
    assert before["state"] == "not-created"
    assert before["store_bytes"] == 0
    assert before["keys"] == str(env.keys) and before["store"] == str(env.store)

    started = env.cli("start")
    assert "state  running" in started.stdout
    assert "initialising the Nix store" in started.stderr
    running = env.status()
    assert running["state"] == "running"
    assert isinstance(running["store_bytes"], int) and running["store_bytes"] > 0
    assert running["image"] == env.image

    # Keys: private, never world-readable.
    assert stat.S_IMODE(env.keys.stat().st_mode) == 0o700
    for private in ("client_ed25519", "host_ed25519"):
        assert stat.S_IMODE((env.keys / private).stat().st_mode) == 0o600

    # A real ssh with the generated key (the command status prints), and through the CLI.
    real = subprocess.run(ssh_argv(running, "id", "-un"), capture_output=True, text=True,
                          timeout=60, check=False)
    assert real.returncode == 0, real.stderr
    assert real.stdout.strip() == "builder"
    assert env.cli("ssh", "nix", "--version").stdout.startswith("nix (Nix) ")
    assert "Store URL: daemon" in env.cli("ssh", "nix", "store", "ping").stderr
    offered = subprocess.run(
        ["ssh", "-v", "-p", str(env.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-F", "/dev/null", "root@127.0.0.1", "true"],
        capture_output=True, text=True, timeout=60, check=False)
    assert offered.returncode == 255
    assert "Authentications that can continue: publickey\n" in offered.stderr
    sshd = subprocess.run([env.podman, "exec", env.name, "sshd", "-T", "-f",
                           "/etc/wrapix-builder/sshd_config"], capture_output=True, text=True,
                          timeout=60, check=True).stdout.splitlines()
    for line in ("passwordauthentication no", "permitrootlogin no", "allowusers builder",
                 "kbdinteractiveauthentication no"):
        assert line in sshd

    # Only loopback listens on the builder port.
    listeners = [c for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == env.port]
    assert listeners and {getattr(c.laddr, "ip", None) for c in listeners} == {"127.0.0.1"}
    outside = non_loopback_address()
    if outside is not None:
        with pytest.raises(OSError), socket.create_connection((outside, env.port), timeout=5):
            pass

    # Something in the store, added through the Nix daemon by the builder user.
    added = env.cli("ssh", "echo kept-across-restarts > /tmp/marker && "
                           "nix-store --add /tmp/marker").stdout.strip()
    assert added.startswith("/nix/store/") and added.endswith("-marker")
    first_id = env.container_id()

    env.cli("stop", "--keep")
    assert env.status()["state"] == "stopped"
    assert env.container_exists()

    again = env.cli("start")
    assert "removing the stopped" in again.stderr
    assert "store kept" in again.stderr and "initialising" not in again.stderr
    assert env.status()["state"] == "running"
    assert env.container_id() != first_id
    assert env.cli("ssh", "cat", added).stdout == "kept-across-restarts\n"
    env.cli("ssh", "nix-store", "--check-validity", added)

    stopped = env.cli("stop")
    assert "state  not-created" in stopped.stdout
    final = env.status()
    assert final["state"] == "not-created"
    assert isinstance(final["store_bytes"], int) and final["store_bytes"] > 0
    assert not env.container_exists()
    assert (env.store / ".image-version").is_file()


def test_lifecycle_api_is_idempotent_reports_progress_and_is_watchable(env: Env) -> None:
    settings = load_settings(None)
    runtime = get_runtime(settings.sandbox)
    events: list[BuilderEvent] = []

    async def scenario() -> tuple[BuilderStatus, BuilderStatus, list[str], BuilderStatus]:
        seen: list[str] = []
        connected = asyncio.Event()

        async def watch() -> None:
            async with contextlib.aclosing(watch_status(runtime, settings.builder)) as stream:
                async for status in stream:
                    seen.append(status.state)
                    if len(seen) >= 2:  # the second comes once the event stream is up
                        connected.set()
                    if status.state == "not-created" and "running" in seen:
                        return

        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(connected.wait(), 60)
        first = await lifecycle.start(runtime, settings, on_event=events.append)
        second = await lifecycle.start(runtime, settings, on_event=events.append)
        after = await lifecycle.stop(runtime, settings)
        await asyncio.wait_for(watcher, 60)
        return first, second, seen, after

    first, second, seen, after = asyncio.run(scenario())
    assert first.state == second.state == "running"
    assert str(first).startswith(f"Builder running on 127.0.0.1:{env.port}")
    phases = [event.phase for event in events]
    for phase in ("check", "keys", "store", "container", "wait", "done"):
        assert phase in phases
    assert events[-1].line == f"{env.name} is already running"
    assert seen[0] == "not-created" and "running" in seen and seen[-1] == "not-created"
    assert after.state == "not-created"


def test_container_that_exits_is_reported_with_its_logs_and_nothing_is_left(
        env: Env, tmp_path: Path) -> None:
    image = build_fake(env.podman, "localhost/wrapix-test-builder-exits:latest",
                       "echo boom-from-entrypoint >&2\nexit 3", tmp_path)
    done = env.cli("start", check=False, env={"WRAPIX_BUILDER__IMAGE": image})
    assert done.returncode == 1
    assert f"the builder container {env.name} exited (code 3) before SSH answered" in done.stderr
    assert "boom-from-entrypoint" in done.stderr
    assert "Traceback" not in done.stderr
    assert not env.container_exists()
    assert not env.store.exists()  # created by this start, so removed again


def test_sshd_that_never_answers_is_named_after_the_timeout(env: Env, tmp_path: Path) -> None:
    image = build_fake(env.podman, "localhost/wrapix-test-builder-silent:latest",
                       "echo serving-nothing\nexec sleep 600", tmp_path)
    done = env.cli("start", check=False, env={"WRAPIX_BUILDER__IMAGE": image,
                                              "WRAPIX_BUILDER__START_TIMEOUT": "3"})
    assert done.returncode == 1
    assert (f"the builder did not come up within 3s: sshd is not answering on "
            f"127.0.0.1:{env.port}") in done.stderr
    assert "serving-nothing" in done.stderr
    assert not env.container_exists()


def test_failed_store_copy_is_reported_and_removed(env: Env, tmp_path: Path) -> None:
    image = build_fake(env.podman, "localhost/wrapix-test-builder-badcopy:latest",
                       "exec sleep 600", tmp_path,
                       init='echo "wrapix-builder: total 10 100"; touch "$2/partial"; '
                            'echo "tar: /nix/store/x: Cannot open: disk full" >&2; exit 2')
    done = env.cli("start", check=False, env={"WRAPIX_BUILDER__IMAGE": image})
    assert done.returncode == 1
    assert f"initialising the builder store {env.store} failed" in done.stderr
    assert "tar: /nix/store/x: Cannot open: disk full" in done.stderr
    assert not env.container_exists() and not env.container_exists(f"{env.name}-store")
    assert not env.store.exists()


def test_refused_key_is_named(env: Env, tmp_path: Path) -> None:
    keys, _ = asyncio.run(builder_keys.ensure())
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True, timeout=30)
    keys.client_pub.write_text(Path(f"{stranger}.pub").read_text())  # not our key
    done = env.cli("start", check=False, env={"WRAPIX_BUILDER__START_TIMEOUT": "8"})
    assert done.returncode == 1
    assert "sshd answered but refused the builder key" in done.stderr
    assert "Permission denied" in done.stderr
    assert not env.container_exists()


def test_changed_image_reinitialises_the_store(env: Env, tmp_path: Path) -> None:
    env.cli("start")
    added = env.cli("ssh", "echo old > /tmp/old && nix-store --add /tmp/old").stdout.strip()
    old_version = (env.store / ".image-version").read_text()
    env.cli("stop")
    (tmp_path / "Containerfile").write_text(f"FROM {env.image}\nRUN touch /etc/changed\n")
    changed = "localhost/wrapix-test-builder-changed:latest"
    subprocess.run([env.podman, "build", "-q", "-t", changed, str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    again = env.cli("start", env={"WRAPIX_BUILDER__IMAGE": changed})
    assert "the builder image changed" in again.stderr
    assert (env.store / ".image-version").read_text() != old_version
    gone = env.cli("ssh", "test", "-e", added, check=False)
    assert gone.returncode == 1


def test_ssh_needs_a_running_builder(env: Env) -> None:
    done = env.cli("ssh", "true", check=False)
    assert done.returncode == 2
    assert "the builder is not running (not-created)" in done.stderr
    assert "wrapix-builder start" in done.stderr


def test_taken_port_creates_nothing(env: Env) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", env.port))
        sock.listen()
        done = env.cli("start", check=False)
    assert done.returncode == 2
    assert f"port {env.port} on 127.0.0.1 is already in use" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 2  # "checking", then one error line
    assert not env.container_exists()
    assert not env.keys.exists() and not env.store.exists()


def test_unwritable_store_directory_creates_nothing(env: Env) -> None:
    if os.geteuid() == 0:
        pytest.fail("real-Podman tests run unprivileged")
    env.data.chmod(0o500)
    try:
        done = env.cli("start", check=False)
    finally:
        env.data.chmod(0o700)
    assert done.returncode == 2
    assert f"builder store {env.store} is not writable" in done.stderr
    assert not env.container_exists()
    assert not env.keys.exists() and not env.store.exists()


def test_image_build_failure_creates_nothing(env: Env) -> None:
    done = env.cli("start", check=False, env={"WRAPIX_IMAGE__BASE": BUSYBOX})
    assert done.returncode == 1
    assert "building localhost/wrapix-builder:" in done.stderr
    assert "apt-get" in done.stderr
    assert "Traceback" not in done.stderr
    assert not env.container_exists()
    assert not env.keys.exists() and not env.store.exists()


@pytest.mark.skipif(shutil.which("nix") is None, reason="nix is not installed on this host "
                    "(CI installs nix-bin); the builder's own nix is tested above")
def test_host_nix_builds_through_ssh_ng(env: Env) -> None:
    env.cli("start")
    status = env.status()
    options = shlex.split(str(status["ssh"]))[1:-1]
    nix_env = {**os.environ, "NIX_SSHOPTS": shlex.join([*options, "-o", "BatchMode=yes"]),
               "HOME": str(env.data)}
    store = "ssh-ng://builder@127.0.0.1"
    ping = subprocess.run(["nix", "--extra-experimental-features", "nix-command", "store",
                           "ping", "--store", store], capture_output=True, text=True,
                          timeout=120, env=nix_env, check=False)
    assert ping.returncode == 0, ping.stderr
    token = uuid.uuid4().hex[:8]
    expr = (f'derivation {{ name = "wrapix-test-{token}"; system = builtins.currentSystem; '
            'builder = "/bin/sh"; args = [ "-c" "echo built-in-the-builder > $out" ]; }')
    built = subprocess.run(["nix", "--extra-experimental-features", "nix-command", "build",
                            "--store", store, "--option", "substituters", "", "--no-link",
                            "--json", "--impure", "--expr", expr],
                           capture_output=True, text=True, timeout=300, env=nix_env,
                           check=False)
    assert built.returncode == 0, built.stderr
    out = json.loads(built.stdout)[0]["outputs"]["out"]
    assert env.cli("ssh", "cat", out).stdout == "built-in-the-builder\n"


def test_a_foreign_container_with_the_name_is_never_touched(env: Env) -> None:
    subprocess.run([env.podman, "create", "--name", env.name, BUSYBOX, "sleep", "1"],
                   check=True, capture_output=True, timeout=120)
    for verb in ("start", "stop"):
        done = env.cli(verb, check=False)
        assert done.returncode == 2
        assert f"a container named {env.name} exists and is not wrapix's builder" in done.stderr
    assert env.container_exists()



def test_image_nix_is_copied_into_the_store_with_progress(env: Env, tmp_path: Path) -> None:
    """A Nix-built image carries its closure in /nix: the store starts as a copy of it."""
    (tmp_path / "Containerfile").write_text(
        f"FROM {env.image}\n"
        "RUN mkdir -p /nix/store/00000000000000000000000000000000-fixture "
        "&& for i in $(seq 1 600); do echo \"file $i\" "
        "> /nix/store/00000000000000000000000000000000-fixture/f$i; done "
        "&& chmod -R a-w /nix/store/00000000000000000000000000000000-fixture\n")
    populated = "localhost/wrapix-test-builder-populated:latest"
    subprocess.run([env.podman, "build", "-q", "-t", populated, str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    done = env.cli("start", env={"WRAPIX_BUILDER__IMAGE": populated})
    assert "copying 603 entries" in done.stderr  # /nix, /nix/store, the path, 600 files
    assert "copied 250 of 603" in done.stderr
    assert "store ready: " in done.stderr
    fixture = env.store / "store" / "00000000000000000000000000000000-fixture"
    assert (fixture / "f600").read_text() == "file 600\n"
    assert env.cli("ssh", "cat", "/nix/store/00000000000000000000000000000000-fixture/f1"
                   ).stdout == "file 1\n"
    env.cli("stop")
    # Back to the plain image: the read-only copy is emptied away, the store re-made.
    again = env.cli("start")
    assert "the builder image changed" in again.stderr
    assert not fixture.exists()
    assert (env.store / "store").is_dir()
