"""The wire protocol: decoding client frames and encoding server frames; no I/O.

Client -> server: ``subscribe``, ``unsubscribe`` (with ``stream``) and ``pong``.
Server -> client: ``subscribed``, ``message``, ``ping``, plus the extensions
``reject`` (a subscription was refused), ``error`` (a frame was refused) and
``resync`` (history cannot cover what the client missed). ``message`` frames may
carry the extension fields ``epoch`` and ``offset``; ``subscribe`` may carry the
client's last ``epoch`` and ``offset`` to replay what it missed.

Frames and broadcast bodies are decoded by :func:`decode_json`, which only lets
through what every browser can parse back and UTF-8 can carry.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any, Final

# RFC 6455 close codes the cable uses.
GOING_AWAY: Final = 1001
UNSUPPORTED_DATA: Final = 1003
INVALID_PAYLOAD: Final = 1007
POLICY_VIOLATION: Final = 1008
MESSAGE_TOO_BIG: Final = 1009
NORMAL: Final = 1000
TRY_AGAIN_LATER: Final = 1013

CLIENT_TYPES: Final = frozenset({"subscribe", "unsubscribe", "pong"})
# Compact, and UTF-8 as it is: every JSON the cable writes (frames, Redis messages).
encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode = encode_json

PING: Final = _encode({"type": "ping"})

# Deeper than any real payload; it keeps decoding and re-encoding far from the
# interpreter's recursion limit.
MAX_JSON_DEPTH: Final = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class InvalidJSON(ValueError):
    """Text refused as JSON; ``reason`` completes a sentence such as "body ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise InvalidJSON("has NaN or Infinity, which JSON does not allow")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e400 would go out as Infinity
        _refuse_constant(text)
    return number


def _nested_deeper_than(value: Any, limit: int) -> bool:
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def decode_json(raw: str | bytes) -> Any:
    """Parse ``raw`` (UTF-8 if bytes), or raise :class:`InvalidJSON` with the reason.

    Refused: invalid JSON, ``NaN``/``Infinity`` (browsers cannot parse them back),
    nesting deeper than :data:`MAX_JSON_DEPTH`, and lone surrogates (``"\\ud800"``),
    which no UTF-8 text frame can carry.
    """
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InvalidJSON:
        raise
    except RecursionError:
        raise InvalidJSON(f"is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # UnicodeDecodeError is one
        raise InvalidJSON("is not valid JSON") from None
    # Nesting needs at least as many brackets as levels: most texts skip the walk.
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_JSON_DEPTH and _nested_deeper_than(value, MAX_JSON_DEPTH):
        raise InvalidJSON(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(text):  # escaped pairs are fine; a lone half is not
        try:
            _encode(value).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJSON("has a lone surrogate, which UTF-8 cannot carry") from None
    return value


class ProtocolError(Exception):
    """A frame the cable refuses; ``close_code`` is set when the socket must close."""

    def __init__(self, reason: str, close_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.close_code = close_code


@dataclasses.dataclass(frozen=True, slots=True)
class ClientMessage:
    type: str
    stream: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def decode_client_message(text: str) -> ClientMessage:
    """Parse one client text frame, or raise :class:`ProtocolError`."""
    try:
        payload = decode_json(text)
    except InvalidJSON as refused:
        raise ProtocolError(f"frame {refused.reason}", INVALID_PAYLOAD) from None
    if not isinstance(payload, dict):
        raise ProtocolError("frame must be a JSON object", INVALID_PAYLOAD)
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("frame has no string 'type'")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(f"unknown message type {kind[:64]!r}")
    if kind == "pong":
        return ClientMessage("pong")
    stream = payload.get("stream")
    if not isinstance(stream, str) or not stream:
        raise ProtocolError(f"{kind!r} needs a non-empty string 'stream'")
    extra = {k: v for k, v in payload.items() if k not in ("type", "stream")}
    return ClientMessage(kind, stream, extra)


def encode_subscribed(stream: str, **extensions: Any) -> str:
    return _encode({"type": "subscribed", "stream": stream, **extensions})


def encode_message(stream: str, data: Any, **extensions: Any) -> str:
    """A ``message`` frame; ``data`` is Turbo Stream HTML or any JSON value."""
    return _encode({"type": "message", "stream": stream, "data": data, **extensions})


def encode_resync(stream: str, epoch: str, offset: int) -> str:
    """History cannot replay what the client missed; it must reload its state."""
    return _encode({"type": "resync", "stream": stream, "epoch": epoch, "offset": offset})


def encode_reject(stream: str, reason: str) -> str:
    return _encode({"type": "reject", "stream": stream, "reason": reason})


def encode_error(reason: str, close_code: int | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "reason": reason}
    if close_code is not None:
        frame["code"] = close_code
    return _encode(frame)
