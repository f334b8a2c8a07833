"""How a broadcast made in this process reaches the cable: chosen once per call.

- **Relay**: a backend that reaches every process (Redis) takes it directly, so no
  HTTP hop is needed, with or without a cable in this process.
- **In process**: the cable runs here on the memory backend and no broadcast URL
  was configured, so this process's backend takes it, as the endpoint would.
- **HTTP**: otherwise a ``POST`` to the broadcast URL (an explicitly configured URL
  is always honoured, since it may name another process).

Each has a sync and an async send that raise on failure, and says why a failure
happened in words. Sync code that runs on the cable's own event loop cannot wait
for it: there the send is queued, and its failure is logged when it happens.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any, Protocol, cast

from asgiref.sync import sync_to_async

from turbo_cable.backends import Backend, relay_publisher, running_backend
from turbo_cable.conf import CableSettings
from turbo_cable.http_delivery import explain_failure, post_broadcast

logger = logging.getLogger("turbo_cable")


class Transport(Protocol):
    def send(self, stream: str, data: Any, body: bytes) -> None: ...

    async def asend(self, stream: str, data: Any, body: bytes) -> None: ...

    def explain(self, exc: BaseException) -> str: ...


def choose_transport(settings: CableSettings) -> Transport:
    publisher = relay_publisher()
    if publisher is not None:
        return ThroughBackend(settings, cast(Backend, publisher), relay=True)
    backend = None if settings.broadcast_url_is_explicit else running_backend()
    if backend is not None:
        return ThroughBackend(settings, backend, relay=False)
    return OverHttp(settings)


class ThroughBackend:
    """Publishes through a backend, whose loop may belong to another thread.

    A relay publishes from the caller's thread with its blocking client (it needs no
    loop, and a busy loop does not delay it); this process's own memory backend is
    reached on its loop, as the endpoint would reach it.
    """

    def __init__(self, settings: CableSettings, backend: Backend, *, relay: bool) -> None:
        self.settings, self.backend, self.relay = settings, backend, relay

    def _payload(self, data: Any, body: bytes) -> Any:
        """What the backend publishes: for this process's cable, ``data`` as the
        endpoint would see it after a JSON round trip."""
        return data if self.relay or isinstance(data, str) else json.loads(body)["data"]

    def send(self, stream: str, data: Any, body: bytes) -> None:
        loop, payload = self.backend.loop, self._payload(data, body)
        if loop is not None and loop is _current_loop():
            _spawn(loop, self.backend.publish(stream, payload), stream, self)
        elif self.relay:
            cast(Any, self.backend).publish_sync(stream, payload)
        else:
            assert loop is not None  # running_backend() only returns a started backend
            future = asyncio.run_coroutine_threadsafe(self.backend.publish(stream, payload), loop)
            future.result(timeout=self.settings.BROADCAST_TIMEOUT)

    async def asend(self, stream: str, data: Any, body: bytes) -> None:
        loop = self.backend.loop
        publish = self.backend.publish(stream, self._payload(data, body))
        if loop is None or loop is asyncio.get_running_loop() or loop.is_closed():
            await publish
            return
        future = asyncio.run_coroutine_threadsafe(publish, loop)
        await asyncio.wait_for(asyncio.wrap_future(future), self.settings.BROADCAST_TIMEOUT)

    def explain(self, exc: BaseException) -> str:
        return explain_failure(exc, None, self.settings)


class OverHttp:
    """``POST`` to the broadcast URL over this thread's kept-alive connection."""

    def __init__(self, settings: CableSettings) -> None:
        self.settings = settings

    def send(self, stream: str, data: Any, body: bytes) -> None:
        post_broadcast(body, self.settings)

    async def asend(self, stream: str, data: Any, body: bytes) -> None:
        await sync_to_async(post_broadcast, thread_sensitive=False)(body, self.settings)

    def explain(self, exc: BaseException) -> str:
        return explain_failure(exc, self.settings.broadcast_url, self.settings)


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_spawned: set[asyncio.Task[Any]] = set()


def _spawn(
    loop: asyncio.AbstractEventLoop,
    coroutine: Coroutine[Any, Any, Any],
    stream: str,
    transport: Transport,
) -> None:
    """Queue a send the caller cannot wait for, and log its failure as any other."""

    def finished(task: asyncio.Task[Any]) -> None:
        _spawned.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.warning("broadcast to stream %r failed: %s", stream, transport.explain(exc))

    task = loop.create_task(coroutine)
    _spawned.add(task)
    task.add_done_callback(finished)
