"""New issue ids in bd's shape: ``<prefix>-<base36>``, or ``<parent>.<n>`` for children.

bd derives short base36 ids from a hash and lengthens them as a database grows; these
are random instead (no content to hash yet), start at 4 characters, grow when collisions
get likely, and are always checked against the ids that exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_TRIES_PER_LENGTH = 16


def base36(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _start_length(count: int) -> int:
    # Keep the chance of a first-try collision under ~3%: 36**4 is 1.7M ids.
    length = 4
    while count > 36 ** length // 32:
        length += 1
    return length


def new_id(prefix: str, existing: Collection[str]) -> str:
    """A fresh ``prefix-xxxx`` id not in ``existing`` (compared case-insensitively)."""
    taken = {item.lower() for item in existing}
    length = _start_length(len(taken))
    while True:
        for _ in range(_TRIES_PER_LENGTH):
            candidate = f"{prefix}-{base36(secrets.randbelow(36 ** length), length)}"
            if candidate.lower() not in taken:
                return candidate
        length += 1


def child_id(parent: str, existing: Collection[str]) -> str:
    """The next ``parent.N`` id (one more than the highest child number in use)."""
    stem = parent + "."
    highest = 0
    for item in existing:
        if item.startswith(stem) and item[len(stem):].isdigit():
            highest = max(highest, int(item[len(stem):]))
    return f"{stem}{highest + 1}"
