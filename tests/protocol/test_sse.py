"""Tests for the incremental event-stream decoder and encoder (pure, no I/O)."""

from __future__ import annotations

import pytest

from mcp_async._exceptions import BodyTooLargeError
from mcp_async.protocol.sse import ServerSentEvent, SSEDecoder, encode_event

E = ServerSentEvent


def decode(*chunks: bytes, max_event_size: int | None = 1_048_576) -> list[ServerSentEvent]:
    decoder = SSEDecoder(max_event_size=max_event_size)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


# (name, stream, expected events) -- fed in one chunk here, and in every split below.
CASES: list[tuple[str, bytes, list[ServerSentEvent]]] = [
    (
        "whatwg_multiline_data",
        b"data: YHOO\ndata: +2\ndata: 10\n\n",
        [E(data="YHOO\n+2\n10")],
    ),
    (
        "whatwg_comment_and_id_persistence_and_reset",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n\n",
        [
            E(data="first event", id="1"),
            E(data="second event", id=""),
            E(data=" third event", id=""),
        ],
    ),
    (
        "whatwg_data_without_colon_vs_empty_data",
        b"data\n\ndata\ndata\n\ndata:\n\n",
        [E(data=""), E(data="\n"), E(data="")],
    ),
    (
        "whatwg_one_leading_space_stripped",
        b"data:test\n\ndata: test\n\ndata:  test\n\n",
        [E(data="test"), E(data="test"), E(data=" test")],
    ),
    (
        "id_persists_to_later_events",
        b"id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n",
        [E(data="a", id="7"), E(data="b", id="7"), E(data="c", id="8")],
    ),
    (
        "event_field_sets_type_and_empty_means_message",
        b"event: ping\ndata: x\n\nevent:\ndata: y\n\ndata: z\n\n",
        [E(event="ping", data="x"), E(data="y"), E(data="z")],
    ),
    (
        "priming_event_with_id_and_empty_data_dispatched",
        b"id: prime-1\ndata:\n\nid: prime-2\n\ndata: {}\n\n",
        [E(data="", id="prime-1"), E(data="", id="prime-2"), E(data="{}", id="prime-2")],
    ),
    (
        "comment_only_block_not_dispatched",
        b": keepalive\n\n:\n:another\n\n\n\ndata: x\n\n",
        [E(data="x")],
    ),
    (
        "comment_lines_inside_block_ignored",
        b"data: a\n: note\ndata: b\n\n",
        [E(data="a\nb")],
    ),
    (
        "unknown_fields_ignored_and_do_not_dispatch",
        b"foo: bar\n\nDATA: x\n\ndata: y\nbar\n\n",
        [E(data="y")],
    ),
    (
        "value_keeps_further_colons",
        b'data: {"a": "b:c"}\n\n',
        [E(data='{"a": "b:c"}')],
    ),
    (
        "crlf_line_endings",
        b"id: 1\r\ndata: a\r\ndata: b\r\n\r\n",
        [E(data="a\nb", id="1")],
    ),
    (
        "cr_line_endings",
        b"id: 1\rdata: a\rdata: b\r\r",
        [E(data="a\nb", id="1")],
    ),
    (
        "mixed_line_endings",
        b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\n\n",
        [E(data="a\nb\nc"), E(data="d")],
    ),
    (
        "multibyte_utf8",
        "data: h\u00e9llo \u20ac \U0001f600\nevent: \u00fc\n\n".encode(),
        [E(event="\u00fc", data="h\u00e9llo \u20ac \U0001f600")],
    ),
    (
        "invalid_utf8_replaced",
        b"data: a\xffb\xe2\x82\n\n",
        [E(data="a\ufffdb\ufffd")],
    ),
    (
        "leading_bom_stripped",
        b"\xef\xbb\xbfdata: x\n\n",
        [E(data="x")],
    ),
    (
        "bom_only_stripped_at_stream_start",
        b"\xef\xbb\xbfdata: x\n\n\xef\xbb\xbfdata: y\n\n",
        [E(data="x")],
    ),
    (
        "retry_valid",
        b"retry: 3000\ndata: x\n\ndata: y\n\n",
        [E(data="x", retry=3000), E(data="y")],
    ),
    (
        "retry_alone_dispatches",
        b"retry: 10\n\n",
        [E(retry=10)],
    ),
    (
        "retry_invalid_ignored",
        b"retry: 1.5\n\nretry: -1\n\nretry: 12a\n\nretry:\n\nretry: \xd9\xa3\n\n"
        b"data: x\nretry: x\n\n",
        [E(data="x")],
    ),
    (
        "id_with_nul_ignored",
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid: a\x00\n\n",
        [E(data="a", id="1"), E(data="b", id="1")],
    ),
    (
        "unterminated_final_block_discarded",
        b"data: a\n\ndata: b\n",
        [E(data="a")],
    ),
    (
        "unterminated_final_line_discarded",
        b"data: a\n\ndata: b",
        [E(data="a")],
    ),
    (
        "final_cr_then_nothing",
        b"data: a\r\r",
        [E(data="a")],
    ),
]

