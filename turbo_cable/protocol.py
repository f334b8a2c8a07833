"""The wire protocol: decoding client frames and encoding server frames; no I/O.

Client -> server: ``subscribe``, ``unsubscribe`` (with ``stream``) and ``pong``.
Server -> client: ``subscribed``, ``message``, ``ping``, plus the extensions
``reject`` (a subscription was refused), ``error`` (a frame was refused) and
``resync`` (history cannot cover what the client missed). ``message`` frames may
carry the extension fields ``epoch`` and ``offset``; ``subscribe`` may carry the
client's last ``epoch`` and ``offset`` to replay what it missed.
"""

from __future__ import annotations

import dataclasses
import json
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
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

PING: Final = _encode({"type": "ping"})


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
        payload = json.loads(text)
    except ValueError:
        raise ProtocolError("frame is not valid JSON", INVALID_PAYLOAD) from None
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
