"""Real rootless Podman: egress modes, enforced from inside real sandboxes.

Local servers on the host's 127.0.0.1 stand in for the internet; the proxy maps the
test names to them (``WRAPIX_EGRESS_TEST_HOSTS``, read by the proxy on the host only).
Every probe runs inside the sandbox, as the agent would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.egress import servers
from tests.sandbox.test_podman_real import Env, make_env

pytestmark = [pytest.mark.podman]

PROBE = r'''
import json, socket, ssl, sys, urllib.request, urllib.error
kind, target = sys.argv[1], sys.argv[2]
def result(**data):
    print(json.dumps(data)); sys.exit(0)
try:
    if kind == "get":
        context = ssl._create_unverified_context()
        try:
            with urllib.request.urlopen(target, timeout=20, context=context) as answer:
                result(status=answer.status, body=answer.read().decode())
        except urllib.error.HTTPError as error:
            result(status=error.code, body=error.read().decode())
    if kind == "tcp":
        host, port = target.rsplit(":", 1)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect((host.strip("[]"), int(port)))
        result(ok=True)
    if kind == "udp":
        host, port = target.rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as conn:
            conn.settimeout(3)
            conn.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com"
                        b"\x00\x00\x01\x00\x01", (host, int(port)))
            conn.recvfrom(512)
        result(ok=True)
    if kind == "dns":
        result(ok=True, found=socket.getaddrinfo(target, 443)[0][4][0])
except Exception as exc:
    result(ok=False, error=f"{type(exc).__name__}: {exc}")
'''


def probe(podman: str, name: str, kind: str, target: str) -> dict[str, object]:
    done = subprocess.run([podman, "exec", name, "python3", "-c", PROBE, kind, target],
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def host_address() -> str:
    """A non-loopback address of this host (what a sandbox would try to reach)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as conn:
        try:
            conn.connect(("192.0.2.1", 9))  # no packet is sent
            return str(conn.getsockname()[0])
        except OSError:
            return "10.0.2.2"


TEST_HOSTS = json.dumps({"allowed.test": "127.0.0.1", "denied.test": "127.0.0.1"})


class EgressEnv(Env):
    """Env whose wrapix calls map the test names to the local servers."""

    def vars(self) -> dict[str, str]:
        return {**super().vars(), "WRAPIX_EGRESS_TEST_HOSTS": TEST_HOSTS}


def make_egress_env(root: Path) -> EgressEnv:
    env = make_env(root)
    return EgressEnv(env.root, env.workspace, env.data)


class NotifySink:
    """A stand-in notification daemon: the lines sent to the notify sockets it listens on
    (the host's, where the proxy on the host sends, and a sandbox's own, where the
    forwarder inside sends)."""

    def __init__(self, path: Path):
        self.lines: list[dict[str, str]] = []
        self.socks: list[socket.socket] = []
        self.listen(path)

    def listen(self, path: Path) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.listen(16)
        self.socks.append(sock)
        threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                line = conn.makefile("rb").readline()
            if line:
                self.lines.append(json.loads(line))

    def titles(self, timeout: float = 10.0, want: int = 1) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < want and time.monotonic() < deadline:
            time.sleep(0.05)
        return [line["title"] for line in self.lines]

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


@dataclass
class Sandbox:
    env: Env
    name: str
    http: int
    https: int
    notes: NotifySink


