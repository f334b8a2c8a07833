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


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_reader_that_pauses_gets_every_frame_in_order_once_it_reads_again(
    kind: str,
) -> None:
    """More than the socket buffers hold is sent while the reader pauses: frames go
    out at once, then wait in the queue, then go out at once again, in one order."""
    roomy = {"SEND_QUEUE_SIZE": 1000, "SEND_QUEUE_BYTES": 32 * 1024 * 1024}
    with live_server(kind, settings=roomy) as server:
        raw = await asyncio.to_thread(RawWebSocket, server.port, receive_buffer=64 * 1024)
        try:
            subscribe = {"type": "subscribe", "stream": signed_stream_name("paused")}
            raw.send_frame(json.dumps(subscribe).encode())
            _, payload = await asyncio.to_thread(raw.read_frame)
            assert json.loads(payload)["type"] == "subscribed"
            pad = "y" * 100 * 1024  # 60 of them: 6 MB, twice what the kernel buffers take
            for n in range(60):
                status, _ = await asyncio.to_thread(server.broadcast, "paused", {"n": n, "p": pad})
                assert status == 200
            frames = [await asyncio.to_thread(raw.read_frame) for _ in range(60)]
            assert [json.loads(payload)["data"]["n"] for _, payload in frames] == list(range(60))
            assert {opcode for opcode, _ in frames} == {1}  # whole text frames, never split
            await asyncio.to_thread(server.broadcast, "paused", {"n": 60})
            _, payload = await asyncio.to_thread(raw.read_frame)
            assert json.loads(payload)["data"]["n"] == 60
        finally:
            raw.close()
