"""``POST BROADCAST_PATH``: the HTTP door through which broadcasts enter the cable.

It answers before Django's stack runs, so a broadcast costs no middleware, and it
only listens to loopback unless a request carries the configured bearer token.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from typing import Any

from turbo_cable.backends import Backend, BackendUnavailable
from turbo_cable.conf import CableSettings

logger = logging.getLogger("turbo_cable")

Scope = dict[str, Any]


class BadBroadcast(Exception):
    """A request the endpoint refuses; carries the HTTP status and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _is_loopback(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def _bearer_token(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


def authorize(scope: Scope, settings: CableSettings) -> None:
    """Loopback may broadcast; anyone else needs the configured token."""
    if _is_loopback(scope):
        return
    expected = settings.BROADCAST_TOKEN
    presented = _bearer_token(scope)
    if expected and presented and hmac.compare_digest(presented.encode(), expected.encode()):
        return
    raise BadBroadcast(403, "broadcasts are accepted from loopback or with the token only")


def parse_broadcast(body: bytes) -> tuple[str, Any]:
    """The ``(stream, data)`` of a request body, or :class:`BadBroadcast` (400)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadBroadcast(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadBroadcast(400, "body must be a JSON object")
    stream = payload.get("stream")
    if not isinstance(stream, str) or not stream:
        raise BadBroadcast(400, "'stream' must be a non-empty string")
    # Without "data" the Rails engine and Navigator send the message with null data.
    return stream, payload.get("data")


async def _read_body(scope: Scope, receive: Any, limit: int) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == b"content-length" and value.isdigit() and int(value) > limit:
            raise BadBroadcast(400, f"body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadBroadcast(400, "client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadBroadcast(400, f"body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Any, status: int, payload: dict[str, Any], **headers: str) -> None:
    body = json.dumps(payload).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def serve_broadcast(
    scope: Scope, receive: Any, send: Any, backend: Backend, settings: CableSettings
) -> None:
    """The ASGI HTTP application behind ``BROADCAST_PATH``."""
    if scope["method"] != "POST":
        await _respond(send, 405, {"error": "only POST is allowed"}, allow="POST")
        return
    try:
        authorize(scope, settings)
        body = await _read_body(scope, receive, settings.MAX_BROADCAST_SIZE)
        stream, data = parse_broadcast(body)
        recipients = await backend.publish(stream, data)
    except BadBroadcast as refused:
        logger.warning("refused broadcast from %s: %s", scope.get("client"), refused.reason)
        await _respond(send, refused.status, {"error": refused.reason})
        return
    except BackendUnavailable as down:
        logger.warning("broadcast failed, backend unavailable: %s", down)
        await _respond(send, 503, {"error": f"backend unavailable: {down}"})
        return
    logger.debug("broadcast to %r reached %d local subscribers", stream, recipients)
    await _respond(send, 200, {"recipients": recipients})
