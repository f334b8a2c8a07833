"""Which connections in this process listen to which stream, and fan-out to them.

A broadcast is JSON-encoded once per wire name (normally once), and the same
ASGI event object is handed to every subscriber: nothing is copied per socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from turbo_cable.history import Position
from turbo_cable.protocol import encode_message, encode_resync
from turbo_cable.stats import CableStats, encoded_size

# What a held subscriber was sent while it waited: (epoch, offset, event).
Held = list[tuple[Any, Any, dict[str, Any]]]


class Connection(Protocol):
    """One client socket, as the hub and the backends see it (``cable.Connection``)."""

    client: str  # the client's address, for the per-client connection limit
    last_seen: float
    subscriptions: dict[str, str]  # wire name -> plain name

    def deliver(self, event: dict[str, Any]) -> None:
        """Queue an ASGI send event; must never block or raise."""

    def close(self, code: int, reason: str) -> None: ...


class Hub:
    """stream (plain name) -> wire name (as the client subscribed) -> subscribers."""

    def __init__(self, stats: CableStats | None = None) -> None:
        self.stats = stats  # None when metrics are off: then nothing is counted
        self._streams: dict[str, dict[str, set[Connection]]] = {}
        # (wire, subscriber) -> live events kept back while its replay is read.
        self._held: dict[tuple[str, Connection], Held] = {}

    def add(self, stream: str, wire: str, subscriber: Connection) -> bool:
        """Subscribe; True when ``subscriber`` is the stream's first in this process."""
        by_wire = self._streams.get(stream)
        first = by_wire is None
        if by_wire is None:
            by_wire = self._streams[stream] = {}
        by_wire.setdefault(wire, set()).add(subscriber)
        return first

    def discard(self, stream: str, wire: str, subscriber: Connection) -> bool:
        """Unsubscribe; True when the stream has no subscriber left in this process."""
        if self._held:
            self._held.pop((wire, subscriber), None)
        by_wire = self._streams.get(stream)
        if by_wire is None:
            return False
        subscribers = by_wire.get(wire)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del by_wire[wire]
        if by_wire:
            return False
        del self._streams[stream]
        return True

    def deliver(self, stream: str, data: Any, **extensions: Any) -> int:
        """Send ``data`` to every local subscriber of ``stream``; returns how many."""
        if self.stats is not None:
            self.stats.broadcasts += 1
        return self._fan_out(
            stream, lambda wire: encode_message(wire, data, **extensions), extensions
        )

    def resync(self, stream: str, now: Position) -> int:
        """Tell every local subscriber of ``stream`` that history cannot cover what it
        missed; a subscriber still held gets it only if its own replay ends before ``now``."""
        text = lambda wire: encode_resync(wire, now.epoch, now.offset)  # noqa: E731
        sent = self._fan_out(stream, text, now.as_dict())
        if self.stats is not None:
            self.stats.resyncs += sent
        return sent

    def _fan_out(
        self, stream: str, encode: Callable[[str], str], extensions: dict[str, Any]
    ) -> int:
        by_wire = self._streams.get(stream)
        if not by_wire:
            return 0
        stats = self.stats
        started = time.perf_counter() if stats is not None else 0.0
        delivered = 0
        for wire, subscribers in list(by_wire.items()):
            text = encode(wire)
            event = {"type": "websocket.send", "text": text}
            # A copy: a subscriber whose queue overflows leaves the set while we loop.
            snapshot = tuple(subscribers)
            if self._held:
                self._deliver_or_hold(wire, snapshot, event, extensions)
            else:
                for subscriber in snapshot:
                    subscriber.deliver(event)
            delivered += len(snapshot)
            if stats is not None:  # counted per wire name, not per socket
                stats.bytes_sent += encoded_size(text) * len(snapshot)
        if stats is not None:
            stats.deliveries += delivered
            stats.fanned_out(time.perf_counter() - started)
        return delivered

    def _deliver_or_hold(
        self,
        wire: str,
        subscribers: tuple[Connection, ...],
        event: dict[str, Any],
        extensions: dict[str, Any],
    ) -> None:
        held = self._held
        for subscriber in subscribers:
            kept = held.get((wire, subscriber))
            if kept is None:
                subscriber.deliver(event)
            else:
                kept.append((extensions.get("epoch"), extensions.get("offset"), event))

    # -- holding a subscriber back while what it missed is fetched ------------------
    def hold(self, wire: str, subscriber: Connection) -> None:
        """Keep live broadcasts for ``subscriber`` back until :meth:`release`."""
        self._held.setdefault((wire, subscriber), [])

    def holds(self, wire: str, subscriber: Connection) -> bool:
        """Whether ``subscriber`` is still held (it has not left meanwhile)."""
        return (wire, subscriber) in self._held

    def release(self, wire: str, subscriber: Connection, after: Position | None) -> None:
        """Send what was held back, skipping what ``after`` already covers (same epoch,
        offset at or below it): the seam between a replay and live delivery."""
        kept = self._held.pop((wire, subscriber), None)
        for epoch, offset, event in kept or ():
            if after is None or epoch != after.epoch or offset is None or offset > after.offset:
                subscriber.deliver(event)

    def subscriber_count(self, stream: str) -> int:
        return sum(len(s) for s in self._streams.get(stream, {}).values())

    def streams(self) -> list[str]:
        return list(self._streams)
