"""Which connections in this process listen to which stream, and fan-out to them.

A broadcast is JSON-encoded once per wire name (normally once), and the same
ASGI event object is handed to every subscriber: nothing is copied per socket.
"""

from __future__ import annotations

from typing import Any, Protocol

from turbo_cable.protocol import encode_message


class Subscriber(Protocol):
    def deliver(self, event: dict[str, Any]) -> None:
        """Queue an ASGI send event; must never block or raise."""


class Hub:
    """stream (plain name) -> wire name (as the client subscribed) -> subscribers."""

    def __init__(self) -> None:
        self._streams: dict[str, dict[str, set[Subscriber]]] = {}

    def add(self, stream: str, wire: str, subscriber: Subscriber) -> bool:
        """Subscribe; True when ``subscriber`` is the stream's first in this process."""
        by_wire = self._streams.get(stream)
        first = by_wire is None
        if by_wire is None:
            by_wire = self._streams[stream] = {}
        by_wire.setdefault(wire, set()).add(subscriber)
        return first

    def discard(self, stream: str, wire: str, subscriber: Subscriber) -> bool:
        """Unsubscribe; True when the stream has no subscriber left in this process."""
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
        by_wire = self._streams.get(stream)
        if not by_wire:
            return 0
        delivered = 0
        for wire, subscribers in list(by_wire.items()):
            event = {"type": "websocket.send", "text": encode_message(wire, data, **extensions)}
            # A copy: a subscriber whose queue overflows leaves the set while we loop.
            snapshot = tuple(subscribers)
            for subscriber in snapshot:
                subscriber.deliver(event)
            delivered += len(snapshot)
        return delivered

    def subscriber_count(self, stream: str) -> int:
        return sum(len(s) for s in self._streams.get(stream, {}).values())

    def streams(self) -> list[str]:
        return list(self._streams)
