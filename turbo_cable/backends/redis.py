"""Redis pub/sub: a broadcast published by any process reaches the sockets of every process.

Each process keeps its own hub and subscribes to Redis only for the streams its
sockets listen to. A broadcast is encoded once, as the JSON ``{"stream": S,
"data": D}``, published once to the channel ``REDIS_PREFIX + S`` (UTF-8; Redis
channel names are binary safe, so any stream name of any length works), and
decoded once by each process that subscribed to it. The publishing process hears
its own broadcast back through Redis, so every process sees one order. The same
step gives the broadcast its position and keeps it in the stream's history in
Redis (:mod:`~turbo_cable.backends.redis_history`), so a client that comes back to
any process gets what it missed.

When Redis is gone the cable keeps serving its own sockets: a publish fails within
about a second (the local subscribers still get it) and raises
:class:`BackendUnavailable`, while the pub/sub link reconnects with backoff and
subscribes again to every stream that still has local subscribers, and what was
published meanwhile is caught up from the history
(:mod:`~turbo_cable.backends.redis_catchup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.connection
from redis.asyncio.connection import ConnectionPool
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from turbo_cable.backends.base import Backend, BackendUnavailable
from turbo_cable.backends.redis_catchup import CatchUp
from turbo_cable.backends.redis_history import RedisHistory, Scripts, decode_envelope
from turbo_cable.backends.redis_presence import NOTICE_START, RedisPresenceStore, noticed_stream
from turbo_cable.backends.redis_pubsub import REDIS_ERRORS, PubSubLink
from turbo_cable.conf import CableSettings
from turbo_cable.history import Position
from turbo_cable.presence_board import PresenceBoard, PresenceStore

logger = logging.getLogger("turbo_cable")

PUBLISH_TIMEOUT = 1.0  # seconds to connect to Redis and have a publish answered
REFRESH_BATCH = 500  # streams per pipeline when pushing back history expiry
RESP = 2  # every Redis speaks it, and pub/sub messages arrive as plain replies


def redis_location(url: str) -> str:
    """The URL without credentials or query, for logs and error messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def redis_url_problem(url: str) -> str | None:
    """Why ``url`` cannot reach a Redis database, or None; redis-py alone reads a bad
    database number as 0 without a word."""
    try:
        redis.connection.parse_url(url)  # type: ignore[no-untyped-call]
    except ValueError as exc:
        return str(exc)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return None if parts.path else "it names no socket path"
    database = unquote(parts.path).strip("/")
    if database and not database.isdigit():
        return f"the database {database!r} is not a number"
    return None


