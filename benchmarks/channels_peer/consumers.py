"""The cable protocol as a Channels consumer: one group per stream."""

from __future__ import annotations

import hashlib
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


def group_name(stream: str) -> str:
    """Channels group names allow only ASCII letters, digits, ``-_.`` and < 100 characters."""
    return "stream." + hashlib.sha1(stream.encode()).hexdigest()


class CableConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.streams: set[str] = set()
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        stream = content.get("stream")
        if content.get("type") == "subscribe" and isinstance(stream, str):
            await self.channel_layer.group_add(group_name(stream), self.channel_name)
            self.streams.add(stream)
            await self.send_json({"type": "subscribed", "stream": stream})
        elif content.get("type") == "unsubscribe" and isinstance(stream, str):
            await self.channel_layer.group_discard(group_name(stream), self.channel_name)
            self.streams.discard(stream)

    async def disconnect(self, code: int) -> None:
        for stream in self.streams:
            await self.channel_layer.group_discard(group_name(stream), self.channel_name)

    async def cable_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "stream": event["stream"], "data": event["data"]})
