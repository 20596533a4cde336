"""The issue store backed by the ``bd`` command line (used when bd runs the workspace).

Every call passes ``--json`` and a timeout (through :func:`wrapix_core.proc.run`), and
user text always travels as ``--flag=value`` argv items, so a title that starts with a dash
is never taken for an option. The output is read with :mod:`.bd_json` into the same
:class:`Issue` model the JSONL store produces. Readiness is computed here from the full
list with the one rule (:mod:`.readiness`), not taken from ``bd ready``, so both stores
agree and the ``ralph:clarify``/``ralph:proposed`` labels count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from wrapix_core import proc
from wrapix_core.errors import WrapixError
from wrapix_core.tasks.bd_json import decode_output, issues_from_bd
from wrapix_core.tasks.model import DEFAULT_DEPENDENCY_TYPE, Issue
from wrapix_core.tasks.store import IssueNotFound, IssueUpdate, NewIssue, TaskStore, check_type

_SHOW_BATCH = 50


class BdStore(TaskStore):
    """Issues through ``bd … --json`` in ``workspace``."""

    kind: Literal["bd", "jsonl"] = "bd"

    def __init__(self, workspace: Path, *, bd: str = "bd", timeout: float = 30.0) -> None:
        self.workspace = workspace
        self.bd = bd
        self.timeout = timeout

    async def _json(self, *args: str, subject: str | None = None) -> Any:
        """Run ``bd ARGS --json`` and decode its output. A ``--`` in ``args`` ends the
        options (``--json`` goes before it). ``subject``: the issue id a "not found"
        failure is about."""
        split = args.index("--") if "--" in args else len(args)
        argv = [self.bd, *args[:split], "--json", *args[split:]]
        try:
            done = await proc.run(argv, timeout=self.timeout, cwd=self.workspace)
        except proc.CommandFailed as failed:
            if subject is not None and "not found" in (failed.stderr + failed.stdout).lower():
                raise IssueNotFound(subject, f"bd workspace {self.workspace}") from None
            raise
        try:
            return decode_output(done.stdout)
        except ValueError as exc:
            raise WrapixError(f"`{proc.describe(argv)}` printed something that is not JSON "
                              f"({exc})", "check that this bd supports --json (bd ≥ 0.20)",
                              exit_code=1) from None

    async def list_issues(self) -> list[Issue]:
        issues = issues_from_bd(await self._json("list", "--all", "--limit", "0"))
        # Through bd's daemon, list may omit dependency records: fetch those from show.
        lacking = [issue.id for issue in issues
                   if issue.get("dependencies") is None and issue.get("dependency_count")]
        if lacking:
            detailed: dict[str, Issue] = {}
            for start in range(0, len(lacking), _SHOW_BATCH):
                batch = lacking[start:start + _SHOW_BATCH]
                for issue in issues_from_bd(await self._json("show", *batch)):
                    detailed[issue.id] = issue
            issues = [detailed.get(issue.id, issue) for issue in issues]
        return issues

    async def show(self, issue_id: str) -> Issue:
        found = issues_from_bd(await self._json("show", issue_id, subject=issue_id))
        for issue in found:
            if issue.id == issue_id:
                return issue
        raise IssueNotFound(issue_id, f"bd workspace {self.workspace}")

    async def create(self, new: NewIssue) -> Issue:
        args = ["create", f"--title={new.title}", f"--type={new.issue_type}",
                f"--priority={new.priority}"]
        for flag, value in (("--description", new.description), ("--design", new.design),
                            ("--acceptance", new.acceptance_criteria),
                            ("--assignee", new.assignee), ("--parent", new.parent or "")):
            if value:
                args.append(f"{flag}={value}")
        if new.labels:
            args.append("--labels=" + ",".join(new.labels))
        if new.deps:
            args.append("--deps=" + ",".join(f"{kind}:{target}" for kind, target in new.deps))
        created = issues_from_bd(await self._json(*args))
        if not created:
            raise WrapixError("`bd create` printed no issue", exit_code=1)
        issue_id = created[0].id
        if new.notes:
            return await self.update(issue_id, IssueUpdate(notes=new.notes))
        return await self.show(issue_id)

    async def update(self, issue_id: str, change: IssueUpdate) -> Issue:
        args = ["update", issue_id]
        for flag, value in (("--status", change.status), ("--title", change.title),
                            ("--description", change.description),
                            ("--assignee", change.assignee)):
            if value is not None:
                args.append(f"{flag}={value}")
        if change.priority is not None:
            args.append(f"--priority={change.priority}")
        notes = change.notes
        if change.append_notes:
            current = notes if notes is not None else (await self.show(issue_id)).notes
            notes = f"{current}\n\n{change.append_notes}" if current else change.append_notes
        if notes is not None:
            args.append(f"--notes={notes}")
        if len(args) > 2:
            await self._json(*args, subject=issue_id)
        for label in change.add_labels:
            await self._json("label", "add", "--", issue_id, label, subject=issue_id)
        for label in change.remove_labels:
            await self._json("label", "remove", "--", issue_id, label, subject=issue_id)
        return await self.show(issue_id)

    async def close(self, issue_id: str, reason: str | None = None) -> Issue:
        args = ["close", issue_id]
        if reason:
            args.append(f"--reason={reason}")
        await self._json(*args, subject=issue_id)
        return await self.show(issue_id)

    async def add_dependency(self, issue_id: str, depends_on_id: str,
                             dep_type: str = DEFAULT_DEPENDENCY_TYPE) -> Issue:
        check_type(dep_type, "dependency type")
        await self._json("dep", "add", f"--type={dep_type}", "--", issue_id, depends_on_id,
                         subject=issue_id)
        return await self.show(issue_id)
