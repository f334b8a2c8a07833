"""The catch-up's bookkeeping, against a log kept in a list: order, retries and resync."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.exceptions import ConnectionError

from turbo_cable.backends.redis_catchup import CatchUp
from turbo_cable.history import Position
from turbo_cable.hub import Hub


class Inbox:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def deliver(self, event: dict[str, Any]) -> None:
        self.frames.append(json.loads(event["text"]))

    def seen(self) -> list[tuple[str, Any]]:
        return [(frame["type"], frame.get("data", frame.get("offset"))) for frame in self.frames]


class Log:
    """A stream's history as Redis would answer: entries after a position, or None."""

    def __init__(self, epoch: str = "e") -> None:
        self.epoch = epoch
        self.entries: list[tuple[int, Any]] = []
        self.failures = 0
        self.reads = 0

    def append(self, data: Any) -> Position:
        self.entries.append((len(self.entries) + 1, data))
        return Position(self.epoch, len(self.entries))

    async def read_since(
        self, stream: str, since: Position
    ) -> tuple[Position, list[tuple[int, Any]] | None]:
        await asyncio.sleep(0)  # live messages may arrive meanwhile
        self.reads += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Redis is away")
        now = Position(self.epoch, len(self.entries))
        if since.epoch != self.epoch:
            return now, None
        return now, self.entries[since.offset :]


async def settled() -> None:
    pass


async def following(log: Log) -> tuple[CatchUp, Inbox]:
    hub, inbox = Hub(), Inbox()
    hub.add("s", "w", inbox)
    catch_up = CatchUp(hub, log.read_since, settled)
    catch_up.subscribed("s", Position(log.epoch, 0))
    return catch_up, inbox


async def until_idle(catch_up: CatchUp) -> None:
    """Until every catch-up under way has ended."""
    tasks = [catching.task for catching in catch_up._catching.values() if catching.task]
    await asyncio.gather(*tasks, return_exceptions=True)
    assert not catch_up._catching


async def test_a_skipped_offset_is_read_from_the_log_before_the_live_messages_kept_back() -> None:
    log = Log()
    catch_up, inbox = await following(log)
    catch_up.arrived("s", "one", log.append("one"))
    log.append("lost")
    catch_up.arrived("s", "three", log.append("three"))
    catch_up.arrived("s", "four", log.append("four"))  # arrives while the log is read
    await until_idle(catch_up)
    catch_up.arrived("s", "three", Position("e", 3))  # late echo: already delivered
    catch_up.arrived("s", "five", log.append("five"))
    assert [data for _kind, data in inbox.seen()] == ["one", "lost", "three", "four", "five"]


async def test_a_catch_up_that_finds_redis_down_retries_until_it_is_back() -> None:
    log = Log()
    catch_up, inbox = await following(log)
    log.append("lost")
    log.failures = 2
    catch_up.arrived("s", "two", log.append("two"))
    await until_idle(catch_up)
    assert log.reads == 3
    assert [data for _kind, data in inbox.seen()] == ["lost", "two"]


async def test_another_epoch_tells_the_subscribers_to_resync_and_delivery_goes_on() -> None:
    log = Log()
    catch_up, inbox = await following(log)
    catch_up.arrived("s", "old", log.append("old"))
    log.epoch, log.entries = "new", []  # Redis restarted empty
    log.append("before the reconnection")
    catch_up.reconnected()
    await until_idle(catch_up)
    catch_up.arrived("s", "after", log.append("after"))
    assert inbox.seen() == [("message", "old"), ("resync", 1), ("message", "after")]
    assert inbox.frames[1]["epoch"] == "new"


async def test_a_reconnection_reads_every_followed_stream_even_without_a_further_message() -> None:
    log = Log()
    catch_up, inbox = await following(log)
    log.append("published while the link was down")
    catch_up.reconnected()
    await until_idle(catch_up)
    assert inbox.seen() == [("message", "published while the link was down")]


async def test_a_stream_left_while_catching_up_is_forgotten() -> None:
    log = Log()
    catch_up, inbox = await following(log)
    log.failures = 100
    log.append("lost")
    catch_up.arrived("s", "two", log.append("two"))
    catch_up.forget("s")
    await until_idle(catch_up)
    assert inbox.frames == []
    catch_up.arrived("s", "three", log.append("three"))  # a new follower starts from here
    assert inbox.seen() == [("message", "three")]
