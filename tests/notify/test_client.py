"""`wrapix-notify` and its lookups; the original system's `jq | nc` client as well."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.notify.conftest import make_daemon, next_entry
from tests.support.cli import script
from wrapix_core import paths
from wrapix_core.notify import client
from wrapix_core.notify.daemon import NotifyDaemon
from wrapix_core.notify.inbox import Entry
from wrapix_core.notify.protocol import MAX_LINE, parse_line


@pytest.fixture
async def running() -> AsyncIterator[tuple[NotifyDaemon, AsyncIterator[Entry]]]:
    async with make_daemon() as daemon:
        yield daemon, daemon.subscribe()


def run_client(*args: str, env: dict[str, str] | None = None,
               timeout: float = 10) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run([script("wrapix-notify"), *args], capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, **(env or {})})
    return done, time.monotonic() - start


async def test_client_reaches_the_inbox_with_session_and_sandbox(
        running: tuple[NotifyDaemon, AsyncIterator[Entry]]) -> None:
    _daemon, entries = running
    done, _ = run_client("Claude", "Waiting for input", "Ping",
                         env={"WRAPIX_SESSION_ID": "main:1.0", "WRAPIX_SANDBOX": "wx-demo"})
    assert done.returncode == 0 and done.stdout == done.stderr == ""
    entry = await next_entry(entries)
    assert (entry.title, entry.message, entry.sound, entry.session_id, entry.sandbox) == \
        ("Claude", "Waiting for input", "Ping", "main:1.0", "wx-demo")


async def test_the_original_jq_and_nc_client_reaches_the_inbox(
        running: tuple[NotifyDaemon, AsyncIterator[Entry]]) -> None:
    daemon, entries = running
    command = ("printf '%s\\n' \"$(jq -cn --arg t \"$T\" --arg m \"$M\" "
               "'{title:$t,message:$m}')\" | nc -U -N \"$SOCK\"")
    # nc -N waits for the daemon to hang up: run it off the daemon's event loop.
    await asyncio.to_thread(
        subprocess.run, ["sh", "-c", command], check=True, timeout=10,
        env={**os.environ, "T": "Claude Code", "M": 'Waiting "quoted" $HOME',
             "SOCK": str(daemon.socket_path)})
    entry = await next_entry(entries)
    assert (entry.title, entry.message) == ("Claude Code", 'Waiting "quoted" $HOME')


def test_no_daemon_means_a_silent_success() -> None:
    done, _ = run_client("T", "M")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    verbose, _ = run_client("T", env={"WRAPIX_NOTIFY_VERBOSE": "1"})
    assert verbose.returncode == 0 and "not sent" in verbose.stderr


def test_a_daemon_that_never_accepts_costs_at_most_a_second() -> None:
    """A hung daemon: its backlog is full, so connect() blocks."""
    path = paths.notify_socket()
    paths.ensure_private_dir(path.parent)
    hung = socket.socket(socket.AF_UNIX)
    hung.bind(str(path))
    hung.listen(0)
    fillers = []
    try:
        for _ in range(4):  # fill the backlog (its real size is backlog + 1)
            filler = socket.socket(socket.AF_UNIX)
            filler.setblocking(False)
            try:
                filler.connect(str(path))
            except BlockingIOError:
                filler.close()
                break
            fillers.append(filler)
        done, elapsed = run_client("T", "M")
        assert done.returncode == 0 and done.stderr == ""
        assert elapsed < 1.0 + 0.5  # the budget plus interpreter start-up
        assert elapsed >= 0.9  # it really waited on the hung daemon (the test is real)
    finally:
        for filler in fillers:
            filler.close()
        hung.close()


def test_a_daemon_that_accepts_but_never_reads_does_not_hold_the_client() -> None:
    path = paths.notify_socket()
    paths.ensure_private_dir(path.parent)
    with socket.socket(socket.AF_UNIX) as silent:
        silent.bind(str(path))
        silent.listen(10)
        done, elapsed = run_client("T", "x" * 60_000)
        assert done.returncode == 0
        assert elapsed < 1.5


def test_retries_after_a_full_backlog_stay_within_the_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """EAGAIN for most of the second, then a connect that hangs (a TCP peer, say): the
    last attempt may only use what is left of the one second, not a fresh second."""
    clock = [50.0]
    attempts: list[tuple[float, float]] = []

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return clock[0]

        @staticmethod
        def sleep(seconds: float) -> None:
            clock[0] += seconds

    class Busy:
        def __init__(self, family: int, kind: int) -> None:
            self.timeout = 0.0

        def settimeout(self, value: float) -> None:
            self.timeout = value

        def connect(self, address: object) -> None:
            attempts.append((clock[0], self.timeout))
            if clock[0] < 50.9:
                raise BlockingIOError(11, "Resource temporarily unavailable")
            clock[0] += self.timeout  # hangs for as long as it is allowed to
            raise TimeoutError("timed out")

        def close(self) -> None:
            pass

    monkeypatch.setattr(client, "time", Clock)
    monkeypatch.setattr(client, "_Socket", Busy)
    with pytest.raises(TimeoutError):
        client.send(b"{}\n", (socket.AF_UNIX, "/nowhere"))
    assert len(attempts) > 10
    assert all(started + budget <= 51.0 + 1e-6 for started, budget in attempts)
    assert clock[0] <= 51.0 + 1e-6


def test_usage_and_help() -> None:
    done, _ = run_client("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: wrapix-notify TITLE")
    done, _ = run_client()
    assert done.returncode == 2 and "usage:" in done.stderr
    done, _ = run_client("a", "b", "c", "d")
    assert done.returncode == 2


async def test_a_title_that_looks_like_an_option_after_double_dash(
        running: tuple[NotifyDaemon, AsyncIterator[Entry]]) -> None:
    _daemon, entries = running
    done, _ = run_client("--", "-5 tests failed")
    assert done.returncode == 0
    assert (await next_entry(entries)).title == "-5 tests failed"


async def test_tcp_to_an_explicit_address() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    async with make_daemon(tcp=f"127.0.0.1:{port}") as daemon:
        entries = daemon.subscribe()
        done, _ = run_client("over", "tcp", env={"WRAPIX_NOTIFY_TCP": f"127.0.0.1:{port}"})
        assert done.returncode == 0
        assert (await next_entry(entries)).message == "tcp"


# -- lookups (parameterised so tests can point them anywhere) -----------------------------

def test_host_socket_matches_the_core_paths(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WRAPIX_RUNTIME_DIR"}
    for xdg in (str(tmp_path), str(tmp_path / "missing"), ""):
        variant = {**env, "XDG_RUNTIME_DIR": xdg}
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(variant)
            assert client.host_socket(variant) == str(paths.notify_socket())
        finally:
            os.environ.clear()
            os.environ.update(saved)
    assert client.host_socket(os.environ) == str(paths.notify_socket())


def test_the_container_socket_is_used_when_it_exists(tmp_path: Path) -> None:
    inside = tmp_path / "run" / "wrapix" / "notify.sock"
    env = {"WRAPIX_RUNTIME_DIR": str(tmp_path / "host")}
    assert client.resolve_target(env, container_socket=str(inside)) == \
        (socket.AF_UNIX, str(tmp_path / "host" / "notify.sock"))
    inside.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(inside))
        assert client.resolve_target(env, container_socket=str(inside)) == \
            (socket.AF_UNIX, str(inside))
    assert client.CONTAINER_SOCKET == "/run/wrapix/notify.sock"


def test_an_explicit_socket_variable_wins(tmp_path: Path) -> None:
    env = {"WRAPIX_NOTIFY__SOCKET": str(tmp_path / "x.sock")}
    assert client.resolve_target(env, container_socket="/nonexistent") == \
        (socket.AF_UNIX, str(tmp_path / "x.sock"))


ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t0040A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth0\t00000000\t0140A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
"""


