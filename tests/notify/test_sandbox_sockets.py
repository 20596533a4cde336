"""Per-sandbox sockets: what a sandbox sees, who a message is from, one quota each.

Real sockets and a real in-process daemon; the real-Podman versions of these attacks
(run from inside sandboxes) are in ``test_from_sandbox.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from tests.notify.conftest import eventually, make_daemon, next_entry, send
from wrapix_core import paths
from wrapix_core.notify import socketdirs
from wrapix_core.notify.daemon import Source
from wrapix_core.notify.inbox import Entry, InboxStore, NewEntry
from wrapix_core.notify.protocol import Notification

LONG_NAME = "wrapix-" + "p" * 49 + "-abc123"  # 63 characters: the longest container name


def line(title: str, **extra: str) -> bytes:
    return json.dumps({"title": title, "message": "m", **extra}).encode() + b"\n"


def sandbox_socket(name: str) -> Path:
    return paths.sandbox_socket_dir(name) / "notify.sock"


async def test_a_sandbox_started_after_the_daemon_gets_its_socket_and_identity() -> None:
    async with make_daemon() as daemon:
        entries = daemon.subscribe()
        assert socketdirs.create(str(paths.sandbox_socket_dir(LONG_NAME)))
        path = sandbox_socket(LONG_NAME)
        assert len(os.fsencode(path)) > 107  # bound through /proc/self/fd
        await eventually(lambda: path.exists(), what="the sandbox's socket")
        # Connect by a short path, as the sandbox does through its /run/wrapix mount.
        short = paths.runtime_dir() / "r"
        short.symlink_to(path.parent)
        await send(short / "notify.sock", line("from it", sandbox="someone-else"))
        entry = await next_entry(entries)
        assert entry.sandbox == LONG_NAME  # the socket says who it is, not the message
        assert entry.claimed_sandbox is None  # the claim is dropped, not kept
        assert os.listdir(path.parent) == ["notify.sock"]  # its socket and nothing else
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_sandboxes_already_there_are_served_and_gone_ones_dropped() -> None:
    socketdirs.create(str(paths.sandbox_socket_dir("wrapix-a-1")))
    async with make_daemon() as daemon:
        assert daemon.sandbox_names() == ["wrapix-a-1"]
        await send(sandbox_socket("wrapix-a-1"), line("hello"))
        await eventually(lambda: daemon.stats.stored == 1)
        assert daemon.store.load()[0].sandbox == "wrapix-a-1"
        socketdirs.remove(str(paths.sandbox_socket_dir("wrapix-a-1")))
        await eventually(lambda: daemon.sandbox_names() == [], what="listener closed")
        assert not paths.sandbox_socket_dir("wrapix-a-1").exists()


async def test_a_restarted_daemon_binds_again_in_the_directories_left() -> None:
    directory = paths.sandbox_socket_dir("wrapix-b-2")
    socketdirs.create(str(directory))
    async with make_daemon():
        assert os.listdir(directory) == ["notify.sock"]
    assert directory.is_dir() and os.listdir(directory) == []  # socket gone, dir kept
    async with make_daemon() as daemon:
        await send(directory / "notify.sock", line("again"))
        await eventually(lambda: daemon.stats.stored == 1)


async def test_the_lock_is_not_where_any_sandbox_can_see_it() -> None:
    socketdirs.create(str(paths.sandbox_socket_dir("wrapix-c-3")))
    async with make_daemon():
        lock = paths.notify_socket().with_name("notify.sock.lock")
        assert lock.exists()
        sockets = Path(socketdirs.sockets_dir(str(paths.notify_socket())))
        assert sockets not in lock.parents
        for root, _dirs, files in os.walk(sockets):
            for name in files:  # nothing but sockets, anywhere under sockets/
                assert stat.S_ISSOCK(os.lstat(os.path.join(root, name)).st_mode), name


async def test_one_sandbox_holding_connections_cannot_silence_another() -> None:
    socketdirs.create(str(paths.sandbox_socket_dir("wrapix-flood-1")))
    socketdirs.create(str(paths.sandbox_socket_dir("wrapix-quiet-2")))
    async with make_daemon(max_connections=400, sandbox_connections=100) as daemon:
        flood = []
        for _ in range(450):  # more than its quota and than the daemon's whole limit
            sock = socket.socket(socket.AF_UNIX)
            sock.setblocking(False)
            try:
                sock.connect(str(sandbox_socket("wrapix-flood-1")))
            except BlockingIOError:  # the backlog is full: the flood is as big as it gets
                sock.close()
                break
            flood.append(sock)
        try:
            await eventually(lambda: daemon.stats.connections >= min(len(flood), 450),
                             timeout=20, what="every flood connection accepted or refused")
            assert daemon.stats.open_connections == 100  # its quota, no more
            assert daemon.stats.refused_connections == len(flood) - 100
            entries = daemon.subscribe()
            await send(sandbox_socket("wrapix-quiet-2"), line("still heard"))
            entry = await next_entry(entries)
            assert (entry.title, entry.sandbox) == ("still heard", "wrapix-quiet-2")
            await send(daemon.socket_path, line("host too"))
            assert (await next_entry(entries)).title == "host too"
        finally:
            for sock in flood:
                sock.close()


def test_attribution_by_listener_never_by_claim() -> None:
    claim = Notification("t", "m", sandbox="victim")
    plain = Notification("t", "m")
    sandbox = Source("sandbox real", sandbox="real", trust_claims=False)
    assert sandbox.attribute(claim) == (Notification("t", "m", sandbox="real"), None)
    assert sandbox.attribute(plain) == (Notification("t", "m", sandbox="real"), None)
    host = Source("the host socket")  # the host user's own processes
    assert host.attribute(claim) == (claim, None)
    tcp = Source("TCP", trust_claims=False)  # macOS: nothing identifies the sender
    assert tcp.attribute(claim) == (plain, "victim")
    assert tcp.attribute(plain) == (plain, None)


def test_an_unverified_claim_is_stored_apart() -> None:
    store = InboxStore(limit=10)
    [entry] = store.append([NewEntry(Notification("t", "m"), "shown", "",
                                     claimed_sandbox="victim")])
    assert (entry.sandbox, entry.claimed_sandbox) == (None, "victim")
    [loaded] = store.load()
    assert loaded == entry
    assert Entry.from_record(entry.to_record()).claimed_sandbox == "victim"


def test_socket_directories_are_private_and_only_ever_hold_a_socket(tmp_path: Path) -> None:
    host = str(tmp_path / "run" / "notify.sock")
    directory = socketdirs.sandbox_dir(host, "wrapix-x-1")
    assert socketdirs.create(directory)
    assert not socketdirs.create(directory)  # there already: not this launch's to remove
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(socketdirs.sockets_dir(host)).st_mode) == 0o700
    other = Path(directory) / "precious"
    other.write_text("x")
    socketdirs.remove(directory)  # never deletes what it did not expect
    assert other.exists()
    other.unlink()
    socketdirs.remove(directory)
    assert not os.path.exists(directory)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", directory)
    with pytest.raises(socketdirs.SocketDirError, match="not a directory"):
        socketdirs.create(directory)
    for bad in ("", "../x", "a/b", ".hidden", "-x", "x" * 129):
        with pytest.raises(ValueError):
            socketdirs.sandbox_dir(host, bad)


async def test_a_directory_with_something_else_in_the_socket_place_is_skipped() -> None:
    directory = paths.sandbox_socket_dir("wrapix-d-4")
    socketdirs.create(str(directory))
    (directory / "notify.sock").write_text("not a socket")
    async with make_daemon() as daemon:
        await asyncio.sleep(0)
        assert daemon.sandbox_names() == []
        assert (directory / "notify.sock").read_text() == "not a socket"


@pytest.mark.parametrize("detach", [False, True])
def test_the_launch_fast_path_makes_the_socket_directory_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, detach: bool) -> None:
    from wrapix_core.cli import fastlaunch
    from wrapix_core.sandbox import launchcache

    directory = paths.sandbox_socket_dir("wrapix-fast-1")
    seen = tmp_path / "seen"
    fake = tmp_path / "podman"  # records what the container would see, then "runs"
    fake.write_text(f"#!/bin/sh\nstat -c '%a %F' '{directory}' > '{seen}'\n"
                    'echo cafe > "$3"\n')
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    args = ["run", "somewhere"]
    key = launchcache.launch_key(args, os.getcwd(), os.environ, sys.stdin.isatty())
    launchcache.store(key, {"argv": [str(fake), "run", "-v", f"{directory}:/run/wrapix:ro"],
                            "name": "wrapix-fast-1", "detach": detach, "json": False,
                            "detach_keys": "ctrl-p,ctrl-q", "warnings": [], "mkdir": [],
                            "socket_dir": str(directory), "session_id": None,
                            "checks": {"workspace": str(tmp_path), "protected": []},
                            "validators": []})
    assert fastlaunch.run_fast(args) == 0
    assert seen.read_text() == "700 directory\n"  # there, private, before the start
    # A foreground sandbox is gone when run_fast returns (--rm): so is its directory; a
    # detached one keeps it until it is removed.
    assert directory.exists() is detach