class RedisBackend(Backend):
    """Fans broadcasts out through Redis pub/sub to every process that listens."""

    name = "redis"
    relays = True
    history: RedisHistory

    def __init__(self, settings: CableSettings) -> None:
        super().__init__(settings)
        self.url = settings.BACKEND
        self.location = redis_location(self.url)
        self.prefix = settings.REDIS_PREFIX.encode("utf-8", "surrogatepass")
        self._client: redis.asyncio.Redis | None = None
        self._sync_client: redis.Redis | None = None
        self._sync_client_lock = threading.Lock()
        self._link: PubSubLink | None = None
        self._ever_connected = False
        self.history = RedisHistory(
            self, self.prefix, settings.HISTORY_SIZE, settings.HISTORY_TTL, PUBLISH_TIMEOUT
        )
        self.catch_up = CatchUp(self.hub, self.history.read_since, self._caught_up)
        self._keeping: asyncio.Task[None] | None = None
        self._async_run: Scripts | None = None
        self._blocking_run: Scripts | None = None

    def channel(self, stream: str) -> bytes:
        return self.prefix + stream.encode("utf-8", "surrogatepass")

    # -- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        if self.loop is not None:
            return
        await super().start()
        pool = ConnectionPool.from_url(
            self.url,
            socket_timeout=None,  # idle is normal for a subscriber; a watchdog pings instead
            socket_connect_timeout=PUBLISH_TIMEOUT,
            protocol=RESP,
            retry=AsyncRetry(NoBackoff(), 0),
        )
        self._link = PubSubLink(
            pool, self.hub, self.channel, self.heard, self._link_connected, self.location
        )
        self._link.start()
        self._keeping = asyncio.get_running_loop().create_task(self._keep_listened_history())
        logger.info(
            "turbo_cable relays broadcasts through Redis at %s (channel prefix %r)",
            self.location,
            self.settings.REDIS_PREFIX,
        )

    async def stop(self) -> None:
        await super().stop()
        self.catch_up.stop()
        if self._keeping is not None:
            self._keeping.cancel()
            self._keeping = None
        if self._link is not None:
            await self._link.stop()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        with self._sync_client_lock:
            if self._sync_client is not None:
                self._sync_client.close()
                self._sync_client = None

    def _link_connected(self) -> None:
        if self.stats is not None and self._ever_connected:
            self.stats.redis_reconnects += 1
        self._ever_connected = True
        self.catch_up.reconnected()

    def presence_store(self, board: PresenceBoard) -> PresenceStore:
        return RedisPresenceStore(self, board)

    def relay_connected(self) -> bool:
        return self._link is not None and self._link.connected

    def unready_reason(self) -> str | None:
        reason = super().unready_reason()
        if reason is None and (self._link is None or not self._link.connected):
            reason = "Redis is unreachable"
        return reason

    # -- which streams this process hears -----------------------------------------
    async def _listen(self, stream: str) -> None:
        if self._link is not None:
            await self._link.sync(stream)

    async def _unlisten(self, stream: str) -> None:
        if self._link is not None:
            await self._link.sync(stream)

    def heard(self, message: bytes) -> None:
        """A message arrived on one of our channels: hand it to the local hub."""
        if message.startswith(NOTICE_START):
            stream = noticed_stream(message)
            if stream is not None:
                self.presence.changed(stream)
                return
        try:
            stream, data, position = decode_envelope(message)
        except ValueError as exc:
            logger.warning("ignored a Redis message that is not a broadcast: %s", exc)
            return
        if position is None:
            self.hub.deliver(stream, data)
        else:
            self.catch_up.arrived(stream, data, position)

    def _last_listener_left(self, stream: str) -> None:
        super()._last_listener_left(stream)
        self.catch_up.forget(stream)

    async def _caught_up(self) -> None:
        if self._link is not None:
            await self._link.caught_up()

    def _subscribed_at(self, stream: str, now: Position) -> None:
        self.catch_up.subscribed(stream, now)

    def _hears(self, stream: str) -> bool:
        link = self._link
        return link is not None and link.hears(stream)

    # -- publishing ---------------------------------------------------------------
    async def publish(self, stream: str, data: Any) -> int:
        """Publish once to Redis; returns how many sockets of this process listen."""
        if self.loop is not asyncio.get_running_loop():
            # Not this backend's loop (a script's asyncio.run): the sync client fits any loop.
            return await asyncio.to_thread(self.publish_sync, stream, data)
        args = self.history.publish_args(stream, data, self.channel(stream))
        local = self.hub.subscriber_count(stream)
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                reply = await self.async_scripts().publish(self.history.keys(stream), args)
        except REDIS_ERRORS as exc:
            self.hub.deliver(stream, data)
            raise self._unavailable(exc, local) from exc
        self._deliver_unheard(stream, data, self.history.published(reply))
        return local

    def publish_sync(self, stream: str, data: Any) -> int:
        """:meth:`publish` for sync code in any thread (management commands, task workers)."""
        args = self.history.publish_args(stream, data, self.channel(stream))
        local = self._local_count(stream)
        try:
            reply = self.blocking_scripts().publish(self.history.keys(stream), args)
        except REDIS_ERRORS as exc:
            self._on_loop(self.hub.deliver, stream, data)
            raise self._unavailable(exc, local) from exc
        self._on_loop(self._deliver_unheard, stream, data, self.history.published(reply))
        return local

    def _deliver_unheard(self, stream: str, data: Any, position: Position) -> None:
        """Deliver here a broadcast Redis will not send back to this process.

        Asked after the publish, not before: a stream heard by now either gets the
        echo, or began to be heard after the publish, and then its new subscribers
        read the broadcast from history; delivering it here too would repeat it.
        """
        if not self._hears(stream):
            self.catch_up.arrived(stream, data, position)

    def _local_count(self, stream: str) -> int:
        return self.call_on_loop(self.hub.subscriber_count, stream, default=0)

    def _on_loop(self, deliver: Callable[..., object], *args: Any) -> None:
        """Run a delivery on this backend's loop, from whichever thread publishes."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # no cable in this process: nobody local to deliver to
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            deliver(*args)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(deliver, *args)

    def _unavailable(self, exc: BaseException, local: int) -> BackendUnavailable:
        reason = str(exc) or type(exc).__name__
        return BackendUnavailable(
            f"Redis at {self.location} did not take the broadcast ({reason}); "
            f"it reached only the {local} subscriber(s) of this process"
        )

    # -- positions ----------------------------------------------------------------------
    def position(self, stream: str, since: float | None = None) -> Position | None:
        """Where ``stream`` stood at ``since`` (None: now), read from Redis by the calling
        thread itself."""
        return self.history.peek(stream, since)

    async def _keep_listened_history(self) -> None:
        """While a stream has listeners here its history does not expire, as in memory."""
        every = self.settings.HISTORY_TTL / 3
        while True:
            await asyncio.sleep(every)
            streams = self.hub.streams()
            for start in range(0, len(streams), REFRESH_BATCH):
                await self.history.refresh(streams[start : start + REFRESH_BATCH])

    # -- clients --------------------------------------------------------------------
    def async_scripts(self) -> Scripts:
        client = self._async_client()
        if self._async_run is None or self._async_run.client is not client:
            self._async_run = Scripts.on(client)
        return self._async_run

    def blocking_scripts(self) -> Scripts:
        client = self._blocking_client()
        with self._sync_client_lock:
            if self._blocking_run is None or self._blocking_run.client is not client:
                self._blocking_run = Scripts.on(client)
            return self._blocking_run

    def async_client(self) -> redis.asyncio.Redis:
        return self._async_client()

    def blocking_client(self) -> redis.Redis:
        return self._blocking_client()

    def _async_client(self) -> redis.asyncio.Redis:
        if self._client is None:
            self._client = redis.asyncio.Redis.from_url(
                self.url,
                socket_timeout=PUBLISH_TIMEOUT,
                socket_connect_timeout=PUBLISH_TIMEOUT,
                protocol=RESP,
                retry=AsyncRetry(NoBackoff(), 0),  # a retried publish could arrive twice
            )
        return self._client

    def _blocking_client(self) -> redis.Redis:
        with self._sync_client_lock:
            if self._sync_client is None:
                self._sync_client = redis.Redis.from_url(
                    self.url,
                    socket_timeout=PUBLISH_TIMEOUT,
                    socket_connect_timeout=PUBLISH_TIMEOUT,
                    protocol=RESP,
                    retry=Retry(NoBackoff(), 0),
                )
            return self._sync_client
