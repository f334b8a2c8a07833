"""The cable over real daphne and uvicorn servers: subscribe, receive, leave.

Which frames answer which (streams, subscriptions, rejections) is in
test_cable_streams.py, in-process; here a broadcast crosses a real server.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import InvalidStatus

from tests.cable_client import CableClient, contract
from tests.servers import ALL_SERVERS, LiveServer
from turbo_cable.streams import signed_stream_name


async def test_a_subscriber_receives_what_is_broadcast_to_its_stream(server: LiveServer) -> None:
    stream = signed_stream_name("round-trip")
    async with await CableClient.connect(server.cable_url) as client:
        assert contract(await client.subscribe(stream)) == {"type": "subscribed", "stream": stream}
        status, body = server.broadcast("round-trip", "<turbo-stream>hello</turbo-stream>")
        assert (status, body) == (200, {"recipients": 1})
        assert contract(await client.receive()) == {
            "type": "message",
            "stream": stream,
            "data": "<turbo-stream>hello</turbo-stream>",
        }


@pytest.mark.parametrize("kind", ALL_SERVERS)
async def test_the_cable_works_under_every_supported_server(kind: str) -> None:
    stream = signed_stream_name("every-server")
    server = await asyncio.to_thread(LiveServer, kind)
    try:
        async with await CableClient.connect(server.cable_url) as client:
            await client.subscribe(stream)
            await asyncio.to_thread(server.broadcast, "every-server", "hi")
            assert (await client.receive())["data"] == "hi"
        assert server.request("GET", "/") == (200, b"django says hello")
    finally:
        server.stop()


async def test_json_data_arrives_as_json(server: LiveServer) -> None:
    stream = signed_stream_name("json-data")
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(stream)
        server.broadcast("json-data", {"progress": 42, "labels": ["a", "é"]})
        assert (await client.receive())["data"] == {"progress": 42, "labels": ["a", "é"]}


async def test_a_disconnected_client_leaves_nothing_behind(server: LiveServer) -> None:
    client = await CableClient.connect(server.cable_url)
    await client.subscribe(signed_stream_name("gone"))
    await client.close()
    for _ in range(50):
        if server.broadcast("gone", "x") == (200, {"recipients": 0}):
            return
        await asyncio.sleep(0.05)
    pytest.fail("the closed connection is still subscribed")


async def test_other_websocket_paths_are_refused(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus):
        await CableClient.connect(server.cable_url.replace("/cable", "/not-the-cable"))


async def test_django_still_serves_every_other_path(server: LiveServer) -> None:
    assert server.request("GET", "/") == (200, b"django says hello")


async def test_fan_out_of_100_messages_to_200_clients_loses_nothing_and_keeps_order(
    server: LiveServer,
) -> None:
    stream = signed_stream_name("fan-out")
    clients = await asyncio.gather(*(CableClient.connect(server.cable_url) for _ in range(200)))
    try:
        await asyncio.gather(*(client.subscribe(stream) for client in clients))

        async def collect(client: CableClient) -> list[int]:
            return [(await client.receive(timeout=30))["data"]["n"] for _ in range(100)]

        collecting = [asyncio.ensure_future(collect(client)) for client in clients]
        for n in range(100):
            status, body = await asyncio.to_thread(server.broadcast, "fan-out", {"n": n})
            assert (status, body) == (200, {"recipients": 200})
        received = await asyncio.gather(*collecting)
        assert all(messages == list(range(100)) for messages in received)
    finally:
        await asyncio.gather(*(client.close() for client in clients))
