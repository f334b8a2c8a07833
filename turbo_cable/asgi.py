"""The ASGI entry point: a middleware that serves the cable in front of any application.

It takes ``CABLE_PATH`` (WebSocket), ``BROADCAST_PATH``, ``HEALTH_PATH`` and
``METRICS_PATH`` (HTTP) for itself and hands every other scope, HTTP, WebSocket
and lifespan alike, to the application it wraps: Django's own handler by
default, or a Channels ``ProtocolTypeRouter`` whose consumers keep working beside
the cable while pages move over.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from turbo_cable.asgi_types import Scope
from turbo_cable.backends import get_backend
from turbo_cable.cable import serve_cable
from turbo_cable.conf import get_settings
from turbo_cable.endpoint import serve_broadcast
from turbo_cable.health import serve_health
from turbo_cable.lifespan import CableLifespan
from turbo_cable.metrics import serve_metrics
from turbo_cable.shutdown import install_exit_signal_handlers

__all__ = ["CableMiddleware", "get_asgi_application"]

logger = logging.getLogger("turbo_cable")


def _is_django_handler(application: Any) -> bool:
    """Whether ``application`` is Django's own ASGI handler.

    Django's handler module is looked up, not imported: it loads the ORM, forms and
    templates, which ``runcable`` never needs, and an instance of it implies it is loaded.
    """
    handlers = sys.modules.get("django.core.handlers.asgi")
    return handlers is not None and isinstance(application, handlers.ASGIHandler)


def _app_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class CableMiddleware:
    """Serves the cable's own paths; passes everything else on."""

    routes_turbo_cable = True  # looked for by the system check

    def __init__(self, application: Any) -> None:
        self.application = application
        self.settings = get_settings()  # bad settings fail here, at start-up
        # Django's handler speaks neither WebSocket nor lifespan: it raises on both.
        self._plain_django = _is_django_handler(application)
        self._started = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            lifespan = CableLifespan(self._start, self._going_away, self._stop)
            inner = None if self._plain_django else self.application
            await lifespan.run(inner, scope, receive, send)
            return
        if not self._started:
            # Servers without lifespan (daphne): start on the first request, so a
            # page rendered before any socket connects can read stream positions.
            await self._start()
        if kind == "websocket" and _app_path(scope) == self.settings.CABLE_PATH:
            await serve_cable(scope, receive, send, get_backend(), self.settings)
        elif kind == "http" and _app_path(scope) == self.settings.BROADCAST_PATH:
            await serve_broadcast(scope, receive, send, get_backend(), self.settings)
        elif kind == "http" and _app_path(scope) == self.settings.HEALTH_PATH:
            await serve_health(scope, send, get_backend())
        elif kind == "http" and _app_path(scope) == self.settings.METRICS_PATH:
            await serve_metrics(scope, send, get_backend(), self.settings)
        elif kind == "websocket" and self._plain_django:
            await receive()  # Django has no WebSocket views: refuse the handshake (403)
            await send({"type": "websocket.close"})
        else:
            await self.application(scope, receive, send)

    async def _start(self) -> None:
        self._started = True
        await get_backend().start()
        if self.settings.EXIT_SIGNAL_HANDLERS:
            install_exit_signal_handlers()
        logger.info("turbo_cable started with the %s backend", get_backend().name)

    def _going_away(self) -> None:
        """The server is stopping: tell every client still connected to come back."""
        get_backend().going_away()

    async def _stop(self) -> None:
        await get_backend().stop()
        self._started = False


def get_asgi_application(application: Any = None) -> CableMiddleware:
    """The cable and the broadcast endpoint in front of ``application``.

    ``application`` defaults to Django's own ASGI handler; pass a Channels
    ``ProtocolTypeRouter`` (or any ASGI application) to keep serving it.
    """
    if application is None:
        from django.core.asgi import get_asgi_application as get_django_asgi_application

        application = get_django_asgi_application()
    return CableMiddleware(application)
