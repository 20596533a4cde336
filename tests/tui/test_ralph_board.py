"""Pilot tests of the Ralph board: the real shared data, grouping, live updates that keep
the selection, only visible rows rendered, untrusted text, clarify, review and approval."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import T0, FakeRuntime
from tests.tui.ralph_support import demo_workspace, real_workspace
from wrapix_core.ralph import clarify
from wrapix_tui import board_model
from wrapix_tui.app import WrapixApp
from wrapix_tui.screens.clarify import ClarifyScreen
from wrapix_tui.screens.confirm import ConfirmScreen
from wrapix_tui.screens.issue import IssueScreen
from wrapix_tui.screens.review import ReviewScreen
from wrapix_tui.widgets.ralph import RalphPane


def make(workspace: Path) -> WrapixApp:
    fake = FakeRuntime()
    fake.now = lambda: T0
    return WrapixApp(workspace, runtime_factory=lambda _settings: fake, clock=lambda: T0)


async def board_ready(pilot: Pilot[Any], app: WrapixApp) -> RalphPane:
    pane = app.query_one(RalphPane)
    await wait_until(pilot, lambda: pane.board is not None and app.core is not None,
                     what="the board to load")
    return pane


def shown_keys(pane: RalphPane) -> list[str]:
    return [row.key for row in pane.issues.rows]


def save(path: Path, text: str) -> None:
    """Save like an editor does: write a temporary file, rename it over the old one."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


async def test_real_data_board_groups_and_renders_only_what_is_visible(home: Path) -> None:
    workspace = real_workspace(home / "real")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        board = pane.board
        assert board is not None
        # The README's order, after the workspace row.
        assert [row.key for row in pane.specs.rows] == [board_model.ALL] + [
            card.name for card in board.cards]
        assert [card.name for card in board.cards][:3] == ["architecture", "sandbox",
                                                           "profiles"]
        # All issues: the ready queue in Ralph's order, closed collapsed to one line.
        keys = shown_keys(pane)
        ready = list(board.readiness.ready_ids)
        assert keys == ["group:ready", *ready, "group:closed"]
        closed = pane.issues.rows[-1]
        assert isinstance(closed, board_model.GroupRow) and closed.count == 1181
        assert not closed.expanded
        # Expanding it adds 1,181 rows, but only the rows on screen are rendered.
        await pilot.press("4", "right", "end", "enter")
        await wait_until(pilot, lambda: len(pane.issues.rows) == 2 + len(ready) + 1181)
        before = pane.issues.renders
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert pane.issues.renders - before <= 3 * pane.issues.size.height
        assert pane.issues.renders < 200
        # Select a spec: its (empty) issue list, the spec's own line.
        await pilot.press("left", "down", "down")
        await wait_until(pilot, lambda: pane.selected == "sandbox")
        assert shown_keys(pane) == []
        info = str(pane.query_one("#ralph-info").render())
        assert "Core Sandbox" in info and "criteria 0/5" in info


async def test_groups_blockers_ready_order_and_proposed_marks(home: Path) -> None:
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down")
        await wait_until(pilot, lambda: pane.selected == "demo")
        assert shown_keys(pane) == [
            "group:ready", "demo-a1", "demo-a2",
            "group:in_progress", "demo-b1",
            "group:blocked", "demo-c1",
            "group:clarify", "demo-q1",
            "group:proposed", "demo-p1", "demo-p2",
            "group:closed"]
        rows = {row.key: row for row in pane.issues.rows}
        assert [rows["demo-a1"].position, rows["demo-a2"].position] == [1, 2]  # type: ignore[union-attr]
        blocked = rows["demo-c1"]
        assert isinstance(blocked, board_model.IssueRow)
        assert {(b.id, b.status) for b in blocked.blockers} == {("demo-b1", "in_progress"),
                                                                 ("demo-a2", "open")}
        line = pane.issues.render_row(blocked, 100).plain
        assert "⟵ demo-b1 (in_progress), demo-a2 (open)" in line
        assert "◇" in pane.issues.render_row(rows["demo-p1"], 100).plain  # type: ignore[arg-type]
        spec_line = pane.specs.render_row(pane.specs.rows[1], 100).plain
        assert "1/3" in spec_line and "?1" in spec_line and "◇2" in spec_line


