"""The prompts: this project's own templates, the project's copies, strict rendering.

The defaults are package data (``wrapix_core/ralph/templates/*.md``); ``ralph start``
copies them into ``.wrapix/ralph/templates/`` so ``ralph tune`` edits a project copy.
A project copy, when present, wins.

Placeholders are ``{{NAME}}``. Rendering is strict: an unknown name, a name the phase
has no value for (``{{ISSUE_ID}}`` in the plan prompt) or anything else between ``{{``
and ``}}`` is an error naming the template and line, and so is a prompt over
:data:`MAX_PROMPT_BYTES`. Values are substituted in one pass, so text inside a value
(an issue title containing ``{{LABEL}}``) is never expanded. Prompts reference files by
path (the spec, ``specs/README.md``, logs) instead of inlining them; only the issue's
own description is inlined, cut to :data:`MAX_DESCRIPTION` characters with a pointer to
the full text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from wrapix_core.ralph.errors import TemplateError
from wrapix_core.ralph.state import RalphPaths

PHASES = ("plan", "ready", "step", "check")
MAX_PROMPT_BYTES = 64 * 1024
MAX_DESCRIPTION = 24_000

COMMON_KEYS = ("LABEL", "SPEC_NAME", "SPEC_PATH", "SPEC_TITLE", "PINNED_CONTEXT", "TASKS")
PHASE_KEYS: dict[str, tuple[str, ...]] = {
    "plan": COMMON_KEYS,
    "ready": (*COMMON_KEYS, "ISSUE_LABELS", "EXISTING_WORK"),
    "step": (*COMMON_KEYS, "ISSUE_ID", "TITLE", "DESCRIPTION", "PRIORITY",
             "PREVIOUS_ATTEMPT"),
    "check": (*COMMON_KEYS, "ISSUE_LABELS", "FIXUP_PARENT", "CHANGES", "ROUND"),
}
ALL_KEYS = frozenset(key for keys in PHASE_KEYS.values() for key in keys)
SIGNAL_OF_PHASE = {"plan": "INTERVIEW_COMPLETE", "ready": "READY_COMPLETE",
                   "step": "WORK_COMPLETE", "check": "CHECK_COMPLETE"}
PLACEHOLDER_HELP = {
    "LABEL": "the Ralph label (issues carry rl-LABEL)",
    "SPEC_NAME": "the spec's name (its file name without .md)",
    "SPEC_PATH": "the spec's path in the workspace, e.g. specs/demo.md",
    "SPEC_TITLE": "the spec's title (its first heading)",
    "PINNED_CONTEXT": "a pointer to specs/README.md (the index and terminology), when present",
    "TASKS": "the task command: `bd`, or `wrapix tasks` when bd is not used",
    "ISSUE_LABELS": "labels for the issues `ready` creates (rl-LABEL, plus ralph:proposed "
                    "when they go to review)",
    "EXISTING_WORK": "what already exists for this label (epic and issues) and how the spec "
                     "changed since the last `ralph ready` (a diff), or nothing",
    "ISSUE_ID": "the issue's id",
    "TITLE": "the issue's title",
    "DESCRIPTION": "the issue's description",
    "PRIORITY": "the issue's priority, 0 (critical) to 4 (backlog)",
    "PREVIOUS_ATTEMPT": "on a retry: why the previous attempt failed and its log; else nothing",
    "FIXUP_PARENT": "`--parent EPIC` for fix-up issues when the label has an epic, else nothing",
    "CHANGES": "how to see what the loop changed: git commands from the commit before the "
               "label's first step (or a note that none was recorded)",
    "ROUND": "which check this is (1 for the first `ralph check` of the label)",
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"\s*([A-Z][A-Z0-9_]*)\s*")


@dataclass(frozen=True)
class Template:
    phase: str
    text: str
    origin: str
    """Where the text came from: the project copy's path, or ``package:NAME.md``."""


def _check_phase(phase: str) -> str:
    if phase not in PHASES:
        raise TemplateError(f"no template for phase {phase!r}",
                            f"phases are {', '.join(PHASES)}")
    return phase


def package_text(phase: str) -> str:
    """The default template shipped with wrapix."""
    source = resources.files("wrapix_core.ralph").joinpath("templates", f"{phase}.md")
    return source.read_text(encoding="utf-8")


def project_path(paths: RalphPaths, phase: str) -> Path:
    return paths.templates / f"{_check_phase(phase)}.md"