def _launch(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return env.wrapix("run", "--detach", "--json", *args, str(env.workspace),
                      "--", "sleep", "600", check=False, timeout=240)


@pytest.fixture
def stand_ins(tmp_path: Path) -> Iterator[tuple[int, int]]:
    tls = servers.self_signed(tmp_path)
    with servers.serve() as http_port, servers.serve(tls) as https_port:
        yield http_port, https_port


@pytest.fixture
def allowlisted(podman: str, wrapix_image: str, tmp_path_factory: pytest.TempPathFactory,
                stand_ins: tuple[int, int]) -> Iterator[Sandbox]:
    env = make_egress_env(tmp_path_factory.mktemp("egress"))
    config = env.root / "config"
    config.mkdir(exist_ok=True, mode=0o700)
    (config / "config.toml").write_text('[sandbox]\nallowlist = ["allowed.test"]\n')
    runtime = env.root / "runtime"
    runtime.mkdir(exist_ok=True, mode=0o700)
    notes = NotifySink(runtime / "notify.sock")
    started = _launch(env, "--network", "allowlist", "--image", wrapix_image)
    assert started.returncode == 0, started.stderr
    name = json.loads(started.stdout)["name"]
    # The sandbox's own socket directory (mounted at /run/wrapix) was made by the launch.
    notes.listen(runtime / "sockets" / name / "notify.sock")
    try:
        yield Sandbox(env, name, *stand_ins, notes)
    finally:
        notes.close()
        subprocess.run([podman, "rm", "-f", name], capture_output=True, timeout=60,
                       check=False)
        pid_file = env.root / "state" / "egress" / name / "proxy.pid"
        _wait_gone(pid_file)


def _alive(pid_file: Path) -> bool:
    from wrapix_core.egress.control import _alive as alive

    try:
        return alive(int(pid_file.read_text()))
    except (OSError, ValueError):
        return False


def _wait_gone(pid_file: Path, timeout: float = 20.0) -> None:
    """The proxy ends by itself once its container is gone."""
    deadline = time.monotonic() + timeout
    while _alive(pid_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid_file), "the egress proxy outlived its sandbox"


def test_allowed_host_over_http_and_https(allowlisted: Sandbox, podman: str) -> None:
    plain = probe(podman, allowlisted.name, "get",
                  f"http://allowed.test:{allowlisted.http}/hello")
    assert plain == {"status": 200, "body": servers.BODY.decode()}
    tunnel = probe(podman, allowlisted.name, "get",
                   f"https://allowed.test:{allowlisted.https}/hello")
    assert tunnel == {"status": 200, "body": servers.BODY.decode()}


def test_denied_host_is_refused_logged_then_allowed_now(allowlisted: Sandbox,
                                                       podman: str) -> None:
    name, env = allowlisted.name, allowlisted.env
    url = f"http://denied.test:{allowlisted.http}/x"
    refused = probe(podman, name, "get", url)
    assert refused["status"] == 403
    assert "denied.test is not in this sandbox's allowlist" in str(refused["body"])
    tunnel = probe(podman, name, "get", f"https://denied.test:{allowlisted.https}/x")
    assert tunnel["ok"] is False and "403" in str(tunnel["error"])
    # Two refusals of one host: one notification, from the host's proxy.
    assert allowlisted.notes.titles() == ["Blocked: denied.test"]
    log = json.loads(env.wrapix("net", "log", name, "--json").stdout)
    assert log["proxy_running"] is True
    assert [(item["host"], item["method"]) for item in log["denied"]] == [
        ("denied.test", "GET"), ("denied.test", "CONNECT")]
    text = env.wrapix("net", "log", name).stdout
    assert "2 denied" in text and "denied.test" in text
    env.wrapix("net", "allow", name, "denied.test")
    deadline = time.monotonic() + 10
    while (answer := probe(podman, name, "get", url))["status"] != 200:
        assert time.monotonic() < deadline, answer
    assert answer["body"] == servers.BODY.decode()


def test_nothing_but_the_proxy_leads_out(allowlisted: Sandbox, podman: str) -> None:
    name = allowlisted.name
    host = host_address()
    for kind, target in (
        ("tcp", f"{host}:{allowlisted.http}"),         # the host's address, directly
        ("tcp", f"127.0.0.1:{allowlisted.http}"),      # the sandbox's own loopback
        ("tcp", f"10.0.2.2:{allowlisted.http}"),  # slirp's host gateway
        ("tcp", "[2001:4860:4860::8888]:443"),         # IPv6
        ("udp", "8.8.8.8:53"),                         # UDP, DNS by hand
        ("dns", "example.com"),                        # the resolver
    ):
        answer = probe(podman, name, kind, target)
        assert answer["ok"] is False, (kind, target, answer)
    ip_literal = probe(podman, name, "get", f"http://{host}:{allowlisted.http}/")
    assert ip_literal["status"] == 403  # through the proxy, an IP is not a listed name
    routes = subprocess.run([podman, "exec", name, "cat", "/proc/net/route",
                             "/proc/net/if_inet6"], capture_output=True, text=True,
                            timeout=30, check=False).stdout
    assert "eth0" not in routes and "tap0" not in routes


def test_a_proxy_that_dies_cuts_the_sandbox_off_and_says_so(allowlisted: Sandbox,
                                                            podman: str) -> None:
    name, env = allowlisted.name, allowlisted.env
    pid = int((env.root / "state" / "egress" / name / "proxy.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    answer = probe(podman, name, "get", f"http://allowed.test:{allowlisted.http}/hello")
    assert answer["status"] == 502
    assert "egress proxy for this sandbox is not running" in str(answer["body"])
    direct = probe(podman, name, "tcp", f"{host_address()}:{allowlisted.http}")
    assert direct["ok"] is False
    said = env.wrapix("net", "log", name).stdout
    assert "egress proxy not running" in said
    assert allowlisted.notes.titles() == ["Sandbox network cut off"]  # from the forwarder


def test_none_mode_has_no_network(podman: str, wrapix_image: str,
                                  tmp_path_factory: pytest.TempPathFactory,
                                  stand_ins: tuple[int, int]) -> None:
    env = make_egress_env(tmp_path_factory.mktemp("none"))
    started = _launch(env, "--network", "none", "--image", wrapix_image)
    assert started.returncode == 0, started.stderr
    name = json.loads(started.stdout)["name"]
    try:
        for kind, target in (("tcp", f"{host_address()}:{stand_ins[0]}"),
                             ("tcp", f"10.0.2.2:{stand_ins[0]}"), ("dns", "example.com"),
                             ("get", f"http://allowed.test:{stand_ins[0]}/")):
            answer = probe(podman, name, kind, target)
            assert answer.get("ok") is False, (kind, answer)
        assert not (env.root / "state" / "egress" / name).exists()  # no proxy at all
    finally:
        subprocess.run([podman, "rm", "-f", name], capture_output=True, timeout=60,
                       check=False)


def test_modes_in_dry_run_json(podman: str, tmp_path: Path) -> None:
    env = make_env(tmp_path)
    (env.workspace / "wrapix.toml").write_text(
        '[sandbox]\nnetwork = "allowlist"\nallowlist = ["*.example.org"]\n')
    plan = json.loads(env.wrapix("run", "--dry-run", "--json", "--image", "x",
                                 str(env.workspace)).stdout)
    assert plan["network"]["mode"] == "allowlist"
    assert {"*.example.org", "api.anthropic.com", "github.com"} <= set(
        plan["network"]["allowlist"])
    argv = plan["argv"]
    assert argv[argv.index("--network") + 1] == "none"
    assert "HTTPS_PROXY=http://127.0.0.1:3128" in argv
    opened = json.loads(env.wrapix("run", "--dry-run", "--json", "--network", "open",
                                   "--image", "x", str(env.workspace)).stdout)
    assert opened["network"] == {"mode": "open", "allowlist": []}
    assert opened["argv"][opened["argv"].index("--network") + 1] in ("pasta", "slirp4netns")


def test_a_proxy_that_cannot_start_stops_the_launch(podman: str, busybox_image: str,
                                                    tmp_path: Path) -> None:
    env = make_env(tmp_path)
    deep = env.root / ("d" * 60) / ("e" * 60)  # longer than a Unix socket path may be
    deep.mkdir(parents=True, mode=0o700)
    base = env.vars()
    done = subprocess.run(
        [*_wrapix_argv(), "run", "--detach", "--network", "allowlist", "--image",
         busybox_image, "--name", "wrapix-egress-failclosed", str(env.workspace), "--",
         "sleep", "60"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**base, "WRAPIX_RUNTIME_DIR": str(deep)}, cwd=env.workspace)
    assert done.returncode != 0
    assert "egress proxy for wrapix-egress-failclosed did not start" in done.stderr
    assert "Traceback" not in done.stderr
    exists = subprocess.run([podman, "container", "exists", "wrapix-egress-failclosed"],
                            capture_output=True, timeout=30, check=False)
    assert exists.returncode == 1  # nothing was started


def _wrapix_argv() -> list[str]:
    from tests.support.cli import script

    return [script("wrapix")]
