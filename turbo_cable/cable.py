"""One WebSocket connection to the cable: handshake, subscriptions and its outgoing queue.

A frame is handed to the server at once when nothing is waiting before it: the
server's ``send`` is run inline and, as it nearly always completes without waiting,
a delivery costs no task switch and an idle connection owns no task. Only when a
send has to wait (the peer reads slowly) does a writer task take over, with later
frames kept in order in a bounded queue; a socket that stops reading fills its own
queue and is dropped, so it never holds up delivery to anyone else.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from turbo_cable import protocol
from turbo_cable.asgi_types import WRITE_NOW, Event, Scope
from turbo_cable.backends import Backend
from turbo_cable.conf import CableSettings, get_origin_policy
from turbo_cable.history import Position, parse_position
from turbo_cable.identity import Identity, identify
from turbo_cable.inline_send import send_inline
from turbo_cable.origins import origin_allowed, site_origins
from turbo_cable.streams import RejectedStreamName, plain_stream_name, session_key_from_cookies
from turbo_cable.warning_limit import client_warnings

logger = logging.getLogger("turbo_cable")


CLOSE_TIMEOUT = 5.0
MAX_TARGET_LENGTH = 200  # characters of the element id a page wants presence rendered in


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"


def asgi_close_codes(code: int) -> tuple[int, ...]:
    """The close code to try, then the private-use twin for servers that refuse it.

    Some servers (daphne) only let the application send 1000 or 3000-4999, so
    1009 is retried as 4009, 1001 as 4001, and so on.
    """
    if code == 1000 or 3000 <= code <= 4999:
        return (code,)
    return (code, 4000 + code % 1000)


class Connection:
    """A subscribed browser: what it listens to and the frames waiting for it."""

    __slots__ = (
        "_backend",
        "_closing",
        "_identity",
        "_queue",
        "_queue_limit",
        "_queued_chars",
        "_queued_chars_limit",
        "_send",
        "_serving",
        "_write_now",
        "_writer",
        "client",
        "closed",
        "ended_by_server",
        "last_seen",
        "peer",
        "scope",
        "session_key",
        "subscriptions",
    )

    def __init__(
        self,
        send: Any,
        backend: Backend,
        peer: str,
        settings: CableSettings,
        client: str = "unknown",
    ) -> None:
        self._send = send
        # The server's way to write a frame at once, where it offers one (the cable's
        # uvicorn protocol): no coroutine per delivery at all.
        self._write_now: Callable[[Event], bool] | None = None
        self._backend = backend
        self._queue: collections.deque[Event] | None = None  # made when a send has to wait
        self._queue_limit = settings.SEND_QUEUE_SIZE
        self._queued_chars = 0
        self._queued_chars_limit = settings.SEND_QUEUE_BYTES
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._serving: asyncio.Task[Any] | None = None
        self.closed = False
        self.ended_by_server = False
        self.client = client
        self.last_seen = time.monotonic()
        self.peer = peer
        self.session_key: str | None = None  # from the handshake, for session-bound names
        self.scope: Scope = {}  # the handshake's, read only if identity is needed
        self._identity: tuple[Identity | None] | None = None  # once known
        self.subscriptions: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Connection {self.peer} streams={len(self.subscriptions)}>"

    # -- outgoing -----------------------------------------------------------------
    def deliver(self, event: Event) -> None:
        if self.closed:
            return
        queue = self._queue
        if queue is None:
            write_now = self._write_now
            if write_now is None or not write_now(event):
                self._send_now(event)
            return
        size = len(event.get("text") or "")
        if queue and (
            len(queue) >= self._queue_limit or self._queued_chars + size > self._queued_chars_limit
        ):
            logger.warning(
                "dropping slow connection %s: %d frames (%d characters) unsent",
                self.peer,
                len(queue),
                self._queued_chars,
            )
            if self._backend.stats is not None:
                self._backend.stats.dropped_slow += 1
            self.close(protocol.POLICY_VIOLATION, "slow consumer", flush=False)
        else:
            queue.append(event)
            self._queued_chars += size

    def write_now_with(self, write_now: Callable[[Event], bool] | None) -> None:
        """Use the server's synchronous write while the socket takes data (see
        :mod:`turbo_cable.uvicorn_protocol`); ``send()`` stays the way when it does not."""
        self._write_now = write_now

    def send_text(self, text: str) -> None:
        self.deliver({"type": "websocket.send", "text": text})

    def _send_now(self, event: Event) -> None:
        """Run the server's ``send`` inline; if it has to wait, a writer task finishes it."""
        try:
            unfinished = send_inline(self._send, event)
        except Exception as exc:
            self._lost(exc)
            return
        if unfinished is None:
            return
        self._queue = collections.deque()
        self._writer = asyncio.get_running_loop().create_task(self._write(unfinished))

    async def _write(self, unfinished: Coroutine[Any, Any, None]) -> None:
        """Finish the send that had to wait, then the frames queued behind it."""
        try:
            await unfinished
            await self._drain()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._lost(exc)
        finally:
            self._writer = None

    async def _drain(self) -> None:
        """Send what queued up; then frames go out inline again and the queue is freed."""
        queue, send = self._queue, self._send
        while queue:
            event = queue.popleft()
            self._queued_chars -= len(event.get("text") or "")
            await send(event)
        self._queue = None
        self._queued_chars = 0

    def _lost(self, exc: Exception) -> None:
        """The peer went away mid-send."""
        logger.debug("send to %s failed: %r", self.peer, exc)
        self.closed = True
        self._backend.disconnect(self)

    # -- closing ------------------------------------------------------------------
    def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Close with ``code``, then end the connection's application, so the server
        releases the socket even when the peer sends nothing more.

        ``flush`` sends what is queued (and an error frame) first; without it, a peer
        that stopped reading gets no close frame, which it could never read anyway.
        """
        if self.closed:
            return
        self.closed = True
        self._backend.disconnect(self)
        error = None
        if flush and code not in (protocol.NORMAL, protocol.GOING_AWAY):
            error = protocol.encode_error(reason, code)
        stalled = self._writer is not None
        if not flush and stalled:
            self._writer.cancel()  # type: ignore[union-attr]
            self._queue = None
        self._closing = asyncio.get_running_loop().create_task(
            self._close(code, reason, error, send_close=flush or not stalled)
        )

    async def _close(self, code: int, reason: str, error: str | None, *, send_close: bool) -> None:
        try:
            if send_close:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    if self._writer is not None and not self._writer.done():
                        await asyncio.wait([self._writer])
                    await self._drain()
                    if error is not None:
                        await self._send({"type": "websocket.send", "text": error})
                    await self._send_close(code, reason)
        except Exception as exc:
            logger.debug("closing %s failed: %r", self.peer, exc)
        finally:
            self._end_serving()

    def serve_in(self, task: asyncio.Task[Any] | None) -> None:
        """The task running this connection's application, ended once it is closed."""
        self._serving = task

    def _end_serving(self) -> None:
        """End the application's receive loop: both servers release a socket only
        when its application has returned."""
        task = self._serving
        if task is not None and not task.done() and task is not asyncio.current_task():
            self.ended_by_server = True
            task.cancel()

    async def close_now(self, code: int, reason: str) -> None:
        """Close without waiting for queued frames: the task itself is ending."""
        self.closed = True
        self._backend.disconnect(self)
        if self._writer is not None:
            self._writer.cancel()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._send_close(code, reason)
        except Exception as exc:
            logger.debug("closing %s failed: %r", self.peer, exc)

    async def _send_close(self, code: int, reason: str) -> None:
        for attempt in asgi_close_codes(code):
            try:
                await self._send({"type": "websocket.close", "code": attempt, "reason": reason})
                return
            except Exception:
                continue

    async def finish(self) -> None:
        """The socket is gone: stop the writer and leave every stream."""
        self.closed = True
        self._serving = None
        self._backend.disconnect(self)
        if self._writer is not None:
            self._writer.cancel()
        if self._closing is not None and not self._closing.done():
            self._closing.cancel()

    # -- incoming -----------------------------------------------------------------
    async def receive_text(self, text: str, settings: CableSettings) -> None:
        self.last_seen = time.monotonic()
        if len(text) > settings.MAX_FRAME_SIZE or (
            len(text) * 4 > settings.MAX_FRAME_SIZE and len(text.encode()) > settings.MAX_FRAME_SIZE
        ):
            self._refuse(protocol.ProtocolError("frame too large", protocol.MESSAGE_TOO_BIG))
            return
        try:
            message = protocol.decode_client_message(text)
        except protocol.ProtocolError as error:
            self._refuse(error)
            return
        if message.type == "subscribe":
            since = parse_position(message.extra)
            wire = message.stream or ""
            stream = await self._subscribe(wire, settings, since)
            seen = message.extra.get("presence")
            if stream is not None and seen:
                await self._join_presence(stream, wire, seen)
        elif message.type == "unsubscribe":
            await self._backend.unsubscribe(self, message.stream or "")

    async def identity(self) -> Identity | None:
        """Who is on the other end (None: anonymous), found on first use and kept."""
        if self._identity is None:
            self._identity = (await identify(self.scope),)
        return self._identity[0]

    async def _join_presence(self, stream: str, wire: str, seen: Any) -> None:
        """``"presence": true``, or ``{"target": id}`` for a rendered update of that element."""
        target = seen.get("target") if isinstance(seen, dict) else None
        if not (isinstance(target, str) and 0 < len(target) <= MAX_TARGET_LENGTH):
            target = None
        identity = await self.identity()
        if not self.closed and self.subscriptions.get(wire) == stream:  # still there
            self._backend.presence.join(stream, self, identity, target)

    def receive_bytes(self) -> None:
        self.last_seen = time.monotonic()
        self._refuse(
            protocol.ProtocolError("binary frames are not supported", protocol.UNSUPPORTED_DATA)
        )

    def _refuse(self, error: protocol.ProtocolError) -> None:
        client_warnings.warning(self.peer, "refused frame from %s: %s", self.peer, error.reason)
        if error.close_code is None:
            self.send_text(protocol.encode_error(error.reason))
        else:
            self.close(error.close_code, error.reason)

    async def _subscribe(
        self, wire: str, settings: CableSettings, since: Position | None = None
    ) -> str | None:
        """Subscribe to ``wire``; returns its plain name, or None when it was rejected."""
        reason = None
        stream = None
        if len(wire) > settings.MAX_STREAM_NAME_LENGTH:
            reason = "stream name too long"
        elif wire in self.subscriptions:
            self.send_text(protocol.encode_subscribed(wire))
            return self.subscriptions[wire]
        elif len(self.subscriptions) >= settings.MAX_SUBSCRIPTIONS:
            reason = "too many subscriptions"
        else:
            try:
                stream = plain_stream_name(wire, session_key=self.session_key)
            except RejectedStreamName as rejected:
                reason = rejected.reason
        if reason is not None or stream is None:
            client_warnings.warning(
                self.peer, "rejected subscription from %s to %.80r: %s", self.peer, wire, reason
            )
            if self._backend.stats is not None:
                self._backend.stats.reject(reason or "rejected")
            self.send_text(protocol.encode_reject(wire, reason or "rejected"))
            return None
        logger.debug("%s subscribes to %r since %s", self.peer, stream, since)
        await self._backend.subscribe(self, stream, wire, since)
        return stream


