"""How values look on screen: ages, sizes, percentages, paths, untrusted text.

Untrusted text (container names and labels from other tools, notification titles and
messages) always leaves here as a :class:`rich.text.Text` built from
:func:`~wrapix_core.untrusted.display_text`, so neither Rich markup nor terminal
escapes in it can take effect (a plain ``str`` cell in a DataTable *is* parsed as markup).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from wrapix_core import units
from wrapix_core.units import age as age  # the one rule, re-exported as fmt.age
from wrapix_core.untrusted import display_text


def safe(value: str | None, limit: int = 200, style: str = "") -> Text:
    """Untrusted ``value`` as inert text: escapes shown, markup literal, length bounded."""
    return Text(display_text(value or "", limit), style=style, no_wrap=True, end="")


def coarse_age(seconds: float) -> str:
    """An age that changes rarely (``now``, ``5m``, ``3h``, ``2d``), for the inbox."""
    total = max(0, int(seconds))
    if total < 60:
        return "now"
    if total < 3600:
        return f"{total // 60}m"
    if total < 86400:
        return f"{total // 3600}h"
    return f"{total // 86400}d"


def size(num_bytes: int | None) -> str:
    """Bytes by the one rule (:func:`wrapix_core.units.size`); ``-`` when unknown."""
    return "-" if num_bytes is None else units.size(num_bytes)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def home_short(path: str | Path) -> str:
    """``/home/me/src/x`` as ``~/src/x``."""
    text = str(path)
    home = str(Path.home())
    if home not in ("", "/") and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home):]
    return text


def home_in(text: str) -> str:
    """Every absolute path under home in ``text`` (e.g. an ssh command) written with ``~``."""
    home = str(Path.home())
    return text if home in ("", "/") else text.replace(home + "/", "~/")


def short_path(path: str | Path, width: int = 28) -> str:
    """A path that fits ``width`` cells: home as ``~``, then leading parts as ``…``."""
    text = home_short(path)
    if len(text) <= width:
        return text
    parts = text.split("/")
    while len(parts) > 2 and len("/".join(["…", *parts[1:]])) > width:
        parts.pop(0)
    shortened = "/".join(["…", *parts[1:]]) if len(parts) > 1 else parts[0]
    return shortened if len(shortened) <= width else "…" + text[-(width - 1):]


class Keyed(Text):
    """A cell that carries its row's sort key (DataTable's sort sees cells, not row keys)."""

    def __init__(self, text: str, key: object, style: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, end="")
        self.key = key
