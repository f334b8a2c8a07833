"""What the cable answers to frames it refuses, decided by the application itself.

Run in this process through ASGI (tests/asgi_client.py): the reasons, error frames
and close codes the cable asks for. How each server carries them on the wire (its
close codes, its own limits, invalid UTF-8) is in test_cable_bad_input.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest

from tests.asgi_client import AsgiCableClient, InProcessCable, in_process_cable
from turbo_cable.streams import signed_stream_name

STREAM = "bystanders"
FRAME_LIMIT = 64 * 1024


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable(MAX_FRAME_SIZE=FRAME_LIMIT) as running:
        yield running


@pytest.fixture
async def bystander(cable: InProcessCable) -> AsyncIterator[AsgiCableClient]:
    """A well-behaved client on the same cable, who must keep receiving."""
    async with await cable.connect() as client:
        await client.subscribe(signed_stream_name(STREAM))
        yield client


async def still_receives(cable: InProcessCable, bystander: AsgiCableClient) -> None:
    assert await cable.broadcast(STREAM, "still here") == (200, {"recipients": 1})
    assert (await bystander.receive())["data"] == "still here"


async def closed_with(client: AsgiCableClient) -> tuple[int, list[dict[str, object]]]:
    close, frames = await client.read_until_closed()
    assert close is not None
    return close.code, frames


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ("{not json", [{"type": "error", "reason": "frame is not valid JSON", "code": 1007}]),
        ("[1, 2, 3]", [{"type": "error", "reason": "frame must be a JSON object", "code": 1007}]),
    ],
)
async def test_a_frame_that_is_not_a_json_object_closes_with_1007(
    cable: InProcessCable, bystander: AsgiCableClient, text: str, frames: list[object]
) -> None:
    async with await cable.connect() as offender:
        await offender.send_text(text)
        assert await closed_with(offender) == (1007, frames)
    await still_receives(cable, bystander)


async def test_a_binary_frame_closes_with_1003(
    cable: InProcessCable, bystander: AsgiCableClient
) -> None:
    async with await cable.connect() as offender:
        await offender.send_bytes(b"\x00\x01binary")
        assert await closed_with(offender) == (
            1003,
            [{"type": "error", "reason": "binary frames are not supported", "code": 1003}],
        )
    await still_receives(cable, bystander)


async def test_a_frame_over_the_size_limit_closes_with_1009_and_says_why(
    cable: InProcessCable, bystander: AsgiCableClient
) -> None:
    """Counted in bytes: characters that take two bytes each are over it at half the count."""
    for too_big in ('{"type": "pong", "x": "' + "x" * FRAME_LIMIT, "é" * (FRAME_LIMIT // 2 + 1)):
        async with await cable.connect() as offender:
            await offender.send_text(too_big)
            assert await closed_with(offender) == (
                1009,
                [{"type": "error", "reason": "frame too large", "code": 1009}],
            )
    await still_receives(cable, bystander)


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
    cable: InProcessCable, bystander: AsgiCableClient, frame: dict[str, object], reason: str
) -> None:
    async with await cable.connect() as client:
        await client.send(frame)
        assert await client.receive() == {"type": "error", "reason": reason}
        assert (await client.subscribe(signed_stream_name("after")))["type"] == "subscribed"
    await still_receives(cable, bystander)


async def test_unsubscribing_from_a_stream_never_subscribed_is_harmless(
    cable: InProcessCable, bystander: AsgiCableClient
) -> None:
    async with await cable.connect() as client:
        await client.unsubscribe(signed_stream_name("never"))
        await client.unsubscribe("forged:name")
        await client.barrier()  # nothing answered the two unsubscribes
        assert (await client.subscribe(signed_stream_name("then")))["type"] == "subscribed"
    await still_receives(cable, bystander)


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
    cable: InProcessCable,
    bystander: AsgiCableClient,
    frame: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with await cable.connect() as offender:
        await offender.send_text(frame)
        assert await closed_with(offender) == (
            1007,
            [{"type": "error", "reason": reason, "code": 1007}],
        )
    await still_receives(cable, bystander)
    assert [record for record in caplog.records if record.exc_info] == []


SPRAY_SECONDS = 2.0
LINES_PER_WINDOW = 5  # what the cable logs per socket per second, plus one summary line


def warnings_about(caplog: pytest.LogCaptureFixture, peer: str) -> tuple[int, list[int]]:
    """Warnings logged about ``peer``'s refusals, and the counts its summary lines suppressed."""
    peer = re.escape(peer)
    messages = [record.getMessage() for record in caplog.records]
    refused = re.compile(rf"(?:refused frame|rejected subscription) from {peer}\b")
    summary = re.compile(rf"suppressed (\d+) more warnings from {peer}\b")
    logged = sum(1 for message in messages if refused.search(message))
    suppressed = [int(m.group(1)) for message in messages if (m := summary.search(message))]
    return logged, suppressed


async def test_warnings_from_one_socket_are_rate_limited_and_every_refusal_is_counted(
    cable: InProcessCable, bystander: AsgiCableClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="turbo_cable")
    async with await cable.connect() as offender, await cable.connect() as other:
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
        assert warnings_about(caplog, other.peer) == (1, [])
        await still_receives(cable, bystander)
    assert refused > 500, "the spray was too slow to test anything"
    # The last window's summary is logged when that window ends (its own timer).
    for _ in range(50):
        logged, suppressed = warnings_about(caplog, offender.peer)
        if logged + sum(suppressed) >= refused:
            break
        await asyncio.sleep(0.1)
    assert logged + sum(suppressed) == refused
    windows = SPRAY_SECONDS + 2  # a partial window at each end
    assert logged + len(suppressed) <= windows * (LINES_PER_WINDOW + 1)
