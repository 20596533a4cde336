"""Commands whose issues have not landed exit 2 and say so — never fake output.

When a command is implemented, remove it from UNBUILT (its own tests take over).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.cli import script

UNBUILT: list[list[str]] = []


@pytest.mark.parametrize("command", UNBUILT, ids=" ".join)
def test_unbuilt_commands_say_not_implemented(command: list[str]) -> None:
    done = subprocess.run([script(command[0]), *command[1:]], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 2
    assert "not implemented yet" in done.stderr
    assert done.stdout == ""
