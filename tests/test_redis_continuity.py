"""No acknowledged broadcast is lost when the pub/sub link drops or Redis restarts.

Two uvicorn processes share one Redis; a client follows a stream on the first
while a publisher POSTs to the second. Every broadcast answered ``200`` must be
applied by the client exactly once, or the client must have been told ``resync``
after it was sent. The server closes gaps itself: the client below repairs one
as the JS client does, but a gap that reaches it is counted as a failure, since
a client that knows only the contract's fields could not repair it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.cable_client import CableClient
from tests.redis_support import RedisServer, two_processes
from tests.servers import LiveServer
from turbo_cable.streams import signed_stream_name

pytestmark = pytest.mark.redis

RATE = 40  # broadcasts per second
SETTLE = 10.0  # seconds the last broadcast may take to arrive after the disruptions


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_processes(redis_server) as processes:
        yield processes


@dataclasses.dataclass
class Sent:
    number: int
    status: int
    started: float  # monotonic time the request was sent


class Publisher(threading.Thread):
    """POSTs numbered broadcasts at ``RATE`` per second until stopped."""

    def __init__(self, server: LiveServer, stream: str) -> None:
        super().__init__(daemon=True)
        self.server, self.stream = server, stream
        self.sent: list[Sent] = []
        self.halt = threading.Event()

    def run(self) -> None:
        number = 0
        while not self.halt.is_set():
            started = time.monotonic()
            self.sent.append(Sent(number, self.send(number), started))
            number += 1
            self.halt.wait(max(0.0, 1 / RATE - (time.monotonic() - started)))

    def send(self, number: int) -> int:
        try:
            return self.server.broadcast(self.stream, {"n": number})[0]
        except (OSError, ValueError):
            return 0  # no answer: not acknowledged

    def acknowledged(self) -> list[Sent]:
        return [sent for sent in self.sent if sent.status == 200]


class Follower:
    """Applies messages as the JS client does: by (epoch, offset), once each.

    A live message from another epoch, or one that skips offsets, is not applied:
    the client subscribes again from its last position and ignores the stream's
    messages until the server confirms, so replay fills the gap or ``resync`` comes.
    """

    def __init__(self, client: CableClient, wire: str) -> None:
        self.client, self.wire = client, wire
        self.position: tuple[str, int] | None = None
        self.pending = True
        self.applied: collections.Counter[int] = collections.Counter()
        self.duplicates_dropped = 0
        self.gaps: list[str] = []  # what reached the client unrepaired by the server
        self.skipped = 0  # messages those gaps would have lost to a client that applies blindly
        self.resyncs: list[float] = []  # monotonic times a resync arrived
        self.awaited: tuple[int, asyncio.Event] | None = None

    async def start(self) -> None:
        await self.client.send({"type": "subscribe", "stream": self.wire})

    async def run(self) -> None:
        while True:
            self.receive(await self.client.receive(timeout=60))

    def receive(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "subscribed":
            self.pending = False
            self.position = self.position or (frame["epoch"], frame["offset"])
        elif kind == "resync":
            self.resyncs.append(time.monotonic())
            self.position = (frame["epoch"], frame["offset"])
        elif kind == "message" and not self.pending:
            self.message(frame)

    def message(self, frame: dict[str, Any]) -> None:
        epoch, offset = frame["epoch"], frame["offset"]
        if self.position is not None:
            known_epoch, known_offset = self.position
            if epoch == known_epoch and offset <= known_offset:
                self.duplicates_dropped += 1
                return
            if epoch != known_epoch or offset > known_offset + 1:
                self.repair(epoch, offset)
                return
        self.position = (epoch, offset)
        number = frame["data"]["n"]
        self.applied[number] += 1
        if self.awaited is not None and self.awaited[0] == number:
            self.awaited[1].set()

    async def wait_applied(self, number: int, timeout: float) -> None:
        """Until broadcast ``number`` is applied, or ``timeout`` passes."""
        if not self.applied[number]:
            self.awaited = (number, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.awaited[1].wait(), timeout)

    def repair(self, epoch: str, offset: int) -> None:
        assert self.position is not None
        known_epoch, known_offset = self.position
        if epoch == known_epoch:
            self.skipped += offset - known_offset - 1
        self.gaps.append(f"{known_epoch}:{known_offset} -> {epoch}:{offset}")
        self.pending = True
        since = {"epoch": known_epoch, "offset": known_offset}
        asyncio.get_running_loop().create_task(self.resubscribe(since))

    async def resubscribe(self, since: dict[str, Any]) -> None:
        await self.client.send({"type": "unsubscribe", "stream": self.wire})
        await self.client.send({"type": "subscribe", "stream": self.wire, **since})

    def verdict(self, acknowledged: list[Sent]) -> tuple[list[int], list[int], str]:
        """The acknowledged broadcasts lost, those applied twice, and a summary."""
        last_resync = max(self.resyncs, default=float("-inf"))
        lost = [
            sent.number
            for sent in acknowledged
            if not self.applied[sent.number] and sent.started > last_resync
        ]
        twice = sorted(number for number, count in self.applied.items() if count > 1)
        summary = (
            f"{len(acknowledged)} acknowledged, {sum(self.applied.values())} applied, "
            f"{len(lost)} lost, {len(twice)} applied twice, {len(self.resyncs)} resync(s), "
            f"{len(self.gaps)} gap(s) left to the client ({self.skipped} message(s) skipped "
            f"within an epoch: {self.gaps}), {self.duplicates_dropped} duplicate(s) dropped"
        )
        return lost, twice, summary


@contextlib.contextmanager
def publishing(server: LiveServer, stream: str) -> Iterator[Publisher]:
    publisher = Publisher(server, stream)
    publisher.start()
    try:
        yield publisher
    finally:
        publisher.halt.set()
        publisher.join()


@contextlib.asynccontextmanager
async def following(server: LiveServer, stream: str) -> AsyncIterator[Follower]:
    async with await CableClient.connect(server.cable_url) as client:
        follower = Follower(client, signed_stream_name(stream))
        await follower.start()
        reading = asyncio.get_running_loop().create_task(follower.run())
        try:
            while follower.pending:  # confirmed, with a position
                await asyncio.sleep(0.01)
                if reading.done():
                    reading.result()
            yield follower
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading


async def finish(
    publisher: Publisher, follower: Follower, receiving: LiveServer, logged: int
) -> tuple[list[Sent], str]:
    """Stop publishing, then send one last broadcast and wait for it: everything
    acknowledged before it has arrived by then, or never will."""
    publisher.halt.set()
    await asyncio.to_thread(publisher.join)
    last = len(publisher.sent)
    publisher.sent.append(Sent(last, publisher.send(last), time.monotonic()))
    await follower.wait_applied(last, SETTLE)
    acknowledged = publisher.acknowledged()
    lost, twice, summary = follower.verdict(acknowledged)
    caught_up = re.findall(r"caught up (\d+) message", receiving.output()[logged:])
    summary += f"; the server caught up {sum(map(int, caught_up))} message(s) from Redis"
    print(summary)
    assert (lost, twice, follower.gaps) == ([], [], []), summary
    return acknowledged, summary


async def test_every_acknowledged_broadcast_arrives_once_across_pubsub_disconnects(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer
) -> None:
    receiving, sending = pair
    logged = len(receiving.output())
    async with following(receiving, "links") as follower:
        with publishing(sending, "links") as publisher, redis_server.client() as admin:
            for _ in range(4):
                await asyncio.sleep(1.0)
                assert admin.client_kill_filter(_type="pubsub") == 1  # the follower's process
            await asyncio.sleep(1.0)
            acknowledged, summary = await finish(publisher, follower, receiving, logged)
    assert len(acknowledged) > 3 * RATE, summary
    # The links really dropped messages, and the server put them back.
    assert "caught up 0 message" not in summary, summary


async def test_every_acknowledged_broadcast_arrives_once_or_resyncs_across_a_redis_restart(
    pair: tuple[LiveServer, LiveServer], restartable_redis: RedisServer
) -> None:
    receiving, sending = pair
    logged = len(receiving.output())
    async with following(receiving, "restart") as follower:
        with publishing(sending, "restart") as publisher:
            await asyncio.sleep(1.5)
            restartable_redis.kill()  # nothing saved: the stream's history and epoch are gone
            await asyncio.sleep(3.0)
            await asyncio.to_thread(restartable_redis.start)
            await asyncio.sleep(3.0)
            acknowledged, summary = await finish(publisher, follower, receiving, logged)
    refused = [sent for sent in publisher.sent if sent.status != 200]
    assert refused, "no broadcast was refused while Redis was down"
    assert follower.resyncs, f"the new epoch came without a resync: {summary}"
    after = [sent for sent in acknowledged if sent.started > max(follower.resyncs)]
    assert len(after) > RATE, summary  # delivery went on after the resync
