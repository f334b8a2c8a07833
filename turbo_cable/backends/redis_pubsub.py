"""The one Redis connection through which a process hears the streams its sockets listen to.

It is kept in step with the hub: a channel is subscribed while the stream has a
local subscriber and unsubscribed when the last one leaves. When the connection
is lost (Redis restarted, network gone, no answer to a ping) it reconnects with
backoff and subscribes again to every stream that still has local subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Callable
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError, RedisError

from turbo_cable.hub import Hub

logger = logging.getLogger("turbo_cable")

COMMAND_TIMEOUT = 1.0  # seconds for a (un)subscribe to be written and confirmed
HEALTH_INTERVAL = 5.0  # ping an idle connection this often; silence for as long means lost
BACKOFF_MIN, BACKOFF_MAX = 0.1, 2.0  # seconds between reconnection attempts
SUBSCRIBE_BATCH = 500  # channels per SUBSCRIBE when re-subscribing after a reconnect
REDIS_ERRORS = (RedisError, OSError, TimeoutError)


class PubSubLink:
    """Owns the pub/sub connection; ``sync(stream)`` makes Redis match the hub."""

    def __init__(
        self,
        pool: ConnectionPool,
        hub: Hub,
        channel: Callable[[str], bytes],
        on_message: Callable[[bytes], None],
        on_connected: Callable[[], None],
        location: str,
    ) -> None:
        self._pool = pool
        self._hub = hub
        self._channel = channel
        self._on_message = on_message
        self._on_connected = on_connected
        self._location = location
        self._connection: AbstractConnection | None = None
        self._channels: set[str] = set()  # streams subscribed on the current connection
        self._confirmations: dict[bytes, asyncio.Future[None]] = {}
        self._barriers: dict[bytes, asyncio.Future[None]] = {}  # ping token -> its pong
        self._tokens = itertools.count()
        self._lock = asyncio.Lock()  # one reconciliation at a time
        self._task: asyncio.Task[None] | None = None
        self._lost_at: float | None = None
        self._last_heard = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._pool.aclose()

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def hears(self, stream: str) -> bool:
        """Whether a publish to ``stream`` will come back to this process through Redis."""
        return stream in self._channels

    async def sync(self, stream: str) -> None:
        """Subscribe or unsubscribe ``stream`` so Redis matches the hub; never raises.

        Returns once Redis confirmed a subscription, even one another caller asked
        for, so a broadcast sent right after "subscribed" is heard.
        """
        async with self._lock:
            confirmed = await self._reconcile(stream)
        if confirmed is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await asyncio.shield(confirmed)

    async def _reconcile(self, stream: str) -> asyncio.Future[None] | None:
        """Send what makes Redis match the hub; the confirmation to wait for, if any."""
        connection = self._connection
        wanted = self._hub.subscriber_count(stream) > 0
        channel = self._channel(stream)
        if connection is None or wanted == (stream in self._channels):
            # In step already, perhaps still awaiting a confirmation; or the
            # reconnection will subscribe what is needed.
            return self._confirmations.get(channel) if wanted else None
        confirmed = None
        if wanted:
            self._channels.add(stream)
            confirmed = self._confirmations.get(channel)
            if confirmed is None:
                confirmed = asyncio.get_running_loop().create_future()
                self._confirmations[channel] = confirmed
        else:
            self._channels.discard(stream)
        try:
            await self._send(connection, b"SUBSCRIBE" if wanted else b"UNSUBSCRIBE", channel)
        except REDIS_ERRORS as exc:
            logger.debug("Redis (un)subscribe of %.80r failed: %r", stream, exc)
            return None
        return confirmed

    async def caught_up(self) -> None:
        """Returns once every message Redis pushed to this process before now is handed
        on: a ping travels behind them on the same connection. Never raises."""
        connection = self._connection
        if connection is None:
            return  # nothing is coming through a connection that is not there
        token = str(next(self._tokens)).encode()
        answered = asyncio.get_running_loop().create_future()
        self._barriers[token] = answered
        try:
            await self._send(connection, b"PING", token)
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await answered
        except REDIS_ERRORS as exc:
            logger.debug("Redis did not answer a ping in time: %r", exc)
        finally:
            self._barriers.pop(token, None)

    # -- the connection's life ------------------------------------------------------
    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while True:
            connection = self._pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                await connection.connect()
                await self._subscribe_all(connection)
                delay = BACKOFF_MIN
                await self._listen_until_lost(connection)
            except REDIS_ERRORS as exc:
                self._lost(exc)
            except Exception:  # a bug must not end cross-process delivery for good
                logger.exception("the Redis pub/sub link failed; reconnecting")
            finally:
                self._forget(connection)
                await connection.disconnect(nowait=True)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _subscribe_all(self, connection: AbstractConnection) -> None:
        async with self._lock:
            streams = self._hub.streams()
            for start in range(0, len(streams), SUBSCRIBE_BATCH):
                batch = streams[start : start + SUBSCRIBE_BATCH]
                await self._send(connection, b"SUBSCRIBE", *map(self._channel, batch))
            self._channels = set(streams)
            self._connection = connection
        # What was published while no connection listened is only in the streams' logs.
        self._on_connected()
        if self._lost_at is not None:
            logger.warning(
                "reconnected to Redis at %s after %.1fs; %d stream(s) subscribed again",
                self._location,
                asyncio.get_running_loop().time() - self._lost_at,
                len(streams),
            )
            self._lost_at = None

    def _lost(self, exc: BaseException) -> None:
        if self._lost_at is None:
            self._lost_at = asyncio.get_running_loop().time()
            logger.warning(
                "Redis at %s is unreachable (%s); serving local sockets only until it is back",
                self._location,
                exc,
            )
        else:
            logger.debug("Redis at %s still unreachable: %r", self._location, exc)

    def _forget(self, connection: AbstractConnection) -> None:
        if self._connection is connection:
            self._connection = None
            self._channels = set()
        confirmations, self._confirmations = self._confirmations, {}
        barriers, self._barriers = self._barriers, {}
        for waiting in (*confirmations.values(), *barriers.values()):
            if not waiting.done():
                waiting.set_result(None)

    async def _listen_until_lost(self, connection: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self._read(connection)),
            loop.create_task(self._watch(connection)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome

    async def _read(self, connection: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            reply: Any = await connection.read_response(disconnect_on_error=False)
            self._last_heard = loop.time()
            if not isinstance(reply, list) or len(reply) < 3:
                self._answered(reply)
                continue
            kind, channel, payload = reply[0], reply[1], reply[2]
            if kind == b"message":
                self._on_message(payload)
            elif kind == b"subscribe":
                waiting = self._confirmations.pop(channel, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)

    def _answered(self, reply: Any) -> None:
        """A pong: the health check's, or the one a :meth:`caught_up` waits for."""
        if isinstance(reply, list) and len(reply) == 2 and reply[0] == b"pong":
            waiting = self._barriers.pop(reply[1], None)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def _watch(self, connection: AbstractConnection) -> None:
        """Ping every interval; a whole interval without an answer means the link is dead."""
        loop = asyncio.get_running_loop()
        pinged_at: float | None = None
        while True:
            await asyncio.sleep(HEALTH_INTERVAL)
            if pinged_at is not None and self._last_heard < pinged_at:
                raise ConnectionError(f"no answer to a ping in {HEALTH_INTERVAL:g}s")
            pinged_at = loop.time()
            await self._send(connection, b"PING")

    @staticmethod
    async def _send(connection: AbstractConnection, *args: bytes) -> None:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            await connection.send_command(*args, check_health=False)
