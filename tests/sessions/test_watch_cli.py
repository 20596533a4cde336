"""The live stats stream (inotify, no polling) and the session commands' output."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from tests.sessions.support import commit, make_project, new_session
from wrapix_core.cli.wrapix import wrapix
from wrapix_core.sessions.instruct import clean, review_comment
from wrapix_core.sessions.watch import SessionUpdate, watch_stats


async def _next(stream: object, timeout: float = 10.0) -> SessionUpdate:
    return await asyncio.wait_for(stream.__anext__(), timeout)  # type: ignore[attr-defined]


def test_watch_reports_a_commit_a_new_file_a_moved_base_and_a_discard(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    one = new_session(project, "one")
    two = new_session(project, "two")

    async def scenario() -> None:
        stop = asyncio.Event()
        stream = watch_stats(project, stop_event=stop, debounce_ms=50)
        first = {(await _next(stream)).name, (await _next(stream)).name}
        assert first == {"one", "two"}
        commit(one.path, "work", **{"a.txt": "a\n"})
        update = await _next(stream)
        while update.name != "one" or update.stats is None or update.stats.ahead != 1:
            update = await _next(stream)
        (two.path / "scratch").write_text("x\n")
        update = await _next(stream)
        while update.name != "two" or update.stats is None or not update.stats.dirty:
            update = await _next(stream)
        commit(project, "base moves", **{"b.txt": "b\n"})
        seen: dict[str, int] = {}
        while set(seen) != {"one", "two"} or min(seen.values()) < 1:
            update = await _next(stream)
            if update.stats is not None:
                seen[update.name] = update.stats.behind
        from wrapix_core.sessions.discard import discard_session

        discard_session(two, force=True, podman="true")
        update = await _next(stream)
        while update.name != "two" or update.session is not None:
            update = await _next(stream)
        stop.set()

    asyncio.run(scenario())


def test_sessions_diff_merge_and_discard_commands(tmp_path: Path,
                                                 monkeypatch: object) -> None:
    project = make_project(tmp_path / "proj")
    session = new_session(project, "one")
    commit(session.path, "work", **{"f0.txt": "changed\n"})
    (session.path / "new\x1b[31m.txt").write_text("evil name\n")
    runner = CliRunner()
    listed = runner.invoke(wrapix, ["sessions", "--json", "--project", str(project)])
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.output)
    assert item["branch"] == "wrapix/one" and item["base_ref"] == "main"
    assert item["stats"]["ahead"] == 1 and item["stats"]["files"] == 1
    assert item["stats"]["uncommitted"] == ["new\x1b[31m.txt"]
    assert item["stats"]["merges_cleanly"] is True
    table = runner.invoke(wrapix, ["sessions", "--project", str(project)])
    assert "wrapix/one" in table.output and "clean" in table.output
    shown = runner.invoke(wrapix, ["diff", "one", "--project", str(project)])
    assert shown.exit_code == 0, shown.output
    assert "committed on the branch" in shown.output and "+changed" in shown.output
    assert "untracked" in shown.output and "\x1b" not in shown.output
    stat = runner.invoke(wrapix, ["diff", "one", "--stat", "--project", str(project)])
    assert "f0.txt" in stat.output and "+1 -10" in stat.output
    refused = runner.invoke(wrapix, ["merge", "one", "--project", str(project)])
    assert refused.exit_code == 1 and "uncommitted work" in refused.output
    (session.path / "new\x1b[31m.txt").unlink()
    merged = runner.invoke(wrapix, ["merge", "one", "--project", str(project)])
    assert merged.exit_code == 0 and "merged session one into main" in merged.output
    assert (project / "f0.txt").read_text() == "changed\n"
    gone = runner.invoke(wrapix, ["discard", "one", "--project", str(project)], input="y\n")
    assert gone.exit_code == 0 and "discarded session one" in gone.output
    missing = runner.invoke(wrapix, ["diff", "one", "--project", str(project)])
    assert missing.exit_code == 2 and "no session 'one'" in missing.output


def test_an_instruction_is_words_never_keys() -> None:
    assert clean("fix it\x1b[2J\x03 now\r\n") == "fix it[2J now"
    assert review_comment("use a dict", path="a.py", line=3) == (
        "Review comment on a.py line 3: use a dict")
