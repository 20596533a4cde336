"""What a worker's unexpected failure does, in one place.

Expected failures (a :class:`~wrapix_core.errors.WrapixError`: Podman missing, a file
that cannot be read) are handled where they happen, with what they mean there. A bug is
different: it must not take the dashboard down, and it must be seen. Workers that may
meet one are declared with ``exit_on_error=False``; when one fails, the node that ran it
(a pane, the app) calls :func:`report` from ``on_worker_state_changed``: the traceback goes
to the log, and a :class:`~wrapix_tui.messages.Problem` to the app (a banner when the
failure names a source, else a toast).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.worker import WorkerState

from wrapix_tui.messages import Problem

if TYPE_CHECKING:
    from textual.message_pump import MessagePump
    from textual.worker import Worker

log = logging.getLogger("wrapix.tui")


@dataclass(frozen=True)
class Failure:
    """What to say when a worker fails with a bug: ``{what}: {error!r}``."""

    what: str
    source: str | None = None
    """The banner slot (``config``, ``events``…); None: a toast."""


def report(node: MessagePump, event: Worker.StateChanged,
           failures: Mapping[str, Failure]) -> Failure | None:
    """Log and post the failure of ``event``'s worker, if it failed; what was said."""
    if event.state != WorkerState.ERROR:
        return None
    worker = event.worker
    failure = failures.get(worker.group) or Failure(f"{worker.name or worker.group} failed")
    error = worker.error
    log.error("%s", failure.what, exc_info=error)
    node.post_message(Problem(f"{failure.what}: {error!r}", source=failure.source))
    return failure
