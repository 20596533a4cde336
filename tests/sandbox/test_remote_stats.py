"""A remote host's stats answers (``podman stats --format json``, ``podman top``) parsed as
untrusted text: the real shapes give figures, anything else leaves the container
unsampled (its cells show ``-``) and never raises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wrapix_core.sandbox import remote_stats as rs
from wrapix_core.sandbox.errors import RuntimeFailed
from wrapix_core.sandbox.podman import PodmanRuntime
from wrapix_core.sandbox.runtime import ContainerStats
from wrapix_core.settings import SandboxSettings
from wrapix_tui.sandbox_rows import SandboxRow, build_rows

# Podman 4.x/5.x `stats --no-stream --format json` (cmd/podman/containers/stats.go: every
# value a string; "--" for a zero percentage, "-- / --" for no memory figures).
REAL = json.dumps([
    {"id": "6953b251bc9c", "name": "wrapix-a", "cpu_time": "10m2.724575s",
     "cpu_percent": "0.58%", "avg_cpu": "0.58%", "mem_usage": "393.7MB / 8.051GB",
     "mem_percent": "4.89%", "net_io": "173.8MB / 128.4MB", "block_io": "-- / --",
     "pids": "69"},
    {"id": "8812bb661d2d", "name": "wrapix-b", "cpu_percent": "--",
     "mem_usage": "1.069kB / 16.64GB", "mem_percent": "--", "pids": "1"},
])


def test_the_real_json_shape_gives_cpu_and_memory() -> None:
    found = rs.parse_stats(REAL, ["wrapix-a", "wrapix-b"])
    assert found["wrapix-a"] == rs.Sample(602.724575, 0.58, 393_700_000, 8_051_000_000)
    assert found["wrapix-b"] == rs.Sample(None, 0.0, 1069, 16_640_000_000)  # no cpu_time
    shown = {item.name: item for item in rs.Rates().stats(found)}
    assert shown["wrapix-a"] == ContainerStats("wrapix-a", 0.58, 393_700_000, 8_051_000_000)
    assert shown["wrapix-b"] == ContainerStats("wrapix-b", 0.0, 1069, 16_640_000_000)


def test_only_the_containers_asked_about_count_once_each() -> None:
    doubled = [*json.loads(REAL),
               {"name": "wrapix-a", "cpu_percent": "99%", "mem_usage": "1GB / 2GB"},
               {"name": "somebody-else", "cpu_percent": "1%", "mem_usage": "1MB / 2MB"}]
    found = rs.parse_stats(json.dumps(doubled), ["wrapix-a"])
    assert [(name, item.lifetime_percent) for name, item in found.items()] == [
        ("wrapix-a", 0.58)]


@pytest.mark.parametrize("answer", [
    "", "not json", "{", "null", "42", '"text"', "{}", '{"name": "wrapix-a"}', "[1, 2]",
    '[["wrapix-a"]]', "[" * 100_000 + "]" * 100_000, "\x1b[31m[]", "[null]",
])
def test_garbage_answers_give_no_figures(answer: str) -> None:
    assert rs.parse_stats(answer, ["wrapix-a"]) == {}


@pytest.mark.parametrize(("cpu", "mem"), [
    ("NaN%", "1MB / 2MB"), ("inf", "1MB / 2MB"), ("-5%", "1MB / 2MB"), ("1e400", "1MB / 2MB"),
    ("12%", "-- / --"), ("12%", "lots / 2MB"), ("12%", "1QB / 2MB"), ("12%", "-1MB / 2MB"),
    ("12%", "99999999999999999999999EB / 1GB"), (None, "1MB / 2MB"), ("12%", None),
    ([1], "1MB / 2MB"), ("12%", {"x": 1}), (True, "1MB / 2MB"), ("9" * 5000 + "%", "1MB"),
    ("[bold]5%[/]", "1MB / 2MB"), ("12%", "1MB\x1b[2J / 2MB"), (10.0**9, "1MB / 2MB"),
])
def test_bad_values_from_a_hostile_host_leave_the_row_unsampled(cpu: object,
                                                                  mem: object) -> None:
    answer = json.dumps([{"name": "wrapix-a", "cpu_percent": cpu, "mem_usage": mem}])
    assert rs.parse_stats(answer, ["wrapix-a"]) == {}
    rows = _rows(rs.Rates().stats(rs.parse_stats(answer, ["wrapix-a"])))
    cells = dict(zip(("cpu", "mem"), rows[0].cells()[6:8], strict=True))
    assert cells == {"cpu": "-", "mem": "-"}


def test_numbers_instead_of_strings_are_taken_when_sane() -> None:
    answer = json.dumps([{"name": "wrapix-a", "cpu_percent": 12.5,
                          "mem_usage": "300MiB / --"}])
    assert rs.parse_stats(answer, ["wrapix-a"]) == {
        "wrapix-a": rs.Sample(None, 12.5, 300 * 1024 * 1024, None)}


def test_a_cpu_time_that_is_not_a_duration_leaves_the_lifetime_figure() -> None:
    for spent in ("forever", 12, "-3s", None, ["1s"]):
        answer = json.dumps([{"name": "wrapix-a", "cpu_time": spent, "cpu_percent": "7%",
                              "mem_usage": "1MB / 2MB"}])
        assert rs.parse_stats(answer, ["wrapix-a"])["wrapix-a"].cpu_seconds is None


def test_parsed_figures_show_in_the_row() -> None:
    rows = _rows(rs.Rates().stats(rs.parse_stats(REAL, ["wrapix-a"])))
    assert rows[0].cells()[6:8] == ("0.6%", "375M")


def _rows(stats: list[ContainerStats]) -> list[SandboxRow]:
    from datetime import UTC, datetime

    from wrapix_core.sandbox.runtime import ContainerInfo

    info = ContainerInfo(id="1", name="wrapix-a", image="i", state="running",
                         labels={"wrapix.sandbox": "1"}, host="far")
    return build_rows([info], stats={f"far/{item.name}": item for item in stats},
                      counts={}, marked=set(), pending={}, now=datetime.now(UTC),
                      show_all=False, seen_running=set(), filter_text="")


# -- podman top (rootless hosts on cgroup v1) --------------------------------------------

TOP = ("HPID        %CPU        ELAPSED          RSS\n"
       "14333       41.771      4.78802183s      1580\n"
       "14400       0.000       1m2.5s           2048\n")


def test_top_gives_cpu_seconds_and_resident_memory() -> None:
    found = rs.parse_top(TOP)
    assert found is not None
    assert found.cpu_seconds == pytest.approx(0.41771 * 4.78802183)
    assert found.lifetime_percent == pytest.approx(41.771)
    assert found.memory == (1580 + 2048) * 1024
    assert found.source == "top"


@pytest.mark.parametrize("answer", [
    "", "garbage", "PID %CPU\n1 2\n", "HPID %CPU ELAPSED RSS\n1 2 3\n",
    "HPID %CPU ELAPSED RSS\nx 1.0 1s 10\n", "HPID %CPU ELAPSED RSS\n1 nan 1s 10\n",
    "HPID %CPU ELAPSED RSS\n1 1.0 forever 10\n", "HPID %CPU ELAPSED RSS\n1 1.0 1s -10\n",
    "HPID %CPU ELAPSED RSS\n1 1.0 1s 10 extra\n", "HPID %CPU ELAPSED RSS\n1 1.0 1s 1e99\n",
    "HPID %CPU ELAPSED RSS\n" + "1 400000.0 1s 10\n" * 3,
])
def test_garbage_from_top_gives_nothing(answer: str) -> None:
    assert rs.parse_top(answer) is None


def test_rates_are_the_change_over_the_round() -> None:
    rates = rs.Rates()
    first = rs.Sample(cpu_seconds=10.0, lifetime_percent=3.0, memory=1024, source="top")
    [start] = rates.stats({"a": first}, now=100.0)
    assert start == ContainerStats("a", 3.0, 1024, source="top")  # lifetime, at first
    [later] = rates.stats({"a": rs.Sample(11.0, 3.1, 2048)}, now=102.0)
    assert later.cpu_percent == pytest.approx(50.0)  # 1 CPU second in 2 s
    [ended] = rates.stats({"a": rs.Sample(5.0, 2.0, 2048)}, now=104.0)
    assert ended.cpu_percent == 2.0  # a process ended: its seconds are gone, say lifetime
    [untold] = rates.stats({"a": rs.Sample(None, 4.0, 2048)}, now=106.0)
    assert untold.cpu_percent == 4.0 and rates.seen == {}
    rates.stats({"a": first}, now=108.0)
    assert rates.stats({}, now=110.0) == [] and rates.seen == {}


@pytest.mark.parametrize(("text", "seconds"), [
    ("4.78802183s", 4.78802183), ("1m2.5s", 62.5), ("2h0m1s", 7201.0), ("5ms", 0.005),
    ("3m", 180.0), ("1h", 3600.0), ("800µs", 0.0008), ("0s", 0.0),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert rs.duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "1d", "-1s", "1.2.3s", "abc", "1s1h"])
def test_not_go_durations(text: str) -> None:
    assert rs.duration(text) is None


# -- which question a host is asked ------------------------------------------------------

def _podman(tmp_path: Path, stats: str, top: str = "") -> PodmanRuntime:
    """A ``podman`` that answers ``stats`` and ``top`` as a host would (and logs its argv)."""
    script = tmp_path / "podman"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {tmp_path}/calls
case "$3" in
  stats) {stats} ;;
  top) {top or 'exit 1'} ;;
  *) exit 1 ;;
esac
""")
    script.chmod(0o755)
    return PodmanRuntime(SandboxSettings(podman=str(script)), remote=["--url", "ssh://h/s"],
                         host="far", timeout=10)


