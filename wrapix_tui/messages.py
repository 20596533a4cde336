"""Core events as Textual Messages: small, typed, posted by workers to the widgets.

Workers never touch widgets directly; they post one of these and the handler (on the
event loop) updates only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from wrapix_core.builder.status import BuilderStatus
    from wrapix_core.errors import WrapixError
    from wrapix_core.notify.follow import InboxEvent
    from wrapix_core.ralph.events import EngineEvent
    from wrapix_core.sandbox.gitguard import Finding
    from wrapix_core.sandbox.runtime import (
        ContainerInfo,
        ContainerStats,
        EventStreamStatus,
        RuntimeEvent,
    )
    from wrapix_core.specs.board import Board
    from wrapix_core.specs.events import WatchEvent
    from wrapix_tui.core import Core
    from wrapix_tui.sandbox_rows import Counts


class CoreReady(Message):
    """Settings and the runtime are loaded; live work may start."""

    def __init__(self, core: Core) -> None:
        super().__init__()
        self.core = core


class Problem(Message):
    """A core error for people: a banner (lasting, with a source to clear it by) or a toast."""

    def __init__(self, error: WrapixError | str, *, source: str | None = None,
                 severity: str = "error") -> None:
        super().__init__()
        self.error = error
        self.source = source
        """Banner slot (``podman``, ``events``, ``notify``, ``config``); None: a toast."""
        self.severity = severity


class GitChecked(Message):
    """A git-redirection check of ``workspace`` (:mod:`wrapix_core.sandbox.gitguard`):
    ``thorough`` after a sandbox stopped, quick when the live watcher saw ``.git`` change;
    ``sandbox`` names the one that stopped. No findings: what was reported is gone."""

    def __init__(self, workspace: str, findings: list[Finding], *, thorough: bool,
                 sandbox: str | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.findings = findings
        self.thorough = thorough
        self.sandbox = sandbox


class ProblemSolved(Message):
    """The lasting problem of ``source`` is gone: take its banner down."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source


@dataclass
class RuntimeState(Message):
    """What the header says about the container runtime."""

    text: str
    ok: bool


class ContainersListed(Message):
    def __init__(self, containers: list[ContainerInfo]) -> None:
        super().__init__()
        self.containers = containers


class ContainerChanged(Message):
    def __init__(self, event: RuntimeEvent) -> None:
        super().__init__()
        self.event = event


class EventStream(Message):
    """The runtime's event stream connected or dropped."""

    def __init__(self, status: EventStreamStatus) -> None:
        super().__init__()
        self.status = status


class StatsSampled(Message):
    def __init__(self, stats: list[ContainerStats]) -> None:
        super().__init__()
        self.stats = stats


class InboxChanged(Message):
    def __init__(self, events: list[InboxEvent]) -> None:
        super().__init__()
        self.events = events


class InboxCounts(Message):
    """Unread notifications per sandbox (for the sandbox rows)."""

    def __init__(self, counts: dict[str, Counts]) -> None:
        super().__init__()
        self.counts = counts


@dataclass
class NotifyState(Message):
    """Whether this app hosts the notification daemon or follows another one."""

    text: str
    hosted: bool


class BuilderChanged(Message):
    def __init__(self, status: BuilderStatus) -> None:
        super().__init__()
        self.status = status


@dataclass
class BuilderProgress(Message):
    """A line of a builder start/stop in progress (``done``: it finished)."""

    text: str
    error: bool = False
    done: bool = False
    done_count: int | None = None
    total: int | None = None


@dataclass
class JumpToSandbox(Message):
    """Select ``name`` in the sandbox pane (from a notification)."""

    name: str


@dataclass
class AnswerQuestion(Message):
    """Answer the clarify question of ``issue_id`` (from a notification)."""

    issue_id: str


@dataclass
class SandboxLaunched(Message):
    name: str
    notices: list[Any]


# -- the Ralph board --------------------------------------------------------------------
class BoardChanged(Message):
    """A new board: the first load (``event`` None) or after one watcher event."""

    def __init__(self, board: Board, event: WatchEvent | None = None) -> None:
        super().__init__()
        self.board = board
        self.event = event


class BoardUpdated(Message, bubble=False):
    """The Ralph pane's board changed: sent to every open screen (the issue detail, the
    review), which handle it with ``on_board_updated`` if they show part of the board."""

    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board


@dataclass
class BoardProblem(Message):
    """The board could not be loaded, or the watcher reported a problem (it goes on)."""

    text: str
    lasting: bool = False


class RalphEvent(Message):
    """An engine event (not agent output: that is coalesced, see :class:`RalphOutput`)."""

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event


class RalphOutput(Message):
    """New agent output arrived (the tail is read from the pane's OutputTail)."""


@dataclass
class RalphRunEnded(Message):
    """The step or loop worker finished (``error``: why it could not run)."""

    error: str = ""
    stopped: bool = False


@dataclass
class BuildProgress(Message):
    """A line of image-build progress from the new-sandbox launch worker."""

    line: str
    step: int | None = None
    total: int | None = None


@dataclass
class LaunchFailed(Message):
    text: str
