"""Positions and history kept in Redis, so any process can replay what a client missed.

Per stream there are two keys, both under ``REDIS_PREFIX`` and both expiring
``HISTORY_TTL`` after the stream was last used:

- ``<prefix>{<stream>}:position``, a hash with the stream's ``epoch`` and its last
  ``offset``;
- ``<prefix>{<stream>}:log``, a Redis Stream of the last ``HISTORY_SIZE`` messages,
  entry ``<offset>-0`` holding the data as JSON (``d``) and Redis's clock in ms (``t``).

A broadcast runs one script: it takes the next offset, appends to the log, refreshes
both expiries and publishes the message with its position, atomically, so every
process sees one order and offsets grow by one across all processes. When the keys
have expired, the next use starts a new random epoch and so positions from before
ask for a resync. The stream name is bytes inside the keys (binary safe, any
length); the braces keep a stream's two keys in one Redis Cluster slot.

A page reads only the position hash (one ``HMGET``, no write); a stream without
one renders :data:`~turbo_cable.history.BEFORE_HISTORY`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from turbo_cable.backends.redis_pubsub import REDIS_ERRORS
from turbo_cable.history import BEFORE_HISTORY, Missed, Position, PositionPause
from turbo_cable.protocol import encode_json

if TYPE_CHECKING:
    import redis
    import redis.asyncio

logger = logging.getLogger("turbo_cable")


# KEYS: position, log. ARGV: new epoch, size, ttl (ms), channel, stream JSON, data JSON.
PUBLISH_SCRIPT = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if tonumber(ARGV[2]) > 0 then
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], string.format('%d-0', offset),
             'd', ARGV[6], 't', string.format('%d', ms))
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], '{"stream":' .. ARGV[5] .. ',"epoch":"' .. epoch ..
           '","offset":' .. string.format('%d', offset) .. ',"data":' .. ARGV[6] .. '}')
return {epoch, offset}
"""

# KEYS: position, log. ARGV: new epoch, ttl (ms), size, client's epoch ('' before the
# stream's history), client's offset (-1: no replay wanted).
# Returns {epoch, offset, Redis time in ms, log entries after the client's}.
READ_SCRIPT = """
local known = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
local epoch, offset = known[1], tonumber(known[2] or '0')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local missed = {}
local seen = tonumber(ARGV[5])
if seen >= 0 and (ARGV[4] == epoch or ARGV[4] == '') and seen < offset
   and offset - seen <= tonumber(ARGV[3]) then
  missed = redis.call('XRANGE', KEYS[2], string.format('%d-0', seen + 1), '+')
end
return {epoch, offset, string.format('%d', ms), missed}
"""


# KEYS: position, log. ARGV: age in ms. Writes nothing.
# Returns {epoch or false, offset}: where the stream stood that long ago by Redis's
# clock; when every kept entry came later, the offset before them (a replay brings
# all that is kept).
PEEK_SCRIPT = """
local known = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
if not known[1] then return {false, 0} end
local offset = tonumber(known[2] or '0')
local age = tonumber(ARGV[1])
if age <= 0 or offset == 0 then return {known[1], offset} end
local now = redis.call('TIME')
local moment = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - age
local newest = string.format('%d-0', offset)
while true do
  local entries = redis.call('XREVRANGE', KEYS[2], newest, '-', 'COUNT', 16)
  if #entries == 0 then return {known[1], offset} end
  for _, entry in ipairs(entries) do
    local kept = tonumber(string.match(entry[1], '^(%d+)'))
    local at = 0
    for i = 1, #entry[2], 2 do
      if entry[2][i] == 't' then at = tonumber(entry[2][i + 1]) end
    end
    if at <= moment then return {known[1], kept} end
    offset = kept - 1
    if offset == 0 then return {known[1], 0} end
  end
  newest = string.format('%d-0', offset)
end
"""


class Scripts(NamedTuple):
    """The history scripts, registered on one client (sync or async)."""

    client: Any
    publish: Any
    read: Any
    peek: Any

    @classmethod
    def on(cls, client: Any) -> Scripts:
        scripts = (PUBLISH_SCRIPT, READ_SCRIPT, PEEK_SCRIPT)
        return cls(client, *(client.register_script(script) for script in scripts))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class RedisClients(Protocol):
    """The connections a :class:`RedisHistory` uses: its backend's."""

    location: str

    def blocking_client(self) -> redis.Redis: ...

    def blocking_scripts(self) -> Scripts: ...

    def async_client(self) -> redis.asyncio.Redis: ...

    def async_scripts(self) -> Scripts: ...