def _calls(tmp_path: Path) -> list[str]:
    return [line.split()[2] for line in (tmp_path / "calls").read_text().splitlines()]


async def test_a_host_is_asked_once_per_round_for_all_its_containers(tmp_path: Path) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text(REAL)
    runtime = _podman(tmp_path, f"cat {answer}")
    found = await runtime.stats(["wrapix-a", "wrapix-b"])
    assert {item.name for item in found} == {"wrapix-a", "wrapix-b"}
    assert _calls(tmp_path) == ["stats"]
    assert (tmp_path / "calls").read_text().split()[:7] == [
        "--url", "ssh://h/s", "stats", "--no-stream", "--format", "json", "wrapix-a"]


async def test_a_host_without_cgroup_v2_stats_is_asked_top_from_then_on(
        tmp_path: Path) -> None:
    top = tmp_path / "top.txt"
    top.write_text(TOP)
    runtime = _podman(tmp_path, "echo 'Error: container stats resource only available for "
                                "cgroup v2' >&2; exit 125", f"cat {top}")
    first = await runtime.stats(["wrapix-a", "wrapix-b"])
    assert [(item.name, item.memory_bytes) for item in first] == [
        ("wrapix-a", 3628 * 1024), ("wrapix-b", 3628 * 1024)]
    await runtime.stats(["wrapix-a"])
    assert _calls(tmp_path) == ["stats", "top", "top", "top"]


async def test_another_failure_is_an_error_naming_the_host(tmp_path: Path) -> None:
    runtime = _podman(tmp_path, "echo 'Error: no such container wrapix-a' >&2; exit 125")
    with pytest.raises(RuntimeFailed, match=r"host far.*no such container"):
        await runtime.stats(["wrapix-a"])
