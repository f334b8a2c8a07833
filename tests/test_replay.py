"""At-least-once delivery: a client that comes back gets what it missed, in order, once.

Positions, replays and resyncs are the backend's answers: they run in-process
through ASGI (tests/asgi_client.py); a replay through real servers, and broadcasts
racing one, run against daphne and uvicorn.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.asgi_client import AsgiCableClient, InProcessCable, in_process_cable
from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

WINDOW = 5


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable(HISTORY_SIZE=WINDOW) as running:
        yield running


async def subscribe_from(
    cable: InProcessCable, name: str, position: dict[str, object] | None = None
) -> tuple[AsgiCableClient, dict[str, object]]:
    client = await cable.connect()
    return client, await client.subscribe(signed_stream_name(name), **(position or {}))


def where(frame: dict[str, object]) -> dict[str, object]:
    return {"epoch": frame["epoch"], "offset": frame["offset"]}


async def test_subscribed_tells_the_stream_position(cable: InProcessCable) -> None:
    client, subscribed = await subscribe_from(cable, "fresh")
    async with client:
        assert subscribed["offset"] == 0
        await cable.broadcast("fresh", "one")
        message = await client.receive()
        assert where(message) == {"epoch": subscribed["epoch"], "offset": 1}


async def test_a_client_that_reconnects_gets_what_it_missed_in_order(
    cable: InProcessCable,
) -> None:
    client, _subscribed = await subscribe_from(cable, "missed")
    async with client:
        await cable.broadcast("missed", "seen")
        seen = await client.receive()
    for n in range(3):
        await cable.broadcast("missed", f"missed {n}")
    client, again = await subscribe_from(cable, "missed", where(seen))
    async with client:
        assert again["type"] == "subscribed"
        replayed = [await client.receive() for _ in range(3)]
        await client.barrier()  # each exactly once
        await cable.broadcast("missed", "live")
        live = await client.receive()
    assert [m["data"] for m in replayed] == ["missed 0", "missed 1", "missed 2"]
    assert [m["offset"] for m in [*replayed, live]] == [2, 3, 4, 5]
    assert live["data"] == "live"


async def test_a_client_that_missed_nothing_gets_nothing_replayed(cable: InProcessCable) -> None:
    client, subscribed = await subscribe_from(cable, "quiet")
    await client.close()
    client, _again = await subscribe_from(cable, "quiet", where(subscribed))
    async with client:
        await client.barrier()  # the subscribe was answered in full: nothing came before


async def test_a_gap_beyond_the_history_window_asks_the_client_to_resync(
    cable: InProcessCable,
) -> None:
    client, subscribed = await subscribe_from(cable, "flooded")
    await client.close()
    for n in range(WINDOW + 2):
        await cable.broadcast("flooded", n)
    client, _again = await subscribe_from(cable, "flooded", where(subscribed))
    async with client:
        resync = await client.receive()
        await client.barrier()  # and nothing replayed after it
    assert resync == {
        "type": "resync",
        "stream": signed_stream_name("flooded"),
        "epoch": subscribed["epoch"],
        "offset": WINDOW + 2,
    }


async def test_a_position_from_before_a_restart_asks_the_client_to_resync() -> None:
    async with in_process_cable() as first:
        client, subscribed = await subscribe_from(first, "restarted")
        async with client:
            await first.broadcast("restarted", "before")
            before = await client.receive()
    async with in_process_cable() as second:
        client, again = await subscribe_from(second, "restarted", where(before))
        async with client:
            resync = await client.receive()
    assert again["epoch"] != subscribed["epoch"]
    assert resync["type"] == "resync"


@pytest.mark.parametrize("position", [{"epoch": 5, "offset": 1}, {"offset": -3}, {"epoch": "x"}])
async def test_a_malformed_position_is_treated_as_none(
    cable: InProcessCable, position: dict[str, object]
) -> None:
    await cable.broadcast("malformed", "before")
    client, subscribed = await subscribe_from(cable, "malformed", position)
    async with client:
        assert (subscribed["type"], subscribed["offset"]) == ("subscribed", 1)
        await client.barrier()  # nothing replayed, no resync


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(request.param, settings={"HISTORY_SIZE": WINDOW}) as running:
        yield running


async def test_a_replay_reaches_the_client_through_the_server(server: LiveServer) -> None:
    stream = signed_stream_name("missed")
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(stream)
        server.broadcast("missed", "seen")
        seen = await client.receive()
    for n in range(3):
        server.broadcast("missed", f"missed {n}")
    async with await CableClient.connect(server.cable_url) as client:
        await client.send({"type": "subscribe", "stream": stream, **where(seen)})
        assert (await client.receive())["type"] == "subscribed"
        replayed = [await client.receive() for _ in range(3)]
        await client.barrier()
    assert [(m["data"], m["offset"]) for m in replayed] == [
        ("missed 0", 2),
        ("missed 1", 3),
        ("missed 2", 4),
    ]


async def server_subscribe_from(
    server: LiveServer, name: str, position: dict[str, object] | None = None
) -> tuple[CableClient, dict[str, object]]:
    client = await CableClient.connect(server.cable_url)
    await client.send({"type": "subscribe", "stream": signed_stream_name(name), **(position or {})})
    return client, await client.receive()


@pytest.fixture(scope="module", params=SERVERS)
def roomy_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """History that holds every racing broadcast: with ``WINDOW``, how many of them land
    before the subscription depends on timing, and past the window the right answer
    is ``resync``, not a replay."""
    with live_server(request.param, settings={"HISTORY_SIZE": 100}) as running:
        yield running


async def test_broadcasts_racing_a_replay_keep_order_without_duplicates(
    roomy_server: LiveServer,
) -> None:
    server = roomy_server
    client, subscribed = await server_subscribe_from(server, "racing")
    await client.close()
    server.broadcast("racing", "before 1")
    server.broadcast("racing", "before 2")
    total = 40

    def keep_broadcasting() -> None:
        for n in range(total):
            server.broadcast("racing", f"during {n}")

    racer = threading.Thread(target=keep_broadcasting)
    racer.start()
    try:
        client, _again = await server_subscribe_from(server, "racing", where(subscribed))
        async with client:
            offsets = []
            while not offsets or offsets[-1] < total + 2:
                frame = await client.receive()
                assert frame["type"] == "message", frame
                offsets.append(frame["offset"])
    finally:
        await asyncio.to_thread(racer.join)
    assert offsets == list(range(1, total + 3))
