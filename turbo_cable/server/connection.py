"""One TCP connection to the cable's own server: HTTP requests, then maybe a WebSocket.

It reads request heads, hands each request to the application as an ASGI scope
(:mod:`~turbo_cable.server.http_exchange` or :mod:`~turbo_cable.server.websocket`)
and owns what one client can hold: a head of at most ``MAX_HEAD_SIZE`` bytes that
must arrive within :data:`IDLE_TIMEOUT`, a body within :data:`BODY_TIMEOUT`,
reading paused while the application is behind or the peer stops reading, and
the socket itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from turbo_cable.asgi_types import WRITE_NOW, Scope
from turbo_cable.server.http11 import (
    MAX_HEAD_SIZE,
    BadRequest,
    Request,
    body_reader,
    parse_head,
    plain_response,
)
from turbo_cable.server.http_exchange import HttpExchange
from turbo_cable.server.scopes import build_scope
from turbo_cable.server.websocket import (
    Disconnected,
    WebSocketSession,
    handshake_refusal,
    is_upgrade,
)

if TYPE_CHECKING:
    from turbo_cable.server.serve import ServerState

logger = logging.getLogger("turbo_cable.server")

IDLE_TIMEOUT: Final = 5.0  # seconds for a request head to arrive, and between requests
BODY_TIMEOUT: Final = 30.0  # seconds for a request body to arrive once its head has
SERVICE_RESTART: Final = 1012


class ServerConnection(asyncio.Protocol):
    """The protocol of one accepted socket."""

    # Why reading is paused; reading resumes when none is left.
    BACKLOG: Final = 1  # the application has not taken the WebSocket messages read
    STALLED: Final = 2  # the peer does not read what is written to it
    BODY: Final = 4  # the application has not read the request body
    PIPELINE: Final = 8  # a next request arrived while this one is served
    FAILED: Final = 16  # the peer broke the protocol: nothing it sends counts any more

    __slots__ = (
        "_buffer",
        "_deadline",
        "_drain_waiter",
        "_handler",
        "_read_blocks",
        "loop",
        "lost",
        "peer",
        "server",
        "transport",
        "writing_paused",
    )

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set at once
        self.peer: tuple[str, int] | None = None
        self.lost = False
        self.writing_paused = False
        self._buffer = b""
        self._handler: HttpExchange | WebSocketSession | None = None
        self._read_blocks = 0
        self._drain_waiter: asyncio.Future[None] | None = None
        self._deadline: asyncio.TimerHandle | None = None

    # -- asyncio's side ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        self.server.connections.add(self)
        if self.server.stopping:
            self.transport.close()
            return
        self._set_timer(IDLE_TIMEOUT, self._idle)

    def data_received(self, data: bytes) -> None:
        handler = self._handler
        if handler.__class__ is WebSocketSession:
            handler.data_received(data)
            return
        if handler is not None and not handler.body.done:  # type: ignore[union-attr]
            try:
                body, data = handler.body.feed(data)  # type: ignore[union-attr]
            except BadRequest as refused:
                self.finish(plain_response(refused.status, refused.reason))
                return
            handler.body_received(body)  # type: ignore[union-attr]
            if handler.body.done:  # type: ignore[union-attr]
                self._set_timer(None)
            if not data:
                return
        self._buffer += data
        if handler is None:
            self._next_request()
        elif len(self._buffer) > MAX_HEAD_SIZE:
            self.pause_reading(self.PIPELINE)

    def eof_received(self) -> bool | None:
        return None  # close: the cable never serves a half-closed connection

    def pause_writing(self) -> None:
        self.writing_paused = True
        self.pause_reading(self.STALLED)

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_drain()
        self.resume_reading(self.STALLED)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.server.forget(self)
        self._set_timer(None)
        handler = self._handler
        if isinstance(handler, WebSocketSession):
            handler.connection_lost()
        elif handler is not None:
            handler.disconnected()
        self._wake_drain()

    # -- requests -----------------------------------------------------------------------
    def _next_request(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 and len(self._buffer) <= MAX_HEAD_SIZE:
            return
        if not 0 <= end <= MAX_HEAD_SIZE:
            self.finish(plain_response(431, "request head too large"))
            return
        head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
        self._set_timer(None)
        try:
            request = parse_head(head)
            if is_upgrade(request):
                refusal = handshake_refusal(request)
                if refusal is not None:
                    self.finish(refusal)
                    return
                session = WebSocketSession(self, request, self.server.max_frame_size)
                self._handler = session
                self._buffer = b""
                scope = self._scope("websocket", request)
                scope["extensions"] = {WRITE_NOW: session.write_now}
                self.loop.create_task(self._serve(scope, session))
                return
            exchange = HttpExchange(self, request, body_reader(request))
        except BadRequest as refused:
            self.finish(plain_response(refused.status, refused.reason))
            return
        self._handler = exchange
        if self.server.stopping:
            exchange.keep_alive = False
        if not exchange.body.done:
            self._set_timer(BODY_TIMEOUT, self._body_late)
        if self._buffer and not exchange.body.done:
            data, self._buffer = self._buffer, b""
            self.data_received(data)
        self.loop.create_task(self._serve(self._scope("http", exchange.request), exchange))

    def _scope(self, kind: str, request: Request) -> Scope:
        client, scheme = self.server.proxy_trust.client(request, self.peer)
        return build_scope(kind, request, client, self.server.address, scheme, self.server.state)

    async def _serve(self, scope: Scope, handler: HttpExchange | WebSocketSession) -> None:
        try:
            await self.server.app(scope, handler.receive, handler.send)
        except Disconnected:
            pass
        except Exception:
            logger.exception("the application failed on %s %s", scope["type"], scope["path"])
        finally:
            handler.application_done()
            if isinstance(handler, HttpExchange):
                self._request_done(handler)

    def _request_done(self, exchange: HttpExchange) -> None:
        """Serve the next request on this connection, or close it."""
        if self.lost or self._handler is not exchange:
            return
        if not (exchange.keep_alive and exchange.body.done) or self.server.stopping:
            self.transport.close()
            return
        self._handler = None
        self.resume_reading(self.BODY | self.PIPELINE)
        self._set_timer(IDLE_TIMEOUT, self._idle)
        if self._buffer:
            self._next_request()

    def _set_timer(self, delay: float | None, callback: Any = None) -> None:
        """The one deadline this connection keeps (None: none), replacing any other."""
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None if delay is None else self.loop.call_later(delay, callback)

    def _idle(self) -> None:
        self._deadline = None
        if self._handler is None:
            self.transport.close()

    def _body_late(self) -> None:
        """A body that trickles in would hold the socket for as long as its sender likes."""
        self._deadline = None
        handler = self._handler
        if isinstance(handler, HttpExchange) and not handler.body.done:
            logger.debug("closing %s: request body not sent within %s s", self.peer, BODY_TIMEOUT)
            self.transport.close()

    # -- what the handlers call -----------------------------------------------------------
    def write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def close_transport(self) -> None:
        self.transport.close()

    def abort(self) -> None:
        if not self.lost:
            self.transport.abort()

    def fail(self, last_words: bytes) -> None:
        """Write ``last_words`` (a close frame), then read nothing more and end our side:
        the peer reads them and sees the end, while whatever it still sends waits in its
        own buffers until the socket goes."""
        self.pause_reading(self.FAILED)
        if not self.transport.is_closing():
            self.transport.write(last_words)
            if self.transport.can_write_eof():
                self.transport.write_eof()

    def finish(self, response: bytes) -> None:
        """Answer with ``response`` and close: nothing more is read."""
        self._buffer = b""
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    async def write_when_drained(self, data: bytes) -> None:
        if self.writing_paused:
            await self.drained()
        if self.lost or self.transport.is_closing():
            raise Disconnected("the connection is closed")
        self.transport.write(data)

    async def drained(self) -> None:
        while self.writing_paused and not self.lost:
            if self._drain_waiter is None:
                self._drain_waiter = self.loop.create_future()
            await asyncio.shield(self._drain_waiter)

    def _wake_drain(self) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_reading(self, why: int) -> None:
        if not self._read_blocks and not self.transport.is_closing():
            self.transport.pause_reading()
        self._read_blocks |= why

    def resume_reading(self, why: int) -> None:
        if not self._read_blocks & why:
            return
        self._read_blocks &= ~why
        if not self._read_blocks and not self.transport.is_closing():
            self.transport.resume_reading()

    # -- the server stops -----------------------------------------------------------------
    def shutdown(self) -> None:
        """Close a WebSocket as a service restart; end an idle HTTP connection."""
        handler = self._handler
        if isinstance(handler, WebSocketSession):
            handler.going_away(SERVICE_RESTART)
        elif handler is None:
            self.transport.close()
        else:
            handler.keep_alive = False
