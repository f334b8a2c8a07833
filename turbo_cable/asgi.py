"""The ASGI entry point: the cable, the broadcast endpoint, and Django for the rest."""

from __future__ import annotations

import logging
from typing import Any

from django.core.asgi import get_asgi_application as get_django_asgi_application

from turbo_cable.backends import get_backend
from turbo_cable.cable import serve_cable
from turbo_cable.conf import get_settings
from turbo_cable.endpoint import serve_broadcast
from turbo_cable.shutdown import install_exit_signal_handlers

logger = logging.getLogger("turbo_cable")

Scope = dict[str, Any]


def _app_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class CableRouter:
    """Routes ``CABLE_PATH`` and ``BROADCAST_PATH``; hands everything else to Django."""

    routes_turbo_cable = True  # looked for by the system check

    def __init__(self, application: Any) -> None:
        self.application = application
        self.settings = get_settings()  # bad settings fail here, at start-up
        self._started = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if not self._started and kind != "lifespan":
            # Servers without lifespan (daphne): start on the first request, so a
            # page rendered before any socket connects can read stream positions.
            self._started = True
            await get_backend().start()
        if kind == "websocket":
            if _app_path(scope) == self.settings.CABLE_PATH:
                install_exit_signal_handlers()
                await serve_cable(scope, receive, send, get_backend(), self.settings)
            else:  # Django itself has no WebSocket views
                await receive()
                await send({"type": "websocket.close"})
        elif kind == "http" and _app_path(scope) == self.settings.BROADCAST_PATH:
            await serve_broadcast(scope, receive, send, get_backend(), self.settings)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.application(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await get_backend().start()
                    install_exit_signal_handlers()
                except Exception as exc:
                    logger.exception("turbo_cable failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                logger.info("turbo_cable started with the %s backend", get_backend().name)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await get_backend().stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def get_asgi_application() -> CableRouter:
    """Django's ASGI application with the cable and the broadcast endpoint in front."""
    return CableRouter(get_django_asgi_application())