IDS = [case[0] for case in CASES]


@pytest.mark.parametrize(("name", "stream", "expected"), CASES, ids=IDS)
def test_whole_stream(name: str, stream: bytes, expected: list[ServerSentEvent]) -> None:
    assert decode(stream) == expected


@pytest.mark.parametrize(("name", "stream", "expected"), CASES, ids=IDS)
def test_byte_by_byte(name: str, stream: bytes, expected: list[ServerSentEvent]) -> None:
    assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == expected


@pytest.mark.parametrize(("name", "stream", "expected"), CASES, ids=IDS)
def test_every_two_way_split(name: str, stream: bytes, expected: list[ServerSentEvent]) -> None:
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == expected, f"split at {cut}"


@pytest.mark.parametrize(("name", "stream", "expected"), CASES, ids=IDS)
def test_every_three_way_split(name: str, stream: bytes, expected: list[ServerSentEvent]) -> None:
    n = len(stream)
    for a in range(n + 1):
        for b in range(a, n + 1):
            got = decode(stream[:a], stream[a:b], stream[b:])
            assert got == expected, f"split at {a}, {b}"


def test_events_returned_by_the_chunk_that_completes_them() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b\n\nda") == [E(data="a"), E(data="b")]
    assert decoder.feed(b"ta: c\n\n") == [E(data="c")]


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ((b"data: a\r", b"\n\r\n"), [E(data="a")]),
        ((b"data: a\r", b"\n", b"\r", b"\n"), [E(data="a")]),
        ((b"data: a\r", b"", b"\n", b"data: b\r\n\r\n"), [E(data="a\nb")]),
        ((b"data: a\r", b"\r"), [E(data="a")]),
        ((b"data: a\r\n\r", b"\ndata: b\n\n"), [E(data="a"), E(data="b")]),
    ],
    ids=["crlf_split", "crlf_split_twice", "crlf_split_around_empty_chunk", "cr_cr", "blank_crlf"],
)
def test_crlf_split_across_chunks_is_one_line_end(
    chunks: tuple[bytes, ...], expected: list[ServerSentEvent]
) -> None:
    assert decode(*chunks) == expected


def test_split_multibyte_character_decoded_whole() -> None:
    encoded = "data: \u20ac\U0001f600\n\n".encode()
    start = encoded.index(b"\xe2")
    for cut in range(start + 1, start + 7):
        assert decode(encoded[:cut], encoded[cut:]) == [E(data="\u20ac\U0001f600")]


@pytest.mark.parametrize("cut", [1, 2])
def test_bom_split_across_chunks_stripped(cut: int) -> None:
    stream = b"\xef\xbb\xbfdata: x\n\n"
    assert decode(stream[:cut], stream[cut:]) == [E(data="x")]


def test_bom_prefix_that_is_not_a_bom_is_kept() -> None:
    # b"\xef\xbb" followed by something else is ordinary (invalid) UTF-8 in a field name.
    assert decode(b"\xef\xbb", b"data: x\n\ndata: y\n\n") == [E(data="y")]


def test_last_event_id_tracks_dispatched_ids() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id is None
    decoder.feed(b"id: 1\ndata: a\n\n")
    assert decoder.last_event_id == "1"
    decoder.feed(b"data: b\n\n")
    assert decoder.last_event_id == "1"
    decoder.feed(b"id: 2\x00\ndata: c\n\n")
    assert decoder.last_event_id == "1"
    decoder.feed(b"id\n\n")
    assert decoder.last_event_id == ""


def test_id_of_undispatched_block_does_not_become_last_event_id() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: cut off")
    assert decoder.last_event_id == "1"
    assert decoder.flush() == []
    assert decoder.last_event_id == "1"
    # The next stream on the same decoder resumes from the dispatched id.
    assert decoder.feed(b"data: b\n\n") == [E(data="b", id="1")]


def test_retry_attribute_keeps_last_valid_value() -> None:
    decoder = SSEDecoder()
    assert decoder.retry is None
    decoder.feed(b"retry: 500\ndata: a\n\n")
    assert decoder.retry == 500
    events = decoder.feed(b"retry: soon\ndata: b\n\n")
    assert decoder.retry == 500
    assert events == [E(data="b")]


def test_retry_with_too_many_digits_ignored() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n") == [E(data="x")]
    assert decoder.retry is None


def test_flush_discards_unterminated_block_but_parses_final_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\nevent: e\ndata: b\nretry: 42") == [E(data="a")]
    assert decoder.flush() == []
    assert decoder.retry == 42
    # Nothing of the discarded block leaks into the next stream.
    assert decoder.feed(b"data: c\n\n") == [E(data="c")]