def load(paths: RalphPaths | None, phase: str) -> Template:
    """The project's copy of the phase's template when there is one, else the default."""
    _check_phase(phase)
    if paths is not None:
        path = project_path(paths, phase)
        try:
            return Template(phase, paths.read_text(path), str(path))
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{path}: cannot read ({exc})",
                                f"fix it, or delete it to use the default {phase} prompt") \
                from None
    return Template(phase, package_text(phase), f"package:{phase}.md")


def install(paths: RalphPaths) -> list[Path]:
    """Copy the default templates the project does not have yet; returns those written."""
    written: list[Path] = []
    for phase in PHASES:
        path = project_path(paths, phase)
        if paths.kind(path) == "missing":
            paths.write_text(path, package_text(phase))
            written.append(path)
    return written


def problems(template: Template, values: Mapping[str, str] | None = None) -> list[str]:
    """Everything wrong with ``template`` for its phase (empty when it renders).

    ``values`` (when given) must hold every placeholder the template uses.
    """
    found: list[str] = []
    allowed = PHASE_KEYS[template.phase]
    for number, line in enumerate(template.text.splitlines(), start=1):
        for match in _PLACEHOLDER.finditer(line):
            where = f"{template.origin} line {number}"
            named = _NAME.fullmatch(match.group(1))
            if named is None:
                found.append(f"{where}: {match.group(0)!r} is not a placeholder (names are "
                             "{{UPPER_CASE}})")
                continue
            name = named.group(1)
            if name not in ALL_KEYS:
                found.append(f"{where}: unknown placeholder {{{{{name}}}}} (known: "
                             f"{', '.join(sorted(allowed))})")
            elif name not in allowed:
                found.append(f"{where}: {{{{{name}}}}} has no value in the {template.phase} "
                             f"phase (it has: {', '.join(allowed)})")
            elif values is not None and name not in values:
                found.append(f"{where}: no value was given for {{{{{name}}}}}")
    signal = SIGNAL_OF_PHASE[template.phase]
    if signal not in template.text:
        found.append(f"{template.origin}: never mentions {signal}, so the agent would not "
                     "know how to say it is done")
    return found


def render(template: Template, values: Mapping[str, str]) -> str:
    """The prompt, or :class:`TemplateError` listing every problem."""
    wrong = problems(template, values)
    if wrong:
        raise TemplateError(f"the {template.phase} prompt cannot be rendered: "
                            + "; ".join(wrong),
                            f"fix it with `ralph tune {template.phase}` (or `ralph "
                            "check-templates`)")

    def value(match: re.Match[str]) -> str:
        named = _NAME.fullmatch(match.group(1))
        assert named is not None  # checked above
        return values[named.group(1)]

    text = _PLACEHOLDER.sub(value, template.text)
    size = len(text.encode("utf-8"))
    if size > MAX_PROMPT_BYTES:
        raise TemplateError(f"the {template.phase} prompt is {size} bytes; at most "
                            f"{MAX_PROMPT_BYTES}",
                            "shorten the template (it should reference files by path rather "
                            "than include them)")
    return text


def cut_description(text: str, show_command: str) -> str:
    """An issue description fit for a prompt: cut past :data:`MAX_DESCRIPTION` characters,
    saying where the whole text is."""
    text = text.strip() or "(no description)"
    if len(text) <= MAX_DESCRIPTION:
        return text
    return (text[:MAX_DESCRIPTION].rstrip()
            + f"\n\n[… cut here: {len(text) - MAX_DESCRIPTION} more characters; read the "
              f"whole issue with `{show_command}`]")


def sample_values(phase: str) -> dict[str, str]:
    """Values for every placeholder of ``phase`` (``ralph check-templates``, ``tune``)."""
    values = {
        "LABEL": "demo",
        "SPEC_NAME": "demo",
        "SPEC_PATH": "specs/demo.md",
        "SPEC_TITLE": "Demo feature",
        "PINNED_CONTEXT": "Read `specs/README.md` first: the spec index and terminology.",
        "TASKS": "wrapix tasks",
        "ISSUE_LABELS": "rl-demo,ralph:proposed",
        "EXISTING_WORK": "",
        "ISSUE_ID": "demo-a1b2",
        "TITLE": "Sample issue",
        "DESCRIPTION": "A sample description.",
        "PRIORITY": "2",
        "PREVIOUS_ATTEMPT": "",
        "FIXUP_PARENT": "--parent demo-e1f2",
        "CHANGES": "`git log --oneline 0123abc..HEAD` and `git diff 0123abc`",
        "ROUND": "1",
    }
    return {key: values[key] for key in PHASE_KEYS[_check_phase(phase)]}
