"""Notifications from a sandbox on the remote host reach the local daemon over an
SSH-forwarded socket, recorded under that sandbox and host whatever the message claims
(real Podman, real sshd; mandatory in CI)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.cli import script
from tests.support.remote_host import RemoteHost
from wrapix_core.notify.inbox import Entry

pytestmark = [pytest.mark.podman]

CLIENT = """
import json, socket, time
for _ in range(1200):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect("/run/wrapix/notify.sock")
        break
    except OSError:
        time.sleep(0.05)
s.sendall(json.dumps({"title": "done over ssh", "message": "from the remote sandbox",
                      "sandbox": "some-other-sandbox"}).encode() + b"\\n")
s.close()
time.sleep(600)
"""


def test_a_remote_sandbox_notifies_the_local_inbox(podman: str, remote: RemoteHost,
                                                   remote_busybox: str) -> None:
    from wrapix_core.hosts.forward import Forwarders, remote_socket_dir
    from wrapix_core.hosts.target import ssh_target
    from wrapix_core.notify.daemon import DaemonConfig, NotifyDaemon
    from wrapix_core.notify.inbox import InboxStore
    from wrapix_core.settings import load_settings

    (Path(os.environ["WRAPIX_CONFIG_DIR"]) / "config.toml").write_text(
        remote.toml("remote", timeout=20))
    settings = load_settings()
    name = f"wrapix-notify-{uuid.uuid4().hex[:8]}"
    target = ssh_target(remote.url, Path(remote.identity))
    remote_dir = remote_socket_dir(target, name)
    ssh = target.ssh_argv(20)

    async def scenario() -> tuple[Entry, list[str], list[str]]:
        daemon = NotifyDaemon(DaemonConfig.from_settings(settings, socket=None))
        await daemon.start()
        forwarders = Forwarders(settings, daemon.socket_path)
        forwarders.start()
        entries = daemon.subscribe()
        try:
            await asyncio.to_thread(subprocess.run, [*ssh, f"mkdir -p -m 0700 {remote_dir}"],
                                    check=True, timeout=60)
            await asyncio.to_thread(
                remote.podman, podman, "run", "-d", "--name", name,
                "--label", "wrapix.sandbox=1", "-v", f"{remote_dir}:/run/wrapix",
                "-v", "/usr:/usr:ro", "-v", "/lib:/lib:ro", "-v", "/lib64:/lib64:ro",
                remote_busybox, "/usr/bin/python3", "-c", CLIENT)
            async with asyncio.timeout(90):
                entry = await anext(aiter(entries))
            link = forwarders.links[0]
            # The client may connect before `ssh -O forward` has returned: wait for it.
            async with asyncio.timeout(60):
                await link.wait_until(lambda forwarded: name in forwarded)
            forwarded = daemon.remote_names()
            await asyncio.to_thread(remote.podman, podman, "rm", "-f", "-t", "0", name)
            # The forward goes with the sandbox (its removal event), its directory too.
            async with asyncio.timeout(60):
                await link.wait_until(lambda forwarded: name not in forwarded)
            return entry, forwarded, os.listdir(link.local_root)
        finally:
            await entries.aclose()
            await forwarders.stop()
            await daemon.stop()
            remote.podman(podman, "rm", "-f", "-t", "0", name, check=False)

    entry, forwarded, after = asyncio.run(scenario())
    assert forwarded == [f"remote.{name}"]
    assert entry.title == "done over ssh"
    assert entry.sandbox == name  # the socket it arrived on says, not the message's claim
    assert entry.host == "remote"
    assert entry.claimed_sandbox is None
    assert after == []
    stored = [e for e in InboxStore().load() if e.title == "done over ssh"]
    assert [(e.sandbox, e.host) for e in stored] == [(name, "remote")]
    listed = subprocess.run([script("wrapix"), "inbox", "--json"], capture_output=True,
                            text=True, timeout=60, check=True)
    assert json.loads(listed.stdout)[-1]["host"] == "remote"
    table = subprocess.run([script("wrapix"), "inbox"], capture_output=True, text=True,
                           timeout=60, check=True).stdout
    assert f"remote/{name}"[:20] in table
