"""Gapless delivery of each listened stream, across lost pub/sub messages and Redis restarts.

Pub/sub delivers at most once: messages published while the pub/sub link reconnects
never arrive. Every message carries its stream position and every position is kept
in the stream's Redis log, so the process remembers, per stream its sockets listen
to, the last position it handed to its hub. A live message that does not follow it
(an offset skipped, another epoch), a subscribe that finds the stream further on,
and every reconnection of the link start a catch-up: live messages of the
stream are kept back, what followed the last position is read from the log and
delivered in order, then the kept-back messages it did not cover. When the log
cannot bridge the gap (the epoch changed, the range expired) every local
subscriber gets ``resync``. Positions are tracked per stream, not per socket, so a
socket may get an entry its own replay already gave it; clients drop those by
``(epoch, offset)``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from turbo_cable.backends.redis_pubsub import REDIS_ERRORS
from turbo_cable.history import Position
from turbo_cable.hub import Hub

logger = logging.getLogger("turbo_cable")

RETRY_MIN, RETRY_MAX = 0.1, 2.0  # seconds between attempts to read a log while Redis fails
KEEP_LIMIT = 1000  # live messages kept back per stream; beyond it the log is read again
CONCURRENT_READS = 8  # logs read at once: a reconnection with many streams opens few connections

# What followed a position in a stream's log: the position now, and the (offset, data)
# after the given one, or None when the log cannot tell.
ReadSince = Callable[[str, Position], Awaitable[tuple[Position, list[tuple[int, Any]] | None]]]


def follows(last: Position, position: Position) -> bool:
    return position.epoch == last.epoch and position.offset == last.offset + 1


def covered(last: Position, position: Position) -> bool:
    return position.epoch == last.epoch and position.offset <= last.offset


@dataclasses.dataclass
class _CatchingUp:
    """A stream whose live messages wait while its log is read."""

    kept: list[tuple[Any, Position]] = dataclasses.field(default_factory=list)
    overflowed: bool = False
    # Wait for this before the next read: the link handed on what Redis had pushed.
    settle: asyncio.Future[None] | None = None
    task: asyncio.Task[None] | None = None


class CatchUp:
    """Hands a stream's messages to the hub in order, each once, or says ``resync``."""

    def __init__(
        self, hub: Hub, read_since: ReadSince, settle: Callable[[], Awaitable[None]]
    ) -> None:
        self._hub = hub
        self._read_since = read_since
        self._settle = settle  # returns once what Redis already pushed was handed on
        self._last: dict[str, Position] = {}
        self._catching: dict[str, _CatchingUp] = {}
        self._reading = asyncio.Semaphore(CONCURRENT_READS)

    def arrived(self, stream: str, data: Any, position: Position) -> None:
        """A live message: deliver it if it follows the last one, else catch up first."""
        catching = self._catching.get(stream) if self._catching else None
        if catching is not None:
            if len(catching.kept) < KEEP_LIMIT:
                catching.kept.append((data, position))
            else:  # all of it is in the log too: read it from there
                catching.kept.clear()
                catching.overflowed = True
            return
        last = self._last.get(stream)
        if last is None or follows(last, position):
            if self._hub.deliver(stream, data, epoch=position.epoch, offset=position.offset):
                self._last[stream] = position
        elif not covered(last, position):
            self._start(stream, _CatchingUp(kept=[(data, position)]))
        # else: a catch-up delivered it already

    def subscribed(self, stream: str, now: Position) -> None:
        """A subscribe read the stream at ``now`` after every earlier message was heard."""
        if stream in self._catching or not self._hub.subscriber_count(stream):
            return
        last = self._last.get(stream)
        if last is None:
            self._last[stream] = now
        elif not covered(last, now):  # messages before ``now`` never came through pub/sub
            self._start(stream, _CatchingUp())

    def reconnected(self) -> None:
        """Pub/sub came back: whatever was published meanwhile is only in the logs."""
        if not self._last:
            return
        settled = asyncio.ensure_future(self._settle())  # one barrier for every stream
        for stream in list(self._last):
            catching = self._catching.get(stream)
            if catching is None:
                self._start(stream, _CatchingUp(settle=settled))
            else:
                catching.settle = settled

    def forget(self, stream: str) -> None:
        """The stream's last local subscriber left."""
        self._last.pop(stream, None)
        catching = self._catching.pop(stream, None)
        if catching is not None and catching.task is not None:
            catching.task.cancel()

    def stop(self) -> None:
        for stream in list(self._catching):
            self.forget(stream)
        self._last.clear()

    # -- the catch-up -----------------------------------------------------------------
    def _start(self, stream: str, catching: _CatchingUp) -> None:
        self._catching[stream] = catching
        catching.task = asyncio.get_running_loop().create_task(self._catch_up(stream, catching))

    async def _catch_up(self, stream: str, catching: _CatchingUp) -> None:
        delay = RETRY_MIN
        try:
            while self._catching.get(stream) is catching:
                settled, catching.settle = catching.settle, None
                if settled is not None:
                    await asyncio.shield(settled)
                last = self._last.get(stream)
                if last is None:
                    return
                try:
                    async with self._reading:
                        now, missed = await self._read_since(stream, last)
                except REDIS_ERRORS as exc:  # Redis is away: try again, less and less often
                    logger.debug("cannot read the log of %.80r yet: %r", stream, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                delay = RETRY_MIN
                if self._catching.get(stream) is not catching:
                    return
                self._bridge(stream, last, now, missed)
                if catching.settle is None and self._release(stream, catching):
                    return
        except Exception:  # a bug must not leave the stream held back for good
            logger.exception("catching up %.80r failed", stream)
        finally:
            if self._catching.get(stream) is catching:
                del self._catching[stream]

    def _bridge(
        self, stream: str, last: Position, now: Position, missed: list[tuple[int, Any]] | None
    ) -> None:
        """Deliver what followed ``last``, or ask for a resync; the stream is then at ``now``."""
        if missed is None:
            told = self._hub.resync(stream, now)
            logger.warning(
                "messages on %.80r after %s:%d are no longer in Redis; %d socket(s) told to resync",
                stream,
                last.epoch,
                last.offset,
                told,
            )
        else:
            for offset, data in missed:
                self._hub.deliver(stream, data, epoch=now.epoch, offset=offset)
            if missed:
                logger.info("caught up %d message(s) on %.80r from Redis", len(missed), stream)
        self._last[stream] = now

    def _release(self, stream: str, catching: _CatchingUp) -> bool:
        """Deliver the kept-back messages that follow on; False if another gap shows."""
        last = self._last[stream]
        kept, catching.kept = catching.kept, []
        for n, (data, position) in enumerate(kept):
            if position.epoch != last.epoch or covered(last, position):
                continue  # from before the read: delivered, or covered by the resync
            if not follows(last, position):
                catching.kept = kept[n:]
                return False
            self._hub.deliver(stream, data, epoch=position.epoch, offset=position.offset)
            last = self._last[stream] = position
        if catching.overflowed:
            catching.overflowed = False
            return False
        return True