async def test_live_updates_keep_selection_and_touch_only_what_changed(home: Path) -> None:
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "right", "down", "down", "down", "down")
        await wait_until(pilot, lambda: pane.issues.current is not None
                         and pane.issues.current.key == "demo-b1")
        issues_before = pane.issues.rows
        # A new spec saved in an editor appears; the selection stays on demo / demo-b1.
        save(workspace / "specs" / "zeta.md", "# Zeta\n\n## Success Criteria\n\n- [x] one\n")
        await wait_until(pilot, lambda: "zeta" in [row.key for row in pane.specs.rows],
                         what="the new spec")
        assert pane.selected == "demo"
        assert pane.issues.current is not None and pane.issues.current.key == "demo-b1"
        assert pane.issues.rows is issues_before  # another spec changed: issues untouched
        demo_row = pane.board_view.spec_row("demo")
        # The spec changes: its row is replaced, the other rows are the same objects.
        save(workspace / "specs" / "zeta.md", "# Zeta v2\n\n## Success Criteria\n\n- [x] one\n"
             "- [ ] two\n")
        await wait_until(pilot, lambda: pane.board is not None and pane.board.card("zeta")
                         is not None and pane.board.card("zeta").title == "Zeta v2")  # type: ignore[union-attr]
        assert pane.board_view.spec_row("demo") is demo_row
        # An issue changes on disk: the list follows, the cursor stays on its issue.
        from wrapix_core.tasks.store import IssueUpdate, open_store

        await open_store(workspace).update("demo-a2", IssueUpdate(status="closed"))
        await wait_until(pilot, lambda: "demo-a2" not in [
            row.key for row in pane.issues.rows if isinstance(row, board_model.IssueRow)
            and row.group == "ready"], what="demo-a2 to leave the ready group")
        assert pane.issues.current is not None and pane.issues.current.key == "demo-b1"
        blocked = next(row for row in pane.issues.rows if row.key == "demo-c1")
        assert [b.id for b in blocked.blockers] == ["demo-b1"]  # type: ignore[union-attr]


async def test_issue_detail_shows_untrusted_text_inert(home: Path) -> None:
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "right", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IssueScreen))
        screen = app.screen
        assert isinstance(screen, IssueScreen) and screen.issue_id == "demo-a1"
        header = str(screen.query_one("#issue-header").render())
        assert "Parse the config [b]file[/b]" in header
        deps = str(screen.query_one("#issue-deps").render())
        assert "parent-child demo-epic (open) Demo epic" in deps
        markdown = screen.query_one("#issue-description")
        shown = "\n".join(str(block.render()) for block in markdown.query("*"))
        assert "\x1b" not in shown and "\\x1b[31mred" in shown
        # no question here: "Answer" is neither offered nor in the footer
        assert screen.check_action("answer", ()) is False
        assert not any(active.binding.action == "answer"
                       for active in screen.active_bindings.values() if active.enabled)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, IssueScreen))
        assert pane.issues.current is not None and pane.issues.current.key == "demo-a1"
        await app.push_screen(IssueScreen(workspace, pane.board, "demo-q1"))  # type: ignore[arg-type]
        await pilot.pause()
        assert isinstance(app.screen, IssueScreen) and app.screen.issue_id == "demo-q1"
        assert app.screen.check_action("answer", ()) is True  # a question: offered
        await pilot.press("escape")


async def test_clarify_modal_offers_the_options_and_answers_like_ralph_msg(home: Path) -> None:
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, ClarifyScreen))
        screen = app.screen
        assert isinstance(screen, ClarifyScreen)
        assert [(o.number, o.title) for o in screen.options] == [(1, "pasta"),
                                                                 (2, "slirp4netns")]
        await pilot.press("down", "tab")
        await pilot.press(*"debian 12")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ClarifyScreen))
        from wrapix_core.tasks.store import open_store

        answered = await open_store(workspace).show("demo-q1")
        assert "ralph:clarify" not in answered.labels
        assert "): Option 2 — slirp4netns. debian 12" in answered.notes
        await wait_until(pilot, lambda: "demo-q1" in (pane.board.readiness.ready_ids  # type: ignore[union-attr]
                                                      if pane.board else ()))


