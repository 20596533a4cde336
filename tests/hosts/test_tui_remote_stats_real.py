"""CPU and memory of remote sandboxes in wrapix-tui, real Podman and real SSH (mandatory in
CI): a remote row gets its figures from that host's Podman, and a host whose stats hang
never delays the local rows' figures (each host samples in a worker of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.remote_host import RemoteHost, SilentServer
from tests.tui.conftest import wait_until

pytestmark = [pytest.mark.podman]

FIGURE = re.compile(r"\d+\.\d%\Z")


class StallingProxy(SilentServer):
    """A TCP proxy to the remote host's sshd that can stop answering: once stalled, new
    connections are accepted and never served (a host that hangs), while the ones already
    open (the host's ``podman events``) go on."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.stalled = threading.Event()
        self.open: list[socket.socket] = []
        super().__init__()

    def took(self, conn: socket.socket) -> None:
        if self.stalled.is_set():
            self.held.append(conn)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=10)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        self.open += [conn, upstream]
        for source, sink in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        super().close()
        for conn in self.open:
            conn.close()


def _run(podman: str, remote: RemoteHost | None, *args: str) -> None:
    if remote is None:
        subprocess.run([podman, *args], check=True, capture_output=True, timeout=120)
    else:
        remote.podman(podman, *args)


@pytest.fixture
def containers(podman: str, remote: RemoteHost) -> Iterator[list[tuple[RemoteHost | None, str]]]:
    started: list[tuple[RemoteHost | None, str]] = []
    yield started
    for where, name in started:
        if where is None:
            subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                           timeout=60, check=False)
        else:
            where.podman(podman, "rm", "-f", "-t", "0", name, check=False)


def _start(podman: str, where: RemoteHost | None, image: str, started: list[
        tuple[RemoteHost | None, str]], *command: str) -> str:
    name = f"wrapix-stats-{uuid.uuid4().hex[:8]}"
    started.append((where, name))
    _run(podman, where, "run", "-d", "--name", name, "--label", "wrapix.sandbox=1", image,
         *command)
    return name


async def test_a_remote_sandbox_row_gets_cpu_and_memory_from_its_host(
        podman: str, remote: RemoteHost, remote_busybox: str,
        containers: list[tuple[RemoteHost | None, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wrapix_tui.app import WrapixApp

    monkeypatch.setenv("WRAPIX_NOTIFY__BACKEND", "none")
    busy = _start(podman, remote, remote_busybox, containers, "sh", "-c",
                  "while :; do :; done")
    idle = _start(podman, remote, remote_busybox, containers, "sleep", "600")
    (Path(os.environ["WRAPIX_CONFIG_DIR"]) / "config.toml").write_text(
        remote.toml("remote", timeout=20))
    app = WrapixApp(tmp_path)
    async with app.run_test(size=(180, 50)) as pilot:
        table = app.dashboard.sandboxes.table
        state = app.dashboard.sandboxes.state
        busy_key, idle_key = f"remote/{busy}", f"remote/{idle}"
        await wait_until(pilot, lambda: {busy_key, idle_key} <= set(table.names()),
                         timeout=60, what="the remote rows")
        assert str(table.cell(busy_key, "cpu")) == "-"  # before the host answered
        await wait_until(pilot, lambda: busy_key in state.stats and idle_key in state.stats
                         and state.stats[busy_key].cpu_percent > 5.0,
                         timeout=60, what="the remote rows' CPU and memory")
        for key in (busy_key, idle_key):
            assert FIGURE.match(str(table.cell(key, "cpu"))), table.cell(key, "cpu")
            assert re.match(r"\d+(\.\d)?[KMG]\Z", str(table.cell(key, "mem"))), key
            assert state.stats[key].memory_bytes > 100 * 1024
        assert state.stats[idle_key].cpu_percent < 5.0
        # Only the host's own containers, keyed by host: nothing local was made up.
        assert not {busy, idle} & set(state.stats)


async def test_a_host_whose_stats_hang_never_delays_the_local_rows_figures(
        podman: str, remote: RemoteHost, remote_busybox: str, busybox_image: str,
        containers: list[tuple[RemoteHost | None, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import wrapix_tui.widgets.sandbox_stats as module
    from wrapix_tui.app import WrapixApp

    monkeypatch.setenv("WRAPIX_NOTIFY__BACKEND", "none")
    monkeypatch.setattr(module, "STATS_INTERVAL", 0.5)
    monkeypatch.setattr(module, "IDLE_STATS_INTERVAL", 0.5)
    monkeypatch.setattr(module, "REMOTE_IDLE_STATS_INTERVAL", 0.5)
    local = _start(podman, None, busybox_image, containers, "sleep", "600")
    far = _start(podman, remote, remote_busybox, containers, "sleep", "600")
    proxy = StallingProxy(remote.port)
    hang = 60.0
    (Path(os.environ["WRAPIX_CONFIG_DIR"]) / "config.toml").write_text(
        remote.toml("slow", timeout=hang,
                    url=f"ssh://{remote.user}@127.0.0.1:{proxy.port}{remote.socket}"))
    app = WrapixApp(tmp_path)
    try:
        async with app.run_test(size=(180, 50)) as pilot:
            pane = app.dashboard.sandboxes
            state = pane.state
            far_key = f"slow/{far}"
            await wait_until(pilot, lambda: local in state.stats and far_key in state.stats,
                             timeout=90, what="figures of both rows")

            def slow_round() -> bool:
                return any(worker.group == f"{module.GROUP}.slow" and worker.is_running
                           for worker in pane.workers)

            proxy.stalled.set()  # from now on the host accepts and never answers
            await wait_until(pilot, lambda: slow_round() and len(proxy.held) > 0,
                             timeout=20, what="a stats round of the host, hanging")
            loop = asyncio.get_running_loop()
            hung_since = loop.time()
            for _ in range(3):  # three local rounds while the host's one hangs
                before = state.stats[local]
                await wait_until(pilot, lambda before=before: state.stats[local] is not before,
                                 timeout=15, what="a local stats round")
                assert slow_round(), "the host's round ended: it did not hang"
            assert loop.time() - hung_since < hang
            assert FIGURE.match(str(pane.table.cell(local, "cpu")))
            await asyncio.to_thread(proxy.close)
    finally:
        proxy.close()
