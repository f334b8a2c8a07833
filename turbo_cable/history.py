"""Recent messages per stream, so a client that was away can catch up.

Every broadcast on a stream gets a :class:`Position`: an epoch, which changes
whenever the stream's history is lost (with the memory backend, a process
restart, or a stream forgotten after it idled), and an offset that grows by one
per message on that stream. A client that presents
the position it last saw gets what followed it, or learns that it cannot.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import secrets
import time
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Position:
    epoch: str
    offset: int

    def as_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "offset": self.offset}


def parse_position(value: Any) -> Position | None:
    """A client's ``{"epoch": str, "offset": int >= 0}``, or None when it is not one."""
    if not isinstance(value, dict):
        return None
    epoch, offset = value.get("epoch"), value.get("offset")
    if not isinstance(epoch, str) or not epoch or len(epoch) > 64:
        return None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None
    return Position(epoch, offset)


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

    def touch(self, stream: str) -> None:
        """A listener came or went: keep the stream for another ``ttl``."""
        self._log(stream).touched = self._clock()

    def since(self, stream: str, seen: Position) -> list[tuple[int, Any]] | None:
        """The ``(offset, data)`` after ``seen``, in order; None when history cannot tell."""
        log = self._streams.get(stream)
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
