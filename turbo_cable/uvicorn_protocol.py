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

And one addition, for speed: the scope's ``turbo_cable.write_now`` extension writes
a text message at once, framed once per event however many sockets it goes to
(server frames are not masked, so every socket gets the same bytes); the cable
uses it while the socket takes data, and ``send()`` otherwise.

And it keeps less per socket than uvicorn's class (about 10 KiB an idle connection
instead of 20): a list-based queue of received messages and writable flag, the
attributes as slots, and nothing of the handshake once the socket is open.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

from turbo_cable.asgi_types import WRITE_NOW
from turbo_cable.conf import get_settings
from turbo_cable.server.frames import event_text_frame

CLOSE_TIMEOUT = 5.0  # seconds a closing peer gets to read our close frame and answer


class _Inbox:
    """The received messages ``receive()`` hands out: what uvicorn does with its
    ``asyncio.Queue`` (``put_nowait``, ``empty``, a wait in ``receive()``) without the
    queue's three deques and event, 3 KiB per socket for one message at a time."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getters: list[asyncio.Future[None]] = []

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self._wake_next()

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> Any:
        return self._items.pop(0)

    def waiter(self) -> asyncio.Future[None]:
        """A future done when a message may be there; awaited with no coroutine frame."""
        getter = asyncio.get_running_loop().create_future()
        self._getters.append(getter)
        return getter

    def forget(self, getter: asyncio.Future[None]) -> None:
        """``getter``'s waiting was cancelled: pass on a wake-up it took, as the queue does."""
        getter.cancel()
        with contextlib.suppress(ValueError):
            self._getters.remove(getter)
        if self._items and not getter.cancelled():
            self._wake_next()

    def _wake_next(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break


class _Flag:
    """``asyncio.Event`` without its deque (760 bytes per socket): uvicorn's ``writable``,
    waited on only while the peer does not read."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = True
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            for waiter in self._waiters or ():
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            self._waiters.remove(waiter)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """``websockets-sansio`` with bounded input, pong backpressure and a hard close."""

    # uvicorn's attributes as slots: its class has a __dict__, and with some 40 names
    # every socket's outgrows the shared-key form (1.5 KiB instead of 8 bytes a name).
    # A name uvicorn adds later still works, in the __dict__.
    __slots__ = (
        "_abort_timer",
        "_inbox",
        "app",
        "app_state",
        "asgi_version",
        "client",
        "close_sent",
        "close_timeout",
        "close_timer",
        "config",
        "conn",
        "connections",
        "curr_msg_data_type",
        "default_headers",
        "disconnected",
        "frames",
        "handshake_complete",
        "handshake_initiated",
        "initial_response",
        "last_ping_rtt",
        "logger",
        "loop",
        "peer_stalled",
        "pending_ping_payload",
        "ping_interval",
        "ping_sent_at",
        "ping_timeout",
        "ping_timer",
        "pong_timer",
        "queue",
        "read_paused",
        "request",
        "response",
        "root_path",
        "scheme",
        "scope",
        "server",
        "tasks",
        "transport",
        "writable",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = _Inbox()
        self.queue = self._inbox  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]
        self.conn.max_message_size = get_settings().MAX_FRAME_SIZE
        self.close_timeout = CLOSE_TIMEOUT
        self.peer_stalled = False
        self._abort_timer: asyncio.TimerHandle | None = None

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # Never read again: the scope has the headers. websockets' parser keeps the request
        # in a local for the life of the socket, so its headers (2 KiB) go empty here.
        self.request = None  # type: ignore[assignment]
        event.headers.clear()
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            # Added to uvicorn's own dict (made for this scope) rather than a copy of it.
            extensions = scope.get("extensions")
            if extensions is None:
                extensions = scope["extensions"] = {}
            extensions[WRITE_NOW] = self.write_now

    def start_keepalive(self) -> None:
        # uvicorn calls this once, right after it wrote the handshake response: from now
        # on the response (2 KiB of headers) is never read again.
        super().start_keepalive()
        self.response = None  # type: ignore[assignment]

    def write_now(self, event: dict[str, Any]) -> bool:
        """Write a ``websocket.send`` text event now; False when the socket cannot take
        it at once (the peer is slow, closing, or an extension rewrites frames)."""
        if (
            self.peer_stalled
            or not self.writable.is_set()
            or self.close_sent
            or self.disconnected
            or self.conn.state is not State.OPEN
            or self.conn.extensions
            or self.transport.is_closing()
        ):
            return False
        frame = event_text_frame(event)
        if frame is None:
            return False  # send() reports what cannot be sent
        self.transport.write(frame)
        return True

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
        # uvicorn's receive() with the queue's get() inlined: one coroutine frame less
        # for every idle socket to keep.
        inbox = self._inbox
        while inbox.empty():
            getter = inbox.waiter()
            try:
                await getter
            except BaseException:
                inbox.forget(getter)
                raise
        message = inbox.get_nowait()
        if self.read_paused and inbox.empty():
            self.read_paused = False
            self.transport.resume_reading()
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
    def on_task_complete(self, task: asyncio.Task[None]) -> None:
        # The application's task is done (uvicorn's run_asgi() catches what it raises).
        # A done callback rather than an override of run_asgi(): each idle socket's task
        # keeps one coroutine frame less.
        super().on_task_complete(task)
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