async def serve_cable(
    scope: Scope, receive: Any, send: Any, backend: Backend, settings: CableSettings
) -> None:
    """The ASGI WebSocket application behind ``CABLE_PATH``."""
    if (await receive())["type"] != "websocket.connect":
        return
    peer, client = _peer(scope), _client_host(scope)
    origin = _header(scope, b"origin")
    policy = get_origin_policy()
    if not origin_allowed(origin, policy, site_origins(scope, policy)):
        logger.warning("refused cable handshake from %s: origin %r not allowed", peer, origin)
        await send({"type": "websocket.close", "code": protocol.POLICY_VIOLATION})
        return
    await send({"type": "websocket.accept"})
    connection = Connection(send, backend, peer, settings, client)
    connection.scope = scope
    connection.write_now_with((scope.get("extensions") or {}).get(WRITE_NOW))
    if settings.SESSION_BOUND_STREAMS:
        connection.session_key = session_key_from_cookies(_header(scope, b"cookie"))
    full = backend.admission_refusal(client)
    if full is not None:
        # Accepted first, so a browser sees the code and backs off instead of retrying at once.
        logger.warning("refused cable connection from %s: %s", peer, full)
        await connection.close_now(protocol.TRY_AGAIN_LATER, full)
        return
    connection.serve_in(asyncio.current_task())
    await backend.connect(connection)
    logger.debug("cable connected: %s", peer)
    try:
        while await _received(connection, await receive(), settings):
            pass
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if connection.ended_by_server and task is not None and task.uncancel() == 0:
            return  # the connection closed itself; returning lets the server free the socket
        # The server is stopping this application (daphne does on shutdown).
        await connection.close_now(protocol.GOING_AWAY, "server shutting down")
        raise
    finally:
        await connection.finish()
        logger.debug("cable disconnected: %s", peer)


async def _received(connection: Connection, event: Event, settings: CableSettings) -> bool:
    """Handle one event from the client; False once it has gone. A function of its own so
    that :func:`serve_cable` keeps no message while it waits for the next one."""
    kind = event["type"]
    if kind == "websocket.disconnect":
        return False
    if kind == "websocket.receive" and not connection.closed:
        text = event.get("text")
        if text is not None:
            await connection.receive_text(text, settings)
        else:
            connection.receive_bytes()
    return True
