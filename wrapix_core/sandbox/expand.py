"""The only path expansion wrapix does: ``~``, ``$HOME``/``${HOME}``, ``$USER``/``${USER}``.

Anything else — ``$(…)``, backticks, other variables, globs — stays literal. No shell
ever sees these strings.
"""

from __future__ import annotations

import re

_VARIABLE = re.compile(r"\$(HOME|USER|\{HOME\}|\{USER\})(?![A-Za-z0-9_])")


def expand(value: str, *, home: str, user: str) -> str:
    """Expand a leading ``~`` (alone or followed by ``/``) and the two variables."""
    if value == "~" or value.startswith("~/"):
        value = home + value[1:]

    def replace(match: re.Match[str]) -> str:
        return home if "HOME" in match.group(1) else user

    return _VARIABLE.sub(replace, value)
