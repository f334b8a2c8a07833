"""A bare-socket WebSocket client for what a polite client never does.

It can stop reading (to stall the server's writes) and send frames that
``websockets`` refuses to build, such as invalid UTF-8 in a text frame.
"""

from __future__ import annotations

import base64
import os
import socket
import struct

TEXT, BINARY, PING = 0x1, 0x2, 0x9
MASK = os.urandom(4)  # one key for every frame: these tests need no masking strength


class RawWebSocket:
    def __init__(
        self, port: int, path: str = "/cable", *, receive_buffer: int | None = None
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("server closed during the handshake")
            response += chunk
        if not response.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(response.decode(errors="replace"))

    def send_frame(self, payload: bytes, opcode: int = TEXT) -> None:
        self.sock.sendall(encode_frame(payload, opcode))

    def read_frame(self) -> tuple[int, bytes]:
        """The next frame from the server (unmasked): its opcode and payload."""
        first, second = self._read_exactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exactly(8))
        return first & 0x0F, self._read_exactly(length)

    def _read_exactly(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(min(count - len(data), 1 << 16))
            if not chunk:
                raise ConnectionError("server closed the socket")
            data += chunk
        return bytes(data)

    def close(self) -> None:
        self.sock.close()


def frame_header(length: int, opcode: int = TEXT) -> bytes:
    """A final, masked frame's header announcing ``length`` bytes (mask included)."""
    header = bytes([0x80 | opcode])
    if length < 126:
        header += bytes([0x80 | length])
    elif length < 1 << 16:
        header += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return header + MASK


def encode_frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """A whole client frame, masked as RFC 6455 requires."""
    return frame_header(len(payload), opcode) + bytes(
        b ^ MASK[i % 4] for i, b in enumerate(payload)
    )
