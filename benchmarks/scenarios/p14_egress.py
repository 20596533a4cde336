"""P14: egress through the allowlist proxy, against the open network, same run.

A 100 MB download from a local HTTP server on the host's loopback (nothing leaves the
machine): in ``open`` mode straight through the network backend (``slirp4netns`` with
``allow_host_loopback``, the same backend an open sandbox gets here), and in
``allowlist`` mode through the in-sandbox forwarder and the host's proxy (a test name
mapped to 127.0.0.1). The same client inside the sandbox does both, best of three.
Then connection set-up over the proxy: ``CONNECT`` to ``200 Connection established``,
p95 of 200, measured inside the sandbox.

Needs rootless Podman and the wrapix test image (run as the unprivileged user).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable

ID = "P14"
WHAT = "download through the egress proxy"
SIZE = 100 * 1000 * 1000

CLIENT = r'''
import json, socket, sys, time
mode, host, proxy = sys.argv[1], sys.argv[2], sys.argv[5]
port, size = int(sys.argv[3]), int(sys.argv[4])
def download():
    if proxy:
        conn = socket.create_connection(("127.0.0.1", 3128))
        target = f"http://{host}:{port}/big/{size}"
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    else:
        conn = socket.create_connection((host, port))
        conn.sendall(f"GET /big/{size} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    start, got, buf = time.perf_counter(), 0, bytearray(1 << 20)
    while True:
        n = conn.recv_into(buf)
        if not n:
            break
        got += n
    conn.close()
    return got, time.perf_counter() - start
if mode == "download":
    best = None
    for _ in range(3):
        got, took = download()
        assert got >= size, got
        best = took if best is None else min(best, took)
    print(json.dumps({"seconds": best}))
else:
    times = []
    for _ in range(220):
        start = time.perf_counter()
        conn = socket.create_connection(("127.0.0.1", 3128))
        conn.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        times.append(time.perf_counter() - start)
        assert data.startswith(b"HTTP/1.1 200"), data
        conn.close()
    times = sorted(times[20:])
    print(json.dumps({"p95": times[round(0.95 * (len(times) - 1))],
                      "median": times[len(times) // 2]}))
'''


def _setup() -> tuple[str, str]:
    podman = shutil.which("podman")
    if podman is None or os.geteuid() == 0:
        raise Unavailable("needs rootless Podman as an unprivileged user")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support import images, podman_env

    return podman, images.build(podman_env.debian_image(podman))


def _exec(podman: str, name: str, *args: str) -> dict[str, float]:
    done = subprocess.run([podman, "exec", name, "python3", "-c", CLIENT, *args],
                          capture_output=True, text=True, timeout=600, check=True)
    return dict(json.loads(done.stdout))


def run(ctx: Context) -> list[Row]:
    podman, image = _setup()
    from tests.egress import servers

    root = ctx.workdir / "p14"
    env = dict(os.environ)
    for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
        path = root / name.lower()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[f"WRAPIX_{name}_DIR"] = str(path)
    env["WRAPIX_EGRESS_TEST_HOSTS"] = json.dumps({"bench.test": "127.0.0.1"})
    env["WRAPIX_SANDBOX__ALLOWLIST"] = json.dumps(["bench.test"])
    workspace = root / "ws"
    (workspace / ".git" / "hooks").mkdir(parents=True, exist_ok=True)
    size = SIZE // 10 if ctx.quick else SIZE
    wrapix = Path(sys.executable).parent / "wrapix"
    open_name, proxied = "wrapix-p14-open", ""
    with servers.serve() as port:
        try:
            subprocess.run([podman, "run", "-d", "--name", open_name, "--network",
                            "slirp4netns:allow_host_loopback=true", "--entrypoint", "sleep",
                            image, "600"], check=True, capture_output=True, timeout=120)
            opened = _exec(podman, open_name, "download", "10.0.2.2", str(port), str(size), "")
            started = subprocess.run(
                [str(wrapix), "run", "--detach", "--json", "--network", "allowlist",
                 "--image", image, str(workspace), "--", "sleep", "600"],
                env=env, capture_output=True, text=True, timeout=240, check=True)
            proxied = json.loads(started.stdout)["name"]
            through = _exec(podman, proxied, "download", "bench.test", str(port), str(size),
                            "1")
            setup = _exec(podman, proxied, "connect", "bench.test", str(port), "0", "1")
        finally:
            for name in (open_name, proxied):
                if name:
                    subprocess.run([podman, "rm", "-f", "-t", "0", name], check=False,
                                   capture_output=True, timeout=60)
    mb = size / 1e6
    open_rate, proxy_rate = mb / opened["seconds"], mb / through["seconds"]
    ratio = proxy_rate / open_rate
    return [
        Row(ID, f"{mb:.0f} MB download, allowlist proxy vs open (best of 3)",
            f"open (slirp4netns): {open_rate:.0f} MB/s", f"{proxy_rate:.0f} MB/s",
            f"{ratio:.2f}×", "≥ 0.7×", ratio >= 0.7),
        Row(ID, "connection set-up over the proxy (CONNECT → 200, p95 of 200)", "—",
            f"{setup['p95'] * 1000:.2f} ms", f"median {setup['median'] * 1000:.2f} ms",
            "p95 ≤ 5 ms", setup["p95"] <= 0.005),
    ]
