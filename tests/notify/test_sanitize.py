"""display_text: untrusted text made safe to show, bounded in length."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from wrapix_core.untrusted import display_text


def test_terminal_controls_become_visible_escapes() -> None:
    assert display_text("a\x1b[31mred\x07\nb\tc\rd") == "a\\e[31mred\\x07\\nb\\tc\\rd"


def test_invisible_and_direction_changing_characters_are_escaped() -> None:
    assert display_text("x\u202eevil\u200b\u2028y\ud800") == \
        "x\\u202eevil\\u200b\\u2028y\\ud800"


def test_markup_is_kept_literally_or_escaped_on_request() -> None:
    assert display_text("[bold]hi[/bold]") == "[bold]hi[/bold]"
    assert display_text("[bold]hi[/bold]", escape_markup=True) == "\\[bold]hi\\[/bold]"


def test_long_text_is_truncated_with_an_ellipsis() -> None:
    assert display_text("a" * 10, 10) == "a" * 10
    assert display_text("a" * 11, 10) == "a" * 9 + "…"
    assert display_text("\x00" * 1_000_000, 10) == "\\x00\\x00\\…"
    assert display_text("abc", 0) == ""


def test_wide_and_normal_unicode_is_left_alone() -> None:
    assert display_text("Grüße 日本 🚀") == "Grüße 日本 🚀"


@given(text=st.text(), limit=st.integers(1, 300))
def test_output_is_bounded_and_printable(text: str, limit: int) -> None:
    shown = display_text(text, limit)
    assert len(shown) <= limit
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in shown)
    shown.encode("utf-8")  # printable to any UTF-8 terminal: no lone surrogates
