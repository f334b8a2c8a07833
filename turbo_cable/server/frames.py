"""RFC 6455 frames as a server reads and writes them; no I/O.

The reader takes bytes as they arrive and gives whole messages and control frames.
What one client can make it hold is bounded: a frame whose header announces more
than ``max_size`` (alone or with the fragments before it) is refused before its
payload is buffered, and a control frame is at most 125 bytes. A frame that breaks
the RFC raises :class:`FrameError` with the close code to answer it with.
"""

from __future__ import annotations

import struct
from typing import Any, Final, NamedTuple

from turbo_cable.asgi_types import FRAME

TEXT: Final = 0x1
BINARY: Final = 0x2
CLOSE: Final = 0x8
PING: Final = 0x9
PONG: Final = 0xA
CONTINUATION: Final = 0x0

PROTOCOL_ERROR: Final = 1002
INVALID_PAYLOAD: Final = 1007
MESSAGE_TOO_BIG: Final = 1009
NO_STATUS: Final = 1005  # what a close frame without a code stands for (never sent)

# Codes a peer may send (RFC 6455 7.4, IANA's 1012-1014): 1004-1006 and 1015 are
# reserved, and codes below 3000 outside these are unassigned.
_PEER_CLOSE_CODES: Final = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})


class FrameError(Exception):
    """The peer broke the protocol; close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Frame(NamedTuple):
    """A whole message (TEXT with a ``str``, BINARY with bytes) or a control frame;
    for CLOSE, ``payload`` is the reason and ``code`` the peer's code."""

    opcode: int
    payload: str | bytes
    code: int = NO_STATUS


def unmask(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR ``payload`` with the 4-byte ``mask`` repeated, as one big-integer operation."""
    size = len(payload)
    if not size:
        return b""
    key = (bytes(mask) * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One unfragmented, unmasked frame (servers never mask)."""
    length = len(payload)
    if length < 126:
        return bytes((0x80 | opcode, length)) + payload
    if length < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, length) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, length) + payload


def text_frame(payload: bytes) -> bytes:
    """A text frame of UTF-8 ``payload``."""
    return encode_frame(TEXT, payload)


def event_text_frame(event: dict[str, Any]) -> bytes | None:
    """The text frame of a ``websocket.send`` event, framed once and kept in the event
    for every other socket it goes to (server frames are not masked, so all get the
    same bytes); None when it carries no text or text UTF-8 cannot encode."""
    frame: bytes | None = event.get(FRAME)
    if frame is None:
        text = event.get("text")
        if text is None:
            return None
        try:
            frame = event[FRAME] = text_frame(text.encode())
        except UnicodeEncodeError:
            return None
    return frame


def close_frame(code: int | None, reason: str = "") -> bytes:
    """A close frame; ``code`` None sends none (and no reason)."""
    if code is None:
        return encode_frame(CLOSE, b"")
    # A control frame holds 125 bytes: the reason is cut there, never inside a character.
    cut = reason.encode()[:123].decode(errors="ignore").encode()
    return encode_frame(CLOSE, struct.pack("!H", code) + cut)


def _close_payload(payload: bytes) -> Frame:
    if not payload:
        return Frame(CLOSE, "", NO_STATUS)
    if len(payload) == 1:
        raise FrameError(PROTOCOL_ERROR, "close frame with a one-byte payload")
    code = int.from_bytes(payload[:2], "big")
    if code not in _PEER_CLOSE_CODES and not 3000 <= code <= 4999:
        raise FrameError(PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError:
        raise FrameError(INVALID_PAYLOAD, "close reason is not UTF-8") from None
    return Frame(CLOSE, reason, code)


class FrameReader:
    """Client frames in, messages out; one per connection."""

    __slots__ = ("_fragments", "_opcode", "_pending", "_size", "closed", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.closed = False  # a close frame was read: nothing after it counts
        self._pending: bytearray | None = None  # an unfinished frame
        self._opcode = 0  # the message being assembled from fragments, 0 for none
        self._fragments: list[bytes] | None = None
        self._size = 0

    def feed(self, data: bytes) -> list[Frame]:
        """The messages and control frames completed by ``data``, in order."""
        if self.closed:
            return []
        buffer: bytes | bytearray = data
        if self._pending is not None:
            self._pending += data
            buffer = self._pending
        frames: list[Frame] = []
        offset = self._read_frames(buffer, frames)
        if offset == len(buffer):
            self._pending = None
        elif buffer is self._pending:
            del self._pending[:offset]
        else:
            self._pending = bytearray(buffer[offset:])
        return frames

    def _read_frames(self, buffer: bytes | bytearray, frames: list[Frame]) -> int:
        offset, end = 0, len(buffer)
        while end - offset >= 2 and not self.closed:
            first, second = buffer[offset], buffer[offset + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if end - offset < 4:
                    break
                length, head = int.from_bytes(buffer[offset + 2 : offset + 4], "big"), 4
            elif length == 127:
                if end - offset < 10:
                    break
                length, head = int.from_bytes(buffer[offset + 2 : offset + 10], "big"), 10
            opcode = first & 0x0F
            self._check_header(first, second, opcode, length)
            start = offset + head + 4
            if end < start + length:
                break
            payload = unmask(buffer[start : start + length], buffer[start - 4 : start])
            offset = start + length
            frame = self._complete(opcode, bool(first & 0x80), payload)
            if frame is not None:
                frames.append(frame)
        return offset

    def _check_header(self, first: int, second: int, opcode: int, length: int) -> None:
        if first & 0x70:
            raise FrameError(PROTOCOL_ERROR, "reserved bits set without an extension")
        if not second & 0x80:
            raise FrameError(PROTOCOL_ERROR, "a client frame must be masked")
        if opcode >= CLOSE:
            if opcode > PONG:
                raise FrameError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
            if not first & 0x80:
                raise FrameError(PROTOCOL_ERROR, "fragmented control frame")
            if length > 125:
                raise FrameError(PROTOCOL_ERROR, "control frame longer than 125 bytes")
            return
        if opcode > BINARY:
            raise FrameError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        if opcode == CONTINUATION and not self._opcode:
            raise FrameError(PROTOCOL_ERROR, "continuation frame without a message")
        if opcode != CONTINUATION and self._opcode:
            raise FrameError(PROTOCOL_ERROR, "new message before the last one ended")
        if self._size + length > self.max_size:
            raise FrameError(MESSAGE_TOO_BIG, f"message over {self.max_size} bytes")

    def _complete(self, opcode: int, final: bool, payload: bytes) -> Frame | None:
        if opcode >= CLOSE:
            if opcode == CLOSE:
                self.closed = True
                return _close_payload(payload)
            return Frame(opcode, payload)
        if not final:  # a fragment: keep it until the message ends
            if opcode != CONTINUATION:
                self._opcode, self._fragments = opcode, []
            assert self._fragments is not None
            self._fragments.append(payload)
            self._size += len(payload)
            return None
        if opcode == CONTINUATION:
            assert self._fragments is not None
            self._fragments.append(payload)
            opcode, payload = self._opcode, b"".join(self._fragments)
            self._opcode, self._fragments, self._size = 0, None, 0
        if opcode == BINARY:
            return Frame(BINARY, payload)
        try:
            return Frame(TEXT, payload.decode())
        except UnicodeDecodeError:
            raise FrameError(INVALID_PAYLOAD, "text message is not UTF-8") from None