async def open_review(pilot: Pilot[Any], app: WrapixApp) -> ReviewScreen:
    """The demo spec's review screen, its queue read."""
    await board_ready(pilot, app)
    await pilot.press("4", "down", "v")
    await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen)
                     and app.screen.queue is not None)
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


async def test_review_screen_approves_asks_before_rejecting_and_approves_all(
        home: Path) -> None:
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot, app)
        assert [row.key for row in screen.rows.rows] == ["demo-p1", "demo-p2"]  # dependency order
        head = str(screen.query_one("#review-head").render())
        assert "needed by   demo-p2" in head
        # Rejecting what another proposal needs asks first; "no" changes nothing.
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen)
        from wrapix_core.tasks.store import open_store

        store = open_store(workspace)
        assert "ralph:proposed" in (await store.show("demo-p1")).labels
        await pilot.press("y")  # approve demo-p1
        await wait_until(pilot, lambda: [row.key for row in screen.rows.rows] == ["demo-p2"])
        assert "ralph:proposed" not in (await store.show("demo-p1")).labels
        await pilot.press("A")
        await wait_until(pilot, lambda: screen.queue is not None and not screen.queue.items)
        assert "ralph:proposed" not in (await store.show("demo-p2")).labels
        assert "Review (" in (await store.show("demo-p2")).notes


@pytest.mark.parametrize("text,heading,options", [
    ("## Options — choose\n### Option 1 — A\nfirst\n### Option 2 – B\n### Option 3 - C\n"
     "### Option 4 -- D", "choose", ["A", "B", "C", "D"]),
    ("## options - pick one\n### option 1 - Yes\n### OPTION 2 - No", "pick one", ["Yes", "No"]),
    ("Just a question?", "", []),
])
def test_question_options(text: str, heading: str, options: list[str]) -> None:
    found_heading, found = clarify.question_options(text)
    assert found_heading == heading
    assert [option.title for option in found] == options


