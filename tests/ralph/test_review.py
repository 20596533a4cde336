"""The plan review gate: `ralph ready` proposes, `ralph review` decides, the loop waits."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ralph.support import Workspace, complete, respond
from wrapix_core.errors import WrapixError
from wrapix_core.ralph import review
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.events import DependencyView, IssueRef
from wrapix_core.tasks.model import Issue


def five_issue_breakdown() -> dict[str, Any]:
    """The fake agent's ready session: an epic and five issues with dependencies.

    It labels only the epic (rl-demo), never ralph:proposed: the gate must not depend on
    the agent following the prompt.
    """
    create = ["wrapix", "tasks", "create", "--json"]

    def task(title: str, priority: int, save: str, deps: str = "") -> dict[str, Any]:
        args = [*create, "--parent", "{epic}", "--priority", str(priority), "--title", title,
                "--description", f"Build the {title.lower()}."]
        return {"run": [*args, "--deps", deps] if deps else args, "save": save}

    return respond(
        {"run": [*create, "--type", "epic", "--labels", "rl-demo", "--title", "Demo"],
         "save": "epic"},
        task("Schema", 1, "a"),
        task("API", 2, "b", "{a}"),
        task("CLI", 2, "c", "{a}"),
        task("CLI docs", 3, "d", "{c}"),
        task("Benchmarks", 2, "e", "{b}"),
        {"result": "Five issues under the epic.\n\nREADY_COMPLETE"},
        phase="ready")


def _editor(tmp_path: Path) -> str:
    """An $EDITOR that renames the issue and raises its priority."""
    script = tmp_path / "edit.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\n"
        "path = Path(sys.argv[1])\n"
        "text = path.read_text().replace('Title: API', 'Title: API v2')\n"
        "text = text.replace('Priority: 2', 'Priority: 1')\n"
        "path.write_text(text + 'Also version it.\\n')\n")
    return f"{sys.executable} {script}"


def test_review_gate_end_to_end(ws: Workspace, tmp_path: Path) -> None:
    ws.scenario(five_issue_breakdown(), complete(times=0))
    ready = ws.ralph("ready")
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "5 new issues" not in ready.stdout  # the epic is new too
    assert "6 new issues under epic" in ready.stdout
    assert "proposed for review: `ralph review demo`" in ready.stdout
    pending = json.loads(ws.ralph("review", "--json").stdout)
    titles = [item["title"] for item in pending["items"]]
    assert titles == ["Schema", "API", "CLI", "Benchmarks", "CLI docs"]  # dependency order
    ids = {item["title"]: item["id"] for item in pending["items"]}
    for item in pending["items"]:
        assert {"rl-demo", "ralph:proposed"} <= set(item["labels"])
    assert pending["epic"]["title"] == "Demo"
    assert pending["items"][2]["needed_by"] == [ids["CLI docs"]]

    # the loop does nothing before review
    before = ws.ralph("loop")
    assert before.returncode == 101
    assert "5 issues await review: ralph review demo" in before.stdout
    assert ws.worked() == []
    status = ws.ralph("status")
    assert "review:   5 await review: ralph review demo" in status.stdout
    board = json.loads(ws.ralph("board", "--json").stdout)
    [card] = [card for card in board["specs"] if card["name"] == "demo"]
    assert card["issues"]["awaiting_review"] == 5
    assert card["issues"]["proposed"] == 6  # the epic is proposed too
    assert "awaiting review: 5 (ralph review demo)" in ws.ralph("board").stdout

    # approve Schema; edit API then approve it; reject CLI (confirming: CLI docs depends on
    # it); approve Benchmarks; quit at CLI docs
    done = ws.ralph("review", input="y\ne\ny\nr\ny\ny\nq\n", EDITOR=_editor(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{ids['CLI docs']} depends on {ids['CLI']}: it will be flagged" in done.stdout
    assert f"rejected {ids['CLI']}; flagged {ids['CLI docs']}" in done.stdout
    assert "review: 3 approved, 1 edited, 1 rejected, 1 still proposed" in done.stdout

    schema, api, cli, docs, bench = (ws.issue(ids[title]) for title in
                                     ("Schema", "API", "CLI", "CLI docs", "Benchmarks"))
    assert api["title"] == "API v2" and api["priority"] == 1
    assert "Also version it." in api["description"]
    assert cli["status"] == "closed" and cli["close_reason"] == "rejected in review"
    assert {"ralph:proposed", "ralph:clarify"} <= set(docs["labels"])  # flagged, not freed
    assert f"{ids['CLI']} (CLI), which this issue depends on, was rejected" in docs["notes"]
    for issue in (schema, api, bench):
        assert "ralph:proposed" not in issue["labels"]
    # every decision is in the notes: who, when, what
    user = ws.env().get("BD_ACTOR") or ws.env().get("USER") or "wrapix"
    assert f"Review ({user}, " in schema["notes"] and schema["notes"].endswith("): approved")
    assert "edited: title 'API' → 'API v2'; priority P2 → P1; description changed" \
        in api["notes"]
    assert "): rejected" in cli["notes"]
    epic = ws.issue(pending["epic"]["id"])
    assert "ralph:proposed" not in epic["labels"] and "approved (with" in epic["notes"]

    # the loop works exactly the approved ones, in order, then waits for the rest
    after = ws.ralph("loop")
    assert after.returncode == 101, after.stdout
    assert ws.worked() == [ids["Schema"], ids["API"], ids["Benchmarks"]]
    assert "1 issue awaits review: ralph review demo" in after.stdout
    assert json.loads(ws.ralph("review", "--json").stdout)["pending"] == 1

    # approving the flagged one is the person's answer: the flag goes with the proposal
    approved = ws.ralph("review", input="y\n")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    docs = ws.issue(ids["CLI docs"])
    assert not {"ralph:proposed", "ralph:clarify"} & set(docs["labels"])
    assert docs["notes"].endswith("): approved; the flag from the rejection is cleared")
    assert "No open questions." in ws.ralph("msg").stdout


def test_ready_without_review_creates_work_the_loop_takes(ws: Workspace) -> None:
    ws.scenario(five_issue_breakdown(), complete(times=0))
    ready = ws.ralph("ready", "--no-review")
    assert ready.returncode == 0
    assert "proposed" not in ready.stdout
    assert ws.ralph("review").returncode == 100  # nothing awaits review
    assert ws.ralph("loop").returncode == 100
    assert len(ws.worked()) == 5


def test_the_review_setting_chooses_the_default(ws: Workspace) -> None:
    (ws.ralph_dir / "config.toml").write_text("review = false\n")
    ws.scenario(five_issue_breakdown())
    assert ws.ralph("ready").returncode == 0
    assert json.loads(ws.ralph("review", "--json").stdout)["pending"] == 0
    ws.scenario(five_issue_breakdown())
    again = ws.ralph("ready", "--review")
    # a second breakdown: the agent was told about the existing epic, created another
    # one anyway; that is reported and its issues are held for review
    assert "already has issues under the epic" in ws.calls()[0]["prompt"]
    assert again.returncode == 1
    assert "the agent created another epic for demo" in again.stdout
    assert json.loads(ws.ralph("review", "--json").stdout)["pending"] == 5


def test_approve_all_remaining(ws: Workspace) -> None:
    ws.scenario(five_issue_breakdown())
    assert ws.ralph("ready").returncode == 0
    done = ws.ralph("review", input="y\na\n")
    assert done.returncode == 0
    assert "review: 5 approved, 0 edited, 0 rejected, 0 still proposed" in done.stdout
    issues = ws.tasks("list", "--label", "rl-demo")
    assert all("ralph:proposed" not in issue.get("labels", []) for issue in issues)
    assert sum("approved (approve all)" in ws.issue(issue["id"]).get("notes", "")
               for issue in issues) == 4


def test_an_invalid_edit_is_refused_and_changes_nothing(ws: Workspace, tmp_path: Path) -> None:
    ws.scenario(five_issue_breakdown())
    assert ws.ralph("ready").returncode == 0
    script = tmp_path / "bad.py"
    script.write_text("import sys\nfrom pathlib import Path\n"
                      "p = Path(sys.argv[1])\n"
                      "p.write_text(p.read_text().replace('Priority: 1', 'Priority: 9'))\n")
    done = ws.ralph("review", input="e\nq\n", EDITOR=f"{sys.executable} {script}")
    assert done.returncode == 0
    assert "priority '9' is not 0-4" in done.stderr
    schema = next(issue for issue in ws.tasks("list", "--label", "rl-demo")
                  if issue["title"] == "Schema")
    assert schema["priority"] == 1


def _issue(issue_id: str, priority: int = 2, deps: tuple[str, ...] = (),
           created: str = "2026-01-01T00:00:00Z") -> Issue:
    return Issue({"id": issue_id, "title": issue_id, "priority": priority,
                  "created_at": created,
                  "dependencies": [{"issue_id": issue_id, "depends_on_id": dep,
                                    "type": "blocks"} for dep in deps]})


def test_dependency_order_ties_and_cycles() -> None:
    issues = [_issue("c", 1, ("a",)), _issue("a", 3), _issue("b", 0),
              _issue("x", 2, ("y",)), _issue("y", 2, ("x",)), _issue("d", 0, ("missing",))]
    order = [issue.id for issue in review.dependency_order(issues)]
    assert order == ["b", "d", "a", "c", "x", "y"]


def test_dependency_views_name_status_and_title_or_missing() -> None:
    known = _issue("a")
    issue = _issue("c", 1, ("a", "gone"))
    ref = IssueRef.of(issue, {"a": known})
    assert ref.dependencies == (DependencyView("a", "blocks", "open", "a"),
                                DependencyView("gone", "blocks", "missing", ""))
    assert IssueRef.of(issue).dependencies[0].status == "missing"


@pytest.mark.parametrize(("text", "error"), [
    ("Priority: 1\n\nbody", "line 1: expected 'Title: …'"),
    ("Title: \nPriority: 1\n", "line 1: the title is empty"),
    ("Title: x\nPriority: high\n", "line 2: priority 'high' is not 0-4"),
    ("Title: x\nPriority: 2\nno blank line", "line 3: expected a blank line"),
    ("Title: x\n", "line 2: expected 'Priority: N'"),
])
def test_edit_document_errors_name_the_line(text: str, error: str) -> None:
    with pytest.raises(RalphError, match=error):
        review.parse_edit_document(text)


def test_edit_document_round_trip() -> None:
    issue = Issue({"id": "d-1", "title": "Title: tricky", "priority": 3,
                   "description": "# A heading\n\nText."})
    parsed = review.parse_edit_document(review.edit_document(issue))
    assert parsed == review.ReviewEdit("Title: tricky", 3, "# A heading\n\nText.")
    assert review.parse_edit_document("# c\nTitle: New\nPriority: P0\n\n").priority == 0


def test_deciding_on_something_not_proposed_is_refused(ws: Workspace) -> None:
    import asyncio

    from wrapix_core.tasks.store import open_store

    issue = ws.create("Plain")
    with pytest.raises(WrapixError, match="is not proposed"):
        asyncio.run(review.approve(open_store(ws.root), issue))
