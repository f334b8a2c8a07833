"""The picows floor: the cable protocol's fan-out on ``picows`` (Cython), without Django or ASGI.

The same job as :mod:`benchmarks.floor`, on a WebSocket library that parses and
frames in Cython and calls back on each frame, with no task per connection: what
the leanest Python WebSocket server spends. Broadcasts arrive on the floor's
minimal HTTP endpoint; each one is encoded once and written to every subscriber.

Run: ``python -m benchmarks.floor_picows CABLE_PORT BROADCAST_PORT [PING_INTERVAL]``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from benchmarks.floor import broadcast_endpoint, run_from_command_line

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
streams: dict[str, set[WSTransport]] = {}
everyone: set[WSTransport] = set()
PING = _encode({"type": "ping"}).encode()


class CableListener(WSListener):
    """One socket: subscribe and unsubscribe frames in, nothing else kept."""

    def __init__(self) -> None:
        self.subscribed: set[str] = set()

    def on_ws_connected(self, transport: WSTransport) -> None:
        everyone.add(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        message: dict[str, Any] = json.loads(frame.get_payload_as_utf8_text())
        stream = message.get("stream")
        if message.get("type") == "subscribe" and isinstance(stream, str):
            streams.setdefault(stream, set()).add(transport)
            self.subscribed.add(stream)
            reply = _encode({"type": "subscribed", "stream": stream}).encode()
            transport.send(WSMsgType.TEXT, reply)
        elif message.get("type") == "unsubscribe" and isinstance(stream, str):
            streams.get(stream, set()).discard(transport)
            self.subscribed.discard(stream)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        everyone.discard(transport)
        for stream in self.subscribed:
            streams[stream].discard(transport)


def publish(stream: str, data: Any) -> int:
    subscribers = streams.get(stream, ())
    frame = _encode({"type": "message", "stream": stream, "data": data}).encode()
    for transport in subscribers:
        transport.send(WSMsgType.TEXT, frame)
    return len(subscribers)


async def keep_alive(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        for transport in everyone:
            transport.send(WSMsgType.TEXT, PING)


async def main(cable_port: int, broadcast_port: int, ping_interval: float) -> None:
    def listener(request: WSUpgradeRequest) -> CableListener:
        return CableListener()

    pinger = asyncio.create_task(keep_alive(ping_interval))
    http = await asyncio.start_server(broadcast_endpoint(publish), "127.0.0.1", broadcast_port)
    # A 1 KiB read buffer to start with (16 KiB by default): cable frames are small.
    server = await ws_create_server(listener, "127.0.0.1", cable_port, read_buffer_init_size=1024)
    print(f"picows floor serving on {cable_port}/{broadcast_port}", flush=True)
    try:
        await server.serve_forever()
    finally:
        http.close()
        pinger.cancel()


if __name__ == "__main__":
    run_from_command_line(main)
