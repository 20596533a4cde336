"""The wire protocol: parse_line and LineFramer, by example and by property."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wrapix_core.notify.protocol import (
    MAX_LINE,
    LineFramer,
    Notification,
    Oversized,
    ProtocolError,
    encode,
    parse_line,
)


def test_minimal_and_full_lines() -> None:
    assert parse_line(b'{"title": "T", "message": "M"}') == Notification("T", "M")
    full = parse_line(json.dumps({"title": "T", "message": "M", "sound": "Ping",
                                  "session_id": "main:1.0", "sandbox": "wx", "kind": "stop",
                                  "future_field": {"x": 1}}).encode())
    assert full == Notification("T", "M", "Ping", "main:1.0", "wx", "stop")


def test_the_original_clients_empty_sound_means_none() -> None:
    assert parse_line(b'{"title":"T","message":"M","sound":""}').sound is None


@pytest.mark.parametrize(("raw", "why"), [
    (b"\xff\xfe{}", "invalid UTF-8"),
    (b'{"title": "T", "message": "M"', "invalid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"message": "M"}', "missing required field 'title'"),
    (b'{"title": "T"}', "missing required field 'message'"),
    (b'{"title": 1, "message": "M"}', "field 'title' must be a string"),
    (b'{"title": "T", "message": "M", "sound": 3}', "field 'sound' must be a string"),
    (b"[" * 100_000, "exceeds"),
    (b"[" * 60_000, "nested too deeply"),
    (b'{"title": "T", "message": "M", "n": 1' + b"0" * 50_000 + b"}", "invalid JSON"),
])
def test_bad_lines_are_rejected_with_a_reason(raw: bytes, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        parse_line(raw)


def test_line_of_exactly_the_limit_is_accepted() -> None:
    head = b'{"title": "T", "message": "'
    line = head + b"x" * (MAX_LINE - len(head) - 2) + b'"}'
    assert len(line) == MAX_LINE
    assert len(parse_line(line).message) == MAX_LINE - len(head) - 2
    with pytest.raises(ProtocolError, match="exceeds"):
        parse_line(line[:-2] + b'x"}')


def test_encode_round_trips() -> None:
    note = Notification("a\nb", "\x1b[31m", session_id="s:1.0")
    assert parse_line(encode(note).rstrip(b"\n")) == note


def test_framer_splits_lines_and_skips_blank_ones() -> None:
    framer = LineFramer(max_line=10)
    assert framer.feed(b"ab\n\ncd") == [b"ab"]
    assert framer.incomplete
    assert framer.feed(b"e\n  \nf") == [b"cde"]
    assert framer.finish() == [b"f"]
    assert not framer.incomplete


def test_framer_discards_an_oversized_line_and_recovers() -> None:
    framer = LineFramer(max_line=4)
    assert framer.feed(b"12345") == []
    assert framer.incomplete
    assert framer.feed(b"6789\nok\n") == [Oversized(9), b"ok"]
    assert framer.feed(b"toolong\nfine\n") == [Oversized(7), b"fine"]
    assert framer.feed(b"12345678") == []
    assert framer.finish() == [Oversized(8)]


def _frame_all(chunks: list[bytes], max_line: int) -> list[bytes | Oversized]:
    framer = LineFramer(max_line)
    out: list[bytes | Oversized] = []
    for chunk in chunks:
        out += framer.feed(chunk)
        assert len(framer._buffer) <= max_line  # memory stays bounded
    return out + framer.finish()


def _reference(data: bytes, max_line: int) -> list[bytes | Oversized]:
    out: list[bytes | Oversized] = []
    for line in data.split(b"\n"):
        if len(line) > max_line:
            out.append(Oversized(len(line)))
        elif line.strip():
            out.append(line)
    return out


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8),
       max_line=st.integers(1, 40))
def test_framing_does_not_depend_on_how_bytes_are_chunked(
        data: bytes, cuts: list[int], max_line: int) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    assert _frame_all(chunks, max_line) == _reference(data, max_line)


@settings(max_examples=500, deadline=None)
@given(raw=st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                 lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                 max_leaves=20).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"title": st.text(), "message": st.text()},
                          optional={"sound": st.none() | st.text() | st.integers(),
                                    "session_id": st.text()}).map(
        lambda v: json.dumps(v).encode()),
))
def test_parser_is_total(raw: bytes) -> None:
    """Whatever arrives: a Notification or a ProtocolError, never anything else."""
    try:
        result = parse_line(raw)
    except ProtocolError as exc:
        assert str(exc)
    else:
        assert isinstance(result.title, str) and isinstance(result.message, str)
