"""bd's ``--json`` shapes, both ways: reading what ``bd`` prints, printing what it would.

From bd's source (``internal/types``, ``cmd/bd``): ``list``/``ready`` print an array of
issues with ``dependency_count``/``dependent_count`` (and labels and dependency records);
``show`` prints an array of "details": the issue plus ``dependencies`` and ``dependents``
given as whole issues carrying a ``dependency_type``, and ``parent``; ``create`` prints one
issue object; ``update``/``close`` print arrays. ``wrapix tasks`` prints the same shapes so
an agent used to bd needs no other instructions, and :class:`BdStore` reads them back into
the one :class:`Issue` model (dependency records ``{issue_id, depends_on_id, type}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from wrapix_core.tasks.model import Issue, issue_from_json

_EMBEDDED_DROP = ("dependencies", "dependents", "labels", "comments", "dependency_count",
                  "dependent_count", "comment_count", "parent")


def decode_output(text: str) -> Any:
    """The JSON value bd printed; tolerates notices printed before it. Raises ValueError."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("no output")
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for start, char in enumerate(stripped):
        if char in "[{" and (start == 0 or stripped[start - 1] == "\n"):
            try:
                return decoder.raw_decode(stripped, start)[0]
            except ValueError:
                continue
    raise ValueError(f"not JSON: {stripped[:80]!r}")


def _records(owner: str, entries: list[Any]) -> list[Any]:
    """Dependency entries as records; ``show``'s embedded issues become records too."""
    records: list[Any] = []
    for entry in entries:
        if isinstance(entry, dict) and "depends_on_id" not in entry and "id" in entry:
            records.append({"issue_id": owner, "depends_on_id": entry["id"],
                            "type": entry.get("dependency_type") or "blocks"})
        else:
            records.append(entry)
    return records


def issue_from_bd(value: Any) -> Issue | None:
    """An Issue from one element of bd's output (any command), or None if it is not one."""
    issue = issue_from_json(value)
    if issue is None:
        return None
    deps = issue.get("dependencies")
    if isinstance(deps, list) and any(isinstance(entry, dict) and "depends_on_id" not in entry
                                      for entry in deps):
        data = dict(issue.data)
        data["dependencies"] = _records(issue.id, deps)
        return Issue(data)
    return issue


def issues_from_bd(value: Any) -> list[Issue]:
    """Issues from bd output that is an array of issues or a single issue object."""
    items = value if isinstance(value, list) else [value]
    found = (issue_from_bd(item) for item in items)
    return [issue for issue in found if issue is not None]


def reverse_dependencies(issues: Iterable[Issue]) -> dict[str, list[tuple[str, str]]]:
    """For each id, the ``(dependent id, type)`` pairs of issues that depend on it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for issue in issues:
        for dep in issue.dependencies:
            found.setdefault(dep.depends_on_id, []).append((issue.id, dep.type))
    return found


def list_entry(issue: Issue, dependent_count: int) -> dict[str, Any]:
    """One element of ``bd list --json`` / ``bd ready --json``."""
    data = dict(issue.data)
    data["dependency_count"] = len(issue.dependencies)
    data["dependent_count"] = dependent_count
    return data


def _embedded(issue: Issue | None, issue_id: str, dep_type: str) -> dict[str, Any]:
    if issue is None:
        return {"id": issue_id, "dependency_type": dep_type}
    data = {key: value for key, value in issue.data.items() if key not in _EMBEDDED_DROP}
    data["dependency_type"] = dep_type
    return data


def show_entry(issue: Issue, by_id: Mapping[str, Issue],
               dependents: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """One element of ``bd show --json``: the issue with its neighbours embedded."""
    data = {key: value for key, value in issue.data.items() if key != "dependencies"}
    if issue.dependencies:
        data["dependencies"] = [_embedded(by_id.get(dep.depends_on_id), dep.depends_on_id,
                                          dep.type) for dep in issue.dependencies]
    dependent_list = [_embedded(by_id.get(other), other, kind) for other, kind in dependents]
    if dependent_list:
        data["dependents"] = dependent_list
    parent = next(issue.parents(), None)
    if parent is not None:
        data["parent"] = parent
    return data


def dep_added(issue_id: str, depends_on_id: str, dep_type: str) -> dict[str, Any]:
    """``bd dep add --json``."""
    return {"status": "added", "issue_id": issue_id, "depends_on_id": depends_on_id,
            "type": dep_type}


def label_changed(action: str, issue_id: str, label: str) -> dict[str, Any]:
    """One element of ``bd label add|remove --json``."""
    return {"status": action, "issue_id": issue_id, "label": label}

