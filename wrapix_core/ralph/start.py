"""``ralph start`` and ``ralph use``: a label's state, the Ralph directory, the spec index.

``start`` never overwrites: each file it would create is left as it is when it exists
(state, config, templates, ``specs/README.md``). It makes the label current, creates
``.beads/`` for the built-in issue store when the workspace has no store yet, and lists
the spec in ``specs/README.md`` (creating the file when missing, else adding a row to its
index table when the spec is not there yet).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.ralph import templates
from wrapix_core.ralph.errors import NotStarted
from wrapix_core.ralph.state import (
    CONFIG_TEMPLATE,
    LabelState,
    RalphPaths,
    check_label,
    known_labels,
    set_current,
    write_label_state,
)
from wrapix_core.specs import catalog
from wrapix_core.specs.index import INDEX_FILE, read_index
from wrapix_core.tasks import timestamps
from wrapix_core.tasks.workspace import beads_dir, init_workspace, is_bd_workspace

GITIGNORE = "# Ralph: logs and lock files are local\nlogs/\nstate/locks/\n"
_WORDS = ("amber", "brisk", "cedar", "delta", "ember", "fable", "grove", "harbor", "iris",
          "juniper", "kestrel", "lumen", "maple", "nova", "onyx", "pine", "quill", "river",
          "sage", "tide", "umber", "vale", "willow", "yarrow", "zephyr")


@dataclass
class StartResult:
    label: str
    spec_path: str
    created: list[str] = field(default_factory=list)
    """Files and directories this start created (relative to the workspace)."""
    notes: list[str] = field(default_factory=list)


def random_label() -> str:
    return f"{secrets.choice(_WORDS)}-{secrets.token_hex(2)}"


def _readme_text(label: str) -> str:
    return (
        "# Project Specifications\n\n"
        "| Spec | Code | Purpose |\n"
        "|------|------|---------|\n"
        f"| [{label}.md](./{label}.md) | — | WIP: planned with `ralph plan` |\n\n"
        "## Terminology Index\n\n"
        "| Term | Definition |\n"
        "|------|------------|\n"
    )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _index_table(lines: list[str]) -> tuple[int, int] | None:
    """(header line, end line) of the spec index table in README lines, or None."""
    header = None
    for number, line in enumerate(lines):
        if line.lstrip().startswith("|") and "spec" in [cell.lower() for cell in _cells(line)]:
            header = number
            break
    if header is None or header + 1 >= len(lines) \
            or not re.match(r"^\s*\|?\s*:?-", lines[header + 1]):
        return None
    end = header + 2
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        end += 1
    return header, end


def _add_index_row(workspace: Path, readme: Path, label: str) -> str | None:
    """Add the spec's row to the index table; returns a note when it could not."""
    text = workspace_fs.read_text(workspace, readme, errors="replace")
    lines = text.splitlines(keepends=True)
    table = _index_table(lines)
    if table is None:
        return (f"{readme} has no spec index table: add a row for {label}.md yourself "
                "(the plan interview does too)")
    header, end = table
    columns = [cell.lower() for cell in _cells(lines[header])]
    values = {"spec": f"[{label}.md](./{label}.md)", "code": "—",
              "purpose": "WIP: planned with `ralph plan`", "status": "WIP", "beads": "—"}
    row = "| " + " | ".join(values.get(column, "") for column in columns) + " |\n"
    if end > 0 and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, row)
    workspace_fs.write_atomic(workspace, readme, "".join(lines).encode())
    return None


_DONE = "Done"
_MARK = re.compile(r"^\W*(WIP|REVIEW|DONE)\b\W*", re.IGNORECASE)


