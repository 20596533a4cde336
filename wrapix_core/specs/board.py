"""The Ralph board: every spec joined with its issues, as pure data.

The TUI's board pane and ``ralph board --json`` render this one model. It updates
incrementally: :meth:`Board.replace_spec` re-derives one card from indexes built once per
issue snapshot; :meth:`Board.replace_issues` re-runs the readiness rule (linear) and
re-joins; nothing re-reads files. :meth:`Board.apply` takes a watcher event.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wrapix_core.specs import catalog
from wrapix_core.specs.events import (
    GitRedirection,
    IndexChanged,
    IssuesChanged,
    SpecAdded,
    SpecChanged,
    SpecRemoved,
    WatchEvent,
    WatchProblem,
)
from wrapix_core.specs.index import read_index
from wrapix_core.specs.membership import IssueGroups
from wrapix_core.specs.model import AnnotationCounts, Spec, SpecIndex, SpecState, Term
from wrapix_core.tasks.model import CLARIFY_LABEL, PROPOSED_LABEL, Issue, is_work
from wrapix_core.tasks.readiness import Blocker, Readiness, compute_readiness
from wrapix_core.tasks.store import TaskStore


@dataclass(frozen=True)
class ClarifyItem:
    """An issue waiting for a person's answer; ``question`` is its latest notes paragraph."""

    id: str
    title: str
    question: str


@dataclass(frozen=True)
class BlockedItem:
    id: str
    title: str
    blockers: tuple[Blocker, ...]


@dataclass(frozen=True)
class IssueSummary:
    """Issues of one spec (or of the whole workspace)."""

    total: int = 0
    by_status: Mapping[str, int] = field(default_factory=dict)
    ready: tuple[str, ...] = ()
    """Ready ids in the order Ralph takes them."""
    clarify: tuple[ClarifyItem, ...] = ()
    proposed: int = 0
    blocked: tuple[BlockedItem, ...] = ()
    awaiting_review: int = 0
    """Proposed issues other than epics: what ``ralph review`` walks through."""

    @property
    def closed(self) -> int:
        return self.by_status.get("closed", 0)


@dataclass(frozen=True)
class SpecCard:
    """One spec on the board."""

    name: str
    file: str
    path: Path | None
    title: str | None
    summary: str | None
    criteria_done: int
    criteria_total: int
    annotations: AnnotationCounts
    epic: str | None
    state: SpecState | None
    purpose: str
    present: bool
    """False for an index row whose spec file does not exist."""
    problems: tuple[str, ...]
    issues: IssueSummary


def _question(notes: str) -> str:
    paragraphs = [part.strip() for part in notes.split("\n\n") if part.strip()]
    return paragraphs[-1] if paragraphs else ""


def summarize(ids: Iterable[str], readiness: Readiness) -> IssueSummary:
    """Counts, ready queue (work only, in Ralph's order), clarify questions, proposals
    and blockers of ``ids``."""
    by_id = readiness.by_id
    members = [by_id[issue_id] for issue_id in ids if issue_id in by_id]
    wanted = {issue.id for issue in members}
    statuses = Counter(issue.status for issue in members)
    clarify: list[ClarifyItem] = []
    blocked: list[BlockedItem] = []
    proposed = awaiting = 0
    for issue in members:
        if issue.is_closed:
            continue
        if CLARIFY_LABEL in issue.labels:
            clarify.append(ClarifyItem(issue.id, issue.title, _question(issue.notes)))
        if PROPOSED_LABEL in issue.labels:
            proposed += 1
            if issue.issue_type != "epic":
                awaiting += 1
        if readiness.is_blocked(issue.id):
            blocked.append(BlockedItem(issue.id, issue.title, readiness.blockers(issue.id)))
    ready = tuple(issue_id for issue_id in readiness.ready_ids
                  if issue_id in wanted and is_work(by_id[issue_id]))
    return IssueSummary(len(members), dict(sorted(statuses.items())), ready, tuple(clarify),
                        proposed, tuple(blocked), awaiting)


@dataclass(frozen=True)
class BoardInputs:
    """What a board is derived from, with the indexes built once per issue snapshot."""

    specs: Mapping[str, Spec]
    index: SpecIndex | None
    issues: tuple[Issue, ...]
    readiness: Readiness
    groups: IssueGroups
    epics: Mapping[str, str]
    issue_problems: tuple[str, ...]


