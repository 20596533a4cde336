"""The real `wrapix-notifyd` process: foreground, background, signals, bad options,
and arbitrary bytes thrown at it (hypothesis)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.notify.conftest import wait_until
from tests.support.cli import script
from wrapix_core import paths
from wrapix_core.notify.daemon import daemon_running
from wrapix_core.notify.inbox import InboxStore


def notifyd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script("wrapix-notifyd"), *args], capture_output=True, text=True,
                          timeout=30, check=False, env=env)


def send_raw(path: Path, data: bytes) -> None:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(5)
        conn.connect(str(path))
        conn.sendall(data)


def titles(store: InboxStore) -> list[str]:
    return [entry.title for entry in store.load()]


def test_foreground_daemon_serves_and_cleans_up_on_sigterm() -> None:
    sock = paths.notify_socket()
    process = subprocess.Popen([script("wrapix-notifyd"), "--foreground", "--verbose"],
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: daemon_running(sock), what="the daemon listening")
        send_raw(sock, b'{"title": "hello", "message": "from a test"}\n')
        wait_until(lambda: titles(InboxStore()) == ["hello"], what="the entry stored")
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not sock.exists()
    assert process.stderr is not None
    log = process.stderr.read()
    assert "listening on" in log and "'hello'" in log and "stopped" in log


def test_sigint_also_stops_it_cleanly() -> None:
    sock = paths.notify_socket()
    process = subprocess.Popen([script("wrapix-notifyd"), "--foreground"],
                               stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: daemon_running(sock), what="the daemon listening")
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not sock.exists()


def test_background_start_then_a_second_one_is_refused() -> None:
    sock = paths.notify_socket()
    first = notifyd()
    assert first.returncode == 0, first.stderr
    assert f"listening on {sock}" in first.stdout
    pid = int(first.stdout.split("(pid ")[1].split(")")[0])
    try:
        assert daemon_running(sock)  # ready when the command returned
        assert (paths.state_dir() / "notifyd.log").exists()
        second = notifyd()
        assert second.returncode == 1
        assert "already running" in second.stderr and "Traceback" not in second.stderr
        assert daemon_running(sock)
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not psutil.pid_exists(pid) or
                   psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
                   what="the daemon exiting")
    assert not sock.exists()


@pytest.mark.parametrize("address", ["0.0.0.0", "[::]:5959"])
def test_listening_on_every_address_is_refused(address: str) -> None:
    done = notifyd("--foreground", "--tcp", address)
    assert done.returncode == 2
    assert "refusing to listen" in done.stderr and "Traceback" not in done.stderr
    assert not paths.notify_socket().exists()


def test_help() -> None:
    done = notifyd("--help")
    assert done.returncode == 0
    assert "--foreground" in done.stdout and "--tcp" in done.stdout


# -- hypothesis: arbitrary bytes at a running daemon -------------------------------------

@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, InboxStore]]:
    base = tmp_path_factory.mktemp("wxh")
    env = {**os.environ}
    for name in ("RUNTIME", "STATE", "CONFIG", "CACHE", "DATA"):
        (base / name).mkdir()
        env[f"WRAPIX_{name}_DIR"] = str(base / name)
    sock = base / "RUNTIME" / "notify.sock"
    process = subprocess.Popen([script("wrapix-notifyd"), "--foreground"], env=env,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: daemon_running(sock), what="the daemon listening")
        yield sock, InboxStore(base / "STATE" / "inbox.jsonl")
    finally:
        process.terminate()
        assert process.wait(10) == 0  # it survived everything and stopped cleanly


_counter = iter(range(1_000_000))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.one_of(
    st.binary(max_size=5000),
    st.lists(st.binary(max_size=300), max_size=20).map(b"\n".join),
    st.binary(min_size=65_000, max_size=70_000),
))
def test_arbitrary_bytes_never_stop_the_daemon(
        running: tuple[Path, InboxStore], garbage: bytes) -> None:
    sock, store = running
    send_raw(sock, garbage)
    marker = f"alive-{next(_counter)}"
    send_raw(sock, json.dumps({"title": marker, "message": ""}).encode() + b"\n")
    wait_until(lambda: marker in titles(store), what=f"{marker} stored")
