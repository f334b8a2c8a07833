"""A socket that stops reading never holds up the others.

uvicorn applies backpressure, so the stalled socket's bounded queue fills and
the cable drops it. daphne buffers without bound, so nothing tells the cable
that the socket stalled: there the others are still unaffected, but the stalled
socket is kept (the documented reason to prefer uvicorn in production).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient
from tests.raw_websocket import RawWebSocket
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

SUBSCRIBERS, MESSAGES = 100, 60
PAYLOAD = "x" * 32 * 1024


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(request.param, settings={"SEND_QUEUE_SIZE": 8}) as running:
        yield running


def stalled_reader(server: LiveServer, *streams: str) -> RawWebSocket:
    """Subscribes, then never reads again, with the smallest receive buffer."""
    raw = RawWebSocket(server.port, receive_buffer=1024)
    for stream in streams:
        raw.send_frame(json.dumps({"type": "subscribe", "stream": stream}).encode())
    return raw


async def test_a_stalled_reader_does_not_delay_100_other_subscribers(server: LiveServer) -> None:
    news = signed_stream_name("news")
    stalled = await asyncio.to_thread(stalled_reader, server, news, signed_stream_name("flood"))
    # Fill the stalled socket's kernel buffers first, with a stream nobody else hears.
    for _ in range(12):
        await asyncio.to_thread(server.broadcast, "flood", PAYLOAD * 4)
    clients = await asyncio.gather(
        *(CableClient.connect(server.cable_url) for _ in range(SUBSCRIBERS))
    )
    try:
        await asyncio.gather(*(client.subscribe(news) for client in clients))

        async def collect(client: CableClient) -> list[int]:
            return [(await client.receive(timeout=20))["data"]["n"] for _ in range(MESSAGES)]

        collecting = [asyncio.ensure_future(collect(client)) for client in clients]
        started = time.monotonic()
        recipients = []
        for n in range(MESSAGES):
            _, body = await asyncio.to_thread(server.broadcast, "news", {"n": n, "pad": PAYLOAD})
            recipients.append(body["recipients"])
        received = await asyncio.gather(*collecting)
        elapsed = time.monotonic() - started
    finally:
        await asyncio.gather(*(client.close() for client in clients))
        stalled.close()
    assert all(messages == list(range(MESSAGES)) for messages in received)
    assert elapsed < 20
    assert recipients[0] == SUBSCRIBERS + 1, "the stalled socket was gone before the test began"
    if server.kind == "uvicorn":
        assert recipients[-1] == SUBSCRIBERS
        assert "dropping slow connection" in server.output()
