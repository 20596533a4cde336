"""The sandbox table as data: which containers show, what each cell says, sort order.

Pure functions over core models (``ContainerInfo``, ``ContainerStats``) so the pane only
diffs cells and the rules are tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text

from wrapix_core.sandbox.naming import LABEL_AGENT, LABEL_NETWORK, LABEL_PROJECT, LABEL_SESSION
from wrapix_tui import format as fmt

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import ContainerInfo, ContainerStats, RuntimeEvent
    from wrapix_core.sessions.model import SessionStats

COLUMNS: tuple[tuple[str, str], ...] = (
    ("mark", " "), ("name", "name"), ("state", "state"), ("wait", "wait"),
    ("unread", "unread"), ("uptime", "up"), ("cpu", "cpu"), ("mem", "mem"),
    ("branch", "branch"), ("work", "work"),
    ("host", "host"), ("profile", "profile"), ("agent", "agent"), ("workspace", "workspace"),
)
"""(column key, header) in display order: what needs attention first, so a narrow
terminal still shows it."""

SORTABLE = tuple(key for key, _ in COLUMNS if key != "mark")

STATE_STYLE = {"running": "bold green", "exited": "red", "stopped": "red", "created": "yellow",
               "paused": "yellow", "stopping": "yellow", "restarting": "yellow",
               "removing": "yellow", "starting": "yellow"}

EVENT_STATE = {"start": "running", "restart": "running", "unpause": "running",
               "died": "exited", "stop": "exited", "pause": "paused"}
"""What a container's state becomes on an event, applied before the next listing."""


LOCAL = "local"


def row_key(info: ContainerInfo) -> str:
    """A row's key: the name here, ``HOST/NAME`` on a remote host (names are per host)."""
    return info.name if info.host == LOCAL else f"{info.host}/{info.name}"


@dataclass(frozen=True)
class Counts:
    """Notifications of one sandbox: unread ones, and whether its latest is unread."""

    unread: int = 0
    waiting: bool = False


@dataclass(frozen=True)
class SandboxRow:
    name: str
    info: ContainerInfo
    stats: ContainerStats | None
    counts: Counts
    marked: bool
    pending: str | None
    """An action in flight (``stopping``…), shown instead of the state."""
    uptime: float | None
    denied: int = 0
    """Connections its egress proxy refused (allowlist sandboxes)."""
    proxy_down: bool = False
    """A running allowlist sandbox whose egress proxy is gone (it has no network)."""
    session: SessionStats | None = None
    """Its session's figures, live from the sessions watch (None: not known yet, or not
    a session)."""

    @property
    def session_key(self) -> tuple[str, str] | None:
        """(project, session name) when the sandbox runs on a session."""
        return session_key(self.info)

    def branch_cell(self) -> Text:
        name = self.info.labels.get(LABEL_SESSION)
        return fmt.safe(f"wrapix/{name}" if name else "", 40)

    def work_cell(self) -> Text:
        """``↑3 5f +120 −4 ✎2 ✓``: commits ahead, files, lines, uncommitted files, and
        whether it merges cleanly into its base now (✗ conflicts, ``merged`` when landed)."""
        stats = self.session
        if stats is None:
            return Text("…" if self.session_key else "", style="dim")
        cell = Text(no_wrap=True, end="")
        if stats.head is None:
            return Text("branch gone", style="bold red")
        cell.append(f"↑{stats.ahead} {stats.files}f ")
        cell.append(f"+{stats.added}", style="green")
        cell.append(f" −{stats.removed}", style="red")
        if stats.dirty:
            cell.append(f" ✎{len(stats.uncommitted)}", style="bold yellow")
        if stats.merged and stats.ahead:
            cell.append(" merged", style="dim")
        elif stats.merges_cleanly is True:
            cell.append(" ✓", style="green")
        elif stats.merges_cleanly is False:
            cell.append(f" ✗{len(stats.conflicts)}", style="bold red")
        return cell

    @property
    def agent(self) -> str:
        """The agent it runs (its label; empty for containers wrapix did not start)."""
        return self.info.labels.get(LABEL_AGENT, "")

    @property
    def network(self) -> str:
        return self.info.labels.get(LABEL_NETWORK, "open")

    def state_cell(self) -> Text:
        """The state; for a sandbox whose egress is not open, also its mode and (in red)
        how many connections its proxy refused: ``running · allowlist 3✗``."""
        cell = Text(self.state, style=STATE_STYLE.get(self.state, ""))
        mode = self.network
        if mode != "open":
            cell.append(" · " + fmt.plain(mode, 10), style="dim")
            if self.denied:
                cell.append(f" {self.denied}✗", style="bold red")
            if self.proxy_down and self.info.running:
                cell.append(" proxy down: no network", style="bold red")
        return cell

    @property
    def state(self) -> str:
        return self.pending or self.info.state

    def cells(self) -> tuple[Any, ...]:
        """One value per :data:`COLUMNS` entry; untrusted text as inert ``Text``."""
        info, stats = self.info, self.stats
        running = info.running and self.pending is None
        workspace = info.workspace
        return (
            fmt.Keyed("✓" if self.marked else "", self.name, style="bold"),
            fmt.safe(info.name or self.name, 63),
            self.state_cell(),
            Text("●", style="bold yellow") if self.counts.waiting else Text(""),
            str(self.counts.unread) if self.counts.unread else "",
            fmt.age(self.uptime) if running else "-",
            fmt.percent(stats.cpu_percent) if running and stats else "-",
            fmt.size(stats.memory_bytes) if running and stats else "-",
            self.branch_cell(),
            self.work_cell(),
            fmt.safe(info.host, 32, style="dim" if info.host == LOCAL else ""),
            fmt.safe(info.profile or "-", 24),
            fmt.safe(self.agent or "-", 10),
            fmt.safe(fmt.short_path(workspace, 28) if workspace else "-", 40),
        )

    def sort_value(self, column: str) -> Any:
        info = self.info
        values: dict[str, Any] = {
            "name": self.name, "profile": info.profile, "workspace": info.workspace,
            "agent": self.agent,
            "host": (info.host != LOCAL, info.host, self.name),
            "state": self.state,
            "uptime": self.uptime if self.uptime is not None else -1.0,
            "cpu": self.stats.cpu_percent if self.stats else -1.0,
            "mem": self.stats.memory_bytes if self.stats else -1,
            "unread": self.counts.unread, "wait": self.counts.waiting,
            "branch": info.labels.get(LABEL_SESSION, ""),
            "work": (self.session.added + self.session.removed) if self.session else -1,

        }
        return values.get(column, self.name)


