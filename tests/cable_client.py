"""A real WebSocket client that speaks the cable protocol, for the tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

DEFAULT_TIMEOUT = 10.0
CONTRACT_FIELDS = ("type", "stream", "data")


def contract(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame as a client that knows only the contract's fields sees it."""
    return {key: value for key, value in frame.items() if key in CONTRACT_FIELDS}


class CableClient:
    """Wraps a ``websockets`` connection with the cable's message types."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket

    @classmethod
    async def connect(cls, url: str, *, origin: str | None = None, **options: Any) -> CableClient:
        websocket = await connect(
            url,
            origin=origin,  # type: ignore[arg-type]
            compression=None,
            max_size=None,
            ping_interval=None,
            open_timeout=DEFAULT_TIMEOUT,
            **options,
        )
        return cls(websocket)

    async def send(self, payload: Any) -> None:
        await self.websocket.send(json.dumps(payload))

    async def receive(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next frame that is not a ping."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.websocket.recv(), timeout))
            if frame["type"] != "ping":
                return frame  # type: ignore[no-any-return]

    async def receive_any(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.websocket.recv(), timeout))  # type: ignore[no-any-return]

    async def read_until_closed(
        self, timeout: float = DEFAULT_TIMEOUT
    ) -> tuple[Close | None, list[dict[str, Any]]]:
        """Every frame until the server closes, and its close frame (None if it dropped us)."""
        frames = []
        try:
            while True:
                frames.append(await self.receive_any(timeout))
        except ConnectionClosed as closed:
            return closed.rcvd, frames

    async def subscribe(self, stream: str) -> dict[str, Any]:
        """Subscribe and return the answer (``subscribed`` or ``reject``)."""
        await self.send({"type": "subscribe", "stream": stream})
        return await self.receive()

    async def barrier(self) -> None:
        """A round trip: once it returns, the server has handled every frame sent before.

        Frames are handled in order, and an unknown type is answered with an error.
        """
        await self.send({"type": "barrier"})
        answer = await self.receive()
        assert answer == {"type": "error", "reason": "unknown message type 'barrier'"}, answer

    async def unsubscribe(self, stream: str) -> None:
        await self.send({"type": "unsubscribe", "stream": stream})

    async def close(self) -> None:
        await self.websocket.close()

    async def __aenter__(self) -> CableClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
