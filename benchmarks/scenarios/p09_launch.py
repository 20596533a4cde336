"""P9: `wrapix run --detach` to a running container, against raw `podman run -d` with
the same flags (taken from wrapix's own dry-run plan) in the same run; and the same launch
with a 1 GB mounted directory that needs no staging, against an empty one.

Needs rootless Podman and the busybox test image (run as the unprivileged user).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable, median, ms, ratio_row, timed

ID = "P9"
WHAT = "wrapix launch to running container"
IMAGE = "localhost/wrapix-test-busybox:latest"
GIB = 1 << 30


def _podman() -> str:
    podman = shutil.which("podman")
    if podman is None or os.geteuid() == 0:
        raise Unavailable("needs rootless Podman as an unprivileged user")
    if subprocess.run([podman, "image", "exists", IMAGE], check=False).returncode != 0:
        # The test suite's fixture builds it; reuse its code.
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.support import podman_env

        podman_env.busybox_image(podman)
    return podman


def _wrapix() -> str:
    found = Path(sys.executable).parent / "wrapix"
    return str(found) if found.exists() else "wrapix"


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
        path = root / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[f"WRAPIX_{name}_DIR"] = str(path)
    return env


def _workspace(root: Path, name: str, mount: Path | None) -> Path:
    workspace = root / name
    (workspace / ".git" / "hooks").mkdir(parents=True, exist_ok=True)
    (workspace / ".git" / "config").write_text("[core]\n")
    (workspace / ".claude").mkdir(exist_ok=True)
    (workspace / ".wrapix").mkdir(exist_ok=True)  # made by wrapix's first launch; raw podman
    # needs every mount source to exist
    if mount is not None:
        (workspace / "wrapix.toml").write_text(
            f'[profiles.bench]\nbase = "none"\n[[profiles.bench.mounts]]\n'
            f'source = "{mount}"\ndest = "/data"\n')
    return workspace


def _launch(env: dict[str, str], workspace: Path, profile: str | None) -> float:
    args = [_wrapix(), "run", "--detach", "--image", IMAGE]
    if profile:
        args += ["--profile", profile]
    args += [str(workspace), "--", "sleep", "300"]
    return timed(lambda: subprocess.run(args, env=env, check=True, capture_output=True))


def _remove(podman: str, name: str) -> None:
    subprocess.run([podman, "rm", "-f", "-t", "0", name], check=False, capture_output=True)


def run(ctx: Context) -> list[Row]:
    podman = _podman()
    root = ctx.workdir / "p9"
    env = _env(root)
    plain = _workspace(root, "plain", None)
    plan = json.loads(subprocess.run(
        [_wrapix(), "run", "--dry-run", "--json", "--detach", "--image", IMAGE, str(plain), "--",
         "sleep", "300"], env=env, check=True, capture_output=True, text=True).stdout)
    name = plan["argv"][plan["argv"].index("--name") + 1]
    for action in plan["staging"]:  # what wrapix makes before `podman run`: raw podman
        if action["action"] in ("mkdir", "socketdir"):  # needs every mount source to exist
            Path(action["target"]).mkdir(mode=0o700, parents=True, exist_ok=True)

    reps = ctx.reps(20)  # launches vary by tens of ms on a busy 2-core machine
    launch_cache = Path(env["WRAPIX_CACHE_DIR"]) / "launch"
    wrapix_times, cold_times, raw_times = [], [], []
    for _ in range(reps):
        _remove(podman, name)
        raw_times.append(timed(lambda: subprocess.run(plan["argv"], check=True,
                                                      capture_output=True)))
        _remove(podman, name)
        wrapix_times.append(_launch(env, plain, None))
        _remove(podman, name)
        shutil.rmtree(launch_cache, ignore_errors=True)  # forget the recorded plan
        cold_times.append(_launch(env, plain, None))
        _remove(podman, name)
        _launch(env, plain, None)  # record it again for the next warm launch
    _remove(podman, name)

    big = root / "big"
    big.mkdir()
    for index in range(16):
        with (big / f"blob{index}").open("wb") as handle:
            os.posix_fallocate(handle.fileno(), 0, GIB // 16)
    empty = root / "empty"
    empty.mkdir()
    sized = {}
    for label, source in (("1 GB", big), ("empty", empty)):
        workspace = _workspace(root, f"ws-{label.replace(' ', '')}", source)
        # its wrapix.toml holds the profile: trusted once, as a user would (wrapix trust)
        subprocess.run([_wrapix(), "trust", "--yes", str(workspace)], env=env, check=True,
                       capture_output=True)
        times = []
        for _ in range(reps):
            times.append(_launch(env, workspace, "bench"))
            listed = json.loads(subprocess.run([podman, "ps", "-a", "--format", "json"],
                                               capture_output=True, text=True, check=True).stdout)
            for item in listed:
                if item.get("Labels", {}).get("wrapix.workspace") == str(workspace):
                    _remove(podman, item["Names"][0])
        sized[label] = median(times)
    shutil.rmtree(big)

    floor = median(raw_times)
    rows = [ratio_row(ID, WHAT + " (repeat launch: recorded plan)", "raw podman run -d, "
                      "same flags", floor, median(wrapix_times), 1.15),
            Row(ID, WHAT + " (first launch: full planning, for information)",
                f"raw podman run -d, same flags: {ms(floor)}", ms(median(cold_times)),
                f"{median(cold_times) / floor:.2f}×", "—", True)]
    size_ratio = sized["1 GB"] / sized["empty"]
    rows.append(Row(ID, "launch with a 1 GB mount (no staging)",
                    f"same launch, empty mount: {ms(sized['empty'])}", ms(sized["1 GB"]),
                    f"{size_ratio:.2f}×", "≈ 1× (size-independent)", size_ratio <= 1.15))
    return rows