def _epic(name: str, inputs: BoardInputs) -> str | None:
    if name in inputs.epics:
        return inputs.epics[name]
    entry = inputs.index.entry(name) if inputs.index is not None else None
    if entry is not None and entry.epic:
        return entry.epic
    for issue_id in inputs.groups.labelled(name):
        issue = inputs.readiness.by_id.get(issue_id)
        if issue is not None and issue.issue_type == "epic":
            return issue_id
    return None


def _card(name: str, inputs: BoardInputs) -> SpecCard:
    spec = inputs.specs.get(name)
    entry = inputs.index.entry(name) if inputs.index is not None else None
    epic = _epic(name, inputs)
    summary = summarize(inputs.groups.members(name, epic), inputs.readiness)
    problems = list(spec.problems) if spec is not None else ["spec file is missing"]
    if epic is not None and epic not in inputs.readiness.by_id:
        problems.append(f"epic {epic} is not among the issues")
    return SpecCard(
        name=name,
        file=spec.file_name if spec is not None else (entry.file if entry else f"{name}.md"),
        path=spec.path if spec is not None else None,
        title=spec.title if spec is not None else None,
        summary=spec.summary if spec is not None else None,
        criteria_done=spec.criteria_done if spec is not None else 0,
        criteria_total=spec.criteria_total if spec is not None else 0,
        annotations=spec.annotation_counts() if spec is not None else AnnotationCounts(),
        epic=epic,
        state=entry.state if entry is not None else None,
        purpose=entry.purpose if entry is not None else "",
        present=spec is not None,
        problems=tuple(problems),
        issues=summary,
    )


def _order(inputs: BoardInputs) -> list[str]:
    """Index order first (as the README lists them), then other spec files by name."""
    names: dict[str, None] = {}
    if inputs.index is not None:
        names.update((entry.spec, None) for entry in inputs.index.entries)
    names.update((name, None) for name in sorted(inputs.specs))
    return list(names)


