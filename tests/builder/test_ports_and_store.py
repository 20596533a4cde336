"""Checks made before anything is created: the port, the store directory; and the
SSH banner probe that tells "sshd answers" from "something accepted the connection"."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from wrapix_core.builder import ports, store
from wrapix_core.builder.errors import PortInUse, StoreNotWritable

needs_non_root = pytest.mark.skipif(os.geteuid() == 0,
                                    reason="root ignores directory permissions")


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_taken_port_is_named_with_its_holder(listener: int) -> None:
    with pytest.raises(PortInUse) as caught:
        ports.ensure_free(listener)
    message = str(caught.value)
    assert f"port {listener} on 127.0.0.1 is already in use" in message
    assert f"pid {os.getpid()}" in message
    assert f"WRAPIX_BUILDER__PORT={listener + 1}" in message


def test_port_taken_on_all_addresses_counts_as_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        with pytest.raises(PortInUse):
            ports.ensure_free(sock.getsockname()[1])


def test_free_port_passes() -> None:
    ports.ensure_free(free_port())


async def banner_of(payload: bytes | None) -> str | None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if payload is not None:
            writer.write(payload)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        return await ports.ssh_banner(port, timeout=2)


def test_ssh_banner_only_for_an_ssh_server() -> None:
    assert asyncio.run(banner_of(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")) == \
        "SSH-2.0-OpenSSH_9.2p1 Debian"
    assert asyncio.run(banner_of(b"HTTP/1.1 400 Bad Request\r\n")) is None
    assert asyncio.run(banner_of(None)) is None  # accepted, then closed (a port forwarder)
    assert asyncio.run(ports.ssh_banner(free_port(), timeout=2)) is None


def test_store_check_accepts_a_creatable_directory(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "builder-nix"
    store.check_writable(target)
    assert not target.exists()  # checking creates nothing
    assert store.prepare_dir(target)
    assert target.stat().st_mode & 0o777 == 0o755
    assert not store.prepare_dir(target)


def test_store_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "builder-nix"
    blocker.write_text("")
    with pytest.raises(StoreNotWritable, match="is not a directory"):
        store.check_writable(blocker)


@needs_non_root
def test_store_in_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    parent = tmp_path / "data"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(StoreNotWritable, match=r"builder-nix is not writable"):
            store.check_writable(parent / "builder-nix")
        existing = tmp_path / "existing"
        existing.mkdir(mode=0o500)
        with pytest.raises(StoreNotWritable, match="is not writable"):
            store.check_writable(existing)
    finally:
        parent.chmod(0o700)


def test_store_is_current_only_with_the_same_image_and_a_store(tmp_path: Path) -> None:
    assert store.recorded_version(tmp_path) is None
    (tmp_path / ".image-version").write_text("sha256:abc\n")
    assert store.recorded_version(tmp_path) == "sha256:abc"
    assert not store.is_current(tmp_path, "sha256:abc")  # no store/ yet
    (tmp_path / "store").mkdir()
    assert store.is_current(tmp_path, "sha256:abc")
    assert not store.is_current(tmp_path, "sha256:def")
