"""The floor: a bare ``websockets`` server speaking the cable protocol, without Django or ASGI.

It does the least any Python server must do: frame a message and write it to each
socket, with ``websockets.broadcast`` (no task, no queue, no copy per subscriber).
Broadcasts arrive as ``POST /_broadcast`` on a second port, parsed by a minimal
HTTP/1.1 reader, since ``websockets`` only answers GET.

Run: ``python -m benchmarks.floor CABLE_PORT BROADCAST_PORT [PING_INTERVAL]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
streams: dict[str, set[ServerConnection]] = {}
everyone: set[ServerConnection] = set()
PING = _encode({"type": "ping"})


async def cable(websocket: ServerConnection) -> None:
    subscribed: set[str] = set()
    everyone.add(websocket)
    try:
        async for text in websocket:
            frame: dict[str, Any] = json.loads(text)
            stream = frame.get("stream")
            if frame.get("type") == "subscribe" and isinstance(stream, str):
                streams.setdefault(stream, set()).add(websocket)
                subscribed.add(stream)
                await websocket.send(_encode({"type": "subscribed", "stream": stream}))
            elif frame.get("type") == "unsubscribe" and isinstance(stream, str):
                streams.get(stream, set()).discard(websocket)
                subscribed.discard(stream)
    finally:
        everyone.discard(websocket)
        for stream in subscribed:
            streams[stream].discard(websocket)


def publish(stream: str, data: Any) -> int:
    subscribers = streams.get(stream, ())
    broadcast(subscribers, _encode({"type": "message", "stream": stream, "data": data}))
    return len(subscribers)


def broadcast_endpoint(
    publish: Callable[[str, Any], int],
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """Keep-alive ``POST /_broadcast``: just enough HTTP for the load generator."""

    async def http_broadcast(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                payload = json.loads(await reader.readexactly(length))
                recipients = publish(payload["stream"], payload["data"])
                body = json.dumps({"recipients": recipients}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return http_broadcast


async def keep_alive(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        broadcast(everyone, PING)


async def main(cable_port: int, broadcast_port: int, ping_interval: float) -> None:
    pinger = asyncio.create_task(keep_alive(ping_interval))
    http = await asyncio.start_server(broadcast_endpoint(publish), "127.0.0.1", broadcast_port)
    async with serve(
        cable, "127.0.0.1", cable_port, compression=None, ping_interval=None, max_queue=None
    ) as server:
        print(f"floor serving on {cable_port}/{broadcast_port}", flush=True)
        await server.serve_forever()
    http.close()
    pinger.cancel()


def run_from_command_line(main: Callable[[int, int, float], Awaitable[None]]) -> None:
    """``CABLE_PORT BROADCAST_PORT [PING_INTERVAL]``, on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:  # the floor still runs, on the default loop
        uvloop = None
    ports = [int(arg) for arg in sys.argv[1:3]]
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    runner = uvloop.run if uvloop is not None else asyncio.run
    runner(main(ports[0], ports[1], interval))


if __name__ == "__main__":
    run_from_command_line(main)
