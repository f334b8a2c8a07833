"""One HTTP request under the cable's own server, as an ASGI ``http`` scope.

A response's head goes out with its first body in one write (a broadcast's answer
is one packet, not two). A body the application has not read yet is held up to
:data:`MAX_UNREAD_BODY` bytes; beyond that the connection stops reading until it does.
A response that starts before the whole body arrived (the broadcast endpoint's 400
for a body over its limit) says ``connection: close``: the connection ends after it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from turbo_cable.asgi_types import Event
from turbo_cable.server.http11 import BodyReader, Headers, Request, response_head

if TYPE_CHECKING:
    from turbo_cable.server.connection import ServerConnection

logger = logging.getLogger("turbo_cable.server")

MAX_UNREAD_BODY: Final = 64 * 1024
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


class HttpExchange:
    """A request's body in, its response out; then the connection serves the next."""

    __slots__ = (
        "_body_delivered",
        "_chunked",
        "_continue_sent",
        "_head",
        "_status",
        "_unread",
        "_waiter",
        "body",
        "connection",
        "keep_alive",
        "request",
        "response_done",
        "response_started",
    )

    def __init__(self, connection: ServerConnection, request: Request, body: BodyReader) -> None:
        self.connection = connection
        self.request = request
        self.body = body
        self.keep_alive = request.keep_alive
        self.response_started = False
        self.response_done = False
        self._unread: list[bytes] = []
        self._body_delivered = False
        self._waiter: asyncio.Future[None] | None = None
        self._continue_sent = False
        self._head: Headers | None = None
        self._status = 200
        self._chunked = False

    # -- the request body ---------------------------------------------------------
    def body_received(self, data: bytes) -> None:
        """Bytes of the body (or, once it ended, nothing: the caller keeps the rest)."""
        if data:
            self._unread.append(data)
            if sum(map(len, self._unread)) > MAX_UNREAD_BODY:
                self.connection.pause_reading(self.connection.BODY)
        self._wake()

    def disconnected(self) -> None:
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def receive(self) -> Event:
        while not (self._unread or (self.body.done and not self._body_delivered)):
            if self.connection.lost or self.response_done:
                return {"type": "http.disconnect"}
            self._ask_for_body()
            self._waiter = self.connection.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        body = b"".join(self._unread)
        self._unread.clear()
        self._body_delivered = self.body.done
        self.connection.resume_reading(self.connection.BODY)
        return {"type": "http.request", "body": body, "more_body": not self.body.done}

    def _ask_for_body(self) -> None:
        if not self._continue_sent and not self.body.done:
            self._continue_sent = True
            if b"100-continue" in self.request.tokens(b"expect"):
                self.connection.write(CONTINUE)

    # -- the response -------------------------------------------------------------
    async def send(self, event: Event) -> None:
        kind = event["type"]
        if kind == "http.response.start":
            if self.response_started:
                raise RuntimeError("http.response.start sent twice")
            self.response_started = True
            self._status = int(event["status"])
            self._head = [(bytes(name).lower(), bytes(value)) for name, value in event["headers"]]
        elif kind == "http.response.body":
            if not self.response_started or self.response_done:
                raise RuntimeError("http.response.body outside a response")
            body = bytes(event.get("body", b""))
            more = bool(event.get("more_body", False))
            self.response_done = not more
            self._write_body(body, more)
            if more:
                await self.connection.drained()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an HTTP request")

    def _write_body(self, body: bytes, more: bool) -> None:
        head_only = self.request.method == "HEAD"
        out = b""
        if self._head is not None:
            headers, self._head = self._head, None
            names = {name for name, _ in headers}
            if b"content-length" not in names:
                if more:
                    self._chunked = True
                    headers.append((b"transfer-encoding", b"chunked"))
                else:
                    headers.append((b"content-length", str(len(body)).encode()))
            if not self.body.done:  # answered early: the unread rest cannot be skipped
                self.keep_alive = False
            if not self.keep_alive:
                headers.append((b"connection", b"close"))
            out = response_head(self._status, headers)
        if not head_only:
            if self._chunked:
                if body:
                    out += b"%x\r\n%b\r\n" % (len(body), body)
                if not more:
                    out += b"0\r\n\r\n"
            else:
                out += body
        if out:
            self.connection.write(out)

    def application_done(self) -> None:
        """The application returned: answer 500 if it never did, and end a cut response."""
        if not self.response_started:
            logger.error("no response to %s %s", self.request.method, self.request.path)
            self.keep_alive = False
            self.response_started = True
            self._head = [(b"content-type", b"text/plain; charset=utf-8")]
            self._status = 500
        if not self.response_done:
            self.keep_alive = False
            self.response_done = True
            self._write_body(b"Internal Server Error\n" if self._head else b"", False)
