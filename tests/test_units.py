"""One rule for counts and one for sizes, CLI and TUI alike (issue 14, "Smaller")."""

from __future__ import annotations

from wrapix_core import units
from wrapix_tui import format as fmt


def test_counts_agree_in_number() -> None:
    assert units.plural(1, "issue") == "1 issue"
    assert units.plural(0, "issue") == "0 issues"
    assert units.plural(2, "sandbox", "sandboxes") == "2 sandboxes"


def test_sizes_print_the_same_in_the_cli_and_the_tui() -> None:
    assert units.size(16 * 1024) == "16.0K" == fmt.size(16 * 1024)
    assert units.size(512) == "512B"
    assert units.size(300 * 1024 * 1024) == "300M"
    assert fmt.size(None) == "-"


def test_ages_print_the_same_in_the_cli_and_the_tui() -> None:
    from wrapix_core.cli import sandbox as cli_sandbox

    # `wrapix ls` once printed 2d3h where the TUI printed 2d03h: one rule now.
    assert cli_sandbox.age is units.age is fmt.age
    assert units.age(2 * 86400 + 3 * 3600) == "2d03h"
    assert units.age(4 * 86400 + 13 * 3600 + 59) == "4d13h"
    assert units.age(2 * 3600 + 7 * 60) == "2h07m"
    assert units.age(185) == "3m05s"
    assert units.age(42) == "42s"
    assert units.age(-5) == "0s"  # a clock a little ahead of the container's start
    assert units.age(None) == "-"
