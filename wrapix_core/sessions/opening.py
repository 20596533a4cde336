"""Opening the session a launch runs on: the one named, or a new one."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from wrapix_core.errors import WrapixError
from wrapix_core.settings import Settings, command_argv

if TYPE_CHECKING:
    from wrapix_core.sandbox.model import SessionMount
    from wrapix_core.sessions.model import Session


def open_session(directory: Path, name: str | None, from_ref: str | None,
                 settings: Settings) -> tuple[Session, SessionMount, list[str]]:
    """The session to run on (created when new) and its mount; notes for the user."""
    from wrapix_core.sandbox.model import SessionMount
    from wrapix_core.sessions import store
    from wrapix_core.sessions.create import create_session
    from wrapix_core.sessions.model import SessionNotFound

    project = store.project_root(directory)
    notes: list[str] = []
    session = None
    if name is not None:
        try:
            session = store.get_session(project, name)
        except SessionNotFound:
            session = None
        if session is not None and from_ref is not None:
            raise WrapixError(f"session {name} already exists (from "
                              f"{session.base_ref or session.base_commit[:12]})",
                              "--from applies to a new session: pick another name")
    if session is None:
        session, notes = create_session(project, name or store.free_name(project),
                                        from_ref=from_ref, copy=settings.session.copy_paths)
        notes.insert(0, f"session {session.name}: branch {session.branch} from "
                        f"{session.base_ref or session.base_commit[:12]}, in {session.path}")
    setup = tuple(tuple(command_argv(item)) for item in settings.session.setup)
    return session, SessionMount(session.name, session.project, session.objects, setup), notes


def drop_new(session: Session) -> None:
    """Remove a session made for a launch that then failed before anything ran in it."""
    from wrapix_core.sessions.discard import discard_session

    with contextlib.suppress(WrapixError, OSError):
        discard_session(session, force=True, podman="true")
