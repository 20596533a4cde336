"""Session figures in the sandbox rows, kept live from the sessions core's watch hook.

One :func:`~wrapix_core.sessions.watch.watch_stats` stream per project that has a sandbox
on one of its sessions (inotify over the sessions' work trees and repositories and the
project's refs; git is run only for a session that changed, in a thread): nothing is
polled. Started when a listing first shows such a project; it runs until the app ends.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wrapix_tui.widgets.sandboxes import SandboxesPane

log = logging.getLogger("wrapix.tui.sessions")


def watch_sessions(pane: SandboxesPane) -> None:
    """Start a watch for each project with a session sandbox that has none yet."""
    state = pane.state
    for project in state.session_projects() - state.watched_projects:
        state.watched_projects.add(project)
        pane.run_worker(_watch(pane, project), group="sessions.watch",
                        name=f"sessions of {project}", exit_on_error=False)


async def _watch(pane: SandboxesPane, project: str) -> None:
    from wrapix_core.errors import WrapixError
    from wrapix_core.sessions.watch import watch_stats

    try:
        async for update in watch_stats(Path(project)):
            if pane.state.set_session(project, update.name, update.stats):
                pane.render_rows()
    except (WrapixError, OSError) as exc:
        log.warning("watching the sessions of %s failed: %s", project, exc)
    except Exception:  # the rows stay as they are; the next listing tries again
        log.exception("watching the sessions of %s failed", project)
    pane.state.watched_projects.discard(project)
