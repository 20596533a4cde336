"""The core/UI rule: wrapix_core never imports Textual or wrapix_tui
(docs/architecture.md, Layers)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import importlib, json, pkgutil, sys
import wrapix_core
names = [m.name for m in pkgutil.walk_packages(wrapix_core.__path__, "wrapix_core.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names,
                  "ui": sorted(m for m in sys.modules
                               if m.split(".")[0] in ("textual", "wrapix_tui"))}))
"""


def test_core_never_imports_textual() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          check=True, timeout=120)
    result = json.loads(done.stdout)
    assert "wrapix_core.settings" in result["modules"]  # the walk really imported the core
    assert result["ui"] == []


def test_notify_client_imports_nothing_heavy() -> None:
    """wrapix-notify runs on every agent stop: it must not pay for pydantic or textual."""
    code = ("import sys, wrapix_core.notify.client\n"
            "heavy = [m for m in ('pydantic', 'textual', 'rich', 'click', 'pydantic_settings')"
            " if m in sys.modules]\nprint(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == ""
