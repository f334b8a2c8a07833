"""HTTP/1.1 requests as the cable's own server reads them; no I/O.

The cable takes few kinds of request (the WebSocket handshake, a broadcast POST, a
health or metrics GET), so the head is parsed whole once it has arrived, within
:data:`MAX_HEAD_SIZE`, and bodies come by ``Content-Length`` or chunked. A request
that breaks the grammar raises :class:`BadRequest` with the status to answer.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Final, NamedTuple
from urllib.parse import unquote

MAX_HEAD_SIZE: Final = 16 * 1024  # bytes of request line and headers
MAX_HEADERS: Final = 100
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")

Headers = list[tuple[bytes, bytes]]


class BadRequest(Exception):
    """Answer with ``status`` and close: the stream cannot be read further."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Request(NamedTuple):
    method: str
    path: str  # percent-decoded, as ASGI's scope has it
    raw_path: bytes
    query_string: bytes
    http_version: str  # "1.1" or "1.0"
    headers: Headers  # names lower-cased, in the order sent

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def tokens(self, name: bytes) -> set[bytes]:
        """A comma-separated header's tokens, lower-cased, over every line of it."""
        return {
            token.strip().lower()
            for key, value in self.headers
            if key == name
            for token in value.split(b",")
        }

    @property
    def keep_alive(self) -> bool:
        connection = self.tokens(b"connection")
        if self.http_version == "1.0":
            return b"keep-alive" in connection
        return b"close" not in connection


def parse_head(head: bytes) -> Request:
    """The request line and headers, without the blank line that ends them."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise BadRequest(505, "only HTTP/1.1 and HTTP/1.0 are served")
    if not target.startswith(b"/"):
        raise BadRequest(400, "the request target must be a path")
    if len(lines) - 1 > MAX_HEADERS:
        raise BadRequest(431, "too many header lines")
    headers: Headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest(400, "malformed header line")
        headers.append((name.lower(), value.strip(b" \t")))
    raw_path, _, query = target.partition(b"?")
    return Request(
        method.decode("ascii"),
        unquote(raw_path.decode("latin-1")),
        raw_path,
        query,
        version[5:].decode("ascii"),
        headers,
    )


def body_reader(request: Request) -> BodyReader:
    """How the body of ``request`` ends: by its length, by its last chunk, or at once."""
    if request.header(b"transfer-encoding") is not None:
        if request.tokens(b"transfer-encoding") != {b"chunked"}:
            raise BadRequest(501, "only the chunked transfer coding is served")
        if request.header(b"content-length") is not None:
            raise BadRequest(400, "both Content-Length and Transfer-Encoding")
        return ChunkedBody()
    lengths = {value for key, value in request.headers if key == b"content-length"}
    if not lengths:
        return LengthBody(0)
    if len(lengths) > 1 or not next(iter(lengths)).isdigit():
        raise BadRequest(400, "invalid Content-Length")
    return LengthBody(int(next(iter(lengths))))


class BodyReader:
    """Bytes of the connection in, body bytes out; :attr:`done` once the body ended."""

    done: bool = False

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """The body bytes in ``data`` and what follows the body (the next request)."""
        raise NotImplementedError


class LengthBody(BodyReader):
    __slots__ = ("done", "left")

    def __init__(self, length: int) -> None:
        self.left = length
        self.done = length == 0

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        body, rest = data[: self.left], data[self.left :]
        self.left -= len(body)
        self.done = self.left == 0
        return body, rest


class ChunkedBody(BodyReader):
    """``size CRLF data CRLF`` ... ``0 CRLF`` trailers ``CRLF``; extensions ignored."""

    __slots__ = ("_buffer", "_left", "_state", "done")

    def __init__(self) -> None:
        self.done = False
        self._buffer = b""
        self._state = "size"  # "size", "data", "data-end", "trailer"
        self._left = 0

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        buffer = self._buffer + data
        body: list[bytes] = []
        while not self.done:
            if self._state == "data":
                piece = buffer[: self._left]
                body.append(piece)
                buffer = buffer[len(piece) :]
                self._left -= len(piece)
                if self._left:
                    break
                self._state = "data-end"
                continue
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > 1024:
                    raise BadRequest(400, "malformed chunked body")
                break
            line, buffer = buffer[:line_end], buffer[line_end + 2 :]
            self._line(line)
        self._buffer = b"" if self.done else buffer
        return b"".join(body), buffer if self.done else b""

    def _line(self, line: bytes) -> None:
        if self._state == "data-end":
            if line:
                raise BadRequest(400, "malformed chunked body")
            self._state = "size"
        elif self._state == "size":
            size = line.partition(b";")[0].strip()
            if not _CHUNK_SIZE.fullmatch(size):
                raise BadRequest(400, "malformed chunk size")
            self._left = int(size, 16)
            self._state = "data" if self._left else "trailer"
        elif not line:  # the blank line after the trailers
            self.done = True


def response_head(status: int, headers: Headers) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}".encode()]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def plain_response(status: int, text: str, *, close: bool = True) -> bytes:
    """A whole short text response, e.g. for a request refused before any application."""
    body = (text + "\n").encode()
    headers: Headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    return response_head(status, headers) + body
