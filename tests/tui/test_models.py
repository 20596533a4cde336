"""The pure parts of the TUI: formatting, row rules, the inbox fold, the event hub."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import pytest

from tests.tui.fake_runtime import T0, FakeRuntime, sandbox
from wrapix_core.notify.follow import EntriesDropped, EntriesRead, EntryAdded, InboxSnapshot
from wrapix_core.notify.inbox import Entry
from wrapix_core.sandbox.runtime import EventStreamStatus, RuntimeEvent
from wrapix_tui import format as fmt
from wrapix_tui import sandbox_rows
from wrapix_tui.events_hub import EventHub, SharedEvents
from wrapix_tui.inbox_model import InboxModel
from wrapix_tui.sandbox_rows import Counts, build_rows, counts_by_sandbox
from wrapix_tui.screens.logs import clean
from wrapix_tui.widgets.path_input import IsDirectory, complete


def entry(ident: int, *, sandbox: str | None = "wrapix-a", read: bool = False,
          title: str = "t", message: str = "m") -> Entry:
    return Entry(id=ident, time=T0 - timedelta(minutes=ident), title=title, message=message,
                 popup="shown", reason="", read=read, sandbox=sandbox)


def test_ages_and_sizes() -> None:
    assert fmt.age(None) == "-"
    assert fmt.age(42) == "42s"
    assert fmt.age(185) == "3m05s"
    assert fmt.age(2 * 3600 + 7 * 60) == "2h07m"
    assert fmt.age(4 * 86400 + 3 * 3600) == "4d03h"
    assert fmt.coarse_age(30) == "now"
    assert fmt.coarse_age(600) == "10m"
    assert fmt.size(512) == "512B"
    assert fmt.size(3 * 1024 * 1024 + 400_000) == "3.4M"
    assert fmt.size(300 * 1024 * 1024) == "300M"
    assert fmt.percent(12.345) == "12.3%"


def test_paths_are_shortened_from_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/alice")
    assert fmt.home_short("/home/alice/src/x") == "~/src/x"
    assert fmt.home_short("/home/alicex/y") == "/home/alicex/y"
    assert fmt.short_path("/home/alice/a/b/c/d/e/project", 20) == "~/a/b/c/d/e/project"
    assert fmt.short_path("/home/alice/a/b/c/d/e/project", 15) == "…/c/d/e/project"
    assert len(fmt.short_path("/" + "x" * 80, 20)) == 20
    assert fmt.home_in("ssh -i /home/alice/k -p 1") == "ssh -i ~/k -p 1"


def test_untrusted_text_is_inert() -> None:
    text = fmt.safe("[bold red]boom[/] \x1b[31mred\x1b[0m\nnext", 200)
    assert text.plain == "[bold red]boom[/] \\e[31mred\\e[0m\\nnext"
    assert not text.spans  # no markup was interpreted
    assert len(fmt.safe("x" * 1000, 50).plain) == 50


def test_default_view_shows_sandboxes_that_run_or_ran_while_watched() -> None:
    running = sandbox("wrapix-a")
    stopped_before = sandbox("wrapix-b", state="exited")
    stopped_now = sandbox("wrapix-c", state="exited")
    other = sandbox("postgres", wrapix=False)
    seen = {"wrapix-c"}
    shown = [info.name for info in (running, stopped_before, stopped_now, other)
             if sandbox_rows.shown(info, show_all=False, seen_running=seen)]
    assert shown == ["wrapix-a", "wrapix-c"]
    assert all(sandbox_rows.shown(info, show_all=True, seen_running=set())
               for info in (stopped_before, other))


def test_rows_cells_and_filter() -> None:
    rows = build_rows([sandbox("wrapix-a", profile="rust"), sandbox("wrapix-b")],
                      stats={}, counts={"wrapix-a": Counts(2, True)}, marked={"wrapix-b"},
                      pending={"wrapix-b": "stopping"}, now=T0, show_all=False,
                      seen_running=set(), filter_text="RUST")
    assert [row.name for row in rows] == ["wrapix-a"]
    cells = rows[0].cells()
    assert cells[1].plain == "wrapix-a"
    assert cells[5] == "2m05s"
    assert cells[4] == "2" and cells[3].plain == "●"
    both = build_rows([sandbox("wrapix-a"), sandbox("wrapix-b")], stats={}, counts={},
                      marked={"wrapix-b"}, pending={"wrapix-b": "stopping"}, now=T0,
                      show_all=False, seen_running=set(), filter_text="")
    marked = both[1].cells()
    assert marked[0].plain == "✓" and marked[2].plain == "stopping" and marked[5] == "-"


def test_events_update_rows_before_the_next_listing() -> None:
    containers = {"wrapix-a": sandbox("wrapix-a")}
    died = RuntimeEvent(id="x", name="wrapix-a", action="died", time=T0, exit_code=137)
    assert sandbox_rows.apply_event(containers, died)
    assert containers["wrapix-a"].state == "exited"
    assert containers["wrapix-a"].exit_code == 137
    assert not sandbox_rows.apply_event(containers, died)  # nothing new
    start = RuntimeEvent(id="x", name="wrapix-a", action="start", time=T0)
    assert sandbox_rows.apply_event(containers, start)
    assert containers["wrapix-a"].running and containers["wrapix-a"].started == T0
    unknown = RuntimeEvent(id="y", name="wrapix-new", action="start", time=T0)
    assert not sandbox_rows.apply_event(containers, unknown)  # the listing brings it
    remove = RuntimeEvent(id="x", name="wrapix-a", action="remove", time=T0)
    assert sandbox_rows.apply_event(containers, remove) and not containers


def test_waiting_means_the_latest_notification_is_unread() -> None:
    entries = [entry(1, read=False), entry(2, read=True), entry(3, sandbox="wrapix-b"),
               entry(4, sandbox=None)]
    counts = counts_by_sandbox(entries)
    assert counts == {"wrapix-a": Counts(1, False), "wrapix-b": Counts(1, True)}


def test_inbox_model_folds_follower_events() -> None:
    model = InboxModel()
    changes = model.apply([InboxSnapshot((entry(1), entry(2, read=True)))])
    assert changes.reset and model.unread == 1
    changes = model.apply([EntryAdded(entry(3)), EntriesRead((1, 3)), EntriesDropped((2,))])
    assert changes.added == {3} and changes.updated == {1} and changes.dropped == {2}
    assert model.unread == 0 and sorted(model.entries) == [1, 3]
    assert model.mark_read_locally(1) is False


def test_log_lines_are_cleaned() -> None:
    assert clean("\x1b[32mgreen\x1b[0m text\r\n") == ["green text"]
    # What `podman logs` gives for a TTY: output and the next prompt on one line.
    assert clean("inside-42\r/ # \x1b[6n") == ["inside-42", "/ # "]
    assert clean("\r\r/ # \x1b[J") == ["/ # "]
    assert clean("") == [""]
    assert clean("tab\there") == ["tab     here"]
    assert clean("bell\x07 and \x1b]0;title\x07osc") == ["bell\\x07 and osc"]


def test_directory_completion_and_validation(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    (tmp_path / "profile.txt").write_text("")
    (tmp_path / ".hidden").mkdir()
    assert complete(str(tmp_path / "pro")) == str(tmp_path / "projects")
    assert complete(str(tmp_path / "x")) is None
    assert complete(str(tmp_path) + "/") == str(tmp_path / "projects")
    assert complete(str(tmp_path / ".hi")) == str(tmp_path / ".hidden")
    validator = IsDirectory()
    assert validator.validate(str(tmp_path)).is_valid
    assert not validator.validate(str(tmp_path / "profile.txt")).is_valid
    assert not validator.validate(str(tmp_path / "missing")).is_valid
    assert not validator.validate("  ").is_valid


async def test_event_hub_fans_out_one_stream() -> None:
    runtime = FakeRuntime([sandbox("wrapix-a")])
    hub = EventHub(runtime)  # type: ignore[arg-type]
    first = hub.subscribe()
    runner = asyncio.create_task(hub.run())
    got = await anext(first)
    assert got == EventStreamStatus(connected=True)
    shared = SharedEvents(runtime, hub)  # type: ignore[arg-type]
    late = shared.events()
    assert await anext(late) == EventStreamStatus(connected=True)  # replayed
    assert (await shared.inspect("wrapix-a")).name == "wrapix-a"  # delegated
    runtime.emit("died", "wrapix-a")
    a, b = await anext(first), await anext(late)
    assert isinstance(a, RuntimeEvent) and a.action == "died" and a == b
    assert hub.subscribers == 2
    await late.aclose()
    assert hub.subscribers == 1
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    await first.aclose()


async def test_the_all_issues_view_agrees_with_the_header_and_ralph_board(
        tmp_path: Path) -> None:
    """Issue 14: an open epic is ready in beads' sense but not work Ralph takes; the
    all-issues view must not list it under "ready" while the header counts it out."""
    from tests.tui.ralph_support import demo_workspace
    from wrapix_core.specs.board import load_board
    from wrapix_tui.board_model import ALL, IssueRow, issue_rows

    board = await load_board(demo_workspace(tmp_path / "ws"))
    for key in (ALL, "demo"):
        listed = [row.issue.id for row in issue_rows(board, key)
                  if isinstance(row, IssueRow) and row.group == "ready"]
        card = board.card(key) if key != ALL else None
        header = board.issues.ready if card is None else card.issues.ready
        assert listed == list(header) and "demo-epic" not in listed
    assert board.to_json()["issues"]["ready"] == list(board.issues.ready)  # ralph board --json
