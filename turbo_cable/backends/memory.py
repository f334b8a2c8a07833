"""The default backend: broadcasts reach the sockets of this one process."""

from __future__ import annotations

from typing import Any

from turbo_cable.backends.base import Backend
from turbo_cable.conf import CableSettings
from turbo_cable.history import MemoryHistory


class MemoryBackend(Backend):
    """No other service; a broadcast is delivered to the hub as it arrives.

    History lives in this process too, so it is lost (a new epoch) on restart.
    """

    name = "memory"
    history: MemoryHistory | None

    def __init__(self, settings: CableSettings) -> None:
        super().__init__(settings)
        self.history = MemoryHistory(settings.HISTORY_SIZE, settings.HISTORY_TTL)

    async def publish(self, stream: str, data: Any) -> int:
        if self.history is None:
            return self.hub.deliver(stream, data)
        position = self.history.append(stream, data)
        return self.hub.deliver(stream, data, epoch=position.epoch, offset=position.offset)

    def _tend(self) -> None:
        if self.history is not None:
            self.history.sweep(listened=lambda stream: self.hub.subscriber_count(stream) > 0)
