"""``ralph status``: where a label stands, as one model for the CLI (text, ``--json``)
and the TUI.

Besides counts and the next task it explains steps in flight: a running step whose
process still holds the issue's lock is *running*; one whose lock is free died
(Ctrl-C, a crash, a reboot) and is *interrupted* — the next ``ralph step`` reopens its
issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wrapix_core.ralph.clarify import latest_paragraph
from wrapix_core.ralph.events import IssueRef
from wrapix_core.ralph.lock import is_held
from wrapix_core.ralph.logs import list_logs
from wrapix_core.ralph.scope import LabelScope
from wrapix_core.ralph.state import LabelState, RalphPaths, current_label, read_label_state
from wrapix_core.specs import catalog
from wrapix_core.specs.index import read_index
from wrapix_core.specs.parser import read_spec
from wrapix_core.tasks.model import PROPOSED_LABEL
from wrapix_core.tasks.store import TaskStore


@dataclass(frozen=True)
class RunningView:
    issue: str
    started_at: str
    pid: int
    host: str
    log: str
    sandbox: str | None
    alive: bool


@dataclass(frozen=True)
class LabelStatus:
    label: str
    current: bool
    spec: str
    spec_exists: bool
    spec_title: str | None
    spec_state: str | None
    """``WIP`` or ``REVIEW`` from the specs index, when marked."""
    criteria: tuple[int, int]
    epic: str | None
    epic_status: str | None
    by_status: dict[str, int]
    total: int
    closed: int
    ready: tuple[str, ...]
    next: IssueRef | None
    awaiting_review: int
    clarify: tuple[tuple[str, str], ...]
    """(id, question) of issues waiting for an answer."""
    blocked: int
    running: tuple[RunningView, ...]
    iterations: dict[str, int]
    last_log: str | None
    agent_error: tuple[str, str, str] | None = None
    """(when, what the agent said, log) of the last step the agent could not work (not
    logged in, cannot start), until a step completes again."""

    @property
    def percent(self) -> int:
        return (self.closed * 100 // self.total) if self.total else 0

    @property
    def interrupted(self) -> tuple[RunningView, ...]:
        return tuple(run for run in self.running if not run.alive)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label, "current": self.current,
            "spec": {"path": self.spec, "exists": self.spec_exists, "title": self.spec_title,
                     "state": self.spec_state,
                     "criteria": {"done": self.criteria[0], "total": self.criteria[1]}},
            "epic": {"id": self.epic, "status": self.epic_status} if self.epic else None,
            "issues": {"total": self.total, "closed": self.closed, "percent": self.percent,
                       "by_status": self.by_status, "ready": list(self.ready),
                       "awaiting_review": self.awaiting_review, "blocked": self.blocked,
                       "clarify": [{"id": issue_id, "question": question}
                                   for issue_id, question in self.clarify]},
            "next": {"id": self.next.id, "title": self.next.title,
                     "priority": self.next.priority} if self.next else None,
            "running": [{"issue": run.issue, "started_at": run.started_at, "pid": run.pid,
                         "host": run.host, "log": run.log, "sandbox": run.sandbox,
                         "state": "running" if run.alive else "interrupted"}
                        for run in self.running],
            "iterations": self.iterations,
            "last_log": self.last_log,
            "agent_error": {"at": self.agent_error[0], "message": self.agent_error[1],
                            "log": self.agent_error[2]} if self.agent_error else None,
        }


def _last_log(paths: RalphPaths, state: LabelState, members: tuple[str, ...]) -> str | None:
    """The label's own latest session log: the one its state remembers, else the newest
    log of one of its issues (state written before Ralph remembered logs)."""

    remembered = state.extra.get("last_log")
    if isinstance(remembered, str) and (paths.workspace / remembered).is_file():
        return remembered
    mine = set(members)
    logs = [path for path in list_logs(paths) if path.name.rsplit("-", 2)[0] in mine]
    return paths.in_workspace(logs[-1]) if logs else None


async def label_status(paths: RalphPaths, store: TaskStore, label: str) -> LabelStatus:
    state = read_label_state(paths, label)
    issues = await store.list_issues()
    scope = LabelScope.build(issues, label, state.epic)
    work = scope.work()
    by_status: dict[str, int] = {}
    for issue in work:
        by_status[issue.status] = by_status.get(issue.status, 0) + 1
    spec_path = paths.workspace / state.spec
    spec = read_spec(spec_path, paths.workspace) if spec_path.is_file() else None
    index = read_index(catalog.specs_dir(paths.workspace))
    entry = index.entry(state.spec_name) if index is not None else None
    ready = scope.ready()
    epic = scope.by_id.get(scope.epic) if scope.epic else None
    running = tuple(RunningView(run.issue, run.started_at, run.pid, run.host, run.log,
                                run.sandbox, is_held(paths.issue_lock(run.issue)))
                    for run in state.running.values())
    return LabelStatus(
        label=label, current=current_label(paths) == label, spec=state.spec,
        spec_exists=spec is not None, spec_title=spec.title if spec else None,
        spec_state=entry.state if entry is not None else None,
        criteria=(spec.criteria_done, spec.criteria_total) if spec else (0, 0),
        epic=scope.epic, epic_status=epic.status if epic else None,
        by_status=dict(sorted(by_status.items())), total=len(work),
        closed=by_status.get("closed", 0), ready=tuple(issue.id for issue in ready),
        next=IssueRef.of(ready[0]) if ready else None,
        awaiting_review=len([issue for issue in scope.open_work()
                             if PROPOSED_LABEL in issue.labels]),
        clarify=tuple((issue.id, latest_paragraph(issue.notes) or issue.title)
                      for issue in scope.clarify()),
        blocked=len(scope.blocked()), running=running,
        iterations={key: value for key, value in state.iterations.items()},
        last_log=_last_log(paths, state, scope.member_ids),
        agent_error=_agent_error(state.extra.get("agent_error")))


def _agent_error(value: Any) -> tuple[str, str, str] | None:
    if not isinstance(value, dict) or not isinstance(value.get("message"), str):
        return None
    return (str(value.get("at") or ""), value["message"], str(value.get("log") or ""))
