"""Core log warnings as toasts, not as stray text over the dashboard.

The core logs through ``logging`` (e.g. the hosted daemon: "notify-send not found:
desktop popups are off"); with no handler those lines would go to stderr, under the
full-screen app. This handler turns wrapix's warnings into toasts instead.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel


class ToastHandler(logging.Handler):
    def __init__(self, app: App[object]) -> None:
        super().__init__(logging.WARNING)
        self.app = app
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the app
            message = str(record.msg)
        severity: SeverityLevel = "error" if record.levelno >= logging.ERROR else "warning"
        with contextlib.suppress(Exception):  # the app may be shutting down
            if threading.get_ident() == self._thread:
                self.app.notify(message, severity=severity, timeout=8, markup=False)
            else:
                self.app.call_from_thread(self.app.notify, message, severity=severity,
                                          timeout=8, markup=False)


def install(app: App[Any]) -> ToastHandler:
    handler = ToastHandler(app)
    logging.getLogger("wrapix").addHandler(handler)
    return handler


def uninstall(handler: ToastHandler) -> None:
    logging.getLogger("wrapix").removeHandler(handler)
