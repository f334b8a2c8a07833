"""Bad frames cost only the socket that sent them; everyone else keeps receiving."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from tests.cable_client import CableClient
from tests.close_codes import expected_close_code
from tests.raw_websocket import BINARY, RawWebSocket
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

STREAM = "bystanders"
FRAME_LIMIT = 64 * 1024


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A limit below the servers' own (daphne drops frames over 1 MiB by itself)."""
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


async def test_json_that_is_not_an_object_closes_with_1007(
    server: LiveServer, bystander: CableClient
) -> None:
    async with await CableClient.connect(server.cable_url) as offender:
        await offender.websocket.send("[1, 2, 3]")
        code, _ = await closed_with(offender)
    assert code == expected_close_code(server, 1007)
    await still_receives(server, bystander)


async def test_a_binary_frame_closes_with_1003(server: LiveServer, bystander: CableClient) -> None:
    async with await CableClient.connect(server.cable_url) as offender:
        await offender.websocket.send(b"\x00\x01binary")
        code, frames = await closed_with(offender)
    assert code == expected_close_code(server, 1003)
    assert frames[-1]["reason"] == "binary frames are not supported"
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
    if server.kind == "uvicorn":
        # The recommended protocol class refuses it as its header arrives: the cable
        # never buffers it, so it sends no error frame of its own.
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


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"type": "dance"}, "unknown message type 'dance'"),
        ({"stream": "x"}, "frame has no string 'type'"),
        ({"type": 7}, "frame has no string 'type'"),
        ({"type": "subscribe"}, "'subscribe' needs a non-empty string 'stream'"),
        ({"type": "subscribe", "stream": ""}, "'subscribe' needs a non-empty string 'stream'"),
        ({"type": "subscribe", "stream": ["a"]}, "'subscribe' needs a non-empty string 'stream'"),
        ({"type": "unsubscribe", "stream": 5}, "'unsubscribe' needs a non-empty string 'stream'"),
    ],
)
async def test_a_frame_the_cable_does_not_understand_gets_an_error_and_the_socket_stays_open(
    server: LiveServer, bystander: CableClient, frame: dict[str, object], reason: str
) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        await client.send(frame)
        assert await client.receive() == {"type": "error", "reason": reason}
        assert (await client.subscribe(signed_stream_name("after")))["type"] == "subscribed"
    await still_receives(server, bystander)


async def test_unsubscribing_from_a_stream_never_subscribed_is_harmless(
    server: LiveServer, bystander: CableClient
) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        await client.unsubscribe(signed_stream_name("never"))
        await client.unsubscribe("forged:name")
        assert (await client.subscribe(signed_stream_name("then")))["type"] == "subscribed"
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


def tracebacks(server: LiveServer) -> int:
    return server.output().count("Traceback")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (
            '{"type": "subscribe", "stream": "s", "x": ' + "[" * 5000 + "]" * 5000 + "}",
            "frame is nested deeper than 64 levels",
        ),
        (
            '{"type": "subscribe", "stream": "\\ud800:abc"}',
            "frame has a lone surrogate, which UTF-8 cannot carry",
        ),
        (
            '{"type": "subscribe", "stream": "s", "offset": NaN}',
            "frame has NaN or Infinity, which JSON does not allow",
        ),
    ],
)
async def test_hostile_json_closes_with_1007_and_a_reason_and_logs_no_traceback(
    server: LiveServer, bystander: CableClient, frame: str, reason: str
) -> None:
    before = tracebacks(server)
    async with await CableClient.connect(server.cable_url) as offender:
        await offender.websocket.send(frame)
        code, frames = await closed_with(offender)
    assert code == expected_close_code(server, 1007)
    assert frames == [{"type": "error", "reason": reason, "code": 1007}]
    await still_receives(server, bystander)
    assert tracebacks(server) == before


SPRAY_SECONDS = 2.0
LINES_PER_WINDOW = 5  # what the cable logs per socket per second, plus one summary line


def warnings_about(server: LiveServer, peer: str, copies: int) -> tuple[int, list[int]]:
    """Warnings logged about ``peer``'s refusals, and the counts its summary lines suppressed.

    ``copies``: how many times the server's logging writes each record (daphne's
    root handler repeats the cable's own).
    """
    output, peer = server.output(), re.escape(peer)
    logged = re.findall(rf"(?:refused frame|rejected subscription) from {peer}\b", output)
    suppressed = re.findall(rf"suppressed (\d+) more warnings from {peer}\b", output)
    return len(logged) // copies, [int(count) for count in suppressed[::copies]]


async def test_warnings_from_one_socket_are_rate_limited_and_every_refusal_is_counted(
    server: LiveServer, bystander: CableClient
) -> None:
    async with (
        await CableClient.connect(server.cable_url) as offender,
        await CableClient.connect(server.cable_url) as other,
    ):
        peer = f"127.0.0.1:{offender.websocket.local_address[1]}"
        loop = asyncio.get_running_loop()
        deadline, refused = loop.time() + SPRAY_SECONDS, 0
        while loop.time() < deadline:
            for _ in range(25):
                await offender.send({"type": "dance"})
                await offender.send({"type": "subscribe", "stream": "forged"})
            for _ in range(25):
                assert (await offender.receive())["type"] == "error"
                assert (await offender.receive())["type"] == "reject"
            refused += 50
        # The offender's refusals are still answered, and nobody else is muted.
        assert (await offender.subscribe(signed_stream_name("ok")))["type"] == "subscribed"
        await other.send({"type": "dance"})
        assert (await other.receive())["type"] == "error"
        other_peer = f"127.0.0.1:{other.websocket.local_address[1]}"
        copies = server.output().count(f"refused frame from {other_peer}")  # one refusal
        assert copies
        await still_receives(server, bystander)
    assert refused > 500, "the spray was too slow to test anything"
    # The last window's summary is logged when that window ends.
    for _ in range(50):
        logged, suppressed = warnings_about(server, peer, copies)
        if logged + sum(suppressed) >= refused:
            break
        await asyncio.sleep(0.1)
    assert logged + sum(suppressed) == refused
    windows = SPRAY_SECONDS + 2  # a partial window at each end
    assert logged + len(suppressed) <= windows * (LINES_PER_WINDOW + 1)
