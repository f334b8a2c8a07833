"""This process's open connections: who may connect, and one keep-alive loop for all.

The backend owns a registry; it knows nothing of streams or other processes, only
the sockets here: the caps on how many there are (in all, and per client address),
and pinging them every ``PING_INTERVAL`` while closing those silent for
``IDLE_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from turbo_cable.conf import CableSettings
from turbo_cable.hub import Connection
from turbo_cable.protocol import NORMAL, PING

logger = logging.getLogger("turbo_cable")

PING_EVENT: dict[str, Any] = {"type": "websocket.send", "text": PING}
PING_BATCH = 500  # sockets pinged between two yields to the event loop


class ConnectionRegistry:
    """The open connections, counted per client address."""

    def __init__(self, settings: CableSettings) -> None:
        self.settings = settings
        self._connections: set[Connection] = set()
        self._per_client: collections.Counter[str] = collections.Counter()

    def __len__(self) -> int:
        return len(self._connections)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._connections))  # a copy: closing one changes the set

    def __contains__(self, connection: object) -> bool:
        return connection in self._connections

    def refusal(self, client: str) -> str | None:
        """Why one more connection from ``client`` must be refused now, or None."""
        limit = self.settings.connection_limit
        if limit is not None and len(self._connections) >= limit:
            return f"server full ({limit} connections)"
        per_client = self.settings.MAX_CONNECTIONS_PER_CLIENT
        if per_client is not None and self._per_client[client] >= per_client:
            return f"too many connections from {client} ({per_client})"
        return None

    def add(self, connection: Connection) -> None:
        if connection not in self._connections:
            self._connections.add(connection)
            self._per_client[connection.client] += 1

    def remove(self, connection: Connection) -> None:
        if connection in self._connections:
            self._connections.remove(connection)
            left = self._per_client[connection.client] - 1
            if left:
                self._per_client[connection.client] = left
            else:
                del self._per_client[connection.client]

    def close_all(self, code: int, reason: str) -> None:
        for connection in self:
            connection.close(code, reason)

    async def keep_alive(self, after_each_pass: Callable[[], None]) -> None:
        """Ping every interval and close the silent, forever; ``after_each_pass`` runs
        after each round (the backend sweeps idle history there).

        Sockets are pinged in batches with a yield between them, so ten thousand
        pings do not hold up broadcasts for the whole pass.
        """
        interval, idle_timeout = self.settings.PING_INTERVAL, self.settings.IDLE_TIMEOUT
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for n, connection in enumerate(self, 1):
                if now - connection.last_seen > idle_timeout:
                    logger.warning("closing idle connection %r", connection)
                    connection.close(NORMAL, "idle timeout")
                else:
                    connection.deliver(PING_EVENT)
                if n % PING_BATCH == 0:
                    await asyncio.sleep(0)
            after_each_pass()
