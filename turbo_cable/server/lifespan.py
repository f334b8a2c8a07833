"""The ASGI lifespan protocol, from the server's side: start-up before listening,
shutdown after the last connection."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from turbo_cable.asgi_types import Event
from turbo_cable.server.scopes import ASGI

logger = logging.getLogger("turbo_cable.server")


class Lifespan:
    """One ``lifespan`` scope, run as a task beside the server."""

    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self._app = app
        self._state = state
        self._to_app: asyncio.Queue[Event] = asyncio.Queue()
        self._answers: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> bool:
        """False when the application failed to start (it has said why)."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        answer = await self._ask("lifespan.startup")
        if answer["type"] == "lifespan.startup.complete":
            logger.info("application started")
            return True
        logger.error("the application failed to start: %s", answer.get("message", ""))
        return False

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        answer = await self._ask("lifespan.shutdown")
        if answer["type"] != "lifespan.shutdown.complete":
            logger.error("the application failed to shut down: %s", answer.get("message", ""))
        else:
            logger.info("application shut down")

    async def _ask(self, kind: str) -> Event:
        await self._to_app.put({"type": kind})
        assert self._task is not None
        answer = asyncio.ensure_future(self._answers.get())
        await asyncio.wait([answer, self._task], return_when=asyncio.FIRST_COMPLETED)
        if answer.done():
            return answer.result()
        answer.cancel()
        return {"type": f"{kind}.failed", "message": "the lifespan application ended"}

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI, "state": self._state}
        try:
            await self._app(scope, self._to_app.get, self._answers.put)
        except Exception:
            logger.exception("the application's lifespan failed")
