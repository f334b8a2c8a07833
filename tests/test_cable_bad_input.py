"""Bad frames cost only the socket that sent them, on real servers; everyone else keeps
receiving.

What the cable answers to each refused frame is in test_cable_frames.py, in-process;
here is what a server adds: the close code it can send, its own size limit, its
UTF-8 check, frames no polite client sends, and many offenders at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from tests.cable_client import CableClient
from tests.close_codes import expected_close_code
from tests.raw_websocket import BINARY, RawWebSocket
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

STREAM = "bystanders"
FRAME_LIMIT = 64 * 1024


@pytest.fixture(scope="module", params=[*SERVERS, "runcable"])
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A limit below the servers' own (daphne drops frames over 1 MiB by itself); and
    ``runcable``, whose builtin server reads the frames itself."""
    with live_server(request.param, settings={"MAX_FRAME_SIZE": FRAME_LIMIT}) as running:
        yield running


@pytest.fixture
async def bystander(server: LiveServer) -> AsyncIterator[CableClient]:
    """A well-behaved client on the same server, who must keep receiving."""
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(signed_stream_name(STREAM))
        yield client


async def still_receives(server: LiveServer, bystander: CableClient) -> None:
    server.broadcast(STREAM, "still here")
    assert (await bystander.receive())["data"] == "still here"


async def closed_with(client: CableClient) -> tuple[int, list[dict[str, object]]]:
    """Read until the server closes; the close code and the frames before it."""
    close, frames = await client.read_until_closed()
    assert close is not None, "the server closed without a close frame"
    return close.code, frames


async def test_invalid_json_closes_with_1007(server: LiveServer, bystander: CableClient) -> None:
    async with await CableClient.connect(server.cable_url) as offender:
        await offender.websocket.send("{not json")
        code, frames = await closed_with(offender)
    assert code == expected_close_code(server, 1007)
    assert frames == [{"type": "error", "reason": "frame is not valid JSON", "code": 1007}]
    await still_receives(server, bystander)


async def test_a_frame_just_under_the_size_limit_is_read(
    server: LiveServer, bystander: CableClient
) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        frame = json.dumps({"type": "pong", "padding": "x" * (FRAME_LIMIT - 100)})
        await client.websocket.send(frame)
        assert (await client.subscribe(signed_stream_name("fine")))["type"] == "subscribed"


async def test_a_frame_over_the_size_limit_closes_with_1009(
    server: LiveServer, bystander: CableClient
) -> None:
    too_big = json.dumps({"type": "subscribe", "stream": "x" * FRAME_LIMIT})
    async with await CableClient.connect(server.cable_url) as offender:
        await offender.websocket.send(too_big)
        code, frames = await closed_with(offender)
    assert code == expected_close_code(server, 1009)
    if server.kind in ("uvicorn", "runcable"):
        # The recommended protocol class and the builtin server refuse it as its header
        # arrives: the cable never buffers it, so it sends no error frame of its own.
        assert frames == []
    else:
        assert frames[-1] == {"type": "error", "reason": "frame too large", "code": 1009}
    await still_receives(server, bystander)


async def test_invalid_utf8_in_a_text_frame_is_closed_by_the_server(
    server: LiveServer, bystander: CableClient
) -> None:
    """The ASGI server checks UTF-8 before the cable sees the frame (1007 or a reset)."""
    raw = await asyncio.to_thread(RawWebSocket, server.port)
    raw.send_frame(b'{"type": "pong", "x": "\xff\xfe"}')
    try:
        reply = await asyncio.to_thread(raw.sock.recv, 64)
    except ConnectionResetError:
        reply = b""
    finally:
        raw.close()
    if reply:
        assert reply[0] & 0x0F == 0x8, "expected a close frame"
        assert int.from_bytes(reply[2:4], "big") == 1007
    await still_receives(server, bystander)


async def test_a_raw_binary_frame_is_refused_like_any_other(
    server: LiveServer, bystander: CableClient
) -> None:
    raw = await asyncio.to_thread(RawWebSocket, server.port)
    raw.send_frame(b"\x00" * 10, opcode=BINARY)
    reply = await asyncio.to_thread(raw.sock.recv, 4096)
    raw.close()
    assert b"binary frames are not supported" in reply
    await still_receives(server, bystander)


async def test_a_burst_of_bad_clients_does_not_disturb_the_good_one(
    server: LiveServer, bystander: CableClient
) -> None:
    async def misbehave(send_bad: Callable[[CableClient], Awaitable[None]]) -> None:
        async with await CableClient.connect(server.cable_url) as client:
            await send_bad(client)
            close, _ = await client.read_until_closed()
            assert close is not None

    async def bad_json(c: CableClient) -> None:
        await c.websocket.send("nope")

    async def binary(c: CableClient) -> None:
        await c.websocket.send(b"nope")

    await asyncio.gather(*(misbehave(bad) for bad in (bad_json, binary) * 10))
    await still_receives(server, bystander)


async def test_the_size_limit_counts_bytes_not_characters(
    server: LiveServer, bystander: CableClient
) -> None:
    under_in_characters = json.dumps(
        {"type": "pong", "x": "é" * (FRAME_LIMIT // 2)}, ensure_ascii=False
    )
    async with await CableClient.connect(server.cable_url) as offender:
        await offender.websocket.send(under_in_characters)
        code, _ = await closed_with(offender)
    assert code == expected_close_code(server, 1009)
    await still_receives(server, bystander)