@pytest.fixture
def ralph_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A started Ralph workspace; the fake agent (the only fake) runs on the host."""
    from tests.ralph.support import make_workspace

    ws = make_workspace(tmp_path / "proj")
    for name, value in ws.env().items():
        if name in ("PATH", "WRAPIX_RALPH__HOST", "WRAPIX_RALPH__WATCHDOG",
                    "ANTHROPIC_API_KEY"):
            monkeypatch.setenv(name, value)
    return ws


async def test_supervised_loop_approve_skip_stop(ralph_ws: Any) -> None:
    from tests.ralph.support import complete
    from wrapix_tui.screens.approval import ApprovalScreen

    ws = ralph_ws
    first = ws.create("First", priority=1, description="Do **the first** thing.")
    second = ws.create("Second", priority=2, deps=[first])
    third = ws.create("Third", priority=3)
    ws.scenario(complete(None, 0, {"say": "Working on {ISSUE_ID}."}))
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "l")

        async def offered(issue_id: str) -> ApprovalScreen:
            await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen)
                             and app.screen.proposal.issue.id == issue_id,
                             what=f"the approval of {issue_id}")
            return app.screen  # type: ignore[return-value]

        screen = await offered(first)
        assert screen.proposal.spec_path == "specs/demo.md"
        assert ws.calls() == []  # nothing runs before the answer
        await pilot.press("y")
        screen = await offered(second)
        assert [(d.id, d.status) for d in screen.proposal.issue.dependencies] == [
            (first, "closed")]
        await pilot.press("s")
        await offered(third)
        await pilot.press("x")
        await wait_until(pilot, lambda: pane.running is None, what="the loop to end")
        assert ws.worked() == [first]
        results = [line.text for line in pane.run.results]
        assert results == [f"✓ {first} done", f"· skipped {second}",
                           f"■ stopped before {third}",
                           f"loop demo: done 1 ({first}), parked 0, asked 0, skipped 1 "
                           f"({second})", f"  skipped {second}: skipped when asked",
                           f"  ended: stopped before {third}", "  exit 0"]
        # The board shows exactly that: first closed, the other two still ready.
        await wait_until(pilot, lambda: pane.board is not None
                         and pane.board.readiness.ready_ids == (second, third))
        assert ws.issue(first)["status"] == "closed"
        rows = {row.key: row for row in pane.issues.rows}
        assert rows["group:closed"].count == 1  # type: ignore[union-attr]
        assert [key for key in rows if not key.startswith("group:")] == [second, third]
        # The closed step is also a notification, through the daemon into the inbox.
        inbox = app.dashboard.inbox
        await wait_until(pilot, lambda: any(entry.title == f"Ralph: {first} closed"
                                            for entry in inbox.model.entries.values()),
                         what="the step's notification in the inbox")


async def test_checks_and_hooks_are_shown_live_in_the_run_panel(ralph_ws: Any) -> None:
    import json
    import sys

    from tests.ralph.support import complete

    ws = ralph_ws
    only = ws.create("Checked one")
    gate = ws.root.parent / "go-check"
    slow = [sys.executable, "-c", "import os, sys, time\nprint('collecting 3 tests', "
            "flush=True)\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)\n"
            "print('3 passed')", str(gate)]
    hook = [sys.executable, "-c", "print('hook says hi')"]
    (ws.root / "wrapix.toml").write_text(
        f"[ralph]\ncheck = [{json.dumps(slow)}]\n[ralph.hooks]\n"
        f"pre_step = {json.dumps(hook)}\npost_step = {json.dumps(hook)}\n")
    ws.scenario(complete())
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "s")
        from wrapix_tui.screens.approval import ApprovalScreen

        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: "collecting 3 tests" in str(
            pane.query_one("#ralph-run").render()), what="the check's output, live")
        shown = str(pane.query_one("#ralph-run").render())
        assert "▷ check" in shown and only in shown
        assert "✓ hook pre_step: exit 0" in shown
        gate.write_text("")
        await wait_until(pilot, lambda: pane.running is None, what="the step to end")
        results = [line.text for line in pane.run.results]
        assert results[0] == f"▷ hook pre_step ({only})"
        assert results[1].startswith("✓ hook pre_step: exit 0")
        assert results[2].startswith("▷ check ") and results[2].endswith(f"({only})")
        assert results[3].startswith("✓ check ") and ": exit 0" in results[3]
        assert results[4] == f"✓ {only} done"
        assert results[6].startswith("✓ hook post_step: exit 0")
        assert ws.issue(only)["status"] == "closed"


async def test_an_agent_that_is_not_logged_in_is_shown_in_its_own_words(
        ralph_ws: Any) -> None:
    from tests.ralph.support import respond

    ws = ralph_ws
    only = ws.create("Needs a login")
    ws.scenario(respond({"result": "Not logged in · Please run /login", "is_error": True},
                        {"exit": 1}, times=0))
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "s")
        from wrapix_tui.screens.approval import ApprovalScreen

        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: pane.running is None, what="the step to end")
        shown = str(pane.query_one("#ralph-run").render())
        assert "Not logged in · Please run /login" in shown
        assert '{"' not in shown
        assert len(ws.calls()) == 1  # not retried
        assert ws.issue(only)["status"] == "open"


async def test_stop_key_cancels_a_running_step_and_the_issue_is_put_back(
        ralph_ws: Any) -> None:
    ws = ralph_ws
    only, _go = slow_step(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "s")
        from wrapix_tui.screens.approval import ApprovalScreen

        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        # Live progress: the current issue and the agent's output under it.
        await wait_until(pilot, lambda: "Started" in str(
            pane.query_one("#ralph-run").render()), what="agent output in the run panel")
        shown = str(pane.query_one("#ralph-run").render())
        assert only in shown and "Slow one" in shown
        await pilot.press("x")
        await wait_until(pilot, lambda: pane.running is None, what="the step to stop")
        assert ws.issue(only)["status"] == "open"
        assert "interrupted" in ws.issue(only)["notes"]


async def test_scroll_position_and_cursor_survive_an_issue_update(home: Path) -> None:
    workspace = real_workspace(home / "real")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "right", "end", "enter")  # expand the 1,181 closed issues
        await wait_until(pilot, lambda: len(pane.issues.rows) > 1000)
        await pilot.press("pagedown", "pagedown", "down")
        await pilot.pause()
        scroll, key = pane.issues.scroll_offset.y, pane.issues.current.key  # type: ignore[union-attr]
        assert scroll > 0
        board = pane.board
        from wrapix_core.tasks.store import IssueUpdate, open_store

        ready = pane.board.readiness.ready_ids[0]  # type: ignore[union-attr]
        await open_store(workspace).update(ready, IssueUpdate(append_notes="seen"))
        await wait_until(pilot, lambda: pane.board is not board, what="the issue update")
        await pilot.pause()
        assert pane.issues.current is not None and pane.issues.current.key == key
        assert pane.issues.scroll_offset.y == scroll


async def test_a_question_notification_opens_the_answer_modal(home: Path) -> None:
    from wrapix_core.notify.inbox import InboxStore, NewEntry
    from wrapix_core.notify.protocol import Notification

    workspace = demo_workspace(home / "demo")
    InboxStore().append([NewEntry(Notification("Ralph: demo-q1 has a question",
                                               "Pick a network: which backend?",
                                               sandbox="ralph", kind="ralph-clarify"),
                                  "shown", "test", T0)])
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await board_ready(pilot, app)
        await wait_until(pilot, lambda: len(app.dashboard.inbox.shown()) == 1)
        await pilot.press("2", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ClarifyScreen))
        assert app.screen.issue.id == "demo-q1"  # type: ignore[attr-defined]


async def test_an_untrusted_status_never_reaches_the_terminal_raw(home: Path) -> None:
    """A status is free text in the JSONL store: shown escaped wherever it appears."""
    from tests.tui.ralph_support import issue

    evil = "open\x1b]0;pwned\x07\x1b[2J"
    workspace = demo_workspace(home / "demo", [
        issue("demo-x1", "Blocker", status=evil),
        issue("demo-x2", "Waits", deps=(("blocks", "demo-x1"),)),
        issue("demo-p\x1b[2J1", "Proposed", labels=("rl-demo", "ralph:proposed"),
              deps=(("blocks", "demo-x1"),))])
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down")
        await wait_until(pilot, lambda: pane.selected == "demo")
        rows = {row.key: row for row in pane.issues.rows}
        shown = [pane.issues.render_row(rows["demo-x2"], 120).plain,
                 str(pane.query_one("#ralph-info").render())]
        from wrapix_tui.screens.issue import dependency_lines

        assert pane.board is not None
        by_id = pane.board.readiness.by_id
        shown += [dependency_lines(pane.board, by_id["demo-x2"]).plain,
                  dependency_lines(pane.board, by_id["demo-x1"]).plain]
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen)
                         and app.screen.queue is not None)
        shown.append(str(app.screen.query_one("#review-head").render()))
        await pilot.press("y")  # the toast and the status line name the (untrusted) id
        await wait_until(pilot, lambda: any("approved" in n.message
                                            for n in app._notifications))
        shown += [n.message for n in app._notifications]
        shown.append(str(app.screen.query_one("#review-status").render()))
        for text in shown:
            assert "\x1b" not in text and "\x07" not in text, text
        assert "\\e]0;pwned" in shown[0]


async def test_sending_an_answer_twice_records_it_once_and_closes_the_modal(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second ctrl+s while the first answer is being written must not cancel it (the
    modal then stayed on "Recording…" for good, escape included)."""
    import asyncio

    from wrapix_core.ralph import clarify

    real = clarify.answer
    calls: list[str] = []

    async def slow_answer(store: Any, issue_id: str, text: str, who: str | None = None) -> Any:
        calls.append(text)
        await asyncio.sleep(0.3)  # a slow store (bd is a subprocess)
        return await real(store, issue_id, text, who)

    monkeypatch.setattr(clarify, "answer", slow_answer)
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await board_ready(pilot, app)
        await pilot.press("4", "down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, ClarifyScreen))
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ClarifyScreen),
                         what="the modal to close after the answer")
        assert calls == ["Option 1 — pasta"]


