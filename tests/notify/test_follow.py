"""follow_inbox: a snapshot, then live changes from the file (and from the daemon)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from wrapix_core.notify.follow import (
    EntriesDropped,
    EntriesRead,
    EntryAdded,
    InboxEvent,
    InboxSnapshot,
    follow_inbox,
)
from wrapix_core.notify.inbox import Entry, InboxStore, NewEntry
from wrapix_core.notify.protocol import Notification


def new(title: str) -> NewEntry:
    return NewEntry(Notification(title, ""), "shown", "test")


async def take(stream: AsyncIterator[InboxEvent], count: int,
               timeout: float = 5.0) -> list[InboxEvent]:
    return [await asyncio.wait_for(anext(stream), timeout) for _ in range(count)]


async def test_snapshot_then_additions_and_read_changes() -> None:
    store = InboxStore()
    store.append([new("old")])
    stream = follow_inbox(store)
    try:
        (snapshot,) = await take(stream, 1)
        assert isinstance(snapshot, InboxSnapshot)
        assert [e.title for e in snapshot.entries] == ["old"]
        await asyncio.to_thread(store.append, [new("a"), new("b")])
        added = await take(stream, 2)
        assert [e.entry.title for e in added if isinstance(e, EntryAdded)] == ["a", "b"]
        await asyncio.to_thread(store.mark_read, [2])
        assert await take(stream, 1) == [EntriesRead((2,))]
        await asyncio.to_thread(store.mark_all_read)
        assert await take(stream, 1) == [EntriesRead((1, 3))]
    finally:
        await stream.aclose()


async def test_a_write_right_after_the_snapshot_is_not_missed() -> None:
    store = InboxStore()
    stream = follow_inbox(store)
    try:
        (snapshot,) = await take(stream, 1)
        assert snapshot == InboxSnapshot(())
        store.append([new("immediately")])
        (event,) = await take(stream, 1)
        assert isinstance(event, EntryAdded) and event.entry.id == 1
    finally:
        await stream.aclose()


async def test_rotation_reports_dropped_entries_and_keeps_following() -> None:
    store = InboxStore(limit=3)
    store.append([new(f"n{i}") for i in range(3)])
    stream = follow_inbox(store)
    try:
        await take(stream, 1)
        view = {1, 2, 3}
        for i in range(3, 9):  # two rotations
            await asyncio.to_thread(store.append, [new(f"n{i}")])
        while view != {7, 8, 9}:  # fails by timeout in take() if it never converges
            event = (await take(stream, 1))[0]
            if isinstance(event, EntryAdded):
                view.add(event.entry.id)
            elif isinstance(event, EntriesDropped):
                view -= set(event.ids)
            assert len(view) <= 4
        assert [e.id for e in store.load()] == [7, 8, 9]
    finally:
        await stream.aclose()


async def test_live_entries_arrive_once() -> None:
    store = InboxStore()
    live: asyncio.Queue[Entry] = asyncio.Queue()

    async def feed() -> AsyncIterator[Entry]:
        while True:
            yield await live.get()

    stream = follow_inbox(store, live=feed())
    try:
        await take(stream, 1)
        (entry,) = await asyncio.to_thread(store.append, [new("x")])
        live.put_nowait(entry)  # the daemon's copy, and the file's copy: one event
        (event,) = await take(stream, 1)
        assert event == EntryAdded(entry)
        await asyncio.to_thread(store.append, [new("y")])
        (event,) = await take(stream, 1)
        assert isinstance(event, EntryAdded) and event.entry.title == "y"
    finally:
        await stream.aclose()


async def test_closing_the_stream_is_prompt() -> None:
    stream = follow_inbox(InboxStore())
    await take(stream, 1)
    await asyncio.wait_for(stream.aclose(), 2.0)
