"""The host-side proxy, in process, against local servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.egress import servers
from wrapix_core.egress import policy
from wrapix_core.egress.proxy import Denial, EgressProxy


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[tuple[Path, list[Denial], int]]:
    denials: list[Denial] = []
    patterns = policy.merge(["allowed.test", "localhost", "203.0.113.9"])
    server = EgressProxy(lambda host: policy.allowed(host, patterns),
                         on_denied=denials.append,
                         hosts={"allowed.test": "127.0.0.1", "denied.test": "127.0.0.1"},
                         connect_timeout=2.0)
    socket = tmp_path / "p.sock"
    with servers.serve() as port:
        listening = await server.serve(socket)
        try:
            yield socket, denials, port
        finally:
            listening.close()
            await listening.wait_closed()


async def _ask(socket: Path, request: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(str(socket))
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


async def test_plain_http_to_an_allowed_name(proxy: tuple[Path, list[Denial], int]) -> None:
    socket, denials, port = proxy
    answer = await _ask(socket, f"GET http://allowed.test:{port}/a HTTP/1.1\r\n"
                                f"Host: allowed.test:{port}\r\nProxy-Connection: keep-alive"
                                "\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(servers.BODY)
    assert denials == []


async def test_connect_tunnel_to_an_allowed_name(proxy: tuple[Path, list[Denial], int]
                                                 ) -> None:
    socket, _, port = proxy
    reader, writer = await asyncio.open_unix_connection(str(socket))
    writer.write(f"CONNECT allowed.test:{port} HTTP/1.1\r\n\r\n".encode())
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 200 Connection established\r\n\r\n"
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 10)).endswith(servers.BODY)
    writer.close()


@pytest.mark.parametrize(("request_line", "host", "reason"), [
    ("CONNECT denied.test:443", "denied.test", "not in this sandbox's allowlist"),
    ("GET http://denied.test/", "denied.test", "not in this sandbox's allowlist"),
    ("CONNECT 127.0.0.1:22", "127.0.0.1", "IP address 127.0.0.1 is not in"),
    ("CONNECT [::1]:22", "::1", "IP address ::1 is not in"),
    ("CONNECT localhost:22", "localhost", "resolves to a local address"),
])
async def test_refused_and_reported(proxy: tuple[Path, list[Denial], int], request_line: str,
                                    host: str, reason: str) -> None:
    socket, denials, _ = proxy
    answer = await _ask(socket, f"{request_line} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403 Forbidden")
    assert reason.encode() in answer
    assert [(d.host, reason in d.reason) for d in denials] == [(host, True)]


async def test_host_header_cannot_redirect_an_origin_form_request(
        proxy: tuple[Path, list[Denial], int]) -> None:
    socket, denials, port = proxy
    answer = await _ask(socket, f"GET / HTTP/1.1\r\nHost: denied.test:{port}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403")
    assert denials[0].host == "denied.test"


@pytest.mark.parametrize("head", [
    b"garbage\r\n\r\n", b"GET https://allowed.test/ HTTP/1.1\r\n\r\n",
    b"CONNECT allowed.test HTTP/1.1\r\n\r\n", b"CONNECT allowed.test:99999 HTTP/1.1\r\n\r\n",
])
async def test_malformed_requests_are_bad_requests(proxy: tuple[Path, list[Denial], int],
                                                   head: bytes) -> None:
    socket, denials, _ = proxy
    assert (await _ask(socket, head)).startswith(b"HTTP/1.1 400")
    assert denials == []


async def test_an_oversized_head_is_dropped(proxy: tuple[Path, list[Denial], int]) -> None:
    socket, denials, _ = proxy
    try:
        answer = await _ask(socket, b"GET http://allowed.test/ HTTP/1.1\r\nX: "
                            + b"a" * 200_000 + b"\r\n\r\n")
    except ConnectionResetError:
        answer = b""  # closed while the client was still sending
    assert answer == b"" and denials == []


def test_a_denial_is_announced_to_the_notification_daemon() -> None:
    import json
    import socket as sockets

    from wrapix_core import paths
    from wrapix_core.egress.daemon import _announce

    path = paths.notify_socket()
    listener = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    listener.settimeout(5)
    try:
        _announce("wrapix-x", Denial("t", "evil.example", 443, "CONNECT", "not allowed"))
        conn, _ = listener.accept()
        line = json.loads(conn.makefile("rb").readline())
        conn.close()
    finally:
        listener.close()
    assert line["sandbox"] == "wrapix-x" and line["title"] == "Blocked: evil.example"
    assert "wrapix net log wrapix-x" in line["message"]


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "::ffff:169.254.169.254"])
async def test_a_name_resolving_to_an_ipv4_mapped_local_address_is_refused(
        proxy: tuple[Path, list[Denial], int], monkeypatch: pytest.MonkeyPatch,
        address: str) -> None:
    """DNS rebinding through an AAAA record: ``::ffff:127.0.0.1`` is the host's loopback
    to a dual-stack socket, though ``ipaddress`` does not call it loopback."""
    import socket as sockets

    socket, denials, port = proxy

    async def rebound(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(sockets.AF_INET6, sockets.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", rebound)
    answer = await _ask(socket, f"CONNECT localhost:{port} HTTP/1.1\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403 Forbidden"), answer[:80]
    assert b"resolves to a local address" in answer
    assert [d.host for d in denials] == ["localhost"]


async def test_connections_over_the_limit_are_refused(tmp_path: Path) -> None:
    """Each relayed connection costs two host threads: a sandbox opening thousands must
    meet the proxy's limit, not the host's."""
    server = EgressProxy(lambda host: host == "allowed.test", on_denied=lambda _: None,
                         hosts={"allowed.test": "127.0.0.1"}, connect_timeout=2.0,
                         max_connections=2)
    socket = tmp_path / "p.sock"
    with servers.serve() as port:
        listening = await server.serve(socket)
        tunnels = []
        try:
            for _ in range(2):
                reader, writer = await asyncio.open_unix_connection(str(socket))
                writer.write(f"CONNECT allowed.test:{port} HTTP/1.1\r\n\r\n".encode())
                assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                        ).startswith(b"HTTP/1.1 200")
                tunnels.append(writer)
            answer = await _ask(socket, f"CONNECT allowed.test:{port} HTTP/1.1\r\n\r\n"
                                .encode())
            assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
            assert b"connections open (the limit)" in answer
            tunnels.pop().close()
            for _ in range(100):  # the relay notices the close
                if server.open < 2:
                    break
                await asyncio.sleep(0.05)
            answer = await _ask(socket, f"GET http://allowed.test:{port}/ HTTP/1.1\r\n"
                                f"Host: allowed.test:{port}\r\n\r\n".encode())
            assert answer.endswith(servers.BODY)
        finally:
            for writer in tunnels:
                writer.close()
            listening.close()
            await listening.wait_closed()
