"""wrapix-tui over three hosts, real Podman and real SSH (mandatory in CI): a remote
sandbox shows with its host, a refusing host and a host that accepts and never answers
are marked unreachable within their timeout, and the local rows stay live meanwhile."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.remote_host import RemoteHost, SilentServer, free_port
from tests.tui.conftest import wait_until

pytestmark = [pytest.mark.podman]

TIMEOUT = 3.0


@pytest.fixture
def local_sleeper(podman: str, busybox_image: str) -> Iterator[str]:
    name = f"wrapix-local-{uuid.uuid4().hex[:8]}"
    subprocess.run([podman, "run", "-d", "--name", name, "--label", "wrapix.sandbox=1",
                    busybox_image, "sleep", "600"], check=True, capture_output=True,
                   timeout=120)
    try:
        yield name
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True,
                       timeout=60, check=False)


@pytest.fixture
def remote_sleeper(podman: str, remote: RemoteHost, remote_busybox: str) -> Iterator[str]:
    name = f"wrapix-remote-{uuid.uuid4().hex[:8]}"
    remote.podman(podman, "run", "-d", "--name", name, "--label", "wrapix.sandbox=1",
                  remote_busybox, "sleep", "600")
    try:
        yield name
    finally:
        remote.podman(podman, "rm", "-f", "-t", "0", name, check=False)


async def test_dead_and_hanging_hosts_are_marked_while_the_others_stay_live(
        podman: str, remote: RemoteHost, local_sleeper: str, remote_sleeper: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wrapix_tui.app import WrapixApp

    monkeypatch.setenv("WRAPIX_NOTIFY__BACKEND", "none")
    silent = SilentServer()
    refused = free_port()
    (Path(os.environ["WRAPIX_CONFIG_DIR"]) / "config.toml").write_text(
        remote.toml("remote", timeout=20)
        + remote.toml("refused", timeout=TIMEOUT,
                      url=f"ssh://{remote.user}@127.0.0.1:{refused}{remote.socket}")
        + remote.toml("hung", timeout=TIMEOUT,
                      url=f"ssh://{remote.user}@127.0.0.1:{silent.port}{remote.socket}"))
    app = WrapixApp(tmp_path)
    try:
        async with app.run_test(size=(180, 50)) as pilot:
            started = time.monotonic()
            pane = app.dashboard.sandboxes
            table = pane.table
            await wait_until(pilot, lambda: local_sleeper in table.names(), timeout=30,
                             what="the local sandbox's row")
            await wait_until(pilot, lambda: f"remote/{remote_sleeper}" in table.names(),
                             timeout=60, what="the remote sandbox's row")
            assert str(table.cell(f"remote/{remote_sleeper}", "host")) == "remote"
            assert str(table.cell(f"remote/{remote_sleeper}", "name")) == remote_sleeper
            assert str(table.cell(local_sleeper, "host")) == "local"

            def marked() -> bool:
                return ("hung unreachable: no answer within 3s" in pane.health_text
                        and "refused unreachable" in pane.health_text)

            await wait_until(pilot, marked, timeout=TIMEOUT + 15, what="both hosts marked")
            assert time.monotonic() - started < TIMEOUT + 15
            assert "remote ok (Podman" in pane.health_text
            health = app.dashboard.sandboxes.query_one("#host-health")
            assert health.has_class("-error")

            # The local rows stay live while the hung host is retried in the background.
            await asyncio.to_thread(subprocess.run, [podman, "stop", "-t", "0", local_sleeper],
                                    check=True, capture_output=True, timeout=60)
            await wait_until(pilot, lambda: "exited" in str(table.cell(local_sleeper, "state")),
                             timeout=15, what="the local stop shown")
            await pilot.press("A")  # still answers keys
            await pilot.press("A")
            assert app.is_running
    finally:
        silent.close()
