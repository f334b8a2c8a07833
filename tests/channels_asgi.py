"""A Channels project that keeps its consumers and adds the cable in front.

``/ws/echo/<room>/`` is a real Channels ``AsyncWebsocketConsumer``; the
``"lifespan"`` entry records, in the file named by ``TURBO_CABLE_TEST_LIFESPAN_LOG``,
each lifespan event the server sends, so a test can see it still ran.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application as get_django_asgi_application
from django.urls import path

from turbo_cable.asgi import get_asgi_application


class EchoConsumer(AsyncWebsocketConsumer):
    """Answers every text frame with the room name and the text, as a chat consumer would."""

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        room = self.scope["url_route"]["kwargs"]["room"]
        await self.send(text_data=f"{room}: {text_data}")


def _record(event: str) -> None:
    log = os.environ.get("TURBO_CABLE_TEST_LIFESPAN_LOG")
    if log:
        with open(log, "a") as file:
            file.write(event + "\n")


async def recording_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _record("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            _record("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


application = get_asgi_application(
    ProtocolTypeRouter(
        {
            "http": get_django_asgi_application(),
            "websocket": URLRouter([path("ws/echo/<str:room>/", EchoConsumer.as_asgi())]),
            "lifespan": recording_lifespan,
        }
    )
)