def test_tcp_to_the_default_gateway(tmp_path: Path) -> None:
    route = tmp_path / "route"
    route.write_text(ROUTE)
    assert client.default_gateway(str(route)) == "192.168.64.1"
    assert client.resolve_target({"WRAPIX_NOTIFY_TCP": "1"}, route_file=str(route)) == \
        (socket.AF_INET, ("192.168.64.1", 5959))
    route.write_text(ROUTE.splitlines()[0] + "\n")
    assert client.resolve_target({"WRAPIX_NOTIFY_TCP": "1"}, route_file=str(route)) is None
    assert client.default_gateway(str(tmp_path / "missing")) is None


@pytest.mark.parametrize(("value", "target"), [
    ("10.0.0.1:6000", (socket.AF_INET, ("10.0.0.1", 6000))),
    ("10.0.0.1", (socket.AF_INET, ("10.0.0.1", 5959))),
    ("[::1]:7000", (socket.AF_INET6, ("::1", 7000))),
    ("host:notaport", None),
])
def test_tcp_override(value: str, target: object) -> None:
    assert client.resolve_target({"WRAPIX_NOTIFY_TCP": value}) == target


def test_build_line_fits_the_protocol_limit() -> None:
    env = {"WRAPIX_SESSION_ID": "s:0.0", "WRAPIX_SANDBOX": "box"}
    line = client.build_line("T", "M", "Ping", env)
    assert json.loads(line) == {"title": "T", "message": "M", "sound": "Ping",
                                "session_id": "s:0.0", "sandbox": "box"}
    for huge in ("x" * 200_000, "\x01" * 100_000, "😀" * 50_000):
        line = client.build_line(huge, huge, None, env)
        assert len(line) - 1 <= MAX_LINE and line.endswith(b"\n")
        note = parse_line(line.rstrip(b"\n"))
        assert note.session_id == "s:0.0" and note.title.startswith(huge[:100])