async def test_pressing_stop_again_while_a_step_is_being_put_back_does_not_cut_it_short(
        ralph_ws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine puts the issue back and frees its lock after a cancel; a second cancel
    (an impatient second x) used to land in that clean-up and leave the lock held."""
    import asyncio

    from wrapix_core.ralph.engine import Engine
    from wrapix_core.ralph.lock import is_held
    from wrapix_core.ralph.state import ralph_paths, read_label_state

    real = Engine._interrupted
    putting_back: list[str] = []

    async def slow_interrupted(self: Engine, issue_id: str, log: Path) -> None:
        putting_back.append(issue_id)
        await asyncio.sleep(0.5)
        await real(self, issue_id, log)

    monkeypatch.setattr(Engine, "_interrupted", slow_interrupted)
    ws = ralph_ws
    only, _go = slow_step(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await approve_step(pilot, app)
        await pilot.press("x")
        await wait_until(pilot, lambda: putting_back == [only], what="the clean-up to begin")
        await pilot.press("x")
        await wait_until(pilot, lambda: pane.running is None, what="the step to stop")
        paths = ralph_paths(ws.root)
        assert not is_held(paths.issue_lock(only))
        assert read_label_state(paths, "demo").running == {}
        assert ws.issue(only)["status"] == "open"


def test_an_answered_question_is_not_asked_again() -> None:
    """After an answer, a later clarify (Ralph gave up, review flagged it) is the latest
    note, as `ralph msg` shows it; the old question and its options are not offered."""
    from tests.tui.ralph_support import QUESTION

    notes = (QUESTION + "\n\nAnswer (me, 2026-01-05T10:00:00Z): Option 2 — slirp4netns"
             "\n\nRalph gave up (2026-01-05T11:00:00Z) after 3 attempts: tests fail. Log: x")
    question = clarify.question_text(notes)
    assert question.startswith("Ralph gave up")
    assert clarify.question_options(question) == ("", [])
    # An open question spanning paragraphs is still taken whole.
    assert clarify.question_text(QUESTION).startswith("Which network backend")
    assert len(clarify.question_options(clarify.question_text(QUESTION))[1]) == 2


async def test_the_approval_waits_for_the_board_and_a_vanished_modal_stops(
        ralph_ws: Any) -> None:
    """The modal is not pushed over another screen (its keys would answer it: "y" typed
    into an answer approved a step); and a modal gone without an answer stops the run
    instead of leaving it waiting for ever."""
    from tests.ralph.support import complete
    from wrapix_tui.screens.approval import ApprovalScreen

    ws = ralph_ws
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    go = ws.fake_dir / "go"
    ws.scenario(complete(None, 0, {"say": "Working on {ISSUE_ID}."},
                         {"wait_file": str(go), "timeout": 60}))
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "down", "l")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: pane.run.current is not None, what="the first step")
        await pilot.press("right", "down", "enter")  # the person reads an issue
        await wait_until(pilot, lambda: isinstance(app.screen, IssueScreen))
        go.write_text("")
        await wait_until(pilot, lambda: any(f"{first} done" in line.text
                                            for line in pane.run.results), what="step 1")
        await pilot.pause(0.5)
        assert isinstance(app.screen, IssueScreen)  # not covered by the approval modal
        assert "waiting for your approval" in str(pane.query_one("#ralph-run").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen)
                         and app.screen.proposal.issue.id == second)
        app.pop_screen()  # gone without an answer (not through its keys)
        await wait_until(pilot, lambda: pane.running is None, what="the run to stop")
        assert ws.worked() == [first]


async def test_a_review_decision_that_fails_unexpectedly_is_shown_not_raised(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wrapix_core.ralph import review

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", ".beads/issues.jsonl")

    monkeypatch.setattr(review, "approve", broken)
    app = make(demo_workspace(home / "demo"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot, app)
        await pilot.press("y")
        await wait_until(pilot, lambda: "Permission denied" in str(
            screen.query_one("#review-status").render()), what="the error on the status line")
        assert app.is_running and not screen.busy


async def test_an_options_question_can_be_answered_with_typed_text_only(home: Path) -> None:
    """The list always has a highlight, so without a "something else" choice every typed
    answer was sent as "Option 1 — …. typed"."""
    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await board_ready(pilot, app)
        await pilot.press("4", "down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, ClarifyScreen))
        screen = app.screen
        assert isinstance(screen, ClarifyScreen)
        await pilot.press("end", "tab", *"use pasta", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ClarifyScreen))
        from wrapix_core.tasks.store import open_store

        answered = await open_store(workspace).show("demo-q1")
        assert answered.notes.rstrip().endswith("): use pasta")


async def exited(app: WrapixApp, timeout: float = 15.0) -> None:
    """Wait for the app to end by itself (the pilot cannot pause an app that is gone)."""
    import asyncio
    import time

    from tests.tui.conftest import WAIT_SCALE, app_state

    deadline = time.monotonic() + timeout * WAIT_SCALE
    while app.is_running:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for the app to exit{app_state(app)}")
        await asyncio.sleep(0.02)


def slow_step(ws: Any) -> tuple[str, Path]:
    """One issue whose agent says it started, then waits for the returned file."""
    from tests.ralph.support import complete

    only = ws.create("Slow one")
    go = ws.fake_dir / "go"
    ws.scenario(complete(None, 0, {"say": "Started {ISSUE_ID}."},
                         {"wait_file": str(go), "timeout": 60}))
    return only, go


async def approve_step(pilot: Pilot[Any], app: Any) -> Any:
    """Run the next step from the board and approve it; the Ralph pane once it started."""
    from wrapix_tui.screens.approval import ApprovalScreen

    pane = await board_ready(pilot, app)
    await pilot.press("4", "down", "s")
    await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
    await pilot.press("y")
    await wait_until(pilot, lambda: pane.run.current is not None, what="the step to start")
    return pane


async def test_quitting_while_a_step_runs_asks_then_stops_it_like_the_stop_key(
        ralph_ws: Any) -> None:
    """Quitting used to end the app at once: the issue was put back, but the running
    record stayed (``ralph status``: interrupted) and the clean-up could be cut short."""
    from wrapix_core.ralph.lock import is_held
    from wrapix_core.ralph.state import ralph_paths, read_label_state

    ws = ralph_ws
    only, _go = slow_step(ws)
    paths = ralph_paths(ws.root)
    app = make(ws.root)
    at_exit: list[tuple[str, dict[str, Any], bool]] = []
    real_exit = app.exit

    def exit_and_look(*args: Any, **kwargs: Any) -> None:
        # what a real exit leaves: the test's event loop would finish the clean-up later
        at_exit.append((ws.issue(only)["status"], read_label_state(paths, "demo").running,
                        is_held(paths.issue_lock(only))))
        real_exit(*args, **kwargs)

    app.exit = exit_and_look  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await approve_step(pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                         what="the question before quitting")
        question = str(app.screen.query_one("#question").render())
        assert f"A Ralph step is running ({only})" in question
        await pilot.press("y")
        await exited(app)
    assert at_exit == [("open", {}, False)]  # issue open, no running record, lock free
    assert "interrupted" in ws.issue(only)["notes"]


async def test_quit_answered_no_leaves_the_run_going_and_an_idle_quit_is_not_asked(
        ralph_ws: Any) -> None:
    ws = ralph_ws
    only, go = slow_step(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await approve_step(pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.3)
        assert app.is_running and pane.running == "step" and not pane.stopping
        assert ws.issue(only)["status"] == "in_progress"
        go.write_text("")  # the agent finishes: the step completes as usual
        await wait_until(pilot, lambda: pane.running is None, what="the step to end")
        assert ws.issue(only)["status"] == "closed"
        await pilot.press("q")  # nothing runs now: no question
        await exited(app, timeout=5)


async def test_quitting_from_the_approval_modal_stops_and_nothing_runs(
        ralph_ws: Any) -> None:
    """The modal still needs a decision for a step to start: a quit (asked, answered
    yes) is "stop"; answered no, the modal is still there, waiting."""
    from tests.ralph.support import complete
    from wrapix_core.ralph.state import ralph_paths, read_label_state
    from wrapix_tui.screens.approval import ApprovalScreen

    ws = ralph_ws
    only = ws.create("One")
    ws.scenario(complete(None, 0, {"say": "Working on {ISSUE_ID}."}))
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        await board_ready(pilot, app)
        await pilot.press("4", "down", "l")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("ctrl+q")  # a modal passes only priority keys to the app
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"approval of {only}" in str(app.screen.query_one("#question").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await exited(app)
    assert ws.calls() == []
    assert ws.issue(only)["status"] == "open"
    assert read_label_state(ralph_paths(ws.root), "demo").running == {}


async def test_open_screens_follow_the_board(home: Path) -> None:
    """The issue detail shows an issue's new version when it changes on disk, and a
    question that came offers "Answer"; the review screen reads its queue again."""
    from wrapix_core.tasks.store import IssueUpdate, open_store

    workspace = demo_workspace(home / "demo")
    app = make(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await board_ready(pilot, app)
        await pilot.press("4", "down", "right", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IssueScreen))
        screen = app.screen
        assert isinstance(screen, IssueScreen) and screen.issue_id == "demo-a1"
        assert screen.check_action("answer", ()) is False
        store = open_store(workspace)
        await store.update("demo-a1", IssueUpdate(title="Parse the config, again",
                                                  add_labels=("ralph:clarify",)))
        await wait_until(pilot, lambda: "Parse the config, again" in str(
            screen.query_one("#issue-header").render()), what="the issue's new title")
        assert screen.check_action("answer", ()) is True
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, IssueScreen))
        pane = app.query_one(RalphPane)
        await pilot.press("left")
        await wait_until(pilot, lambda: app.focused is pane.board_view.specs,
                         what="the spec list to take the focus back")
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen)
                         and app.screen.queue is not None)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert [row.key for row in review.rows.rows] == ["demo-p1", "demo-p2"]
        await store.update("demo-p2", IssueUpdate(remove_labels=("ralph:proposed",)))
        await wait_until(pilot, lambda: [row.key for row in review.rows.rows] == ["demo-p1"],
                         what="the review queue read again")


@pytest.mark.parametrize("broken", ["load", "watch"])
async def test_a_bug_in_loading_or_watching_is_shown_and_the_app_goes_on(
        home: Path, monkeypatch: pytest.MonkeyPatch, broken: str) -> None:
    from wrapix_core.specs import board as core_board
    from wrapix_core.specs import inotify_watch

    async def no_board(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the board")

    class NoWatcher:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a bug in the watcher")

    if broken == "load":
        monkeypatch.setattr(core_board, "load_board", no_board)
    else:
        monkeypatch.setattr(inotify_watch, "InotifyWorkspaceWatcher", NoWatcher)
    app = make(demo_workspace(home / "demo"))
    what = "could not be loaded" if broken == "load" else "stopped updating"
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.dashboard.ralph
        await wait_until(pilot, lambda: what in app.dashboard.banner.problems.get("ralph", ""),
                         what="the banner")
        note = str(pane.query_one("#ralph-note").render())
        assert f"the board {what}: RuntimeError('a bug in the" in note
        assert app.is_running


async def test_an_exit_while_a_step_runs_ends_the_run_without_an_error(
        ralph_ws: Any) -> None:
    """The exit cancels the run (what a quit that outlasts its wait does): the run's end
    reaches a pane whose widgets are being removed, which must not fail the app."""
    ws = ralph_ws
    slow_step(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await approve_step(pilot, app)
        app.exit()
        await exited(app)
    assert app.return_code in (0, None) and not pane.run.running
