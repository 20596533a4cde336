"""proc: the one subprocess helper — output, typed failures, timeouts that end the group."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from wrapix_core import proc


async def test_run_captures_output_and_env() -> None:
    done = await proc.run([sys.executable, "-c", "import os; print(os.environ['WX_T'])"],
                          timeout=30, env={"WX_T": "hello"})
    assert done.stdout == "hello\n"
    assert done.returncode == 0


async def test_run_passes_input() -> None:
    done = await proc.run([sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"],
                          timeout=30, input="abc")
    assert done.stdout.strip() == "cba"


async def test_missing_command_is_typed() -> None:
    with pytest.raises(proc.CommandNotFound, match="no-such-tool-wx: command not found"):
        await proc.run(["no-such-tool-wx"], timeout=5)


async def test_failure_carries_code_and_stderr() -> None:
    with pytest.raises(proc.CommandFailed) as info:
        await proc.run([sys.executable, "-c", "import sys; sys.stderr.write('bad thing\\n');"
                        " sys.exit(3)"], timeout=30)
    assert info.value.returncode == 3
    assert "bad thing" in str(info.value)
    unchecked = await proc.run([sys.executable, "-c", "raise SystemExit(4)"], timeout=30,
                               check=False)
    assert unchecked.returncode == 4


async def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # A shell that starts a grandchild and waits: the timeout must end both.
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    with pytest.raises(proc.CommandTimeout, match=r"did not finish within 0\.5s"):
        await proc.run(["sh", "-c", script], timeout=0.5)
    assert time.monotonic() - started < 5
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        await __import__("asyncio").sleep(0.05)
    else:
        pytest.fail("grandchild survived the timeout")


def test_run_sync_mirrors_run() -> None:
    assert proc.run_sync(["sh", "-c", "echo ok"], timeout=10).stdout == "ok\n"
    with pytest.raises(proc.CommandTimeout):
        proc.run_sync(["sleep", "30"], timeout=0.3)
    with pytest.raises(proc.CommandNotFound):
        proc.run_sync(["no-such-tool-wx"], timeout=5)


def test_run_sync_spooled_output_timeout_and_failure() -> None:
    big = proc.run_sync(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; echo e >&2"],
                        timeout=10, spool=True)
    assert len(big.stdout) == 3_000_000 and big.stderr == "e\n"  # past any pipe's size
    with pytest.raises(proc.CommandTimeout):
        proc.run_sync(["sleep", "30"], timeout=0.3, spool=True)
    with pytest.raises(proc.CommandFailed) as failed:
        proc.run_sync(["sh", "-c", "echo why >&2; exit 3"], timeout=10, spool=True)
    assert failed.value.returncode == 3 and "why" in failed.value.stderr
    fed = proc.run_sync(["cat"], input="fed on stdin", timeout=10, spool=True)
    assert fed.stdout == "fed on stdin"


async def test_stream_lines_yields_as_they_come_and_reports_failure() -> None:
    lines = []
    with pytest.raises(proc.CommandFailed):
        async for line in proc.stream_lines(["sh", "-c", "echo one; echo two; exit 5"]):
            lines.append(line)
    assert lines == ["one", "two"]


async def test_stream_lines_stops_the_command_when_consumer_leaves(tmp_path: Path) -> None:
    from contextlib import aclosing

    pidfile = tmp_path / "pid"
    stream = proc.stream_lines(["sh", "-c", f"echo $$ > {pidfile}; while :; do echo x; "
                                "sleep 0.05; done"])
    async with aclosing(stream):
        async for _line in stream:
            break
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_stream_lines_start_timeout() -> None:
    with pytest.raises(proc.CommandTimeout):
        async for _ in proc.stream_lines(["sleep", "10"], start_timeout=0.3):
            pass


def test_a_stream_does_not_outlive_its_owner_killed_outright(tmp_path: Path) -> None:
    """Streams run in their own session (a terminal's hang-up does not reach them): when
    the process reading one is killed (a TUI whose terminal closed), the stream ends too."""
    import signal
    import subprocess

    pidfile = tmp_path / "pid"
    owner = subprocess.Popen([sys.executable, "-c", (
        "import asyncio\nfrom wrapix_core import proc\n"
        "async def main():\n"
        f"    async for line in proc.stream_lines(['sh', '-c', 'echo $$ > {pidfile}; echo up; "
        "exec sleep 600']):\n"
        "        print(line, flush=True)\n"
        "asyncio.run(main())\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "up"
        stream_pid = int(pidfile.read_text())
        os.kill(stream_pid, 0)  # running
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(stream_pid, 0)
        except ProcessLookupError:
            break
        # a zombie of init's is gone too: only a live process counts
        state = Path(f"/proc/{stream_pid}/stat")
        if state.exists() and state.read_text().split(") ")[-1].startswith("Z"):
            break
        assert time.monotonic() < deadline, "the stream outlived its owner"
        time.sleep(0.05)


async def test_watched_output_arrives_as_it_is_written() -> None:
    """The loop reads a watched command's pipe as it comes (no thread, no polling): the
    first batch is there before the command ends; then the whole output, its failure or
    its timeout (the group ended)."""
    batches: list[bytes] = []
    arrived = asyncio.Event()

    def on_data() -> None:
        batches.append(bytes(watched.output))
        arrived.set()

    watched = proc.Watched(["sh", "-c", "printf first; sleep 1; printf ' second'"])
    watched.watch(on_data)
    await asyncio.wait_for(arrived.wait(), 10)
    assert batches[0] == b"first" and not watched.ended  # before the command's end
    done = await watched.wait_async(10)
    assert done.stdout == "first second" and watched.ended and batches[-1] == b"first second"

    failing = proc.Watched(["sh", "-c", "echo out; echo why >&2; exit 3"])
    failing.watch(lambda: None)
    with pytest.raises(proc.CommandFailed) as failed:
        await failing.wait_async(10)
    assert failed.value.returncode == 3 and "why" in failed.value.stderr

    slow = proc.Watched(["sleep", "30"])
    slow.watch(lambda: None)
    with pytest.raises(proc.CommandTimeout):
        await slow.wait_async(0.3)
    assert slow.process.wait(timeout=5) != 0  # ended, not left running

    unwanted = proc.Watched(["sleep", "30"])
    unwanted.stop()  # nobody wants its output any more: ended at once
    assert unwanted.process.wait(timeout=5) != 0

    blocking = proc.Watched(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"])
    assert len(blocking.wait(10).stdout) == 3_000_000  # without watch: read to the end
