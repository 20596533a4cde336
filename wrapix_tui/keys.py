"""Bindings as data for the help screen and the command palette.

Every action is a :class:`~textual.binding.Binding` with an id in its widget's
``BINDINGS``; users remap ids in ``[keymap]`` (applied with ``App.set_keymap``). This
module reads the same ``BINDINGS`` back, so help and palette can never disagree with
the keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Action:
    group: str
    binding: Binding
    keys: str
    """Effective keys (the keymap's, else the default), comma-separated."""

    @property
    def id(self) -> str:
        return self.binding.id or ""


def bindings_of(owner: type) -> list[Binding]:
    """The ``Binding`` objects a class declares (tuples and strings are not used here)."""
    found: list[Binding] = []
    declared: list[BindingType] = list(getattr(owner, "BINDINGS", []))
    found.extend(item for item in declared if isinstance(item, Binding))
    return found


def effective_keys(binding: Binding, keymap: Mapping[str, str]) -> str:
    if binding.id and binding.id in keymap:
        return keymap[binding.id]
    return binding.key


def display_keys(keys: str) -> str:
    """``question_mark`` as ``?``, ``ctrl+s`` as ``^s``: how the footer shows them."""
    names = {"question_mark": "?", "slash": "/", "space": "space", "escape": "esc",
             "enter": "enter", "full_stop": ".", "comma": ","}
    shown = []
    for key in keys.split(","):
        key = key.strip()
        key = names.get(key, key)
        if key.startswith("ctrl+"):
            key = "^" + key[5:]
        shown.append(key)
    return " ".join(shown)


def actions(groups: list[tuple[str, type]], keymap: Mapping[str, str]) -> Iterator[Action]:
    for group, owner in groups:
        for binding in bindings_of(owner):
            if binding.id:
                yield Action(group, binding, effective_keys(binding, keymap))


def key_for(groups: list[tuple[str, type]], keymap: Mapping[str, str], binding_id: str) -> str:
    """The key a person presses for ``binding_id`` (for hints in the UI)."""
    for action in actions(groups, keymap):
        if action.id == binding_id:
            return display_keys(action.keys)
    return "?"
