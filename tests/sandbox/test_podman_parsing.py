"""Parsing what Podman prints (shapes recorded from Podman 4.3 on this host)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wrapix_core.sandbox.errors import RuntimeGarbage
from wrapix_core.sandbox.podman import _event, _info_from_ps, _loads, _runtime_stats, _time

PS_ITEM = {
    "AutoRemove": False, "Command": ["sh", "-c", "sleep 300"], "Exited": False,
    "ExitedAt": -62135596800, "ExitCode": 0,
    "Id": "58b4421f8a83e37077fb1fd9dad12c32aee3f07365e62c0f5e92930a105bc502",
    "Image": "localhost/bbtest:latest", "Labels": {"wrapix.profile": "base",
                                                   "wrapix.sandbox": "1"},
    "Names": ["wx-probe"], "Pid": 6611, "StartedAt": 1795942397, "State": "running",
    "Status": "Up Less than a second ago", "Created": 1795942397,
}
EVENT = {"ContainerExitCode": 137, "ID": "58b4", "Image": "localhost/bbtest:latest",
         "Name": "wx-probe", "Status": "died", "Time": "2026-11-29T08:53:19.068930293Z",
         "Type": "container", "Attributes": {"wrapix.sandbox": "1"}}


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-11-29T08:53:19.068930293Z", datetime(2026, 11, 29, 8, 53, 19, 68930, UTC)),
    ("2026-11-29T08:53:19.068930293+00:00", datetime(2026, 11, 29, 8, 53, 19, 68930, UTC)),
    ("2026-11-29T09:53:19.5+01:00", datetime(2026, 11, 29, 8, 53, 19, 500000, UTC)),
    ("2026-11-29T08:53:19Z", datetime(2026, 11, 29, 8, 53, 19, tzinfo=UTC)),
    (1795942397, datetime.fromtimestamp(1795942397, UTC)),
    ("0001-01-01T00:00:00Z", None), (-62135596800, None), ("", None), ("garbage", None),
])
def test_time(raw: object, expected: datetime | None) -> None:
    parsed = _time(raw)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_ps_item() -> None:
    info = _info_from_ps(PS_ITEM)
    assert (info.name, info.state, info.profile, info.pid) == ("wx-probe", "running", "base", 6611)
    assert info.is_sandbox and info.running and info.exit_code is None
    assert info.started == datetime.fromtimestamp(1795942397, UTC)


def test_event() -> None:
    event = _event(EVENT)
    assert event is not None
    assert (event.name, event.action, event.exit_code) == ("wx-probe", "died", 137)
    assert event.labels == {"wrapix.sandbox": "1"}
    assert _event({**EVENT, "Type": "image"}) is None


def test_garbage_is_reported_not_crashed() -> None:
    with pytest.raises(RuntimeGarbage, match="not JSON"):
        _loads("Error: something odd\n<html>", "podman ps")
    assert _loads("", "podman ps") == []


def test_stats_template_lines() -> None:
    assert _runtime_stats("a\t1.5\t1024\t0\nb\t0\t2048\t4096\n") is not None
    stats = _runtime_stats("a\t1.5\t1024\t0\n")
    assert stats is not None and stats[0].cpu_percent == 1.5 and stats[0].memory_limit is None
    assert _runtime_stats("not the template") is None
    assert _runtime_stats("a\tx\ty\tz") is None