@dataclass(frozen=True)
class Board:
    """Specs with criteria progress and their issues; the whole workspace's issues."""

    cards: tuple[SpecCard, ...]
    issues: IssueSummary
    terms: tuple[Term, ...]
    problems: tuple[str, ...]
    inputs: BoardInputs = field(repr=False, compare=False)

    # -- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, specs: Mapping[str, Spec], index: SpecIndex | None,
              issues: Sequence[Issue], *, epics: Mapping[str, str] | None = None,
              issue_problems: Sequence[str] = (), now: float | None = None) -> Board:
        """A board from parsed specs, the index and the issues. ``epics`` (spec name to
        epic id, e.g. from Ralph's state) wins over the index's Beads column."""
        snapshot = tuple(issues)
        inputs = BoardInputs(dict(specs), index, snapshot, compute_readiness(snapshot, now),
                             IssueGroups(snapshot), dict(epics or {}), tuple(issue_problems))
        return cls._derive(inputs)

    @classmethod
    def _derive(cls, inputs: BoardInputs, cards: Mapping[str, SpecCard] | None = None,
                issues: IssueSummary | None = None) -> Board:
        """A board from ``inputs``, reusing ``cards`` and the workspace ``issues`` summary
        that are still valid (a spec or README change leaves the issues as they were)."""
        made = dict(cards or {})
        ordered = tuple(made[name] if name in made else _card(name, inputs)
                        for name in _order(inputs))
        problems = list(inputs.issue_problems)
        problems += [f"specs/README.md: {problem}" for problem in
                     (inputs.index.problems if inputs.index is not None else ())]
        problems += [f"{missing.issue_id} depends on {missing.depends_on_id}, which does not "
                     f"exist" for missing in inputs.readiness.missing]
        if issues is None:
            issues = summarize(inputs.readiness.by_id, inputs.readiness)
        return cls(ordered, issues,
                   inputs.index.terms if inputs.index is not None else (),
                   tuple(problems), inputs)

    def _cards_except(self, *names: str) -> dict[str, SpecCard]:
        return {card.name: card for card in self.cards if card.name not in names}

    # -- incremental updates ------------------------------------------------------------
    def replace_spec(self, spec: Spec) -> Board:
        """This board with one spec added or re-parsed (only its card is re-derived)."""
        specs = dict(self.inputs.specs)
        specs[spec.name] = spec
        return self._derive(replace(self.inputs, specs=specs), self._cards_except(spec.name),
                            self.issues)

    def remove_spec(self, name: str) -> Board:
        specs = {key: value for key, value in self.inputs.specs.items() if key != name}
        return self._derive(replace(self.inputs, specs=specs), self._cards_except(name),
                            self.issues)

    def replace_index(self, index: SpecIndex | None) -> Board:
        """New README: epics, states and order may all change, so every card is re-derived
        (from the parsed specs and issue indexes already held)."""
        return self._derive(replace(self.inputs, index=index), issues=self.issues)

    def replace_issues(self, issues: Sequence[Issue], problems: Sequence[str] = (),
                       now: float | None = None) -> Board:
        """New issue snapshot: readiness (linear) and the joins are recomputed."""
        snapshot = tuple(issues)
        return self._derive(replace(self.inputs, issues=snapshot,
                                    readiness=compute_readiness(snapshot, now),
                                    groups=IssueGroups(snapshot),
                                    issue_problems=tuple(problems)))

    def apply(self, event: WatchEvent) -> Board:
        """This board after a watcher event."""
        if isinstance(event, SpecAdded | SpecChanged):
            return self.replace_spec(event.spec)
        if isinstance(event, SpecRemoved):
            return self.remove_spec(event.name)
        if isinstance(event, IndexChanged):
            return self.replace_index(event.index)
        if isinstance(event, IssuesChanged):
            return self.replace_issues(event.issues, event.problems)
        if isinstance(event, WatchProblem | GitRedirection):
            return self
        raise TypeError(f"not a watch event: {event!r}")

    # -- reading --------------------------------------------------------------------------
    def card(self, name: str) -> SpecCard | None:
        return next((card for card in self.cards if card.name == name), None)

    @property
    def readiness(self) -> Readiness:
        return self.inputs.readiness

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready data (``ralph board --json``)."""
        return {
            "specs": [_card_json(card) for card in self.cards],
            "issues": _summary_json(self.issues),
            "terms": [{"term": term.term, "definition": term.definition}
                      for term in self.terms],
            "problems": list(self.problems),
        }


def _summary_json(summary: IssueSummary) -> dict[str, Any]:
    return {
        "total": summary.total,
        "by_status": dict(summary.by_status),
        "ready": list(summary.ready),
        "clarify": [{"id": item.id, "title": item.title, "question": item.question}
                    for item in summary.clarify],
        "proposed": summary.proposed,
        "awaiting_review": summary.awaiting_review,
        "blocked": [{"id": item.id, "title": item.title,
                     "blockers": [{"kind": blocker.kind, "id": blocker.id,
                                   "status": blocker.status} for blocker in item.blockers]}
                    for item in summary.blocked],
    }


def _card_json(card: SpecCard) -> dict[str, Any]:
    return {
        "name": card.name,
        "file": card.file,
        "path": str(card.path) if card.path is not None else None,
        "present": card.present,
        "title": card.title,
        "summary": card.summary,
        "purpose": card.purpose,
        "state": card.state,
        "epic": card.epic,
        "criteria": {"done": card.criteria_done, "total": card.criteria_total},
        "annotations": {"verify": card.annotations.verify, "judge": card.annotations.judge,
                        "unannotated": card.annotations.unannotated},
        "problems": list(card.problems),
        "issues": _summary_json(card.issues),
    }


def _read_specs(workspace: Path) -> tuple[dict[str, Spec], SpecIndex | None]:
    directory = catalog.specs_dir(workspace)
    return catalog.load_specs(directory), read_index(directory)


async def load_board(workspace: Path, store: TaskStore | None = None, *,
                     epics: Mapping[str, str] | None = None) -> Board:
    """Read every spec, the index and the issues of ``workspace`` into a Board.

    Spec parsing runs in a worker thread alongside the issue store read, and building
    the board (readiness over every issue) in one after it: the caller's event loop (the
    TUI's) stays free.
    """
    from wrapix_core.tasks.store import open_store

    chosen = store or open_store(workspace)
    specs_job = asyncio.ensure_future(asyncio.to_thread(_read_specs, workspace))
    try:
        issues, problems = await chosen.list_with_problems()
    except BaseException:
        await asyncio.gather(specs_job, return_exceptions=True)  # leave nothing running
        raise
    specs, index = await specs_job
    return await asyncio.to_thread(Board.build, specs, index, issues, epics=epics,
                                   issue_problems=problems)
