"""The cable's start-up and shutdown, run inside the wrapped application's lifespan.

The wrapped application keeps its own lifespan (a Starlette app, a Channels
``ProtocolTypeRouter`` with a ``"lifespan"`` entry): the cable starts its backend
when the server says ``lifespan.startup``, before the application hears it, and
stops it once the application has answered ``lifespan.shutdown``. An application
that does not speak lifespan (Django's own handler raises before it reads a
message) is left out, and the cable answers the server itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("turbo_cable")

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]


class _CableStartupFailed(Exception):
    """Raised into the wrapped application when the cable itself could not start."""


class CableLifespan:
    """One lifespan scope: the cable's hooks wrapped around the application's."""

    def __init__(self, start: Hook, going_away: Callable[[], None], stop: Hook) -> None:
        self.start = start
        self.going_away = going_away
        self.stop = stop
        self.received: list[str] = []  # message types handed to the application
        self.answered: set[str] = set()  # what the server has been told
        self.started = False

    async def run(
        self, application: Any | None, scope: Message, receive: Receive, send: Send
    ) -> None:
        if application is not None:
            try:
                await application(scope, self._receive_for(receive), self._send_for(send))
            except _CableStartupFailed as failed:
                await send({"type": "lifespan.startup.failed", "message": str(failed)})
                return
            except Exception as exc:
                if self.received:  # the application speaks lifespan, and failed
                    await self._fail_pending(send, exc)
                    return
                logger.debug("the wrapped application has no lifespan: %s", exc)
        await self._serve_rest(receive, send)

    # -- the application's side --------------------------------------------------------
    def _receive_for(self, receive: Receive) -> Receive:
        async def receive_through_cable() -> Message:
            message = await receive()
            kind = message["type"]
            self.received.append(kind)
            if kind == "lifespan.startup":
                await self._start()
            elif kind == "lifespan.shutdown":
                self.going_away()
            return message

        return receive_through_cable

    def _send_for(self, send: Send) -> Send:
        async def send_through_cable(message: Message) -> None:
            kind = message["type"]
            if kind.startswith("lifespan.shutdown."):
                await self.stop()
            self.answered.add(kind)
            await send(message)

        return send_through_cable

    async def _start(self) -> None:
        try:
            await self.start()
        except Exception as exc:
            logger.exception("turbo_cable failed to start")
            raise _CableStartupFailed(str(exc)) from exc
        self.started = True

    # -- what the application left to the cable ------------------------------------------
    async def _fail_pending(self, send: Send, exc: Exception) -> None:
        if "lifespan.startup" in self.received and not self._answered("startup"):
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
        elif "lifespan.shutdown" in self.received and not self._answered("shutdown"):
            await self.stop()
            await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
        else:
            logger.error("the wrapped application's lifespan failed: %s", exc)

    def _answered(self, phase: str) -> bool:
        return any(kind.startswith(f"lifespan.{phase}.") for kind in self.answered)

    async def _serve_rest(self, receive: Receive, send: Send) -> None:
        """Answer the server for whatever the application did not handle."""
        if "lifespan.startup" in self.received and not self._answered("startup"):
            await send({"type": "lifespan.startup.complete"})
        if "lifespan.shutdown" in self.received:
            if not self._answered("shutdown"):
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    logger.exception("turbo_cable failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self.started = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.going_away()
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
