"""The application ``manage.py runcable`` serves: the cable's routes and nothing else.

It is :class:`~turbo_cable.asgi.CableMiddleware`, the very router of the ASGI route,
in front of :func:`no_pages` instead of the site: the cable, the broadcast endpoint
and the health check behave exactly as they do there, and every other request is
refused without importing the site's URLconf or views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from turbo_cable.asgi import CableMiddleware

__all__ = ["get_cable_application", "no_pages"]

Message = dict[str, Any]
NOT_FOUND = b"Not Found: this server only serves the cable.\n"


async def no_pages(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """404 for every page, a refused handshake for every other WebSocket path."""
    kind = scope["type"]
    if kind == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(NOT_FOUND)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": NOT_FOUND})
    elif kind == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close"})  # before accept: the server answers 403
    elif kind == "lifespan":
        # Nothing of its own to start: the cable's hooks run around these answers.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def get_cable_application() -> CableMiddleware:
    """The cable, the broadcast endpoint and the health check; 404 for the rest."""
    return CableMiddleware(no_pages)
