"""RFC 6455 frames as the builtin server reads them: whole messages out, bad frames refused."""

from __future__ import annotations

import struct

import pytest

from tests.raw_websocket import MASK, encode_frame, frame_header
from turbo_cable.server import frames
from turbo_cable.server.frames import Frame, FrameError, FrameReader

MAX_SIZE = 1024


def masked(payload: bytes, opcode: int = frames.TEXT, *, final: bool = True) -> bytes:
    frame = encode_frame(payload, opcode)
    return frame if final else bytes([frame[0] & 0x7F]) + frame[1:]


def read(*chunks: bytes, max_size: int = MAX_SIZE) -> list[Frame]:
    reader = FrameReader(max_size)
    return [frame for chunk in chunks for frame in reader.feed(chunk)]


def refused(data: bytes, max_size: int = MAX_SIZE) -> FrameError:
    with pytest.raises(FrameError) as error:
        FrameReader(max_size).feed(data)
    return error.value


def test_a_masked_text_frame_is_a_text_message() -> None:
    assert read(masked(b"hello")) == [Frame(frames.TEXT, "hello")]


def test_frames_split_anywhere_arrive_whole_and_in_order() -> None:
    data = masked("héllo".encode()) + masked(b"\x00\x01", frames.BINARY) + masked(b"x" * 300)
    assert read(*(data[i : i + 1] for i in range(len(data)))) == [
        Frame(frames.TEXT, "héllo"),
        Frame(frames.BINARY, b"\x00\x01"),
        Frame(frames.TEXT, "x" * 300),
    ]


@pytest.mark.parametrize("size", [125, 126, 65535, 65536])
def test_each_length_encoding_is_read(size: int) -> None:
    assert read(masked(b"y" * size), max_size=size) == [Frame(frames.TEXT, "y" * size)]


def test_a_fragmented_message_arrives_whole_with_a_ping_between_its_fragments() -> None:
    data = (
        masked(b"frag", final=False)
        + masked(b"mented", frames.CONTINUATION, final=False)
        + masked(b"are you there?", frames.PING)
        + masked(b" message", frames.CONTINUATION)
    )
    assert read(data) == [
        Frame(frames.PING, b"are you there?"),
        Frame(frames.TEXT, "fragmented message"),
    ]


def test_a_frame_over_the_limit_is_refused_from_its_header_alone() -> None:
    error = refused(frame_header(MAX_SIZE + 1))
    assert (error.code, error.reason) == (frames.MESSAGE_TOO_BIG, "message over 1024 bytes")


def test_fragments_over_the_limit_together_are_refused() -> None:
    first = masked(b"a" * 1000, final=False)
    error = refused(first + frame_header(25, frames.CONTINUATION))
    assert error.code == frames.MESSAGE_TOO_BIG


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x81\x05hello", "a client frame must be masked"),
        (bytes([0xC1, 0x80]) + MASK, "reserved bits set without an extension"),
        (bytes([0x83, 0x80]) + MASK, "unknown opcode 3"),
        (bytes([0x8B, 0x80]) + MASK, "unknown opcode 11"),
        (frame_header(126, frames.PING), "control frame longer than 125 bytes"),
        (bytes([0x09, 0x80]) + MASK, "fragmented control frame"),
        (masked(b"x", frames.CONTINUATION), "continuation frame without a message"),
        (masked(b"a", final=False) + masked(b"b"), "new message before the last one ended"),
    ],
)
def test_frames_breaking_the_rfc_are_a_protocol_error(data: bytes, reason: str) -> None:
    error = refused(data)
    assert (error.code, error.reason) == (frames.PROTOCOL_ERROR, reason)


def test_text_that_is_not_utf8_is_invalid_payload() -> None:
    error = refused(masked(b"\xff\xfe"))
    assert (error.code, error.reason) == (frames.INVALID_PAYLOAD, "text message is not UTF-8")


def test_binary_is_passed_on_whatever_its_bytes() -> None:
    assert read(masked(b"\xff\xfe", frames.BINARY)) == [Frame(frames.BINARY, b"\xff\xfe")]


def test_a_close_frame_gives_its_code_and_reason_and_ends_reading() -> None:
    reader = FrameReader(MAX_SIZE)
    close = masked(struct.pack("!H", 4000) + "bye ✓".encode(), frames.CLOSE)
    assert reader.feed(close + masked(b"after")) == [Frame(frames.CLOSE, "bye ✓", 4000)]
    assert reader.closed
    assert reader.feed(masked(b"later")) == []


def test_a_close_frame_without_a_code_stands_for_1005() -> None:
    assert read(masked(b"", frames.CLOSE)) == [Frame(frames.CLOSE, "", frames.NO_STATUS)]


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2999, 5000])
def test_a_close_code_a_peer_may_not_send_is_a_protocol_error(code: int) -> None:
    error = refused(masked(struct.pack("!H", code), frames.CLOSE))
    assert (error.code, error.reason) == (frames.PROTOCOL_ERROR, f"invalid close code {code}")


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999])
def test_every_close_code_a_peer_may_send_is_read(code: int) -> None:
    assert read(masked(struct.pack("!H", code), frames.CLOSE)) == [Frame(frames.CLOSE, "", code)]


def test_a_one_byte_close_payload_and_a_reason_not_utf8_are_refused() -> None:
    assert refused(masked(b"\x03", frames.CLOSE)).code == frames.PROTOCOL_ERROR
    bad_reason = masked(struct.pack("!H", 1000) + b"\xff", frames.CLOSE)
    assert refused(bad_reason).code == frames.INVALID_PAYLOAD


@pytest.mark.parametrize(
    ("size", "header"),
    [(0, b"\x81\x00"), (125, b"\x81\x7d"), (126, b"\x81\x7e\x00\x7e"), (65536, b"\x81\x7f")],
)
def test_server_frames_are_unmasked_with_the_shortest_length(size: int, header: bytes) -> None:
    frame = frames.text_frame(b"z" * size)
    assert frame.startswith(header)
    assert len(frame) == size + {0: 2, 125: 2, 126: 4, 65536: 10}[size]


def test_close_frames_carry_the_code_and_a_reason_cut_to_fit() -> None:
    assert frames.close_frame(None) == b"\x88\x00"
    frame = frames.close_frame(1012, "r" * 200)
    assert frame[:4] == b"\x88\x7d\x03\xf4"
    assert len(frame) == 2 + 125


def test_unmask_is_its_own_inverse() -> None:
    payload = bytes(range(256)) * 3 + b"odd"
    assert frames.unmask(frames.unmask(payload, b"abcd"), b"abcd") == payload
    assert frames.unmask(b"", b"abcd") == b""


def test_a_reason_is_never_cut_inside_a_character() -> None:
    frame = frames.close_frame(1000, "✓" * 50)  # 150 bytes of UTF-8
    assert frame[4:].decode() == "✓" * 41


def test_an_events_frame_is_made_once_for_every_socket_it_goes_to() -> None:
    event = {"type": "websocket.send", "text": "to all"}
    frame = frames.event_text_frame(event)
    assert frame == frames.text_frame(b"to all")
    assert frames.event_text_frame(event) is frame
    assert frames.event_text_frame({"type": "websocket.send", "bytes": b"x"}) is None
    assert frames.event_text_frame({"type": "websocket.send", "text": "\ud800"}) is None