def test_flush_resets_for_a_new_stream_with_bom() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    decoder.flush()
    assert decoder.feed(b"\xef\xbb\xbf\ndata: b\n\n") == [E(data="b")]


def test_flush_on_empty_decoder() -> None:
    assert SSEDecoder().flush() == []


def test_single_large_event_raises_in_one_chunk() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(BodyTooLargeError) as info:
        decoder.feed(b"data: " + b"x" * 2000 + b"\n\n")
    assert info.value.limit == 1000
    assert "SSE event" in str(info.value)


def test_large_event_raises_before_its_line_ends() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    decoder.feed(b"data: ")
    with pytest.raises(BodyTooLargeError):
        for _ in range(100):
            decoder.feed(b"x" * 100)


def test_large_event_made_of_many_data_lines_raises() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(BodyTooLargeError):
        decoder.feed(b"data: xxxxxxxxxx\n" * 200)


def test_endless_comment_line_raises() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    decoder.feed(b":")
    with pytest.raises(BodyTooLargeError):
        for _ in range(100):
            decoder.feed(b"x" * 100)


def test_many_small_events_never_raise() -> None:
    stream = b"id: 1\nevent: message\ndata: " + b"x" * 500 + b"\n\n"
    decoder = SSEDecoder(max_event_size=1000)
    count = 0
    for _ in range(2000):
        count += len(decoder.feed(stream))
    assert count == 2000
    assert len(decode(stream * 2000, max_event_size=1000)) == 2000


def test_event_just_under_limit_passes_in_any_split() -> None:
    stream = b"data: " + b"x" * 994 + b"\n\n"  # the data line is exactly 1000 bytes
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:], max_event_size=1000) == [E(data="x" * 994)]
    with pytest.raises(BodyTooLargeError):
        decode(b"data: " + b"x" * 995 + b"\n\n", max_event_size=1000)


def test_limit_none_disables() -> None:
    big = "x" * 3_000_000
    assert decode(f"data: {big}\n\n".encode(), max_event_size=None) == [E(data=big)]


@pytest.mark.parametrize("size", [0, -1])
def test_invalid_limit_rejected(size: int) -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_event_size=size)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": "hello"}, E(data="hello")),
        ({"data": ""}, E(data="")),
        ({"data": "a\nb\n\nc"}, E(data="a\nb\n\nc")),
        ({"data": "a\n"}, E(data="a\n")),
        ({"data": " leading space"}, E(data=" leading space")),
        ({"data": ": not a comment"}, E(data=": not a comment")),
        ({"data": "x", "event": "notice", "id": "42", "retry": 100},
         E(event="notice", data="x", id="42", retry=100)),
        ({"data": "", "id": "prime"}, E(data="", id="prime")),
        ({"data": "\u20ac\U0001f600"}, E(data="\u20ac\U0001f600")),
    ],
    ids=[
        "plain", "empty", "multi_line", "trailing_newline", "leading_space",
        "colon_start", "all_fields", "priming", "non_ascii",
    ],
)  # fmt: skip
def test_encode_event_round_trips(kwargs: dict[str, object], expected: ServerSentEvent) -> None:
    data = kwargs.pop("data")
    assert isinstance(data, str)
    encoded = encode_event(data, **kwargs)  # type: ignore[arg-type]
    assert encoded.endswith(b"\n\n")
    assert decode(encoded) == [expected]
    assert decode(*(encoded[i : i + 1] for i in range(len(encoded)))) == [expected]


@pytest.mark.parametrize(
    ("data", "expected"),
    [("a\r\nb", "a\nb"), ("a\rb", "a\nb"), ("a\r", "a\n"), ("\r\r\n", "\n\n")],
)
def test_encode_event_line_breaks_with_cr_become_lf(data: str, expected: str) -> None:
    assert decode(encode_event(data)) == [E(data=expected)]


def test_encode_event_multi_line_data_uses_several_data_lines() -> None:
    assert encode_event("a\nb", event="e", id="1", retry=5) == (
        b"event: e\nid: 1\nretry: 5\ndata: a\ndata: b\n\n"
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"event": "a\nb"}, {"event": "a\rb"}, {"id": "1\n"}, {"id": "1\x00"}, {"retry": -1}],
)
def test_encode_event_rejects_undecodable_fields(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        encode_event("x", **kwargs)  # type: ignore[arg-type]


def test_encoded_stream_of_events_decodes_in_any_split() -> None:
    stream = (
        encode_event("", id="0")
        + encode_event('{"jsonrpc":"2.0","method":"notifications/progress"}', id="1")
        + encode_event("line1\nline2", event="message", id="2", retry=1000)
    )
    expected = [
        E(data="", id="0"),
        E(data='{"jsonrpc":"2.0","method":"notifications/progress"}', id="1"),
        E(data="line1\nline2", id="2", retry=1000),
    ]
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == expected
