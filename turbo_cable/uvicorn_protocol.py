"""uvicorn's WebSocket protocol with the bounds the cable promises, for ``--ws``.

Run uvicorn with ``--ws turbo_cable.uvicorn_protocol:WebSocketProtocol``. It is
uvicorn's fastest protocol (``websockets-sansio``) with three changes, each a bound
on what one client can make the process hold:

- Incoming messages are limited to ``MAX_FRAME_SIZE``, so the server refuses a larger
  one as its header arrives instead of buffering up to its own 16 MiB first.
- While the client does not read what is sent to it, nothing more is read from it
  and its pings get no pong: otherwise a client that sends pings and never reads makes
  the server queue one pong per ping without limit.
- Once the application has finished with a connection, its socket is released
  within ``CLOSE_TIMEOUT`` seconds even if the peer never reads the closing bytes
  (a plain close waits for them forever), and at once if the peer is not reading.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from turbo_cable.conf import get_settings

CLOSE_TIMEOUT = 5.0  # seconds a closing peer gets to read our close frame and answer


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """``websockets-sansio`` with bounded input, pong backpressure and a hard close."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.max_message_size = get_settings().MAX_FRAME_SIZE
        self.close_timeout = CLOSE_TIMEOUT
        self.peer_stalled = False
        self._abort_timer: asyncio.TimerHandle | None = None

    # -- the peer stops reading: stop reading from it ---------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        self.peer_stalled = True
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        self.peer_stalled = False
        if not self.read_paused and not self.transport.is_closing():
            self.transport.resume_reading()

    async def receive(self) -> Any:
        message = await super().receive()
        if self.peer_stalled and not self.transport.is_closing():
            self.transport.pause_reading()  # uvicorn resumed reading for the application
        return message

    def handle_ping(self) -> None:
        if self.peer_stalled:
            # RFC 6455 lets an endpoint answer only the latest ping; this peer reads nothing.
            self.conn.data_to_send()
            return
        super().handle_ping()

    # -- the application is done: make sure the socket goes --------------------------
    async def run_asgi(self) -> None:
        await super().run_asgi()
        if not self.disconnected:
            delay = 0.0 if self.peer_stalled else CLOSE_TIMEOUT
            self._abort_timer = self.loop.call_later(delay, self._abort)

    def _abort(self) -> None:
        self._abort_timer = None
        if not self.disconnected:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._abort_timer is not None:
            self._abort_timer.cancel()
            self._abort_timer = None
        super().connection_lost(exc)
