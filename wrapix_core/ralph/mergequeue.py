"""One merge at a time: finished sessions land on the label's branch through this queue.

``ralph loop --parallel`` finishes issues in any order; each lands with the sessions'
own merge (:func:`wrapix_core.sessions.merge.merge_session`: computed without a work tree,
refused with the files on a conflict, the user's checkout left exactly as it was). Two
landings at once would race on the branch, so they wait for each other: an asyncio lock
within this loop, and a lock file in Ralph's directory across loops of the workspace.

A session's branch that changed the files wrapix reads on this machine (``wrapix.toml``,
anything under ``.wrapix/``) is never landed unattended (the same rule the one-at-a-time
loop applies to its workspace): a person looks at it first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from wrapix_core.errors import WrapixError
from wrapix_core.ralph.lock import holding
from wrapix_core.ralph.state import RalphPaths
from wrapix_core.sessions.model import MergeResult, Session, Strategy
from wrapix_core.settings import PROJECT_FILE

LAND_TIMEOUT = 600.0
"""Seconds a landing waits for another loop's landing to finish."""
_HOST_READ = (PROJECT_FILE, ".wrapix/")


@dataclass(frozen=True)
class Landing:
    """What became of a finished session: merged, or refused with why and the files."""

    session: Session
    merged: MergeResult | None = None
    refused: str = ""
    files: tuple[str, ...] = ()

    def reason(self) -> str:
        """For the issue's notes: why, the files, and where the work is kept."""
        files = (f" Files: {', '.join(self.files)}." if self.files else "")
        return (f"{self.refused}.{files} The work is kept in session {self.session.name} "
                f"(branch {self.session.branch} in {self.session.path}): see it with "
                f"`wrapix diff {self.session.name}`, land it with `wrapix merge "
                f"{self.session.name}` once resolved, or drop it with `wrapix discard "
                f"{self.session.name}`.")


def host_files_changed(session: Session) -> tuple[str, ...]:
    """Files the session's branch changed that wrapix reads on the host."""
    from wrapix_core.sessions import gitcmd

    done = gitcmd.session(session.path, "diff", "--name-only", "-z", "--no-renames",
                          session.base_commit, f"refs/heads/{session.branch}")
    return tuple(path for path in done.stdout.split("\0")
                 if path and (path == PROJECT_FILE or path.startswith(_HOST_READ[1])))


def _land(session: Session, strategy: Strategy) -> Landing:
    from wrapix_core.sessions.merge import merge_session
    from wrapix_core.sessions.model import MergeRefused

    touched = host_files_changed(session)
    if touched:
        return Landing(session, refused="its branch changes files wrapix reads on this "
                       "machine, which are never landed unattended", files=touched)
    try:
        return Landing(session, merged=merge_session(session, strategy))
    except MergeRefused as refused:
        return Landing(session, refused=str(refused).rstrip("."), files=refused.files)


class MergeQueue:
    """Lands sessions on their base branch one at a time (see the module docs)."""

    def __init__(self, paths: RalphPaths, strategy: Strategy = "merge") -> None:
        self.paths = paths
        self.strategy: Strategy = strategy
        self._lock = asyncio.Lock()

    async def land(self, session: Session, on_turn: Callable[[], object] | None = None
                   ) -> Landing:
        """Land ``session`` once the landings before it are done (``on_turn`` is called
        when its turn comes: queued until then, landing from then)."""
        async with self._lock, holding(self.paths.locks / "merge.lock", "Ralph's merge queue",
                                       LAND_TIMEOUT, anchor=self.paths.anchor):
            if on_turn is not None:
                on_turn()
            try:
                return await asyncio.to_thread(_land, session, self.strategy)
            except WrapixError as error:  # git failed: said, the session kept
                return Landing(session, refused=str(error).rstrip("."))
