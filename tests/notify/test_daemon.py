"""The daemon on real sockets: framing, limits, concurrency, socket safety, lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from datetime import UTC, datetime

import pytest

from tests.notify.conftest import eventually, make_daemon, next_entry, send
from wrapix_core import paths
from wrapix_core.notify.daemon import QUEUE_LIMIT, NotifyDaemon, daemon_running
from wrapix_core.notify.inbox import Entry
from wrapix_core.notify.listener import DaemonAlreadyRunning, ListenError, parse_tcp
from wrapix_core.notify.protocol import MAX_LINE


def line(title: str, message: str = "m", **extra: str) -> bytes:
    return json.dumps({"title": title, "message": message, **extra}).encode() + b"\n"


async def test_many_lines_on_one_connection(daemon: NotifyDaemon) -> None:
    await send(daemon.socket_path, b"".join(line(f"t{i}") for i in range(200)))
    await eventually(lambda: daemon.stats.stored == 200)
    assert [e.title for e in daemon.store.load()] == [f"t{i}" for i in range(200)]


async def test_a_final_line_without_newline_is_accepted(daemon: NotifyDaemon) -> None:
    await send(daemon.socket_path, line("a") + line("b").rstrip(b"\n"))
    await eventually(lambda: daemon.stats.stored == 2)


async def test_a_thousand_concurrent_connections(daemon: NotifyDaemon) -> None:
    conns = await asyncio.gather(*(asyncio.open_unix_connection(str(daemon.socket_path))
                                   for _ in range(1000)))
    await eventually(lambda: daemon.stats.open_connections == 1000, what="1000 open")
    for i, (_reader, writer) in enumerate(conns):
        writer.write(line(f"c{i}"))
    for _reader, writer in conns:
        await writer.drain()
        writer.close()
    await eventually(lambda: daemon.stats.stored == 1000, timeout=20)
    titles = {e.title for e in daemon.store.load()}
    assert titles == {f"c{i}" for i in range(1000)}


async def test_a_stalled_half_line_does_not_delay_others() -> None:
    async with make_daemon(idle_timeout=30) as daemon:
        entries = daemon.subscribe()
        _reader, stalled = await asyncio.open_unix_connection(str(daemon.socket_path))
        stalled.write(b'{"title": "never fin')
        await stalled.drain()
        loop = asyncio.get_running_loop()
        start = loop.time()
        await send(daemon.socket_path, line("prompt"))
        entry = await next_entry(entries, timeout=2)
        assert entry.title == "prompt"
        assert loop.time() - start < 1.0
        stalled.close()


async def test_an_idle_connection_is_closed_and_its_half_line_rejected() -> None:
    async with make_daemon(idle_timeout=0.3) as daemon:
        reader, writer = await asyncio.open_unix_connection(str(daemon.socket_path))
        writer.write(b'{"title": "half')
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 3) == b""  # the daemon hung up
        assert daemon.stats.rejected == 1
        writer.close()


async def test_a_trickling_client_cannot_hold_a_connection() -> None:
    """The deadline moves only when a line completes, not with every byte."""
    async with make_daemon(idle_timeout=0.5) as daemon:
        reader, writer = await asyncio.open_unix_connection(str(daemon.socket_path))
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises((ConnectionError, OSError)):
            while loop.time() - start < 5:
                writer.write(b"x")
                await writer.drain()
                if reader.at_eof():
                    raise ConnectionResetError
                await asyncio.sleep(0.05)
        assert loop.time() - start < 2
        writer.close()


async def test_bad_lines_are_rejected_and_the_daemon_keeps_serving(
        daemon: NotifyDaemon, caplog: pytest.LogCaptureFixture) -> None:
    oversized = b'{"title": "x", "message": "' + b"y" * MAX_LINE + b'"}\n'
    await send(daemon.socket_path,
               oversized + b"\xff\xfe\xfd\n" + b"{not json\n" + b'{"title": 1}\n'
               + line("survivor"))
    await eventually(lambda: daemon.stats.stored == 1)
    assert daemon.stats.rejected == 4
    assert [e.title for e in daemon.store.load()] == ["survivor"]
    logged = caplog.text
    assert "exceeds the 65536-byte limit" in logged
    assert "invalid UTF-8" in logged and "invalid JSON" in logged
    await send(daemon.socket_path, b"\x00" * 200_000)
    await send(daemon.socket_path, line("still here"))
    await eventually(lambda: daemon.stats.stored == 2)


async def test_verbose_decisions_log_untrusted_fields_escaped(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="wrapix")
    async with make_daemon(verbose=True) as daemon:
        await send(daemon.socket_path, line("t\x1b[2J", sandbox="box\x1b]0;pwn\x07")
                   + line("u", session_id="s\x1b[31m:1.0"))
        await eventually(lambda: daemon.stats.stored == 2)
    decisions = [r.getMessage() for r in caplog.records if " from " in r.getMessage()]
    assert len(decisions) == 2
    assert not any("\x1b" in text or "\x07" in text for text in decisions)
    assert "from box\\e]0;pwn\\x07:" in decisions[0]


async def test_connection_limit_refuses_extra_connections() -> None:
    async with make_daemon(max_connections=2) as daemon:
        held = [await asyncio.open_unix_connection(str(daemon.socket_path)) for _ in range(2)]
        await eventually(lambda: daemon.stats.open_connections == 2)
        reader, writer = await asyncio.open_unix_connection(str(daemon.socket_path))
        assert await asyncio.wait_for(reader.read(), 3) == b""
        assert daemon.stats.refused_connections == 1
        for _r, w in [*held, (reader, writer)]:
            w.close()
        await send(daemon.socket_path, line("after"))
        await eventually(lambda: daemon.stats.stored == 1)


async def test_socket_and_directory_permissions(daemon: NotifyDaemon) -> None:
    path = daemon.socket_path
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_a_loose_socket_directory_is_made_private() -> None:
    directory = paths.runtime_dir()
    directory.chmod(0o755)
    async with make_daemon():
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


async def test_a_second_daemon_does_not_steal_a_live_socket(daemon: NotifyDaemon) -> None:
    inode = daemon.socket_path.stat().st_ino
    with pytest.raises(DaemonAlreadyRunning, match="already running"):
        await make_daemon().start()
    assert daemon.socket_path.stat().st_ino == inode
    await send(daemon.socket_path, line("first daemon still serves"))
    await eventually(lambda: daemon.stats.stored == 1)


async def test_a_live_socket_of_another_program_is_not_stolen() -> None:
    path = paths.notify_socket()
    paths.ensure_private_dir(path.parent)
    other = socket.socket(socket.AF_UNIX)
    other.bind(str(path))
    other.listen()
    try:
        with pytest.raises(DaemonAlreadyRunning):
            await make_daemon().start()
        assert path.exists()
    finally:
        other.close()


async def test_a_stale_socket_is_replaced() -> None:
    path = paths.notify_socket()
    paths.ensure_private_dir(path.parent)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))  # bound, never listening, then closed: what a killed daemon leaves
    dead.close()
    assert path.exists() and not daemon_running(path)
    async with make_daemon() as daemon:
        assert daemon_running(path)
        await send(path, line("fresh"))
        await eventually(lambda: daemon.stats.stored == 1)
    assert not path.exists()


async def test_a_regular_file_at_the_socket_path_is_left_alone() -> None:
    path = paths.notify_socket()
    paths.ensure_private_dir(path.parent)
    path.write_text("precious")
    with pytest.raises(ListenError, match="is not a socket"):
        await make_daemon().start()
    assert path.read_text() == "precious"


async def test_stop_removes_the_socket_and_stores_what_was_received() -> None:
    daemon = make_daemon()
    await daemon.start()
    await send(daemon.socket_path, b"".join(line(f"x{i}") for i in range(50)))
    await daemon.stop()
    assert not daemon.socket_path.exists()
    assert len(daemon.store.load()) == 50
    await daemon.start()  # the lock was released: it can start again
    await daemon.stop()


async def test_subscribers_get_entries_with_ids_and_end_when_the_daemon_stops() -> None:
    daemon = make_daemon()
    await daemon.start()
    stream = daemon.subscribe()
    await send(daemon.socket_path, line("a") + line("b"))
    assert [(await next_entry(stream)).id for _ in range(2)] == [1, 2]
    await daemon.stop()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), 2)


async def test_a_full_subscriber_still_ends_when_the_daemon_stops() -> None:
    daemon = make_daemon()
    await daemon.start()
    stream = daemon.subscribe()
    stamp = datetime.now(UTC)
    for ident in range(QUEUE_LIMIT + 5):  # five more than it can hold: those are dropped
        daemon._publish(Entry(ident, stamp, "t", "m", "shown", "test"))
    await daemon.stop()

    async def drain() -> int:
        return len([entry async for entry in stream])

    assert await asyncio.wait_for(drain(), 10) == QUEUE_LIMIT


@pytest.mark.parametrize("value", ["0.0.0.0", "0.0.0.0:5959", "[::]:5959", "::"])
def test_tcp_on_every_address_is_refused(value: str) -> None:
    with pytest.raises(ListenError, match="refusing"):
        parse_tcp(value)


@pytest.mark.parametrize(("value", "parsed"), [
    ("192.168.64.1", ("192.168.64.1", 5959)),
    ("127.0.0.1:6000", ("127.0.0.1", 6000)),
    ("[::1]:7000", ("::1", 7000)),
])
def test_tcp_addresses(value: str, parsed: tuple[str, int]) -> None:
    assert parse_tcp(value) == parsed


@pytest.mark.parametrize("value", ["localhost:5959", "1.2.3.4:http", "1.2.3.4:70000"])
def test_bad_tcp_addresses(value: str) -> None:
    with pytest.raises(ListenError):
        parse_tcp(value)


async def test_tcp_listener_on_one_address() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    async with make_daemon(tcp=f"127.0.0.1:{port}") as daemon:
        assert daemon.tcp_address == ("127.0.0.1", port)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(line("over tcp"))
        await writer.drain()
        writer.close()
        await eventually(lambda: daemon.stats.stored == 1)


async def test_an_unavailable_tcp_address_fails_start_and_releases_the_socket() -> None:
    daemon = make_daemon(tcp="192.0.2.1:5959")  # TEST-NET: not on this host
    with pytest.raises(ListenError, match="cannot listen on TCP"):
        await daemon.start()
    assert not daemon.socket_path.exists()
    assert not daemon.running


async def test_an_optional_tcp_address_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    async with make_daemon(tcp="192.0.2.1:5959", tcp_optional=True) as daemon:
        assert daemon.tcp_address is None
        assert "not listening on TCP" in caplog.text


def test_a_socket_path_that_is_too_long_is_explained() -> None:
    long = paths.runtime_dir() / ("x" * 120) / "notify.sock"
    with pytest.raises(ListenError, match="longer than"):
        asyncio.run(make_daemon(socket=long).start())


def test_daemon_running_is_false_without_a_daemon() -> None:
    assert not daemon_running()
    assert not os.path.exists(paths.notify_socket())


def test_config_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from wrapix_core.notify.daemon import DaemonConfig
    from wrapix_core.settings import load_settings

    monkeypatch.setenv("WRAPIX_NOTIFY__BACKEND", "none")
    monkeypatch.setenv("WRAPIX_NOTIFY__INBOX_LIMIT", "50")
    monkeypatch.setenv("WRAPIX_NOTIFY_VERBOSE", "1")
    config = DaemonConfig.from_settings(load_settings())
    assert (config.socket_path, config.backend, config.inbox_limit, config.verbose) == \
        (paths.notify_socket(), "none", 50, True)
    assert config.tcp is None
    assert DaemonConfig().verbose  # the environment counts for in-process daemons too
    monkeypatch.setattr("sys.platform", "darwin")
    mac = DaemonConfig.from_settings(load_settings())
    assert (mac.tcp, mac.tcp_optional) == ("192.168.64.1:5959", True)
    monkeypatch.setenv("WRAPIX_NOTIFY__TCP", "10.0.0.1:6000")
    explicit = DaemonConfig.from_settings(load_settings())
    assert (explicit.tcp, explicit.tcp_optional) == ("10.0.0.1:6000", False)
