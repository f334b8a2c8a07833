"""What the Rails engine's Stimulus controller sends and reads, spoken by a real WebSocket client.

That controller sends ``subscribe`` with the plain names from its markers (no
position), answers ``ping`` with ``pong``, sends ``unsubscribe`` when it leaves,
and reads only ``subscribed``, ``message`` and ``ping``, by ``type``, ``stream``
and ``data``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient, contract
from tests.servers import SERVERS, LiveServer, live_server

QUICK_PINGS = {"PING_INTERVAL": 0.5, "IDLE_TIMEOUT": 1.5}


@pytest.fixture(scope="module", params=SERVERS)
def unsigned(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(request.param, settings={"SIGNED_STREAMS": False, **QUICK_PINGS}) as server:
        yield server


async def test_it_subscribes_with_plain_names_and_gets_what_it_reads(unsigned: LiveServer) -> None:
    async with await CableClient.connect(unsigned.cable_url) as client:
        for stream in ("room:1", "alerts"):
            await client.send({"type": "subscribe", "stream": stream})
            assert contract(await client.receive()) == {"type": "subscribed", "stream": stream}
        html = '<turbo-stream action="append" target="m"><template>x</template></turbo-stream>'
        assert unsigned.broadcast("room:1", html) == (200, {"recipients": 1})
        assert unsigned.broadcast("alerts", {"level": "info"}) == (200, {"recipients": 1})
        received = [contract(await client.receive()) for _ in range(2)]
        assert received == [
            {"type": "message", "stream": "room:1", "data": html},
            {"type": "message", "stream": "alerts", "data": {"level": "info"}},
        ]


async def test_answering_pings_with_pong_keeps_it_connected(unsigned: LiveServer) -> None:
    async with await CableClient.connect(unsigned.cable_url) as client:
        await client.send({"type": "subscribe", "stream": "kept"})
        await client.receive()
        pings = 0
        while pings < 5:  # five pings at 0.5 s: well past the 1.5 s idle timeout
            frame = await client.receive_any(timeout=5)
            if frame == {"type": "ping"}:
                pings += 1
                await client.send({"type": "pong"})
        assert unsigned.broadcast("kept", "<p>") == (200, {"recipients": 1})


async def test_unsubscribe_stops_the_stream(unsigned: LiveServer) -> None:
    async with await CableClient.connect(unsigned.cable_url) as client:
        await client.send({"type": "subscribe", "stream": "leaving"})
        await client.receive()
        await client.send({"type": "unsubscribe", "stream": "leaving"})
        await client.send(
            {"type": "subscribe", "stream": "barrier"}
        )  # answered after the unsubscribe
        assert (await client.receive())["stream"] == "barrier"
        assert unsigned.broadcast("leaving", "<p>") == (200, {"recipients": 0})


@pytest.mark.parametrize("kind", SERVERS)
async def test_with_signing_on_it_gets_reject_frames_it_does_not_read(kind: str) -> None:
    server = await asyncio.to_thread(LiveServer, kind)
    try:
        async with await CableClient.connect(server.cable_url) as client:
            await client.send({"type": "subscribe", "stream": "room:1"})
            frame = await client.receive()
            # Not one of the three types it reads: it waits, silently, for nothing.
            assert frame["type"] == "reject"
            assert frame["stream"] == "room:1"
            assert server.broadcast("room:1", "<p>") == (200, {"recipients": 0})
    finally:
        server.stop()