def mark_spec_done(workspace: Path, spec_name: str) -> str:
    """Mark ``spec_name``'s row of ``specs/README.md`` done: its ``Status`` cell becomes
    ``Done``, or without that column its Purpose's ``WIP:``/``REVIEW:`` marker becomes
    ``Done:``. Returns what happened, for a note.

    The README is in the workspace, where agents write: neither ``specs/`` nor the README
    may be a symlink, it is read without following one and replaced atomically.
    """
    specs_dir = catalog.specs_dir(workspace)
    readme = specs_dir / INDEX_FILE
    where = f"{catalog.SPECS_DIR}/{INDEX_FILE}"
    try:
        found = workspace_fs.kind(workspace, readme)
        if found == "missing":
            return f"{where} does not exist: no row to mark done"
        if found != "file":
            what = "a symbolic link" if found == "link" else "not a regular file"
            return f"{where} was not marked done: {INDEX_FILE} is {what}"
        text = workspace_fs.read_text(workspace, readme, errors="replace")
    except (WrapixError, OSError) as exc:
        return f"{where} was not marked done: {exc}"
    lines = text.splitlines(keepends=True)
    table = _index_table(lines)
    if table is None:
        return f"{where} has no spec index table: mark {spec_name}.md done yourself"
    header, end = table
    columns = [cell.lower() for cell in _cells(lines[header])]
    spec_column = columns.index("spec")
    name = re.compile(rf"(?<![\w.-]){re.escape(spec_name)}(?:\.md)?(?![\w-])")
    for number in range(header + 2, end):
        cells = _cells(lines[number])
        if spec_column >= len(cells) or not name.search(cells[spec_column]):
            continue
        if "status" in columns and columns.index("status") < len(cells):
            at = columns.index("status")
            if cells[at].strip("*_ ").lower() == "done":
                return f"{spec_name}.md is already marked done in {where}"
            cells[at] = _DONE
        elif "purpose" in columns and columns.index("purpose") < len(cells):
            at = columns.index("purpose")
            marker = _MARK.match(cells[at])
            if marker is not None and marker.group(1).upper() == "DONE":
                return f"{spec_name}.md is already marked done in {where}"
            rest = cells[at][marker.end():] if marker is not None else cells[at]
            cells[at] = f"{_DONE}: {rest}".rstrip()
        else:
            return f"{where} has no Status or Purpose column: mark {spec_name}.md done yourself"
        ending = "\n" if lines[number].endswith("\n") else ""
        lines[number] = "| " + " | ".join(cells) + " |" + ending
        try:
            workspace_fs.write_atomic(workspace, readme, "".join(lines).encode(), mode=None)
        except (WrapixError, OSError) as exc:
            return f"{where} was not marked done: {exc}"
        return f"marked {spec_name}.md done in {where}"
    return f"{where} has no row for {spec_name}.md: nothing marked done"


def _index_lists(specs_dir: Path, label: str) -> bool:
    index = read_index(specs_dir)
    return index is not None and index.entry(label) is not None


def start(paths: RalphPaths, label: str | None = None) -> StartResult:
    """Create what ``label`` needs (random label when None) and make it current."""
    chosen = check_label(label) if label else random_label()
    workspace = paths.workspace
    spec_rel = f"{catalog.SPECS_DIR}/{chosen}.md"
    result = StartResult(chosen, spec_rel)

    def made(path: Path) -> None:
        result.created.append(paths.in_workspace(path))

    for directory in (paths.root, paths.state_dir, paths.logs, paths.templates):
        if paths.kind(directory) == "missing":
            paths.makedirs(directory)
            made(directory)
        else:
            paths.makedirs(directory)  # a link there is refused
    if paths.kind(paths.config) == "missing":
        paths.write_text(paths.config, CONFIG_TEMPLATE)
        made(paths.config)
    ignore = paths.root / ".gitignore"
    if paths.kind(ignore) == "missing":
        paths.write_text(ignore, GITIGNORE)
    for path in templates.install(paths):
        made(path)
    state_file = paths.label_file(chosen)
    if paths.kind(state_file) == "missing":
        write_label_state(paths, LabelState(chosen, spec_rel, created_at=timestamps.now()))
        made(state_file)
    else:
        result.notes.append(f"{paths.in_workspace(state_file)} exists: kept as it is")
    set_current(paths, chosen)

    specs_dir = catalog.specs_dir(workspace)
    if not workspace_fs.is_real_dir(workspace, specs_dir):  # a link: refused
        workspace_fs.makedirs(workspace, specs_dir)
        made(specs_dir)
    readme = specs_dir / INDEX_FILE
    if workspace_fs.kind(workspace, readme) == "missing":
        workspace_fs.write_atomic(workspace, readme, _readme_text(chosen).encode())
        made(readme)
    elif not _index_lists(specs_dir, chosen):
        note = _add_index_row(workspace, readme, chosen)
        if note:
            result.notes.append(note)
        else:
            result.notes.append(f"added {chosen}.md to {paths.in_workspace(readme)}")
    if not beads_dir(workspace).exists() and not is_bd_workspace(workspace):
        made(init_workspace(workspace))
    return result


def use(paths: RalphPaths, label: str) -> str:
    """Make ``label`` current; it must have been started."""
    check_label(label)
    if paths.kind(paths.label_file(label)) == "missing":
        others = known_labels(paths)
        raise NotStarted(f"label '{label}' has no Ralph state ({paths.label_file(label)})",
                         f"start it with `ralph start {label}`"
                         + (f"; started labels: {', '.join(others)}" if others else ""))
    set_current(paths, label)
    return label
