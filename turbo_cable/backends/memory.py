"""The default backend: broadcasts reach the sockets of this one process."""

from __future__ import annotations

from turbo_cable.backends.base import Backend
from turbo_cable.conf import CableSettings
from turbo_cable.history import MemoryHistory


class MemoryBackend(Backend):
    """No other service; a broadcast is delivered to the hub as it arrives.

    History lives in this process too, so it is lost (a new epoch) on restart.
    """

    name = "memory"

    def __init__(self, settings: CableSettings) -> None:
        super().__init__(settings)
        self.history = MemoryHistory(settings.HISTORY_SIZE, settings.HISTORY_TTL)
