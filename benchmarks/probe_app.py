"""A bare ASGI application that asks a server for the WebSocket behaviour the cable relies on.

``/close/CODE`` accepts and closes with CODE; ``/echo`` sends every text frame back;
``/flood`` sends 64 KiB frames as fast as ``websocket.send`` returns, and
``GET /flood-report`` says how many it has sent so far, so a caller whose client
stops reading sees whether ``send`` waits for the peer (backpressure) or queues.
No Django: what is measured is the server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
FLOOD_FRAME = "x" * 65536
FLOOD_FRAMES = 4096  # 256 MiB: far more than any socket buffer holds
flood: dict[str, float] = {"sent": 0, "last_send_at": 0.0}


async def application(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    elif scope["type"] == "http":
        body = json.dumps(flood).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
    else:
        await websocket(scope["path"], receive, send)


async def websocket(path: str, receive: Receive, send: Send) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    if path.startswith("/close/"):
        code = int(path.rsplit("/", 1)[1])
        await send({"type": "websocket.close", "code": code, "reason": "probe"})
    elif path == "/echo":
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text") or ""})
    elif path == "/flood":
        flood["sent"] = 0
        for _ in range(FLOOD_FRAMES):
            await send({"type": "websocket.send", "text": FLOOD_FRAME})
            flood["sent"] += 1
            flood["last_send_at"] = time.time()
