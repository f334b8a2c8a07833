"""The default backend: broadcasts reach the sockets of this one process."""

from __future__ import annotations

from turbo_cable.backends.base import Backend


class MemoryBackend(Backend):
    """No other service; a broadcast is delivered to the hub as it arrives."""

    name = "memory"
