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
"""

from __future__ import annotations

import json
import secrets
from typing import Any, NamedTuple

from turbo_cable.history import Position
from turbo_cable.protocol import encode_json

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

# KEYS: position, log. ARGV: new epoch, ttl (ms), size, client's epoch ('' for none),
# client's offset. Returns {epoch, offset, Redis time in ms, log entries after the client's}.
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
if ARGV[4] == epoch and seen < offset and offset - seen <= tonumber(ARGV[3]) then
  missed = redis.call('XRANGE', KEYS[2], string.format('%d-0', seen + 1), '+')
end
return {epoch, offset, string.format('%d', ms), missed}
"""


class Scripts(NamedTuple):
    """The history scripts, registered on one client (sync or async)."""

    client: Any
    publish: Any
    read: Any

    @classmethod
    def on(cls, client: Any) -> Scripts:
        publish, read = client.register_script(PUBLISH_SCRIPT), client.register_script(READ_SCRIPT)
        return cls(client, publish, read)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class RedisHistory:
    """Builds the scripts' arguments and reads their replies; does no I/O itself."""

    def __init__(self, prefix: bytes, size: int, ttl: float) -> None:
        self.prefix = prefix
        self.size = size
        self.ttl_ms = max(1, round(ttl * 1000))

    def keys(self, stream: str) -> list[bytes]:
        """The stream's position hash and its log."""
        base = self.prefix + b"{" + _utf8(stream) + b"}:"
        return [base + b"position", base + b"log"]

    def publish_args(self, stream: str, data: Any, channel: bytes) -> list[bytes | int | str]:
        stream_json, data_json = _utf8(encode_json(stream)), _utf8(encode_json(data))
        return [_new_epoch(), self.size, self.ttl_ms, channel, stream_json, data_json]

    def read_args(self, since: Position | None) -> list[bytes | int | str]:
        if since is None:
            return [_new_epoch(), self.ttl_ms, self.size, "", 0]
        return [_new_epoch(), self.ttl_ms, self.size, _utf8(since.epoch), since.offset]

    @staticmethod
    def published(reply: list[Any]) -> Position:
        return Position(reply[0].decode(), int(reply[1]))

    def replay(
        self, reply: list[Any], since: Position | None
    ) -> tuple[Position, list[tuple[int, Any]] | None]:
        """The stream's position now, and what followed ``since`` (None: cannot tell)."""
        now = Position(reply[0].decode(), int(reply[1]))
        if since is None or since == now:
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
