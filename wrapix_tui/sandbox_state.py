"""What the sandbox pane knows, apart from drawing it.

The containers (the last listing, with each runtime event applied at once until the next
one), their stats samples, the inbox counts per sandbox, the marks, the actions in
flight, and the egress proxies' state. Plain Python, no Textual: the pane feeds it from
its workers and renders :meth:`SandboxState.rows`; tests drive it without a screen.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from wrapix_core.sandbox import naming
from wrapix_tui import sandbox_rows
from wrapix_tui.sandbox_rows import Counts, SandboxRow

if TYPE_CHECKING:
    from wrapix_core.errors import WrapixError
    from wrapix_core.sandbox.runtime import ContainerInfo, ContainerStats, RuntimeEvent
    from wrapix_core.sessions.model import SessionStats

UNREACHABLE = "host unreachable"
"""What a row on a host that stopped answering shows instead of its last known state."""
EGRESS_INTERVAL = 2.0
"""How long the egress proxies' refusal counts and liveness are reused between reads
(the rows are rebuilt on every stats sample and every key typed in the filter)."""


class SandboxState:
    def __init__(self) -> None:
        self.containers: dict[str, ContainerInfo] = {}
        self.stats: dict[str, ContainerStats] = {}
        self.counts: dict[str, Counts] = {}
        """Inbox notifications per sandbox."""
        self.marked: set[str] = set()
        self.pending: dict[str, str] = {}
        """Actions in flight: ``stopping``… per name (shown instead of the state)."""
        self.seen_running: set[str] = set()
        """Names seen running while we watched: a stop shows as a state, not a vanished row."""
        self.listed = False
        """A listing has arrived (until then the pane says it is listing)."""
        self.runtime_error: WrapixError | None = None
        """Why the runtime does not answer (missing, hung), while it does not."""
        self.sessions: dict[tuple[str, str], SessionStats] = {}
        """Session figures by (project, session name), from the sessions watch."""
        self.watched_projects: set[str] = set()
        """Projects whose sessions are being watched."""
        self._egress: tuple[dict[str, int], set[str]] | None = None
        self._egress_read = 0.0

    # -- what comes in ------------------------------------------------------------------

    def apply_event(self, event: RuntimeEvent) -> bool:
        """A runtime event, applied at once; True when a row changed."""
        if sandbox_rows.EVENT_STATE.get(event.action) == "running":
            self.seen_running.add(event.name)
        return sandbox_rows.apply_event(self.containers, event)

    def apply_listing(self, containers: Iterable[ContainerInfo],
                      host: str = sandbox_rows.LOCAL) -> None:
        """A full listing of ``host``: it replaces that host's containers (keyed by
        :func:`~wrapix_tui.sandbox_rows.row_key`); stats of what stopped are dropped."""
        fresh = {sandbox_rows.row_key(info): info for info in containers}
        kept = {key: info for key, info in self.containers.items() if info.host != host}
        self.containers = {**kept, **fresh}
        self.seen_running.update(key for key, info in fresh.items() if info.running)
        for key in fresh:
            if self.pending.get(key) == UNREACHABLE:
                del self.pending[key]
        if host == sandbox_rows.LOCAL:
            self.listed = True
        self._egress = None
        for name in list(self.stats):
            if name not in self.containers or not self.containers[name].running:
                del self.stats[name]

    def apply_stats(self, stats: Iterable[ContainerStats]) -> None:
        for item in stats:
            self.stats[item.name] = item

    def set_session(self, project: str, name: str, stats: SessionStats | None) -> bool:
        """A session's new figures (None: it is gone); True when they differ."""
        key = (project, name)
        if self.sessions.get(key) == stats:
            return False
        if stats is None:
            del self.sessions[key]
        else:
            self.sessions[key] = stats
        return True

    def running_projects(self) -> frozenset[str]:
        """Checkouts a running sandbox works for: its session's project, else its
        workspace (the new-sandbox modal then offers a session by default)."""
        found = set()
        for info in self.containers.values():
            if info.running and info.is_sandbox:
                key = sandbox_rows.session_key(info)
                found.add(key[0] if key else info.workspace)
        return frozenset(found)

    def session_projects(self) -> set[str]:
        """Projects with a sandbox on one of their sessions (whose sessions to watch)."""
        keys = (sandbox_rows.session_key(info) for info in self.containers.values())
        return {key[0] for key in keys if key}

    def set_counts(self, counts: dict[str, Counts]) -> bool:
        """New inbox counts; True when they differ."""
        if counts == self.counts:
            return False
        self.counts = counts
        return True

    # -- marks and actions --------------------------------------------------------------

    def toggle_mark(self, name: str) -> None:
        self.marked.symmetric_difference_update({name})

    def begin(self, names: Iterable[str], progressive: str) -> None:
        """An action on ``names`` started: shown as ``progressive``, their marks gone."""
        names = list(names)
        for name in names:
            self.pending[name] = progressive
        self.marked.difference_update(names)

    def finish(self, name: str) -> None:
        self.pending.pop(name, None)

    def host_unreachable(self, host: str) -> bool:
        """``host`` does not answer: its rows say so (until its next listing)."""
        changed = False
        for key, info in self.containers.items():
            if info.host == host and self.pending.get(key) != UNREACHABLE:
                self.pending[key] = UNREACHABLE
                changed = True
        return changed

    # -- questions ----------------------------------------------------------------------

    def running(self, name: str) -> bool:
        info = self.containers.get(name)
        return info is not None and info.running

    def sampled(self, name: str) -> bool:
        """Whether ``name``'s stats are worth sampling (running, no action in flight, its
        host answering: an unreachable host's rows are pending)."""
        return self.running(name) and name not in self.pending

    def allowlisted(self, name: str) -> bool:
        info = self.containers.get(name)
        return info is not None and info.labels.get(naming.LABEL_NETWORK) == "allowlist"

    def egress(self) -> tuple[dict[str, int], set[str]]:
        """``(refusals, proxies gone)`` of the running allowlist sandboxes, read from disk
        at most every :data:`EGRESS_INTERVAL` seconds (and after each listing)."""
        now = time.monotonic()
        if self._egress is None or now - self._egress_read >= EGRESS_INTERVAL:
            from wrapix_core.egress import control
            from wrapix_core.egress import log as denial_log

            limited = [name for name in self.containers  # this machine's proxies only
                       if "/" not in name and self.allowlisted(name) and self.running(name)]
            self._egress = ({name: denial_log.count(name) for name in limited},
                            {name for name in limited if control.pid(name) is None})
            self._egress_read = now
        return self._egress

    def forget_egress(self) -> None:
        """Read the egress proxies' state again on the next :meth:`rows`."""
        self._egress = None

    def rows(self, *, now: datetime, show_all: bool, filter_text: str) -> list[SandboxRow]:
        """The rows the table shows, for this view."""
        denied, down = self.egress()
        return sandbox_rows.build_rows(
            self.containers.values(), stats=self.stats, counts=self.counts,
            marked=self.marked, pending=self.pending, now=now, show_all=show_all,
            seen_running=self.seen_running, filter_text=filter_text, denied=denied,
            proxy_down=down, sessions=self.sessions)
