"""ASGI entry point of the Channels peer, routed as the Channels docs recommend."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.channels_peer.settings")

from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from benchmarks.channels_peer.consumers import CableConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter([path("cable", CableConsumer.as_asgi())]),
    }
)
