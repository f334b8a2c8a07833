"""Recent messages per stream, so a client that was away can catch up.

:class:`History` is what a backend asks of the place it keeps them; this module
has the in-process one (:class:`MemoryHistory`),
:mod:`~turbo_cable.backends.redis_history` the one every process shares.

Every broadcast on a stream gets a :class:`Position`: an epoch, which changes
whenever the stream's history is lost (with the memory backend, a process
restart, or a stream forgotten after it idled), and an offset that grows by one
per message on that stream. A client that presents
the position it last saw gets what followed it, or learns that it cannot.

:data:`BEFORE_HISTORY` (empty epoch, offset 0) is where a stream stands before
its first message: a page rendered then is behind every message of whatever
epoch starts later, so reading where a stream is never has to write.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

logger = logging.getLogger("turbo_cable")

POSITION_PAUSE: Final = 2.0  # seconds pages go without positions after a store failed


@dataclasses.dataclass(frozen=True, slots=True)
class Position:
    epoch: str
    offset: int

    def as_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "offset": self.offset}

    def within(self, epoch: str) -> Position:
        """This position in ``epoch``: :data:`BEFORE_HISTORY` is its offset 0."""
        return Position(epoch, 0) if self == BEFORE_HISTORY else self


BEFORE_HISTORY = Position("", 0)

# The (offset, data) of the messages that followed a position, in order.
Missed = list[tuple[int, Any]]


class History(Protocol):
    """Positions and recent messages, wherever a backend keeps them."""

    def peek(self, stream: str, since: float | None = None) -> Position | None:
        """Where ``stream`` stood at ``since`` (the ``time.monotonic()`` a page's request
        began; None: now), changing nothing; None if unknown now."""

    async def read(
        self, stream: str, since: Position | None
    ) -> tuple[Position | None, Missed | None]:
        """For a subscribe: where ``stream`` is (its epoch starts here if it has none) and
        what followed ``since`` (None: history cannot tell); ``(None, None)`` if unknown now."""

    def left(self, stream: str) -> None:
        """The stream's last listener here left: keep it a whole ``ttl`` for one who returns."""


def parse_position(value: Any) -> Position | None:
    """A client's ``{"epoch": str, "offset": int >= 0}``, or None when it is not one.

    The empty epoch is :data:`BEFORE_HISTORY`, valid only at offset 0.
    """
    if not isinstance(value, dict):
        return None
    epoch, offset = value.get("epoch"), value.get("offset")
    if not isinstance(epoch, str) or len(epoch) > 64:
        return None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None
    if not epoch and offset:
        return None
    return Position(epoch, offset)


class PositionPause:
    """After a shared store failed to give a position, pages and subscribes go
    without one for :data:`POSITION_PAUSE` seconds rather than each waiting on a
    store that is down; one warning per pause says so.

    A failure that cost no wait (a refused connection) pauses nothing, so pages get
    positions again as soon as the store is back; its warning still comes at most
    once per :data:`POSITION_PAUSE`.
    """

    __slots__ = ("_clock", "_quiet_until", "_until")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0
        self._quiet_until = 0.0

    def active(self) -> bool:
        return self._clock() < self._until

    def start(self, stream: str, source: str, exc: BaseException, *, waited: bool = True) -> None:
        now = self._clock()
        if waited:
            self._until = now + POSITION_PAUSE
        if now < self._quiet_until:
            return
        self._quiet_until = now + POSITION_PAUSE
        reason = str(exc) or type(exc).__name__
        logger.warning(
            "no position for %.80r from %s (%s): live delivery only, no replay%s",
            stream,
            source,
            reason,
            f" for {POSITION_PAUSE:g} s" if waited else "",
        )


@dataclasses.dataclass(slots=True)
class _StreamLog:
    epoch: str
    offset: int = 0
    entries: collections.deque[tuple[int, float, Any]] = dataclasses.field(
        default_factory=collections.deque
    )
    touched: float = 0.0


class MemoryHistory:
    """The last ``size`` messages of each stream, for at most ``ttl`` seconds.

    A stream is forgotten once it has had neither a message nor a listener for
    ``ttl`` seconds, so memory stays bounded by the streams in use.
    """

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.ttl = ttl
        self._process = secrets.token_hex(6)
        self._generations = itertools.count(1)
        self._clock = clock
        self._streams: dict[str, _StreamLog] = {}

    def _log(self, stream: str) -> _StreamLog:
        log = self._streams.get(stream)
        if log is None:
            # setdefault: a page rendering in another thread may create it too.
            epoch = f"{self._process}-{next(self._generations)}"
            log = self._streams.setdefault(stream, _StreamLog(epoch, touched=self._clock()))
        return log

    def append(self, stream: str, data: Any) -> Position:
        """Record a broadcast; returns its position."""
        now = self._clock()
        log = self._log(stream)
        log.offset += 1
        log.touched = now
        if self.size:
            log.entries.append((log.offset, now, data))
            if len(log.entries) > self.size:
                log.entries.popleft()
        return Position(log.epoch, log.offset)

    def position(self, stream: str) -> Position:
        """Where the stream is now (offset 0 before its first message); keeps it alive."""
        log = self._log(stream)
        log.touched = self._clock()
        return Position(log.epoch, log.offset)

    def peek(self, stream: str, since: float | None = None) -> Position:
        """Where the stream stood at ``since`` (by this history's clock; None: now),
        changing nothing: for pages, which render often, after their view read."""
        log = self._streams.get(stream)
        if log is None:
            return BEFORE_HISTORY
        if since is None:
            return Position(log.epoch, log.offset)
        return Position(log.epoch, _offset_at(log, since))

    def touch(self, stream: str) -> None:
        """A listener came or went: keep the stream for another ``ttl``."""
        self._log(stream).touched = self._clock()

    left = touch

    async def read(self, stream: str, since: Position | None) -> tuple[Position, Missed | None]:
        now = self.position(stream)
        return now, [] if since is None else self.since(stream, since)

    def since(self, stream: str, seen: Position) -> Missed | None:
        """The ``(offset, data)`` after ``seen``, in order; None when history cannot tell."""
        log = self._streams.get(stream)
        if log is None and seen == BEFORE_HISTORY:
            return []  # still no message
        if log is not None:
            seen = seen.within(log.epoch)
        if log is None or seen.epoch != log.epoch or seen.offset > log.offset:
            return None
        if seen.offset == log.offset:
            return []
        horizon = self._clock() - self.ttl
        kept = [(offset, data) for offset, at, data in log.entries if at >= horizon]
        missed = [(offset, data) for offset, data in kept if offset > seen.offset]
        if not missed or missed[0][0] != seen.offset + 1:
            return None
        return missed

    def sweep(self, listened: Callable[[str], bool]) -> None:
        """Drop expired entries, and streams idle for ``ttl`` that nobody listens to."""
        now = self._clock()
        horizon = now - self.ttl
        for stream, log in list(self._streams.items()):
            while log.entries and log.entries[0][1] < horizon:
                log.entries.popleft()
            if log.touched < horizon and not log.entries and not listened(stream):
                del self._streams[stream]

    def __len__(self) -> int:
        return len(self._streams)


def _offset_at(log: _StreamLog, moment: float) -> int:
    """The offset of the last message appended at or before ``moment``; when every kept
    message came later, the one before them, so a replay brings all that is kept
    (without kept messages, now is all it can tell)."""
    offset: int = log.offset
    for kept, at, _data in reversed(log.entries):
        if at <= moment:
            return int(kept)
        offset = kept - 1
    return offset
