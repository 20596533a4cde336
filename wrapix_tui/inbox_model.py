"""The inbox as the pane sees it: entries by id, changed by the follower's events.

Pure (no Textual): :meth:`InboxModel.apply` folds :mod:`wrapix_core.notify.follow`
events and returns which ids to add, update or drop, so the pane touches only those rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from wrapix_tui.sandbox_rows import Counts, counts_by_sandbox

if TYPE_CHECKING:
    from wrapix_core.notify.follow import InboxEvent
    from wrapix_core.notify.inbox import Entry


@dataclass
class Changes:
    added: set[int] = field(default_factory=set)
    updated: set[int] = field(default_factory=set)
    dropped: set[int] = field(default_factory=set)
    reset: bool = False
    """A snapshot replaced everything."""

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.dropped or self.reset)


class InboxModel:
    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}

    def apply(self, events: Iterable[InboxEvent]) -> Changes:
        from wrapix_core.notify.follow import (
            EntriesDropped,
            EntriesRead,
            EntryAdded,
            InboxSnapshot,
        )

        changes = Changes()
        for event in events:
            if isinstance(event, InboxSnapshot):
                self.entries = {entry.id: entry for entry in event.entries}
                changes = Changes(reset=True)
            elif isinstance(event, EntryAdded):
                self.entries[event.entry.id] = event.entry
                changes.added.add(event.entry.id)
                changes.dropped.discard(event.entry.id)
            elif isinstance(event, EntriesRead):
                for ident in event.ids:
                    self.mark_read_locally(ident)
                    if ident not in changes.added:
                        changes.updated.add(ident)
            elif isinstance(event, EntriesDropped):
                for ident in event.ids:
                    if self.entries.pop(ident, None) is not None:
                        changes.dropped.add(ident)
                        changes.added.discard(ident)
                        changes.updated.discard(ident)
        return changes

    def mark_read_locally(self, ident: int) -> bool:
        """Show ``ident`` read before the store confirms it; True when it was unread."""
        entry = self.entries.get(ident)
        if entry is None or entry.read:
            return False
        self.entries[ident] = replace(entry, read=True)
        return True

    @property
    def unread(self) -> int:
        return sum(1 for entry in self.entries.values() if not entry.read)

    def unread_ids(self) -> list[int]:
        return [ident for ident, entry in self.entries.items() if not entry.read]

    def counts(self) -> dict[str, Counts]:
        return counts_by_sandbox(self.entries[ident] for ident in sorted(self.entries))
