"""Streams and subscriptions as the cable answers them, in-process through ASGI.

Subscribe, unsubscribe and what each broadcast reaches are the cable's own
decisions; test_cable.py carries broadcasts through real servers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from django.core import signing

from tests.asgi_client import InProcessCable, in_process_cable
from tests.cable_client import contract
from turbo_cable.streams import signed_stream_name


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable() as running:
        yield running


async def test_a_subscriber_receives_what_is_broadcast_to_its_stream(
    cable: InProcessCable,
) -> None:
    stream = signed_stream_name("round-trip")
    async with await cable.connect() as client:
        assert contract(await client.subscribe(stream)) == {"type": "subscribed", "stream": stream}
        assert await cable.broadcast("round-trip", "<turbo-stream>hi</turbo-stream>") == (
            200,
            {"recipients": 1},
        )
        assert contract(await client.receive()) == {
            "type": "message",
            "stream": stream,
            "data": "<turbo-stream>hi</turbo-stream>",
        }


async def test_one_socket_can_listen_to_two_streams(cable: InProcessCable) -> None:
    first, second = signed_stream_name("first"), signed_stream_name("second")
    async with await cable.connect() as client:
        await client.subscribe(first)
        await client.subscribe(second)
        await cable.broadcast("second", "two")
        await cable.broadcast("first", "one")
        received = [await client.receive(), await client.receive()]
        assert [(m["stream"], m["data"]) for m in received] == [(second, "two"), (first, "one")]


async def test_subscribing_twice_answers_twice_but_delivers_once(cable: InProcessCable) -> None:
    stream = signed_stream_name("twice")
    async with await cable.connect() as client:
        assert (await client.subscribe(stream))["type"] == "subscribed"
        assert (await client.subscribe(stream))["type"] == "subscribed"
        assert await cable.broadcast("twice", "once") == (200, {"recipients": 1})
        assert (await client.receive())["data"] == "once"
        await client.barrier()  # and only once


async def test_a_broadcast_reaches_only_its_own_stream(cable: InProcessCable) -> None:
    async with await cable.connect() as listener, await cable.connect() as bystander:
        await listener.subscribe(signed_stream_name("mine"))
        await bystander.subscribe(signed_stream_name("theirs"))
        assert await cable.broadcast("mine", "for the listener") == (200, {"recipients": 1})
        assert (await listener.receive())["data"] == "for the listener"
        await bystander.barrier()  # nothing came for the bystander


async def test_unsubscribe_stops_delivery_and_leaves_nothing_behind(cable: InProcessCable) -> None:
    stream = signed_stream_name("leaving")
    async with await cable.connect() as client:
        await client.subscribe(stream)
        await client.unsubscribe(stream)
        await client.barrier()
        assert await cable.broadcast("leaving", "nobody hears this") == (200, {"recipients": 0})
        await client.subscribe(signed_stream_name("staying"))
        await cable.broadcast("staying", "after")
        assert (await client.receive())["data"] == "after"


async def test_a_disconnected_client_leaves_nothing_behind(cable: InProcessCable) -> None:
    client = await cable.connect()
    await client.subscribe(signed_stream_name("gone"))
    await client.close()  # returns once the application has
    assert await cable.broadcast("gone", "x") == (200, {"recipients": 0})


async def test_a_forged_stream_name_is_rejected_and_not_subscribed(
    cable: InProcessCable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="turbo_cable")
    forged = "counter:" + "A" * 43
    async with await cable.connect() as client:
        answer = await client.subscribe(forged)
        assert answer == {"type": "reject", "stream": forged, "reason": "invalid stream signature"}
        assert await cable.broadcast("counter", "secret") == (200, {"recipients": 0})
        # The connection itself stays usable.
        assert (await client.subscribe(signed_stream_name("ok")))["type"] == "subscribed"
    assert f"rejected subscription from {client.peer}" in caplog.text


@pytest.mark.parametrize(
    "wire",
    [
        "counter",  # unsigned
        signing.Signer(key="not-the-server-key", salt="turbo_cable.streams").sign("counter"),
    ],
)
async def test_a_name_not_signed_with_the_sites_key_is_rejected(
    cable: InProcessCable, wire: str
) -> None:
    async with await cable.connect() as client:
        answer = await client.subscribe(wire)
        assert (answer["type"], answer["stream"]) == ("reject", wire)
        assert await cable.broadcast("counter", "secret") == (200, {"recipients": 0})
