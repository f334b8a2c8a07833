"""Presence kept in Redis, so every process and host sees everyone on a stream.

Each stream has a sorted set, ``REDIS_PREFIX + "presence:" + S``, with one member
per connection that joined (its process, the connection, and the identity, as
JSON) scored with the time it expires. Every ``PRESENCE_TTL / 3`` seconds each
process pushes back the expiry of its own members; a process that dies (even by
SIGKILL) stops doing so and its members are past their expiry within
``PRESENCE_TTL`` seconds: readers skip them from then on, and the next heartbeat
of any process removes them and tells the stream. A join or leave is published on
the stream's channel as a small notice, so every process that has subscribers
there sends them the new presence (debounced, :mod:`turbo_cable.presence_board`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from turbo_cable.backends.redis_pubsub import REDIS_ERRORS
from turbo_cable.identity import Identity
from turbo_cable.presence_board import Presence, PresenceBoard, summarize
from turbo_cable.protocol import encode_json

if TYPE_CHECKING:
    from turbo_cable.backends.redis import RedisBackend

logger = logging.getLogger("turbo_cable")

NOTICE_START = b'{"presence":'


def notice(stream: str) -> bytes:
    """What is published on a stream's channel when its presence changed."""
    return encode_json({"presence": stream}).encode("utf-8", "surrogatepass")


def noticed_stream(message: bytes) -> str | None:
    """The stream of a presence notice, or None if ``message`` is not one."""
    if not message.startswith(NOTICE_START):
        return None
    try:
        stream = json.loads(message.decode("utf-8", "surrogatepass"))["presence"]
    except (ValueError, KeyError, TypeError):
        return None
    return stream if isinstance(stream, str) else None


def _entry(member: Any) -> Identity | None:
    try:
        fields = json.loads(member.decode("utf-8", "surrogatepass"))
    except ValueError:
        return None
    if isinstance(fields, dict) and isinstance(fields.get("i"), str):
        return Identity(fields["i"], str(fields.get("n", "")))
    return None


class RedisPresenceStore:
    """The Redis backend's presence store."""

    def __init__(self, backend: RedisBackend, board: PresenceBoard) -> None:
        self.backend = backend
        self.board = board
        self.ttl = backend.settings.PRESENCE_TTL
        self.process = uuid.uuid4().hex[:12]
        self.members: dict[str, dict[Any, bytes]] = {}  # stream -> connection -> member
        self._writes: set[asyncio.Task[None]] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    def key(self, stream: str) -> bytes:
        return self.backend.prefix + b"presence:" + stream.encode("utf-8", "surrogatepass")

    def _member(self, connection: Any, identity: Identity | None) -> bytes:
        fields: dict[str, Any] = {"c": f"{self.process}:{id(connection):x}"}
        if identity is not None:
            fields.update(i=identity.id, n=identity.name)
        return encode_json(fields).encode("utf-8", "surrogatepass")

    def _expiry(self) -> float:
        return (time.time() + self.ttl) * 1000

    # -- writes, in order, off the caller's path --------------------------------------
    def joined(self, stream: str, member: Any, identity: Identity | None) -> None:
        encoded = self._member(member, identity)
        self.members.setdefault(stream, {})[member] = encoded
        self._write(stream, add=encoded)
        self._start_heartbeat()

    def left(self, stream: str, member: Any) -> None:
        members = self.members.get(stream, {})
        encoded = members.pop(member, None)
        if not members:
            self.members.pop(stream, None)
        if encoded is not None:
            self._write(stream, remove=encoded)

    def _write(self, stream: str, *, add: bytes | None = None, remove: bytes | None = None) -> None:
        loop = self.backend.loop
        if loop is None or loop.is_closed():
            return
        task = loop.create_task(self._store(stream, add, remove))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _store(self, stream: str, add: bytes | None, remove: bytes | None) -> None:
        key = self.key(stream)
        try:
            async with self.backend.async_client().pipeline(transaction=True) as pipe:
                if add is not None:
                    pipe.zadd(key, {add: self._expiry()})
                    pipe.pexpire(key, int(self.ttl * 2000))
                if remove is not None:
                    pipe.zrem(key, remove)
                pipe.publish(self.backend.channel(stream), notice(stream))
                await pipe.execute()
        except REDIS_ERRORS as exc:
            logger.warning("could not store the presence of %.80r in Redis: %r", stream, exc)

    # -- reads -------------------------------------------------------------------------
    async def read(self, stream: str) -> Presence:
        if self._writes:  # this process's own joins and leaves first
            await asyncio.gather(*list(self._writes), return_exceptions=True)
        now = time.time() * 1000
        members = await self.backend.async_client().zrangebyscore(self.key(stream), now, "+inf")
        return summarize(_entry(member) for member in members)

    def read_sync(self, stream: str) -> Presence:
        now = time.time() * 1000
        members = self.backend.blocking_client().zrangebyscore(self.key(stream), now, "+inf")
        return summarize(_entry(member) for member in members)

    # -- heartbeats ------------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        loop = self.backend.loop
        if self._heartbeat is None and loop is not None and not loop.is_closed():
            self._heartbeat = loop.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._refresh()
            except Exception as exc:
                logger.warning("presence heartbeat to Redis failed: %r", exc)

    async def _refresh(self) -> None:
        """Push back our members' expiry; drop expired ones (a dead process's) anywhere."""
        streams = list(self.members.items())
        if not streams:
            return
        expiry, now = self._expiry(), time.time() * 1000
        async with self.backend.async_client().pipeline(transaction=False) as pipe:
            for stream, members in streams:
                key = self.key(stream)
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zadd(key, dict.fromkeys(members.values(), expiry), xx=True)
                pipe.pexpire(key, int(self.ttl * 2000))
            replies = await pipe.execute()
        for (stream, _), removed in zip(streams, replies[::3], strict=True):
            if removed:
                logger.info("%d expired presence entries removed from %.80r", removed, stream)
                await self.backend.async_client().publish(
                    self.backend.channel(stream), notice(stream)
                )

    def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
