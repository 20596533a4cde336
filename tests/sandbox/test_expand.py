"""Only ~, $HOME and $USER expand; nothing a shell would do ever happens."""

from __future__ import annotations

import pytest

from wrapix_core.sandbox.expand import expand


@pytest.mark.parametrize(("raw", "expected"), [
    ("~", "/home/a"),
    ("~/.cargo", "/home/a/.cargo"),
    ("$HOME/.cache", "/home/a/.cache"),
    ("${HOME}/x", "/home/a/x"),
    ("/data/$USER", "/data/alice"),
    ("/data/${USER}/y", "/data/alice/y"),
    ("/srv/~/x", "/srv/~/x"),            # ~ only at the start
    ("~bob/x", "~bob/x"),                # no other users' homes
    ("$HOMEDIR/x", "$HOMEDIR/x"),        # not a prefix match
    ("$USERNAME", "$USERNAME"),
])
def test_expansion(raw: str, expected: str) -> None:
    assert expand(raw, home="/home/a", user="alice") == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("$(rm -rf /)", "$(rm -rf /)"),
    ("`id`", "`id`"),
    ("/x/$(whoami)", "/x/$(whoami)"),
    ("$PATH", "$PATH"),
    ("${PATH}", "${PATH}"),
    ("/x/*", "/x/*"),
    ("a;b && c", "a;b && c"),
    ("$((1+1))", "$((1+1))"),
    ("${HOME:-/etc}", "${HOME:-/etc}"),      # no parameter operators
    ("$(echo $HOME)", "$(echo /home/a)"),     # text substitution only; nothing runs
])
def test_everything_else_stays_literal(raw: str, expected: str) -> None:
    assert expand(raw, home="/home/a", user="alice") == expected
