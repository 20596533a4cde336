"""The sandbox pane's state without a screen, and what a bug in one of its workers does."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import T0, FakeRuntime, sandbox
from wrapix_core.sandbox.runtime import ContainerStats, RuntimeEvent
from wrapix_tui.app import WrapixApp
from wrapix_tui.sandbox_rows import Counts
from wrapix_tui.sandbox_state import SandboxState

MakeApp = Callable[..., WrapixApp]


def _names(state: SandboxState, *, show_all: bool = False, filter_text: str = "") -> list[str]:
    return [row.name for row in state.rows(now=T0, show_all=show_all,
                                           filter_text=filter_text)]


def _event(action: str, name: str) -> RuntimeEvent:
    return RuntimeEvent(id=f"id-{name}", name=name, action=action, time=T0,
                        labels={"wrapix.sandbox": "1"})


def test_events_apply_at_once_and_a_stopped_sandbox_stays_in_view() -> None:
    state = SandboxState()
    assert not state.listed
    state.apply_listing([sandbox("wrapix-a"), sandbox("wrapix-old", state="exited"),
                         sandbox("postgres", wrapix=False)])
    assert state.listed
    assert _names(state) == ["wrapix-a"]
    assert _names(state, show_all=True) == ["wrapix-a", "wrapix-old", "postgres"]
    assert state.apply_event(_event("died", "wrapix-a"))
    assert state.containers["wrapix-a"].state == "exited"
    assert not state.apply_event(_event("died", "wrapix-a"))  # nothing new
    assert _names(state) == ["wrapix-a"]  # seen running: shown stopped, not gone
    assert state.apply_event(_event("remove", "wrapix-a"))
    assert _names(state) == []
    assert not state.apply_event(_event("start", "wrapix-unknown"))  # the listing brings it


def test_marks_actions_stats_counts_and_the_filter() -> None:
    state = SandboxState()
    state.apply_listing([sandbox("wrapix-a", profile="rust"), sandbox("wrapix-b")])
    state.toggle_mark("wrapix-a")
    state.toggle_mark("wrapix-b")
    state.toggle_mark("wrapix-b")
    assert state.marked == {"wrapix-a"}
    state.begin(["wrapix-a"], "stopping")
    assert state.marked == set() and not state.sampled("wrapix-a")
    row = next(r for r in state.rows(now=T0, show_all=False, filter_text="")
               if r.name == "wrapix-a")
    assert row.state == "stopping"
    state.finish("wrapix-a")
    assert state.sampled("wrapix-a")
    state.apply_stats([ContainerStats("wrapix-a", 5.0, 10), ContainerStats("wrapix-b", 1.0, 2)])
    assert set(state.stats) == {"wrapix-a", "wrapix-b"}
    state.apply_listing([sandbox("wrapix-a", profile="rust"),
                         sandbox("wrapix-b", state="exited")])
    assert set(state.stats) == {"wrapix-a"}  # a stopped one's numbers go
    assert state.set_counts({"wrapix-a": Counts(2, True)})
    assert not state.set_counts({"wrapix-a": Counts(2, True)})
    assert _names(state, filter_text="RUST") == ["wrapix-a"]
    limited = sandbox("wrapix-c")
    limited = dataclasses.replace(limited, labels={**limited.labels,
                                                   "wrapix.network": "allowlist"})
    state.apply_listing([limited])
    assert state.allowlisted("wrapix-c") and not state.allowlisted("wrapix-a")


async def test_a_bug_in_the_listing_is_a_toast_and_the_pane_goes_on(
        make_app: MakeApp, fake: FakeRuntime) -> None:
    fake.items["wrapix-a"] = sandbox("wrapix-a")
    fake.fail["containers"] = RuntimeError("boom")  # type: ignore[assignment]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any(
            "listing containers failed: RuntimeError('boom')" in str(n.message)
            for n in app._notifications), what="the failure said")
        assert app.is_running
        del fake.fail["containers"]
        pane = app.dashboard.sandboxes
        pane.request_refresh(0)
        await wait_until(pilot, lambda: pane.table.names() == ["wrapix-a"], what="the row")
        assert "Sandboxes (1)" in str(pane.border_title)
