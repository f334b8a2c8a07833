"""A server that accepts every WebSocket and closes it straight away, as a broken one might.

``/cable?code=1012&hold=0``: accept, wait ``hold`` seconds (default 0), then close
with ``code`` (default 1012, service restart). Any HTTP request gets a 204, so
the test servers see it start.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs


async def _disconnected(receive: Any) -> None:
    """Reads (and drops) what the client sends until it goes away."""
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif scope["type"] == "websocket":
        query = parse_qs(scope["query_string"].decode())
        code = int(query.get("code", ["1012"])[0])
        hold = float(query.get("hold", ["0"])[0])
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        try:
            await asyncio.wait_for(_disconnected(receive), hold)
        except TimeoutError:
            await send({"type": "websocket.close", "code": code})
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
