"""Redis pub/sub: a broadcast published by any process reaches the sockets of every process.

Each process keeps its own hub and subscribes to Redis only for the streams its
sockets listen to. A broadcast is encoded once, as the JSON ``{"stream": S,
"data": D}``, published once to the channel ``REDIS_PREFIX + S`` (UTF-8; Redis
channel names are binary safe, so any stream name of any length works), and
decoded once by each process that subscribed to it. The publishing process hears
its own broadcast back through Redis, so every process sees one order.

When Redis is gone the cable keeps serving its own sockets: a publish fails within
about a second (the local subscribers still get it) and raises
:class:`BackendUnavailable`, while the subscriber reconnects with backoff and
subscribes again to every stream that still has local subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.connection
from redis.asyncio.connection import ConnectionPool
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from turbo_cable.backends.base import Backend, BackendUnavailable
from turbo_cable.backends.redis_subscriber import Subscriber
from turbo_cable.conf import CableSettings

logger = logging.getLogger("turbo_cable")

PUBLISH_TIMEOUT = 1.0  # seconds to connect to Redis and have a publish answered
RESP = 2  # every Redis speaks it, and pub/sub messages arrive as plain replies
REDIS_ERRORS = (RedisError, OSError, TimeoutError)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def redis_location(url: str) -> str:
    """The URL without credentials or query, for logs and error messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def redis_url_problem(url: str) -> str | None:
    """Why ``url`` cannot reach a Redis database, or None; redis-py alone reads a bad
    database number as 0 without a word."""
    try:
        redis.connection.parse_url(url)
    except ValueError as exc:
        return str(exc)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return None if parts.path else "it names no socket path"
    database = unquote(parts.path).strip("/")
    if database and not database.isdigit():
        return f"the database {database!r} is not a number"
    return None


def encode_broadcast(stream: str, data: Any) -> bytes:
    """The one message published for a broadcast (lone surrogates survive the trip)."""
    return _encode({"stream": stream, "data": data}).encode("utf-8", "surrogatepass")


def decode_broadcast(message: bytes) -> tuple[str, Any]:
    """``(stream, data)`` of a published message; ValueError if it is not one of ours."""
    envelope = json.loads(message.decode("utf-8", "surrogatepass"))
    if not isinstance(envelope, dict) or not isinstance(envelope.get("stream"), str):
        raise ValueError("not a broadcast envelope")
    if "data" not in envelope:
        raise ValueError("broadcast envelope without 'data'")
    return envelope["stream"], envelope["data"]


class RedisBackend(Backend):
    """Fans broadcasts out through Redis pub/sub to every process that listens."""

    name = "redis"

    def __init__(self, settings: CableSettings) -> None:
        super().__init__(settings)
        self.url = settings.BACKEND
        self.location = redis_location(self.url)
        self.prefix = settings.REDIS_PREFIX.encode("utf-8", "surrogatepass")
        self._client: redis.asyncio.Redis | None = None
        self._sync_client: redis.Redis | None = None
        self._sync_client_lock = threading.Lock()
        self._subscriber: Subscriber | None = None
        self._unlistening: set[asyncio.Task[None]] = set()

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
        self._subscriber = Subscriber(pool, self.hub, self.channel, self.heard, self.location)
        self._subscriber.start()
        logger.info(
            "turbo_cable relays broadcasts through Redis at %s (channel prefix %r)",
            self.location,
            self.settings.REDIS_PREFIX,
        )

    async def stop(self) -> None:
        await super().stop()
        if self._subscriber is not None:
            await self._subscriber.stop()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        with self._sync_client_lock:
            if self._sync_client is not None:
                self._sync_client.close()
                self._sync_client = None

    # -- which streams this process hears -----------------------------------------
    async def _listen(self, stream: str) -> None:
        if self._subscriber is not None:
            await self._subscriber.sync(stream)

    async def _unlisten(self, stream: str) -> None:
        if self._subscriber is not None:
            await self._subscriber.sync(stream)

    def _schedule_unlisten(self, stream: str) -> None:
        # Keep a reference: the loop holds tasks only weakly.
        if self.loop is not None and not self.loop.is_closed():
            task = self.loop.create_task(self._unlisten(stream))
            self._unlistening.add(task)
            task.add_done_callback(self._unlistening.discard)

    def heard(self, message: bytes) -> None:
        """A message arrived on one of our channels: hand it to the local hub."""
        try:
            stream, data = decode_broadcast(message)
        except ValueError as exc:
            logger.warning("ignored a Redis message that is not a broadcast: %s", exc)
            return
        self.hub.deliver(stream, data)

    def _hears(self, stream: str) -> bool:
        subscriber = self._subscriber
        return subscriber is not None and subscriber.hears(stream)

    # -- publishing ---------------------------------------------------------------
    async def publish(self, stream: str, data: Any) -> int:
        """Publish once to Redis; returns how many sockets of this process listen."""
        if self.loop is not asyncio.get_running_loop():
            # Not this backend's loop (a script's asyncio.run): the sync client fits any loop.
            return await asyncio.to_thread(self.publish_sync, stream, data)
        message = encode_broadcast(stream, data)
        local = self.hub.subscriber_count(stream)
        echoed = self._hears(stream)
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await self._async_client().publish(self.channel(stream), message)
        except REDIS_ERRORS as exc:
            self.hub.deliver(stream, data)
            raise self._unavailable(exc, local) from exc
        if not echoed:  # Redis will not send it back to us: deliver it here
            self.hub.deliver(stream, data)
        return local

    def publish_sync(self, stream: str, data: Any) -> int:
        """:meth:`publish` for sync code in any thread (management commands, task workers)."""
        message = encode_broadcast(stream, data)
        local = self._local_count(stream)
        echoed = self._hears(stream)
        try:
            self._blocking_client().publish(self.channel(stream), message)
        except REDIS_ERRORS as exc:
            self._deliver_from_any_thread(stream, data)
            raise self._unavailable(exc, local) from exc
        if not echoed:
            self._deliver_from_any_thread(stream, data)
        return local

    def _local_count(self, stream: str) -> int:
        try:
            return self.hub.subscriber_count(stream)
        except RuntimeError:  # the loop's thread changed the hub under us; the count is a hint
            return 0

    def _deliver_from_any_thread(self, stream: str, data: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # no cable in this process: nobody local to deliver to
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self.hub.deliver(stream, data)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.hub.deliver, stream, data)

    def _unavailable(self, exc: BaseException, local: int) -> BackendUnavailable:
        reason = str(exc) or type(exc).__name__
        return BackendUnavailable(
            f"Redis at {self.location} did not take the broadcast ({reason}); "
            f"it reached only the {local} subscriber(s) of this process"
        )

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
