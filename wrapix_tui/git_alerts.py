"""Git redirection in a workspace (a sandbox planted hooks, filters, a redirecting
``.git``…): when to say it, what the banner says, and the inbox record.

Said once per workspace and finding set: again only when what is found changes. A quick
check (the live watcher) cannot clear what only the thorough one (after a sandbox
stopped) finds, such as nested repositories. No Textual here: the app shows the banner.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from wrapix_core.notify.daemon import NotifyDaemon
    from wrapix_tui.messages import GitChecked


class GitReports:
    def __init__(self) -> None:
        self._reported: dict[str, tuple[bool, frozenset[tuple[str, str]]]] = {}
        """Per workspace: whether the check that raised its banner was thorough, and
        what it found."""

    def change(self, message: GitChecked) -> Literal["show", "clear"] | None:
        """What ``message`` changes: a banner to show (again), one to clear, or nothing."""
        workspace, findings = message.workspace, message.findings
        reported = self._reported.get(workspace)
        if not findings:
            if reported is not None and (message.thorough or not reported[0]):
                del self._reported[workspace]
                return "clear"
            return None
        keys = frozenset(finding.key() for finding in findings)
        if reported is not None and reported[1] == keys:
            return None
        self._reported[workspace] = (message.thorough, keys)
        return "show"


def source(workspace: str) -> str:
    """The banner slot of ``workspace``."""
    return f"git {Path(workspace).name}"


def banner(workspace: str, summary: str) -> str:
    from wrapix_core.tasks.display import line

    return line(f"{workspace}: a sandbox planted files that make the host's git run "
                f"commands: {summary}. Do not run git there; `wrapix audit --fix "
                f"{workspace}` moves them aside")


async def record(workspace: str, summary: str, sandbox: str | None,
                 daemon: NotifyDaemon | None) -> None:
    """A security notification in the inbox (through the daemon hosted here, which also
    pops it up, or straight into the inbox file)."""
    from wrapix_core.notify.inbox import InboxStore, NewEntry
    from wrapix_core.notify.protocol import Notification

    notification = Notification(
        title=f"git redirected in {Path(workspace).name}",
        message=f"{workspace}: {summary}. Run `wrapix audit {workspace}` before any git "
                "command there.", sandbox=sandbox, kind="security")
    if daemon is not None and daemon.running:
        await daemon.submit(notification)
    else:
        await asyncio.to_thread(InboxStore().append,
                                [NewEntry(notification, "skipped", "wrapix-tui")])
