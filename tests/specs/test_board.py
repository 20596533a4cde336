"""The Board joins specs and issues; incremental updates equal a full rebuild."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.tasks.shared_data import make_workspace
from wrapix_core.errors import WrapixError
from wrapix_core.specs.board import Board, load_board
from wrapix_core.specs.events import IssuesChanged, SpecChanged, SpecRemoved
from wrapix_core.specs.index import parse_index
from wrapix_core.specs.parser import parse_spec
from wrapix_core.tasks.model import Issue
from wrapix_core.tasks.store import IssueUpdate, NewIssue, TaskStore

INDEX = parse_index("""| Spec | Code | Beads | Status | Purpose |
|---|---|---|---|---|
| [alpha.md](alpha.md) | — | wx-epic | WIP | A |
| [beta.md](beta.md) | — | — | | B |
| [ghost.md](ghost.md) | — | — | | no file |
""")
ALPHA = parse_spec("# Alpha\n\n## Success Criteria\n- [x] one\n- [ ] two [verify](t.sh#f)\n",
                   "alpha")
BETA = parse_spec("# Beta\n\n## Success Criteria\n- [ ] b\n", "beta")


def issue(issue_id: str, status: str = "open", **extra: Any) -> Issue:
    return Issue({"id": issue_id, "title": issue_id, "status": status, "priority": 2,
                  "created_at": "2026-01-01T00:00:00Z", **extra})


def child(issue_id: str, parent: str, **extra: Any) -> Issue:
    return issue(issue_id, dependencies=[{"issue_id": issue_id, "depends_on_id": parent,
                                          "type": "parent-child"}], **extra)


ISSUES = [issue("wx-epic", issue_type="epic"), child("wx-1", "wx-epic"),
          child("wx-1.1", "wx-1", status="closed"),
          issue("wx-2", labels=["rl-beta"], notes="context\n\nWhich DB?"),
          issue("wx-3", labels=["spec:beta", "ralph:clarify"], notes="old\n\nWhich DB?"),
          issue("wx-4", labels=["spec-beta", "ralph:proposed"]),
          issue("wx-5", dependencies=[{"issue_id": "wx-5", "depends_on_id": "wx-2",
                                       "type": "blocks"}], labels=["rl-beta"]),
          issue("wx-lone")]


def build(**kwargs: Any) -> Board:
    return Board.build({"alpha": ALPHA, "beta": BETA}, INDEX, ISSUES, **kwargs)


def test_cards_join_specs_index_and_issues() -> None:
    board = build()
    assert [card.name for card in board.cards] == ["alpha", "beta", "ghost"]
    alpha, beta, ghost = board.cards
    assert (alpha.criteria_done, alpha.criteria_total, alpha.epic, alpha.state) == \
        (1, 2, "wx-epic", "WIP")
    assert alpha.annotations.verify == 1 and alpha.annotations.unannotated == 1
    assert alpha.issues.total == 3 and alpha.issues.by_status == {"closed": 1, "open": 2}
    assert alpha.issues.ready == ("wx-1",)  # the open epic is never worked: not queued
    assert beta.issues.total == 4 and beta.issues.ready == ("wx-2",)
    assert [item.question for item in beta.issues.clarify] == ["Which DB?"]
    assert beta.issues.proposed == 1
    assert [(item.id, [blocker.id for blocker in item.blockers])
            for item in beta.issues.blocked] == [("wx-5", ["wx-2"])]
    assert not ghost.present and ghost.problems == ("spec file is missing",)
    assert board.issues.total == len(ISSUES)
    assert "wx-lone" in board.issues.ready


def test_epic_override_and_missing_epic_reported() -> None:
    board = build(epics={"beta": "wx-nope"})
    beta = board.card("beta")
    assert beta is not None and beta.epic == "wx-nope"
    assert "epic wx-nope is not among the issues" in beta.problems


def test_incremental_updates_equal_full_rebuild() -> None:
    board = build()
    changed = parse_spec("# Beta 2\n\n## Success Criteria\n- [x] b\n- [x] c\n", "beta")
    new_issues = [*ISSUES[:-1], issue("wx-new", labels=["rl-alpha"])]
    stepped = (board.apply(SpecChanged(changed)).apply(IssuesChanged(tuple(new_issues)))
               .apply(SpecRemoved("alpha", Path("alpha.md"))))
    rebuilt = Board.build({"beta": changed}, INDEX, new_issues)
    assert stepped.cards == rebuilt.cards
    assert stepped.issues == rebuilt.issues
    beta = stepped.card("beta")
    assert beta is not None and (beta.title, beta.criteria_done) == ("Beta 2", 2)
    untouched = board.replace_spec(changed)
    assert untouched.cards[0] is board.cards[0]  # other cards are reused, not re-derived
    # a spec or README change leaves the issues: their summary is reused, not recounted
    assert untouched.issues is board.issues
    assert board.remove_spec("alpha").issues is board.issues
    assert board.replace_index(INDEX).issues is board.issues


async def test_load_board_from_real_workspace(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    board = await load_board(workspace)
    data = board.to_json()
    assert len(data["specs"]) == 8
    ralph = next(card for card in data["specs"] if card["name"] == "ralph-workflow")
    assert ralph["criteria"] == {"done": 0, "total": 6}
    assert data["issues"]["total"] == 1184
    assert data["issues"]["by_status"] == {"closed": 1181, "open": 3}
    assert len(data["issues"]["ready"]) == 3
    assert any("duplicate id" in problem for problem in data["problems"])


class _FakeStore(TaskStore):
    """A store other than the JSONL one, reporting its own problems or failing."""

    kind = "bd"

    def __init__(self, workspace: Path, error: Exception | None = None) -> None:
        self.workspace = workspace
        self.error = error

    async def list_issues(self) -> list[Issue]:
        if self.error is not None:
            raise self.error
        return list(ISSUES)

    async def list_with_problems(self) -> tuple[list[Issue], tuple[str, ...]]:
        return await self.list_issues(), ("bd: 2 issues hidden",)

    async def show(self, issue_id: str) -> Issue:
        raise NotImplementedError

    async def create(self, new: NewIssue) -> Issue:
        raise NotImplementedError

    async def update(self, issue_id: str, change: IssueUpdate) -> Issue:
        raise NotImplementedError

    async def close(self, issue_id: str, reason: str | None = None) -> Issue:
        raise NotImplementedError

    async def add_dependency(self, issue_id: str, depends_on_id: str,
                             dep_type: str = "blocks") -> Issue:
        raise NotImplementedError


async def test_load_board_takes_problems_from_any_store(tmp_path: Path) -> None:
    board = await load_board(tmp_path, _FakeStore(tmp_path))
    assert board.issues.total == len(ISSUES)
    assert "bd: 2 issues hidden" in board.problems


async def test_a_failing_store_fails_load_board_and_leaves_nothing_running(
        tmp_path: Path) -> None:
    make_workspace(tmp_path / "ws", issues=False)
    with pytest.raises(WrapixError, match="bd is broken"):
        await load_board(tmp_path / "ws", _FakeStore(tmp_path, WrapixError("bd is broken")))
    assert asyncio.all_tasks() == {asyncio.current_task()}
