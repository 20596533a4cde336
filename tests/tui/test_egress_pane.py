"""Pilot tests: an allowlist sandbox's row shows its refusals; 'e' allows a host."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable
from pathlib import Path

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime, sandbox
from wrapix_core.egress import allow
from wrapix_core.egress import log as denial_log
from wrapix_core.egress import paths as egress_paths
from wrapix_tui.app import WrapixApp
from wrapix_tui.screens.egress import EgressScreen

MakeApp = Callable[..., WrapixApp]


def _state_cell(app: WrapixApp, name: str) -> str:
    return str(app.dashboard.sandboxes.table.cell(name, "state").plain)


def _deny(name: str, *hosts: str) -> None:
    state = egress_paths.state_dir(name)
    state.mkdir(parents=True, exist_ok=True)
    for host in hosts:
        denial_log.append(state / egress_paths.DENIED,
                          {"time": "t", "host": host, "port": 443, "method": "CONNECT",
                           "reason": "not in this sandbox's allowlist"})


async def test_refusals_show_in_the_row_and_a_host_is_allowed_now_or_in_the_project(
        make_app: MakeApp, fake: FakeRuntime, tmp_path: Path) -> None:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    limited = sandbox("wrapix-lim", workspace=str(workspace))
    limited = dataclasses.replace(limited, labels={**limited.labels,
                                                   "wrapix.network": "allowlist"})
    fake.items.update({"wrapix-lim": limited, "wrapix-open": sandbox("wrapix-open")})
    _deny("wrapix-lim", "evil.example", "pypi.example", "evil.example")
    # A live process stands in for the proxy.
    (egress_paths.state_dir("wrapix-lim") / egress_paths.PID).write_text(f"{os.getpid()}\n")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.core is not None
                         and len(app.dashboard.sandboxes.table.names()) == 2,
                         what="two rows")
        assert _state_cell(app, "wrapix-lim") == "running · allowlist 3✗"
        (egress_paths.state_dir("wrapix-lim") / egress_paths.PID).unlink()  # proxy gone
        app.dashboard.sandboxes.refresh_egress()
        assert _state_cell(app, "wrapix-lim") == ("running · allowlist 3✗ proxy down: "
                                                  "no network")
        assert _state_cell(app, "wrapix-open") == "running"
        table = app.dashboard.sandboxes.table
        table.move_cursor(row=table.get_row_index("wrapix-lim"))
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EgressScreen), what="dialog")
        assert isinstance(app.screen, EgressScreen)
        assert app.screen.hosts == ["evil.example", "pypi.example"]  # newest first, once
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, EgressScreen))
        assert allow.added_now("wrapix-lim") == ["pypi.example"]
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EgressScreen), what="dialog")
        await pilot.press("p")
        await wait_until(pilot, lambda: not isinstance(app.screen, EgressScreen))
        data = tomllib.loads((workspace / "wrapix.toml").read_text())
        assert data["sandbox"]["allowlist"] == ["evil.example"]
        assert any("trust it again" in str(n.message) for n in app._notifications)
        table.move_cursor(row=table.get_row_index("wrapix-open"))
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, EgressScreen)
        assert any("not an allowlist sandbox" in str(n.message) for n in app._notifications)
