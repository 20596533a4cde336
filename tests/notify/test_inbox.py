"""The inbox store: ids, faithful storage, rotation, read state, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from pathlib import Path
from typing import Any

import pytest

from wrapix_core import paths
from wrapix_core.notify.inbox import InboxStore, NewEntry, UnknownEntry, fold
from wrapix_core.notify.protocol import Notification


def new(title: str = "T", message: str = "M", **extra: str) -> NewEntry:
    return NewEntry(Notification(title, message, **extra), "shown", "test")


def lines(path: Path) -> list[dict[str, object]]:
    """Every line of a generation, each of which must be complete JSON."""
    if not path.exists():
        return []
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path} ends in half a line"
    return [json.loads(line) for line in data.splitlines()]


def test_entries_get_consecutive_ids_and_are_stored_faithfully() -> None:
    store = InboxStore()
    assert store.path == paths.state_dir() / "inbox.jsonl"
    hostile = "\x1b[2J\x00[bold]x[/bold]\u202e\ud800" + "y" * 60_000
    stored = store.append([new("a"), new(hostile, hostile, sandbox="wx", session_id="s:1.0",
                                         sound="Ping", kind="stop")])
    assert [e.id for e in stored] == [1, 2]
    loaded = store.load()
    assert loaded == stored
    assert loaded[1].title == hostile and loaded[1].message == hostile
    assert (loaded[1].sandbox, loaded[1].session_id, loaded[1].sound, loaded[1].kind) == \
        ("wx", "s:1.0", "Ping", "stop")
    assert not loaded[1].read and loaded[1].popup == "shown" and loaded[1].reason == "test"
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert [r["id"] for r in lines(store.path)] == [1, 2]


def test_ids_continue_in_a_new_process_and_across_rotation() -> None:
    InboxStore(limit=10).append([new() for _ in range(15)])
    later = InboxStore(limit=10)
    assert [e.id for e in later.append([new()])] == [16]
    assert [e.id for e in later.load()] == list(range(7, 17))


@pytest.mark.parametrize("batch", [1, 7, 25])
def test_rotation_keeps_the_newest_entries_and_never_cuts_a_line(batch: int) -> None:
    store = InboxStore(limit=10)
    for start in range(0, 25, batch):
        store.append([new(f"n{i}") for i in range(start, min(25, start + batch))])
    assert [e.title for e in store.load()] == [f"n{i}" for i in range(15, 25)]
    current, previous = lines(store.path), lines(store.previous_path)
    assert len(current) <= 10 and len(previous) == 10
    ids = [r["id"] for r in previous + current]
    assert ids == list(range(ids[0], 26))  # the two generations are contiguous


def test_rotation_also_bounds_bytes() -> None:
    store = InboxStore(limit=1000, max_bytes=10_000)
    for _ in range(10):
        store.append([new(message="x" * 3000)])
    assert store.path.stat().st_size < 10_000 + 4000
    assert store.previous_path.stat().st_size < 10_000 + 4000
    assert [e.id for e in store.load()][-1] == 10


def test_appending_never_rewrites_the_file() -> None:
    store = InboxStore()
    for chunk in range(10):
        store.append([new(f"{chunk}-{i}") for i in range(100)])
    before = store.path.read_bytes()
    inode = store.path.stat().st_ino
    store.append([new("one more")])
    store.mark_read([5])
    after = store.path.read_bytes()
    assert store.path.stat().st_ino == inode
    assert after.startswith(before)
    assert len(after) - len(before) < 400  # one entry and one small read record


def test_mark_read_and_mark_all() -> None:
    store = InboxStore()
    store.append([new(str(i)) for i in range(5)])
    assert store.mark_read([2, 4, 2]) == [2, 4]
    assert store.mark_read([2]) == []
    assert [e.id for e in store.load() if not e.read] == [1, 3, 5]
    size = store.path.stat().st_size
    with pytest.raises(UnknownEntry, match="no inbox entry with id 9"):
        store.mark_read([1, 9])
    assert store.path.stat().st_size == size  # nothing was marked
    assert store.mark_read([1, 9], missing_ok=True) == [1]
    assert store.mark_all_read() == [3, 5]
    assert store.mark_all_read() == []
    store.append([new("later")])
    assert [e.id for e in store.load() if not e.read] == [6]


def test_read_state_survives_rotation() -> None:
    store = InboxStore(limit=4)
    store.append([new() for _ in range(4)])
    store.mark_read([3])
    store.append([new() for _ in range(2)])  # rotates
    assert {e.id: e.read for e in store.load()} == {3: True, 4: False, 5: False, 6: False}


def test_a_torn_last_line_is_ended_and_skipped() -> None:
    store = InboxStore()
    store.append([new("before")])
    with store.path.open("ab") as handle:
        handle.write(b'{"id": 2, "time": "2024-01-01T00:00:00+00:00", "tit')
    stored = store.append([new("after")])
    assert stored[0].id == 2  # the torn line never became an entry
    assert [e.title for e in store.load()] == ["before", "after"]
    assert store.path.read_bytes().endswith(b"\n")


def test_a_torn_line_left_in_the_previous_generation_costs_no_newer_entry() -> None:
    store = InboxStore(limit=2)
    store.append([new("one"), new("two")])
    with store.path.open("ab") as handle:
        handle.write(b'{"id": 3, "time": "2024-01-01T00:00:00+00:00", "tit')  # a crash
    store.append([new("three")])  # full: rotates first, the torn line moves to .1
    assert store.previous_path.read_bytes().endswith(b'"tit')
    assert [e.title for e in store.load()] == ["two", "three"]
    assert store.mark_read([3]) == [3]


def test_unknown_fields_and_damaged_lines_do_not_break_loading() -> None:
    store = InboxStore()
    store.append([new("ok")])
    with store.path.open("ab") as handle:
        handle.write(b'not json\n{"id": "x"}\n{"op": "read", "ids": "nope"}\n[]\n')
    store.append([new("ok2")])
    assert [e.title for e in store.load()] == ["ok", "ok2"]


# -- concurrent writers in separate processes -------------------------------------------

def _append_many(path: str, count: int, limit: int) -> None:
    store = InboxStore(Path(path), limit=limit)
    for i in range(count):
        store.append([new(f"m{i}")])


def _mark_repeatedly(path: str, rounds: int, limit: int) -> None:
    store = InboxStore(Path(path), limit=limit)
    for i in range(rounds):
        entries = store.load()
        if entries:
            if i % 3:
                # the entry may rotate out meanwhile: that is not an error here
                store.mark_read([entries[len(entries) // 2].id], missing_ok=True)
            else:
                store.mark_all_read()


@pytest.mark.parametrize("limit", [10_000, 40])
def test_concurrent_writers_neither_corrupt_nor_lose_entries(limit: int) -> None:
    path = str(paths.state_dir() / "inbox.jsonl")
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(path, 300, limit)),
               ctx.Process(target=_mark_repeatedly, args=(path, 150, limit)),
               ctx.Process(target=_mark_repeatedly, args=(path, 150, limit))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    store = InboxStore(Path(path), limit=limit)
    entries = store.load()
    expected = min(limit, 300)
    assert [e.id for e in entries] == list(range(301 - expected, 301))
    assert [e.title for e in entries] == [f"m{i}" for i in range(300 - expected, 300)]
    records = lines(store.previous_path) + lines(store.path)  # every line is whole JSON
    assert sum(1 for r in records if "id" in r) >= expected


def _record(ident: int, read: bool = False) -> dict[str, object]:
    return {"id": ident, "time": "2024-01-01T00:00:00+00:00", "title": f"t{ident}",
            "message": "", "popup": "shown", "reason": "r", "read": read}


def _fold_by_rescanning(records: list[dict[str, Any]], limit: int) -> dict[int, bool]:
    """The read rule stated plainly: each record applies to every entry stored so far."""
    read: dict[int, bool] = {}
    for record in records:
        if record.get("op") == "read":
            for ident in record.get("ids", []):
                if ident in read:
                    read[ident] = True
            upto = record.get("upto")
            for ident in read:
                if isinstance(upto, int) and ident <= upto:
                    read[ident] = True
        else:
            read[record["id"]] = record["read"]
    return {ident: read[ident] for ident in sorted(read)[-limit:]}


def test_fold_applies_read_records_as_stated() -> None:
    rng = random.Random(7)  # noqa: S311 - a reproducible test sequence
    for _ in range(200):
        records: list[dict[str, object]] = []
        next_id = 1
        for _step in range(rng.randrange(1, 40)):
            roll = rng.random()
            if roll < 0.6:
                records.append(_record(next_id, read=rng.random() < 0.1))
                next_id += 1
            elif roll < 0.7 and next_id > 1:
                records.append(_record(rng.randrange(1, next_id)))  # a duplicate id
            elif roll < 0.85:
                records.append({"op": "read", "ids": rng.sample(range(1, next_id + 3), 2)})
            else:
                records.append({"op": "read", "upto": rng.randrange(0, next_id + 2)})
        limit = rng.randrange(1, 30)
        folded = fold(records, limit)
        assert {ident: entry.read for ident, entry in folded.items()} == \
            _fold_by_rescanning(records, limit), records


def test_fold_time_does_not_grow_with_entries_times_read_records() -> None:
    def records(every: int) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        for ident in range(1, 10_001):
            found.append(_record(ident))
            if ident % every == 0:
                found.append({"op": "read", "upto": ident})
        return found

    def seconds(data: list[dict[str, object]]) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            fold(data, 10_000)
            best = min(best, time.perf_counter() - started)
        return best

    few, many = records(2_000), records(5)  # 5 and 2,000 "mark all read" records
    assert seconds(many) < seconds(few) * 4
