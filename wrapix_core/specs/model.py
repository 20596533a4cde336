"""What a spec and the ``specs/README.md`` index say, as plain frozen data.

Produced by :mod:`.parser` and :mod:`.index`, consumed by the board, ``ralph spec`` and the
Ralph engine. Every model carries ``problems``: things that were wrong with the input
(unreadable, invalid UTF-8, no title, ...). A parser never raises; it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

AnnotationKind = Literal["verify", "judge"]
SpecState = Literal["WIP", "REVIEW"]


@dataclass(frozen=True)
class Annotation:
    """A ``[verify](path#fn)`` or ``[judge](path#fn)`` link on a success criterion.

    ``function`` is None when the link names only a file. ``legacy`` marks the older
    ``path::fn`` form.
    """

    kind: AnnotationKind
    path: str
    function: str | None
    legacy: bool = False

    @property
    def target(self) -> str:
        if self.function is None:
            return self.path
        return f"{self.path}::{self.function}" if self.legacy else f"{self.path}#{self.function}"


@dataclass(frozen=True)
class Criterion:
    """One ``- [ ]``/``- [x]`` item under Success Criteria (``line`` is 1-based)."""

    text: str
    done: bool
    annotations: tuple[Annotation, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    line: int | None = None


@dataclass(frozen=True)
class Requirement:
    """A list item under Requirements; ``group`` is its subsection (e.g. Functional)."""

    text: str
    group: str | None = None


@dataclass(frozen=True)
class AffectedFile:
    path: str
    role: str


@dataclass(frozen=True)
class AnnotationCounts:
    verify: int = 0
    judge: int = 0
    unannotated: int = 0


@dataclass(frozen=True)
class FileStamp:
    """Identity of a file as read: the watcher re-parses a file only when this changes."""

    size: int
    mtime_ns: int
    inode: int = 0


@dataclass(frozen=True)
class Spec:
    """One spec file, parsed."""

    name: str
    """The file name without ``.md`` (also the Ralph label of its feature)."""
    path: Path | None = None
    title: str | None = None
    summary: str | None = None
    sections: tuple[Section, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    affected_files: tuple[AffectedFile, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    stamp: FileStamp | None = field(default=None, compare=False)

    @property
    def file_name(self) -> str:
        return self.path.name if self.path is not None else f"{self.name}.md"

    @property
    def criteria_done(self) -> int:
        return sum(1 for criterion in self.criteria if criterion.done)

    @property
    def criteria_total(self) -> int:
        return len(self.criteria)

    def annotation_counts(self) -> AnnotationCounts:
        """Criteria with a verify link, with a judge link, and with neither."""
        verify = judge = bare = 0
        for criterion in self.criteria:
            kinds = {annotation.kind for annotation in criterion.annotations}
            verify += "verify" in kinds
            judge += "judge" in kinds
            bare += not kinds
        return AnnotationCounts(verify, judge, bare)


@dataclass(frozen=True)
class IndexEntry:
    """One row of the index table in ``specs/README.md``."""

    spec: str
    """Spec name (file name without ``.md``)."""
    file: str
    code: tuple[str, ...] = ()
    epic: str | None = None
    purpose: str = ""
    state: SpecState | None = None


@dataclass(frozen=True)
class Term:
    term: str
    definition: str


@dataclass(frozen=True)
class SpecIndex:
    """``specs/README.md``: the spec table and the terminology table."""

    entries: tuple[IndexEntry, ...] = ()
    terms: tuple[Term, ...] = ()
    problems: tuple[str, ...] = ()
    stamp: FileStamp | None = field(default=None, compare=False)

    def entry(self, spec_name: str) -> IndexEntry | None:
        return next((entry for entry in self.entries if entry.spec == spec_name), None)
