"""``POST BROADCAST_PATH``: the HTTP door through which broadcasts enter the cable;
``GET BROADCAST_PATH?stream=S[&age=seconds]``: where a stream stood (when a page's
request began), for pages rendered in another process.

It answers before Django's stack runs, so a broadcast costs no middleware, and it
only listens to loopback unless a request carries the configured bearer token.
Loopback is not enough when a web page on the same machine could be the sender
(an ``Origin`` header, a body type a page may send without a CORS preflight, a
foreign ``Host`` after DNS rebinding) or when a proxy may have rewritten the
client address (forwarding headers): those need the token, or are refused.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from turbo_cable.asgi_types import Scope
from turbo_cable.backends import Backend, BackendUnavailable
from turbo_cable.conf import CableSettings, get_origin_policy
from turbo_cable.history import Position
from turbo_cable.origins import host_allowed, request_headers
from turbo_cable.page_clock import MAX_AGE
from turbo_cable.protocol import InvalidJSON, decode_json

logger = logging.getLogger("turbo_cable")


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


# Set by proxies; with them, the client address may be the proxy's, or forged.
FORWARDING_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def _bearer_token(headers: dict[bytes, str]) -> str | None:
    scheme, _, token = headers.get(b"authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return None


def _has_token(headers: dict[bytes, str], settings: CableSettings) -> bool:
    expected = settings.BROADCAST_TOKEN
    presented = _bearer_token(headers)
    return bool(
        expected and presented and hmac.compare_digest(presented.encode(), expected.encode())
    )


def authorize(scope: Scope, settings: CableSettings, *, reading: str | None = None) -> None:
    """Never a web page; then the token, or loopback that no proxy or page can fake.

    ``reading`` names what a ``GET`` reads (e.g. "metrics"); without it the request
    is a broadcast, whose body must also be a type no page may POST unasked.
    """
    headers = request_headers(scope)
    if b"origin" in headers:
        raise BadBroadcast(403, "requests from web pages (with an Origin header) are refused")
    media_type = headers.get(b"content-type", "").partition(";")[0].strip().lower()
    if reading is None and media_type != "application/json":
        # anything else a page may POST without preflight
        raise BadBroadcast(403, "Content-Type must be application/json")
    if _has_token(headers, settings):
        return
    if not _is_loopback(scope):
        if reading is None:
            raise BadBroadcast(403, "broadcasts are accepted from loopback or with the token only")
        raise BadBroadcast(403, f"{reading} can be read from loopback or with the token only")
    if any(name in headers for name in FORWARDING_HEADERS):
        raise BadBroadcast(
            403, "a request with forwarding headers (from a proxy) needs BROADCAST_TOKEN"
        )
    if not host_allowed(headers.get(b"host", ""), get_origin_policy()):
        raise BadBroadcast(
            403, "Host must be a loopback name or in ALLOWED_HOSTS, or send BROADCAST_TOKEN"
        )


def parse_broadcast(body: bytes) -> tuple[str, Any]:
    """The ``(stream, data)`` of a request body, or :class:`BadBroadcast` (400)."""
    try:
        payload = decode_json(body)
    except InvalidJSON as refused:
        raise BadBroadcast(400, f"body {refused.reason}") from None
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


async def respond_json(send: Any, status: int, payload: dict[str, Any], **headers: str) -> None:
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
    """The ASGI HTTP application behind ``BROADCAST_PATH``: ``POST`` a broadcast, or
    ``GET ?stream=S`` where ``S`` stands (for pages rendered in another process)."""
    if scope["method"] not in ("POST", "GET"):
        await respond_json(send, 405, {"error": "only POST and GET are allowed"}, allow="GET, POST")
        return
    try:
        if scope["method"] == "GET":
            authorize(scope, settings, reading="stream positions")
            stream, age = _queried_position(scope)
            position = await _read_position(backend, stream, time.monotonic() - age)
            answer = {"stream": stream, "position": position and position.as_dict()}
            await respond_json(send, 200, answer)
            return
        authorize(scope, settings)
        body = await _read_body(scope, receive, settings.MAX_BROADCAST_SIZE)
        stream, data = parse_broadcast(body)
        recipients = await backend.publish(stream, data)
    except BadBroadcast as refused:
        what = "broadcast" if scope["method"] == "POST" else "position read"
        logger.warning("refused %s from %s: %s", what, scope.get("client"), refused.reason)
        await respond_json(send, refused.status, {"error": refused.reason})
        return
    except BackendUnavailable as down:
        logger.warning("broadcast failed, backend unavailable: %s", down)
        await respond_json(send, 503, {"error": f"backend unavailable: {down}"})
        return
    logger.debug("broadcast to %r reached %d local subscribers", stream, recipients)
    await respond_json(send, 200, {"recipients": recipients})


def _queried_position(scope: Scope) -> tuple[str, float]:
    """``?stream=S[&age=seconds]``: which stream, and how long ago its page's request
    began (the position is read as of then)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    streams, ages = query.get("stream", []), query.get("age", ["0"])
    if len(streams) != 1 or not streams[0]:
        raise BadBroadcast(400, "name one stream: ?stream=<plain stream name>")
    try:
        age = float(ages[0]) if len(ages) == 1 else -1.0
    except ValueError:
        age = -1.0
    if not 0 <= age <= MAX_AGE:  # also refuses nan
        raise BadBroadcast(400, f"age must be a number of seconds from 0 to {MAX_AGE:g}")
    return streams[0], age


async def _read_position(backend: Backend, stream: str, since: float) -> Position | None:
    """The stream's position at ``since``; a store across the network is read off the
    loop."""
    if backend.relays:
        return await asyncio.to_thread(backend.position, stream, since)
    return backend.position(stream, since)
