"""The interface every backend implements, and what they all share.

A backend owns this process's :class:`~turbo_cable.hub.Hub` (streams to
connections), its :class:`~turbo_cable.registry.ConnectionRegistry` (the open
sockets, their caps and keep-alive) and a :class:`~turbo_cable.history.History`.
Subscribing, confirming and replaying are the same for every backend; subclasses
decide how a broadcast reaches the hub (``publish``): directly (memory) or through
another service that every process listens to (``relays``: redis), and where the
history is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from turbo_cable.conf import CableSettings, metrics_enabled
from turbo_cable.history import History, Missed, Position
from turbo_cable.hub import Connection, Hub
from turbo_cable.protocol import (
    GOING_AWAY,
    encode_message,
    encode_resync,
    encode_subscribed,
)
from turbo_cable.registry import ConnectionRegistry
from turbo_cable.stats import CableStats

if TYPE_CHECKING:
    from turbo_cable.presence_board import PresenceBoard, PresenceStore

logger = logging.getLogger("turbo_cable")

LOOP_ANSWER_TIMEOUT = 1.0  # seconds another thread waits for the loop to answer
T = TypeVar("T")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _call(function: Callable[..., T], *args: Any) -> T:
    return function(*args)


def _text(text: str) -> dict[str, Any]:
    return {"type": "websocket.send", "text": text}


class BackendUnavailable(Exception):
    """The backend cannot take a broadcast now (e.g. Redis is down)."""


class RelayPublisher(Protocol):
    """Publishes across processes from any code, with or without a cable in this process."""

    def publish_sync(self, stream: str, data: Any) -> int: ...

    async def publish(self, stream: str, data: Any) -> int: ...


class Backend:
    """What every backend shares; each one implements ``publish`` and the hooks below."""

    name: str
    relays = False  # True: streams are listened to in another service (``_listen``)

    def __init__(self, settings: CableSettings) -> None:
        self.settings = settings
        self.stats: CableStats | None = CableStats() if metrics_enabled(settings) else None
        self.hub = Hub(self.stats)
        # Positions and replay; None for backends that keep no history.
        self.history: History | None = None
        self.connections = ConnectionRegistry(settings)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping = False
        self._unlistening: set[asyncio.Task[None]] = set()
        self._keepalive: asyncio.Task[None] | None = None
        self._presence: PresenceBoard | None = None  # made when a page first asks for it

    # -- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        """Bind to the running loop and start the keep-alive loop (idempotent)."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self._keepalive = self.loop.create_task(
                self.connections.keep_alive(after_each_pass=self._tend)
            )

    async def stop(self) -> None:
        self.going_away()
        if self._presence is not None:
            self._presence.stop()
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None

    def going_away(self) -> None:
        """The server is stopping: health checks fail from now on, and every client is
        told to come back (to another process, or to this one restarted)."""
        self.stopping = True
        self.close_all(GOING_AWAY, "server shutting down")

    def unready_reason(self) -> str | None:
        """Why this process cannot serve the cable now, for the health endpoint; None
        when it can."""
        return "shutting down" if self.stopping else None

    @property
    def presence(self) -> PresenceBoard:
        """Who is on which stream, for pages that asked (see :mod:`turbo_cable.presence_board`)."""
        if self._presence is None:
            from turbo_cable.presence_board import PresenceBoard

            self._presence = PresenceBoard(self)
        return self._presence

    def presence_store(self, board: PresenceBoard) -> PresenceStore:
        """Where presence is kept: this process, for the memory backend."""
        from turbo_cable.presence_board import LocalPresenceStore

        return LocalPresenceStore(board)

    def relay_connected(self) -> bool | None:
        """Whether the link to the relaying service is up; None without one (memory)."""
        return None

    def close_all(self, code: int, reason: str) -> None:
        self.connections.close_all(code, reason)

    def _tend(self) -> None:
        """Runs after each keep-alive pass, for a backend's own housekeeping."""

    # -- connections ------------------------------------------------------------
    def admission_refusal(self, client: str) -> str | None:
        """Why one more connection from ``client`` must be refused now, or None."""
        return self.connections.refusal(client)

    async def connect(self, connection: Connection) -> None:
        await self.start()
        self.connections.add(connection)

    def disconnect(self, connection: Connection) -> None:
        """Forget a closing connection at once, so no broadcast is queued for it."""
        self.connections.remove(connection)
        if self._presence is not None:
            self._presence.leave_all(connection)
        for wire, stream in connection.subscriptions.items():
            if self.hub.discard(stream, wire, connection):
                self._last_listener_left(stream)
                self._schedule_unlisten(stream)
        connection.subscriptions.clear()

    async def subscribe(
        self,
        connection: Connection,
        stream: str,
        wire: str,
        since: Position | None = None,
    ) -> None:
        """Subscribe, confirm, then replay what the client missed after ``since``.

        Live broadcasts for this socket are held back while history is read (with a
        relay they may arrive meanwhile), then sent unless the replay covered them:
        no duplicate and no gap at the seam.
        """
        connection.subscriptions[wire] = stream
        self.hub.add(stream, wire, connection)
        self.hub.hold(wire, connection)
        now: Position | None = None
        try:
            # Heard before history is read: whatever follows the read arrives live.
            await self._listen(stream)
            now, missed = (
                (None, None) if self.history is None else await self.history.read(stream, since)
            )
            await self._caught_up()  # what the relay pushed before the read is handed on
            if now is not None:
                self._subscribed_at(stream, now)
            if self.hub.holds(wire, connection):  # it did not leave meanwhile
                self._answer(connection, stream, wire, now, since, missed)
        finally:
            self.hub.release(wire, connection, now)

    def _answer(
        self,
        connection: Connection,
        stream: str,
        wire: str,
        now: Position | None,
        since: Position | None,
        missed: Missed | None,
    ) -> None:
        """Confirm at ``now``, then replay ``missed`` after ``since``, or ask for a resync
        when history cannot cover the gap (``missed`` is None); ``now`` None: no position."""
        if now is None:
            connection.deliver(_text(encode_subscribed(wire)))
            return
        connection.deliver(_text(encode_subscribed(wire, **now.as_dict())))
        if since is None:
            return
        if missed is None:
            logger.info("cannot replay %r from %s for %r", stream, since, connection)
            connection.deliver(_text(encode_resync(wire, now.epoch, now.offset)))
            if self.stats is not None:
                self.stats.resyncs += 1
            return
        if self.stats is not None:
            self.stats.replayed += len(missed)
        for offset, data in missed:
            connection.deliver(_text(encode_message(wire, data, epoch=now.epoch, offset=offset)))

    async def unsubscribe(self, connection: Connection, wire: str) -> None:
        stream = connection.subscriptions.pop(wire, None)
        if stream is not None and self._presence is not None:
            self._presence.leave(stream, connection)
        if stream is not None and self.hub.discard(stream, wire, connection):
            self._last_listener_left(stream)
            await self._unlisten(stream)

    def _last_listener_left(self, stream: str) -> None:
        if self.history is not None:
            self.history.left(stream)  # kept for a client that comes back

    def position(self, stream: str, since: float | None = None) -> Position | None:
        """Where ``stream`` stood at ``since`` (the ``time.monotonic()`` a page's request
        began; None: now), for the page to render, from any thread, changing nothing;
        None without history, or when the loop that owns it does not answer in time."""
        if self.history is None:
            return None
        return self.call_on_loop(self.history.peek, stream, since, default=None)

    def call_on_loop(self, function: Callable[..., T], *args: Any, default: T) -> T:
        """``function(*args)`` run on this backend's loop, which owns the hub and the
        history, from any thread; ``default`` if the loop does not answer in time.

        Sync views and templates run on worker threads while the loop changes the
        same dicts; handing the call over keeps every change on one thread.
        """
        loop = self.loop
        if loop is None or loop.is_closed() or _running_loop() is loop:
            return function(*args)  # no cable runs here, or this is its thread
        future = asyncio.run_coroutine_threadsafe(_call(function, *args), loop)
        try:
            return future.result(timeout=LOOP_ANSWER_TIMEOUT)
        except (TimeoutError, RuntimeError):
            future.cancel()
            return default

    # -- broadcasting -----------------------------------------------------------
    async def publish(self, stream: str, data: Any) -> int:
        """Deliver a broadcast to every subscriber it reaches; returns the local count."""
        raise NotImplementedError

    # -- hooks for backends that relay through another service --------------------
    async def _listen(self, stream: str) -> None:
        """A local subscriber of ``stream`` arrived: hear it from now on."""

    async def _caught_up(self) -> None:
        """Returns once every message the relay pushed so far was handed to the hub."""

    def _subscribed_at(self, stream: str, now: Position) -> None:
        """A subscribe read ``stream`` at ``now``, after every earlier message was heard."""

    async def _unlisten(self, stream: str) -> None:
        """The last local subscriber of ``stream`` left."""

    def _schedule_unlisten(self, stream: str) -> None:
        """Run ``_unlisten`` from sync code, if this backend has one to run."""
        if not self.relays:
            return
        if self.loop is not None and not self.loop.is_closed():
            task = self.loop.create_task(self._unlisten(stream))
            # Keep a reference: the loop holds tasks only weakly.
            self._unlistening.add(task)
            task.add_done_callback(self._unlistening.discard)
