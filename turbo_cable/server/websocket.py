"""One WebSocket under the cable's own server: its handshake, frames and ASGI events.

The session speaks ASGI to the application, so the cable's protocol runs here
exactly as under any ASGI server. Its bounds are those of the cable's uvicorn
protocol: a message over ``MAX_FRAME_SIZE`` is refused as its header arrives;
while the peer does not read, nothing more is read from it and its pings get no
pong; once the application is done the socket goes within :data:`CLOSE_TIMEOUT`,
and at once when the peer is not reading. It offers ``turbo_cable.write_now``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from typing import TYPE_CHECKING, Final

from turbo_cable.asgi_types import Event
from turbo_cable.server import frames
from turbo_cable.server.http11 import Headers, Request, plain_response, response_head

if TYPE_CHECKING:
    from turbo_cable.server.connection import ServerConnection

logger = logging.getLogger("turbo_cable.server")

CLOSE_TIMEOUT: Final = 5.0  # seconds a closing peer gets to answer our close frame
MAX_BACKLOG: Final = 16  # messages read ahead of the application before reading stops
GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ABNORMAL: Final = 1006  # the connection was lost without a close frame

CONNECTING, OPEN, CLOSING, CLOSED = range(4)


class Disconnected(ConnectionError):
    """A send on a WebSocket that has closed."""


def is_upgrade(request: Request) -> bool:
    return b"websocket" in request.tokens(b"upgrade") and b"upgrade" in request.tokens(
        b"connection"
    )


def handshake_refusal(request: Request) -> bytes | None:
    """The HTTP response refusing a malformed handshake, or None when it is sound."""
    if request.method != "GET":
        return plain_response(400, "a WebSocket handshake is a GET")
    if request.header(b"sec-websocket-version") != b"13":
        return response_head(426, [(b"sec-websocket-version", b"13"), (b"content-length", b"0")])
    key = request.header(b"sec-websocket-key") or b""
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        valid = False
    return None if valid else plain_response(400, "invalid Sec-WebSocket-Key")


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


class WebSocketSession:
    """The ASGI ``websocket`` scope's receive and send over one connection."""

    __slots__ = (
        "_close_timer",
        "_events",
        "_key",
        "_reader",
        "_waiter",
        "connection",
        "state",
    )

    def __init__(self, connection: ServerConnection, request: Request, max_size: int) -> None:
        self.connection = connection
        self.state = CONNECTING
        self._key = request.header(b"sec-websocket-key") or b""
        self._reader = frames.FrameReader(max_size)
        # A list, not a deque: it holds a message or two, and a deque costs 600 bytes.
        self._events: list[Event] = [{"type": "websocket.connect"}]
        self._waiter: asyncio.Future[None] | None = None
        self._close_timer: asyncio.TimerHandle | None = None

    # -- the application's side ---------------------------------------------------
    async def receive(self) -> Event:
        events = self._events
        while not events:
            if self.state == CLOSED:
                return {"type": "websocket.disconnect", "code": ABNORMAL}
            self._waiter = self.connection.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        event = events.pop(0)
        if len(events) < MAX_BACKLOG:
            self.connection.resume_reading(self.connection.BACKLOG)
        return event

    async def send(self, event: Event) -> None:
        kind = event["type"]
        if kind == "websocket.send":
            if self.state != OPEN:
                raise Disconnected("the WebSocket is closed")
            text = event.get("text")
            if text is not None:
                # Framed once for every socket (write_now may have done it); encoding
                # again only to raise what text UTF-8 cannot carry.
                frame = frames.event_text_frame(event) or frames.text_frame(text.encode())
            else:
                frame = frames.encode_frame(frames.BINARY, bytes(event["bytes"]))
            await self.connection.write_when_drained(frame)
        elif kind == "websocket.accept":
            self._accept(event)
        elif kind == "websocket.close":
            if self.state == CONNECTING:
                self.state = CLOSED
                self.connection.finish(plain_response(403, "WebSocket refused"))
            elif self.state == OPEN:
                self.start_closing(event.get("code") or 1000, event.get("reason") or "")
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on a WebSocket")

    def write_now(self, event: Event) -> bool:
        """Write a ``websocket.send`` text event at once, framed once for every socket
        it goes to; False when this socket cannot take it now (then ``send()``)."""
        connection = self.connection
        transport = connection.transport
        if self.state != OPEN or connection.writing_paused or transport.is_closing():
            return False
        frame = frames.event_text_frame(event)
        if frame is None:
            return False  # send() reports what cannot be sent
        transport.write(frame)
        return True

    def _accept(self, event: Event) -> None:
        if self.state != CONNECTING:
            raise RuntimeError("websocket.accept sent twice")
        headers: Headers = [
            (b"upgrade", b"websocket"),
            (b"connection", b"Upgrade"),
            (b"sec-websocket-accept", accept_key(self._key)),
        ]
        subprotocol = event.get("subprotocol")
        if subprotocol:
            headers.append((b"sec-websocket-protocol", subprotocol.encode()))
        headers += [(bytes(name), bytes(value)) for name, value in event.get("headers") or ()]
        self.state = OPEN
        self._key = b""
        self.connection.write(response_head(101, headers))

    # -- the peer's side ------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self.state == CONNECTING or self.state == CLOSED:
            return  # a client must wait for the handshake's answer; nothing after close
        try:
            received = self._reader.feed(data)
        except frames.FrameError as error:
            logger.debug("closing %s: %s", self.connection.peer, error.reason)
            self._reader.closed = True
            if self.state == OPEN:
                self.start_closing(error.code, error.reason, fail=True)
            self._disconnected(error.code)
            return
        for frame in received:
            self._frame_received(frame)

    def _frame_received(self, frame: frames.Frame) -> None:
        opcode = frame.opcode
        if opcode == frames.TEXT:
            self._push({"type": "websocket.receive", "text": frame.payload})
        elif opcode == frames.BINARY:
            self._push({"type": "websocket.receive", "bytes": frame.payload})
        elif opcode == frames.PING:
            # RFC 6455 lets an endpoint answer only the latest ping; this peer reads nothing.
            if self.state == OPEN and not self.connection.writing_paused:
                assert isinstance(frame.payload, bytes)
                self.connection.write(frames.encode_frame(frames.PONG, frame.payload))
        elif opcode == frames.CLOSE:
            if self.state == OPEN:  # the peer closes first: answer with its code
                code = None if frame.code == frames.NO_STATUS else frame.code
                self.connection.write(frames.close_frame(code))
            self.state = CLOSED
            self.connection.close_transport()
            self._disconnected(frame.code)

    def _push(self, event: Event) -> None:
        self._events.append(event)
        if len(self._events) >= MAX_BACKLOG:
            self.connection.pause_reading(self.connection.BACKLOG)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _disconnected(self, code: int) -> None:
        self._events.append({"type": "websocket.disconnect", "code": code})
        self._wake()

    # -- closing --------------------------------------------------------------------
    def start_closing(self, code: int, reason: str = "", *, fail: bool = False) -> None:
        """Send a close frame and give the peer :data:`CLOSE_TIMEOUT` to answer it;
        ``fail``: it broke the protocol, so read nothing more from it (RFC 6455 7.1.7)."""
        if self.state != OPEN:
            return
        self.state = CLOSING
        if fail:
            self.connection.fail(frames.close_frame(code, reason))
        else:
            self.connection.write(frames.close_frame(code, reason))
        self._close_timer = self.connection.loop.call_later(CLOSE_TIMEOUT, self.connection.abort)

    def going_away(self, code: int) -> None:
        """The server stops: close, and tell the application at once."""
        if self.state == OPEN:
            self.start_closing(code, "server restarting")
            self._disconnected(code)

    def application_done(self) -> None:
        """The application returned: make sure the socket goes."""
        if self.state == CONNECTING:  # never accepted: refuse the handshake
            self.state = CLOSED
            self.connection.finish(plain_response(403, "WebSocket refused"))
            return
        if self.state == OPEN:
            self.start_closing(1000)
        if self.state == CLOSING and self.connection.writing_paused:
            self.connection.abort()  # it reads nothing, so it will never read the close

    def connection_lost(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if self.state != CLOSED:
            self.state = CLOSED
            self._disconnected(ABNORMAL)