def session_key(info: ContainerInfo) -> tuple[str, str] | None:
    """(project, session name) of a sandbox that runs on a session (its labels)."""
    name, project = info.labels.get(LABEL_SESSION), info.labels.get(LABEL_PROJECT)
    return (project, name) if name and project else None


def shown(info: ContainerInfo, *, show_all: bool, seen_running: set[str]) -> bool:
    """Default view: wrapix sandboxes that run, or ran while we watched (so a stop is
    seen as a state change, not a vanishing row). ``show_all``: every container."""
    if show_all:
        return True
    return info.is_sandbox and (info.running or info.name in seen_running)


def matches(row: SandboxRow, text: str) -> bool:
    """The ``/`` filter: case-insensitive substring of name, profile, agent, workspace,
    state, image."""
    if not text:
        return True
    needle = text.lower()
    info = row.info
    return any(needle in value.lower() for value in
               (row.name, info.profile, row.agent, info.workspace, row.state, info.image,
                info.host))


def build_rows(containers: Iterable[ContainerInfo], *, stats: Mapping[str, ContainerStats],
               counts: Mapping[str, Counts], marked: set[str], pending: Mapping[str, str],
               now: datetime, show_all: bool, seen_running: set[str], filter_text: str,
               denied: Mapping[str, int] | None = None,
               proxy_down: set[str] | None = None,
               sessions: Mapping[tuple[str, str], SessionStats] | None = None,
               ) -> list[SandboxRow]:
    rows = []
    for info in containers:
        if not shown(info, show_all=show_all, seen_running=seen_running):
            continue
        key = row_key(info)
        row = SandboxRow(name=key, info=info, stats=stats.get(key),
                         counts=counts.get(key, Counts()), marked=key in marked,
                         pending=pending.get(key), uptime=info.uptime(now),
                         denied=(denied or {}).get(key, 0),
                         proxy_down=key in (proxy_down or set()),
                         session=_session(info, sessions))
        if matches(row, filter_text):
            rows.append(row)
    return rows


def _session(info: ContainerInfo,
             sessions: Mapping[tuple[str, str], SessionStats] | None) -> SessionStats | None:
    key = session_key(info)
    return (sessions or {}).get(key) if key else None


def apply_event(containers: dict[str, ContainerInfo], event: RuntimeEvent) -> bool:
    """Update ``containers`` in place from ``event``; True when something changed.

    Events are applied at once (a stop shows within the event's latency); the listing
    that follows a burst of events then brings every other field up to date.
    """
    info = containers.get(event.name)
    if event.action == "remove":
        return containers.pop(event.name, None) is not None
    if info is None:
        return False
    state = EVENT_STATE.get(event.action)
    if state is None or state == info.state:
        return False
    started = event.time if state == "running" and event.action != "unpause" else info.started
    exit_code = event.exit_code if state == "exited" else None
    containers[event.name] = replace(info, state=state, started=started, exit_code=exit_code)
    return True


def counts_by_sandbox(entries: Iterable[Any]) -> dict[str, Counts]:
    """Per sandbox: unread notifications, and whether its newest one is unread (the agent
    is waiting for input). ``entries`` are inbox entries, oldest first."""
    unread: dict[str, int] = {}
    latest: dict[str, bool] = {}
    for entry in entries:
        if not entry.sandbox:
            continue
        host = getattr(entry, "host", None)
        key = f"{host}/{entry.sandbox}" if host else entry.sandbox
        if not entry.read:
            unread[key] = unread.get(key, 0) + 1
        latest[key] = not entry.read
    return {name: Counts(unread.get(name, 0), latest.get(name, False))
            for name in set(unread) | set(latest)
            if unread.get(name, 0) or latest.get(name, False)}