class RedisHistory:
    """The :class:`~turbo_cable.history.History` every process shares, in Redis.

    When Redis fails to give a position, pages and subscribes go without one for
    :data:`~turbo_cable.history.POSITION_PAUSE` seconds rather than each waiting on a
    Redis that is down.
    """

    def __init__(
        self, clients: RedisClients, prefix: bytes, size: int, ttl: float, timeout: float
    ) -> None:
        self.clients = clients
        self.prefix = prefix
        self.size = size
        self.ttl_ms = max(1, round(ttl * 1000))
        self.timeout = timeout
        self.pause = PositionPause()
        self._refreshing: set[asyncio.Task[None]] = set()

    # -- the History interface ------------------------------------------------------
    def peek(self, stream: str, since: float | None = None) -> Position | None:
        """One read from any thread: where ``stream`` stood at ``since`` (this process's
        ``time.monotonic()``; only the time since then crosses to Redis, whose clock
        dates the kept messages); None (logged) if Redis cannot say."""
        if self.pause.active():
            return None
        try:
            keys = self.keys(stream)
            if since is not None:
                age = max(0.0, time.monotonic() - since)
                reply = self.clients.blocking_scripts().peek(keys, [round(age * 1000)])
            else:
                reply = self.clients.blocking_client().hmget(keys[0], ["epoch", "offset"])
        except REDIS_ERRORS as exc:
            self.pause.start(stream, f"Redis at {self.clients.location}", exc)
            return None
        return self.peeked(reply)

    async def read(
        self, stream: str, since: Position | None
    ) -> tuple[Position | None, Missed | None]:
        if self.pause.active():
            return None, None
        try:
            return await self.read_since(stream, since)
        except REDIS_ERRORS as exc:
            self.pause.start(stream, f"Redis at {self.clients.location}", exc)
            return None, None

    def left(self, stream: str) -> None:
        task = asyncio.get_running_loop().create_task(self.refresh([stream]))
        self._refreshing.add(task)  # the loop holds tasks only weakly
        task.add_done_callback(self._refreshing.discard)

    # -- reads and expiries ---------------------------------------------------------
    async def read_since(
        self, stream: str, since: Position | None
    ) -> tuple[Position, Missed | None]:
        """:meth:`read`, raising when Redis fails (a catch-up retries)."""
        async with asyncio.timeout(self.timeout):
            reply = await self.clients.async_scripts().read(
                self.keys(stream), self.read_args(since)
            )
        return self.replay(reply, since)

    async def refresh(self, streams: list[str]) -> None:
        """Push back the expiry of ``streams``' keys; never raises."""
        try:
            async with asyncio.timeout(self.timeout):
                async with self.clients.async_client().pipeline(transaction=False) as pipe:
                    for stream in streams:
                        for key in self.keys(stream):
                            pipe.pexpire(key, self.ttl_ms)
                    await pipe.execute()
        except REDIS_ERRORS as exc:
            logger.debug("could not refresh the history of %d stream(s): %r", len(streams), exc)

    # -- the scripts' arguments and replies (no I/O) ------------------------------------

    def keys(self, stream: str) -> list[bytes]:
        """The stream's position hash and its log."""
        base = self.prefix + b"{" + _utf8(stream) + b"}:"
        return [base + b"position", base + b"log"]

    def publish_args(self, stream: str, data: Any, channel: bytes) -> list[bytes | int | str]:
        stream_json, data_json = _utf8(encode_json(stream)), _utf8(encode_json(data))
        return [_new_epoch(), self.size, self.ttl_ms, channel, stream_json, data_json]

    def read_args(self, since: Position | None) -> list[bytes | int | str]:
        if since is None:
            return [_new_epoch(), self.ttl_ms, self.size, "", -1]
        return [_new_epoch(), self.ttl_ms, self.size, _utf8(since.epoch), since.offset]

    @staticmethod
    def published(reply: list[Any]) -> Position:
        return Position(reply[0].decode(), int(reply[1]))

    @staticmethod
    def peeked(reply: list[Any]) -> Position:
        """The position from ``HMGET <position> epoch offset`` or the peek script."""
        epoch, offset = reply
        return BEFORE_HISTORY if epoch is None else Position(epoch.decode(), int(offset or 0))

    def replay(self, reply: list[Any], since: Position | None) -> tuple[Position, Missed | None]:
        """The stream's position now, and what followed ``since`` (None: cannot tell)."""
        now = Position(reply[0].decode(), int(reply[1]))
        if since is None:
            return now, []
        since = since.within(now.epoch)
        if since == now:
            return now, []
        if since.epoch != now.epoch or since.offset > now.offset:
            return now, None
        horizon = int(reply[2]) - self.ttl_ms
        missed = []
        for entry_id, fields in reply[3]:
            entry = dict(zip(fields[::2], fields[1::2], strict=True))
            if int(entry[b"t"]) >= horizon:
                offset = int(entry_id.split(b"-", 1)[0])
                missed.append((offset, json.loads(entry[b"d"].decode("utf-8", "surrogatepass"))))
        if len(missed) != now.offset - since.offset or missed[0][0] != since.offset + 1:
            return now, None
        return now, missed


def _new_epoch() -> str:
    """Used only if the stream has no epoch yet (first use, or its keys expired)."""
    return secrets.token_hex(8)


def decode_envelope(message: bytes) -> tuple[str, Any, Position | None]:
    """``(stream, data, position)`` of a published message; ValueError if not one of ours."""
    envelope = json.loads(message.decode("utf-8", "surrogatepass"))
    if not isinstance(envelope, dict) or not isinstance(envelope.get("stream"), str):
        raise ValueError("not a broadcast envelope")
    if "data" not in envelope:
        raise ValueError("broadcast envelope without 'data'")
    epoch, offset = envelope.get("epoch"), envelope.get("offset")
    position = Position(epoch, offset) if isinstance(epoch, str) and type(offset) is int else None
    return envelope["stream"], envelope["data"], position
